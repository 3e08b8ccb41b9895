'use strict';
// Our dtls client and server through an impaired path (test/dtls/udp-proxy.js, seeded and
// deterministic): handshake datagrams lost, duplicated, reordered and delayed, both ways,
// with certificates (flights fragmented to a small MTU) and PSK; the handshake completes by
// retransmission and each application record reaches the application exactly once. A client
// whose address changes mid-session (NAT rebinding) is still served with a Connection ID, the
// server's socket moves ('peerAddressChange', remoteAddress/remotePort), and without one the
// server drops what comes from the unknown address.

const dtls = require('../dtls');
const { assert, certs, once, useCleanup } = require('./helpers');
const { UdpProxy, seededPlan, listPlan } = require('./dtls/udp-proxy');
const { until, stopWaiting } = require('./dtls/until');

const APPLICATION_DATA = 23;
const TLS12_CID = 25;
const isApplicationData = (datagram) => datagram[0] === APPLICATION_DATA || datagram[0] === TLS12_CID;
const PSK = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
// Shorter than RFC 6347's first second, so that a test's retransmissions do not take minutes;
// a slow machine only retransmits more often.
const RETRANSMIT = { min: 250, max: 4000 };

describe('DTLS: impaired paths (UDP proxy)', function () {
  this.timeout(180000);
  const track = useCleanup();
  const proxies = [];
  afterEach(async () => {
    stopWaiting();
    for (const proxy of proxies.splice(0)) await proxy.close();
  });

  // Our server echoing each record with a prefix, recording what it received per session;
  // the client connects through a proxy with `plan`. Resolves with what a test needs.
  async function setUp(plan, { serverOptions = certs.ecdsa, clientOptions = {} } = {}) {
    const received = [];
    const sessions = [];
    const server = track.server(dtls.createServer({ retransmitTimeout: RETRANSMIT, ...serverOptions }, (socket) => {
      sessions.push(socket);
      socket.on('message', (message) => {
        received.push(message.toString());
        socket.send(`echo:${message}`);
      });
    }));
    const clientErrors = [];
    server.on('tlsClientError', (err) => clientErrors.push(err));
    await once(server.listen(0, '127.0.0.1'), 'listening');
    const proxy = new UdpProxy({ port: server.address().port, plan });
    proxies.push(proxy);
    const port = await proxy.listen();
    const client = track.socket(dtls.connect({
      host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca, retransmitTimeout: RETRANSMIT,
      ...clientOptions,
    }));
    const echoes = [];
    client.on('message', (message) => echoes.push(message.toString()));
    await once(client, 'secureConnect');
    return { server, proxy, client, received, echoes, sessions, clientErrors };
  }

  // Sends `count` numbered records, one at a time (each after the previous one's echo, so that
  // every record is impaired in its own way), then waits for the last echo and a little more
  // for stragglers that a duplicate would bring.
  async function exchange(setup, count, prefix = 'm') {
    const { client, received, echoes } = setup;
    const sent = [];
    for (let i = 0; i < count; i++) {
      const text = `${prefix}${i}`;
      sent.push(text);
      client.send(text);
      await until(() => echoes.includes(`echo:${text}`));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { sent, received: received.filter((m) => m.startsWith(prefix)), echoes: echoes.filter((m) => m.startsWith(`echo:${prefix}`)) };
  }

  // Each of `sent` exactly once in `got`, in any order.
  function assertExactlyOnce(got, sent) {
    assert.deepEqual([...got].sort(), [...sent].sort());
  }

  // Handshake datagrams impaired each way by a seeded plan; application records duplicated,
  // reordered or delayed (never lost: DTLS does not retransmit them), seeded too.
  function impairedPlan(seed) {
    const handshake = seededPlan({ seed, drop: 0.2, duplicate: 0.15, reorder: 0.15, delay: 0.1, delayMs: 300,
      only: (datagram) => !isApplicationData(datagram) });
    const records = seededPlan({ seed: seed + 1000, duplicate: 0.3, reorder: 0.2, delay: 0.2, delayMs: 150,
      only: isApplicationData });
    return (datagram, where) => (isApplicationData(datagram) ? records : handshake)(datagram, where);
  }

  for (const seed of [1, 2, 3]) {
    it(`certificates, MTU 400: completes under loss, duplication, reordering and delay (seed ${seed}); each record once`, async function () {
      const setup = await setUp(impairedPlan(seed), {
        serverOptions: { ...certs.ecdsa, mtu: 400 }, clientOptions: { mtu: 400 },
      });
      const { proxy, client } = setup;
      assert.equal(client.authorized, true);
      const handshakeLog = proxy.log.filter((e) => e.type === 22);
      assert.ok(handshakeLog.some((e) => e.action === 'drop'), 'a handshake datagram was lost');
      assert.ok(proxy.log.every((e) => e.length <= 400), 'every datagram within the MTU');
      const { sent, received, echoes } = await exchange(setup, 20);
      assert.ok(proxy.log.some((e) => e.type === APPLICATION_DATA && e.action === 'duplicate'));
      assertExactlyOnce(received, sent);
      assertExactlyOnce(echoes, sent.map((m) => `echo:${m}`));
    });
  }

  it('PSK: completes under loss, duplication, reordering and delay; each record once', async function () {
    const setup = await setUp(impairedPlan(7), {
      serverOptions: { pskCallback: (socket, identity) => (identity === 'sensor-17' ? PSK : null) },
      clientOptions: { pskCallback: () => ({ psk: PSK, identity: 'sensor-17' }) },
    });
    assert.ok(setup.proxy.log.some((e) => e.type === 22 && e.action === 'drop'));
    const { sent, received, echoes } = await exchange(setup, 20);
    assertExactlyOnce(received, sent);
    assertExactlyOnce(echoes, sent.map((m) => `echo:${m}`));
  });

  it('completes when its first two datagrams each way are lost (explicit plan)', async function () {
    // The first ClientHello and the first of the next flight to the server; the first two the
    // server sends: retransmission (the client's, the server's) must recover each.
    const setup = await setUp(listPlan({ toServer: { drop: [0, 2] }, toClient: { drop: [0, 1] } }));
    const { proxy } = setup;
    assert.equal(proxy.actions('toServer', 'drop').length, 2);
    assert.equal(proxy.actions('toClient', 'drop').length, 2);
    const { sent, received } = await exchange(setup, 3);
    assertExactlyOnce(received, sent);
  });

  it('every application record duplicated: the duplicates are discarded (anti-replay)', async function () {
    const setup = await setUp((datagram) => (isApplicationData(datagram) ? 'duplicate' : 'pass'));
    const { sent, received, echoes } = await exchange(setup, 10);
    assert.equal(setup.proxy.log.filter((e) => e.action === 'duplicate').length, 20);
    assertExactlyOnce(received, sent);
    assertExactlyOnce(echoes, sent.map((m) => `echo:${m}`));
  });

  it('records delivered out of order are each delivered, once', async function () {
    // All ten sent at once; the proxy holds every other one back behind its successor.
    const setup = await setUp((datagram, { direction, index }) => (
      direction === 'toServer' && isApplicationData(datagram) && index % 2 === 0 ? 'reorder' : 'pass'));
    const sent = [];
    for (let i = 0; i < 10; i++) {
      sent.push(`r${i}`);
      setup.client.send(`r${i}`);
    }
    await until(() => setup.received.length >= 10);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(setup.proxy.log.filter((e) => e.action === 'reorder').length >= 4);
    assertExactlyOnce(setup.received, sent);
  });

  describe('NAT rebinding', function () {
    it('with a Connection ID: the server follows the client to its new port', async function () {
      const setup = await setUp(() => 'pass', {
        serverOptions: { ...certs.ecdsa, connectionId: 4 }, clientOptions: { connectionId: true },
      });
      const { proxy, server, sessions } = setup;
      const [session] = sessions;
      assert.equal(session.getConnectionId().own.length, 4);
      const before = await exchange(setup, 2, 'before');
      assertExactlyOnce(before.received, before.sent);
      const oldPort = session.remotePort;
      assert.equal(oldPort, proxy.upstreamPort());

      const changes = [];
      session.on('peerAddressChange', (address) => changes.push(address));
      const [newPort] = await proxy.rebind();
      assert.notEqual(newPort, oldPort);
      const after = await exchange(setup, 3, 'after');
      assertExactlyOnce(after.received, after.sent);
      assertExactlyOnce(after.echoes, after.sent.map((m) => `echo:${m}`));
      assert.deepEqual(changes, [{ address: '127.0.0.1', port: newPort }]);
      assert.equal(session.remoteAddress, '127.0.0.1');
      assert.equal(session.remotePort, newPort);
      assert.equal(server.stats.peerAddressChanges, 1);
      // Still one session.
      const count = await new Promise((resolve) => server.getConnections((err, n) => resolve(n)));
      assert.equal(count, 1);
    });

    it('with a Connection ID, under loss and duplication around the move', async function () {
      const setup = await setUp(() => 'pass', {
        serverOptions: { ...certs.ecdsa, connectionId: 8 }, clientOptions: { connectionId: true },
      });
      const { proxy, sessions } = setup;
      const [session] = sessions;
      const changes = [];
      session.on('peerAddressChange', (address) => changes.push(address));
      await exchange(setup, 2, 'before');
      // From here on, application records to the server are duplicated or delayed.
      proxy.plan = seededPlan({ seed: 11, duplicate: 0.4, delay: 0.3, delayMs: 200, directions: ['toServer'] });
      const [newPort] = await proxy.rebind();
      const after = await exchange(setup, 10, 'after');
      assertExactlyOnce(after.received, after.sent);
      assert.deepEqual(changes, [{ address: '127.0.0.1', port: newPort }]);
      assert.equal(session.remotePort, newPort);
    });

    it('without a Connection ID: records from the new port are dropped, not delivered', async function () {
      const setup = await setUp(() => 'pass');
      const { proxy, server, client, received } = setup;
      await exchange(setup, 1, 'before');
      await proxy.rebind();
      const droppedBefore = server.stats.dropped.unknownPeer;
      client.send('lost');
      await until(() => server.stats.dropped.unknownPeer > droppedBefore);
      assert.equal(server.stats.peerAddressChanges, 0);
      assert.ok(!received.includes('lost'));
    });
  });
});
