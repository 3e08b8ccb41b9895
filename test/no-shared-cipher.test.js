'use strict';
// A client offering only cipher suites the server cannot use: the server fails the handshake
// with node's ERR_SSL_NO_SHARED_CIPHER (Mbed TLS 3.6.6 has one code for this and other
// handshake failures; deps/patches/0009 gives it its own, lib/errors.js names it), and the
// client hears handshake_failure. Every pairing of node's and our client and server, TLS 1.2
// and 1.3, must end as node's client and server end.

const tls = require('node:tls');
const ours = require('..');
const { assert, certs, listen, once, useCleanup } = require('./helpers');

const LIBS = [['node\'s', tls], ['our', ours]];

// What each side lacks. The same versions on both sides, so that only the suites differ.
const CASES = [
  {
    name: 'TLS 1.2, no suite in common',
    version: 'TLSv1.2',
    server: { ...certs.ecdsa, ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' },
    client: { ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' },
  },
  {
    name: 'TLS 1.2, suites in common only for a key the server does not have',
    version: 'TLSv1.2',
    server: { ...certs.rsa, ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256' },
    client: { ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' },
  },
  {
    name: 'TLS 1.3, no suite in common',
    version: 'TLSv1.3',
    server: { ...certs.ecdsa, ciphers: 'TLS_CHACHA20_POLY1305_SHA256' },
    client: { ciphers: 'TLS_AES_128_GCM_SHA256' },
  },
];

describe('A client offering only suites the server cannot use', function () {
  const track = useCleanup();

  // `serverLib`'s server and `clientLib`'s client for `testCase`; resolves with the codes
  // each side failed with: { server, client } (undefined for a side that did not fail).
  async function attempt(serverLib, clientLib, testCase) {
    const versions = { minVersion: testCase.version, maxVersion: testCase.version };
    const server = track.server(serverLib.createServer({ ...testCase.server, ...versions }));
    const serverFailed = once(server, 'tlsClientError');
    const port = await listen(server);
    const socket = track.socket(clientLib.connect({
      port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, ...testCase.client, ...versions,
    }));
    const clientFailed = new Promise((resolve) => {
      socket.once('secureConnect', () => resolve(null));
      socket.once('error', resolve);
    });
    const [serverError, clientError] = await Promise.all([serverFailed, clientFailed]);
    return { server: serverError?.code, client: clientError?.code };
  }

  for (const testCase of CASES) {
    describe(testCase.name, function () {
      let oracle;
      before(async function () {
        oracle = await attempt(tls, tls, testCase);
      });

      it('node\'s server reports ERR_SSL_NO_SHARED_CIPHER, node\'s client the handshake_failure alert', function () {
        assert.deepEqual(oracle, {
          server: 'ERR_SSL_NO_SHARED_CIPHER', client: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
        });
      });

      for (const [serverName, serverLib] of LIBS) {
        for (const [clientName, clientLib] of LIBS) {
          if (serverLib === tls && clientLib === tls) continue;
          it(`${serverName} server, ${clientName} client: the codes node's server and client give`, async function () {
            assert.deepEqual(await attempt(serverLib, clientLib, testCase), oracle);
          });
        }
      }
    });
  }
});
