'use strict';
// Interoperability with GnuTLS's command-line tools (Debian's gnutls-bin), TLS 1.2 and 1.3,
// certificates and PSK: our client against `gnutls-serv --echo` (mutual TLS, resumption, a
// HelloRetryRequest by group), and `gnutls-cli` against our server (mutual TLS, --resume,
// --recordsize for record_size_limit, a HelloRetryRequest by group). Assertions are on the
// data both ways, on our sockets, and on what the GnuTLS tools print.

const ours = require('..');
const {
  assert, certs, names, listen, once, readUntil, useCleanup, startPeerServer,
} = require('./helpers');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const KEY_HEX = '00112233445566778899aabbccddeeff';
const IDENTITY = 'sensor-17';

const VERSIONS = [
  { name: 'TLSv1.2', gnutls: 'TLS1.2' },
  { name: 'TLSv1.3', gnutls: 'TLS1.3' },
];
// GnuTLS priority strings: one version only, and the PSK key exchanges added for PSK tests.
const only = (version) => `NORMAL:-VERS-ALL:+VERS-${version.gnutls}`;
const withPsk = (version) => `${only(version)}:+PSK:+ECDHE-PSK:+DHE-PSK`;
// TLS 1.2 needs a PSK suite named (node's defaults leave them out); TLS 1.3 takes its own.
const PSK_CIPHERS = { 'TLSv1.2': 'PSK-AES128-GCM-SHA256:ECDHE-PSK-CHACHA20-POLY1305', 'TLSv1.3': undefined };

// The "- Description: (TLS1.3-X.509)-(ECDHE-X25519)-(ECDSA-SECP256R1-SHA256)-(AES-256-GCM)"
// lines both tools print, one per handshake, as { version, keyExchange, cipher }: GnuTLS
// leaves out what a handshake did not have, "(TLS1.3-X.509)--(AES-256-GCM)" on resumption.
function descriptions(output) {
  return [...output.matchAll(/^- Description: (.*)$/gm)].map(([, line]) => {
    const fields = [...line.matchAll(/\(([^()]*)\)/g)].map((match) => match[1]);
    return {
      version: fields[0].split('-')[0],
      keyExchange: fields.length > 2 ? fields[1] : null,
      cipher: fields[fields.length - 1],
    };
  });
}

// What our socket negotiated, kept for assertions after it closed.
const parameters = (socket) => ({ protocol: socket.getProtocol(), standardName: socket.getCipher().standardName });

// Asserts that GnuTLS's description of a handshake names the version and the bulk cipher
// our socket reported (GnuTLS says AES-128-GCM where the suite's standard name has AES_128_GCM).
function assertSameParameters(description, ourParameters) {
  assert.equal(description.version, ourParameters.protocol.replace('v', ''));
  assert.ok(ourParameters.standardName.includes(description.cipher.replace(/-/g, '_')),
    `GnuTLS's ${description.cipher} is our ${ourParameters.standardName}`);
}

