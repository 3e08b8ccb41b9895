'use strict';
// Pre-shared keys: TLS 1.2 PSK suites and TLS 1.3 external PSKs, with node:tls as the peer
// both ways and with openssl's PSK-only s_server/s_client (no certificate anywhere); the
// server's pskCallback(socket, identity), the client's pskCallback(hint); bad keys and
// failing callbacks.

const tls = require('node:tls');
const ours = require('..');
const {
  assert, certs, listen, once, collect, handshakeOutcome, useCleanup, startSServer, startSClient,
} = require('./helpers');

const KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const IDENTITY = 'sensor-17';
// TLS 1.2 needs a PSK suite named (node's defaults leave them out); TLS 1.3 takes its own.
const CIPHERS = { 'TLSv1.2': 'PSK-AES128-GCM-SHA256:ECDHE-PSK-CHACHA20-POLY1305', 'TLSv1.3': undefined };

const PAIRS = [
  ['our client with node server', ours, tls],
  ['node client with our server', tls, ours],
  ['our client with our server', ours, ours],
];

for (const version of ['TLSv1.2', 'TLSv1.3']) {
  for (const [name, client, server] of PAIRS) {
    describe(`PSK, ${name}, ${version}`, function () {
      const cleanup = useCleanup();

      async function pskServer(pskCallback) {
        const seen = [];
        const clientErrors = [];
        const srv = cleanup.server(server.createServer({
          ciphers: CIPHERS[version], minVersion: version, maxVersion: version,
          pskCallback(socket, identity) {
            seen.push([typeof socket.getProtocol, identity]);
            return pskCallback(identity);
          },
        }, (socket) => socket.end(`hello ${socket.getProtocol()}`)));
        srv.on('tlsClientError', (err) => clientErrors.push(err));
        return { port: await listen(srv), seen, clientErrors };
      }

      function pskClient(port, psk, hints = []) {
        return cleanup.socket(client.connect({
          port, host: '127.0.0.1', ciphers: CIPHERS[version], minVersion: version, maxVersion: version,
          // node's client checks a name even on a TLS 1.2 PSK handshake; ours does not need it.
          checkServerIdentity: client === tls ? () => undefined : undefined,
          pskCallback(hint) {
            hints.push(hint);
            return { psk, identity: IDENTITY };
          },
        }));
      }

      it('agrees on the key, with no certificate on either side', async function () {
        const { port, seen } = await pskServer((identity) => (identity === IDENTITY ? KEY : null));
        const hints = [];
        const socket = pskClient(port, KEY, hints);
        await once(socket, 'secureConnect');
        assert.equal(socket.getProtocol(), version);
        assert.equal(socket.authorized, true);
        assert.deepEqual(socket.getPeerCertificate(), {});
        if (version === 'TLSv1.2') assert.match(socket.getCipher().name, /PSK/);
        assert.equal((await collect(socket)).toString(), `hello ${version}`);
        assert.deepEqual(seen, [['function', IDENTITY]]);
        assert.deepEqual(hints, [null]);
      });

      it('fails for an identity the server does not know, and for a wrong key', async function () {
        const { port, clientErrors } = await pskServer(() => null);
        const unknown = await handshakeOutcome(pskClient(port, KEY));
        assert.equal(unknown.secure, false);
        const other = await pskServer(() => Buffer.alloc(16, 1));
        const wrong = await handshakeOutcome(pskClient(other.port, KEY));
        assert.equal(wrong.secure, false);
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.ok(clientErrors.length >= 1);
        assert.ok(other.clientErrors.length >= 1);
      });
    });
  }

  describe(`PSK with openssl, no certificate anywhere, ${version}`, function () {
    const cleanup = useCleanup();
    const opensslVersion = version === 'TLSv1.2' ? '-tls1_2' : '-tls1_3';

    it('our client with openssl s_server -nocert', async function () {
      const { port } = await startSServer(cleanup, [
        '-nocert', '-psk', KEY.toString('hex'), '-psk_identity', IDENTITY, opensslVersion,
        ...(version === 'TLSv1.2' ? ['-cipher', 'PSK-AES128-GCM-SHA256'] : []), '-rev',
      ]);
      const socket = cleanup.socket(ours.connect({
        port, host: '127.0.0.1', ciphers: CIPHERS[version], maxVersion: version, minVersion: version,
        pskCallback: () => ({ psk: KEY, identity: IDENTITY }),
      }));
      await once(socket, 'secureConnect');
      assert.equal(socket.authorized, true);
      socket.write('olleh\n');
      const reply = await new Promise((resolve) => socket.once('data', resolve));
      assert.match(reply.toString(), /hello/);
    });

    it('openssl s_client -psk with our PSK-only server', async function () {
      const srv = cleanup.server(ours.createServer({
        ciphers: CIPHERS[version], maxVersion: version, minVersion: version,
        pskCallback: (socket, identity) => (identity === IDENTITY ? KEY : null),
      }, (socket) => socket.end('hello from a server without a certificate\n')));
      assert.equal(srv.developmentCertificate, null);
      const port = await listen(srv);
      const { result } = startSClient(cleanup, port, [
        '-psk', KEY.toString('hex'), '-psk_identity', IDENTITY, opensslVersion, '-quiet',
        ...(version === 'TLSv1.2' ? ['-cipher', 'PSK-AES128-GCM-SHA256'] : []),
      ]);
      const { stdout } = await result;
      assert.match(stdout.toString(), /hello from a server without a certificate/);
    });
  });
}

