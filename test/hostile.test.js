'use strict';
// Hostile peers against our server and our client: garbage, silence, half a hello, records
// cut into 1-byte TCP segments, oversized records, a bad content type, a truncated flight,
// TCP resets at each stage of the handshake, and 300 abrupt disconnects in a row
// (the scenario of load-scenarios.js; `npm run load` runs it with 5,000). The hostile side is
// a raw net socket, or a relay between two real peers that tampers with the records it
// forwards. After each case the server still serves a normal client.
//
// Timings: each wait for what should take milliseconds allows PATIENCE (a sanitizer build on
// a busy machine is tens of times slower); the only duration asserted is handshakeTimeout's.

const events = require('node:events');
const net = require('node:net');
const tls = require('node:tls');
const ours = require('..');
const { kTransport } = require('../lib/socket');
const { assert, certs, listen, once, readBytes, sha256, randomBytes, useCleanup } = require('./helpers');
const scenarios = require('./load-scenarios');

const HOST = '127.0.0.1';
const delay = (ms) => new Promise((r) => setTimeout(r, ms));
const tick = () => new Promise((r) => setImmediate(r));

// ---- TLS records by hand: type(1) version(2) length(2) body ----

const CHANGE_CIPHER_SPEC = 0x14;
const HANDSHAKE = 0x16;
const APPLICATION_DATA = 0x17;

function record(type, body, version = 0x0303) {
  const header = Buffer.alloc(5);
  header[0] = type;
  header.writeUInt16BE(version, 1);
  header.writeUInt16BE(body.length, 3);
  return Buffer.concat([header, body]);
}

// Cuts a byte stream into whole records (header + body), whatever the TCP segmentation.
class RecordReader {
  constructor() { this.buffer = Buffer.alloc(0); }

  push(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const records = [];
    while (this.buffer.length >= 5) {
      const length = 5 + this.buffer.readUInt16BE(3);
      if (this.buffer.length < length) break;
      records.push(this.buffer.subarray(0, length));
      this.buffer = this.buffer.subarray(length);
    }
    return records;
  }
}

// A header announcing 0x4801 bytes: more than TLS allows in any record (2^14 + 2048 for a
// TLS 1.2 ciphertext, 2^14 + 256 for TLS 1.3), followed by that many bytes.
const OVERSIZED_LENGTH = 0x4801;
const oversizedRecord = (type) => record(type, Buffer.alloc(OVERSIZED_LENGTH, 0x41));
// A record of an unassigned content type (0x63), with a plausible 16-byte body.
const badTypeRecord = () => record(0x63, Buffer.alloc(16, 0x42));

// node's client's first flight: one record holding its ClientHello.
let clientHelloCache = null;
async function clientHello() {
  if (clientHelloCache) return clientHelloCache;
  const capture = net.createServer();
  const port = await listen(capture);
  clientHelloCache = await new Promise((resolve) => {
    capture.once('connection', (socket) => {
      const reader = new RecordReader();
      socket.on('data', (chunk) => {
        const [first] = reader.push(chunk);
        if (first) {
          socket.destroy();
          resolve(Buffer.from(first));
        }
      });
    });
    const client = tls.connect({ port, host: HOST, rejectUnauthorized: false });
    client.on('error', () => {});
  });
  capture.close();
  assert.equal(clientHelloCache[0], HANDSHAKE);
  assert.equal(clientHelloCache[5], 1, 'handshake type client_hello');
  return clientHelloCache;
}

// ---- Peers ----

// Resolves with { err, socket } of the server's next 'tlsClientError'.
async function nextClientError(server) {
  const [err, socket] = await events.once(server, 'tlsClientError');
  return { err, socket };
}

// An oversized record has record_overflow semantics (RFC 8446 5.1, RFC 5246 6.2.3): node
// names it ERR_SSL_PACKET_LENGTH_TOO_LONG / ERR_SSL_DATA_LENGTH_TOO_LONG and sends a
// record_overflow alert; Mbed TLS's name for a record it cannot take is SSL_INVALID_RECORD
// (the README's hint for -0x7200 says as much). Not SSL_BAD_INPUT_DATA: that is Mbed TLS's
// "bad input parameters to function", an API misuse.
const RECORD_OVERFLOW_CODES = /RECORD_OVERFLOW|LENGTH_TOO_LONG|^ERR_MBEDTLS_SSL_INVALID_RECORD$/;
function assertRecordOverflow(err, context) {
  assert.match(err.code, RECORD_OVERFLOW_CODES,
    `${context}: ${err.code} (${err.mbedtlsHex}, ${err.message}) does not name a record overflow`);
}

