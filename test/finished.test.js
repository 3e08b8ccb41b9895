'use strict';
// getFinished() and getPeerFinished(): the verify_data of the Finished messages, checked
// against node:tls at the other end of the same connection (its getPeerFinished() and
// getFinished()), in TLS 1.2 and TLS 1.3, on full and resumed handshakes.

const tls = require('node:tls');
const ours = require('..');
const { assert, certs, listen, once, collect, useCleanup } = require('./helpers');

// [name, client module, server module]
const PAIRS = [
  ['our client with node server', ours, tls],
  ['node client with our server', tls, ours],
  ['our client with our server', ours, ours],
];

describe('Finished messages', function () {
  const cleanup = useCleanup();

  // A server that records both Finished messages of each connection it accepts.
  async function recordingServer(server, options = {}) {
    const seen = [];
    const srv = cleanup.server(server.createServer({ ...certs.ecdsa, ...options }, (socket) => {
      seen.push({ own: socket.getFinished(), peer: socket.getPeerFinished(), reused: socket.isSessionReused() });
      socket.end('x');
    }));
    return { port: await listen(srv), seen };
  }

  // Connects, reads to the end; resolves with both Finished messages the client saw, the
  // session it was given, and what it said before the handshake.
  async function connect(client, port, options = {}) {
    const socket = cleanup.socket(client.connect({
      port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost', ...options,
    }));
    const before = { own: socket.getFinished(), peer: socket.getPeerFinished() };
    let session;
    socket.on('session', (s) => { session = session || s; });
    await once(socket, 'secureConnect');
    const result = { before, own: socket.getFinished(), peer: socket.getPeerFinished(), reused: socket.isSessionReused() };
    await collect(socket);
    return { ...result, session };
  }

  for (const version of ['TLSv1.2', 'TLSv1.3']) {
    for (const [name, client, server] of PAIRS) {
      it(`each end's Finished is the other's peer Finished, ${name}, ${version}`, async function () {
        const { port, seen } = await recordingServer(server, { minVersion: version, maxVersion: version });
        const first = await connect(client, port, { minVersion: version, maxVersion: version });
        // node's sockets say undefined before the handshake.
        assert.deepEqual(first.before, { own: undefined, peer: undefined });
        assert.ok(Buffer.isBuffer(first.own) && Buffer.isBuffer(first.peer));
        // 12 bytes in TLS 1.2; the suite's hash length (SHA-384 here) in TLS 1.3.
        assert.equal(first.own.length, version === 'TLSv1.2' ? 12 : 48);
        assert.deepEqual(first.own, seen[0].peer);
        assert.deepEqual(first.peer, seen[0].own);
        assert.notDeepEqual(first.own, first.peer);

        const resumed = await connect(client, port, { minVersion: version, maxVersion: version, session: first.session });
        assert.equal(resumed.reused, true);
        assert.equal(seen[1].reused, true);
        assert.deepEqual(resumed.own, seen[1].peer);
        assert.deepEqual(resumed.peer, seen[1].own);
        assert.notDeepEqual(resumed.own, first.own);
      });
    }
  }

  it('TLS 1.3 with a SHA-256 suite: 32 bytes, as node says', async function () {
    const { port, seen } = await recordingServer(tls, { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256' });
    const result = await connect(ours, port);
    assert.equal(result.own.length, seen[0].peer.length);
    assert.equal(result.own.length, 32);
    assert.deepEqual(result.own, seen[0].peer);
    assert.deepEqual(result.peer, seen[0].own);
  });

  for (const version of ['TLSv1.2', 'TLSv1.3']) {
    it(`with a client certificate, both ways, ${version}`, async function () {
      for (const [client, server] of [[ours, tls], [tls, ours]]) {
        const { port, seen } = await recordingServer(server, {
          minVersion: version, maxVersion: version, requestCert: true, rejectUnauthorized: true, ca: certs.ca,
        });
        const result = await connect(client, port, { ...certs.client });
        assert.deepEqual(result.own, seen[0].peer);
        assert.deepEqual(result.peer, seen[0].own);
      }
    });
  }

  it('after a HelloRetryRequest (TLS 1.3)', async function () {
    // node's server takes P-384 only; our client's first key share is another group.
    const { port, seen } = await recordingServer(tls, { minVersion: 'TLSv1.3', ecdhCurve: 'P-384' });
    const lines = [];
    const socket = cleanup.socket(ours.connect({ port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost', debug: 2 }));
    socket.on('debug', (line) => lines.push(line));
    await once(socket, 'secureConnect');
    const own = socket.getFinished();
    const peer = socket.getPeerFinished();
    await collect(socket); // the server has recorded its side by then
    assert.ok(lines.some((line) => /HelloRetryRequest/i.test(line)), 'a HelloRetryRequest');
    assert.deepEqual(own, seen[0].peer);
    assert.deepEqual(peer, seen[0].own);
  });

  it('null once the socket is destroyed, as node\'s', async function () {
    const { port } = await recordingServer(tls);
    const socket = cleanup.socket(ours.connect({ port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' }));
    await once(socket, 'secureConnect');
    assert.ok(Buffer.isBuffer(socket.getFinished()));
    socket.destroy();
    const theirs = cleanup.socket(tls.connect({ port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' }));
    await once(theirs, 'secureConnect');
    theirs.destroy();
    assert.equal(socket.getFinished(), theirs.getFinished());
    assert.equal(socket.getPeerFinished(), theirs.getPeerFinished());
  });
});
