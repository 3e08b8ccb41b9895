'use strict';
// An intermediate CA in `ca` ends a chain only with allowPartialTrustChain, as in node
// (OpenSSL's X509_V_FLAG_PARTIAL_CHAIN); Mbed TLS takes any CA it is given as an anchor,
// so the engine refuses such a chain itself (MST_X509_PARTIAL_CHAIN).

const fs = require('node:fs');
const tls = require('node:tls');
const ours = require('..');
const { assert, certs, listen, useCleanup, handshakeOutcome } = require('./helpers');

describe('partial trust chains, as node:tls', () => {
  const cleanup = useCleanup();

  async function outcome(impl, serverImpl, options) {
    const srv = cleanup.server(serverImpl.createServer(certs.ecdsa, (s) => s.end()));
    const port = await listen(srv);
    const c = cleanup.socket(impl.connect({ port, host: '127.0.0.1', servername: 'localhost', ...options }));
    const r = await handshakeOutcome(c);
    return r.secure ? r : { secure: false, code: r.error.code };
  }

  it('client: a leaf alone verifies through an intermediate and the root both in ca', async () => {
    // Mbed TLS stops at the intermediate, a trusted issuer; its own issuer is in ca too, so
    // the chain reaches a root, as OpenSSL builds it (node's test-tls-client-auth.js).
    const options = { ca: [certs.ca, certs.intermediate] };
    const serve = { key: certs.ecdsa.key, cert: fs.readFileSync(certs.path('server-ecdsa.pem')) };
    const results = [];
    for (const impl of [tls, ours]) {
      const srv = cleanup.server(tls.createServer(serve, (s) => s.end()));
      const port = await listen(srv);
      const r = await handshakeOutcome(cleanup.socket(impl.connect({ port, host: '127.0.0.1', servername: 'localhost', ...options })));
      results.push(r.secure ? r : { secure: false, code: r.error.code });
    }
    assert.deepEqual(results[1], results[0]);
    assert.equal(results[1].authorized, true);
  });

  for (const [name, options] of [
    ['an intermediate as the only CA is refused', { ca: certs.intermediate }],
    ['allowPartialTrustChain: true accepts it', { ca: certs.intermediate, allowPartialTrustChain: true }],
    ['the root still verifies with allowPartialTrustChain: false', { ca: certs.ca, allowPartialTrustChain: false }],
  ]) {
    it(`client: ${name}`, async () => {
      const theirs = await outcome(tls, tls, options);
      const mine = await outcome(ours, tls, options);
      assert.deepEqual(mine, theirs);
    });
  }

  // The same client chain (leaf + intermediate) against a server trusting the intermediate.
  async function clientAuth(impl, serverOptions) {
    return new Promise((resolve) => {
      const srv = cleanup.server(impl.createServer({ requestCert: true, rejectUnauthorized: false, ...serverOptions },
        (s) => { resolve([s.authorized, s.authorizationError]); s.end(); }));
      listen(srv).then((port) => {
        const c = cleanup.socket(tls.connect({ port, host: '127.0.0.1', servername: 'localhost',
          ca: certs.ca, ...certs.client }));
        c.on('error', () => {});
        c.resume();
      });
    });
  }

  it('server: a client chain ending at a trusted intermediate is unauthorized, as node\'s', async () => {
    const options = { ...certs.ecdsa, ca: certs.intermediate };
    const theirs = await clientAuth(tls, options);
    assert.deepEqual(theirs, [false, 'UNABLE_TO_GET_ISSUER_CERT']);
    assert.deepEqual(await clientAuth(ours, options), theirs);
  });

  it('server: a context with allowPartialTrustChain authorizes it', async () => {
    const secureContext = ours.createSecureContext({ ...certs.ecdsa, ca: certs.intermediate, allowPartialTrustChain: true });
    assert.deepEqual(await clientAuth(ours, { secureContext }), [true, null]);
  });
});
