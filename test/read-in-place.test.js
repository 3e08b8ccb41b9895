'use strict';
// The read path: on a net.Socket only we read, records are decrypted over the Buffer the
// socket read them into (Session#feedInPlace, mst_session_feed_in_place), so the
// plaintext handed on is a view of that Buffer: no Buffer and no copy of its own. A
// transport someone else also reads, or a Duplex of the application's, keeps its bytes.

const net = require('node:net');
const tls = require('node:tls');
const { PassThrough, Duplex } = require('node:stream');
const ours = require('..');
const { assert, certs, listen, once, randomBytes, sha256, useCleanup } = require('./helpers');

// Watches a socket's feedInPlace calls from now on: how many, and the memory of the chunks.
function watchFeedInPlace(socket, seen = { calls: 0, memory: new Set() }) {
  const kSession = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'session');
  const session = socket[kSession];
  const feedInPlace = session.feedInPlace;
  Object.defineProperty(session, 'feedInPlace', {
    value(chunk) {
      seen.calls++;
      seen.memory.add(chunk.buffer);
      return feedInPlace.call(this, chunk);
    },
  });
  return seen;
}

// Every byte the stream emits, with how many of them were views of memory in `memory`.
function collectViews(stream, memory) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let inPlace = 0;
    stream.on('data', (chunk) => {
      if (memory.has(chunk.buffer)) inPlace += chunk.length;
      chunks.push(Buffer.from(chunk));
    });
    stream.once('end', () => resolve({ data: Buffer.concat(chunks), inPlace }));
    stream.once('error', reject);
  });
}

// The TLS records in a byte stream: [{ type, version, length }], and what is left over.
function parseRecords(bytes) {
  const records = [];
  let at = 0;
  while (at + 5 <= bytes.length) {
    const length = bytes.readUInt16BE(at + 3);
    if (at + 5 + length > bytes.length) break;
    records.push({ type: bytes[at], version: bytes.readUInt16BE(at + 1), length });
    at += 5 + length;
  }
  return { records, rest: bytes.length - at };
}