// A record that is not TLS (its content type): Mbed TLS refuses it as an invalid record.
function assertInvalidRecord(err, what) {
  assert.equal(err.code, 'ERR_MBEDTLS_SSL_INVALID_RECORD', `${what}: ${err.code}`);
}

// Records sent once the handshake is through, to our server and to our client alike.
const AFTER_HANDSHAKE_TAMPERS = [
  ['an oversized record (0x4801 bytes)', () => oversizedRecord(APPLICATION_DATA), assertRecordOverflow],
  ['a record of content type 0x63', () => badTypeRecord(), assertInvalidRecord],
];

function assertCoded(err, context) {
  assert.ok(err instanceof Error, `${context}: not an Error: ${err}`);
  assert.equal(typeof err.code, 'string', `${context}: no code on ${err.stack}`);
  assert.match(err.code, /^(ERR_[A-Z0-9_]+|E[A-Z]+)$/, `${context}: code ${err.code}`);
  assert.notEqual(err.code, 'ERR_MBEDTLS', `${context}: unnamed Mbed TLS error ${err.message}`);
}

// Resolves once the stream has emitted 'close' (at once when it already has); unlike
// events.once, an 'error' before it does not reject.
function closed(stream) {
  if (stream.closed) return Promise.resolve();
  return new Promise((resolve) => stream.once('close', resolve));
}

// How long to wait for an event that should come within milliseconds before failing with
// its name (rather than at mocha's timeout, with none).
const PATIENCE = 30000;

function withTimeout(promise, what) {
  const ms = PATIENCE;
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms); }),
  ]);
}

// A raw TCP client; `received` collects whatever the server sends.
function rawClient(cleanup, port) {
  const socket = cleanup.socket(net.connect({ port, host: HOST }));
  socket.received = [];
  socket.on('data', (d) => socket.received.push(d));
  socket.on('error', () => {});
  socket.setNoDelay(true);
  return socket;
}

// A full handshake and an echo round trip, with our client and with node's.
const assertServes = (cleanup, port) => scenarios.assertServes(cleanup, port, [ours, tls]);

// Our client still completes a handshake and an echo against a normal server.
async function assertClientWorks(cleanup) {
  const server = cleanup.server(tls.createServer(certs.ecdsa, (s) => s.pipe(s)));
  const port = await listen(server);
  const socket = cleanup.socket(ours.connect({ port, host: HOST, ca: certs.ca, servername: 'localhost' }));
  await once(socket, 'secureConnect');
  const payload = randomBytes(4096);
  const echoed = readBytes(socket, payload.length);
  socket.write(payload);
  assert.equal(sha256(await echoed), sha256(payload));
  socket.destroy();
}

// Our server with an echo handler; errors of established sockets are kept for inspection.
async function ourServer(cleanup, options = {}) {
  const server = cleanup.server(ours.createServer({ ...certs.ecdsa, ...options }, (s) => {
    s.on('error', (err) => { server.socketErrors.push(err); });
    s.pipe(s);
  }));
  server.socketErrors = [];
  server.clientErrors = [];
  server.on('tlsClientError', (err) => server.clientErrors.push(err));
  const port = await listen(server);
  return { server, port };
}

// node's server with an echo handler.
async function nodeServer(cleanup) {
  const server = cleanup.server(tls.createServer(certs.ecdsa, (s) => {
    s.on('error', (err) => { server.socketErrors.push(err); });
    s.pipe(s);
  }));
  server.socketErrors = [];
  server.on('tlsClientError', () => {});
  const port = await listen(server);
  return { server, port };
}

