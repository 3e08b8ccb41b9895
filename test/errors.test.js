'use strict';
// Error behaviour, with node's own tls as the oracle wherever the result must match node.

const net = require('node:net');
const tls = require('node:tls');
const ours = require('..');
const {
  assert, certs, listen, once, handshakeOutcome, echo, echoRoundTrip, randomBytes, useCleanup,
} = require('./helpers');

describe('errors', function () {
  const track = useCleanup();

  // Starts a node tls server with `options`; resolves with its port.
  const nodeServer = async (options) => listen(track.server(tls.createServer(options)));

  // Connects both our client and node's client with the same options, one after the other,
  // and resolves with both outcomes (see handshakeOutcome).
  async function bothOutcomes(port, options) {
    const connectOptions = { port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, ...options };
    const mine = await handshakeOutcome(track.socket(ours.connect(connectOptions)));
    const theirs = await handshakeOutcome(track.socket(tls.connect(connectOptions)));
    return { mine, theirs };
  }

  describe('server certificate from an unrelated CA', function () {
    it("emits 'error' with the verification code node reports", async function () {
      const port = await nodeServer(certs.otherServer);
      const { mine, theirs } = await bothOutcomes(port, {});
      assert.equal(theirs.secure, false);
      assert.equal(mine.secure, false, 'our client completed the handshake');
      assert.ok(
        ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'].includes(mine.error.code),
        `unexpected code ${mine.error.code}`,
      );
      assert.equal(mine.error.code, theirs.error.code);
    });

    it('with rejectUnauthorized: false connects with authorized === false', async function () {
      const port = await nodeServer(certs.otherServer);
      const { mine } = await bothOutcomes(port, { rejectUnauthorized: false });
      assert.equal(mine.secure, true, mine.error && mine.error.stack);
      assert.equal(mine.authorized, false);
    });

    it("with rejectUnauthorized: false sets the authorizationError node reports", async function () {
      const port = await nodeServer(certs.otherServer);
      const { mine, theirs } = await bothOutcomes(port, { rejectUnauthorized: false });
      assert.equal(theirs.secure, true);
      assert.equal(mine.secure, true, mine.error && mine.error.stack);
      assert.ok(mine.authorizationError, 'authorizationError is not set');
      assert.equal(String(mine.authorizationError), String(theirs.authorizationError));
    });
  });

  describe('wrong hostname', function () {
    it("emits 'error' with code ERR_TLS_CERT_ALTNAME_INVALID, as node does", async function () {
      const port = await nodeServer(certs.ecdsa);
      const { mine, theirs } = await bothOutcomes(port, { servername: 'example.com' });
      assert.equal(theirs.error.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
      assert.equal(mine.secure, false, 'our client completed the handshake');
      assert.equal(mine.error.code, theirs.error.code);
    });
  });

  describe('server that closes the TCP connection at once', function () {
    it("emits 'error' with code ECONNRESET, as node does", async function () {
      const server = track.server(net.createServer((socket) => socket.destroy()));
      const port = await listen(server);
      const { mine, theirs } = await bothOutcomes(port, {});
      assert.equal(theirs.error.code, 'ECONNRESET');
      assert.equal(mine.secure, false, 'our client completed the handshake');
      assert.equal(mine.error.code, theirs.error.code);
    });
  });

  describe('our server handshakeTimeout', function () {
    it("emits 'tlsClientError' with code ERR_TLS_HANDSHAKE_TIMEOUT for a client that sends nothing", async function () {
      const server = track.server(ours.createServer({ ...certs.ecdsa, handshakeTimeout: 500 }));
      const port = await listen(server);
      const clientError = once(server, 'tlsClientError');
      const raw = track.socket(net.connect(port, '127.0.0.1'));
      raw.on('error', () => {});
      const error = await clientError;
      assert.equal(error.code, 'ERR_TLS_HANDSHAKE_TIMEOUT');
    });
  });

  describe('garbage bytes sent to our server', function () {
    const garbage = 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n';

    // Starts our echo server and sends it garbage over raw TCP.
    async function garbageClient() {
      const server = track.server(ours.createServer(certs.ecdsa, echo));
      const port = await listen(server);
      const clientError = once(server, 'tlsClientError');
      const raw = track.socket(net.connect(port, '127.0.0.1'));
      raw.on('error', () => {});
      raw.resume();
      raw.write(garbage);
      return { server, port, clientError, raw };
    }

    it("emits 'tlsClientError'", async function () {
      const { clientError } = await garbageClient();
      assert.ok(await clientError instanceof Error);
    });

    it('closes the connection that sent garbage', async function () {
      const { clientError, raw } = await garbageClient();
      await clientError;
      await new Promise((resolve) => raw.once('close', resolve));
    });

    it('still serves a normal client afterwards', async function () {
      const { port, clientError } = await garbageClient();
      await clientError;
      const client = track.socket(tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca }));
      await once(client, 'secureConnect');
      const payload = randomBytes(1024);
      assert.deepEqual(await echoRoundTrip(client, payload), payload);
    });
  });
});
