'use strict';
// Many DTLS peers on one server socket: 200 clients at once each get their own echo, and the
// server holds exactly their sessions; a flood of ClientHellos from many source ports (no
// cookie, a cookie made for another address, forged cookies, and datagrams that are not DTLS)
// leaves no state: no session, getConnections() 0, Mbed TLS's memory at its baseline, and
// each kind counted in server.stats.

const dgram = require('node:dgram');
const ours = require('..');
const dtls = require('../dtls');
const { assert, certs, once, useCleanup } = require('./helpers');
const { UdpProxy } = require('./dtls/udp-proxy');
const { until, stopWaiting } = require('./dtls/until');

const PSK = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const CLIENTS = 200;

const connections = (server) => new Promise((resolve) => server.getConnections((err, n) => resolve(n)));

describe('DTLS: many peers on one server socket', function () {
  // Hundreds of handshakes on two shared cores, and five times slower still must pass.
  this.timeout(600000);
  const track = useCleanup();
  const closers = [];
  afterEach(async () => {
    stopWaiting();
    for (const close of closers.splice(0)) await close();
  });

  // Our echo server: each record back with the session's remote port prepended.
  async function echoServer(options) {
    const server = track.server(dtls.createServer(options, (socket) => {
      socket.on('message', (message) => socket.send(`${socket.remotePort}:${message}`));
    }));
    server.on('tlsClientError', () => {});
    await once(server.listen(0, '127.0.0.1'), 'listening');
    return { server, port: server.address().port };
  }

  for (const [what, serverOptions, clientOptions] of [
    ['PSK', { pskCallback: (socket, identity) => (identity.startsWith('device-') ? PSK : null) },
      (i) => ({ pskCallback: () => ({ psk: PSK, identity: `device-${i}` }) })],
    ['certificates', certs.ecdsa, () => ({ servername: 'localhost', ca: certs.ca })],
  ]) {
    it(`${CLIENTS} clients at once (${what}) each get their own echo`, async function () {
      const { server, port } = await echoServer(serverOptions);
      const clients = [];
      for (let i = 0; i < CLIENTS; i++) {
        clients.push(track.socket(dtls.connect({ host: '127.0.0.1', port, ...clientOptions(i) })));
      }
      await Promise.all(clients.map((client) => once(client, 'secureConnect')));
      assert.equal(await connections(server), CLIENTS);
      assert.equal(server.stats.handshakes, CLIENTS);
      // Fifty clients send at once (more would overflow the server's receive buffer: the
      // kernel would drop records, and DTLS does not resend them); each must get back its own
      // record, with its own port.
      for (let first = 0; first < CLIENTS; first += 50) {
        const batch = clients.slice(first, first + 50);
        const echoes = batch.map((client) => once(client, 'message'));
        batch.forEach((client, i) => client.send(`client ${first + i}`));
        const answers = (await Promise.all(echoes)).map(String);
        batch.forEach((client, i) => assert.equal(answers[i], `${client.address().port}:client ${first + i}`));
      }
      // close_notify from each: the server lets every session go.
      await Promise.all(clients.map((client) => {
        const closed = once(client, 'close');
        client.close();
        return closed;
      }));
      await until(async () => (await connections(server)) === 0);
    });
  }

  describe('a flood of ClientHellos from many source ports', function () {
    const SOURCES = 100;

    // UDP sockets on 127.0.0.1, one per source port, recording what comes back.
    async function sources(n) {
      const list = [];
      for (let i = 0; i < n; i++) {
        const socket = dgram.createSocket('udp4');
        socket.replies = [];
        socket.on('message', (message) => socket.replies.push(message));
        socket.bind(0, '127.0.0.1');
        list.push(socket);
      }
      await Promise.all(list.map((socket) => once(socket, 'listening')));
      closers.push(() => Promise.all(list.map((socket) => new Promise((resolve) => socket.close(resolve)))));
      return list;
    }

    // The two ClientHellos a real client sends to the server (the first without a cookie, the
    // second with the cookie the server gave its address), caught on their way by a proxy;
    // the client's session is closed again and the server back to no session.
    async function realClientHellos(server, port) {
      const hellos = [];
      const proxy = new UdpProxy({
        port,
        plan: (datagram, { direction }) => {
          if (direction === 'toServer' && datagram[0] === 22 && datagram[13] === 1 && hellos.length < 2) {
            hellos.push(Buffer.from(datagram));
          }
          return 'pass';
        },
      });
      closers.push(() => proxy.close());
      const client = track.socket(dtls.connect({
        host: '127.0.0.1', port: await proxy.listen(), servername: 'localhost', ca: certs.ca,
      }));
      await once(client, 'secureConnect');
      const closed = once(client, 'close');
      client.close();
      await closed;
      await until(async () => (await connections(server)) === 0);
      assert.equal(hellos.length, 2);
      return { withoutCookie: hellos[0], withCookie: hellos[1] };
    }

    it('gets stateless HelloVerifyRequests, no larger than the ClientHello, and leaves no state', async function () {
      const { server, port } = await echoServer(certs.ecdsa);
      const { withoutCookie, withCookie } = await realClientHellos(server, port);
      // The memory a server holds with no session, once warmed up by one.
      const baseline = ours.mbedtlsMemoryUsage().current;
      const stats = JSON.parse(JSON.stringify(server.stats));
      const flood = await sources(SOURCES);

      // Three rounds from every source: the real client's first ClientHello; its second one
      // (with a cookie for the real client's address, not theirs); the second with the cookie
      // altered; and a datagram that is not DTLS.
      const forged = Buffer.from(withCookie);
      forged[forged.length - 1] ^= 0xff;
      const forgedCookie = Buffer.from(withCookie);
      // The cookie follows the 13-byte record header, the 12-byte handshake header, version (2),
      // random (32) and session ID (1 + length).
      const cookieOffset = 13 + 12 + 2 + 32 + 1 + withCookie[13 + 12 + 2 + 32];
      assert.ok(withCookie[cookieOffset] > 0, 'the second ClientHello carries a cookie');
      forgedCookie[cookieOffset + 1] ^= 0xff;
      let sent = 0;
      for (let round = 0; round < 3; round++) {
        for (const socket of flood) {
          for (const datagram of [withoutCookie, withCookie, forgedCookie, forged, Buffer.from('GET / HTTP/1.1\r\n\r\n')]) {
            socket.send(datagram, port, '127.0.0.1');
            sent++;
          }
          // In bursts of 50: more at once would overflow the server's receive buffer, and
          // the kernel, not the server, would drop them.
          if (sent % 50 === 0) await until(() => server.stats.datagrams - stats.datagrams >= sent);
        }
      }
      await until(() => server.stats.datagrams - stats.datagrams >= sent);
      await until(() => flood.every((socket) => socket.replies.length >= 3));

      assert.equal(server.stats.handshakes, stats.handshakes, 'no session was created');
      assert.equal(await connections(server), 0);
      assert.equal(ours.mbedtlsMemoryUsage().current, baseline);
      // Each source was asked for a cookie on each ClientHello without a valid one for it:
      // HelloVerifyRequests (handshake type 3), each no larger than the datagram it answers.
      for (const socket of flood) {
        for (const reply of socket.replies) {
          assert.equal(reply[0], 22);
          assert.equal(reply[13], 3);
          assert.ok(reply.length <= withoutCookie.length, `${reply.length} <= ${withoutCookie.length}`);
        }
      }
      const delta = (name) => server.stats[name] - stats[name];
      const dropped = (name) => server.stats.dropped[name] - stats.dropped[name];
      const replies = flood.reduce((n, socket) => n + socket.replies.length, 0);
      assert.equal(delta('helloVerifyRequests'), replies);
      assert.ok(replies >= 3 * SOURCES, `${replies} HelloVerifyRequests`);
      assert.equal(dropped('malformed'), 3 * SOURCES);
      // What was neither answered nor malformed was refused by the stateless check.
      assert.equal(replies + dropped('malformed') + dropped('badClientHello') + dropped('unknownPeer'), sent);

      // The server still serves a real client.
      const client = track.socket(dtls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca }));
      await once(client, 'secureConnect');
      const echo = once(client, 'message');
      client.send('still here');
      assert.equal((await echo).toString(), `${client.address().port}:still here`);
    });

    it('a ClientHello with the cookie of another address, from 100 ports, gets no session', async function () {
      const { server, port } = await echoServer(certs.ecdsa);
      const { withCookie } = await realClientHellos(server, port);
      const stats = JSON.parse(JSON.stringify(server.stats));
      const flood = await sources(SOURCES);
      let sent = 0;
      for (const socket of flood) {
        socket.send(withCookie, port, '127.0.0.1');
        if (++sent % 50 === 0) await until(() => server.stats.datagrams - stats.datagrams >= sent);
      }
      // The cookie is bound to the real client's address and port: from anywhere else it is
      // worth a new HelloVerifyRequest at most.
      assert.equal(server.stats.handshakes, stats.handshakes);
      assert.equal(await connections(server), 0);
    });
  });
});