// A TCP relay in front of 127.0.0.1:target. Each accepted connection gets its own upstream
// connection; what flows each way is cut into whole records and handed to
// onRecord(direction, record, pair) ('c2s' client to server, 's2c' server to client), which
// forwards it with pair.send(direction, bytes) or does something else. Without onRecord
// every record is forwarded. With split: true, bytes leave one per TCP segment
// (setNoDelay, one write per byte, setImmediate in between).
async function startRelay(cleanup, target, { onRecord, split = false } = {}) {
  const pairs = [];
  const relay = cleanup.server(net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = cleanup.socket(net.connect({ port: target, host: HOST, allowHalfOpen: true }));
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('error', () => {});
    upstream.on('error', () => {});
    const pair = { client, upstream, writes: { c2s: 0, s2c: 0 } };
    const outputs = { c2s: upstream, s2c: client };
    const queues = { c2s: [], s2c: [] };
    const pumping = { c2s: false, s2c: false };
    const ended = { c2s: false, s2c: false };
    const pump = (direction) => {
      const to = outputs[direction];
      const queue = queues[direction];
      if (to.destroyed) return;
      if (queue.length === 0) {
        pumping[direction] = false;
        if (ended[direction] && !to.writableEnded) to.end();
        return;
      }
      pumping[direction] = true;
      const front = queue[0];
      to.write(front.subarray(0, 1));
      pair.writes[direction]++;
      if (front.length === 1) queue.shift();
      else queue[0] = front.subarray(1);
      setImmediate(() => pump(direction));
    };
    pair.send = (direction, bytes) => {
      const to = outputs[direction];
      if (to.destroyed || to.writableEnded) return;
      if (!split) {
        to.write(bytes);
        pair.writes[direction]++;
        return;
      }
      queues[direction].push(Buffer.from(bytes));
      if (!pumping[direction]) pump(direction);
    };
    // FIN after whatever is queued.
    pair.end = (direction) => {
      ended[direction] = true;
      if (!pumping[direction] && !outputs[direction].writableEnded) outputs[direction].end();
    };
    for (const [direction, from, to] of [['c2s', client, upstream], ['s2c', upstream, client]]) {
      const reader = new RecordReader();
      from.on('data', (chunk) => {
        for (const rec of reader.push(chunk)) {
          if (onRecord) onRecord(direction, rec, pair);
          else pair.send(direction, rec);
        }
      });
      from.on('end', () => pair.end(direction));
      from.on('close', () => {
        if (!ended[direction]) to.destroy();
      });
    }
    pairs.push(pair);
    relay.emit('pair', pair);
  }));
  const port = await listen(relay);
  return { relay, port, pairs };
}

// How a client connection ended: { secure, error, closed } once it closed.
function clientOutcome(socket) {
  const outcome = { secure: false, error: null };
  socket.once('secureConnect', () => { outcome.secure = true; });
  socket.on('error', (err) => { outcome.error = outcome.error || err; });
  return closed(socket).then(() => outcome);
}

// ---- Against our server ----

