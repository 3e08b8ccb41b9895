'use strict';
// Interoperability with Mbed TLS's own test programs, ssl_server2 and ssl_client2, built
// from the fetched tree with Mbed TLS's default configuration by
// scripts/build-mbedtls-programs.sh: the reference for what an Mbed TLS device does. TLS 1.2
// and 1.3 (their force_version), certificates with each auth_mode, PSK (psk, psk_identity),
// max_frag_len, resumption; our client against ssl_server2 and ssl_client2 against our server.
// Assertions are on the data both ways, on our sockets, and on what the programs print.

const net = require('node:net');
const path = require('node:path');
const { execFile } = require('node:child_process');
const ours = require('..');
const {
  assert, certs, names, listen, once, readUntil, useCleanup, run, startPeerServer,
} = require('./helpers');

const ROOT = path.join(__dirname, '..');
const KEY_HEX = '00112233445566778899aabbccddeeff';
const IDENTITY = 'sensor-17';

const VERSIONS = [
  { name: 'TLSv1.2', force: 'tls12' },
  { name: 'TLSv1.3', force: 'tls13' },
];
// TLS 1.2 needs a PSK suite named (node's defaults leave them out); TLS 1.3 takes its own.
const PSK_CIPHERS = { 'TLSv1.2': 'PSK-AES128-GCM-SHA256:ECDHE-PSK-CHACHA20-POLY1305', 'TLSv1.3': undefined };

// What the programs print after a handshake: "[ Protocol is TLSv1.2 ]", "[ Ciphersuite is
// TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256 ]" (TLS 1.3: "TLS1-3-AES-256-GCM-SHA384"), and the
// record payload limits each way.
function handshakeReport(output) {
  const field = (label) => new RegExp(`\\[ ${label} is (.*) \\]`).exec(output)?.[1];
  const suite = field('Ciphersuite');
  return {
    protocol: field('Protocol'),
    // As an IANA standard name, which our getCipher().standardName gives.
    standardName: suite && suite.replace(/^TLS1-3-/, 'TLS-').replace(/-/g, '_'),
    maxIncoming: Number(field('Maximum incoming record payload length')),
    maxOutgoing: Number(field('Maximum outgoing record payload length')),
  };
}

// The sizes of what ssl_client2 read ("< Read from server: N bytes read") and ssl_server2
// read (" N bytes read" or " N bytes read (200 + M)" after "< Read from client:"): one
// mbedtls_ssl_read() each, which never returns more than one record's payload.
const clientReads = (stdout) => [...stdout.matchAll(/< Read from server: (\d+) bytes read/g)].map((m) => Number(m[1]));
const serverReads = (stdout) => [...stdout.matchAll(/^(?:\s*< Read from client:)? (\d+) bytes read/gm)].map((m) => Number(m[1]));
const sum = (list) => list.reduce((a, b) => a + b, 0);

