// crypto.js: the "crypto alone" table of `npm run bench` (bench/run.js). The figures of
// build/Release/crypto_bench (bench/crypto_bench.c: Mbed TLS's stock code and ours, each
// implementation this build and CPU have) side by side with, for reference, OpenSSL's
// through node:crypto, each measured for the same CPU time:
//   AES-GCM encrypt / decrypt  one cipher of createCipheriv() / createDecipheriv() with 13
//              bytes of AAD, update() of 16 KiB at a time (one long message: node's cost per
//              call is in the figure, its key setup is not); MB/s of plaintext.
//   ECDSA P-256 verify / sign  crypto.verify() / crypto.sign() with SHA-256 of 32 bytes,
//              KeyObjects made once.
//   X25519     crypto.diffieHellman() of two KeyObjects: one scalar multiplication.
// Without the program (a package install builds only the addon), the table says so and
// shows node's figures alone.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { tableLines } = require('./common');

const PROGRAM = path.join(__dirname, '..', 'build', 'Release', 'crypto_bench');
const RECORD = 16384;

// How the table names crypto_bench's implementations of ours, after the measurement's name
// (none where there is one implementation of ours, src/crypto/p256_verify.c).
const IMPLEMENTATION_NAMES = { aesni: ', AES-NI', vaes: ', VAES', ours: '', hacl: ', HACL' };

const cpuSeconds = (since) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};

// Calls fn() for a quarter of `seconds` untimed (the JIT settles), then `batch` at a time
// until `seconds` of this process's CPU time have passed (crypto_bench counts CPU time too).
// Returns the calls per second.
function callsPerSecond(fn, seconds, batch = 1) {
  const warmUp = process.cpuUsage();
  do fn(); while (cpuSeconds(warmUp) < seconds / 4);
  const start = process.cpuUsage();
  let calls = 0;
  let elapsed;
  do {
    for (let i = 0; i < batch; i++) fn();
    calls += batch;
    elapsed = cpuSeconds(start);
  } while (elapsed < seconds);
  return calls / elapsed;
}

// OpenSSL's figures through node:crypto, keyed by crypto_bench's `what`: [value, unit].
function measureNode(seconds) {
  const figures = {};
  const record = Buffer.alloc(RECORD, 0x17);
  const iv = Buffer.alloc(12);
  const aad = Buffer.alloc(13);
  for (const bits of [128, 256]) {
    const name = `aes-${bits}-gcm`;
    const key = Buffer.alloc(bits / 8, 0x42);
    const cipher = crypto.createCipheriv(name, key, iv).setAAD(aad);
    const mbPerCall = RECORD / 1e6;
    figures[`AES-${bits}-GCM encrypt`] = [callsPerSecond(() => cipher.update(record), seconds, 16) * mbPerCall, 'MB/s'];
    // Never finished: decryption runs (GHASH included) on every update(); the tag would be
    // checked by final().
    const decipher = crypto.createDecipheriv(name, key, iv).setAAD(aad);
    figures[`AES-${bits}-GCM decrypt`] = [callsPerSecond(() => decipher.update(record), seconds, 16) * mbPerCall, 'MB/s'];
  }
  const p256 = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const data = crypto.randomBytes(32);
  const signature = crypto.sign('sha256', data, p256.privateKey);
  figures['ECDSA P-256 verify'] = [callsPerSecond(() => {
    if (!crypto.verify('sha256', data, p256.publicKey, signature)) throw new Error('node: P-256 signature refused');
  }, seconds), 'verifications/s'];
  const ours = crypto.generateKeyPairSync('x25519');
  const peer = crypto.generateKeyPairSync('x25519');
  figures.X25519 = [callsPerSecond(() => crypto.diffieHellman({
    privateKey: ours.privateKey, publicKey: peer.publicKey,
  }), seconds), 'multiplications/s'];
  figures['ECDSA P-256 sign'] = [callsPerSecond(() => crypto.sign('sha256', data, p256.privateKey), seconds), 'signatures/s'];
  return figures;
}

