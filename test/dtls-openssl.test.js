'use strict';
// DTLS 1.2 interoperability with the OpenSSL command line tools: our client against
// `openssl s_server -dtls1_2 -listen`, and `openssl s_client -dtls1_2` against our server.
// Certificates both ways, mutual authentication, PSK, cookies, -mtu fragmentation, resumption.

const dgram = require('node:dgram');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const dtls = require('../dtls');
const {
  assert, certs, names, once, useCleanup, startSServer, sServerCertArgs,
} = require('./helpers');

const PSK_HEX = '00112233445566778899aabbccddeeff';
const PSK = Buffer.from(PSK_HEX, 'hex');

// Resolves once `text` (a string or RegExp) has appeared in what the stream printed.
function waitFor(stream, text) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const test = () => (typeof text === 'string' ? seen.includes(text) : text.test(seen));
    const onData = (d) => {
      seen += d;
      if (test()) {
        stream.removeListener('data', onData);
        resolve(seen);
      }
    };
    stream.on('data', onData);
    stream.once('end', () => { if (!test()) reject(new Error(`stream ended before ${text}: ${seen}`)); });
  });
}

// A UDP relay between a client and a server on 127.0.0.1 that records the size of every
// datagram each way: { port, sizes: { toServer: [], toClient: [] }, close() }.
async function sizeRecordingRelay(track, serverPort) {
  const front = dgram.createSocket('udp4');
  const back = dgram.createSocket('udp4');
  const sizes = { toServer: [], toClient: [] };
  let client = null;
  front.on('message', (msg, rinfo) => {
    client = rinfo;
    sizes.toServer.push(msg.length);
    back.send(msg, serverPort, '127.0.0.1');
  });
  back.on('message', (msg) => {
    sizes.toClient.push(msg.length);
    if (client) front.send(msg, client.port, client.address);
  });
  await Promise.all([
    new Promise((resolve) => front.bind(0, '127.0.0.1', resolve)),
    new Promise((resolve) => back.bind(0, '127.0.0.1', resolve)),
  ]);
  const relay = {
    port: front.address().port,
    sizes,
    close() {
      front.close();
      back.close();
    },
  };
  track.socket({ once: (event, fn) => front.once(event, fn), destroy: () => { try { relay.close(); } catch { /* closed */ } } });
  return relay;
}

