'use strict';
// Load: 1,000 handshakes at once; a paused reader while the peer sends 100 MiB (memory
// bounded, the sender held back by TCP, every byte intact); 10,000 connections and 10,000
// secure contexts created and dropped leave memory near its baseline.
//
// Needs no mocha flags. Measurements that need gc() run in child processes started with
// --expose-gc: this file itself, run as `node test/load.test.js <role>` (see child() at the
// end); elsewhere gc comes from v8.setFlagsFromString.

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const tls = require('node:tls');
const v8 = require('node:v8');
const vm = require('node:vm');
const { fork } = require('node:child_process');
const ours = require('..');
const { assert, certs, listen, once, useCleanup } = require('./helpers');

const HOST = '127.0.0.1';
const MIB = 1 << 20;
const delay = (ms) => new Promise((r) => setTimeout(r, ms));
const tick = () => new Promise((r) => setImmediate(r));
const mib = (bytes) => `${(bytes / MIB).toFixed(1)} MiB`;
const signedMib = (bytes) => `${bytes >= 0 ? '+' : ''}${mib(bytes)}`;
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

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

// ---- Children: this file run as a script ----

const CHILD = __filename;

// Forks `node --expose-gc [...execArgv] test/load.test.js role ...args`; tracked for cleanup.
function forkChild(cleanup, role, args = [], execArgv = []) {
  const child = fork(CHILD, [role, ...args], {
    execArgv: ['--expose-gc', ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  cleanup.child(child);
  return child;
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

// ---- 1,000 handshakes at once ----

function openFileLimit() {
  const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return Number(line.split(/\s+/)[3]);
}

// Run as a child (require.main), this file defines no tests: mocha's describe is absent.
const suite = require.main === module ? () => {} : describe;

suite('load', function () {
  this.timeout(60000);
  const cleanup = useCleanup();

  it('1,000 connections handshaking at once all complete', async () => {
    const COUNT = 1000;
    const limit = openFileLimit();
    assert.ok(limit >= 2 * COUNT + 200, `this test holds ${2 * COUNT} sockets; the open file limit is ${limit}`);
    let accepted = 0;
    const serverErrors = [];
    const server = cleanup.server(ours.createServer(certs.ecdsa, (s) => {
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
    for (let i = 0; i < COUNT; i++) {
      if (i > 0 && i % 100 === 0) await tick();
      const socket = cleanup.socket(ours.connect({ port, host: HOST, servername: 'localhost', secureContext }));
      sockets.push(socket);
      handshakes.push(new Promise((resolve, reject) => {
        socket.once('secureConnect', resolve);
        socket.once('error', reject);
      }));
    }
    const results = await Promise.allSettled(handshakes);
    const handshakeMs = Date.now() - start;
    const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
    const codes = {};
    for (const err of failed) codes[err.code] = (codes[err.code] || 0) + 1;
    assert.equal(failed.length, 0, `${failed.length} handshakes failed: ${JSON.stringify(codes)}; first: ${failed[0] && failed[0].stack}`);
    // All open at once: each echoes a line, then they all close.
    await Promise.all(sockets.map((socket, i) => new Promise((resolve, reject) => {
      socket.once('data', (d) => (d.toString() === `${i}` ? resolve() : reject(new Error(`echo ${d}`))));
      socket.write(`${i}`);
    })));
    const totalMs = Date.now() - start;
    await Promise.all(sockets.map((socket) => {
      const closed = once(socket, 'close');
      socket.end();
      return closed;
    }));
    assert.equal(accepted, COUNT);
    assert.deepEqual(serverErrors.map((e) => e.code), []);
    console.log(`      ${COUNT} handshakes at once: all secure after ${handshakeMs} ms ` +
      `(${(COUNT / (handshakeMs / 1000)).toFixed(0)}/s), echoed by ${totalMs} ms; server errors 0`);
  });

  // ---- 100 MiB to a paused reader ----

  const PAYLOAD_MIB = 100;
  const PAUSE_AFTER = MIB;

  // The sender (a child: `node's` or `ours` server) writes PAYLOAD_MIB MiB in 1 MiB writes, all
  // at once; the reader (`connect` here) takes the first MiB, pauses until the sender has
  // stalled, then reads the rest.
  async function pausedReader(senderImpl, connect) {
    const sender = forkChild(cleanup, 'sender', [senderImpl, String(PAYLOAD_MIB)]);
    const { port } = await nextMessage(sender, 'listening');
    await settle();
    const rssBaseline = process.memoryUsage().rss;
    const senderBaseline = (await request(sender, { cmd: 'stats' })).rss;

    const socket = cleanup.socket(connect(port));
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
    for (let same = 0, i = 0; same < 3 && i < 100; i++) {
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
    assert.equal(received, receivedAtPause, 'no data while paused');

    const resumedAt = Date.now();
    socket.resume();
    await ended;
    const readMs = Date.now() - resumedAt;
    const flushed = await request(sender, { cmd: 'stats' });
    const result = {
      bytes,
      rssBaseline,
      rssPaused,
      readerBuffered,
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
    socket.destroy();
    return result;
  }

  function checkPaused(label, r) {
    console.log(`      ${label}: reader RSS ${mib(r.rssBaseline)} -> ${mib(r.rssPaused)} while paused ` +
      `(${signedMib(r.rssPaused - r.rssBaseline)}), reader buffered ${kib(r.readerBuffered)}; ` +
      `sender writableLength ${mib(r.senderQueued)} of ${mib(r.bytes)} (${mib(r.senderFlushed)} left it), ` +
      `'drain' while paused ${r.drainsWhilePaused}, sender RSS ${signedMib(r.senderRssGrowth)}` +
      `${r.transportQueued === null ? '' : ` (ciphertext queued on its transport ${mib(r.transportQueued)})`}; ` +
      `resumed: ${mib(r.received)} in ${r.readMs} ms, ${r.intact ? 'intact' : 'CORRUPT'}`);
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
  }

  it('our client pausing while node\'s server sends 100 MiB: bounded memory, sender held back, data intact', async () => {
    const r = await pausedReader('node', (port) =>
      ours.connect({ port, host: HOST, ca: certs.ca, servername: 'localhost' }));
    checkPaused('our client <- node\'s server', r);
  });

  it('node\'s client pausing while our server sends 100 MiB: bounded memory, sender held back, data intact', async () => {
    const r = await pausedReader('ours', (port) =>
      tls.connect({ port, host: HOST, ca: certs.ca, servername: 'localhost' }));
    checkPaused('node\'s client <- our server', r);
    // The application queued 100 MiB of plaintext without waiting for 'drain'; as node's
    // server does (its RSS grows by the same ~200 MiB in the test above), ours encrypts what
    // is queued as the transport takes writes, so it holds the plaintext and its ciphertext,
    // and no more.
    assert.ok(r.senderRssGrowth < 2 * r.bytes + 48 * MIB, `our server's RSS grew ${mib(r.senderRssGrowth)}`);
  });

  // ---- Churn: 10,000 connections and 10,000 secure contexts ----

  // The children run with a fixed young generation: V8 otherwise grows its semi-spaces
  // (to 16 MiB each) under this allocation rate, and that RSS would read as growth.
  const CHURN_V8 = ['--max-semi-space-size=2'];
  const describeSide = (label, b, a) => `${label}: RSS ${mib(b.rss)} -> ${mib(a.rss)} ` +
    `(${signedMib(a.rss - b.rss)}; V8 heap ${mib(b.heapTotal)} -> ${mib(a.heapTotal)}), ` +
    `Mbed TLS ${b.heap} -> ${a.heap} bytes`;

  it('10,000 connections opened and dropped leave memory near baseline', async function () {
    this.timeout(120000);
    const server = forkChild(cleanup, 'churn-server', [], CHURN_V8);
    const { port } = await nextMessage(server, 'listening');
    const client = forkChild(cleanup, 'churn-client', [String(port)], CHURN_V8);
    await nextMessage(client, 'ready');
    const measure = async () => {
      const [s, c] = await Promise.all([request(server, { cmd: 'measure' }), request(client, { cmd: 'measure' })]);
      return { server: s, client: c };
    };
    // A warm-up round first: lazy allocations, PSA's key slots, the heap's working size.
    await request(client, { cmd: 'connections', count: 1000, concurrency: 20 });
    const before = await measure();
    const start = Date.now();
    const run = await request(client, { cmd: 'connections', count: 10000, concurrency: 20 });
    const after = await measure();
    const elapsed = Date.now() - start;
    console.log(`      10,000 connections (20 at a time) in ${elapsed} ms: ${JSON.stringify(run.kinds)}; ` +
      `client errors ${JSON.stringify(run.errors)}; server: ${after.server.secure - before.server.secure} ` +
      `handshakes, tlsClientError ${after.server.clientErrors - before.server.clientErrors}, ` +
      `${after.server.connections} still open`);
    for (const side of ['server', 'client']) {
      console.log(`      ${describeSide(side, before[side], after[side])} (peak ${mib(after[side].heapPeak)})`);
    }
    assert.deepEqual(run.errors, {});
    assert.equal(after.server.connections, 0);
    assert.equal(after.server.secure - before.server.secure, run.kinds['echo-end'] + run.kinds['handshake-destroy']);
    for (const side of ['server', 'client']) {
      const b = before[side];
      const a = after[side];
      assert.ok(a.heap - b.heap <= 64 * 1024, `${side}: Mbed TLS holds ${a.heap - b.heap} bytes more`);
      assert.ok(a.rss - b.rss < 30 * MIB, `${side}: RSS grew ${mib(a.rss - b.rss)}`);
    }
  });

  it('10,000 secure contexts created and dropped leave memory near baseline', async function () {
    this.timeout(60000);
    const client = forkChild(cleanup, 'churn-client', ['0'], CHURN_V8);
    await nextMessage(client, 'ready');
    // Two cycles of 10,000, as the lifetime tests do: the first may leave the allocator
    // holding freed memory for reuse (fragmentation); the second must not add to it.
    await request(client, { cmd: 'contexts', count: 200 });
    const baseline = await request(client, { cmd: 'measure' });
    const first = await request(client, { cmd: 'contexts', count: 10000 });
    const afterFirst = await request(client, { cmd: 'measure' });
    const second = await request(client, { cmd: 'contexts', count: 10000 });
    const afterSecond = await request(client, { cmd: 'measure' });
    console.log(`      10,000 secure contexts in ${first.ms} ms (Mbed TLS up to ${mib(first.heapHeld)} ` +
      `while alive); ${describeSide('first cycle', baseline, afterFirst)}`);
    console.log(`      10,000 more in ${second.ms} ms; ${describeSide('second cycle', afterFirst, afterSecond)}`);
    for (const [b, a] of [[baseline, afterFirst], [afterFirst, afterSecond]]) {
      assert.ok(a.heap - b.heap <= 64 * 1024, `Mbed TLS holds ${a.heap - b.heap} bytes more`);
    }
    assert.ok(first.heapHeld > 1000 * 1024, 'the contexts held Mbed TLS memory while alive');
    assert.ok(afterFirst.rss - baseline.rss < 64 * MIB, `first cycle: RSS grew ${mib(afterFirst.rss - baseline.rss)}`);
    assert.ok(afterSecond.rss - afterFirst.rss < 30 * MIB, `second cycle: RSS grew ${mib(afterSecond.rss - afterFirst.rss)}`);
  });
});

// ---- The children ----

async function child(role, args) {
  const binding = require('../lib/binding');
  const heap = () => binding.memoryTotals();
  const gcSettle = async () => {
    for (let i = 0; i < 10; i++) {
      global.gc();
      await delay(10);
    }
  };
  const reply = (cmd, fields) => process.send({ type: `${cmd}:done`, ...fields });
  process.on('disconnect', () => process.exit(0));

  if (role === 'sender') {
    // A server that, on its first connection, writes `mib` MiB of random bytes in 1 MiB writes,
    // all at once, and ends once they drained. Reports its queue and 'drain's on request.
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
        for (let i = 0; i < 500 && await connections() > 0; i++) await delay(10);
        await gcSettle();
        const [current, peak] = heap();
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
    // CPU (Mbed TLS verifying the chain), which would make 10,000 of them take a minute.
    const KINDS = ['echo-end', 'at-connect', 'after-hello', 'at-server-flight', 'at-connect',
      'handshake-destroy', 'at-connect', 'after-hello', 'at-server-flight', 'at-connect'];
    const once1 = (socket) => new Promise((resolve) => {
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
      const outcome = once1(socket);
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
          if (alive.length === 1000) {
            heapHeld = Math.max(heapHeld, heap()[0]);
            alive = [];
            global.gc();
            await tick();
          }
        }
        alive = null;
        reply('contexts', { ms: Date.now() - start, heapHeld });
      } else if (message.cmd === 'measure') {
        await gcSettle();
        const [current, peak] = heap();
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
