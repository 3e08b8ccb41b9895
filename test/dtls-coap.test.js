'use strict';
// CoAP over DTLS (coaps://, RFC 7252 9) with libcoap's clients (Debian's libcoap3-bin):
// coap-client-openssl and coap-client-gnutls GET a resource from our dtls server, which
// answers with the test's CoAP codec (test/dtls/coap.js), with a pre-shared key (-k/-u) and
// with certificates both ways (-c/-j/-C). The codec itself is checked first, on plain coap://
// with the same clients.

const dgram = require('node:dgram');
const dtls = require('../dtls');
const coap = require('./dtls/coap');
const {
  assert, certs, names, once, useCleanup, run,
} = require('./helpers');

const CLIENTS = ['coap-client-openssl', 'coap-client-gnutls'];
// libcoap's -k takes the key as text.
const PSK_TEXT = 'coap-secret-17';
const IDENTITY = 'sensor-17';

// What a CoAP server at `path` serves.
const content = (request) => `value of ${request.uriPath}`;

describe('DTLS: CoAP with libcoap clients', function () {
  const track = useCleanup();

  // Answers a confirmable GET with a piggybacked 2.05 Content; records what it answered.
  function coapResponder(requests) {
    return (datagram, reply) => {
      const request = coap.parse(datagram);
      if (!request || request.type !== coap.TYPE.CON || request.code !== coap.CODE.GET) return;
      requests.push(request);
      reply(coap.piggybackedContent(request, content(request)));
    };
  }

  // coap-client GETting `uri` (giving up after 20 s without an answer: -B); resolves with
  // { code, stdout, stderr } on its exit.
  async function coapGet(client, args, uri) {
    const { result } = run(client, ['-m', 'get', '-B', '20', ...args, uri], { track });
    const exit = await result;
    return { ...exit, stdout: exit.stdout.toString() };
  }

  describe('the CoAP codec', function () {
    it('round-trips a message with options of every length encoding and a payload', function () {
      const message = {
        type: coap.TYPE.CON,
        code: coap.CODE.GET,
        messageId: 0xbeef,
        token: Buffer.from('cafe0102', 'hex'),
        options: [
          { number: coap.OPTION.URI_PATH, value: Buffer.from('a') },
          { number: coap.OPTION.URI_PATH, value: Buffer.from('x'.repeat(20)) },
          { number: 60, value: Buffer.from('y'.repeat(300)) },
          { number: 2000, value: Buffer.alloc(0) },
        ],
        payload: Buffer.from('payload'),
      };
      const parsed = coap.parse(coap.encode(message));
      assert.equal(parsed.type, message.type);
      assert.equal(parsed.code, message.code);
      assert.equal(parsed.messageId, 0xbeef);
      assert.deepEqual(parsed.token, message.token);
      assert.deepEqual(parsed.options, message.options);
      assert.deepEqual(parsed.payload, message.payload);
      assert.equal(parsed.uriPath, `a/${'x'.repeat(20)}`);
    });

    it('refuses what is not well-formed CoAP', function () {
      const get = coap.get('a', { messageId: 1 });
      assert.ok(coap.parse(get));
      assert.equal(coap.parse(Buffer.from([0x40, 1])), null); // too short
      assert.equal(coap.parse(Buffer.from([0x80, 1, 0, 1])), null); // version 2
      assert.equal(coap.parse(Buffer.from([0x49, 1, 0, 1])), null); // token length 9
      assert.equal(coap.parse(Buffer.concat([get, Buffer.from([0xff])])), null); // marker, no payload
      assert.equal(coap.parse(Buffer.concat([get, Buffer.from([0xb5, 1])])), null); // option overruns
      assert.equal(coap.parse(Buffer.concat([get, Buffer.from([0xf1, 1])])), null); // reserved delta
    });

    for (const client of CLIENTS) {
      it(`answers ${client} on plain coap:// with a piggybacked 2.05 Content`, async function () {
        const requests = [];
        const respond = coapResponder(requests);
        const server = dgram.createSocket('udp4');
        server.on('message', (datagram, rinfo) => respond(datagram, (reply) => server.send(reply, rinfo.port, rinfo.address)));
        server.bind(0, '127.0.0.1');
        await once(server, 'listening');
        try {
          const result = await coapGet(client, [], `coap://127.0.0.1:${server.address().port}/sensors/temp`);
          assert.equal(result.stdout.trim(), 'value of sensors/temp', result.stdout + result.stderr);
          assert.equal(requests.length, 1);
          assert.equal(requests[0].uriPath, 'sensors/temp');
        } finally {
          server.close();
        }
      });
    }
  });

  // Our dtls server answering CoAP requests on each session; resolves with
  // { server, port, requests, sessions, clientErrors }.
  async function coapsServer(options) {
    const requests = [];
    const sessions = [];
    const clientErrors = [];
    const respond = coapResponder(requests);
    const server = track.server(dtls.createServer(options, (socket) => {
      sessions.push({
        standardName: socket.getCipher().standardName,
        authorized: socket.authorized,
        peerCN: socket.getPeerCertificate().subject?.CN,
      });
      socket.on('message', (datagram) => respond(datagram, (reply) => socket.send(reply)));
    }));
    server.on('tlsClientError', (err) => clientErrors.push(err));
    await once(server.listen(0, '127.0.0.1'), 'listening');
    return { server, port: server.address().port, requests, sessions, clientErrors };
  }

  for (const client of CLIENTS) {
    describe(client, function () {
      it('GETs a resource with a pre-shared key (-k, -u)', async function () {
        const identities = [];
        const { port, requests, sessions } = await coapsServer({
          pskCallback(socket, identity) {
            identities.push(identity);
            return identity === IDENTITY ? Buffer.from(PSK_TEXT) : null;
          },
        });
        const result = await coapGet(client, ['-k', PSK_TEXT, '-u', IDENTITY], `coaps://127.0.0.1:${port}/sensors/temp`);
        assert.equal(result.stdout.trim(), 'value of sensors/temp', result.stdout + result.stderr);
        assert.deepEqual(identities, [IDENTITY]);
        assert.equal(sessions.length, 1);
        assert.match(sessions[0].standardName, /PSK/);
        assert.equal(requests.length, 1);
        assert.equal(requests[0].uriPath, 'sensors/temp');
      });

      it('gets no answer with another key: the handshake fails on our side', async function () {
        const { port, requests, sessions, clientErrors } = await coapsServer({
          pskCallback: (socket, identity) => (identity === IDENTITY ? Buffer.from(PSK_TEXT) : null),
        });
        const result = await coapGet(client, ['-k', 'another-secret', '-u', IDENTITY], `coaps://127.0.0.1:${port}/sensors/temp`);
        // libcoap logs on stdout: our alert, and no payload.
        assert.match(result.stdout, /bad record mac/i);
        assert.doesNotMatch(result.stdout, /value of/);
        assert.equal(sessions.length, 0);
        assert.equal(requests.length, 0);
        assert.ok(clientErrors.length >= 1);
        assert.match(clientErrors[0].code, /^ERR_/);
      });

      it('GETs a resource with certificates both ways (-c, -j, -C)', async function () {
        // libcoap sends its leaf alone: our server trusts the intermediate too.
        const { port, requests, sessions } = await coapsServer({
          ...certs.ecdsa, requestCert: true, ca: [certs.ca, certs.intermediate],
        });
        const result = await coapGet(client, [
          '-c', certs.path('client-chain.pem'), '-j', certs.path('client.key'), '-C', certs.path('ca.pem'),
        ], `coaps://127.0.0.1:${port}/a/b/c`);
        assert.equal(result.stdout.trim(), 'value of a/b/c', result.stdout + result.stderr);
        assert.equal(sessions.length, 1);
        assert.equal(sessions[0].authorized, true);
        assert.equal(sessions[0].peerCN, names.client);
        assert.match(sessions[0].standardName, /ECDSA/);
        assert.equal(requests.length, 1);
      });

      it('refuses our server when it trusts only another CA', async function () {
        const { port, requests, sessions } = await coapsServer(certs.ecdsa);
        const result = await coapGet(client, [
          '-c', certs.path('client-chain.pem'), '-j', certs.path('client.key'), '-C', certs.path('other-ca.pem'),
        ], `coaps://127.0.0.1:${port}/sensors/temp`);
        assert.match(result.stdout, /unable to get local issuer certificate|CA is unknown/);
        assert.doesNotMatch(result.stdout, /value of/);
        assert.equal(sessions.length, 0);
        assert.equal(requests.length, 0);
      });
    });
  }
});
