'use strict';
// DTLS 1.2, our client with our server on 127.0.0.1: certificates, mutual authentication,
// PSK (CCM_8 included), ALPN, resumption, Connection IDs and address changes, close, the
// demultiplexer's counters, and errors with their codes.

const dgram = require('node:dgram');
const ours = require('..');
const dtls = require('../dtls');
const { assert, certs, names, once, useCleanup } = require('./helpers');

const PSK = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

describe('DTLS: our client with our server', function () {
  const track = useCleanup();

  // An echo server on 127.0.0.1; resolves with { server, port }.
  async function echoServer(options = certs.ecdsa, onSocket) {
    const server = track.server(dtls.createServer(options, onSocket || ((socket) => {
      socket.on('message', (message) => socket.send(message));
    })));
    await once(server.listen(0, '127.0.0.1'), 'listening');
    return { server, port: server.address().port };
  }

  async function connect(port, options = {}) {
    const client = track.socket(dtls.connect({
      host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca, ...options,
    }));
    await once(client, 'secureConnect');
    return client;
  }

  async function roundTrip(client, text) {
    const answer = once(client, 'message');
    client.send(text);
    return (await answer).toString();
  }

  // A UDP socket closed after the test.
  function udpSocket() {
    const socket = dgram.createSocket('udp4');
    track.socket({
      once: (event, listener) => socket.once(event, listener),
      destroy: () => { try { socket.close(); } catch { /* closed */ } },
    });
    return socket;
  }

  const connections = (server) => new Promise((resolve) => server.getConnections((err, n) => resolve(n)));

  it('is reachable as require(\'mbedtls-stream\').dtls', function () {
    assert.equal(ours.dtls, dtls);
    assert.equal(typeof dtls.connect, 'function');
    assert.equal(typeof dtls.createServer, 'function');
  });

  it('handshakes with certificates and reports what was negotiated', async function () {
    const { server, port } = await echoServer();
    const accepted = once(server, 'secureConnection');
    const client = await connect(port);
    const socket = await accepted;
    assert.equal(client.getProtocol(), 'DTLSv1.2');
    assert.equal(socket.getProtocol(), 'DTLSv1.2');
    assert.equal(client.authorized, true);
    assert.equal(client.authorizationError, null);
    assert.equal(client.getCipher().version, 'TLSv1.2');
    assert.equal(client.getCipher().standardName, socket.getCipher().standardName);
    const cert = client.getPeerCertificate(true);
    assert.equal(cert.subject.CN, names.server);
    assert.equal(cert.issuerCertificate.subject.CN, names.intermediate);
    assert.equal(socket.getCertificate().subject.CN, names.server);
    assert.equal(client.remotePort, port);
    assert.equal(client.remoteAddress, '127.0.0.1');
    assert.equal(socket.remoteAddress, '127.0.0.1');
    assert.equal(socket.remotePort, client.address().port);
    assert.equal(client.isSessionReused(), false);
    assert.equal(client.getConnectionId(), null);
  });

  it('delivers one message per send, in both directions', async function () {
    const { port } = await echoServer();
    const client = await connect(port);
    const received = [];
    client.on('message', (m) => received.push(m.toString()));
    const all = new Promise((resolve) => client.on('message', () => { if (received.length === 3) resolve(); }));
    client.send('one');
    client.send(Buffer.from('two'));
    client.send(new Uint8Array([116, 104, 114, 101, 101]));
    await all;
    assert.deepEqual(received.sort(), ['one', 'three', 'two']);
  });

  it('sends what was sent before the handshake was done once it is', async function () {
    const { port } = await echoServer();
    const client = track.socket(dtls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca }));
    const answer = once(client, 'message');
    client.send('early');
    assert.equal((await answer).toString(), 'early');
  });

  it('refuses a message larger than one record with ERR_DTLS_MESSAGE_TOO_LARGE, and goes on', async function () {
    const { port } = await echoServer();
    const client = await connect(port, { mtu: 500 });
    const err = await new Promise((resolve) => client.send(Buffer.alloc(600), resolve));
    assert.equal(err.code, 'ERR_DTLS_MESSAGE_TOO_LARGE');
    assert.equal(await roundTrip(client, 'still here'), 'still here');
    // setMTU lowers it further.
    client.setMTU(300);
    const smaller = await new Promise((resolve) => client.send(Buffer.alloc(400), resolve));
    assert.equal(smaller.code, 'ERR_DTLS_MESSAGE_TOO_LARGE');
  });

  it('refuses an oversized message with an error event when no callback is given', async function () {
    const { port } = await echoServer();
    const client = await connect(port);
    const failed = once(client, 'error');
    client.send(Buffer.alloc(5000));
    assert.equal((await failed).code, 'ERR_DTLS_MESSAGE_TOO_LARGE');
    assert.equal(client.destroyed, false);
  });

  it('checks the server name with node\'s rules', async function () {
    const { port } = await echoServer();
    const client = track.socket(dtls.connect({ host: '127.0.0.1', port, servername: 'example.org', ca: certs.ca }));
    const err = await once(client, 'error');
    assert.equal(err.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
    assert.equal(client.authorizationError, 'ERR_TLS_CERT_ALTNAME_INVALID');
    // As the TLS client's (one verdict for both): the failure carries node's full certificate
    // object, and a hint naming what the certificate is for.
    assert.equal(err.cert.subject.CN, names.server);
    assert.ok(err.cert.issuerCertificate);
    assert.match(err.hint, /not "example\.org"/);
  });

  it('checks a plain name without building node\'s detailed certificate objects', async function () {
    const { port } = await echoServer();
    const client = track.socket(dtls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca }));
    // The default check reads the leaf's names from Mbed TLS (lib/name-check.js); the full
    // chain of objects is made only for a failure or the application's own check.
    const detailed = [];
    const getPeerCertificate = client.getPeerCertificate;
    client.getPeerCertificate = function (full) {
      if (full) detailed.push(full);
      return getPeerCertificate.call(this, full);
    };
    await once(client, 'secureConnect');
    assert.equal(client.authorized, true);
    assert.deepEqual(detailed, []);
  });

  it('authenticates the client with requestCert, and refuses one without a certificate', async function () {
    const { server, port } = await echoServer({ ...certs.ecdsa, ca: certs.ca, requestCert: true });
    const accepted = once(server, 'secureConnection');
    await connect(port, certs.client);
    const socket = await accepted;
    assert.equal(socket.authorized, true);
    assert.equal(socket.getPeerCertificate().subject.CN, names.client);

    const refused = once(server, 'tlsClientError');
    const anonymous = track.socket(dtls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca }));
    anonymous.on('error', () => {});
    const err = await refused;
    assert.equal(err.code, 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
  });

  for (const cipher of ['PSK-AES128-CCM8', 'PSK-AES128-CCM', 'PSK-AES128-GCM-SHA256']) {
    it(`speaks ${cipher} with both pskCallbacks`, async function () {
      const asked = [];
      const { server, port } = await echoServer({
        ciphers: cipher,
        pskIdentityHint: 'gateway',
        pskCallback(socket, identity) {
          asked.push(['server', identity]);
          return identity === 'lamp-3' ? PSK : null;
        },
      });
      const accepted = once(server, 'secureConnection');
      const client = await connect(port, {
        ciphers: cipher,
        pskCallback(hint) {
          asked.push(['client', hint]);
          return { psk: PSK, identity: 'lamp-3' };
        },
      });
      await accepted;
      assert.deepEqual(asked, [['client', 'gateway'], ['server', 'lamp-3']]);
      assert.equal(client.getCipher().name, cipher);
      assert.equal(client.authorized, true);
      assert.equal(await roundTrip(client, 'psk'), 'psk');
    });
  }

  it('offers the IoT PSK suites by default with a pskCallback, GCM first', async function () {
    const { port } = await echoServer({ pskCallback: () => PSK });
    const client = await connect(port, { pskCallback: () => ({ psk: PSK, identity: 'hue' }) });
    assert.equal(client.getCipher().standardName, 'TLS_PSK_WITH_AES_128_GCM_SHA256');
  });

  it('fails closed when a pskCallback throws, on either side', async function () {
    const { server, port } = await echoServer({ pskCallback() { throw new Error('no keys today'); } });
    const failed = once(server, 'tlsClientError');
    const client = track.socket(dtls.connect({ host: '127.0.0.1', port, pskCallback: () => ({ psk: PSK, identity: 'x' }) }));
    client.on('error', () => {});
    const err = await failed;
    assert.equal(err.code, 'ERR_MBEDTLS_CALLBACK_FAILED');

    const other = track.socket(dtls.connect({ host: '127.0.0.1', port, pskCallback() { throw new Error('client side'); } }));
    const clientErr = await once(other, 'error');
    assert.equal(clientErr.code, 'ERR_MBEDTLS_CALLBACK_FAILED');
  });

  it('fails an unknown PSK identity on both sides', async function () {
    const { server, port } = await echoServer({ pskCallback: () => null });
    const failed = once(server, 'tlsClientError');
    const client = track.socket(dtls.connect({ host: '127.0.0.1', port, pskCallback: () => ({ psk: PSK, identity: 'x' }) }));
    const clientErr = await once(client, 'error');
    assert.match(clientErr.code, /^ERR_SSL_/);
    assert.match((await failed).code, /^ERR_/);
  });

  it('negotiates ALPN', async function () {
    const { server, port } = await echoServer({ ...certs.ecdsa, ALPNProtocols: ['coap', 'h3'] });
    const accepted = once(server, 'secureConnection');
    const client = await connect(port, { ALPNProtocols: ['coap'] });
    assert.equal(client.alpnProtocol, 'coap');
    assert.equal((await accepted).alpnProtocol, 'coap');
  });

  it('resumes a session from the \'session\' event and from getSession()', async function () {
    const { port } = await echoServer();
    const client = track.socket(dtls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca }));
    const [saved] = await Promise.all([once(client, 'session'), once(client, 'secureConnect')]);
    assert.ok(Buffer.isBuffer(saved));
    assert.ok(Buffer.isBuffer(client.getSession()));
    const again = await connect(port, { session: saved });
    assert.equal(again.isSessionReused(), true);
    assert.equal(again.authorized, true);
    assert.equal(await roundTrip(again, 'resumed'), 'resumed');
  });

  it('agrees on keying material and logs keys', async function () {
    const { server, port } = await echoServer();
    const accepted = once(server, 'secureConnection');
    const client = track.socket(dtls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca }));
    const keylog = once(client, 'keylog');
    await once(client, 'secureConnect');
    const socket = await accepted;
    assert.match((await keylog).toString(), /^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}\n$/);
    assert.deepEqual(client.exportKeyingMaterial(32, 'EXPERIMENTAL-test'),
      socket.exportKeyingMaterial(32, 'EXPERIMENTAL-test'));
    assert.ok(client.memoryUsage().current > 0);
  });

  it('emits Mbed TLS\'s debug lines with the debug option', async function () {
    const { port } = await echoServer();
    const client = track.socket(dtls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca, debug: 2 }));
    const lines = [];
    client.on('debug', (line) => lines.push(line));
    await once(client, 'secureConnect');
    assert.ok(lines.some((line) => /=> write client hello/.test(line)), lines.slice(0, 5).join('\n'));
    assert.ok(lines.every((line) => !line.includes('\n')));
  });

  it('uses Connection IDs: the server\'s of the length it was given, an empty one for a client', async function () {
    const { server, port } = await echoServer({ ...certs.ecdsa, connectionId: 6 });
    const accepted = once(server, 'secureConnection');
    const client = await connect(port, { connectionId: true });
    const socket = await accepted;
    const ours_ = client.getConnectionId();
    const theirs = socket.getConnectionId();
    assert.equal(ours_.own.length, 0);
    assert.equal(ours_.peer.length, 6);
    assert.deepEqual(theirs.own, ours_.peer);
    assert.equal(await roundTrip(client, 'with cid'), 'with cid');
  });

  it('a client may name its own Connection ID', async function () {
    const { server, port } = await echoServer({ ...certs.ecdsa, connectionId: 4 });
    const accepted = once(server, 'secureConnection');
    const client = await connect(port, { connectionId: Buffer.from('c1d2', 'hex') });
    assert.deepEqual(client.getConnectionId().own, Buffer.from('c1d2', 'hex'));
    assert.deepEqual((await accepted).getConnectionId().peer, Buffer.from('c1d2', 'hex'));
  });

  it('follows a peer with a Connection ID to a new address once its record authenticates', async function () {
    const { server, port } = await echoServer({ ...certs.ecdsa, connectionId: 4 });
    // A relay whose source port changes mid-session, as a NAT rebinding does.
    const front = udpSocket();
    let back = udpSocket();
    let clientAddress = null;
    const relayBack = (socket) => socket.on('message', (msg) => {
      if (clientAddress) front.send(msg, clientAddress.port, clientAddress.address);
    });
    relayBack(back);
    front.on('message', (msg, rinfo) => {
      clientAddress = rinfo;
      back.send(msg, port, '127.0.0.1');
    });
    await once(front.bind(0, '127.0.0.1'), 'listening');
    await once(back.bind(0, '127.0.0.1'), 'listening');
    const accepted = once(server, 'secureConnection');
    const client = await connect(front.address().port, { connectionId: true });
    const socket = await accepted;
    assert.equal(socket.remotePort, back.address().port);
    assert.equal(await roundTrip(client, 'before'), 'before');

    back = udpSocket();
    relayBack(back);
    await once(back.bind(0, '127.0.0.1'), 'listening');
    const moved = once(socket, 'peerAddressChange');
    assert.equal(await roundTrip(client, 'after'), 'after');
    assert.deepEqual(await moved, { address: '127.0.0.1', port: back.address().port });
    assert.equal(socket.remotePort, back.address().port);
    assert.equal(server.stats.peerAddressChanges, 1);
  });

  it('drops a forged Connection ID record from a new address, and counts it', async function () {
    const { server, port } = await echoServer({ ...certs.ecdsa, connectionId: 4 });
    const accepted = once(server, 'secureConnection');
    const client = await connect(port, { connectionId: true });
    const socket = await accepted;
    const cid = client.getConnectionId().peer;
    // A tls12_cid record with the right CID and garbage for the rest, from another port.
    const forged = Buffer.concat([Buffer.from([25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9]), cid,
      Buffer.from([0, 32]), Buffer.alloc(32, 7)]);
    const attacker = udpSocket();
    await once(attacker.bind(0, '127.0.0.1'), 'listening');
    attacker.send(forged, port, '127.0.0.1');
    // The client's next message shows the session served on, from its own address.
    assert.equal(await roundTrip(client, 'mine'), 'mine');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(server.stats.dropped.unauthenticated, 1);
    assert.equal(socket.remotePort, client.address().port);
  });

  it('drops what is not DTLS, and records from strangers, keeping no state', async function () {
    const { server, port } = await echoServer();
    const stranger = udpSocket();
    await once(stranger.bind(0, '127.0.0.1'), 'listening');
    stranger.send(Buffer.from('GET / HTTP/1.1\r\n\r\n'), port, '127.0.0.1');
    // An application data record of epoch 1 from an address without a session.
    stranger.send(Buffer.concat([Buffer.from([23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1, 0, 16]), Buffer.alloc(16)]),
      port, '127.0.0.1');
    // A real client after them: by then the two were handled.
    await connect(port);
    assert.equal(server.stats.dropped.malformed, 1);
    assert.equal(server.stats.dropped.unknownPeer, 1);
    assert.equal(await connections(server), 1);
  });

  it('closes with close_notify: the peer\'s socket closes too', async function () {
    const { server, port } = await echoServer();
    const accepted = once(server, 'secureConnection');
    const client = await connect(port);
    const socket = await accepted;
    const serverSideClosed = once(socket, 'close');
    await new Promise((resolve) => client.close(resolve));
    await serverSideClosed;
    assert.equal(await connections(server), 0);
    assert.equal(client.getProtocol(), null);
  });

  it('closes its peers when the server closes', async function () {
    const { server, port } = await echoServer();
    const client = await connect(port);
    const closed = once(client, 'close');
    server.close();
    await closed;
  });

  it('ends a handshake nobody answers with ERR_DTLS_HANDSHAKE_TIMEOUT', async function () {
    const silent = udpSocket();
    await once(silent.bind(0, '127.0.0.1'), 'listening');
    const client = track.socket(dtls.connect({
      host: '127.0.0.1', port: silent.address().port, handshakeTimeout: 300,
    }));
    assert.equal((await once(client, 'error')).code, 'ERR_DTLS_HANDSHAKE_TIMEOUT');
  });

  it('gives up retransmitting after retransmitTimeout.max with ERR_DTLS_HANDSHAKE_TIMEOUT', async function () {
    const silent = udpSocket();
    await once(silent.bind(0, '127.0.0.1'), 'listening');
    let hellos = 0;
    silent.on('message', () => { hellos++; });
    const client = track.socket(dtls.connect({
      host: '127.0.0.1', port: silent.address().port, retransmitTimeout: { min: 50, max: 200 },
    }));
    assert.equal((await once(client, 'error')).code, 'ERR_DTLS_HANDSHAKE_TIMEOUT');
    // The first ClientHello, resent after 50 ms and after 100 more; the next wait, 200 ms,
    // reaches the maximum and ends the handshake.
    assert.equal(hellos, 3);
  });

  it('closes a silent peer after idleTimeout', async function () {
    const { server, port } = await echoServer({ ...certs.ecdsa, idleTimeout: 100 });
    const accepted = once(server, 'secureConnection');
    await connect(port);
    const socket = await accepted;
    await once(socket, 'close');
    assert.equal(await connections(server), 0);
  });

  it('takes no more peers than maxConnections', async function () {
    const { server, port } = await echoServer({ ...certs.ecdsa, maxConnections: 1 });
    await connect(port);
    const second = track.socket(dtls.connect({
      host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca, retransmitTimeout: { min: 50, max: 100 },
    }));
    assert.equal((await once(second, 'error')).code, 'ERR_DTLS_HANDSHAKE_TIMEOUT');
    assert.ok(server.stats.dropped.maxConnections >= 1);
    assert.equal(await connections(server), 1);
  });

  it('serves a peer that starts over from the same address, closing its old session', async function () {
    const { server, port } = await echoServer();
    const udp = udpSocket();
    await once(udp.bind(0, '127.0.0.1'), 'listening');
    const firstAccepted = once(server, 'secureConnection');
    const first = await connect(port, { socket: udp });
    const oldSocket = await firstAccepted;
    // The device "reboots": its session is gone without a word, a new one starts.
    first.destroy();
    const oldClosed = once(oldSocket, 'close');
    const secondAccepted = once(server, 'secureConnection');
    const second = await connect(port, { socket: udp });
    const newSocket = await secondAccepted;
    await oldClosed;
    assert.notEqual(newSocket, oldSocket);
    assert.equal(await roundTrip(second, 'new session'), 'new session');
    assert.equal(await connections(server), 1);
  });
});
