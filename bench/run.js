// run.js: `npm run bench`. mbedtls-stream against node:tls, side by side in one run, in the
// same process layout: the server in a child process (bench/server.js), the client here
// (or, for memory, in a second child, bench/clients.js). Client and server of a measurement
// use the same implementation. Implementations alternate within each round (node first in
// odd rounds, mbedtls first in even ones); the table shows the best round (highest rate,
// lowest memory). Other load on the machine shows up in the figures: run it on a quiet one.
//
//   node bench/run.js                 full run: ~1.5 min on 2 cores
//   BENCH_QUICK=1 node bench/run.js   quick run: ~45 s, smaller and shorter
//   BENCH_ONLY=bulk node bench/run.js  only the measurements whose label matches
//
// Measurements (ECDSA P-256 server certificate, client verifies against certs/ca.pem):
//   bulk       one connection sends BULK_MIB MiB client->server in 64 KiB writes, honouring
//              backpressure; MB/s (1 MB = 10^6 bytes) = bytes / time from the first write to
//              the server's report of its final count. TLS 1.3 and TLS 1.2 (both ends'
//              default cipher order).
//   handshakes full handshakes per second, connect -> 'secureConnect' -> destroy, one at a
//              time and 8 in parallel, for HANDSHAKE_SECONDS.
//   memory     the client child opens IDLE_CONNECTIONS handshaken idle connections; both
//              children report RSS after gc() before (after a warm-up) and after; per
//              connection = delta / count. For mbedtls-stream also the bytes Mbed TLS holds
//              per connection (sum of socket.memoryUsage().current / count).
//   TLS 1.2 handshakes, sequential, as above with both ends at TLS 1.2: the figure to read
//              the DTLS ones against.
//   resumed    sequential handshakes that offer the session (ticket or ID) of a first full
//              one, TLS 1.3 and TLS 1.2; resumed ones per second (the note counts any not).
// DTLS 1.2, mbedtls-stream alone (node has no DTLS), on loopback, its default settings
// (cookies on: each handshake has its HelloVerifyRequest round trip):
//   DTLS handshakes  dtls.connect() -> 'secureConnect' -> close() (close_notify, so the
//              server frees the session), one at a time and 8 in parallel, for
//              HANDSHAKE_SECONDS; each client has its own UDP socket and context.
//   DTLS messages    one session; MESSAGE_SIZE-byte messages echoed by the server, WINDOW of
//              them in flight (each echo sends the next), for HANDSHAKE_SECONDS; messages/s
//              = echoes received / time. A message UDP loses is replaced after a quiet
//              LOSS_WAIT_MS, so a loss costs time, never the run.
// Crypto alone (bench/crypto.js), measured first, printed as a second table under the main
// one: build/Release/crypto_bench's figures (bench/crypto_bench.c: AES-128/256-GCM MB/s on
// 16 KiB records, ECDSA P-256 verifications/s, X25519 multiplications/s, P-256 signatures/s)
// for Mbed TLS's stock code and each implementation of ours this CPU has, the speedup, and
// OpenSSL's figure through node:crypto; CRYPTO_SECONDS of CPU time per figure. Without the
// program (not built) the table says so and the run goes on.
// Progress goes to stderr, the tables to stdout.
'use strict';

const { once } = require('events');
const crypto = require('crypto');
const {
  impl, certs, HOST, clientContext, handshake, workers, forkChild, next, request, stopChild,
  killChildren, tableLines,
} = require('./common');
const { measureCrypto, printCryptoTable } = require('./crypto');

const QUICK = Boolean(process.env.BENCH_QUICK) && process.env.BENCH_QUICK !== '0';
const ROUNDS = QUICK ? 2 : 3;
const MEMORY_ROUNDS = QUICK ? 1 : 2;
// A round of 256 MiB lasted 0.3-0.5 s, short enough that TCP's start and the JIT's warm-up
// moved the ratio by ±25% from run to run; 1 GiB rounds last seconds.
const BULK_MIB = QUICK ? 64 : 1024;
const HANDSHAKE_SECONDS = QUICK ? 1.5 : 3;
const IDLE_CONNECTIONS = QUICK ? 200 : 500;
const WRITE_SIZE = 64 * 1024;
const MESSAGE_SIZE = 1000;
const WINDOW = 16;
const LOSS_WAIT_MS = 200;
const CRYPTO_SECONDS = QUICK ? 0.1 : 0.3;
const NAMES = { node: 'node:tls', mbedtls: 'mbedtls-stream' };

