'use strict';
// Pre-shared keys: TLS 1.2 PSK suites and TLS 1.3 external PSKs, with node:tls as the peer
// both ways and with openssl's PSK-only s_server/s_client (no certificate anywhere); the
// server's pskCallback(socket, identity), the client's pskCallback(hint); bad keys and
// failing callbacks.

const tls = require('node:tls');
const ours = require('..');
const {
  assert, certs, listen, once, collect, handshakeOutcome, useCleanup, startSServer, startSClient,
  assertThrowsLikeNode,
} = require('./helpers');

const KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const IDENTITY = 'sensor-17';
// TLS 1.2 needs a PSK suite named (node's defaults leave them out); TLS 1.3 takes its own.
const CIPHERS = { 'TLSv1.2': 'PSK-AES128-GCM-SHA256:ECDHE-PSK-CHACHA20-POLY1305', 'TLSv1.3': undefined };

// Resolves once `server` has emitted `count` 'tlsClientError's, which `list` collects: a
// server reports a failed client when it gets to it, maybe after the client saw its failure.
async function clientErrorsReported(server, list, count = 1) {
  while (list.length < count) await once(server, 'tlsClientError');
}

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
        return { srv, port: await listen(srv), seen, clientErrors };
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
        // As OpenSSL's SSL_session_reused(): a TLS 1.3 handshake on a PSK, external or not.
        assert.equal(socket.isSessionReused(), version === 'TLSv1.3');
        assert.equal((await collect(socket)).toString(), `hello ${version}`);
        assert.deepEqual(seen, [['function', IDENTITY]]);
        assert.deepEqual(hints, [null]);
      });

      it('fails for an identity the server does not know, and for a wrong key', async function () {
        const { srv, port, clientErrors } = await pskServer(() => null);
        const unknown = await handshakeOutcome(pskClient(port, KEY));
        assert.equal(unknown.secure, false);
        const other = await pskServer(() => Buffer.alloc(16, 1));
        const wrong = await handshakeOutcome(pskClient(other.port, KEY));
        assert.equal(wrong.secure, false);
        await clientErrorsReported(srv, clientErrors);
        await clientErrorsReported(other.srv, other.clientErrors);
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

  it('a pskCallback or pskIdentityHint of the wrong type throws what node throws', function () {
    for (const options of [{ pskCallback: 'x' }, { pskCallback: () => KEY, pskIdentityHint: 5 }]) {
      assertThrowsLikeNode(() => ours.createServer(options), () => tls.createServer(options), JSON.stringify(options));
    }
  });
});

