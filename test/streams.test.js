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
