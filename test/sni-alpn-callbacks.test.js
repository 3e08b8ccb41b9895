'use strict';
// The server's choice by ClientHello: SNICallback and addContext() choosing the certificate
// per name, ALPNCallback choosing the protocol, and every callback failing closed (a fatal
// alert to the client, a coded 'tlsClientError' on the server, the server serving on).
// Clients are node's (and ours); node's server is the oracle for codes where it has them.

const crypto = require('node:crypto');
const tls = require('node:tls');
const ours = require('..');
const {
  assert, certs, listen, once, handshakeOutcome, assertThrowsLikeNode, useCleanup,
} = require('./helpers');

const fingerprint = (pem) => new crypto.X509Certificate(pem).fingerprint256;
const RSA = fingerprint(certs.rsa.cert);
const ECDSA = fingerprint(certs.ecdsa.cert);
const trustAnyName = () => undefined;

for (const version of ['TLSv1.2', 'TLSv1.3']) {
  for (const [clientName, client] of [['node client', tls], ['our client', ours]]) {
    describe(`SNI and ALPN callbacks of our server, ${clientName}, ${version}`, function () {
      const cleanup = useCleanup();

      // A server with `options`; resolves with { port, events } where events records
      // secure connections and client errors.
      async function serve(options, setup) {
        const events = { secure: [], clientErrors: [] };
        const srv = cleanup.server(ours.createServer({
          ...certs.ecdsa, minVersion: version, maxVersion: version, ...options,
        }, (socket) => {
          events.secure.push({ servername: socket.servername, alpn: socket.alpnProtocol });
          socket.end('hi');
        }));
        srv.on('tlsClientError', (err) => events.clientErrors.push(err));
        if (setup) setup(srv);
        return { srv, port: await listen(srv), events };
      }

      function connect(port, options = {}) {
        return cleanup.socket(client.connect({
          port, host: '127.0.0.1', ca: certs.ca, checkServerIdentity: trustAnyName, ...options,
        }));
      }

      async function peerFingerprint(port, options) {
        const socket = connect(port, options);
        await once(socket, 'secureConnect');
        const result = socket.getPeerX509Certificate().fingerprint256;
        // The server's greeting: it has finished its handshake too (TLS 1.3 finishes there last).
        await once(socket, 'data');
        socket.destroy();
        return result;
      }

      it('SNICallback chooses the certificate by name, synchronously or later', async function () {
        const rsa = ours.createSecureContext(certs.rsa);
        const seen = [];
        const { port, events } = await serve({
          SNICallback(servername, cb) {
            seen.push(servername);
            if (servername === 'rsa.test') cb(null, rsa);
            else if (servername === 'slow.test') setTimeout(() => cb(null, rsa), 50);
            else cb(null, undefined);
          },
        });
        assert.equal(await peerFingerprint(port, { servername: 'rsa.test' }), RSA);
        assert.equal(await peerFingerprint(port, { servername: 'slow.test' }), RSA);
        assert.equal(await peerFingerprint(port, { servername: 'other.test' }), ECDSA);
        // No SNI: the callback is not asked, as in node, and the default certificate serves.
        assert.equal(await peerFingerprint(port, {}), ECDSA);
        assert.deepEqual(seen, ['rsa.test', 'slow.test', 'other.test']);
        assert.deepEqual(events.secure.map((e) => e.servername),
          ['rsa.test', 'slow.test', 'other.test', false]);
      });

      it('addContext() matches names and wildcards, the latest first', async function () {
        const { port } = await serve({}, (srv) => {
          srv.addContext('*.wild.test', certs.rsa);
          srv.addContext('exact.test', ours.createSecureContext(certs.rsa));
          srv.addContext('override.wild.test', certs.ecdsa);
        });
        assert.equal(await peerFingerprint(port, { servername: 'a.wild.test' }), RSA);
        assert.equal(await peerFingerprint(port, { servername: 'EXACT.test' }), RSA);
        assert.equal(await peerFingerprint(port, { servername: 'override.wild.test' }), ECDSA);
        // '*' is one label: a deeper name falls to the default context.
        assert.equal(await peerFingerprint(port, { servername: 'a.b.wild.test' }), ECDSA);
      });

      it('ALPNCallback chooses among the offered protocols', async function () {
        const asked = [];
        const { port, events } = await serve({
          ALPNCallback(offer) {
            asked.push(offer);
            return offer.protocols[1];
          },
        });
        const socket = connect(port, { servername: 'alpn.test', ALPNProtocols: ['h2', 'http/1.1'] });
        await once(socket, 'secureConnect');
        assert.equal(socket.alpnProtocol, 'http/1.1');
        assert.deepEqual(asked, [{ servername: 'alpn.test', protocols: ['h2', 'http/1.1'] }]);
        await once(socket, 'data');
        assert.equal(events.secure[0].alpn, 'http/1.1');
      });

      it('ALPNCallback returning undefined fails as node\'s server does', async function () {
        const { port, events } = await serve({ ALPNCallback: () => undefined });
        const outcome = await handshakeOutcome(connect(port, { ALPNProtocols: ['h2'] }));
        assert.equal(outcome.secure, false);
        // node's server with the same callback is the oracle for both codes.
        const nodeServer = cleanup.server(tls.createServer({
          ...certs.ecdsa, minVersion: version, maxVersion: version, ALPNCallback: () => undefined,
        }));
        const nodeErrors = [];
        nodeServer.on('tlsClientError', (err) => nodeErrors.push(err));
        const expected = await handshakeOutcome(connect(await listen(nodeServer), { ALPNProtocols: ['h2'] }));
        assert.equal(outcome.error.code, expected.error.code);
        assert.equal(events.clientErrors[0].code, nodeErrors[0].code);
      });

      const failures = [
        ['SNICallback passes an error', { SNICallback: (name, cb) => cb(Object.assign(new Error('no'), { code: 'MY_CODE' })) }, 'MY_CODE'],
        ['SNICallback throws', { SNICallback: () => { throw new Error('boom'); } }, 'ERR_MBEDTLS_CALLBACK_FAILED'],
        ['SNICallback gives something else than a SecureContext', { SNICallback: (name, cb) => cb(null, { key: 1 }) }, 'ERR_MBEDTLS_INVALID_SNI_CONTEXT'],
        ['SNICallback gives node\'s SecureContext', { SNICallback: (name, cb) => cb(null, tls.createSecureContext(certs.rsa)) }, 'ERR_MBEDTLS_INVALID_SNI_CONTEXT'],
        ['ALPNCallback throws', { ALPNCallback: () => { throw new TypeError('boom'); } }, 'ERR_MBEDTLS_CALLBACK_FAILED'],
        ['ALPNCallback returns a protocol not offered', { ALPNCallback: () => 'spdy/1' }, 'ERR_TLS_ALPN_CALLBACK_INVALID_RESULT'],
      ];
      for (const [title, options, code] of failures) {
        it(`fails closed when ${title}`, async function () {
          const { port, events } = await serve(options);
          const outcome = await handshakeOutcome(connect(port, { servername: 'x.test', ALPNProtocols: ['h2'] }));
          assert.equal(outcome.secure, false);
          // A fatal internal_error alert, not a bare reset.
          assert.match(outcome.error.code, /INTERNAL_ERROR/);
          assert.equal(events.clientErrors.length, 1);
          assert.equal(events.clientErrors[0].code, code);
          assert.equal(events.secure.length, 0);
          // The server serves on: a client without SNI or ALPN asks no callback.
          const ok = await handshakeOutcome(connect(port, {}));
          assert.equal(ok.secure, true);
        });
      }

      it('resumes a session made under an SNI context', async function () {
        const rsa = ours.createSecureContext(certs.rsa);
        const { port } = await serve({ SNICallback: (name, cb) => cb(null, rsa) });
        let saved;
        const first = connect(port, { servername: 'rsa.test' });
        first.on('session', (s) => { saved = s; });
        first.resume();
        await once(first, 'close');
        const second = connect(port, { servername: 'rsa.test', session: saved });
        await once(second, 'secureConnect');
        assert.equal(second.isSessionReused(), true);
        // node's client keeps no peer certificate on a resumed connection; ours does.
        if (client === ours) assert.equal(second.getPeerX509Certificate().fingerprint256, RSA);
      });
    });
  }
}