// [key, label, unit, best of rounds]
const HIGHER = (a, b) => Math.max(a, b);
const LOWER = (a, b) => Math.min(a, b);
const METRICS = [
  ['bulk13', 'bulk client->server, TLS 1.3', 'MB/s', HIGHER],
  ['bulk12', 'bulk client->server, TLS 1.2', 'MB/s', HIGHER],
  ['hs1', 'full handshakes, sequential', 'handshakes/s', HIGHER],
  ['hs8', 'full handshakes, 8 in parallel', 'handshakes/s', HIGHER],
  ['hs12', 'TLS 1.2 full handshakes, sequential', 'handshakes/s', HIGHER],
  ['resumed13', 'TLS 1.3 resumed handshakes, sequential', 'handshakes/s', HIGHER],
  ['resumed12', 'TLS 1.2 resumed handshakes, sequential', 'handshakes/s', HIGHER],
  ['dtlsHs1', 'DTLS 1.2 full handshakes, sequential', 'handshakes/s', HIGHER],
  ['dtlsHs8', 'DTLS 1.2 full handshakes, 8 in parallel', 'handshakes/s', HIGHER],
  ['dtlsMsgs', `DTLS 1.2 ${MESSAGE_SIZE}-byte messages echoed`, 'messages/s', HIGHER],
  ['serverRss', 'server RSS per idle connection', 'KiB', LOWER],
  ['clientRss', 'client RSS per idle connection', 'KiB', LOWER],
  ['serverHeap', 'server Mbed TLS memory per connection', 'KiB', LOWER],
  ['clientHeap', 'client Mbed TLS memory per connection', 'KiB', LOWER],
];

const negotiated = (socket) => `${socket.getProtocol()} ${socket.getCipher().standardName}`;

async function startServer(name, scenario) {
  const server = forkChild('server.js', [name, scenario]);
  const { port } = await next(server, 'listening');
  return { server, port };
}

async function bulk(name, key, version) {
  const tls = impl(name);
  const { server, port } = await startServer(name, 'bulk');
  try {
    const ctx = clientContext(tls, { minVersion: version, maxVersion: version });
    const socket = await handshake(tls, port, ctx);
    const chunk = crypto.randomBytes(WRITE_SIZE);
    const total = BULK_MIB * 1024 * 1024;
    const note = negotiated(socket);
    const report = next(server, 'bulk');
    const start = process.hrtime.bigint();
    for (let sent = 0; sent < total; sent += chunk.length) {
      if (!socket.write(chunk)) await once(socket, 'drain');
    }
    socket.end();
    const { bytes } = await report;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    socket.destroy();
    if (bytes !== total) throw new Error(`${name}: server counted ${bytes} of ${total} bytes`);
    return { values: { [key]: bytes / seconds / 1e6 }, notes: { [key]: note } };
  } finally {
    await stopChild(server);
  }
}

async function handshakes(name, key, parallel, version) {
  const tls = impl(name);
  const { server, port } = await startServer(name, 'handshake');
  try {
    const ctx = clientContext(tls, version ? { minVersion: version, maxVersion: version } : {});
    let count = 0;
    let note;
    const start = Date.now();
    const deadline = start + HANDSHAKE_SECONDS * 1000;
    await workers(parallel, async () => {
      while (Date.now() < deadline) {
        const socket = await handshake(tls, port, ctx);
        note ??= negotiated(socket);
        socket.destroy();
        count++;
      }
    });
    return { values: { [key]: count / ((Date.now() - start) / 1000) }, notes: { [key]: note } };
  } finally {
    await stopChild(server);
  }
}

