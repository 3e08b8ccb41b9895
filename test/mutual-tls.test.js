'use strict';
// Client certificates, in both directions: our server requesting one from node's client,
// and node's server requesting one from our client.

const tls = require('node:tls');
const ours = require('..');
const {
  assert, certs, names, listen, once, useCleanup,
} = require('./helpers');

const VERSIONS = ['TLSv1.2', 'TLSv1.3'];

describe('mutual TLS', function () {
  const track = useCleanup();

  // A server from `lib` that requests a client certificate; resolves with { server, port }.
  async function requestingServer(lib, options = {}) {
    const server = track.server(lib.createServer({
      ...certs.ecdsa, requestCert: true, rejectUnauthorized: true, ca: certs.ca, ...options,
    }));
    return { server, port: await listen(server) };
  }

  // Connects `lib`'s client with `options` to `port`; the socket is tracked.
  const connect = (lib, port, options = {}) => track.socket(lib.connect({
    port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, ...options,
  }));

  // Resolves with the server-side socket once both ends completed the handshake.
  async function handshake(server, client) {
    const [serverSocket] = await Promise.all([once(server, 'secureConnection'), once(client, 'secureConnect')]);
    return serverSocket;
  }

  // Resolves with { secureConnect, error } once `client` closes.
  function clientFate(client) {
    const fate = { secureConnect: false, error: null };
    client.on('secureConnect', () => { fate.secureConnect = true; });
    client.on('error', (error) => { fate.error = error; });
    client.resume();
    return new Promise((resolve) => client.once('close', () => resolve(fate)));
  }

  describe('our server with requestCert', function () {
    for (const version of VERSIONS) {
      describe(version, function () {
        const pin = { minVersion: version, maxVersion: version };

        it('authorizes a node client presenting client-chain.pem', async function () {
          const { server, port } = await requestingServer(ours);
          const client = connect(tls, port, { ...certs.client, ...pin });
          const serverSocket = await handshake(server, client);
          assert.equal(serverSocket.authorized, true);
        });

        it("reports the client's certificate from getPeerCertificate()", async function () {
          const { server, port } = await requestingServer(ours);
          const client = connect(tls, port, { ...certs.client, ...pin });
          const serverSocket = await handshake(server, client);
          assert.equal(serverSocket.getPeerCertificate().subject.CN, names.client);
        });

        it("emits 'tlsClientError' with node's code for a client without a certificate", async function () {
          // What node's server reports for the same client is the oracle.
          async function rejection(lib) {
            const { server, port } = await requestingServer(lib);
            let secureConnections = 0;
            server.on('secureConnection', () => { secureConnections += 1; });
            const clientError = once(server, 'tlsClientError');
            const fate = clientFate(connect(tls, port, pin));
            const error = await clientError;
            await fate;
            return { code: error.code, secureConnections };
          }
          const expected = await rejection(tls);
          const actual = await rejection(ours);
          assert.equal(actual.secureConnections, 0);
          assert.equal(actual.code, expected.code);
        });

        it('the node client without a certificate gets an error or close and no data', async function () {
          const { server, port } = await requestingServer(ours);
          server.on('secureConnection', (socket) => socket.end('should not be sent'));
          server.on('tlsClientError', () => {});
          const client = connect(tls, port, pin);
          let received = 0;
          client.on('data', (chunk) => { received += chunk.length; });
          const fate = await clientFate(client);
          assert.equal(received, 0);
          // In TLS 1.2 the server rejects the client before the client's handshake completes;
          // in TLS 1.3 the client finishes first and learns of the rejection by an alert.
          if (version === 'TLSv1.2') assert.equal(fate.secureConnect, false);
          else assert.ok(fate.error || !fate.secureConnect, 'expected an error or no secureConnect');
        });
      });
    }

    describe('with rejectUnauthorized: false', function () {
      // Connects a node client with other-client.pem to `lib`'s lenient server; resolves
      // with the server-side socket.
      async function otherClientOn(lib) {
        const { server, port } = await requestingServer(lib, { rejectUnauthorized: false });
        const client = connect(tls, port, certs.otherClient);
        return handshake(server, client);
      }

      it('accepts an other-ca client certificate with authorized === false', async function () {
        const serverSocket = await otherClientOn(ours);
        assert.equal(serverSocket.authorized, false);
      });

      it('sets authorizationError for the other-ca client certificate', async function () {
        const serverSocket = await otherClientOn(ours);
        assert.ok(serverSocket.authorizationError, 'authorizationError is not set');
      });

      it("authorizationError is the one node's server reports", async function () {
        const mine = await otherClientOn(ours);
        const theirs = await otherClientOn(tls);
        assert.equal(String(mine.authorizationError), String(theirs.authorizationError));
      });

      it('still reports the unverified client certificate', async function () {
        const serverSocket = await otherClientOn(ours);
        assert.equal(serverSocket.getPeerCertificate().subject.CN, names.client);
      });
    });
  });

  describe("our client with node's requestCert server", function () {
    for (const version of VERSIONS) {
      describe(version, function () {
        const pin = { minVersion: version, maxVersion: version };

        it('is authorized by node when presenting cert and key', async function () {
          const { server, port } = await requestingServer(tls, pin);
          const client = connect(ours, port, certs.client);
          const serverSocket = await handshake(server, client);
          assert.equal(serverSocket.authorized, true);
          assert.equal(serverSocket.getPeerCertificate().subject.CN, names.client);
        });

        it("emits 'error' when it has no certificate", async function () {
          const { server, port } = await requestingServer(tls, pin);
          server.on('tlsClientError', () => {});
          const client = connect(ours, port);
          const fate = await clientFate(client);
          assert.ok(fate.error instanceof Error, 'expected an error event');
        });
      });
    }
  });
});
