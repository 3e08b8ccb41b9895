'use strict';
// DTLS 1.2 interoperability with GnuTLS's command-line tools over UDP (Debian's gnutls-bin):
// our dtls client against `gnutls-serv --udp --echo` and `gnutls-cli --udp` against our dtls
// server, with certificates (ECDSA and RSA chains, mutual authentication), PSK and resumption.
// Assertions are on the records both ways, on our sockets, and on what the GnuTLS tools print.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const dtls = require('../dtls');
const {
  assert, certs, names, once, useCleanup, run, startPeerServer,
} = require('./helpers');

const KEY_HEX = '00112233445566778899aabbccddeeff';
const IDENTITY = 'sensor-17';
// GnuTLS priority strings: DTLS 1.2 only, and the PSK key exchanges added for PSK tests.
const DTLS12 = 'NORMAL:-VERS-ALL:+VERS-DTLS1.2';
const DTLS12_PSK = `${DTLS12}:+PSK:+ECDHE-PSK:+DHE-PSK`;

// The "- Description: (DTLS1.2-X.509)-(ECDHE-X25519)-(ECDSA-SHA256)-(AES-256-GCM)" lines,
// one per handshake: the version and the bulk cipher.
function descriptions(output) {
  return [...output.matchAll(/^- Description: (.*)$/gm)].map(([, line]) => {
    const fields = [...line.matchAll(/\(([^()]*)\)/g)].map((match) => match[1]);
    return { version: fields[0].split('-')[0], cipher: fields[fields.length - 1] };
  });
}

// GnuTLS names the bulk cipher AES-128-GCM where the suite's standard name has AES_128_GCM.
function assertSameCipher(description, standardName) {
  assert.equal(description.version, 'DTLS1.2');
  assert.ok(standardName.includes(description.cipher.replace(/-/g, '_')),
    `GnuTLS's ${description.cipher} is our ${standardName}`);
}

