'use strict';
// Load scenarios, each sized by its caller: test/load.test.js and test/hostile.test.js run
// them at the size that proves the behaviour, bench/load.js (`npm run load`) at soak size.
// A scenario returns its measurements with a one-line `summary`; its check function throws
// (node:assert) on what must not happen at any size: a failed handshake, an error, a leak,
// corrupt data. Nothing here bounds how long anything takes, and every wait for something
// to settle polls until it has (the caller's timeout is the only limit).
//
// Measurements that need gc() run in child processes started with --expose-gc: this file,
// run as `node test/load-scenarios.js <role> ...` (see child() at the end). Elsewhere gc
// comes from v8.setFlagsFromString.

const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const tls = require('node:tls');
const v8 = require('node:v8');
const vm = require('node:vm');
const { fork } = require('node:child_process');
const ours = require('..');
const binding = require('../lib/binding');
const { assert, certs, once, readBytes, sha256, randomBytes, resourceTracker } = require('./helpers');

const HOST = '127.0.0.1';
const MIB = 1 << 20;
const delay = (ms) => new Promise((r) => setTimeout(r, ms));
const tick = () => new Promise((r) => setImmediate(r));
const mib = (bytes) => `${(bytes / MIB).toFixed(1)} MiB`;
const signedMib = (bytes) => `${bytes >= 0 ? '+' : ''}${mib(bytes)}`;
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const mbedtlsBytes = () => binding.memoryTotals()[0];
const openFds = () => fs.readdirSync('/proc/self/fd').length;
const tally = (list, key) => {
  const counts = {};
  for (const item of list) counts[key(item)] = (counts[key(item)] || 0) + 1;
  return counts;
};

// gc() with or without --expose-gc.
function getGc() {
  if (typeof global.gc === 'function') return global.gc;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc');
}

async function settle(rounds = 10) {
  const gc = getGc();
  for (let i = 0; i < rounds; i++) {
    gc();
    await delay(10);
  }
}

// Polls `condition` every 10 ms until it holds; as patient as the caller's timeout.
async function until(condition) {
  while (!await condition()) await delay(10);
}

// ---- Children over IPC ----

// Forks `node --expose-gc [...execArgv] test/load-scenarios.js role ...args`.
function forkChild(track, role, args = [], execArgv = []) {
  const child = fork(__filename, [role, ...args], {
    execArgv: ['--expose-gc', ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return track.child(child);
}

// Resolves with the child's next message of `type`; rejects if it exits first.
function nextMessage(child, type) {
  return new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (message.type === 'error') {
        done();
        reject(new Error(`child: ${message.stack}`));
      } else if (message.type === type) {
        done();
        resolve(message);
      }
    };
    const onExit = (code, signal) => {
      done();
      reject(new Error(`child exited (${code ?? signal}) while waiting for '${type}'`));
    };
    const done = () => {
      child.removeListener('message', onMessage);
      child.removeListener('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function request(child, message) {
  const reply = nextMessage(child, `${message.cmd}:done`);
  child.send(message);
  return reply;
}

// ---- Handshakes at once ----

function openFileLimit() {
  const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return Number(line.split(/\s+/)[3]);
}

// `count` clients of ours connect to our echo server all at once; once every handshake is
// through, each echoes its index while all are open, then they all close.
async function handshakesAtOnce(track, { count }) {
  const limit = openFileLimit();
  assert.ok(limit >= 2 * count + 200, `this scenario holds ${2 * count} sockets; the open file limit is ${limit}`);
  let accepted = 0;
  const serverErrors = [];
  const server = track.server(ours.createServer(certs.ecdsa, (s) => {
    accepted++;
    s.on('error', (err) => serverErrors.push(err));
    s.pipe(s);
  }));
  server.on('tlsClientError', (err) => serverErrors.push(err));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: HOST, backlog: 2048 }, resolve);
  });
  const { port } = server.address();
  const secureContext = ours.createSecureContext({ ca: certs.ca });
  const start = Date.now();
  const sockets = [];
  const handshakes = [];
  // 100 connects per event-loop turn, so the listen backlog never overflows.
  for (let i = 0; i < count; i++) {
    if (i > 0 && i % 100 === 0) await tick();
    const socket = track.socket(ours.connect({ port, host: HOST, servername: 'localhost', secureContext }));
    sockets.push(socket);
    handshakes.push(new Promise((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    }));
  }
  const results = await Promise.allSettled(handshakes);
  const handshakeMs = Date.now() - start;
  const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
  const result = {
    count,
    failed: failed.length,
    failureCodes: tally(failed, (err) => err.code),
    firstFailure: failed.length ? failed[0].stack : null,
    echoed: 0,
    accepted: 0,
    serverErrors: [],
  };
  if (failed.length === 0) {
    // All open at once: each echoes its index, then they all close.
    const echoes = await Promise.all(sockets.map((socket, i) => {
      const echoed = readBytes(socket, `${i}`.length);
      socket.write(`${i}`);
      return echoed.then((data) => data.toString() === `${i}`, () => false);
    }));
    result.echoed = echoes.filter(Boolean).length;
    await Promise.all(sockets.map((socket) => {
      const closed = once(socket, 'close');
      socket.end();
      return closed;
    }));
  }
  const totalMs = Date.now() - start;
  result.accepted = accepted;
  result.serverErrors = serverErrors.map((e) => e.code);
  result.summary = `${count} handshakes at once: ${count - failed.length} secure after ${handshakeMs} ms ` +
    `(${(count / (handshakeMs / 1000)).toFixed(0)}/s), ${result.echoed} echoed by ${totalMs} ms; ` +
    `failed ${failed.length} ${JSON.stringify(result.failureCodes)}; server errors ${serverErrors.length}`;
  return result;
}

