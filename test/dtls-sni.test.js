'use strict';
// A DTLS server's SNICallback, as tls servers have it: the ClientHello's server name chooses
// the SecureContext (now or later), the server's settings stay (Connection IDs, cookies,
// PSK), a callback that fails fails the handshake closed, and `servername` reports the name.
// Clients: ours (a fragmented ClientHello included) and openssl s_client -dtls1_2.

const crypto = require('node:crypto');
const dgram = require('node:dgram');
const { spawn } = require('node:child_process');
const tls = require('node:tls');
const ours = require('..');
const dtls = require('../dtls');
const { assert, certs, once, useCleanup } = require('./helpers');

const fingerprint = (pem) => new crypto.X509Certificate(pem).fingerprint256;
const RSA = fingerprint(certs.rsa.cert);
const ECDSA = fingerprint(certs.ecdsa.cert);
const trustAnyName = () => undefined;

describe('DTLS: the server\'s SNICallback', function () {
  const track = useCleanup();

  // Our DTLS echo server with the ECDSA certificate by default; resolves with { server,
  // port, events } where events records secure connections and client errors.
  async function serve(options) {
    const events = { secure: [], clientErrors: [] };
    const server = track.server(dtls.createServer({ ...certs.ecdsa, ...options }, (socket) => {
      events.secure.push({ servername: socket.servername, certificate: socket.getCertificate().fingerprint256 });
      socket.on('message', (message) => socket.send(message));
    }));
    server.on('tlsClientError', (err, socket) => events.clientErrors.push({ err, servername: socket && socket.servername }));
    await once(server.listen(0, '127.0.0.1'), 'listening');
    return { server, port: server.address().port, events };
  }

  function connect(port, options = {}) {
    return track.socket(dtls.connect({
      host: '127.0.0.1', port, ca: certs.ca, checkServerIdentity: trustAnyName, ...options,
    }));
  }

  // Handshakes, echoes one message, closes; resolves with the server certificate's fingerprint.
  async function peerFingerprint(port, options) {
    const client = connect(port, options);
    await once(client, 'secureConnect');
    const result = client.getPeerX509Certificate().fingerprint256;
    const echoed = once(client, 'message');
    client.send('ping');
    assert.equal((await echoed).toString(), 'ping');
    client.close();
    return result;
  }

  it('chooses the certificate by name, synchronously or later; no name asks nothing', async function () {
    const rsa = ours.createSecureContext(certs.rsa);
    const seen = [];
    const { events, port } = await serve({
      SNICallback(servername, callback) {
        seen.push(servername);
        if (servername === 'rsa.test') callback(null, rsa);
        // Longer than the client's first retransmission: the held hello waits meanwhile.
        else if (servername === 'slow.test') setTimeout(() => callback(null, rsa), 300);
        else callback(null, undefined);
      },
    });
    const fast = { retransmitTimeout: { min: 100 } };
    assert.equal(await peerFingerprint(port, { servername: 'rsa.test' }), RSA);
    assert.equal(await peerFingerprint(port, { servername: 'slow.test', ...fast }), RSA);
    assert.equal(await peerFingerprint(port, { servername: 'other.test' }), ECDSA);
    assert.equal(await peerFingerprint(port, {}), ECDSA);
    assert.deepEqual(seen, ['rsa.test', 'slow.test', 'other.test']);
    assert.deepEqual(events.secure.map((e) => e.servername), ['rsa.test', 'slow.test', 'other.test', false]);
    assert.deepEqual(events.secure.map((e) => e.certificate), [RSA, RSA, ECDSA, ECDSA]);
  });

  it('calls SNICallback with the socket as this, once per handshake', async function () {
    const rsa = ours.createSecureContext(certs.rsa);
    const thisValues = [];
    const { server, port } = await serve({
      SNICallback(servername, callback) {
        thisValues.push(this);
        setTimeout(() => callback(null, rsa), 250);
      },
    });
    const accepted = once(server, 'secureConnection');
    assert.equal(await peerFingerprint(port, { servername: 'rsa.test', retransmitTimeout: { min: 50 } }), RSA);
    const socket = await accepted;
    assert.equal(thisValues.length, 1);
    assert.equal(thisValues[0], socket);
    assert.equal(socket.servername, 'rsa.test');
  });

  it('puts a fragmented ClientHello together before asking', async function () {
    const mtu = 120;
    const rsa = ours.createSecureContext(certs.rsa);
    const seen = [];
    const { port } = await serve({ SNICallback: (name, cb) => { seen.push(name); cb(null, rsa); } });
    // A relay that notes ClientHello fragments (handshake records of epoch 0, message type 1,
    // fragment shorter than the message) on their way to the server.
    const front = dgram.createSocket('udp4');
    const back = dgram.createSocket('udp4');
    track.socket({ once: (e, f) => front.once(e, f), destroy: () => { front.close(); back.close(); } });
    let fragments = 0;
    let client = null;
    front.on('message', (msg, rinfo) => {
      client = rinfo;
      if (msg.length >= 25 && msg[0] === 22 && msg.readUInt16BE(3) === 0 && msg[13] === 1 &&
          msg.readUIntBE(22, 3) < msg.readUIntBE(14, 3)) fragments++;
      back.send(msg, port, '127.0.0.1');
    });
    back.on('message', (msg) => front.send(msg, client.port, client.address));
    await Promise.all([once(front.bind(0, '127.0.0.1'), 'listening'), once(back.bind(0, '127.0.0.1'), 'listening')]);
    assert.equal(await peerFingerprint(front.address().port, { servername: 'fragments.test', mtu }), RSA);
    assert.ok(fragments >= 2, `ClientHello fragments seen: ${fragments}`);
    assert.deepEqual(seen, ['fragments.test']);
  });

  it('keeps the server\'s Connection IDs and PSK under a chosen context', async function () {
    const PSK = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const chosen = ours.createSecureContext(certs.rsa);
    const { server, port } = await serve({
      connectionId: 6,
      pskCallback: (socket, identity) => (identity === 'sensor' ? PSK : null),
      SNICallback: (name, cb) => cb(null, chosen),
    });
    const accepted = once(server, 'secureConnection');
    const client = connect(port, {
      servername: 'psk.test', connectionId: true, pskCallback: () => ({ psk: PSK, identity: 'sensor' }),
    });
    await once(client, 'secureConnect');
    const socket = await accepted;
    assert.match(client.getCipher().name, /PSK/);
    assert.equal(client.getConnectionId().peer.length, 6);
    assert.deepEqual(socket.getConnectionId().own, client.getConnectionId().peer);
    const echoed = once(client, 'message');
    client.send('over a CID');
    assert.equal((await echoed).toString(), 'over a CID');
  });

  it('chooses with cookies off too, and keeps the server\'s ALPN protocols', async function () {
    const rsa = ours.createSecureContext(certs.rsa);
    const { server, port } = await serve({
      cookies: false, ALPNProtocols: ['coap'], SNICallback: (name, cb) => cb(null, rsa),
    });
    const client = connect(port, { servername: 'rsa.test', ALPNProtocols: ['coap'] });
    await once(client, 'secureConnect');
    assert.equal(client.getPeerX509Certificate().fingerprint256, RSA);
    assert.equal(client.alpnProtocol, 'coap');
    assert.equal(server.stats.helloVerifyRequests, 0);
  });

  it('refuses an SNICallback that is not a function', function () {
    assert.throws(() => dtls.createServer({ ...certs.ecdsa, SNICallback: 'no' }), { code: 'ERR_INVALID_ARG_TYPE' });
  });

  const failures = [
    ['passes an error', (name, cb) => cb(Object.assign(new Error('no'), { code: 'MY_CODE' })), 'MY_CODE'],
    ['throws', () => { throw new Error('boom'); }, 'ERR_MBEDTLS_CALLBACK_FAILED'],
    ['gives something else than a SecureContext', (name, cb) => cb(null, { key: 1 }), 'ERR_MBEDTLS_INVALID_SNI_CONTEXT'],
    ['gives node\'s SecureContext', (name, cb) => cb(null, tls.createSecureContext(certs.rsa)), 'ERR_MBEDTLS_INVALID_SNI_CONTEXT'],
  ];
  for (const [title, SNICallback, code] of failures) {
    it(`fails the handshake closed when SNICallback ${title}`, async function () {
      const { server, port, events } = await serve({ SNICallback });
      const client = connect(port, { servername: 'x.test' });
      const err = await once(client, 'error');
      // A fatal internal_error alert, not a timeout.
      assert.match(err.code, /INTERNAL_ERROR/);
      assert.equal(events.clientErrors.length, 1);
      assert.equal(events.clientErrors[0].err.code, code);
      assert.equal(events.clientErrors[0].servername, 'x.test');
      assert.equal(events.secure.length, 0);
      assert.equal(await new Promise((resolve) => server.getConnections((e, n) => resolve(n))), 0);
      // The server serves on: a client without SNI asks no callback.
      assert.equal(await peerFingerprint(port, {}), ECDSA);
    });
  }

  it('chooses by the name openssl s_client -dtls1_2 -servername sends', async function () {
    const rsa = ours.createSecureContext(certs.rsa);
    const seen = [];
    const { events, port } = await serve({
      SNICallback(name, callback) {
        seen.push(name);
        setTimeout(() => callback(null, name === 'rsa.test' ? rsa : null), 50);
      },
    });
    for (const [servername, bits] of [['rsa.test', 2048], ['ecdsa.test', 256]]) {
      const child = spawn('openssl', ['s_client', '-dtls1_2', '-connect', `127.0.0.1:${port}`,
        '-servername', servername, '-CAfile', certs.path('ca.pem')], { stdio: ['pipe', 'pipe', 'pipe'] });
      track.child(child);
      let output = '';
      child.stdout.on('data', (d) => { output += d; });
      const exited = new Promise((resolve) => child.once('close', resolve));
      // Sends a line once the handshake is done; s_client prints what comes back.
      await new Promise((resolve) => {
        const onData = () => {
          if (!/Verify return code/.test(output)) return;
          child.stdout.removeListener('data', onData);
          resolve();
        };
        child.stdout.on('data', onData);
      });
      const echoed = new Promise((resolve) => {
        const onData = () => { if (output.includes('echo me\n')) resolve(); };
        child.stdout.on('data', onData);
      });
      child.stdin.write('echo me\n');
      await echoed;
      child.stdin.end();
      await exited;
      assert.match(output, /Verify return code: 0 \(ok\)/);
      assert.match(output, new RegExp(`Server public key is ${bits} bit`));
    }
    assert.deepEqual(seen, ['rsa.test', 'ecdsa.test']);
    assert.deepEqual(events.secure.map((e) => e.servername), ['rsa.test', 'ecdsa.test']);
    assert.deepEqual(events.secure.map((e) => e.certificate), [RSA, ECDSA]);
  });
});