describe('Mbed TLS ssl_server2 and ssl_client2 interop', function () {
  const track = useCleanup();
  let programs;

  before(function (done) {
    // Builds the two programs on the first run (about a minute on two cores; much longer on a
    // slow or busy machine), then a no-op.
    this.timeout(20 * 60 * 1000);
    execFile('bash', [path.join(ROOT, 'scripts', 'build-mbedtls-programs.sh')], { maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err) return done(new Error(`build-mbedtls-programs.sh failed:\n${stderr}`));
        programs = stdout.trim();
        return done();
      });
  });

  // ssl_server2 on 127.0.0.1 and a port of its choosing, serving our test PKI's ECDSA chain
  // and trusting our root unless `args` say otherwise. Per connection it reads a request up
  // to a newline, answers "HTTP/1.0 200 OK ... Successful connection using: SUITE" and
  // closes; `stop()` gives what it printed.
  function startSslServer2(args) {
    return startPeerServer(track, path.join(programs, 'ssl_server2'), [
      'server_addr=127.0.0.1', 'server_port=0',
      `crt_file=${certs.path('server-ecdsa-chain.pem')}`, `key_file=${certs.path('server-ecdsa.key')}`,
      `ca_file=${certs.path('ca.pem')}`, ...args,
    ], { ready: /Waiting for a remote connection/ });
  }

  // Our client against ssl_server2: connects, writes `request` once the handshake completed
  // (unless it is null), and resolves when the connection closed with what happened:
  // { secure, protocol, standardName, authorized, reused, session, data, error }.
  function exchange(port, options, request = 'hello from mbedtls-stream\n') {
    const socket = track.socket(ours.connect({
      port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, ...options,
    }));
    const outcome = { secure: false, data: '', error: null, sessions: [] };
    socket.on('session', (session) => outcome.sessions.push(session));
    socket.on('data', (d) => { outcome.data += d; });
    socket.on('error', (err) => { outcome.error = err; });
    socket.once('secureConnect', () => {
      Object.assign(outcome, {
        secure: true,
        protocol: socket.getProtocol(),
        standardName: socket.getCipher().standardName,
        authorized: socket.authorized,
        reused: socket.isSessionReused(),
        peerCertificate: socket.getPeerCertificate(),
      });
      if (request !== null) socket.write(request);
    });
    return new Promise((resolve) => socket.once('close', () => resolve(outcome)));
  }

  // Our server for ssl_client2: reads its HTTP request, answers with `reply(socket)` and
  // ends the connection. Resolves with { port, connections, clientErrors }.
  async function replyingServer(options, reply = () => 'hello from mbedtls-stream\n') {
    const connections = [];
    const clientErrors = [];
    const server = track.server(ours.createServer(options, (socket) => {
      readUntil(socket, '\r\n\r\n').then((request) => {
        connections.push({
          request,
          protocol: socket.getProtocol(),
          standardName: socket.getCipher().standardName,
          reused: socket.isSessionReused(),
          authorized: socket.authorized,
          peerCN: socket.getPeerCertificate().subject?.CN,
        });
        socket.end(reply(socket));
      }, () => {});
    }));
    server.on('tlsClientError', (err) => clientErrors.push(err));
    return { port: await listen(server), connections, clientErrors, server };
  }

  // ssl_client2 against 127.0.0.1:port; resolves with { code, stdout, stderr } on its exit.
  async function sslClient2(port, args) {
    const { result } = run(path.join(programs, 'ssl_client2'),
      ['server_addr=127.0.0.1', `server_port=${port}`, 'server_name=localhost', ...args], { track });
    const exit = await result;
    return { ...exit, stdout: exit.stdout.toString() };
  }
  const withoutClientCert = ['crt_file=none', 'key_file=none'];
  const withClientCert = [`crt_file=${certs.path('client-chain.pem')}`, `key_file=${certs.path('client.key')}`];

  describe('our client with ssl_server2', function () {
    for (const version of VERSIONS) {
      describe(`force_version=${version.force}`, function () {
        it(`negotiates ${version.name}, verifies ssl_server2's chain and exchanges data`, async function () {
          const server = await startSslServer2([`force_version=${version.force}`]);
          const outcome = await exchange(server.port, {});
          assert.equal(outcome.error, null);
          assert.equal(outcome.protocol, version.name);
          assert.equal(outcome.authorized, true);
          assert.equal(outcome.peerCertificate.subject.CN, names.server);
          const { stdout } = await server.stop();
          const report = handshakeReport(stdout);
          assert.equal(report.protocol, version.name);
          assert.equal(report.standardName, outcome.standardName);
          assert.match(stdout, /< Read from client: 26 bytes read\s+hello from mbedtls-stream\n/);
          assert.match(outcome.data, /^HTTP\/1\.0 200 OK\r\n/);
          assert.ok(outcome.data.includes(`Successful connection using: ${/Ciphersuite is (\S+)/.exec(stdout)[1]}`));
        });

        // In TLS 1.3 the alert comes after the ServerHello, when ssl_server2 reads under the
        // handshake keys: deps/patches/0008 has our client protect it (and 0010 has an Mbed
        // TLS server read one in the clear).
        it('refusing ssl_server2\'s chain, our client tells it why', async function () {
          const server = await startSslServer2([`force_version=${version.force}`]);
          // Our own TCP socket, which closes once ssl_server2 has closed its end, having read
          // the alert: only then is ssl_server2 stopped.
          const tcp = track.socket(net.connect(server.port, '127.0.0.1'));
          const serverClosed = once(tcp, 'close');
          const outcome = await exchange(server.port, { socket: tcp, ca: certs.otherCa });
          assert.equal(outcome.secure, false);
          assert.equal(outcome.error?.code, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
          await serverClosed;
          const { stdout } = await server.stop();
          assert.match(stdout, /mbedtls_ssl_handshake returned -0x7780\b/);
          assert.match(stdout, /A fatal alert message was received from our peer/);
        });

        it('auth_mode=required: sends the client certificate ssl_server2 verifies', async function () {
          const server = await startSslServer2([`force_version=${version.force}`, 'auth_mode=required']);
          const outcome = await exchange(server.port, certs.client);
          assert.equal(outcome.error, null);
          assert.match(outcome.data, /^HTTP\/1\.0 200 OK\r\n/);
          const { stdout } = await server.stop();
          assert.match(stdout, /Verifying peer X\.509 certificate\.\.\. ok/);
          assert.match(stdout, new RegExp(`subject name\\s+: CN=${names.client}`));
        });

        it('auth_mode=optional: is served without a client certificate', async function () {
          const server = await startSslServer2([`force_version=${version.force}`, 'auth_mode=optional']);
          const outcome = await exchange(server.port, {});
          assert.equal(outcome.error, null);
          assert.match(outcome.data, /^HTTP\/1\.0 200 OK\r\n/);
          const { stdout } = await server.stop();
          assert.match(stdout, /Verifying peer X\.509 certificate\.\.\. failed\s+! Certificate was missing/);
        });

        it('auth_mode=none: is not asked for its certificate', async function () {
          const server = await startSslServer2([`force_version=${version.force}`, 'auth_mode=none']);
          const outcome = await exchange(server.port, certs.client);
          assert.equal(outcome.error, null);
          assert.match(outcome.data, /^HTTP\/1\.0 200 OK\r\n/);
          const { stdout } = await server.stop();
          assert.match(stdout, /Verifying peer X\.509 certificate\.\.\. failed\s+! Certificate verification was skipped/);
        });

        it('resumes the session ssl_server2 gave it', async function () {
          const server = await startSslServer2([`force_version=${version.force}`]);
          const first = await exchange(server.port, {});
          assert.equal(first.reused, false);
          assert.ok(first.sessions.length > 0, 'ssl_server2 gave a session');
          const second = await exchange(server.port, { session: first.sessions[first.sessions.length - 1] });
          assert.equal(second.error, null);
          assert.equal(second.reused, true);
          assert.match(second.data, /^HTTP\/1\.0 200 OK\r\n/);
          const { stdout } = await server.stop();
          assert.equal(stdout.match(/Performing the SSL\/TLS handshake\.\.\. ok/g).length, 2);
        });

        it('agrees on a pre-shared key given by psk= and psk_identity=', async function () {
          const server = await startSslServer2([`force_version=${version.force}`, `psk=${KEY_HEX}`, `psk_identity=${IDENTITY}`]);
          const outcome = await exchange(server.port, {
            ciphers: PSK_CIPHERS[version.name], minVersion: version.name, maxVersion: version.name,
            pskCallback: () => ({ psk: Buffer.from(KEY_HEX, 'hex'), identity: IDENTITY }),
          });
          assert.equal(outcome.error, null);
          assert.equal(outcome.protocol, version.name);
          assert.deepEqual(outcome.peerCertificate, {}, 'a PSK handshake, not a certificate one');
          assert.match(outcome.data, /^HTTP\/1\.0 200 OK\r\n/);
          const { stdout } = await server.stop();
          const report = handshakeReport(stdout);
          assert.equal(report.standardName, outcome.standardName);
          if (version.name === 'TLSv1.2') assert.match(report.standardName, /^TLS_(ECDHE_)?PSK_WITH_/);
          assert.match(stdout, /< Read from client: 26 bytes read/);
        });

        it('max_frag_len=512: reads a reply ssl_server2 sends in 512-byte records', async function () {
          const server = await startSslServer2([`force_version=${version.force}`, 'max_frag_len=512', 'response_size=3000']);
          const outcome = await exchange(server.port, {});
          assert.equal(outcome.error, null);
          // response_size pads the reply with B's to 3000 bytes.
          assert.equal(outcome.data.length, 3000);
          assert.ok(/^HTTP\/1\.0 200 OK\r\n[\s\S]*<\/p>\r\nB+$/.test(outcome.data), 'the padded reply, whole');
          const { stdout } = await server.stop();
          assert.equal(handshakeReport(stdout).maxOutgoing, version.name === 'TLSv1.2' ? 512 : 511);
          assert.match(stdout, /3000 bytes written in 6 fragments/);
        });
      });
    }

    it('asks for max_frag_len 1024 in TLS 1.2, which ssl_server2 honours both ways', async function () {
      const server = await startSslServer2(['force_version=tls12', 'response_size=3000']);
      const request = `${'y'.repeat(2999)}\n`;
      const outcome = await exchange(server.port, { maxFragmentLength: 1024 }, request);
      assert.equal(outcome.error, null);
      assert.equal(outcome.protocol, 'TLSv1.2');
      assert.equal(outcome.data.length, 3000);
      const { stdout } = await server.stop();
      const report = handshakeReport(stdout);
      assert.equal(report.maxIncoming, 1024);
      assert.equal(report.maxOutgoing, 1024);
      assert.match(stdout, /3000 bytes written in 3 fragments/);
      // Our records as ssl_server2 read them: none over 1024, all 3000 bytes.
      const reads = serverReads(stdout);
      assert.equal(sum(reads), 3000);
      assert.ok(reads.every((n) => n <= 1024), `records of ${reads}`);
    });

    it('force_version=tls13 refuses our TLS 1.2-only client with a protocol_version alert', async function () {
      const server = await startSslServer2(['force_version=tls13']);
      const outcome = await exchange(server.port, { maxVersion: 'TLSv1.2' });
      assert.equal(outcome.secure, false);
      assert.equal(outcome.error.code, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
      const { stdout } = await server.stop();
      assert.match(stdout, /Handshake protocol not within min\/max boundaries/);
    });

    it('auth_mode=required with force_version=tls12 refuses our client without a certificate', async function () {
      // Mbed TLS's TLS 1.2 server closes without an alert here (RFC 5246 makes the alert a
      // MAY), so our client sees the connection go, whatever the transport calls it.
      const server = await startSslServer2(['force_version=tls12', 'auth_mode=required']);
      const outcome = await exchange(server.port, {});
      assert.equal(outcome.secure, false);
      assert.ok(outcome.error, 'the handshake failed');
      assert.equal(outcome.data, '');
      const { stdout } = await server.stop();
      assert.match(stdout, /No client certification received from the client, but required by the authentication mode/);
    });

    it('auth_mode=required with force_version=tls12 refuses a client certificate it cannot verify', async function () {
      const server = await startSslServer2(['force_version=tls12', 'auth_mode=required', `ca_file=${certs.path('other-ca.pem')}`]);
      const outcome = await exchange(server.port, certs.client);
      assert.equal(outcome.secure, false);
      assert.equal(outcome.error.code, 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA');
      const { stdout } = await server.stop();
      assert.match(stdout, /The certificate is not correctly signed by the trusted CA/);
    });

    // Mbed TLS 3.6.6's TLS 1.3 server sent its refusal after its Finished under keys a client
    // no longer reads, and said no_certificate for a missing one (Mbed-TLS/mbedtls#10877 and
    // #10720): deps/patches/0004 and 0005, which ssl_server2 is built with too.
    it('auth_mode=required with force_version=tls13: our client reads the certificate_required alert', async function () {
      const server = await startSslServer2(['force_version=tls13', 'auth_mode=required']);
      const outcome = await exchange(server.port, {}, null);
      assert.equal(outcome.error?.code, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
      assert.equal(outcome.data, '');
      const { stdout } = await server.stop();
      assert.match(stdout, /No client certification received from the client, but required by the authentication mode/);
    });

    it('auth_mode=required with force_version=tls13: our client reads the unknown_ca alert', async function () {
      const server = await startSslServer2(['force_version=tls13', 'auth_mode=required', `ca_file=${certs.path('other-ca.pem')}`]);
      const outcome = await exchange(server.port, certs.client, null);
      assert.equal(outcome.error?.code, 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA');
      assert.equal(outcome.data, '');
      const { stdout } = await server.stop();
      assert.match(stdout, /The certificate is not correctly signed by the trusted CA/);
    });
  });

  describe('ssl_client2 with our server', function () {
    for (const version of VERSIONS) {
      describe(`force_version=${version.force}`, function () {
        const trust = [`ca_file=${certs.path('ca.pem')}`];

        for (const keyType of ['ecdsa', 'rsa']) {
          it(`auth_mode=required: verifies our ${keyType.toUpperCase()} chain, negotiates ${version.name} and exchanges data`, async function () {
            const { port, connections } = await replyingServer(certs[keyType]);
            const result = await sslClient2(port, [...trust, `force_version=${version.force}`, 'auth_mode=required', ...withoutClientCert]);
            assert.equal(result.code, 0, result.stdout);
            assert.equal(connections.length, 1);
            assert.match(connections[0].request, /^GET \/ HTTP\/1\.0\r\nHost: localhost\r\n/);
            assert.equal(connections[0].protocol, version.name);
            const report = handshakeReport(result.stdout);
            assert.equal(report.protocol, version.name);
            assert.equal(report.standardName, connections[0].standardName);
            assert.match(result.stdout, /Verifying peer X\.509 certificate\.\.\. ok/);
            assert.match(result.stdout, /subject name\s+: CN=localhost/);
            assert.match(result.stdout, /< Read from server: 26 bytes read\s+hello from mbedtls-stream\n/);
          });
        }

        // In TLS 1.3 the alert comes after the ServerHello: Mbed TLS 3.6.6's client sent it in
        // the clear, which our server, reading under the handshake keys, took for a bad record
        // MAC; deps/patches/0008 makes the client protect it (and 0010 has our server read
        // one in the clear, as OpenSSL's client sends it).
        it('auth_mode=required: refuses a chain it cannot verify, and our server hears why', async function () {
          const { port, connections, clientErrors, server } = await replyingServer(certs.ecdsa);
          const reported = once(server, 'tlsClientError');
          const result = await sslClient2(port, [`ca_file=${certs.path('other-ca.pem')}`, `force_version=${version.force}`,
            'auth_mode=required', ...withoutClientCert]);
          assert.notEqual(result.code, 0);
          assert.match(result.stdout, /The certificate is not correctly signed by the trusted CA/);
          await reported;
          assert.equal(connections.length, 0);
          assert.deepEqual(clientErrors.map((err) => err.code), ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA']);
        });

        it('auth_mode=optional: goes on after a failed verification', async function () {
          const { port, connections } = await replyingServer(certs.ecdsa);
          const result = await sslClient2(port, [`ca_file=${certs.path('other-ca.pem')}`, `force_version=${version.force}`,
            'auth_mode=optional', ...withoutClientCert]);
          assert.equal(result.code, 0, result.stdout);
          assert.match(result.stdout, /Verifying peer X\.509 certificate\.\.\. failed\s+! The certificate is not correctly signed by the trusted CA/);
          assert.equal(connections.length, 1);
          assert.match(result.stdout, /hello from mbedtls-stream/);
        });

        it('auth_mode=none: does not verify', async function () {
          const { port, connections } = await replyingServer(certs.ecdsa);
          const result = await sslClient2(port, [`ca_file=${certs.path('other-ca.pem')}`, `force_version=${version.force}`,
            'auth_mode=none', ...withoutClientCert]);
          // With other-ca as its trust, only skipping verification lets it through.
          assert.equal(result.code, 0, result.stdout);
          assert.match(result.stdout, /Verifying peer X\.509 certificate\.\.\. ok/);
          assert.doesNotMatch(result.stdout, /subject name/, 'it kept no certificate it did not verify');
          assert.equal(connections.length, 1);
          assert.match(result.stdout, /< Read from server: 26 bytes read\s+hello from mbedtls-stream\n/);
        });

        it("verifies ssl_client2's client certificate", async function () {
          const { port, connections } = await replyingServer({ ...certs.ecdsa, requestCert: true, ca: certs.ca },
            (socket) => `client ${socket.authorized}\n`);
          const result = await sslClient2(port, [...trust, `force_version=${version.force}`, ...withClientCert]);
          assert.equal(result.code, 0, result.stdout);
          assert.equal(connections[0].authorized, true);
          assert.equal(connections[0].peerCN, names.client);
          assert.match(result.stdout, /< Read from server: 12 bytes read\s+client true\n/);
        });

        it('reconnect=1: resumes its session', async function () {
          const { port, connections } = await replyingServer(certs.ecdsa);
          // A TLS 1.3 ssl_client2 keeps a ticket only when told to hand it over.
          const tickets = version.name === 'TLSv1.3' ? ['new_session_tickets=1'] : [];
          const result = await sslClient2(port, [...trust, `force_version=${version.force}`, 'reconnect=1', ...tickets,
            ...withoutClientCert]);
          assert.equal(result.code, 0, result.stdout);
          assert.match(result.stdout, /Reconnecting with saved session\.\.\. ok/);
          assert.deepEqual(connections.map((c) => c.reused), [false, true]);
          assert.equal(clientReads(result.stdout).length, 2);
        });

        it('agrees on a pre-shared key given by psk= and psk_identity=', async function () {
          const identities = [];
          const { port, connections } = await replyingServer({
            ciphers: PSK_CIPHERS[version.name], minVersion: version.name, maxVersion: version.name,
            pskCallback(socket, identity) {
              identities.push(identity);
              return identity === IDENTITY ? Buffer.from(KEY_HEX, 'hex') : null;
            },
          });
          const result = await sslClient2(port, [`force_version=${version.force}`, `psk=${KEY_HEX}`,
            `psk_identity=${IDENTITY}`, ...withoutClientCert]);
          assert.equal(result.code, 0, result.stdout);
          assert.deepEqual(identities, [IDENTITY]);
          assert.equal(connections[0].protocol, version.name);
          const report = handshakeReport(result.stdout);
          assert.equal(report.standardName, connections[0].standardName);
          if (version.name === 'TLSv1.2') assert.match(report.standardName, /^TLS_(ECDHE_)?PSK_WITH_/);
          assert.match(result.stdout, /< Read from server: 26 bytes read\s+hello from mbedtls-stream\n/);
        });
      });
    }

    it('max_frag_len=512 with force_version=tls12: every record our server sends stays within 512 bytes', async function () {
      const reply = `${'x'.repeat(2999)}\n`;
      const { port, connections } = await replyingServer(certs.ecdsa, () => reply);
      const result = await sslClient2(port, [`ca_file=${certs.path('ca.pem')}`, 'force_version=tls12', 'max_frag_len=512',
        ...withoutClientCert]);
      assert.equal(result.code, 0, result.stdout);
      assert.equal(connections.length, 1);
      const report = handshakeReport(result.stdout);
      assert.equal(report.maxIncoming, 512);
      assert.equal(report.maxOutgoing, 512);
      // Each read returns one record's payload at most: none over 512, all 3000 bytes.
      const reads = clientReads(result.stdout);
      assert.equal(sum(reads), 3000);
      assert.ok(reads.every((n) => n <= 512), `records of ${reads}`);
    });

    it('force_version=tls12 is refused by our TLS 1.3-only server with a protocol_version alert', async function () {
      const { port, connections, server } = await replyingServer({ ...certs.ecdsa, minVersion: 'TLSv1.3' });
      const reported = once(server, 'tlsClientError');
      const result = await sslClient2(port, [`ca_file=${certs.path('ca.pem')}`, 'force_version=tls12', ...withoutClientCert]);
      assert.notEqual(result.code, 0);
      assert.match(result.stdout, /Performing the SSL\/TLS handshake\.\.\. failed/);
      assert.match(result.stdout, /A fatal alert message was received from our peer/);
      assert.ok(await reported);
      assert.equal(connections.length, 0);
    });

    // Mbed TLS's own code for it is -0x6E80 (ERR_MBEDTLS_SSL_BAD_PROTOCOL_VERSION); node names it.
    it("names a TLS 1.2-only ssl_client2's failure as node does", async function () {
      const { port, server } = await replyingServer({ ...certs.ecdsa, minVersion: 'TLSv1.3' });
      const reported = once(server, 'tlsClientError');
      await sslClient2(port, [`ca_file=${certs.path('ca.pem')}`, 'force_version=tls12', ...withoutClientCert]);
      assert.equal((await reported).code, 'ERR_SSL_UNSUPPORTED_PROTOCOL');
    });
  });
});
