'use strict';
// The crypto benchmark (bench/crypto_bench.c, which `npm run bench` runs for its "crypto
// alone" table) runs, exits 0 and reports every figure this CPU should have, each positive,
// with the implementation TLS uses marked. No figure is compared with anything: speed
// depends on the machine.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { promisify } = require('node:util');

const root = path.join(__dirname, '..');
const program = path.join(root, 'build', 'Release', 'crypto_bench');
// binding.gyp builds the program where the C tests' sources are: in a checkout.
const inCheckout = fs.existsSync(path.join(root, 'test', 'c', 'engine_test.c'));
const SECONDS = '0.01';

// The AES-GCM implementations deps/accel/gcm_accel.c picks by CPUID, read here from the
// kernel's list of CPU flags; null where that list is not available.
function expectedGcmImplementations() {
  if (process.arch !== 'x64') return ['stock'];
  if (os.platform() !== 'linux') return null;
  const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
  const flags = new Set(line.split(':')[1].trim().split(/\s+/));
  const has = (...names) => names.every((name) => flags.has(name));
  const found = ['stock'];
  if (has('aes', 'pclmulqdq', 'ssse3', 'sse4_1')) {
    found.push('aesni');
    if (has('avx', 'avx2', 'vaes', 'vpclmulqdq')) found.push('vaes');
  }
  return found;
}

async function runProgram(args) {
  const env = { ...process.env };
  delete env.MBEDTLS_STREAM_GCM; // the default choice of implementation
  return promisify(execFile)(program, args, { env });
}

describe('crypto benchmark (crypto_bench)', function () {
  this.timeout(120000);

  before(function () {
    if (!fs.existsSync(program)) {
      if (inCheckout) assert.fail(`${program} is not built (binding.gyp builds it in a checkout)`);
      this.skip(); // a package install builds the addon alone
    }
  });

  it('reports every implementation of every measurement, each positive, what TLS uses marked', async () => {
    const { stdout } = await runProgram(['--json', SECONDS]);
    const figures = JSON.parse(stdout);
    const gcm = expectedGcmImplementations();
    const expected = {
      'AES-128-GCM encrypt': [gcm, 'MB/s'],
      'AES-128-GCM decrypt': [gcm, 'MB/s'],
      'AES-256-GCM encrypt': [gcm, 'MB/s'],
      'AES-256-GCM decrypt': [gcm, 'MB/s'],
      'ECDSA P-256 verify': [['stock', 'ours'], 'verifications/s'],
      X25519: [['stock', 'hacl'], 'multiplications/s'],
      'ECDSA P-256 sign': [['stock'], 'signatures/s'],
    };
    assert.deepEqual([...new Set(figures.map((f) => f.what))], Object.keys(expected));
    for (const [what, [implementations, unit]] of Object.entries(expected)) {
      const rows = figures.filter((f) => f.what === what);
      const found = rows.map((f) => f.implementation);
      if (implementations) assert.deepEqual(found, implementations, what);
      else assert.deepEqual(found.filter((i) => !['stock', 'aesni', 'vaes'].includes(i)), [], what);
      for (const f of rows) {
        assert.equal(f.unit, unit, `${what} ${f.implementation}`);
        assert.ok(Number.isFinite(f.value) && f.value > 0, `${what} ${f.implementation}: ${f.value}`);
      }
      // The default is the last (fastest) implementation: for GCM the best the CPU has,
      // for P-256 verification and X25519 ours.
      assert.deepEqual(rows.filter((f) => f.in_use).map((f) => f.implementation), [found.at(-1)], what);
    }
  });

  it('prints the same figures as a table by default', async () => {
    const { stdout } = await runProgram([SECONDS]);
    const { stdout: json } = await runProgram(['--json', SECONDS]);
    const lines = stdout.trim().split('\n').slice(2);
    const figures = JSON.parse(json);
    assert.equal(lines.length, figures.length);
    figures.forEach((f, i) => {
      const [, what, mark, implementation, value, unit] = lines[i].match(/^(.+?)\s+([* ])\s(\S+)\s+(\d+)\s+(\S+)$/);
      assert.deepEqual([what, mark === '*', implementation, unit], [f.what, f.in_use, f.implementation, f.unit]);
      assert.ok(Number(value) > 0, lines[i]);
    });
  });

  it("npm run bench's crypto table has a row per implementation of ours, next to node's figure", async () => {
    const script = "const c = require('./bench/crypto'); c.printCryptoTable(c.measureCrypto(0.01));";
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: root });
    const { stdout: json } = await runProgram(['--json', SECONDS]);
    const figures = JSON.parse(json);
    assert.doesNotMatch(stdout, /No Mbed TLS figures/);
    const rows = stdout.split('\n').filter((line) => / \| /.test(line)).slice(1).map((line) => line.split(' | ').map((cell) => cell.trim()));
    // Every measurement with an implementation of ours has one row per implementation;
    // signing (the stock code alone) one row.
    const expectedRows = figures.filter((f) => f.implementation !== 'stock' || f.what === 'ECDSA P-256 sign');
    assert.equal(rows.length, expectedRows.length);
    for (const [label, unit, stock, ours, , node, ratio] of rows) {
      assert.match(label, /^(AES-(128|256)-GCM (en|de)crypt|ECDSA P-256 (verify|sign)|X25519)/);
      assert.ok(Number(stock) > 0 && Number(node) > 0, label);
      assert.ok(ours === '-' || Number(ours) > 0, label);
      assert.match(ratio, /^\d+\.\d\dx$/, label);
      assert.ok(unit.length > 0);
    }
  });
});