describe('PSK callbacks fail closed', function () {
  const cleanup = useCleanup();

  for (const [title, pskCallback, code] of [
    ['throws', () => { throw new Error('boom'); }, 'ERR_MBEDTLS_CALLBACK_FAILED'],
    ['returns a string', () => 'not a key', 'ERR_INVALID_ARG_TYPE'],
    ['returns a key longer than node and Mbed TLS take (512 bytes)', () => Buffer.alloc(513), 'ERR_INVALID_ARG_VALUE'],
  ]) {
    for (const version of ['TLSv1.2', 'TLSv1.3']) {
      it(`the server's pskCallback ${title} (${version}): an alert, tlsClientError, the server serves on`, async function () {
        const errors = [];
        let good = false;
        const srv = cleanup.server(ours.createServer({
          ciphers: CIPHERS[version], maxVersion: version, minVersion: version,
          pskCallback: (socket, identity) => (identity === 'good' ? KEY : pskCallback()),
        }, (socket) => { good = true; socket.end('ok'); }));
        srv.on('tlsClientError', (err) => errors.push(err));
        const port = await listen(srv);
        const connect = (identity) => cleanup.socket(tls.connect({
          port, host: '127.0.0.1', ciphers: CIPHERS[version], maxVersion: version,
          checkServerIdentity: () => undefined, pskCallback: () => ({ psk: KEY, identity }),
        }));
        const outcome = await handshakeOutcome(connect('bad'));
        assert.equal(outcome.secure, false);
        assert.match(outcome.error.code, /INTERNAL_ERROR/);
        assert.equal(errors[0].code, code);
        const ok = connect('good');
        assert.equal((await collect(ok)).toString(), 'ok');
        assert.equal(good, true);
      });
    }
  }

  for (const [title, pskCallback, code] of [
    ['throws', () => { throw new Error('boom'); }, 'ERR_MBEDTLS_CALLBACK_FAILED'],
    ['returns no identity', () => ({ psk: KEY }), 'ERR_INVALID_ARG_TYPE'],
    ['returns a number', () => 7, 'ERR_INVALID_ARG_TYPE'],
  ]) {
    it(`our client's pskCallback ${title}: a coded 'error', no handshake`, async function () {
      const srv = cleanup.server(tls.createServer({ ...certs.ecdsa }));
      const port = await listen(srv);
      const outcome = await handshakeOutcome(cleanup.socket(ours.connect({
        port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost', pskCallback,
      })));
      assert.equal(outcome.secure, false);
      assert.equal(outcome.error.code, code);
    });
  }

  it('pskIdentityHint is refused: Mbed TLS sends none', function () {
    assert.throws(() => ours.createServer({ pskCallback: () => KEY, pskIdentityHint: 'x' }),
      { code: 'ERR_MBEDTLS_UNSUPPORTED_OPTION' });
    assert.throws(() => ours.createServer({ pskCallback: 'x' }), { code: 'ERR_INVALID_ARG_TYPE' });
  });
});
