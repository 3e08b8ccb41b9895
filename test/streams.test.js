'use strict';
// Stream semantics: close_notify versus a bare FIN, backpressure both ways, and one write
// per handshake flight.

const net = require('node:net');
const tls = require('node:tls');
const ours = require('..');
const { kTransport } = require('../lib/socket');
const { assert, certs, listen, once, sha256, randomBytes, useCleanup } = require('./helpers');

describe('end of stream', () => {
  const cleanup = useCleanup();

  async function endedBy(serverSide) {
    const srv = cleanup.server(ours.createServer(certs.ecdsa, (s) => {
      s.on('error', () => {});
      s.write('partial', () => serverSide(s));
    }));
    const port = await listen(srv);
    const socket = cleanup.socket(ours.connect({ port, host: '127.0.0.1', ca: certs.ca }));
    let data = '';
    socket.on('data', (d) => { data += d; });
    await once(socket, 'end');
    return { data, closeNotify: socket.closeNotifyReceived };
  }

  it('reports close_notify when the peer ends properly', async () => {
    const r = await endedBy((s) => s.end());
    assert.equal(r.data, 'partial');
    assert.equal(r.closeNotify, true);
  });

  it('still ends on a FIN without close_notify, and says so', async () => {
    // The server's TCP connection ends under its TLS session: a truncation.
    const r = await endedBy((s) => s[kTransport].end());
    assert.equal(r.data, 'partial');
    assert.equal(r.closeNotify, false);
  });

  // (Not ended inside 'secureConnection': node's TLS 1.3 server then sends a bare FIN after
  // its session tickets, which openssl s_client reports as an unexpected EOF too.)
  it('reports close_notify from node\'s server, which sends it on end()', async () => {
    const srv = cleanup.server(tls.createServer(certs.ecdsa, (s) => s.once('data', () => s.end('bye'))));
    const port = await listen(srv);
    const socket = cleanup.socket(ours.connect({ port, host: '127.0.0.1', ca: certs.ca }, () => socket.write('hi')));
    socket.resume();
    await once(socket, 'end');
    assert.equal(socket.closeNotifyReceived, true);
  });
});

describe('backpressure', () => {
  const cleanup = useCleanup();

  it('stops reading the transport while the application does not read', async () => {
    const payload = randomBytes(16 << 20);
    let serverSocket;
    let drained = false;
    const srv = cleanup.server(tls.createServer(certs.ecdsa, (s) => {
      serverSocket = s;
      s.on('error', () => {});
      if (!s.write(payload)) s.once('drain', () => { drained = true; });
      s.end();
    }));
    const port = await listen(srv);
    const socket = cleanup.socket(ours.connect({ port, host: '127.0.0.1', ca: certs.ca }));
    socket.pause();
    await once(socket, 'secureConnect');
    await new Promise((r) => setTimeout(r, 300));
    // The client held back: the sender still has most of the payload queued, and our
    // socket buffered no more than its stream buffer plus a few chunks.
    assert.equal(drained, false);
    assert.ok(serverSocket.writableLength > 8 << 20, `sender queue ${serverSocket.writableLength}`);
    assert.ok(socket.readableLength < 1 << 20, `reader buffer ${socket.readableLength}`);
    const chunks = [];
    socket.on('data', (d) => chunks.push(d));
    socket.resume();
    await once(socket, 'end');
    assert.equal(sha256(Buffer.concat(chunks)), sha256(payload));
  });

  it('calls write callbacks and drains as the transport takes the ciphertext', async () => {
    // A server that does not read: our writes must back up and 'drain' only later.
    const srv = cleanup.server(tls.createServer(certs.ecdsa, (s) => s.pause()));
    const port = await listen(srv);
    const accepted = once(srv, 'secureConnection');
    const socket = cleanup.socket(ours.connect({ port, host: '127.0.0.1', ca: certs.ca }));
    const serverSocket = await accepted;
    // 64 MiB: far more than the loopback connection's kernel buffers hold.
    const chunk = randomBytes(1 << 20);
    const writes = 64;
    let callbacks = 0;
    for (let i = 0; i < writes; i++) socket.write(chunk, () => { callbacks++; });
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(callbacks < writes, `${callbacks} of ${writes} callbacks while the peer reads nothing`);
    assert.ok(socket.writableLength > 16 << 20, `queued ${socket.writableLength}`);
    const drained = once(socket, 'drain');
    serverSocket.resume();
    await drained;
    assert.equal(callbacks, writes);
  });
});