describe('GnuTLS interop', function () {
  const track = useCleanup();
  // Temporary directories a test made, removed after it.
  const directories = [];
  afterEach(() => {
    for (const dir of directories.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  // A PSK password file for gnutls-serv --pskpasswd giving IDENTITY the key `keyHex`.
  function pskPasswordFile(keyHex = KEY_HEX) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mbedtls-stream-gnutls-'));
    directories.push(dir);
    const file = path.join(dir, 'psk.passwd');
    fs.writeFileSync(file, `${IDENTITY}:${keyHex}\n`);
    return file;
  }

  // gnutls-serv in echo mode on a port of its choosing; `stop()` gives what it printed.
  // It listens on every interface (it has no option to bind one); the tests use 127.0.0.1.
  function startGnutlsServ(args) {
    return startPeerServer(track, 'gnutls-serv', ['--port', '0', '--echo', ...args], {
      ready: /listening on IPv4 .* port 0\.\.\.done/,
    });
  }
  const serverCertArgs = (keyType = 'ecdsa') => [
    '--x509keyfile', certs.path(`server-${keyType}.key`),
    '--x509certfile', certs.path(`server-${keyType}-chain.pem`),
  ];

  // Connects our client, resolves with the socket once the handshake completed. The
  // sessions it is given collect in socket.sessions (TLS 1.2's before 'secureConnect').
  async function connect(port, options = {}) {
    const socket = track.socket(ours.connect({
      port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, ...options,
    }));
    socket.sessions = [];
    socket.on('session', (session) => socket.sessions.push(session));
    await once(socket, 'secureConnect');
    return socket;
  }

  // Sends a line, resolves with what gnutls-serv echoed, then closes the connection.
  async function echoLine(socket, line) {
    const echoed = readUntil(socket, '\n');
    socket.write(`${line}\n`);
    const answer = await echoed;
    const closed = once(socket, 'close');
    socket.end();
    await closed;
    return answer;
  }

  // gnutls-cli against 127.0.0.1:port with `input` on its stdin (left open: at the end of its
  // input gnutls-cli would close the connection before our server's reply), resolving with
  // { code, stdout, stderr } once it exits (our server ends each connection after its reply).
  function gnutlsCli(port, args, input) {
    const child = track.child(spawn('gnutls-cli', ['--port', String(port), ...args, '127.0.0.1'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    }));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.stdin.on('error', () => {}); // gnutls-cli may be gone before it reads its input
    child.stdin.write(input);
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  // Our server, answering each connection's first line with `reply(socket)` and ending it.
  // Resolves with { port, connections, server }: per connection, the line it read, the socket,
  // what it negotiated and whether it resumed.
  async function replyingServer(options, reply = () => 'hello from mbedtls-stream\n') {
    const connections = [];
    const server = track.server(ours.createServer(options, (socket) => {
      readUntil(socket, '\n').then((line) => {
        connections.push({ line, socket, ...parameters(socket), reused: socket.isSessionReused() });
        socket.end(reply(socket));
      }, () => {});
    }));
    return { port: await listen(server), connections, server };
  }

  describe('our client with gnutls-serv', function () {
    for (const version of VERSIONS) {
      describe(version.name, function () {
        for (const keyType of ['ecdsa', 'rsa']) {
          it(`verifies gnutls-serv's ${keyType.toUpperCase()} chain, negotiates ${version.name} and exchanges data`, async function () {
            const server = await startGnutlsServ([...serverCertArgs(keyType), '--priority', only(version)]);
            const socket = await connect(server.port);
            assert.equal(socket.getProtocol(), version.name);
            assert.equal(socket.authorized, true, socket.authorizationError);
            assert.equal(socket.getPeerCertificate(true).issuerCertificate.subject.CN, names.intermediate);
            const negotiated = parameters(socket);
            assert.equal(await echoLine(socket, 'hello from mbedtls-stream'), 'hello from mbedtls-stream\n');
            const { stdout } = await server.stop();
            assertSameParameters(descriptions(stdout)[0], negotiated);
            assert.match(stdout, new RegExp(`^- Version: ${version.gnutls.replace('.', '\\.')}$`, 'm'));
          });
        }

        it('sends a client certificate that gnutls-serv requires and verifies', async function () {
          const server = await startGnutlsServ([...serverCertArgs(), '--priority', only(version),
            '--require-client-cert', '--verify-client-cert', '--x509cafile', certs.path('ca.pem')]);
          const socket = await connect(server.port, certs.client);
          assert.equal(await echoLine(socket, 'mutual'), 'mutual\n');
          const { stdout } = await server.stop();
          assert.match(stdout, /^- Status: The certificate is trusted\./m);
          assert.match(stdout, /^- Client Signature: /m);
        });

        it('resumes the session gnutls-serv gave it', async function () {
          const server = await startGnutlsServ([...serverCertArgs(), '--priority', only(version)]);
          const first = await connect(server.port);
          assert.equal(first.isSessionReused(), false);
          // A TLS 1.3 ticket comes after the handshake, before the echo.
          assert.equal(await echoLine(first, 'first'), 'first\n');
          assert.ok(first.sessions.length > 0, 'gnutls-serv gave a session');
          const second = await connect(server.port, { session: first.sessions[first.sessions.length - 1] });
          assert.equal(second.isSessionReused(), true);
          assert.equal(await echoLine(second, 'second'), 'second\n');
          const { stdout } = await server.stop();
          assert.equal(stdout.match(/^\*\*\* This is a resumed session$/gm)?.length, 1);
        });

        it('agrees on a pre-shared key with gnutls-serv --pskpasswd', async function () {
          const server = await startGnutlsServ(['--pskpasswd', pskPasswordFile(), '--priority', withPsk(version)]);
          const socket = await connect(server.port, {
            ciphers: PSK_CIPHERS[version.name], minVersion: version.name, maxVersion: version.name,
            pskCallback: () => ({ psk: Buffer.from(KEY_HEX, 'hex'), identity: IDENTITY }),
          });
          assert.equal(socket.getProtocol(), version.name);
          assert.deepEqual(socket.getPeerCertificate(), {});
          assert.equal(await echoLine(socket, 'psk'), 'psk\n');
          const { stdout } = await server.stop();
          assert.match(stdout, new RegExp(`^- PSK authentication\\. Connected as '${IDENTITY}'$`, 'm'));
          assert.match(stdout, new RegExp(`^- Version: ${version.gnutls.replace('.', '\\.')}$`, 'm'));
        });

        it('fails the handshake when gnutls-serv holds another key for its identity', async function () {
          const server = await startGnutlsServ(['--pskpasswd', pskPasswordFile('ff'.repeat(16)), '--priority', withPsk(version)]);
          const socket = track.socket(ours.connect({
            port: server.port, host: '127.0.0.1', ciphers: PSK_CIPHERS[version.name],
            minVersion: version.name, maxVersion: version.name,
            pskCallback: () => ({ psk: Buffer.from(KEY_HEX, 'hex'), identity: IDENTITY }),
          }));
          const error = await once(socket, 'error');
          // GnuTLS's alert: it cannot decrypt our TLS 1.2 Finished, and refuses our TLS 1.3 binder.
          const alert = { 'TLSv1.2': 'BAD_RECORD_MAC', 'TLSv1.3': 'ILLEGAL_PARAMETER' }[version.name];
          assert.equal(error.code, `ERR_SSL_SSLV3_ALERT_${alert}`);
          assert.doesNotMatch((await server.stop()).stdout, /PSK authentication\. Connected/);
        });
      });
    }

    it('answers the HelloRetryRequest of a TLS 1.3 gnutls-serv that takes only SECP384R1', async function () {
      // Our client's first key share is X25519: gnutls-serv must ask for another.
      const server = await startGnutlsServ([...serverCertArgs(),
        '--priority', `${only(VERSIONS[1])}:-GROUP-ALL:+GROUP-SECP384R1`, '--debug', '4']);
      const socket = await connect(server.port);
      assert.equal(socket.getProtocol(), 'TLSv1.3');
      assert.equal(socket.authorized, true, socket.authorizationError);
      assert.equal(await echoLine(socket, 'after a retry'), 'after a retry\n');
      const { stdout, stderr } = await server.stop();
      assert.match(stderr, /requesting retry with group SECP384R1/);
      assert.match(stderr, /HELLO RETRY REQUEST was queued/);
      assert.equal(descriptions(stdout)[0].keyExchange, 'ECDHE-SECP384R1');
    });
  });

  describe('gnutls-cli with our server', function () {
    for (const version of VERSIONS) {
      describe(version.name, function () {
        const trustArgs = ['--x509cafile', certs.path('ca.pem'), '--verify-hostname', 'localhost'];

        for (const keyType of ['ecdsa', 'rsa']) {
          it(`verifies our ${keyType.toUpperCase()} chain, negotiates ${version.name} and exchanges data`, async function () {
            const { port, connections } = await replyingServer(certs[keyType]);
            const result = await gnutlsCli(port, [...trustArgs, '--priority', only(version)], 'hello from gnutls-cli\n');
            assert.equal(result.code, 0, result.stdout + result.stderr);
            assert.equal(connections.length, 1);
            assert.equal(connections[0].line, 'hello from gnutls-cli\n');
            assert.equal(connections[0].protocol, version.name);
            assert.match(result.stdout, /^- Status: The certificate is trusted\.\s*$/m);
            assert.match(result.stdout, /^hello from mbedtls-stream$/m);
            const [description] = descriptions(result.stdout);
            assertSameParameters(description, connections[0]);
          });
        }

        it('is refused by gnutls-cli trusting only another CA', async function () {
          const { port, server } = await replyingServer(certs.ecdsa);
          server.on('tlsClientError', () => {});
          const result = await gnutlsCli(port, ['--x509cafile', certs.path('other-ca.pem'),
            '--verify-hostname', 'localhost', '--priority', only(version)], 'hello\n');
          assert.notEqual(result.code, 0);
          assert.match(result.stdout, /The certificate is NOT trusted/);
          assert.doesNotMatch(result.stdout, /^hello from mbedtls-stream$/m);
        });

        it("verifies gnutls-cli's client certificate", async function () {
          const { port, connections } = await replyingServer({ ...certs.ecdsa, requestCert: true, ca: certs.ca },
            (socket) => `client ${socket.authorized} ${socket.getPeerCertificate().subject.CN}\n`);
          const result = await gnutlsCli(port, [...trustArgs, '--priority', only(version),
            '--x509certfile', certs.path('client-chain.pem'), '--x509keyfile', certs.path('client.key')], 'mutual\n');
          assert.equal(result.code, 0, result.stdout + result.stderr);
          assert.equal(connections[0].line, 'mutual\n');
          assert.match(result.stdout, new RegExp(`^client true ${names.client}$`, 'm'));
        });

        const resumptions = version.name === 'TLSv1.2'
          ? [['a session ticket', []], ['the session ID cache', ['--noticket']]]
          : [['a session ticket', []]];
        for (const [how, extraArgs] of resumptions) {
          it(`resumes with gnutls-cli --resume through ${how}`, async function () {
            const { port, connections } = await replyingServer(certs.ecdsa);
            const result = await gnutlsCli(port, [...trustArgs, '--priority', only(version), '--resume', ...extraArgs],
              'hello again\n');
            assert.equal(result.code, 0, result.stdout + result.stderr);
            assert.match(result.stdout, /^\*\*\* This is a resumed session$/m);
            assert.match(result.stdout, /^hello from mbedtls-stream$/m);
            // The first connection carries no data: gnutls-cli closes it after its handshake.
            assert.deepEqual(connections.map((c) => [c.line, c.reused]), [['hello again\n', true]]);
          });
        }

        it('agrees on a pre-shared key with gnutls-cli --pskusername/--pskkey', async function () {
          const identities = [];
          const { port, connections } = await replyingServer({
            ciphers: PSK_CIPHERS[version.name], minVersion: version.name, maxVersion: version.name,
            pskCallback(socket, identity) {
              identities.push(identity);
              return identity === IDENTITY ? Buffer.from(KEY_HEX, 'hex') : null;
            },
          });
          const result = await gnutlsCli(port, ['--priority', withPsk(version),
            '--pskusername', IDENTITY, '--pskkey', KEY_HEX], 'psk\n');
          assert.equal(result.code, 0, result.stdout + result.stderr);
          assert.deepEqual(identities, [IDENTITY]);
          assert.equal(connections[0].line, 'psk\n');
          assert.equal(connections[0].protocol, version.name);
          assert.match(result.stdout, new RegExp(`^- PSK authentication\\. Connected as '${IDENTITY}'$`, 'm'));
          assert.match(result.stdout, /^hello from mbedtls-stream$/m);
          assertSameParameters(descriptions(result.stdout)[0], connections[0]);
        });
      });
    }

    // A reply of many records: gnutls-cli refuses any record larger than it asked for.
    const LONG_REPLY = `${'0123456789'.repeat(2000)}\n`;

    it('keeps every record within gnutls-cli --recordsize 512 in TLS 1.2 (max_fragment_length)', async function () {
      // Mbed TLS negotiates record_size_limit in TLS 1.3 only; gnutls-cli also asks for
      // max_fragment_length 512, which our server honours for every record it sends.
      const { port, connections } = await replyingServer(certs.ecdsa, () => LONG_REPLY);
      const result = await gnutlsCli(port, ['--x509cafile', certs.path('ca.pem'), '--verify-hostname', 'localhost',
        '--priority', only(VERSIONS[0]), '--recordsize', '512'], 'small records\n');
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.equal(connections[0].line, 'small records\n');
      assert.ok(result.stdout.includes(LONG_REPLY), 'gnutls-cli printed the whole reply');
    });

    it('keeps its application data within gnutls-cli --recordsize 1024 in TLS 1.3 (record_size_limit)', async function () {
      const { port, connections } = await replyingServer(certs.ecdsa, () => LONG_REPLY);
      const result = await gnutlsCli(port, ['--x509cafile', certs.path('ca.pem'), '--verify-hostname', 'localhost',
        '--priority', only(VERSIONS[1]), '--recordsize', '1024'], 'small records\n');
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.equal(connections[0].line, 'small records\n');
      assert.ok(result.stdout.includes(LONG_REPLY), 'gnutls-cli printed the whole reply');
    });

    // Every protected handshake record too (the Certificate message here, 976 bytes in one
    // record without patch 0006): gnutls-cli fails with "Decryption has failed" otherwise.
    it('keeps its protected handshake records within gnutls-cli --recordsize 512 in TLS 1.3 (record_size_limit)', async function () {
      const { port, connections } = await replyingServer(certs.ecdsa, () => LONG_REPLY);
      const result = await gnutlsCli(port, ['--x509cafile', certs.path('ca.pem'), '--verify-hostname', 'localhost',
        '--priority', only(VERSIONS[1]), '--recordsize', '512'], 'small records\n');
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.equal(connections[0].line, 'small records\n');
      assert.ok(result.stdout.includes(LONG_REPLY), 'gnutls-cli printed the whole reply');
    });

    it('sends a HelloRetryRequest to a TLS 1.3 gnutls-cli whose key share is for SECP224R1', async function () {
      // Our server has no SECP224R1: it must ask for a share of SECP384R1, the next group.
      const { port, connections } = await replyingServer(certs.ecdsa);
      const result = await gnutlsCli(port, ['--x509cafile', certs.path('ca.pem'), '--verify-hostname', 'localhost',
        '--priority', `${only(VERSIONS[1])}:-GROUP-ALL:+GROUP-SECP224R1:+GROUP-SECP384R1`, '--debug', '4'],
      'after a retry\n');
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stderr, /HELLO RETRY REQUEST \(\d+\) was received/);
      assert.equal(descriptions(result.stdout)[0].keyExchange, 'ECDHE-SECP384R1');
      assert.equal(connections[0].line, 'after a retry\n');
      assert.match(result.stdout, /^hello from mbedtls-stream$/m);
    });
  });
});