function checkHandshakesAtOnce(r) {
  assert.equal(r.failed, 0, `${r.failed} handshakes failed: ${JSON.stringify(r.failureCodes)}; first: ${r.firstFailure}`);
  assert.equal(r.echoed, r.count, `${r.echoed} of ${r.count} echoes intact`);
  assert.equal(r.accepted, r.count);
  assert.deepEqual(r.serverErrors, []);
}

// ---- A paused reader ----

// The sender (a child: `node`'s or `ours` server) writes `mibs` MiB in 1 MiB writes, all at
// once; the reader here (ours against node's sender, node's against ours) takes the first
// MiB, pauses until the sender has stalled and a second more, then reads the rest.
async function pausedReader(track, { sender: senderImpl, mibs }) {
  const PAUSE_AFTER = MIB;
  const sender = forkChild(track, 'sender', [senderImpl, String(mibs)]);
  const { port } = await nextMessage(sender, 'listening');
  await settle();
  const rssBaseline = process.memoryUsage().rss;
  const senderBaseline = (await request(sender, { cmd: 'stats' })).rss;

  const lib = senderImpl === 'ours' ? tls : ours;
  const socket = track.socket(lib.connect({ port, host: HOST, ca: certs.ca, servername: 'localhost' }));
  const hash = crypto.createHash('sha256');
  let received = 0;
  let paused = false;
  const firstMib = new Promise((resolve) => {
    socket.on('data', (chunk) => {
      hash.update(chunk);
      received += chunk.length;
      if (!paused && received >= PAUSE_AFTER) {
        paused = true;
        socket.pause();
        resolve();
      }
    });
  });
  const ended = new Promise((resolve, reject) => {
    socket.once('end', resolve);
    socket.once('error', reject);
  });
  const sending = nextMessage(sender, 'sending');
  await firstMib;
  const { sha256: expected, bytes } = await sending;
  const receivedAtPause = received;

  // Wait for the sender to stall: its queue unchanged over three polls 200 ms apart.
  let stats = await request(sender, { cmd: 'stats' });
  for (let same = 0; same < 3;) {
    await delay(200);
    const next = await request(sender, { cmd: 'stats' });
    same = next.writableLength === stats.writableLength ? same + 1 : 0;
    stats = next;
  }
  // Then a second more, paused.
  await delay(1000);
  const held = await request(sender, { cmd: 'stats' });
  await settle(3);
  const rssPaused = process.memoryUsage().rss;
  const transport = socket._parent || socket;
  const readerBuffered = socket.readableLength + (transport !== socket ? transport.readableLength : 0);
  const receivedWhilePaused = received - receivedAtPause;

  const resumedAt = Date.now();
  socket.resume();
  await ended;
  const readMs = Date.now() - resumedAt;
  const flushed = await request(sender, { cmd: 'stats' });
  socket.destroy();
  const r = {
    sender: senderImpl,
    bytes,
    rssBaseline,
    rssPaused,
    readerBuffered,
    receivedWhilePaused,
    senderQueued: held.writableLength,
    senderFlushed: bytes - held.writableLength,
    stalledQueue: stats.writableLength,
    drainsWhilePaused: held.drains,
    senderRssGrowth: held.rss - senderBaseline,
    transportQueued: held.transportQueued,
    stalledTransportQueue: stats.transportQueued,
    received,
    readMs,
    intact: hash.digest('hex') === expected,
    drainsAfter: flushed.drains,
  };
  const label = senderImpl === 'ours' ? 'node\'s client <- our server' : 'our client <- node\'s server';
  r.summary = `${label}: reader RSS ${mib(r.rssBaseline)} -> ${mib(r.rssPaused)} while paused ` +
    `(${signedMib(r.rssPaused - r.rssBaseline)}), reader buffered ${kib(r.readerBuffered)}; ` +
    `sender writableLength ${mib(r.senderQueued)} of ${mib(r.bytes)} (${mib(r.senderFlushed)} left it), ` +
    `'drain' while paused ${r.drainsWhilePaused}, sender RSS ${signedMib(r.senderRssGrowth)}` +
    `${r.transportQueued === null ? '' : ` (ciphertext queued on its transport ${mib(r.transportQueued)})`}; ` +
    `resumed: ${mib(r.received)} in ${r.readMs} ms, ${r.intact ? 'intact' : 'CORRUPT'}`;
  return r;
}