describe('hostile clients against our server', function () {
  this.timeout(120000);
  const cleanup = useCleanup();

  it('garbage instead of a ClientHello: tlsClientError with a code, connection closed', async () => {
    const { server, port } = await ourServer(cleanup);
    for (const garbage of [
      Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'),
      randomBytes(1000),
      Buffer.alloc(64, 0),
    ]) {
      const failed = nextClientError(server);
      const raw = rawClient(cleanup, port);
      raw.write(garbage);
      const { err, socket } = await withTimeout(failed, 'tlsClientError');
      assertCoded(err, 'garbage');
      await withTimeout(closed(raw), 'the server closing the connection');
      await closed(socket);
      console.log(`      garbage ${garbage.subarray(0, 8).toString('hex')}...: ${err.code}; ` +
        `server sent ${Buffer.concat(raw.received).toString('hex') || 'nothing'} then closed`);
    }
    await assertServes(cleanup, port);
  });

  for (const [name, bytes] of [
    ['sends nothing', () => null],
    ['sends half a ClientHello', async () => (await clientHello()).subarray(0, 100)],
    ['sends a ClientHello record header only', async () => (await clientHello()).subarray(0, 5)],
  ]) {
    it(`a client that ${name}: ERR_TLS_HANDSHAKE_TIMEOUT after handshakeTimeout, then closed`, async () => {
      // Long enough for the normal handshakes of assertServes() below to finish within it on
      // a slow machine.
      const HANDSHAKE_TIMEOUT = 1000;
      const { server, port } = await ourServer(cleanup, { handshakeTimeout: HANDSHAKE_TIMEOUT });
      const data = await bytes();
      const failed = nextClientError(server);
      // From before the connect: the server's timer starts later, when it accepts.
      const start = Date.now();
      const raw = rawClient(cleanup, port);
      await once(raw, 'connect');
      if (data) raw.write(data);
      const { err, socket } = await withTimeout(failed, 'tlsClientError');
      const elapsed = Date.now() - start;
      assert.equal(err.code, 'ERR_TLS_HANDSHAKE_TIMEOUT');
      // Not before the timeout; and from this timer, not the 120 s default.
      assert.ok(elapsed >= HANDSHAKE_TIMEOUT * 0.95 && elapsed < 10 * HANDSHAKE_TIMEOUT,
        `timed out after ${elapsed} ms`);
      // Unlike node's server, which only emits the event, ours also drops the client.
      await withTimeout(closed(raw), 'the server closing the timed-out connection');
      await closed(socket);
      assert.equal(socket.destroyed, true);
      await assertServes(cleanup, port);
    });
  }

  it('an oversized record (0x4801 bytes) instead of a ClientHello: record_overflow, connection closed', async () => {
    const { server, port } = await ourServer(cleanup);
    const failed = nextClientError(server);
    const raw = rawClient(cleanup, port);
    raw.write(oversizedRecord(HANDSHAKE));
    const { err } = await withTimeout(failed, 'tlsClientError');
    assertCoded(err, 'oversized record');
    await withTimeout(closed(raw), 'the server closing the connection');
    console.log(`      oversized record in the handshake: ${err.code} (${err.mbedtlsHex}); server sent ` +
      `${Buffer.concat(raw.received).toString('hex') || 'nothing'}`);
    await assertServes(cleanup, port);
    assertRecordOverflow(err, 'oversized record in the handshake');
  });

  it('a bad content type (0x63) instead of a ClientHello: a coded error, connection closed', async () => {
    const { server, port } = await ourServer(cleanup);
    const failed = nextClientError(server);
    const raw = rawClient(cleanup, port);
    raw.write(badTypeRecord());
    const { err } = await withTimeout(failed, 'tlsClientError');
    assertCoded(err, 'bad content type');
    await withTimeout(closed(raw), 'the server closing the connection');
    console.log(`      content type 0x63 in the handshake: ${err.code} (${err.mbedtlsHex})`);
    await assertServes(cleanup, port);
  });

  for (const [name, tamper, semantics] of AFTER_HANDSHAKE_TAMPERS) {
    it(`${name} after the handshake: our server fails with a code, node's client sees it end`, async () => {
      const { server, port } = await ourServer(cleanup);
      const { port: relayPort, pairs } = await startRelay(cleanup, port);
      const accepted = once(server, 'secureConnection');
      const client = cleanup.socket(tls.connect({ port: relayPort, host: HOST, ca: certs.ca, servername: 'localhost' }));
      const clientDone = clientOutcome(client);
      await once(client, 'secureConnect');
      const serverSocket = await accepted;
      // One echo first: the handshake and any tickets are through, records are at a boundary.
      const echoed = readBytes(client, 5);
      client.write('hello');
      assert.equal((await echoed).toString(), 'hello');
      const serverError = once(serverSocket, 'error');
      pairs[0].send('c2s', tamper());
      const err = await withTimeout(serverError, 'our server socket failing');
      assertCoded(err, name);
      await withTimeout(closed(serverSocket), 'our server socket closing');
      const outcome = await withTimeout(clientDone, 'node\'s client closing');
      console.log(`      ${name} after the handshake: ours ${err.code} (${err.mbedtlsHex}); ` +
        `node's client: ${outcome.error ? outcome.error.code : 'closed without error'}`);
      await assertServes(cleanup, port);
      semantics(err, `${name} after the handshake`);
    });
  }

  it('records cut into 1-byte TCP segments: node\'s client to our server, data intact', async () => {
    const { server, port } = await ourServer(cleanup);
    const { port: relayPort, pairs } = await startRelay(cleanup, port, { split: true });
    let reads = 0;
    server.once('connection', (raw) => raw.on('data', () => { reads++; }));
    const client = cleanup.socket(tls.connect({ port: relayPort, host: HOST, ca: certs.ca, servername: 'localhost' }));
    await once(client, 'secureConnect');
    const payload = randomBytes(3000);
    const echoed = readBytes(client, payload.length);
    client.write(payload);
    assert.equal(sha256(await withTimeout(echoed, 'the echo')), sha256(payload));
    const { c2s, s2c } = pairs[0].writes;
    console.log(`      1-byte segments: ${c2s} to our server, ${s2c} to node's client; ` +
      `our server read ${reads} chunks`);
    // Most bytes reached our server one read at a time.
    assert.ok(reads > c2s / 4, `our server read ${reads} chunks of ${c2s} segments`);
    client.destroy();
    await assertServes(cleanup, port);
  });

  it('a truncated Finished flight, then FIN: a coded error, connection closed', async () => {
    for (const maxVersion of ['TLSv1.3', 'TLSv1.2']) {
      const { server, port } = await ourServer(cleanup);
      // Client to server: the ClientHello goes through; of the Finished record (the first
      // encrypted one, or the first after ChangeCipherSpec) only half, then FIN.
      let afterHello = false;
      let sawCcs = false;
      let cut = false;
      const { port: relayPort } = await startRelay(cleanup, port, {
        onRecord(direction, rec, pair) {
          if (direction === 's2c' || !afterHello) {
            if (direction === 'c2s') afterHello = true;
            pair.send(direction, rec);
            return;
          }
          if (cut) return;
          const type = rec[0];
          if (type === APPLICATION_DATA || (type === HANDSHAKE && sawCcs)) {
            cut = true;
            pair.send(direction, rec.subarray(0, 5 + Math.floor((rec.length - 5) / 2)));
            pair.end(direction);
            return;
          }
          if (type === CHANGE_CIPHER_SPEC) sawCcs = true;
          pair.send(direction, rec);
        },
      });
      const failed = nextClientError(server);
      const client = cleanup.socket(tls.connect({ port: relayPort, host: HOST, ca: certs.ca, servername: 'localhost', maxVersion }));
      const clientDone = clientOutcome(client);
      const { err, socket } = await withTimeout(failed, 'tlsClientError');
      assertCoded(err, 'truncated Finished');
      assert.ok(cut, 'the relay cut the Finished record');
      await withTimeout(closed(socket), 'our server socket closing');
      client.destroy();
      await clientDone;
      console.log(`      truncated client Finished (${maxVersion}): ${err.code}`);
      await assertServes(cleanup, port);
    }
  });

  describe('TCP reset by the client', () => {
    // Each stage: what the client does before resetAndDestroy().
    const stages = [
      ['right after connect', async () => {}],
      ['right after its ClientHello', async (raw) => {
        raw.write(await clientHello());
        await tick();
      }],
      ['after the server\'s first flight', async (raw) => {
        raw.write(await clientHello());
        await withTimeout(once(raw, 'data'), 'the server\'s flight');
        await delay(20);
      }],
    ];
    for (const [name, before] of stages) {
      it(name, async () => {
        const { server, port } = await ourServer(cleanup);
        const failed = nextClientError(server);
        const accepted = once(server, 'connection');
        const raw = rawClient(cleanup, port);
        await once(raw, 'connect');
        const serverRaw = await accepted;
        await before(raw);
        raw.resetAndDestroy();
        const { err, socket } = await withTimeout(failed, 'tlsClientError');
        assertCoded(err, name);
        await withTimeout(closed(socket), 'our server socket closing');
        await withTimeout(closed(serverRaw), 'the TCP connection closing');
        console.log(`      reset ${name}: ${err.code}`);
        await assertServes(cleanup, port);
      });
    }

    it('instead of its Finished (node\'s client, through a relay)', async () => {
      const { server, port } = await ourServer(cleanup);
      let afterHello = false;
      const { port: relayPort } = await startRelay(cleanup, port, {
        onRecord(direction, rec, pair) {
          if (direction === 'c2s' && afterHello) {
            pair.upstream.resetAndDestroy();
            return;
          }
          if (direction === 'c2s') afterHello = true;
          pair.send(direction, rec);
        },
      });
      const failed = nextClientError(server);
      const client = cleanup.socket(tls.connect({ port: relayPort, host: HOST, ca: certs.ca, servername: 'localhost' }));
      const clientDone = clientOutcome(client);
      const { err, socket } = await withTimeout(failed, 'tlsClientError');
      assertCoded(err, 'reset instead of Finished');
      await withTimeout(closed(socket), 'our server socket closing');
      client.destroy();
      await clientDone;
      console.log(`      reset instead of the client's Finished: ${err.code}`);
      await assertServes(cleanup, port);
    });
  });

  const DISCONNECTS = 300;
  it(`${DISCONNECTS} abrupt disconnects in a row: each reported with a code; fds and memory back at the start`, async () => {
    const r = await scenarios.abruptDisconnects(cleanup, { count: DISCONNECTS, concurrency: 50 });
    console.log(r.summary.replace(/^/gm, '      '));
    scenarios.checkAbruptDisconnects(r);
    await assertServes(cleanup, r.port);
  });
});