// crypto_bench's figures ({ what, implementation, value, unit, in_use }), or { error }.
function runProgram(seconds) {
  if (!fs.existsSync(PROGRAM)) {
    return { error: `${path.relative(process.cwd(), PROGRAM)} is not built (a checkout builds it: npx node-gyp rebuild)` };
  }
  const result = spawnSync(PROGRAM, ['--json', String(seconds)], { encoding: 'utf8' });
  if (result.error) return { error: `cannot run crypto_bench: ${result.error.message}` };
  if (result.status !== 0) {
    return { error: `crypto_bench exited with ${result.status ?? result.signal}: ${result.stderr.trim()}` };
  }
  try {
    return { figures: JSON.parse(result.stdout) };
  } catch (err) {
    return { error: `crypto_bench printed no JSON: ${err.message}` };
  }
}

// Both sets of figures, `seconds` of CPU time for each; progress on stderr.
function measureCrypto(seconds) {
  console.error(`[crypto alone] ${path.basename(PROGRAM)}, ${seconds} s per figure`);
  const program = runProgram(seconds);
  if (program.error) console.error(`[crypto alone] ${program.error}`);
  console.error(`[crypto alone] node:crypto (OpenSSL ${process.versions.openssl}), ${seconds} s per figure`);
  return { seconds, program, node: measureNode(seconds) };
}

function format(value) {
  if (value === undefined || value === null) return 'n/a';
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}x` : 'n/a');

// One row per measurement and implementation of ours (the stock figure repeated on each);
// a measurement with no implementation of ours has one row, its ratio to node's taken from
// the stock code, which TLS then uses.
function printCryptoTable({ seconds, program, node }) {
  const rows = [['measurement', 'unit', 'Mbed TLS stock', 'ours', 'ours/stock', 'node (OpenSSL)',
    'mbedtls/node']];
  const whats = [...new Set([...(program.figures ?? []).map((f) => f.what), ...Object.keys(node)])];
  for (const what of whats) {
    const figures = (program.figures ?? []).filter((f) => f.what === what);
    const stock = figures.find((f) => f.implementation === 'stock');
    const ours = figures.filter((f) => f.implementation !== 'stock');
    const [nodeValue, nodeUnit] = node[what] ?? [];
    const unit = figures[0]?.unit ?? nodeUnit;
    const stockValue = stock?.value;
    if (ours.length === 0) {
      const label = `${what}${stock?.in_use ? ' *' : ''}`;
      rows.push([label, unit, format(stockValue), program.error ? 'n/a' : '-', program.error ? 'n/a' : '-',
        format(nodeValue), ratio(stockValue, nodeValue)]);
    }
    for (const f of ours) {
      const label = `${what}${IMPLEMENTATION_NAMES[f.implementation] ?? `, ${f.implementation}`}${f.in_use ? ' *' : ''}`;
      rows.push([label, unit, format(stockValue), format(f.value), ratio(f.value, stockValue),
        format(nodeValue), ratio(f.value, nodeValue)]);
    }
  }
  console.log(`\ncrypto alone (bench/crypto_bench.c and node:crypto with OpenSSL ${process.versions.openssl}; ` +
    `${seconds} s of CPU time per figure; AES-GCM on 16 KiB records)\n`);
  if (program.error) console.log(`No Mbed TLS figures: ${program.error}.\n`);
  tableLines(rows, 2).forEach((line) => console.log(line));
  console.log('\n* = what TLS uses in this build on this CPU. ours/stock is the speedup of ours; ' +
    'mbedtls/node compares ours\n(or Mbed TLS\'s stock code where it is the only one) with ' +
    'OpenSSL through node:crypto, > 1 is faster. AES-GCM:\nMbed TLS record by record through its ' +
    'cipher layer, node one long message through update(), its cost per call (a new\nBuffer ' +
    'for each 16 KiB) included: OpenSSL alone does more (openssl speed -evp aes-128-gcm).');
}

module.exports = { measureCrypto, printCryptoTable };