function checkPausedReader(r) {
  assert.equal(r.receivedWhilePaused, 0, 'no data while paused');
  assert.ok(r.rssPaused - r.rssBaseline < 40 * MIB, `reader RSS grew ${mib(r.rssPaused - r.rssBaseline)}`);
  assert.ok(r.readerBuffered < 4 * MIB, `reader buffered ${mib(r.readerBuffered)}`);
  // Held back by TCP: most of the payload still queued at the sender, no 'drain'.
  assert.equal(r.drainsWhilePaused, 0);
  assert.equal(r.senderQueued, r.stalledQueue, 'the sender made progress while the reader was paused');
  assert.ok(r.senderFlushed < 48 * MIB, `${mib(r.senderFlushed)} left the sender while paused`);
  assert.ok(r.senderQueued > r.bytes / 2, `sender queue ${mib(r.senderQueued)}`);
  if (r.transportQueued !== null) {
    // Ours: the ciphertext on its net.Socket did not move either.
    assert.equal(r.transportQueued, r.stalledTransportQueue, 'ciphertext left while the reader was paused');
  }
  // After resuming: every byte, intact, and the sender drained.
  assert.equal(r.received, r.bytes);
  assert.ok(r.intact, 'sha256 of the received bytes differs from the sender\'s');
  assert.equal(r.drainsAfter, 1);
  if (r.sender === 'ours') {
    // The application queued the whole payload of plaintext without waiting for 'drain'; as
    // node's server does (its RSS grows by the same twice the payload), ours encrypts what
    // is queued as the transport takes writes, so it holds the plaintext and its
    // ciphertext, and no more.
    assert.ok(r.senderRssGrowth < 2 * r.bytes + 48 * MIB, `our server's RSS grew ${mib(r.senderRssGrowth)}`);
  }
}

// ---- Connection churn ----

// The children run with a fixed young generation: V8 otherwise grows its semi-spaces (to
// 16 MiB each) under this allocation rate, and that RSS would read as growth.
const CHURN_V8 = ['--max-semi-space-size=2'];
const describeSide = (label, b, a) => `${label}: RSS ${mib(b.rss)} -> ${mib(a.rss)} ` +
  `(${signedMib(a.rss - b.rss)}; V8 heap ${mib(b.heapTotal)} -> ${mib(a.heapTotal)}), ` +
  `Mbed TLS ${b.heap} -> ${a.heap} bytes`;

