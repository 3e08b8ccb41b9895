'use strict';
// A UDP proxy for the DTLS tests: sits between clients and a server on 127.0.0.1 and drops,
// duplicates, reorders or delays datagrams by a deterministic plan, and moves a client's
// apparent source address (a new proxy-side socket) to simulate NAT rebinding.
//
// The plan decides per datagram from its direction and its index in that direction, never
// from timing, so a test sees the same impairments on every run and on any machine:
//
//   const proxy = new UdpProxy({ port: serverPort, plan: seededPlan({ seed: 7, drop: 0.3 }) });
//   const port = await proxy.listen();       // clients connect to 127.0.0.1:port
//   proxy.rebind();                          // every client now reaches the server from a new port
//   proxy.log                                // [{ direction, index, action, type }] of what it did
//   await proxy.close();
//
// A plan is a function (datagram, { direction, index }) -> action, direction 'toServer' or
// 'toClient', index counting that direction's datagrams from 0 over all clients; actions:
//   'pass'              forward it
//   'drop'              never forward it
//   'duplicate'         forward it twice
//   'reorder'           hold it and forward it right after the next datagram in the same
//                       direction (or after `reorderFlushMs` if none comes, so that a hold
//                       never turns into a loss)
//   { delay: ms }       forward it after ms milliseconds

const dgram = require('node:dgram');

// mulberry32: a small seeded PRNG, so that a plan is the same on every run.
function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// A plan impairing each datagram with the given probabilities (0..1, summing to at most 1),
// drawn from a PRNG seeded with `seed`, one draw per datagram in arrival order per
// direction. `directions` limits it to 'toServer' or 'toClient'; `only(datagram)` to some
// datagrams (e.g. handshake records); `delayMs` is the delay of a delayed datagram.
function seededPlan({
  seed = 1, drop = 0, duplicate = 0, reorder = 0, delay = 0, delayMs = 200,
  directions = ['toServer', 'toClient'], only = () => true,
} = {}) {
  const random = { toServer: seededRandom(seed), toClient: seededRandom(seed ^ 0x5bd1e995) };
  return (datagram, { direction }) => {
    if (!directions.includes(direction) || !only(datagram)) return 'pass';
    let r = random[direction]();
    if ((r -= drop) < 0) return 'drop';
    if ((r -= duplicate) < 0) return 'duplicate';
    if ((r -= reorder) < 0) return 'reorder';
    if ((r -= delay) < 0) return { delay: delayMs };
    return 'pass';
  };
}

// A plan from explicit lists of indexes per direction and action:
// listPlan({ toServer: { drop: [0, 1] }, toClient: { duplicate: [2], delay: { 3: 500 } } }).
function listPlan(lists) {
  return (datagram, { direction, index }) => {
    const list = lists[direction] || {};
    for (const action of ['drop', 'duplicate', 'reorder']) {
      if ((list[action] || []).includes(index)) return action;
    }
    if (list.delay && list.delay[index] !== undefined) return { delay: list.delay[index] };
    return 'pass';
  };
}

// The DTLS content type of the datagram's first record (RFC 6347 4.1, RFC 9146):
// 20 change_cipher_spec, 21 alert, 22 handshake, 23 application_data, 25 tls12_cid.
const recordType = (datagram) => (datagram.length > 0 ? datagram[0] : -1);

class UdpProxy {
  // port/host: the server. plan: as above (default: forward everything).
  constructor({ port, host = '127.0.0.1', plan = () => 'pass', reorderFlushMs = 100 }) {
    this.target = { port, host };
    this.plan = plan;
    this.reorderFlushMs = reorderFlushMs;
    this.log = [];
    this.counts = { toServer: 0, toClient: 0 };
    this.front = null;
    // Per client ("address:port"): { address, port, upstream } where upstream is the
    // proxy-side socket the server sees as that client.
    this.clients = new Map();
    this.held = { toServer: null, toClient: null };
    this.timers = new Set();
    this.closed = false;
  }

