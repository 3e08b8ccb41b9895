'use strict';
// node-dtls-client (npm, a devDependency), the pure-JS PSK-only DTLS client IoT gateways use
// (Philips Hue entertainment, IKEA TRÅDFRI), against our dtls server: its PSK client with
// TLS_PSK_WITH_AES_128_GCM_SHA256 (and CCM_8, CoAP's suite), records both ways, a wrong key.
// It retransmits nothing; on loopback nothing is lost.

const dtls = require('../dtls');
const { assert, once, useCleanup } = require('./helpers');

const IDENTITY = 'Client_identity';
const KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

describe('DTLS: node-dtls-client with our server', function () {
  const track = useCleanup();
  let nodeDtls;
  before(async () => {
    // An ES module: loaded as one.
    ({ dtls: nodeDtls } = await import('node-dtls-client'));
  });

  // Our echo server asking pskCallback for keys; resolves with { server, port, sessions }.
  async function echoServer(keys) {
    const sessions = [];
    const server = track.server(dtls.createServer({
      pskCallback: (socket, identity) => keys[identity] || null,
    }, (socket) => {
      sessions.push({ standardName: socket.getCipher().standardName, protocol: socket.getProtocol() });
      socket.on('message', (message) => socket.send(Buffer.concat([Buffer.from('echo:'), message])));
    }));
    await once(server.listen(0, '127.0.0.1'), 'listening');
    return { server, port: server.address().port, sessions };
  }

  // node-dtls-client's socket to our server, closed after the test.
  function theirClient(port, cipher, key = KEY) {
    const socket = nodeDtls.createSocket({
      type: 'udp4', address: '127.0.0.1', port, psk: { [IDENTITY]: key }, ciphers: [cipher], timeout: 10000,
    });
    socket.on('error', () => {});
    track.socket({ once: (event, listener) => socket.once(event, listener), destroy: () => socket.close() });
    return socket;
  }

  for (const cipher of ['TLS_PSK_WITH_AES_128_GCM_SHA256', 'TLS_PSK_WITH_AES_128_CCM_8']) {
    it(`completes a ${cipher} handshake and exchanges records both ways`, async function () {
      const { port, sessions } = await echoServer({ [IDENTITY]: KEY });
      const client = theirClient(port, cipher);
      await once(client, 'connected');
      assert.deepEqual(sessions, [{ standardName: cipher, protocol: 'DTLSv1.2' }]);
      const replies = [];
      for (const text of ['first', 'second', 'third']) {
        const reply = once(client, 'message');
        client.send(Buffer.from(text));
        replies.push((await reply).toString());
      }
      assert.deepEqual(replies, ['echo:first', 'echo:second', 'echo:third']);
    });
  }

  it('fails its handshake when our server holds another key for the identity', async function () {
    const { server, port, sessions } = await echoServer({ [IDENTITY]: Buffer.alloc(16, 0xff) });
    const clientError = once(server, 'tlsClientError');
    const client = theirClient(port, 'TLS_PSK_WITH_AES_128_GCM_SHA256');
    let connected = false;
    client.on('connected', () => { connected = true; });
    const error = await clientError;
    assert.match(error.code, /^ERR_/);
    assert.equal(connected, false);
    assert.equal(sessions.length, 0);
  });
});