// The server's pskIdentityHint, sent in a TLS 1.2 ServerKeyExchange (RFC 4279), and the
// client's pskCallback(hint). The values asserted are what node gives, for the same peers.
describe('PSK identity hint', function () {
  const cleanup = useCleanup();
  const HINT = 'hint-17';

  async function hintServer(server, options = {}) {
    const clientErrors = [];
    const srv = cleanup.server(server.createServer({
      ciphers: CIPHERS['TLSv1.2'], maxVersion: 'TLSv1.2', pskIdentityHint: HINT,
      pskCallback: (socket, identity) => (identity === IDENTITY ? KEY : null),
      ...options,
    }, (socket) => socket.end(`hello ${socket.getProtocol()}`)));
    srv.on('tlsClientError', (err) => clientErrors.push(err));
    return { srv, port: await listen(srv), clientErrors };
  }

  function hintClient(client, port, hints, options = {}) {
    return cleanup.socket(client.connect({
      port, host: '127.0.0.1', ciphers: CIPHERS['TLSv1.2'],
      checkServerIdentity: client === tls ? () => undefined : undefined,
      pskCallback(hint) {
        hints.push(hint);
        return { psk: KEY, identity: IDENTITY };
      },
      ...options,
    }));
  }

  for (const [name, client, server] of PAIRS) {
    for (const suite of ['PSK-AES128-GCM-SHA256', 'ECDHE-PSK-CHACHA20-POLY1305']) {
      it(`${name}: a TLS 1.2 client gets the hint once, on ${suite}`, async function () {
        const { port } = await hintServer(server, { ciphers: suite });
        const hints = [];
        const socket = hintClient(client, port, hints, { maxVersion: 'TLSv1.2', ciphers: suite });
        assert.equal((await collect(socket)).toString(), 'hello TLSv1.2');
        assert.equal(socket.getCipher().name, suite);
        assert.equal(socket.authorized, true);
        assert.deepEqual(hints, [HINT]);
      });
    }

    it(`${name}: a client that may speak TLS 1.3 is asked first with null, then with the hint`, async function () {
      const { port } = await hintServer(server);
      const hints = [];
      const socket = hintClient(client, port, hints);
      assert.equal((await collect(socket)).toString(), 'hello TLSv1.2');
      assert.deepEqual(hints, [null, HINT]);
    });

    it(`${name}: no hint on a plain PSK suite gives null`, async function () {
      const { port } = await hintServer(server, { pskIdentityHint: undefined });
      const hints = [];
      const socket = hintClient(client, port, hints, { maxVersion: 'TLSv1.2' });
      assert.equal((await collect(socket)).toString(), 'hello TLSv1.2');
      assert.deepEqual(hints, [null]);
    });

    it(`${name}: TLS 1.3 has no hint`, async function () {
      const { port } = await hintServer(server, { ciphers: undefined, maxVersion: 'TLSv1.3', minVersion: 'TLSv1.3' });
      const hints = [];
      const socket = hintClient(client, port, hints, { ciphers: undefined });
      assert.equal((await collect(socket)).toString(), 'hello TLSv1.3');
      assert.deepEqual(hints, [null]);
    });

    it(`${name}: a client that has no key for the hint fails the handshake`, async function () {
      const { srv, port, clientErrors } = await hintServer(server);
      const hints = [];
      const outcome = await handshakeOutcome(hintClient(client, port, hints, {
        maxVersion: 'TLSv1.2',
        pskCallback: (hint) => { hints.push(hint); return null; },
      }));
      assert.deepEqual(hints, [HINT]);
      assert.equal(outcome.secure, false);
      assert.equal(outcome.error.code, 'ERR_SSL_PSK_IDENTITY_NOT_FOUND');
      await clientErrorsReported(srv, clientErrors);
      assert.deepEqual(clientErrors.map((err) => err.code), ['ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE']);
    });
  }

  for (const [name, server] of [['node', tls], ['ours', ours]]) {
    it(`${name} server: setSecureContext() keeps the hint; hints too long for OpenSSL, and with a NUL`, async function () {
      const { srv, port, clientErrors } = await hintServer(server);
      srv.setSecureContext({ ciphers: CIPHERS['TLSv1.2'], maxVersion: 'TLSv1.2', pskIdentityHint: 'second' });
      const hints = [];
      await collect(hintClient(tls, port, hints, { maxVersion: 'TLSv1.2' }));
      assert.deepEqual(hints, [HINT]);
      // OpenSSL takes up to 256 bytes (PSK_MAX_IDENTITY_LEN); node fails each connection past that.
      const long = await hintServer(server, { pskIdentityHint: 'x'.repeat(257) });
      const outcome = await handshakeOutcome(hintClient(tls, long.port, [], { maxVersion: 'TLSv1.2' }));
      assert.equal(outcome.secure, false);
      await clientErrorsReported(long.srv, long.clientErrors);
      assert.deepEqual(long.clientErrors.map((err) => err.code), ['ERR_TLS_PSK_SET_IDENTIY_HINT_FAILED']);
      const longest = await hintServer(server, { pskIdentityHint: 'x'.repeat(256) });
      const longestHints = [];
      await collect(hintClient(tls, longest.port, longestHints, { maxVersion: 'TLSv1.2' }));
      assert.deepEqual(longestHints, ['x'.repeat(256)]);
      // node hands OpenSSL a C string: the hint ends at a NUL character.
      const nul = await hintServer(server, { pskIdentityHint: 'ab\0cd' });
      const nulHints = [];
      await collect(hintClient(tls, nul.port, nulHints, { maxVersion: 'TLSv1.2' }));
      assert.deepEqual(nulHints, ['ab']);
      assert.deepEqual(clientErrors, []);
    });
  }

  it('our client\'s pskCallback throwing for the hint: an internal_error alert and a coded error', async function () {
    const { srv, port, clientErrors } = await hintServer(tls);
    const outcome = await handshakeOutcome(hintClient(ours, port, [], {
      maxVersion: 'TLSv1.2',
      pskCallback: () => { throw new Error('boom'); },
    }));
    assert.equal(outcome.secure, false);
    assert.equal(outcome.error.code, 'ERR_MBEDTLS_CALLBACK_FAILED');
    await clientErrorsReported(srv, clientErrors);
    assert.deepEqual(clientErrors.map((err) => err.code), ['ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR']);
  });

  it('openssl s_client reads our server\'s hint', async function () {
    const { port } = await hintServer(ours);
    const { result } = startSClient(cleanup, port, [
      '-psk', KEY.toString('hex'), '-psk_identity', IDENTITY, '-tls1_2', '-cipher', 'PSK-AES128-GCM-SHA256',
    ]);
    const { stdout } = await result;
    assert.match(stdout.toString(), /PSK identity hint: hint-17\n/);
    assert.match(stdout.toString(), /Cipher is PSK-AES128-GCM-SHA256/);
  });

  it('our client gets the hint of openssl s_server -psk_hint', async function () {
    const { port } = await startSServer(cleanup, [
      '-nocert', '-psk', KEY.toString('hex'), '-psk_identity', IDENTITY, '-psk_hint', HINT,
      '-tls1_2', '-cipher', 'PSK-AES128-GCM-SHA256', '-rev',
    ]);
    const hints = [];
    const socket = hintClient(ours, port, hints, { maxVersion: 'TLSv1.2', ciphers: 'PSK-AES128-GCM-SHA256' });
    await once(socket, 'secureConnect');
    assert.equal(socket.authorized, true);
    assert.deepEqual(hints, [HINT]);
    socket.write('olleh\n');
    const reply = await new Promise((resolve) => socket.once('data', resolve));
    assert.match(reply.toString(), /hello/);
  });
});