// ---- Against our client ----

describe('hostile servers against our client', function () {
  this.timeout(120000);
  const cleanup = useCleanup();

  // A raw server that reads the ClientHello (whole or in part) and then runs `act(socket)`.
  async function rawServer(act, { waitForHello = true } = {}) {
    const server = cleanup.server(net.createServer((socket) => {
      socket.on('error', () => {});
      socket.setNoDelay(true);
      if (!waitForHello) {
        act(socket);
        return;
      }
      const reader = new RecordReader();
      let acted = false;
      socket.on('data', (chunk) => {
        if (!acted && reader.push(chunk).length > 0) {
          acted = true;
          act(socket);
        }
      });
    }));
    return listen(server);
  }

  async function connectOurs(port, extra = {}) {
    const socket = cleanup.socket(ours.connect({ port, host: HOST, ca: certs.ca, servername: 'localhost', ...extra }));
    const outcome = await withTimeout(clientOutcome(socket), 'our client closing');
    return { socket, outcome };
  }

  for (const [name, reply, semantics = () => {}] of [
    ['garbage', () => Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')],
    ['an oversized record (0x4801 bytes)', () => oversizedRecord(HANDSHAKE), assertRecordOverflow],
    ['a record of content type 0x63', () => badTypeRecord()],
  ]) {
    it(`${name} instead of a ServerHello: a coded error, closed`, async () => {
      const port = await rawServer((socket) => socket.write(reply()));
      const { outcome } = await connectOurs(port);
      assert.equal(outcome.secure, false);
      assertCoded(outcome.error, name);
      console.log(`      ${name} instead of a ServerHello: ${outcome.error.code} (${outcome.error.mbedtlsHex})`);
      await assertClientWorks(cleanup);
      semantics(outcome.error, `${name} instead of a ServerHello`);
    });
  }

  for (const [name, tamper, semantics] of AFTER_HANDSHAKE_TAMPERS) {
    it(`${name} after the handshake: our client fails with a code, node's server sees it end`, async () => {
      const { server, port } = await nodeServer(cleanup);
      const { port: relayPort, pairs } = await startRelay(cleanup, port);
      const accepted = once(server, 'secureConnection');
      const socket = cleanup.socket(ours.connect({ port: relayPort, host: HOST, ca: certs.ca, servername: 'localhost' }));
      const done = clientOutcome(socket);
      await once(socket, 'secureConnect');
      const serverSocket = await accepted;
      const serverClosed = closed(serverSocket);
      const echoed = readBytes(socket, 5);
      socket.write('hello');
      assert.equal((await echoed).toString(), 'hello');
      pairs[0].send('s2c', tamper());
      const outcome = await withTimeout(done, 'our client closing');
      assertCoded(outcome.error, name);
      await withTimeout(serverClosed, 'node\'s server socket closing');
      const seen = server.socketErrors.map((e) => e.code).join(', ') || 'closed without error';
      console.log(`      ${name} after the handshake: ours ${outcome.error.code} ` +
        `(${outcome.error.mbedtlsHex}); node's server: ${seen}`);
      await assertClientWorks(cleanup);
      semantics(outcome.error, `${name} after the handshake`);
    });
  }

  it('records cut into 1-byte TCP segments: our client to node\'s server, data intact', async () => {
    const { port } = await nodeServer(cleanup);
    const { port: relayPort, pairs } = await startRelay(cleanup, port, { split: true });
    const socket = cleanup.socket(ours.connect({ port: relayPort, host: HOST, ca: certs.ca, servername: 'localhost' }));
    let reads = 0;
    socket[kTransport].on('data', () => { reads++; });
    await once(socket, 'secureConnect');
    const payload = randomBytes(3000);
    const echoed = readBytes(socket, payload.length);
    socket.write(payload);
    assert.equal(sha256(await withTimeout(echoed, 'the echo')), sha256(payload));
    const { c2s, s2c } = pairs[0].writes;
    console.log(`      1-byte segments: ${c2s} to node's server, ${s2c} to our client; ` +
      `our client read ${reads} chunks`);
    assert.ok(reads > s2c / 4, `our client read ${reads} chunks of ${s2c} segments`);
    socket.destroy();
    await assertClientWorks(cleanup);
  });

  it('a truncated server flight, then FIN: a coded error, closed', async () => {
    const { port } = await nodeServer(cleanup);
    // Server to client: everything that arrives within 200 ms of the ServerHello is held,
    // then all of it but its last 10 bytes goes through, then FIN.
    let held = null;
    const { port: relayPort } = await startRelay(cleanup, port, {
      onRecord(direction, rec, pair) {
        if (direction === 'c2s') {
          pair.send(direction, rec);
          return;
        }
        if (held === null) {
          held = [];
          setTimeout(() => {
            const flight = Buffer.concat(held);
            pair.send('s2c', flight.subarray(0, flight.length - 10));
            pair.end('s2c');
          }, 200);
        }
        held.push(rec);
      },
    });
    const { outcome } = await connectOurs(relayPort);
    assert.equal(outcome.secure, false);
    assertCoded(outcome.error, 'truncated server flight');
    console.log(`      truncated server flight: ${outcome.error.code}`);
    await assertClientWorks(cleanup);
  });

  describe('TCP reset by the server', () => {
    it('on accept', async () => {
      const port = await rawServer((socket) => socket.resetAndDestroy(), { waitForHello: false });
      const { outcome } = await connectOurs(port);
      assert.equal(outcome.secure, false);
      assertCoded(outcome.error, 'reset on accept');
      console.log(`      reset on accept: ${outcome.error.code}`);
      await assertClientWorks(cleanup);
    });

    it('after the ClientHello', async () => {
      const port = await rawServer((socket) => socket.resetAndDestroy());
      const { outcome } = await connectOurs(port);
      assert.equal(outcome.secure, false);
      assertCoded(outcome.error, 'reset after ClientHello');
      console.log(`      reset after the ClientHello: ${outcome.error.code}`);
      await assertClientWorks(cleanup);
    });

    // Through a relay to node's server: forward `records` records of the server's first
    // flight, then reset the connection to our client.
    for (const [name, records] of [['after the ServerHello', 1], ['in the middle of the server\'s flight', 3]]) {
      it(name, async () => {
        const { port } = await nodeServer(cleanup);
        let forwarded = 0;
        const { port: relayPort } = await startRelay(cleanup, port, {
          onRecord(direction, rec, pair) {
            if (direction === 'c2s') {
              pair.send(direction, rec);
              return;
            }
            if (forwarded === records) return;
            pair.send(direction, rec);
            if (++forwarded === records) setTimeout(() => pair.client.resetAndDestroy(), 20);
          },
        });
        const { outcome } = await connectOurs(relayPort);
        assert.equal(outcome.secure, false);
        assertCoded(outcome.error, name);
        console.log(`      reset ${name}: ${outcome.error.code}`);
        await assertClientWorks(cleanup);
      });
    }

    it('instead of answering the client\'s Finished', async () => {
      const { port } = await nodeServer(cleanup);
      let afterHello = false;
      const { port: relayPort } = await startRelay(cleanup, port, {
        onRecord(direction, rec, pair) {
          if (direction === 'c2s' && afterHello) {
            pair.client.resetAndDestroy();
            return;
          }
          if (direction === 'c2s') afterHello = true;
          pair.send(direction, rec);
        },
      });
      // A TLS 1.3 client is done once it has sent its Finished: the reset may come before
      // or after 'secureConnect'; either way it is an error with a code.
      const { outcome } = await connectOurs(relayPort);
      assertCoded(outcome.error, 'reset after Finished');
      console.log(`      reset instead of answering the Finished: ${outcome.error.code} ` +
        `(${outcome.secure ? 'after' : 'before'} secureConnect)`);
      await assertClientWorks(cleanup);
    });
  });
});