describe('Callback option validation', function () {
  it('refuses ALPNCallback with ALPNProtocols, and callbacks that are not functions, as node', function () {
    const cases = [
      { ALPNCallback: () => 'h2', ALPNProtocols: ['h2'] },
      { SNICallback: 'nope' },
    ];
    for (const options of cases) {
      assertThrowsLikeNode(() => ours.createServer({ ...certs.ecdsa, ...options }),
        () => tls.createServer({ ...certs.ecdsa, ...options }), Object.keys(options).join(', '));
    }
    // node lets a non-function ALPNCallback through to fail later; ours refuses it at once.
    assert.throws(() => ours.createServer({ ...certs.ecdsa, ALPNCallback: 42 }), { code: 'ERR_INVALID_ARG_TYPE' });
    const server = ours.createServer(certs.ecdsa);
    assert.throws(() => server.addContext('', certs.rsa), { code: 'ERR_TLS_REQUIRED_SERVER_NAME' });
    assert.throws(() => server.addContext('a.test', { key: 'not a key', cert: certs.rsa.cert }));
  });
});

describe('checkServerIdentity fails closed in our client', function () {
  const cleanup = useCleanup();

  for (const [title, check, code, alert] of [
    ['throws', () => { throw new Error('boom'); }, 'ERR_MBEDTLS_CALLBACK_FAILED', /INTERNAL_ERROR/],
    ['returns a string', () => 'no', 'ERR_MBEDTLS_CALLBACK_FAILED', /INTERNAL_ERROR/],
    ['returns a coded Error', () => Object.assign(new Error('mine'), { code: 'MY_REFUSAL' }), 'MY_REFUSAL', /BAD_CERTIFICATE/],
  ]) {
    it(`when it ${title}: a coded error here, a fatal alert to node's server`, async function () {
      let reportServerError;
      const serverSide = new Promise((resolve) => { reportServerError = resolve; });
      const srv = cleanup.server(tls.createServer(certs.ecdsa, (socket) => {
        socket.on('error', reportServerError);
        socket.on('end', () => reportServerError(null));
      }));
      srv.on('tlsClientError', reportServerError);
      const port = await listen(srv);
      const outcome = await handshakeOutcome(cleanup.socket(ours.connect({
        port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost', checkServerIdentity: check,
      })));
      assert.equal(outcome.secure, false);
      assert.equal(outcome.error.code, code);
      const serverError = await serverSide;
      assert.ok(serverError, 'node\'s server saw an error');
      assert.match(serverError.code, alert);
    });
  }
});