describe('the read path: records decrypted in place', function () {
  this.timeout(60000);
  const cleanup = useCleanup();
  const SIZE = 3 * 1024 * 1024 + 12345;

  for (const version of ['TLSv1.3', 'TLSv1.2']) {
    it(`hands on views of the socket's reads, every byte intact (${version}, client, node's server)`, async () => {
      const payload = randomBytes(SIZE);
      const server = cleanup.server(tls.createServer({ ...certs.ecdsa, minVersion: version, maxVersion: version },
        (socket) => {
          // Writes of many sizes: records from a byte to 2^14, cut anywhere by the reads.
          for (let at = 0; at < payload.length;) {
            const n = Math.min(payload.length - at, [1, 700, 16384, 70000, 200000][at % 5]);
            socket.write(payload.subarray(at, at + n));
            at += n;
          }
          socket.end();
        }));
      const client = cleanup.socket(ours.connect({
        port: await listen(server), host: '127.0.0.1', servername: 'localhost', ca: certs.ca,
        minVersion: version, maxVersion: version,
      }));
      const seen = watchFeedInPlace(client);
      const { data, inPlace } = await collectViews(client, seen.memory);
      assert.equal(data.length, payload.length);
      assert.equal(sha256(data), sha256(payload));
      assert.ok(seen.calls > 0, 'feedInPlace was not used');
      // Most bytes arrive as views of the reads (the rest: records cut by a read's end).
      assert.ok(inPlace > payload.length / 2, `${inPlace} of ${payload.length} bytes in place`);
    });
  }

  // node's client sends `payload` to our server, whose accepted sockets `tap` may also read;
  // resolves with what the server read ({ data, inPlace }) and its feedInPlace calls (seen).
  async function sendToOurServer(payload, tap) {
    let result = null;
    let seen = null;
    const server = cleanup.server(ours.createServer(certs.ecdsa, (socket) => {
      seen = watchFeedInPlace(socket);
      result = collectViews(socket, seen.memory);
      socket.on('end', () => socket.end());
    }));
    if (tap) server.prependListener('connection', tap);
    const client = cleanup.socket(tls.connect({
      port: await listen(server), host: '127.0.0.1', servername: 'localhost', ca: certs.ca,
    }));
    await once(client, 'secureConnect');
    client.end(payload);
    await once(client, 'close');
    return { ...(await result), seen };
  }

  it("does the same on a server's accepted sockets (node's client)", async () => {
    const payload = randomBytes(SIZE);
    const { data, inPlace } = await sendToOurServer(payload);
    assert.equal(sha256(data), sha256(payload));
    assert.ok(inPlace > payload.length / 2, `${inPlace} of ${payload.length} bytes in place`);
  });

  // Taps on the accepted socket: each takes the very chunks 'data' hands ours.
  const taps = {
    "a 'data' listener": (socket, raw) => socket.on('data', (chunk) => raw.push(chunk)),
    // read() returns the chunk the socket then emits as 'data', as in an async iterator.
    "a 'readable' listener reading with read()": (socket, raw) => socket.on('readable', () => {
      for (let chunk; (chunk = socket.read()) !== null;) raw.push(chunk);
    }),
  };
  for (const [name, tap] of Object.entries(taps)) {
    it(`leaves the reads alone when something else reads the socket too (${name}): it sees the records as sent`, async () => {
      const payload = randomBytes(SIZE);
      const raw = [];
      const { data, inPlace, seen } = await sendToOurServer(payload, (socket) => tap(socket, raw));
      assert.equal(sha256(data), sha256(payload));
      assert.equal(inPlace, 0);
      assert.equal(seen.calls, 0);
      // The tap's chunks, read after the whole exchange, still parse as the client's records:
      // nothing was decrypted over them.
      const { records, rest } = parseRecords(Buffer.concat(raw));
      assert.equal(rest, 0);
      assert.ok(records.every((r) => [0x0301, 0x0303].includes(r.version) && [20, 21, 22, 23].includes(r.type)));
      const appData = records.filter((r) => r.type === 23).reduce((n, r) => n + r.length, 0);
      assert.ok(appData > payload.length, `${appData} bytes of application data records`);
    });
  }

  it('gives a little plaintext at the end of a big read a Buffer of its own, not a view holding the read', async () => {
    // The relay cuts the server's 2^14-byte record: 1000 bytes of it, then the rest together
    // with the 100-byte record after it, in one write: one read of about 15.5 KB whose only
    // plaintext in place is the 100 bytes.
    const big = randomBytes(16384);
    const small = randomBytes(100);
    // TLS 1.2: no tickets after the handshake come between the two records.
    const server = cleanup.server(tls.createServer({ ...certs.ecdsa, maxVersion: 'TLSv1.2' }, (socket) => {
      socket.write(big, () => setTimeout(() => socket.end(small), 100));
    }));
    const serverPort = await listen(server);
    const relay = cleanup.server(net.createServer((down) => {
      const up = cleanup.socket(net.connect(serverPort, '127.0.0.1'));
      down.pipe(up);
      let pending = Buffer.alloc(0);
      let held = null;
      up.on('data', (data) => {
        pending = Buffer.concat([pending, data]);
        while (pending.length >= 5 && pending.length >= 5 + pending.readUInt16BE(3)) {
          const record = pending.subarray(0, 5 + pending.readUInt16BE(3));
          pending = pending.subarray(record.length);
          if (record.length > 10000) {
            down.write(record.subarray(0, 1000));
            held = record.subarray(1000);
          } else if (held) {
            down.write(Buffer.concat([held, record]));
            held = null;
          } else {
            down.write(record);
          }
        }
      });
      up.on('end', () => down.end());
    }));
    const client = cleanup.socket(ours.connect({
      port: await listen(relay), host: '127.0.0.1', servername: 'localhost', ca: certs.ca,
    }));
    const chunks = [];
    client.on('data', (chunk) => chunks.push(chunk));
    await once(client, 'end');
    assert.equal(sha256(Buffer.concat(chunks)), sha256(Buffer.concat([big, small])));
    const last = chunks[chunks.length - 1];
    assert.equal(last.length, 100);
    assert.ok(last.buffer.byteLength < 10000, `100 bytes holding a ${last.buffer.byteLength}-byte read`);
  });

  it("leaves an application's Duplex alone (a socket: option that is not a net.Socket)", async () => {
    const payload = randomBytes(256 * 1024);
    const server = cleanup.server(tls.createServer(certs.ecdsa, (socket) => socket.end(payload)));
    const tcp = net.connect(await listen(server), '127.0.0.1');
    await once(tcp, 'connect');
    // The application's own Duplex over the TCP socket; it keeps every chunk it passes on.
    const kept = [];
    const toServer = new PassThrough();
    toServer.pipe(tcp);
    const duplex = new Duplex({
      read() {},
      write(chunk, encoding, callback) { toServer.write(chunk, callback); },
    });
    tcp.on('data', (chunk) => { kept.push(chunk); duplex.push(chunk); });
    tcp.on('end', () => duplex.push(null));
    const client = cleanup.socket(ours.connect({ socket: duplex, servername: 'localhost', ca: certs.ca }));
    const seen = watchFeedInPlace(client);
    const { data, inPlace } = await collectViews(client, seen.memory);
    assert.equal(sha256(data), sha256(payload));
    assert.equal(inPlace, 0);
    assert.equal(seen.calls, 0);
    const { rest } = parseRecords(Buffer.concat(kept));
    assert.equal(rest, 0);
  });
});
