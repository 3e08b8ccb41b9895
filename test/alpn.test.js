'use strict';
// ALPN both ways with node:tls as the peer and the oracle: the protocol chosen, false when
// none was negotiated, and node's error when client and server share none.

const tls = require('node:tls');
const ours = require('..');
const { assert, certs, listen, once, handshakeOutcome, useCleanup } = require('./helpers');

// [name, client module, server module]
const PAIRS = [
  ['our client with node server', ours, tls],
  ['node client with our server', tls, ours],
];

for (const version of ['TLSv1.2', 'TLSv1.3']) {
  for (const [name, client, server] of PAIRS) {
    describe(`ALPN, ${name}, ${version}`, () => {
      const cleanup = useCleanup();

      async function handshake(serverProtocols, clientProtocols) {
        const accepted = [];
        const srv = cleanup.server(server.createServer({
          ...certs.ecdsa, ALPNProtocols: serverProtocols, minVersion: version, maxVersion: version,
        }, (s) => { accepted.push(s.alpnProtocol); s.end(); }));
        srv.on('tlsClientError', () => {});
        const port = await listen(srv);
        const socket = cleanup.socket(client.connect({
          port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost', ALPNProtocols: clientProtocols,
        }));
        const secured = once(socket, 'secureConnect').then(() => socket.alpnProtocol);
        const outcome = await handshakeOutcome(socket);
        return { outcome, client: outcome.secure ? await secured : undefined, accepted };
      }

      it('agrees on the server\'s first choice offered by the client', async () => {
        const r = await handshake(['http/1.1', 'h2'], ['h2', 'http/1.1']);
        assert.equal(r.outcome.secure, true);
        assert.equal(r.client, 'http/1.1');
      });

      it('takes the client\'s protocols in wire format', async () => {
        const wire = Buffer.from([2, 0x68, 0x32, 8, ...Buffer.from('http/1.1')]);
        const r = await handshake(['h2'], wire);
        assert.equal(r.client, 'h2');
      });

      it('reports false when the server takes no ALPN', async () => {
        const r = await handshake(undefined, ['h2']);
        assert.equal(r.outcome.secure, true);
        assert.equal(r.client, false);
      });

      it('fails like node when no protocol is shared', async () => {
        const r = await handshake(['h2'], ['spdy/3']);
        assert.equal(r.outcome.secure, false);
        // node's client against node's server is the oracle for the code.
        const srv = cleanup.server(tls.createServer({ ...certs.ecdsa, ALPNProtocols: ['h2'], minVersion: version, maxVersion: version }));
        srv.on('tlsClientError', () => {});
        const port = await listen(srv);
        const expected = await handshakeOutcome(cleanup.socket(tls.connect({
          port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost', ALPNProtocols: ['spdy/3'],
        })));
        assert.equal(expected.secure, false);
        if (client === ours) {
          assert.equal(r.outcome.error.code, expected.error.code);
          assert.equal(r.outcome.error.alert, 'no_application_protocol');
        }
        else assert.equal(r.outcome.error.code, 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL');
      });
    });
  }
}

describe('ALPN option validation', () => {
  it('refuses a protocol name longer than 255 bytes', () => {
    assert.throws(() => ours.createServer({ ...certs.ecdsa, ALPNProtocols: ['x'.repeat(256)] }),
      { code: 'ERR_OUT_OF_RANGE' });
  });

  it('refuses a Buffer inside the list, as node does', () => {
    assert.throws(() => ours.createServer({ ...certs.ecdsa, ALPNProtocols: [Buffer.from('h2')] }),
      { code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('refuses a value that is not a list', () => {
    assert.throws(() => ours.createServer({ ...certs.ecdsa, ALPNProtocols: 'h2' }),
      { code: 'ERR_INVALID_ARG_TYPE' });
  });
});