// `count` connections from a client child to a server child, `concurrency` at a time, ending
// in turn in each of the ways churn-client's KINDS lists, after a warm-up of `warmup`.
async function connectionChurn(track, { count, warmup, concurrency }) {
  const server = forkChild(track, 'churn-server', [], CHURN_V8);
  const { port } = await nextMessage(server, 'listening');
  const client = forkChild(track, 'churn-client', [String(port)], CHURN_V8);
  await nextMessage(client, 'ready');
  const measure = async () => {
    const [s, c] = await Promise.all([request(server, { cmd: 'measure' }), request(client, { cmd: 'measure' })]);
    return { server: s, client: c };
  };
  // A warm-up round first: lazy allocations, PSA's key slots, the heap's working size.
  await request(client, { cmd: 'connections', count: warmup, concurrency });
  const before = await measure();
  const start = Date.now();
  const run = await request(client, { cmd: 'connections', count, concurrency });
  const after = await measure();
  const elapsed = Date.now() - start;
  const r = { count, before, after, kinds: run.kinds, errors: run.errors };
  r.summary = `${count} connections (${concurrency} at a time) in ${elapsed} ms: ${JSON.stringify(run.kinds)}; ` +
    `client errors ${JSON.stringify(run.errors)}; server: ${after.server.secure - before.server.secure} ` +
    `handshakes, tlsClientError ${after.server.clientErrors - before.server.clientErrors}, ` +
    `${after.server.connections} still open\n` +
    ['server', 'client'].map((side) =>
      `  ${describeSide(side, before[side], after[side])} (peak ${mib(after[side].heapPeak)})`).join('\n');
  return r;
}

function checkConnectionChurn(r) {
  const { before, after } = r;
  assert.deepEqual(r.errors, {});
  assert.equal(after.server.connections, 0);
  assert.equal(after.server.secure - before.server.secure, r.kinds['echo-end'] + r.kinds['handshake-destroy']);
  // Mbed TLS's bytes come back exactly in practice; the 64 KiB allow for PSA's key store,
  // which keeps its slots after a new peak of keys alive at once. A leak smaller than that
  // per connection shows at soak size (npm run load), not at a test's.
  for (const side of ['server', 'client']) {
    const b = before[side];
    const a = after[side];
    assert.ok(a.heap - b.heap <= 64 * 1024, `${side}: Mbed TLS holds ${a.heap - b.heap} bytes more`);
    assert.ok(a.rss - b.rss < 30 * MIB, `${side}: RSS grew ${mib(a.rss - b.rss)}`);
  }
}

// ---- Secure context churn ----

// Two cycles of `count` secure contexts (key, certificate and CA each), `alive` at a time,
// in a child: the first may leave the allocator holding freed memory for reuse
// (fragmentation); the second must not add to it.
async function contextChurn(track, { count, alive }) {
  const client = forkChild(track, 'churn-client', ['0'], CHURN_V8);
  await nextMessage(client, 'ready');
  await request(client, { cmd: 'contexts', count: alive, alive });
  const baseline = await request(client, { cmd: 'measure' });
  const first = await request(client, { cmd: 'contexts', count, alive });
  const afterFirst = await request(client, { cmd: 'measure' });
  const second = await request(client, { cmd: 'contexts', count, alive });
  const afterSecond = await request(client, { cmd: 'measure' });
  const r = { count, alive, baseline, afterFirst, afterSecond, heapHeld: first.heapHeld };
  r.summary = `${count} secure contexts (${alive} alive at a time) in ${first.ms} ms (Mbed TLS up to ` +
    `${mib(first.heapHeld)} while alive); ${describeSide('first cycle', baseline, afterFirst)}\n` +
    `  ${count} more in ${second.ms} ms; ${describeSide('second cycle', afterFirst, afterSecond)}`;
  return r;
}

function checkContextChurn(r) {
  const { baseline, afterFirst, afterSecond } = r;
  for (const [b, a] of [[baseline, afterFirst], [afterFirst, afterSecond]]) {
    assert.ok(a.heap - b.heap <= 64 * 1024, `Mbed TLS holds ${a.heap - b.heap} bytes more`);
  }
  // Each context holds its parsed key and certificates (some KiB) while alive.
  assert.ok(r.heapHeld > r.alive * 1024, `${r.alive} live contexts held ${r.heapHeld} bytes of Mbed TLS memory`);
  assert.ok(afterFirst.rss - baseline.rss < 64 * MIB, `first cycle: RSS grew ${mib(afterFirst.rss - baseline.rss)}`);
  assert.ok(afterSecond.rss - afterFirst.rss < 30 * MIB, `second cycle: RSS grew ${mib(afterSecond.rss - afterFirst.rss)}`);
}