// Resumed handshakes: one full handshake gives a session (a TLS 1.3 ticket, or a TLS 1.2 ticket
// or session ID, whichever the server gives), then every connection offers it again, as a
// client of one server does, connect -> 'secureConnect' -> destroy. Only the handshakes the
// server resumed count; the note says how many were not.
async function resumedHandshakes(name, key, version) {
  const tls = impl(name);
  const { server, port } = await startServer(name, 'handshake');
  try {
    const ctx = clientContext(tls, { minVersion: version, maxVersion: version });
    const first = tls.connect({ host: HOST, port, secureContext: ctx });
    const [session] = await once(first, 'session');
    first.destroy();
    let count = 0;
    let full = 0;
    let note;
    const start = Date.now();
    const deadline = start + HANDSHAKE_SECONDS * 1000;
    while (Date.now() < deadline) {
      const socket = await new Promise((resolve, reject) => {
        const s = tls.connect({ host: HOST, port, secureContext: ctx, session }, () => {
          s.off('error', reject);
          resolve(s);
        });
        s.on('error', reject);
      });
      note ??= negotiated(socket);
      if (socket.isSessionReused()) count++;
      else full++;
      socket.destroy();
    }
    note += full > 0 ? `, ${full} not resumed` : ', all resumed';
    return { values: { [key]: count / ((Date.now() - start) / 1000) }, notes: { [key]: note } };
  } finally {
    await stopChild(server);
  }
}