  // Binds the client-facing socket on 127.0.0.1; resolves with its port.
  listen() {
    this.front = dgram.createSocket('udp4');
    this.front.on('message', (datagram, rinfo) => this.fromClient(datagram, rinfo));
    this.front.on('error', () => {});
    return new Promise((resolve, reject) => {
      this.front.once('error', reject);
      this.front.bind(0, '127.0.0.1', () => {
        this.front.removeListener('error', reject);
        resolve(this.front.address().port);
      });
    });
  }

  // The port the server sees for the client at `clientPort` (the only client if omitted).
  upstreamPort(clientPort) {
    const client = clientPort === undefined
      ? [...this.clients.values()][0]
      : [...this.clients.values()].find((c) => c.port === clientPort);
    return client && client.upstream.address().port;
  }

  // NAT rebinding: each client (or the one at `clientPort`) now reaches the server from a new
  // proxy-side socket, a new source port; the old one is closed, so that the server's answers
  // to the old address are lost as behind a NAT that forgot the mapping. Resolves with the
  // new ports once they are bound.
  async rebind(clientPort) {
    const ports = [];
    for (const client of this.clients.values()) {
      if (clientPort !== undefined && client.port !== clientPort) continue;
      const old = client.upstream;
      client.upstream = await this.bindUpstream(client);
      old.close();
      ports.push(client.upstream.address().port);
    }
    return ports;
  }

  bindUpstream(client) {
    const upstream = dgram.createSocket('udp4');
    upstream.on('error', () => {});
    upstream.on('message', (datagram) => {
      // Only what the server sends to the client's current proxy-side socket reaches it.
      if (upstream === client.upstream) this.impair('toClient', datagram, client);
    });
    return new Promise((resolve) => upstream.bind(0, '127.0.0.1', () => resolve(upstream)));
  }

  async fromClient(datagram, rinfo) {
    const key = `${rinfo.address}:${rinfo.port}`;
    let client = this.clients.get(key);
    if (!client) {
      client = { address: rinfo.address, port: rinfo.port, upstream: null, ready: null };
      this.clients.set(key, client);
      client.ready = this.bindUpstream(client).then((upstream) => { client.upstream = upstream; });
    }
    // The first datagrams of a client wait for its socket; they keep their order.
    if (!client.upstream) await client.ready;
    if (this.closed) return;
    this.impair('toServer', datagram, client);
  }

  impair(direction, datagram, client) {
    const index = this.counts[direction]++;
    const action = this.plan(datagram, { direction, index });
    this.log.push({
      direction, index, type: recordType(datagram), length: datagram.length,
      action: typeof action === 'object' ? 'delay' : action,
    });
    const send = () => this.forward(direction, datagram, client);
    // A datagram held for reordering goes out right after this one.
    const held = this.held[direction];
    this.held[direction] = null;
    if (action === 'drop') {
      // The held one still goes: a drop is not "the next datagram" but it must not keep it.
    } else if (action === 'duplicate') {
      send();
      send();
    } else if (action === 'reorder') {
      if (held) {
        clearTimeout(held.timer);
        this.timers.delete(held.timer);
        held.send();
      }
      const entry = { send };
      entry.timer = this.later(this.reorderFlushMs, () => {
        if (this.held[direction] === entry) this.held[direction] = null;
        send();
      });
      this.held[direction] = entry;
      return;
    } else if (typeof action === 'object' && action.delay >= 0) {
      this.later(action.delay, send);
    } else {
      send();
    }
    if (held) {
      clearTimeout(held.timer);
      this.timers.delete(held.timer);
      held.send();
    }
  }

  later(ms, fn) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  forward(direction, datagram, client) {
    if (this.closed) return;
    if (direction === 'toServer') {
      client.upstream.send(datagram, this.target.port, this.target.host);
    } else {
      this.front.send(datagram, client.port, client.address);
    }
  }

  // The log's entries for one direction and action.
  actions(direction, action) {
    return this.log.filter((e) => e.direction === direction && e.action === action);
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const closing = [];
    const close = (socket) => closing.push(new Promise((resolve) => socket.close(resolve)));
    if (this.front) close(this.front);
    for (const client of this.clients.values()) {
      if (client.ready) await client.ready;
      close(client.upstream);
    }
    await Promise.all(closing);
  }
}

module.exports = { UdpProxy, seededPlan, listPlan, seededRandom, recordType };
