'use strict';
// The impairing UDP proxy of test/dtls/udp-proxy.js, checked on its own before the DTLS tests
// trust it: its plans are deterministic, it really drops, duplicates, reorders and delays
// (seen by plain UDP endpoints), rebind() moves the source port the server sees, and OpenSSL's
// s_client and s_server complete a DTLS 1.2 handshake through it under loss by retransmission,
// with each application record delivered once.

const dgram = require('node:dgram');
const { assert, certs, once, useCleanup, run, startPeerServer } = require('./helpers');
const { UdpProxy, seededPlan, listPlan } = require('./dtls/udp-proxy');
const { until, stopWaiting } = require('./dtls/until');

// A UDP socket on 127.0.0.1 recording what it receives, as { data, port } in arrival order.
async function endpoint(track, onMessage) {
  const socket = dgram.createSocket('udp4');
  const received = [];
  socket.on('message', (data, rinfo) => {
    received.push({ data: data.toString(), port: rinfo.port, at: Date.now() });
    if (onMessage) onMessage(socket, data, rinfo);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  track.closers.push(() => new Promise((resolve) => socket.close(resolve)));
  return { socket, received, port: socket.address().port };
}

describe('UDP proxy (test/dtls/udp-proxy.js)', function () {
  this.timeout(120000);
  const track = useCleanup();
  track.closers = [];
  afterEach(async () => {
    stopWaiting();
    for (const close of track.closers.splice(0)) await close();
  });
  async function proxyTo(port, plan, options = {}) {
    const proxy = new UdpProxy({ port, plan, ...options });
    track.closers.push(() => proxy.close());
    return { proxy, port: await proxy.listen() };
  }

  it('a seeded plan is the same on every run', () => {
    const decisions = (seed) => {
      const plan = seededPlan({ seed, drop: 0.2, duplicate: 0.2, reorder: 0.2, delay: 0.2 });
      const out = [];
      for (let index = 0; index < 200; index++) {
        const direction = index % 3 ? 'toServer' : 'toClient';
        const action = plan(Buffer.from([22]), { direction, index });
        out.push(typeof action === 'object' ? `delay${action.delay}` : action);
      }
      return out;
    };
    assert.deepEqual(decisions(42), decisions(42));
    assert.notDeepEqual(decisions(42), decisions(43));
    // Each action is drawn about as often as asked (200 draws at 0.2 each).
    for (const action of ['drop', 'duplicate', 'reorder', 'delay200', 'pass']) {
      const n = decisions(42).filter((a) => a === action).length;
      assert.ok(n > 15 && n < 70, `${action}: ${n}`);
    }
  });

  it('drops, duplicates, reorders and delays by an explicit plan, in order otherwise', async () => {
    const server = await endpoint(track);
    // A held datagram waits for the next one however slow the machine (no early flush).
    const { proxy, port } = await proxyTo(server.port, listPlan({
      toServer: { drop: [1], duplicate: [2], reorder: [3], delay: { 5: 300 } },
    }), { reorderFlushMs: 600000 });
    const client = await endpoint(track);
    // Sent one at a time, each after the previous one was seen by the proxy, so that their
    // order on the wire is the order sent.
    let m5sent;
    for (let i = 0; i < 8; i++) {
      if (i === 5) m5sent = Date.now();
      client.socket.send(`m${i}`, port, '127.0.0.1');
      await until(() => proxy.counts.toServer > i);
    }
    await until(() => server.received.length >= 8);
    // m1 lost, m2 twice, m3 after m4, m5 at least 300 ms late.
    assert.deepEqual(server.received.map((r) => r.data).filter((d) => d !== 'm5'),
      ['m0', 'm2', 'm2', 'm4', 'm3', 'm6', 'm7']);
    const m5 = server.received.find((r) => r.data === 'm5');
    assert.ok(m5.at - m5sent >= 300, `m5 after ${m5.at - m5sent} ms`);
    assert.deepEqual(proxy.log.map((e) => e.action),
      ['pass', 'drop', 'duplicate', 'reorder', 'pass', 'delay', 'pass', 'pass']);
  });

  it('a held datagram is not lost when nothing follows it', async () => {
    const server = await endpoint(track);
    const { port } = await proxyTo(server.port, listPlan({ toServer: { reorder: [0] } }));
    const client = await endpoint(track);
    client.socket.send('alone', port, '127.0.0.1');
    await until(() => server.received.length === 1);
    assert.equal(server.received[0].data, 'alone');
  });

  it('rebind() moves the source port the server sees; answers to the old one are lost', async () => {
    const server = await endpoint(track, (socket, data, rinfo) => socket.send(`re:${data}`, rinfo.port, rinfo.address));
    const { proxy, port } = await proxyTo(server.port);
    const client = await endpoint(track);
    client.socket.send('before', port, '127.0.0.1');
    await until(() => client.received.length === 1);
    const oldPort = server.received[0].port;
    assert.equal(oldPort, proxy.upstreamPort());

    const [newPort] = await proxy.rebind();
    assert.notEqual(newPort, oldPort);
    client.socket.send('after', port, '127.0.0.1');
    await until(() => client.received.length === 2);
    assert.equal(server.received[1].port, newPort);
    // The server answering the old address reaches nobody.
    server.socket.send('stale', oldPort, '127.0.0.1');
    client.socket.send('last', port, '127.0.0.1');
    await until(() => client.received.length === 3);
    assert.deepEqual(client.received.map((r) => r.data), ['re:before', 're:after', 're:last']);
  });

  describe('OpenSSL s_client and s_server -dtls1_2 through it', function () {
    // s_server and s_client print each record's payload they receive on stdout.
    async function opensslThrough(plan) {
      const server = await startPeerServer(track, 'openssl', [
        's_server', '-dtls1_2', '-listen', '-accept', '127.0.0.1:0',
        '-cert', certs.path('server-ecdsa.pem'), '-key', certs.path('server-ecdsa.key'),
        '-cert_chain', certs.path('intermediate.pem'),
      ], { ready: /ACCEPT/, protocol: 'udp' });
      const { proxy, port } = await proxyTo(server.port, plan);
      const client = run('openssl', [
        's_client', '-dtls1_2', '-connect', `127.0.0.1:${port}`, '-CAfile', certs.path('ca.pem'),
        '-verify_return_error', '-ign_eof',
      ], { track });
      let clientOut = '';
      client.child.stdout.on('data', (d) => { clientOut += d; });
      // The handshake is done once s_client prints its summary.
      await until(() => /Verify return code: 0 \(ok\)/.test(clientOut));
      client.child.stdin.write('hello from s_client\n');
      await until(() => server.output().stdout.includes('hello from s_client'));
      server.child.stdin.write('hello from s_server\n');
      await until(() => clientOut.includes('hello from s_server'));
      return { proxy, server, client, clientOut: () => clientOut };
    }
    const count = (text, what) => text.split(what).length - 1;

    it('completes the handshake and exchanges data with nothing impaired', async () => {
      const { proxy } = await opensslThrough(() => 'pass');
      assert.ok(proxy.actions('toServer', 'pass').length >= 3);
      assert.ok(proxy.actions('toClient', 'pass').length >= 3);
    });

    it('completes the handshake under loss, duplication and reordering by retransmission; each record arrives once', async () => {
      // 25% of handshake datagrams lost, 15% duplicated, 15% reordered, each way; every
      // application record to the client duplicated (s_server, given a replayed record, stops
      // reading its stdin: a quirk of the tool, not of the path).
      const handshakeOnly = (datagram) => datagram[0] !== 23;
      const impaired = seededPlan({ seed: 5, drop: 0.25, duplicate: 0.15, reorder: 0.15, only: handshakeOnly });
      const plan = (datagram, where) => {
        if (datagram[0] !== 23) return impaired(datagram, where);
        return where.direction === 'toClient' ? 'duplicate' : 'pass';
      };
      const { proxy, server, clientOut } = await opensslThrough(plan);
      assert.ok(proxy.log.some((e) => e.action === 'drop' && e.type === 22), 'a handshake datagram was lost');
      assert.ok(proxy.log.some((e) => e.action === 'duplicate' && e.type === 22));
      assert.ok(proxy.log.some((e) => e.action === 'reorder'));
      assert.ok(proxy.log.some((e) => e.action === 'duplicate' && e.type === 23 && e.direction === 'toClient'));
      // The duplicates are discarded by the receiver's anti-replay: each line once.
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(count(server.output().stdout, 'hello from s_client'), 1);
      assert.equal(count(clientOut(), 'hello from s_server'), 1);
    });
  });
});