describe('handshake flights', () => {
  const cleanup = useCleanup();

  it('go to the transport one write per flight', async () => {
    const writes = [];
    const srv = cleanup.server(tls.createServer(certs.ecdsa));
    const port = await listen(srv);
    const transport = net.connect(port, '127.0.0.1');
    const write = transport.write.bind(transport);
    transport.write = (data, ...rest) => { writes.push(data.length); return write(data, ...rest); };
    const socket = cleanup.socket(ours.connect({ socket: transport, host: 'localhost', ca: certs.ca }));
    await once(socket, 'secureConnect');
    // TLS 1.3 client: ClientHello, then ChangeCipherSpec + Finished as one write.
    assert.equal(writes.length, 2, `writes: ${writes}`);
  });
});

describe('after destroy()', () => {
  const cleanup = useCleanup();

  it('the TLS getters answer as node\'s do', async () => {
    async function gettersAfterDestroy(lib) {
      const srv = cleanup.server(tls.createServer(certs.ecdsa));
      const port = await listen(srv);
      const socket = cleanup.socket(lib.connect({ port, host: '127.0.0.1', ca: certs.ca }));
      await once(socket, 'secureConnect');
      socket.destroy();
      return {
        cipher: socket.getCipher(),
        protocol: socket.getProtocol(),
        peer: socket.getPeerCertificate(),
        own: socket.getCertificate(),
      };
    }
    assert.deepEqual(await gettersAfterDestroy(ours), await gettersAfterDestroy(tls));
  });
});

describe('setMaxSendFragment()', () => {
  const cleanup = useCleanup();

  // Sends `size` bytes after capping the fragment at `fragment`; returns the lengths of the
  // application data records that went to the transport, and what node's server received.
  async function send(fragment, size) {
    const server = cleanup.server(tls.createServer(certs.ecdsa));
    const received = new Promise((resolve) => server.on('secureConnection', (s) => {
      const chunks = [];
      s.on('data', (d) => chunks.push(d));
      s.on('end', () => { resolve(Buffer.concat(chunks)); s.end(); });
    }));
    const port = await listen(server);
    const transport = net.connect(port, '127.0.0.1');
    const written = [];
    const write = transport.write.bind(transport);
    transport.write = (data, ...rest) => { written.push(Buffer.from(data)); return write(data, ...rest); };
    const socket = cleanup.socket(ours.connect({ socket: transport, host: 'localhost', ca: certs.ca }));
    await once(socket, 'secureConnect');
    const accepted = socket.setMaxSendFragment(fragment);
    const before = written.length;
    const payload = randomBytes(size);
    socket.end(payload);
    const data = await received;
    const bytes = Buffer.concat(written.slice(before));
    const records = [];
    for (let i = 0; i + 5 <= bytes.length; i += 5 + bytes.readUInt16BE(i + 3)) {
      records.push(bytes.readUInt16BE(i + 3));
    }
    return { accepted, records, intact: sha256(data) === sha256(payload) };
  }

  it('caps every record we send, and the peer gets the data intact', async () => {
    const capped = await send(512, 20000);
    assert.equal(capped.accepted, true);
    assert.equal(capped.intact, true);
    assert.ok(capped.records.length >= 40, `${capped.records.length} records`);
    // 512 bytes of plaintext plus the record's own overhead (type, tag, padding).
    assert.ok(Math.max(...capped.records) <= 512 + 64, `largest ${Math.max(...capped.records)}`);
    const uncapped = await send(16384, 20000);
    assert.ok(Math.max(...uncapped.records) > 16384, 'a full-size record by default');
  });

  it('takes and refuses the sizes node does', async () => {
    const server = cleanup.server(tls.createServer(certs.ecdsa));
    const port = await listen(server);
    const answers = async (lib) => {
      const socket = cleanup.socket(lib.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca }));
      await once(socket, 'secureConnect');
      const result = [511, 512, 16384, 16385, -1].map((n) => socket.setMaxSendFragment(n));
      assert.throws(() => socket.setMaxSendFragment('x'), { code: 'ERR_INVALID_ARG_TYPE' });
      return result;
    };
    assert.deepEqual(await answers(ours), await answers(tls));
  });
});

describe('memory reporting', () => {
  const cleanup = useCleanup();

  it('per socket shows the handshake peak above what the connection keeps, within the process total', async () => {
    const server = cleanup.server(tls.createServer(certs.ecdsa));
    const port = await listen(server);
    const socket = cleanup.socket(ours.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca }));
    await once(socket, 'secureConnect');
    const mine = socket.memoryUsage();
    const total = ours.mbedtlsMemoryUsage();
    assert.ok(mine.current >= 2 * 16384, `current ${mine.current}`);
    assert.ok(mine.peak > mine.current, `peak ${mine.peak} vs current ${mine.current}`);
    assert.ok(total.current >= mine.current && total.peak >= total.current);
  });
});