// ---- Abrupt disconnects ----

// node's client's first flight: one record holding its ClientHello.
async function captureClientHello() {
  const capture = net.createServer();
  await new Promise((resolve) => capture.listen(0, HOST, resolve));
  const hello = await new Promise((resolve) => {
    capture.once('connection', (socket) => {
      let buffer = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        buffer = Buffer.concat([buffer, chunk]);
        if (buffer.length >= 5 && buffer.length >= 5 + buffer.readUInt16BE(3)) {
          socket.destroy();
          resolve(buffer.subarray(0, 5 + buffer.readUInt16BE(3)));
        }
      });
    });
    const client = tls.connect({ port: capture.address().port, host: HOST, rejectUnauthorized: false });
    client.on('error', () => {});
  });
  capture.close();
  return hello;
}

// A handshake and an echo with each of `libs`' clients (ours by default); throws if the
// server no longer serves.
async function assertServes(track, port, libs = [ours]) {
  for (const lib of libs) {
    const socket = track.socket(lib.connect({ port, host: HOST, ca: certs.ca, servername: 'localhost' }));
    await once(socket, 'secureConnect');
    const payload = randomBytes(4096);
    const echoed = readBytes(socket, payload.length);
    socket.write(payload);
    assert.equal(sha256(await echoed), sha256(payload));
    socket.destroy();
  }
}