describe('DTLS: GnuTLS interop', function () {
  const track = useCleanup();
  const directories = [];
  afterEach(() => {
    for (const dir of directories.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  // A PSK password file for gnutls-serv --pskpasswd giving IDENTITY the key `keyHex`.
  function pskPasswordFile(keyHex = KEY_HEX) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mbedtls-stream-dtls-gnutls-'));
    directories.push(dir);
    const file = path.join(dir, 'psk.passwd');
    fs.writeFileSync(file, `${IDENTITY}:${keyHex}\n`);
    return file;
  }

  describe('our client with gnutls-serv --udp', function () {
    // gnutls-serv echoing each record, on a UDP port of its choosing (on every interface:
    // it has no option to bind one; the tests use 127.0.0.1). Its output is line-buffered
    // (stdbuf): over UDP it does not flush stdout when it is stopped. Handshakes it fails are
    // not tested here: gnutls-serv 3.7 --udp sends no alert and then spins, printing "Waiting
    // for connection..." without end; gnutls-cli's refusals and failures are tested below.
    function startGnutlsServ(args) {
      return startPeerServer(track, 'stdbuf', ['-oL', 'gnutls-serv', '--udp', '--port', '0', '--echo', ...args], {
        ready: /listening on IPv4 .* port 0\.\.\.done/, protocol: 'udp',
      });
    }
    // What gnutls-serv --udp prints of a session: "Accepted connection from IPv4 127.0.0.1
    // port N", then "received[epoch and sequence number]: payload" per record.
    const acceptedPorts = (stdout) => [...stdout.matchAll(/^Accepted connection from IPv4 127\.0\.0\.1 port (\d+)$/gm)]
      .map((m) => Number(m[1]));
    const receivedRecords = (stdout) => [...stdout.matchAll(/^received\[[0-9a-f]+\]: (.*)$/gm)].map((m) => m[1]);
    const serverCertArgs = (keyType = 'ecdsa') => [
      '--x509keyfile', certs.path(`server-${keyType}.key`),
      '--x509certfile', certs.path(`server-${keyType}-chain.pem`),
    ];

    // Our client, resolved once its handshake completed; sessions it was given are kept.
    async function connect(port, options = {}) {
      const socket = track.socket(dtls.connect({
        host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca, ...options,
      }));
      socket.sessions = [];
      socket.on('session', (session) => socket.sessions.push(session));
      await once(socket, 'secureConnect');
      return socket;
    }

    // Sends one record and resolves with the record echoed back.
    async function echo(socket, text) {
      const answer = once(socket, 'message');
      socket.send(text);
      return (await answer).toString();
    }

    for (const keyType of ['ecdsa', 'rsa']) {
      it(`verifies gnutls-serv's ${keyType.toUpperCase()} chain, negotiates DTLSv1.2 and exchanges records`, async function () {
        const server = await startGnutlsServ([...serverCertArgs(keyType), '--priority', DTLS12]);
        const socket = await connect(server.port);
        assert.equal(socket.getProtocol(), 'DTLSv1.2');
        assert.equal(socket.authorized, true, socket.authorizationError);
        assert.equal(socket.getPeerCertificate(true).issuerCertificate.subject.CN, names.intermediate);
        const { standardName } = socket.getCipher();
        assert.match(standardName, keyType === 'ecdsa' ? /_ECDSA_/ : /_RSA_/);
        assert.equal(await echo(socket, 'hello from mbedtls-stream'), 'hello from mbedtls-stream');
        // Records keep their bounds both ways: three sends, three echoes.
        const answers = [];
        socket.on('message', (m) => answers.push(m.toString()));
        for (const text of ['one', 'two', 'three']) socket.send(text);
        while (answers.length < 3) await once(socket, 'message');
        assert.deepEqual(answers.sort(), ['one', 'three', 'two']);
        const clientPort = socket.address().port;
        socket.close();
        await once(socket, 'close');
        const { stdout } = await server.stop();
        assert.deepEqual(acceptedPorts(stdout), [clientPort]);
        assert.deepEqual(receivedRecords(stdout).slice(0, 1), ['hello from mbedtls-stream']);
        assert.deepEqual(receivedRecords(stdout).slice(1).sort(), ['one', 'three', 'two']);
      });
    }

    it('sends a client certificate that gnutls-serv requires and verifies', async function () {
      const server = await startGnutlsServ([...serverCertArgs(), '--priority', DTLS12,
        '--require-client-cert', '--verify-client-cert', '--x509cafile', certs.path('ca.pem')]);
      const socket = await connect(server.port, certs.client);
      assert.equal(await echo(socket, 'mutual'), 'mutual');
      socket.close();
      await once(socket, 'close');
      const { stdout } = await server.stop();
      assert.match(stdout, /^- Status: The certificate is trusted\./m);
    });

    it('resumes the session gnutls-serv gave it', async function () {
      const server = await startGnutlsServ([...serverCertArgs(), '--priority', DTLS12]);
      const first = await connect(server.port);
      assert.equal(first.isSessionReused(), false);
      assert.equal(await echo(first, 'first'), 'first');
      assert.ok(first.sessions.length > 0, 'gnutls-serv gave a session');
      first.close();
      await once(first, 'close');
      const second = await connect(server.port, { session: first.sessions[first.sessions.length - 1] });
      assert.equal(second.isSessionReused(), true);
      assert.equal(await echo(second, 'second'), 'second');
      second.close();
      await once(second, 'close');
      const { stdout } = await server.stop();
      assert.deepEqual(receivedRecords(stdout), ['first', 'second']);
    });

    it('agrees on a pre-shared key with gnutls-serv --pskpasswd', async function () {
      const server = await startGnutlsServ(['--pskpasswd', pskPasswordFile(), '--priority', DTLS12_PSK]);
      const hints = [];
      const socket = await connect(server.port, {
        pskCallback: (hint) => {
          hints.push(hint);
          return { psk: Buffer.from(KEY_HEX, 'hex'), identity: IDENTITY };
        },
      });
      assert.equal(hints.length, 1);
      assert.equal(socket.getProtocol(), 'DTLSv1.2');
      assert.match(socket.getCipher().standardName, /PSK/);
      assert.deepEqual(socket.getPeerCertificate(), {});
      assert.equal(await echo(socket, 'psk'), 'psk');
      socket.close();
      await once(socket, 'close');
      const { stdout } = await server.stop();
      assert.deepEqual(receivedRecords(stdout), ['psk']);
    });
  });

  describe('gnutls-cli --udp with our server', function () {
    const trustArgs = ['--x509cafile', certs.path('ca.pem'), '--verify-hostname', 'localhost'];

    // Our server answering each session's first record with `reply(socket)`, then closing it
    // (close_notify, on which gnutls-cli exits). Resolves with { port, connections, server }:
    // per session, the record it read and what it negotiated.
    async function replyingServer(options, reply = () => 'hello from mbedtls-stream\n') {
      const connections = [];
      const server = track.server(dtls.createServer(options, (socket) => {
        socket.once('message', (message) => {
          connections.push({
            message: message.toString(),
            protocol: socket.getProtocol(),
            standardName: socket.getCipher().standardName,
            reused: socket.isSessionReused(),
            authorized: socket.authorized,
          });
          socket.send(reply(socket), () => socket.close());
        });
      }));
      await once(server.listen(0, '127.0.0.1'), 'listening');
      return { port: server.address().port, connections, server };
    }

    // gnutls-cli over UDP to 127.0.0.1:port with `input` on its stdin; resolves on its exit.
    async function gnutlsCli(port, args, input) {
      const { child, result } = run('gnutls-cli', ['--udp', '--port', String(port), ...args, '127.0.0.1'], { track });
      child.stdin.on('error', () => {});
      // Not ended: gnutls-cli would close the session at the end of its input, before the reply.
      child.stdin.write(input);
      const exit = await result;
      return { ...exit, stdout: exit.stdout.toString() };
    }

    for (const keyType of ['ecdsa', 'rsa']) {
      it(`verifies our ${keyType.toUpperCase()} chain, negotiates DTLS 1.2 and exchanges records`, async function () {
        const { port, connections } = await replyingServer(certs[keyType]);
        const result = await gnutlsCli(port, [...trustArgs, '--priority', DTLS12], 'hello from gnutls-cli\n');
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.equal(connections.length, 1);
        assert.equal(connections[0].message, 'hello from gnutls-cli\n');
        assert.equal(connections[0].protocol, 'DTLSv1.2');
        assert.match(result.stdout, /^- Status: The certificate is trusted\.\s*$/m);
        assert.match(result.stdout, /^hello from mbedtls-stream$/m);
        assertSameCipher(descriptions(result.stdout)[0], connections[0].standardName);
      });
    }

    it('is refused by gnutls-cli trusting only another CA', async function () {
      const { port, server, connections } = await replyingServer(certs.ecdsa);
      const clientErrors = [];
      server.on('tlsClientError', (err) => clientErrors.push(err));
      const result = await gnutlsCli(port, ['--x509cafile', certs.path('other-ca.pem'),
        '--verify-hostname', 'localhost', '--priority', DTLS12], 'hello\n');
      assert.notEqual(result.code, 0);
      assert.match(result.stdout, /The certificate is NOT trusted/);
      assert.equal(connections.length, 0);
    });

    it("verifies gnutls-cli's client certificate", async function () {
      const { port, connections } = await replyingServer({ ...certs.ecdsa, requestCert: true, ca: certs.ca },
        (socket) => `client ${socket.authorized} ${socket.getPeerCertificate().subject.CN}\n`);
      const result = await gnutlsCli(port, [...trustArgs, '--priority', DTLS12,
        '--x509certfile', certs.path('client-chain.pem'), '--x509keyfile', certs.path('client.key')], 'mutual\n');
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.equal(connections[0].message, 'mutual\n');
      assert.match(result.stdout, new RegExp(`^client true ${names.client}$`, 'm'));
    });

    for (const [how, extraArgs] of [['a session ticket', []], ['the session ID cache', ['--noticket']]]) {
      it(`resumes with gnutls-cli --resume through ${how}`, async function () {
        const { port, connections, server } = await replyingServer(certs.ecdsa);
        const sessions = [];
        server.on('secureConnection', (socket) => sessions.push(socket.isSessionReused()));
        const result = await gnutlsCli(port, [...trustArgs, '--priority', DTLS12, '--resume', ...extraArgs],
          'hello again\n');
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.match(result.stdout, /^\*\*\* This is a resumed session$/m);
        assert.match(result.stdout, /^hello from mbedtls-stream$/m);
        assert.deepEqual(sessions, [false, true]);
        // The first session carries no data: gnutls-cli closes it after its handshake.
        assert.deepEqual(connections.map((c) => [c.message, c.reused]), [['hello again\n', true]]);
      });
    }

    it('agrees on a pre-shared key with gnutls-cli --pskusername/--pskkey', async function () {
      const identities = [];
      const { port, connections } = await replyingServer({
        pskCallback(socket, identity) {
          identities.push(identity);
          return identity === IDENTITY ? Buffer.from(KEY_HEX, 'hex') : null;
        },
      });
      const result = await gnutlsCli(port, ['--priority', DTLS12_PSK,
        '--pskusername', IDENTITY, '--pskkey', KEY_HEX], 'psk\n');
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.deepEqual(identities, [IDENTITY]);
      assert.equal(connections[0].message, 'psk\n');
      assert.equal(connections[0].protocol, 'DTLSv1.2');
      assert.match(result.stdout, new RegExp(`^- PSK authentication\\. Connected as '${IDENTITY}'$`, 'm'));
      assert.match(result.stdout, /^hello from mbedtls-stream$/m);
      assertSameCipher(descriptions(result.stdout)[0], connections[0].standardName);
    });

    it('refuses gnutls-cli with an unknown PSK identity (tlsClientError)', async function () {
      const { port, server, connections } = await replyingServer({ pskCallback: () => null });
      const clientError = once(server, 'tlsClientError');
      const result = await gnutlsCli(port, ['--priority', DTLS12_PSK,
        '--pskusername', 'stranger', '--pskkey', KEY_HEX], 'psk\n');
      assert.notEqual(result.code, 0);
      const error = await clientError;
      assert.match(error.code, /^ERR_/);
      assert.equal(connections.length, 0);
    });
  });
});
