'use strict';
// Interoperability with node's own TLS (OpenSSL): our client against node's server and
// node's client against our server, for each protocol version and server key type.

const tls = require('node:tls');
const ours = require('..');
const {
  assert, certs, names, listen, once, sha256, randomBytes, collect, echo, echoRoundTrip,
  useCleanup,
} = require('./helpers');

const VERSIONS = ['TLSv1.2', 'TLSv1.3'];
const KEY_TYPES = ['ecdsa', 'rsa'];
const DIRECTIONS = [
  { name: 'our client with node server', client: ours, server: tls, nodeSide: 'server' },
  { name: 'node client with our server', client: tls, server: ours, nodeSide: 'client' },
];
const MiB = 1024 * 1024;

describe('node interop', function () {
  const track = useCleanup();

  // Starts `server` (with `serverOptions`), connects `client` to it, and resolves once both
  // ends completed the handshake with { client, serverSocket, port }.
  async function pair({ client, server, serverOptions, clientOptions, onConnection }) {
    const srv = track.server(server.createServer(serverOptions));
    if (onConnection) srv.on('secureConnection', onConnection);
    const port = await listen(srv);
    const accepted = once(srv, 'secureConnection');
    const socket = track.socket(client.connect({
      port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, ...clientOptions,
    }));
    const [serverSocket] = await Promise.all([accepted, once(socket, 'secureConnect')]);
    return { client: socket, serverSocket, port, server: srv };
  }

  for (const direction of DIRECTIONS) {
    for (const version of VERSIONS) {
      for (const keyType of KEY_TYPES) {
        describe(`${direction.name}, ${version}, ${keyType.toUpperCase()} certificate`, function () {
          const pin = { minVersion: version, maxVersion: version };
          const connectPair = (onConnection) => pair({
            client: direction.client,
            server: direction.server,
            serverOptions: { ...certs[keyType], ...(direction.nodeSide === 'server' ? pin : {}) },
            clientOptions: direction.nodeSide === 'client' ? pin : {},
            onConnection,
          });
          // The node end of the connection, used as the oracle.
          const nodeEnd = (p) => (direction.nodeSide === 'server' ? p.serverSocket : p.client);
          const ourEnd = (p) => (direction.nodeSide === 'server' ? p.client : p.serverSocket);

          it(`getProtocol() is ${version} on both ends`, async function () {
            const p = await connectPair();
            assert.equal(p.client.getProtocol(), version);
            assert.equal(p.serverSocket.getProtocol(), version);
          });

          it('client is authorized', async function () {
            const p = await connectPair();
            assert.equal(p.client.authorized, true);
          });

          it('both ends are encrypted', async function () {
            const p = await connectPair();
            assert.equal(p.client.encrypted, true);
            assert.equal(p.serverSocket.encrypted, true);
          });

          it('getCipher() name and standardName match the node peer', async function () {
            const p = await connectPair();
            const mine = ourEnd(p).getCipher();
            const theirs = nodeEnd(p).getCipher();
            assert.equal(typeof mine.name, 'string');
            assert.equal(typeof mine.standardName, 'string');
            assert.equal(mine.name, theirs.name);
            assert.equal(mine.standardName, theirs.standardName);
          });

          it('getCipher().version matches the node peer', async function () {
            const p = await connectPair();
            const mine = ourEnd(p).getCipher();
            assert.equal(typeof mine.version, 'string');
            assert.equal(mine.version, nodeEnd(p).getCipher().version);
          });

          it('carries 5 MiB from client to server intact', async function () {
            const payload = randomBytes(5 * MiB);
            const p = await connectPair();
            const received = collect(p.serverSocket);
            const closed = once(p.client, 'close');
            p.client.resume();
            p.client.end(payload);
            assert.equal(sha256(await received), sha256(payload));
            await closed;
          });

          it('carries 5 MiB from server to client intact', async function () {
            const payload = randomBytes(5 * MiB);
            const p = await connectPair();
            const received = collect(p.client);
            const closed = once(p.serverSocket, 'close');
            p.serverSocket.resume();
            p.serverSocket.end(payload);
            assert.equal(sha256(await received), sha256(payload));
            await closed;
          });
        });
      }
    }
  }

  describe('100 concurrent echo connections of 16 KiB', function () {
    // 100 handshakes in one process: ~1.5 s here, 10 s for a sanitizer build on a busy
    // machine, which the default 20 s leaves too little room.
    this.timeout(120000);
    for (const direction of DIRECTIONS) {
      it(`all echo intact (${direction.name})`, async function () {
        const srv = track.server(direction.server.createServer(certs.ecdsa, echo));
        const port = await listen(srv);
        const results = await Promise.all(Array.from({ length: 100 }, async () => {
          const payload = randomBytes(16 * 1024);
          const socket = track.socket(direction.client.connect({
            port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca,
          }));
          await once(socket, 'secureConnect');
          const echoed = await echoRoundTrip(socket, payload);
          return sha256(echoed) === sha256(payload);
        }));
        assert.equal(results.filter(Boolean).length, 100);
      });
    }
  });

  describe('getPeerCertificate() on our client', function () {
    const ourPair = () => pair({ client: ours, server: tls, serverOptions: certs.ecdsa });

    // What node's own client reports for the same server.
    async function nodePeerCertificate(port) {
      const socket = track.socket(tls.connect({
        port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca,
      }));
      await once(socket, 'secureConnect');
      const cert = socket.getPeerCertificate(true);
      socket.destroy();
      return cert;
    }

    it('subject.CN is localhost', async function () {
      const p = await ourPair();
      assert.equal(p.client.getPeerCertificate().subject.CN, names.server);
    });

    it('subjectaltname contains DNS:localhost', async function () {
      const p = await ourPair();
      const san = p.client.getPeerCertificate().subjectaltname;
      assert.equal(typeof san, 'string');
      assert.ok(san.split(', ').includes('DNS:localhost'), san);
    });

    it('fingerprint256 equals the one node reports', async function () {
      const p = await ourPair();
      const theirs = await nodePeerCertificate(p.port);
      assert.equal(p.client.getPeerCertificate().fingerprint256, theirs.fingerprint256);
    });

    it('raw is a Buffer holding the DER node reports', async function () {
      const p = await ourPair();
      const theirs = await nodePeerCertificate(p.port);
      const { raw } = p.client.getPeerCertificate();
      assert.ok(Buffer.isBuffer(raw));
      assert.deepEqual(raw, theirs.raw);
    });

    it('getPeerCertificate(true).issuerCertificate is the intermediate', async function () {
      const p = await ourPair();
      const cert = p.client.getPeerCertificate(true);
      assert.equal(cert.issuerCertificate.subject.CN, names.intermediate);
    });
  });

  describe('socket addresses', function () {
    it('our client reports remoteAddress, remotePort, localPort and address()', async function () {
      const p = await pair({ client: ours, server: tls, serverOptions: certs.ecdsa });
      assert.equal(p.client.remoteAddress, '127.0.0.1');
      assert.equal(p.client.remoteFamily, 'IPv4');
      assert.equal(p.client.remotePort, p.port);
      assert.equal(p.client.localPort, p.serverSocket.remotePort);
      assert.deepEqual(p.client.address(), { address: '127.0.0.1', family: 'IPv4', port: p.client.localPort });
    });

    it('our server socket reports remoteAddress, remotePort, localPort and address()', async function () {
      const p = await pair({ client: tls, server: ours, serverOptions: certs.ecdsa });
      assert.equal(p.serverSocket.remoteAddress, '127.0.0.1');
      assert.equal(p.serverSocket.remoteFamily, 'IPv4');
      assert.equal(p.serverSocket.remotePort, p.client.localPort);
      assert.equal(p.serverSocket.localPort, p.port);
      assert.deepEqual(p.serverSocket.address(), { address: '127.0.0.1', family: 'IPv4', port: p.port });
    });
  });

  describe('end()', function () {
    for (const direction of DIRECTIONS) {
      for (const ender of ['client', 'serverSocket']) {
        const other = ender === 'client' ? 'serverSocket' : 'client';
        it(`${ender === 'client' ? 'client' : 'server'} end() gives 'end' on the peer and both close (${direction.name})`, async function () {
          const p = await pair({ client: direction.client, server: direction.server, serverOptions: certs.ecdsa });
          const peerEnded = once(p[other], 'end');
          const closes = [once(p.client, 'close'), once(p.serverSocket, 'close')];
          p.client.resume();
          p.serverSocket.resume();
          p[ender].end();
          await peerEnded;
          await Promise.all(closes);
        });
      }
    }
  });

  describe('our server', function () {
    it("emits 'secureConnection' with an encrypted socket", async function () {
      const srv = track.server(ours.createServer(certs.ecdsa));
      const port = await listen(srv);
      const accepted = once(srv, 'secureConnection');
      const client = track.socket(tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca }));
      const [socket] = await Promise.all([accepted, once(client, 'secureConnect')]);
      assert.equal(socket.encrypted, true);
    });

    it('passes the connection listener the secure socket', async function () {
      let fromListener;
      const srv = track.server(ours.createServer(certs.ecdsa, (s) => { fromListener = s; }));
      const port = await listen(srv);
      const accepted = once(srv, 'secureConnection');
      track.socket(tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca }));
      const socket = await accepted;
      assert.equal(fromListener, socket);
    });
  });

  describe('connect() overloads', function () {
    it("connect(port, host, options, cb) runs cb on 'secureConnect'", async function () {
      const srv = track.server(tls.createServer(certs.ecdsa));
      const port = await listen(srv);
      let calls = 0;
      let state;
      const socket = track.socket(ours.connect(port, '127.0.0.1', { servername: 'localhost', ca: certs.ca }, function () {
        calls += 1;
        state = { self: this, authorized: socket.authorized, protocol: socket.getProtocol() };
      }));
      await once(socket, 'secureConnect');
      assert.equal(calls, 1);
      assert.equal(state.self, socket);
      assert.equal(state.authorized, true);
      assert.ok(VERSIONS.includes(state.protocol), String(state.protocol));
    });

    it('connect(port, host, options, cb) connects to the given port and host', async function () {
      const srv = track.server(tls.createServer(certs.ecdsa));
      const port = await listen(srv);
      const socket = track.socket(ours.connect(port, '127.0.0.1', { servername: 'localhost', ca: certs.ca }, () => {}));
      await once(socket, 'secureConnect');
      assert.equal(socket.remotePort, port);
      assert.equal(socket.remoteAddress, '127.0.0.1');
    });
  });
});