// `count` raw TCP clients, `concurrency` at a time, against our echo server (in this
// process): each connects, sends nothing, part of a ClientHello or all of it, then closes
// with FIN or RST. A warm-up of the same shape comes first (lazy allocations, PSA's key
// slots at this concurrency).
async function abruptDisconnects(track, { count, concurrency }) {
  const clientErrors = [];
  const server = track.server(ours.createServer(certs.ecdsa, (s) => {
    s.on('error', () => {});
    s.pipe(s);
  }));
  server.on('tlsClientError', (err) => clientErrors.push(err));
  await new Promise((resolve) => server.listen({ port: 0, host: HOST, backlog: 1024 }, resolve));
  const { port } = server.address();
  const hello = await captureClientHello();
  // A client reset before the server accepted it never reaches any server code (it
  // happens when the server is slow, under sanitizers): every accepted one must error.
  let accepted = 0;
  server.on('connection', () => { accepted++; });
  const disconnect = (i) => new Promise((resolve) => {
    const raw = net.connect({ port, host: HOST });
    raw.on('error', () => {});
    raw.once('close', resolve);
    raw.once('connect', () => {
      const what = i % 3;
      if (what === 1) raw.write(hello.subarray(0, 1 + (i % (hello.length - 1))));
      if (what === 2) raw.write(hello);
      if (i % 2 === 0) raw.destroy();
      else raw.resetAndDestroy();
    });
  });
  const round = async (total) => {
    let started = 0;
    const worker = async () => {
      while (started < total) await disconnect(started++);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
    await until(() => new Promise((r) => server.getConnections((e, n) => r(n === 0))));
  };
  await assertServes(track, port);
  await round(2 * concurrency);
  await settle(5);
  const fdsBefore = openFds();
  const rssBefore = process.memoryUsage().rss;
  const mbedtlsBefore = mbedtlsBytes();
  const errorsBefore = clientErrors.length;
  accepted = 0;
  const start = Date.now();
  await round(count);
  const elapsed = Date.now() - start;
  const acceptedDuring = accepted;
  await settle(5);
  const errors = clientErrors.slice(errorsBefore);
  const r = {
    port,
    count,
    accepted: acceptedDuring,
    errors: errors.length,
    uncoded: errors.filter((err) => !(err instanceof Error) || !/^(ERR_[A-Z0-9_]+|E[A-Z]+)$/.test(err.code)
      || err.code === 'ERR_MBEDTLS')
      .map((err) => `${err.code}: ${err.message}`),
    fdsBefore,
    fdsAfter: openFds(),
    rssBefore,
    rssAfter: process.memoryUsage().rss,
    mbedtlsBefore,
    mbedtlsAfter: mbedtlsBytes(),
  };
  await assertServes(track, port);
  r.serves = true;
  r.summary = `${count} disconnects (${concurrency} at a time) in ${elapsed} ms; ${acceptedDuring} accepted, ` +
    `tlsClientError ${errors.length}: ${JSON.stringify(tally(errors, (err) => err.code))}; ` +
    `fds ${r.fdsBefore} -> ${r.fdsAfter}; RSS ${mib(r.rssBefore)} -> ${mib(r.rssAfter)} ` +
    `(${signedMib(r.rssAfter - r.rssBefore)}); Mbed TLS ${r.mbedtlsBefore} -> ${r.mbedtlsAfter} bytes`;
  return r;
}

function checkAbruptDisconnects(r) {
  // Every client that gave up is reported once, with a code.
  assert.ok(r.accepted > r.count * 0.9, `${r.accepted} of ${r.count} accepted`);
  assert.equal(r.errors, r.accepted);
  assert.deepEqual(r.uncoded, []);
  assert.ok(Math.abs(r.fdsAfter - r.fdsBefore) <= 3, `fds ${r.fdsBefore} -> ${r.fdsAfter}`);
  assert.ok(r.rssAfter - r.rssBefore < 30 * MIB, `RSS grew ${mib(r.rssAfter - r.rssBefore)}`);
  // As for the churn: PSA's key store may keep a few slots more after a new peak of keys.
  assert.ok(r.mbedtlsAfter - r.mbedtlsBefore <= 64 * 1024,
    `Mbed TLS holds ${r.mbedtlsAfter - r.mbedtlsBefore} bytes more`);
  assert.equal(r.serves, true);
}

// ---- The children ----

async function child(role, args) {
  const gcSettle = async () => {
    for (let i = 0; i < 10; i++) {
      global.gc();
      await delay(10);
    }
  };
  const reply = (cmd, fields) => process.send({ type: `${cmd}:done`, ...fields });
  process.on('disconnect', () => process.exit(0));

  if (role === 'sender') {
    // A server that, on its first connection, writes `mibs` MiB of random bytes in 1 MiB
    // writes, all at once, and ends once they drained. Reports its queue and 'drain's on
    // request.
    const [impl, mibs] = args;
    const lib = impl === 'ours' ? ours : tls;
    let socket = null;
    let drains = 0;
    const server = lib.createServer(certs.ecdsa, (s) => {
      socket = s;
      s.on('error', (err) => process.send({ type: 'error', stack: err.stack }));
      s.on('drain', () => { drains++; });
      const hash = crypto.createHash('sha256');
      const chunks = [];
      for (let i = 0; i < Number(mibs); i++) {
        const chunk = crypto.randomBytes(MIB);
        hash.update(chunk);
        chunks.push(chunk);
      }
      for (const chunk of chunks) s.write(chunk);
      // end() only once everything is flushed: after end(), a Writable emits no 'drain'.
      s.once('drain', () => s.end());
      process.send({ type: 'sending', sha256: hash.digest('hex'), bytes: Number(mibs) * MIB });
    });
    server.on('tlsClientError', (err) => process.send({ type: 'error', stack: err.stack }));
    process.on('message', (message) => {
      if (message.cmd === 'stats') {
        // Ours: what its transport (the net.Socket) holds, ciphertext not yet in the kernel.
        const transportQueued = impl === 'ours' && socket ? socket._parent.writableLength : null;
        reply('stats', { writableLength: socket ? socket.writableLength : 0, transportQueued, drains,
          rss: process.memoryUsage().rss });
      }
    });
    server.listen(0, HOST, () => process.send({ type: 'listening', port: server.address().port }));
    return;
  }

  if (role === 'churn-server') {
    let clientErrors = 0;
    let secure = 0;
    const server = ours.createServer(certs.ecdsa, (s) => {
      secure++;
      s.on('error', () => {});
      s.pipe(s);
    });
    server.on('tlsClientError', () => { clientErrors++; });
    const connections = () => new Promise((r) => server.getConnections((e, n) => r(n)));
    process.on('message', async (message) => {
      if (message.cmd === 'measure') {
        // Let the last closes land before measuring.
        await until(async () => await connections() === 0);
        await gcSettle();
        const [current, peak] = binding.memoryTotals();
        const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
        reply('measure', { rss, heapUsed, heapTotal, external, heap: current, heapPeak: peak,
          connections: await connections(), clientErrors, secure });
      }
    });
    server.listen({ port: 0, host: HOST, backlog: 1024 }, () =>
      process.send({ type: 'listening', port: server.address().port }));
    return;
  }

  if (role === 'churn-client') {
    const port = Number(args[0]);
    const secureContext = ours.createSecureContext({ ca: certs.ca });
    // How a connection ends, in turn (a cycle of ten): a full handshake and a 1-byte echo,
    // then end(); a handshake, then destroy(); destroyed on TCP connect (nothing sent);
    // destroyed once its ClientHello left; destroyed as the server's first flight arrives
    // (before reading it). Full handshakes are 2 in 10: each costs this client ~4.5 ms of
    // CPU (Mbed TLS verifying the chain).
    const KINDS = ['echo-end', 'at-connect', 'after-hello', 'at-server-flight', 'at-connect',
      'handshake-destroy', 'at-connect', 'after-hello', 'at-server-flight', 'at-connect'];
    const outcomeOf = (socket) => new Promise((resolve) => {
      let settled = false;
      const done = (err) => {
        if (settled) return;
        settled = true;
        resolve(err);
      };
      socket.on('error', (err) => done(err));
      socket.once('close', () => done(null));
    });
    const connection = (kind) => {
      const socket = ours.connect({ port, host: HOST, servername: 'localhost', secureContext });
      const outcome = outcomeOf(socket);
      switch (kind) {
        case 'echo-end':
          socket.once('secureConnect', () => socket.write('x'));
          socket.once('data', () => socket.end());
          socket.resume();
          break;
        case 'handshake-destroy':
          socket.once('secureConnect', () => socket.destroy());
          break;
        case 'at-connect':
          socket.once('connect', () => socket.destroy());
          break;
        case 'after-hello':
          socket.once('connect', () => setImmediate(() => socket.destroy()));
          break;
        case 'at-server-flight':
          socket._parent.prependOnceListener('data', () => socket.destroy());
          break;
        default:
          throw new Error(kind);
      }
      return outcome;
    };
    process.on('message', async (message) => {
      if (message.cmd === 'connections') {
        const kinds = {};
        const errors = {};
        let next = 0;
        const worker = async () => {
          while (next < message.count) {
            const kind = KINDS[next++ % KINDS.length];
            kinds[kind] = (kinds[kind] || 0) + 1;
            const err = await connection(kind);
            // A connection this side destroyed reports no error; any error is a failure.
            if (err) errors[`${kind}:${err.code}`] = (errors[`${kind}:${err.code}`] || 0) + 1;
          }
        };
        await Promise.all(Array.from({ length: message.concurrency }, worker));
        reply('connections', { kinds, errors });
      } else if (message.cmd === 'contexts') {
        const options = { key: certs.ecdsa.key, cert: certs.ecdsa.cert, ca: certs.ca };
        const start = Date.now();
        let alive = [];
        let heapHeld = 0;
        for (let i = 0; i < message.count; i++) {
          alive.push(ours.createSecureContext(options));
          if (alive.length === message.alive) {
            heapHeld = Math.max(heapHeld, binding.memoryTotals()[0]);
            alive = [];
            global.gc();
            await tick();
          }
        }
        alive = null;
        reply('contexts', { ms: Date.now() - start, heapHeld });
      } else if (message.cmd === 'measure') {
        await gcSettle();
        const [current, peak] = binding.memoryTotals();
        const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
        reply('measure', { rss, heapUsed, heapTotal, external, heap: current, heapPeak: peak, connections: 0 });
      }
    });
    process.send({ type: 'ready' });
    return;
  }
  throw new Error(`unknown role ${role}`);
}

if (require.main === module) {
  child(process.argv[2], process.argv.slice(3)).catch((err) => {
    process.send({ type: 'error', stack: err.stack });
    process.exitCode = 1;
  });
}

module.exports = {
  // What a scenario opens, for bench/load.js (mocha tests pass helpers' useCleanup()).
  tracker: resourceTracker,
  handshakesAtOnce, checkHandshakesAtOnce,
  pausedReader, checkPausedReader,
  connectionChurn, checkConnectionChurn,
  contextChurn, checkContextChurn,
  abruptDisconnects, checkAbruptDisconnects,
  assertServes,
};