// Spawns `openssl s_client -dtls1_2` against 127.0.0.1:port, tracked for cleanup:
// { child, stdout (all printed so far, as a getter), exited }.
function startDtlsClient(track, port, args) {
  const child = spawn('openssl', ['s_client', '-dtls1_2', '-connect', `127.0.0.1:${port}`, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  track.child(child);
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => child.once('close', (code) => resolve(code)));
  return { child, get output() { return output; }, exited };
}

describe('DTLS: openssl CLI interop', function () {
  const track = useCleanup();

  // Connects our DTLS client to `port` and resolves with it once secure.
  async function connectOurs(port, options = {}) {
    const client = track.socket(dtls.connect({
      host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca, ...options,
    }));
    await once(client, 'secureConnect');
    return client;
  }

  describe('our client with openssl s_server -dtls1_2 -listen', function () {
    for (const keyType of ['ecdsa', 'rsa']) {
      it(`verifies the ${keyType.toUpperCase()} chain, speaks DTLSv1.2, and its message arrives`, async function () {
        const { child, port } = await startSServer(track, [
          '-dtls1_2', '-listen', ...sServerCertArgs(keyType), '-naccept', '1',
        ]);
        const client = await connectOurs(port);
        assert.equal(client.getProtocol(), 'DTLSv1.2');
        assert.equal(client.authorized, true);
        assert.equal(client.getPeerCertificate(true).issuerCertificate.subject.CN, names.intermediate);
        const arrived = waitFor(child.stdout, 'datagram from mbedtls-stream');
        client.send('datagram from mbedtls-stream\n');
        await arrived;
      });
    }

    it('receives what s_server sends as one message per record', async function () {
      const { child, port } = await startSServer(track, ['-dtls1_2', '-listen', ...sServerCertArgs(), '-naccept', '1']);
      const client = await connectOurs(port);
      const message = once(client, 'message');
      child.stdin.write('from openssl\n');
      assert.equal((await message).toString(), 'from openssl\n');
    });

    it('refuses a server its CAs do not vouch for, with node\'s code', async function () {
      const { port } = await startSServer(track, ['-dtls1_2', '-listen', ...sServerCertArgs(), '-naccept', '1']);
      const client = track.socket(dtls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.otherCa }));
      const err = await once(client, 'error');
      assert.equal(err.code, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
    });

    it('authenticates with a client certificate when s_server requires one', async function () {
      const { child, port } = await startSServer(track, [
        '-dtls1_2', '-listen', ...sServerCertArgs(), '-Verify', '2', '-CAfile', certs.path('ca.pem'),
        '-verify_return_error', '-naccept', '1',
      ]);
      const printed = waitFor(child.stdout, /subject=.*mbedtls-stream test client/);
      const client = await connectOurs(port, certs.client);
      assert.equal(client.authorized, true);
      await printed;
    });

    it('fails the handshake without the client certificate s_server requires', async function () {
      const { port } = await startSServer(track, [
        '-dtls1_2', '-listen', ...sServerCertArgs(), '-Verify', '2', '-CAfile', certs.path('ca.pem'),
        '-verify_return_error', '-naccept', '1',
      ]);
      const client = track.socket(dtls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca }));
      const err = await once(client, 'error');
      assert.match(err.code, /^ERR_SSL_/);
    });

    for (const cipher of ['PSK-AES128-CCM8', 'PSK-AES128-CCM', 'PSK-AES128-GCM-SHA256']) {
      it(`speaks ${cipher} with pskCallback(hint) by default`, async function () {
        const { child, port } = await startSServer(track, [
          '-dtls1_2', '-listen', '-nocert', '-psk', PSK_HEX, '-psk_identity', 'device-1',
          '-psk_hint', 'coap-gateway', '-cipher', cipher, '-naccept', '1',
        ]);
        const hints = [];
        const client = await connectOurs(port, {
          pskCallback(hint) {
            hints.push(hint);
            return { psk: PSK, identity: 'device-1' };
          },
        });
        assert.deepEqual(hints, ['coap-gateway']);
        assert.equal(client.getCipher().name, cipher);
        assert.equal(client.authorized, true);
        const arrived = waitFor(child.stdout, 'psk message');
        client.send('psk message\n');
        await arrived;
      });
    }

    it('fragments its handshake to the MTU, and reassembles s_server\'s at -mtu', async function () {
      const mtu = 400;
      const { port } = await startSServer(track, [
        '-dtls1_2', '-listen', ...sServerCertArgs('rsa'), '-mtu', String(mtu), '-naccept', '1',
      ]);
      const relay = await sizeRecordingRelay(track, port);
      const client = await connectOurs(relay.port, { mtu });
      assert.equal(client.authorized, true);
      // The RSA chain alone is longer than one datagram: the server's flight took several.
      assert.ok(relay.sizes.toClient.length >= 4, `server datagrams: ${relay.sizes.toClient}`);
      for (const size of [...relay.sizes.toServer, ...relay.sizes.toClient]) {
        assert.ok(size <= mtu, `a datagram of ${size} bytes exceeds the MTU of ${mtu}`);
      }
    });

    // (Our client's resumption is tested against our server, dtls.test.js, and s_client's
    // against ours below: OpenSSL 3.0's s_server serves one DTLS connection per process,
    // whatever -naccept says, so it cannot be the second connection's peer.)
  });

  describe('openssl s_client -dtls1_2 with our server', function () {
    // Our echo server on 127.0.0.1; resolves with { server, port }.
    async function startOurs(options, onSocket = (socket) => socket.on('message', (m) => socket.send(m))) {
      const server = track.server(dtls.createServer(options, onSocket));
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { server, port: server.address().port };
    }

    // Runs s_client until its handshake is done, sends a line and waits for its echo, then
    // ends it; resolves with everything it printed.
    async function echoThroughSClient(port, args, line = 'echo me') {
      const client = startDtlsClient(track, port, args);
      await waitFor(client.child.stdout, /Verify return code|Cipher is/);
      // s_client prints what it receives, not what it sends: the line comes back once.
      const echoed = waitFor(client.child.stdout, line);
      client.child.stdin.write(`${line}\n`);
      await echoed;
      client.child.stdin.end();
      await client.exited;
      return client.output;
    }

    for (const keyType of ['ecdsa', 'rsa']) {
      it(`serves the ${keyType.toUpperCase()} chain that s_client verifies, and echoes`, async function () {
        const protocols = [];
        const { port } = await startOurs(certs[keyType], (socket) => {
          protocols.push(socket.getProtocol());
          socket.on('message', (m) => socket.send(m));
        });
        const output = await echoThroughSClient(port, [
          '-CAfile', certs.path('ca.pem'), '-servername', 'localhost', '-verify_return_error',
        ]);
        assert.match(output, /Protocol\s*: DTLSv1\.2/);
        assert.match(output, /Verify return code: 0 \(ok\)/);
        assert.deepEqual(protocols, ['DTLSv1.2']);
      });
    }

    it('asks for a cookie first (HelloVerifyRequest), statelessly', async function () {
      const { server, port } = await startOurs(certs.ecdsa);
      await echoThroughSClient(port, ['-CAfile', certs.path('ca.pem')]);
      assert.equal(server.stats.helloVerifyRequests, 1);
      assert.equal(server.stats.handshakes, 1);
    });

    it('skips the cookie exchange with cookies: false', async function () {
      const { server, port } = await startOurs({ ...certs.ecdsa, cookies: false });
      await echoThroughSClient(port, ['-CAfile', certs.path('ca.pem')]);
      assert.equal(server.stats.helloVerifyRequests, 0);
      assert.equal(server.stats.handshakes, 1);
    });

    it('authorizes s_client\'s certificate with requestCert', async function () {
      const seen = [];
      const { port } = await startOurs({ ...certs.ecdsa, ca: certs.ca, requestCert: true }, (socket) => {
        seen.push([socket.authorized, socket.getPeerCertificate().subject.CN]);
        socket.on('message', (m) => socket.send(m));
      });
      await echoThroughSClient(port, [
        '-CAfile', certs.path('ca.pem'), '-cert', certs.path('client.pem'), '-key', certs.path('client.key'),
        '-cert_chain', certs.path('intermediate.pem'),
      ]);
      assert.deepEqual(seen, [[true, names.client]]);
    });

    it('reports a tlsClientError when s_client sends no certificate and one is required', async function () {
      const { server, port } = await startOurs({ ...certs.ecdsa, ca: certs.ca, requestCert: true, rejectUnauthorized: true });
      const failed = once(server, 'tlsClientError');
      const client = startDtlsClient(track, port, ['-CAfile', certs.path('ca.pem')]);
      const err = await failed;
      assert.equal(err.code, 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
      client.child.kill();
    });

    for (const cipher of ['PSK-AES128-CCM8', 'PSK-AES128-GCM-SHA256']) {
      it(`serves ${cipher} to s_client -psk through pskCallback(socket, identity)`, async function () {
        const identities = [];
        const ciphersUsed = [];
        const { port } = await startOurs({
          pskCallback(socket, identity) {
            identities.push(identity);
            return identity === 'sensor-9' ? PSK : null;
          },
          pskIdentityHint: 'gateway',
        }, (socket) => {
          ciphersUsed.push(socket.getCipher().name);
          socket.on('message', (m) => socket.send(m));
        });
        const output = await echoThroughSClient(port, [
          '-psk', PSK_HEX, '-psk_identity', 'sensor-9', '-cipher', cipher,
        ]);
        assert.match(output, new RegExp(`Cipher is ${cipher}`));
        assert.deepEqual(identities, ['sensor-9']);
        assert.deepEqual(ciphersUsed, [cipher]);
      });
    }

    it('fails an unknown PSK identity as tlsClientError', async function () {
      const { server, port } = await startOurs({ pskCallback: () => null });
      const failed = once(server, 'tlsClientError');
      const client = startDtlsClient(track, port, ['-psk', PSK_HEX, '-psk_identity', 'stranger', '-cipher', 'PSK-AES128-CCM8']);
      const err = await failed;
      assert.match(err.code, /^ERR_/);
      client.child.kill();
      const count = await new Promise((resolve) => server.getConnections((e, n) => resolve(n)));
      assert.equal(count, 0);
    });

    it('fragments its flight to the MTU s_client has (-mtu)', async function () {
      const mtu = 400;
      const { port } = await startOurs({ ...certs.rsa, mtu });
      const relay = await sizeRecordingRelay(track, port);
      await echoThroughSClient(relay.port, ['-CAfile', certs.path('ca.pem'), '-mtu', String(mtu)]);
      assert.ok(relay.sizes.toClient.length >= 4, `server datagrams: ${relay.sizes.toClient}`);
      for (const size of [...relay.sizes.toServer, ...relay.sizes.toClient]) {
        assert.ok(size <= mtu, `a datagram of ${size} bytes exceeds the MTU of ${mtu}`);
      }
    });

    it('resumes s_client\'s session (-sess_out, then -sess_in)', async function () {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dtls-sess-')), 'session.pem');
      const reused = [];
      const { port } = await startOurs(certs.ecdsa, (socket) => {
        reused.push(socket.isSessionReused());
        socket.on('message', (m) => socket.send(m));
      });
      const first = await echoThroughSClient(port, ['-CAfile', certs.path('ca.pem'), '-sess_out', file]);
      assert.match(first, /New, TLSv1\.2/);
      const second = await echoThroughSClient(port, ['-CAfile', certs.path('ca.pem'), '-sess_in', file]);
      assert.match(second, /Reused, TLSv1\.2/);
      assert.deepEqual(reused, [false, true]);
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    });
  });
});