// A DTLS client of the bench server, resolved once secure.
function dtlsHandshake(port) {
  const dtls = require('../dtls');
  return new Promise((resolve, reject) => {
    const socket = dtls.connect({ host: HOST, port, ca: certs.ca }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

async function dtlsHandshakes(key, parallel) {
  const { server, port } = await startServer('mbedtls', 'dtls-handshake');
  try {
    let count = 0;
    let note;
    const start = Date.now();
    const deadline = start + HANDSHAKE_SECONDS * 1000;
    await workers(parallel, async () => {
      while (Date.now() < deadline) {
        const socket = await dtlsHandshake(port);
        note ??= negotiated(socket);
        await new Promise((resolve) => socket.close(resolve));
        count++;
      }
    });
    return { values: { [key]: count / ((Date.now() - start) / 1000) }, notes: { [key]: note } };
  } finally {
    await stopChild(server);
  }
}

async function dtlsMessages() {
  const { server, port } = await startServer('mbedtls', 'dtls-echo');
  try {
    const socket = await dtlsHandshake(port);
    const note = `${negotiated(socket)}, ${WINDOW} in flight`;
    const message = crypto.randomBytes(MESSAGE_SIZE);
    let received = 0;
    let lastArrival = Date.now();
    const start = Date.now();
    const deadline = start + HANDSHAKE_SECONDS * 1000;
    await new Promise((resolve, reject) => {
      socket.on('error', reject);
      socket.on('message', () => {
        received++;
        lastArrival = Date.now();
        if (Date.now() < deadline) socket.send(message);
      });
      // Replaces what UDP lost: after a quiet LOSS_WAIT_MS the window is refilled.
      const check = setInterval(() => {
        const now = Date.now();
        if (now >= deadline) {
          clearInterval(check);
          resolve();
        } else if (now - lastArrival >= LOSS_WAIT_MS) {
          lastArrival = now;
          for (let i = 0; i < WINDOW; i++) socket.send(message);
        }
      }, LOSS_WAIT_MS / 4);
      for (let i = 0; i < WINDOW; i++) socket.send(message);
    });
    const seconds = (Date.now() - start) / 1000;
    socket.close();
    return { values: { dtlsMsgs: received / seconds }, notes: { dtlsMsgs: note } };
  } finally {
    await stopChild(server);
  }
}

async function memory(name) {
  const { server, port } = await startServer(name, 'idle');
  const clients = forkChild('clients.js', [name, String(port)]);
  try {
    const clientBefore = await request(clients, { type: 'warmup', count: 20 });
    const serverBefore = await request(server, { type: 'memory', waitFor: 0 });
    const clientAfter = await request(clients, { type: 'open', count: IDLE_CONNECTIONS });
    const serverAfter = await request(server, { type: 'memory', waitFor: IDLE_CONNECTIONS });
    const perConnection = (after, before) => (after.rss - before.rss) / IDLE_CONNECTIONS / 1024;
    const heap = (sample) => (sample.heap === null ? null : sample.heap / IDLE_CONNECTIONS / 1024);
    const values = {
      serverRss: perConnection(serverAfter, serverBefore),
      clientRss: perConnection(clientAfter, clientBefore),
      serverHeap: heap(serverAfter),
      clientHeap: heap(clientAfter),
    };
    return { values, notes: {} };
  } finally {
    await Promise.all([stopChild(clients), stopChild(server)]);
  }
}

// Each measurement: [rounds, label, run(name) -> { values: { metric: number or null },
// notes: { metric: what was negotiated } }, implementations (default both)].
const MEASUREMENTS = [
  [ROUNDS, 'bulk TLS 1.3', (name) => bulk(name, 'bulk13', 'TLSv1.3')],
  [ROUNDS, 'bulk TLS 1.2', (name) => bulk(name, 'bulk12', 'TLSv1.2')],
  [ROUNDS, 'handshakes x1', (name) => handshakes(name, 'hs1', 1)],
  [ROUNDS, 'handshakes x8', (name) => handshakes(name, 'hs8', 8)],
  [MEMORY_ROUNDS, 'memory', memory],
  [ROUNDS, 'handshakes x1 TLS 1.2', (name) => handshakes(name, 'hs12', 1, 'TLSv1.2')],
  [ROUNDS, 'resumed handshakes TLS 1.3', (name) => resumedHandshakes(name, 'resumed13', 'TLSv1.3')],
  [ROUNDS, 'resumed handshakes TLS 1.2', (name) => resumedHandshakes(name, 'resumed12', 'TLSv1.2')],
  [ROUNDS, 'DTLS handshakes x1', () => dtlsHandshakes('dtlsHs1', 1), ['mbedtls']],
  [ROUNDS, 'DTLS handshakes x8', () => dtlsHandshakes('dtlsHs8', 8), ['mbedtls']],
  [ROUNDS, 'DTLS messages', dtlsMessages, ['mbedtls']],
];

async function main() {
  // BENCH_ONLY=regexp: only the measurements whose label matches (e.g. BENCH_ONLY=bulk),
  // and not the crypto alone.
  const onlyLabels = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null;
  // First, before any child runs.
  const cryptoFigures = onlyLabels ? null : measureCrypto(CRYPTO_SECONDS);
  const best = { node: {}, mbedtls: {} };
  const notes = {}; // metric -> { implementation: note }
  for (const [rounds, label, run, only] of MEASUREMENTS) {
    if (onlyLabels && !onlyLabels.test(label)) continue;
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ['node', 'mbedtls'] : ['mbedtls', 'node'];
      for (const name of order) {
        if (only && !only.includes(name)) continue;
        const { values, notes: runNotes } = await run(name);
        for (const [key, note] of Object.entries(runNotes)) (notes[key] ??= {})[name] = note;
        const shown = [];
        for (const [key, value] of Object.entries(values)) {
          if (value === null) continue;
          const combine = METRICS.find(([k]) => k === key)[3];
          best[name][key] = key in best[name] ? combine(best[name][key], value) : value;
          shown.push(`${key}=${format(value)}`);
        }
        console.error(`[${label}, round ${round + 1}/${rounds}] ${NAMES[name]}: ${shown.join(' ')}`);
      }
    }
  }
  printTable(best, notes);
  if (cryptoFigures) printCryptoTable(cryptoFigures);
}

function format(value) {
  if (value === undefined || value === null) return 'n/a';
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function printTable(best, notes) {
  const rows = [['metric', 'unit', NAMES.node, NAMES.mbedtls, 'ratio (mbedtls/node)']];
  for (const [key, label, unit] of METRICS) {
    const a = best.node[key];
    const b = best.mbedtls[key];
    if (process.env.BENCH_ONLY && a === undefined && b === undefined) continue;
    rows.push([label, unit, format(a), format(b), a && b ? `${(b / a).toFixed(2)}x` : 'n/a']);
  }
  console.log(`\nmbedtls-stream vs node:tls (${QUICK ? 'BENCH_QUICK' : 'full'}: best of ${ROUNDS} rounds, ` +
    `memory best of ${MEMORY_ROUNDS}; bulk ${BULK_MIB} MiB, handshakes ${HANDSHAKE_SECONDS} s, ` +
    `${IDLE_CONNECTIONS} idle connections; node ${process.version})\n`);
  tableLines(rows, 2).forEach((line) => console.log(line));
  console.log('\nratio > 1 is better for MB/s, handshakes/s and messages/s, worse for KiB. ' +
    'node has no DTLS (n/a). Negotiated:');
  for (const [key, byImpl] of Object.entries(notes)) {
    const label = METRICS.find(([k]) => k === key)[1];
    console.log(`  ${label}: ${Object.entries(byImpl).map(([n, note]) => `${NAMES[n]} ${note}`).join('; ')}`);
  }
}

main().then(() => {
  killChildren();
  process.exit(0);
}, (err) => {
  console.error(err);
  killChildren();
  process.exit(1);
});
