'use strict';
// asyncHandshake: the handshake's engine calls run on libuv's thread pool (by default while
// more than one handshake is in progress on the thread; with 'always', every one), one at a
// time per session, with the transport's events kept in order behind them; the outcome is
// the same as with asyncHandshake: false, against node's own peers.

const asyncHooks = require('node:async_hooks');
const net = require('node:net');
const tls = require('node:tls');
const ours = require('..');
const binding = require('../lib/binding');
const {
  assert, certs, listen, once, randomBytes, sha256, runNodeChild, useCleanup, handshakeOutcome, TcpTransport,
} = require('./helpers');

// The async resource each step on the pool is (src/napi/offload.cc).
const STEP = 'mbedtls-stream:handshake';

// Counts the steps queued on the pool while it runs; resolves with { result, steps } once
// every step it queued has finished (its resource destroyed).
async function countSteps(fn) {
  const live = new Set();
  let steps = 0;
  let settled = null;
  const hook = asyncHooks.createHook({
    init(id, type) {
      if (type !== STEP) return;
      steps++;
      live.add(id);
    },
    destroy(id) {
      if (live.delete(id) && live.size === 0 && settled) settled();
    },
  }).enable();
  try {
    const result = await fn();
    if (live.size > 0) await new Promise((resolve) => { settled = resolve; });
    return { result, steps };
  } finally {
    hook.disable();
  }
}

// A client whose transport hands each byte the server sends to the TLS socket as a 'data'
// event of its own: whatever follows the first chunk of a flight arrives while that chunk's
// step is on the pool.
function connectByteByByte(port, options) {
  const transport = new TcpTransport(net.connect(port, '127.0.0.1'), { byteByByte: true });
  return ours.connect({ socket: transport, servername: 'localhost', ca: certs.ca, ...options });
}

// What a client connection saw, in order: 'secureConnect', then one 'data' entry with the
// digest of everything read, then 'end' or the error's code.
function record(socket) {
  return new Promise((resolve) => {
    const seen = [];
    const chunks = [];
    socket.once('secureConnect', () => seen.push('secureConnect'));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.once('end', () => {
      if (chunks.length > 0) seen.push(`data ${sha256(Buffer.concat(chunks))}`);
      seen.push('end');
    });
    socket.once('error', (err) => seen.push(`error ${err.code}`));
    socket.once('close', () => resolve(seen));
  });
}

describe('asyncHandshake', function () {
  this.timeout(60000);
  const cleanup = useCleanup();

  it('runs concurrent handshakes on the thread pool by default, and not with asyncHandshake: false', async () => {
    for (const asyncHandshake of [undefined, false]) {
      const server = cleanup.server(ours.createServer({ ...certs.ecdsa, asyncHandshake }, (s) => s.end('hi')));
      const port = await listen(server);
      const { result, steps } = await countSteps(async () => {
        const client = cleanup.socket(ours.connect({
          port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, asyncHandshake,
        }));
        const [seen] = await Promise.all([record(client), once(client, 'secureConnect')]);
        return seen;
      });
      assert.deepEqual(result, ['secureConnect', `data ${sha256(Buffer.from('hi'))}`, 'end']);
      if (asyncHandshake === false) {
        assert.equal(steps, 0);
      } else {
        // Client and server are two handshakes in progress here: at least the client's
        // reading of the server's flight and the server's reading of the ClientHello.
        assert.ok(steps >= 2, `${steps} steps`);
      }
      server.close();
    }
  });

  it('runs a lone handshake on the JS thread by default, and on the pool with \'always\'', async () => {
    // In a process of its own: here, other tests' sockets could count as handshakes in progress.
    const counts = await runNodeChild(`
      const asyncHooks = require('async_hooks');
      const tls = require('tls');
      const ours = require('./');
      const fs = require('fs');
      const c = (f) => fs.readFileSync('certs/' + f);
      let steps = 0;
      asyncHooks.createHook({ init(id, type) { if (type === '${STEP}') steps++; } }).enable();
      const server = tls.createServer({ key: c('server-ecdsa.key'), cert: c('server-ecdsa-chain.pem') },
        (socket) => socket.end('x'));
      server.listen(0, '127.0.0.1', async () => {
        const counts = [];
        for (const asyncHandshake of [undefined, 'always']) {
          steps = 0;
          const client = ours.connect({ port: server.address().port, host: '127.0.0.1',
            servername: 'localhost', ca: c('ca.pem'), asyncHandshake });
          client.resume();
          await new Promise((resolve, reject) => client.on('close', resolve).on('error', reject));
          counts.push(steps);
        }
        server.close();
        console.log(JSON.stringify(counts));
      });`, 100000);
    assert.equal(counts[0], 0);
    assert.ok(counts[1] >= 1, `${counts[1]} steps`);
  });

  it('runs on the pool by default once a second handshake is in progress', async () => {
    const server = cleanup.server(tls.createServer(certs.ecdsa, (socket) => socket.end('x')));
    const port = await listen(server);
    const { steps } = await countSteps(async () => {
      // Both start in this tick: each reads its server's flight while the other is in progress.
      const clients = [0, 1].map(() => cleanup.socket(ours.connect({
        port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca,
      })));
      await Promise.all(clients.map(record));
    });
    assert.ok(steps >= 1, `${steps} steps`);
  });

  for (const version of ['TLSv1.3', 'TLSv1.2']) {
    it(`keeps events in order when the rest of a flight arrives during a step (${version}, node's server)`, async () => {
      const payload = randomBytes(40000);
      const server = cleanup.server(tls.createServer({ ...certs.ecdsa, maxVersion: version },
        (socket) => socket.end(payload)));
      const port = await listen(server);
      for (const asyncHandshake of ['always', false]) {
        const client = cleanup.socket(connectByteByByte(port, { asyncHandshake }));
        assert.deepEqual(await record(client), ['secureConnect', `data ${sha256(payload)}`, 'end'],
          `asyncHandshake: ${asyncHandshake}`);
      }
    });
  }

  it('fails as without the pool when the flight read on it fails verification', async () => {
    const server = cleanup.server(tls.createServer(certs.otherServer, (socket) => socket.end('x')));
    const port = await listen(server);
    const outcomes = [];
    for (const asyncHandshake of ['always', false]) {
      outcomes.push(await record(cleanup.socket(connectByteByByte(port, { asyncHandshake }))));
    }
    assert.deepEqual(outcomes, [['error UNABLE_TO_VERIFY_LEAF_SIGNATURE'], ['error UNABLE_TO_VERIFY_LEAF_SIGNATURE']]);
  });

  it('fails as without the pool when node\'s server refuses the client (fatal alert)', async () => {
    const server = cleanup.server(tls.createServer({ ...certs.ecdsa, requestCert: true, rejectUnauthorized: true }));
    server.on('tlsClientError', () => {});
    const port = await listen(server);
    const outcomes = [];
    for (const asyncHandshake of ['always', false]) {
      const client = cleanup.socket(connectByteByByte(port, { asyncHandshake, maxVersion: 'TLSv1.2' }));
      outcomes.push(await record(client));
    }
    assert.deepEqual(outcomes, [['error ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'],
      ['error ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE']]);
  });

  it('serves node\'s clients with SNICallback, PSK and the session store on the pool', async () => {
    const key = Buffer.alloc(32, 7);
    const sessions = new Map();
    const server = cleanup.server(ours.createServer({
      ...certs.ecdsa,
      asyncHandshake: 'always',
      ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:PSK-AES128-GCM-SHA256',
      SNICallback: (name, cb) => setImmediate(() => cb(null, ours.createSecureContext(certs.ecdsa))),
      pskCallback: (socket, identity) => (identity === 'id' ? key : null),
    }, (socket) => socket.end(socket.servername || 'psk')));
    server.on('newSession', (id, data, cb) => { sessions.set(id.toString('hex'), data); setImmediate(cb); });
    server.on('resumeSession', (id, cb) => setImmediate(cb, null, sessions.get(id.toString('hex')) || null));
    const port = await listen(server);
    const read = async (socket) => {
      const chunks = [];
      for await (const chunk of socket) chunks.push(chunk);
      return Buffer.concat(chunks).toString();
    };
    const first = cleanup.socket(tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, maxVersion: 'TLSv1.2' }));
    const [session] = await once(first, 'session').then((s) => [s]);
    assert.equal(await read(first), 'localhost');
    const second = cleanup.socket(tls.connect({
      port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, maxVersion: 'TLSv1.2', session,
    }));
    await once(second, 'secureConnect');
    assert.equal(second.isSessionReused(), true);
    assert.equal(await read(second), 'localhost');
    const psk = cleanup.socket(tls.connect({
      port, host: '127.0.0.1', ciphers: 'PSK-AES128-GCM-SHA256', maxVersion: 'TLSv1.2',
      checkServerIdentity: () => undefined, pskCallback: () => ({ psk: key, identity: 'id' }),
    }));
    assert.equal(await read(psk), 'psk');
  });

  it('lets destroy() run while a step is on the pool, and frees the session after it', async () => {
    const server = cleanup.server(tls.createServer(certs.ecdsa, (socket) => socket.end('x')));
    const port = await listen(server);
    const cycle = async () => {
      const { steps } = await countSteps(async () => {
        const client = connectByteByByte(port, { asyncHandshake: 'always' });
        client.on('error', () => {});
        // After the socket's own listener: its first chunk's step is in flight.
        client._parent.once('data', () => client.destroy());
        const events = [];
        client.once('secureConnect', () => events.push('secureConnect'));
        await once(client, 'close');
        assert.deepEqual(events, []);
      });
      assert.ok(steps >= 1, `${steps} steps`);
    };
    await cycle();
    const before = binding.memoryTotals()[0];
    for (let i = 0; i < 5; i++) await cycle();
    assert.equal(binding.memoryTotals()[0], before);
  });

  it('lets a worker exit while its handshakes are on the pool', async () => {
    const result = await runNodeChild(`
      const { Worker } = require('worker_threads');
      const source = \`
        const ours = require('./');
        const fs = require('fs');
        const c = (f) => fs.readFileSync('certs/' + f);
        const server = ours.createServer({ key: c('server-ecdsa.key'), cert: c('server-ecdsa-chain.pem'),
          asyncHandshake: 'always' });
        server.listen(0, '127.0.0.1', () => {
          const { port } = server.address();
          let connected = 0;
          for (let i = 0; i < 20; i++) {
            const s = ours.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: c('ca.pem'),
              asyncHandshake: 'always' });
            s.on('error', () => {});
            s.on('secureConnect', () => { if (++connected === 3) process.exit(0); });
          }
        });\`;
      const worker = new Worker(source, { eval: true });
      worker.on('exit', (code) => console.log(JSON.stringify({ code })));
    `, 100000);
    assert.deepEqual(result, { code: 0 });
  });

  it('is a boolean or \'always\'', () => {
    for (const value of [1, 'yes']) {
      assert.throws(() => ours.connect({ port: 1, asyncHandshake: value }), { code: 'ERR_INVALID_ARG_TYPE' });
      assert.throws(() => ours.createServer({ ...certs.ecdsa, asyncHandshake: value }), { code: 'ERR_INVALID_ARG_TYPE' });
    }
  });

  it('handshakes with node\'s client and server either way, TLS 1.3 and 1.2', async () => {
    for (const asyncHandshake of ['always', true, false]) {
      for (const maxVersion of ['TLSv1.3', 'TLSv1.2']) {
        const mine = cleanup.server(ours.createServer({ ...certs.ecdsa, asyncHandshake }, (s) => s.end('ok')));
        const theirs = cleanup.server(tls.createServer(certs.ecdsa, (s) => s.end('ok')));
        const options = { host: '127.0.0.1', servername: 'localhost', ca: certs.ca, maxVersion };
        const a = await handshakeOutcome(cleanup.socket(tls.connect({ ...options, port: await listen(mine) })));
        const b = await handshakeOutcome(cleanup.socket(ours.connect({ ...options, asyncHandshake, port: await listen(theirs) })));
        assert.deepEqual([a, b], [{ secure: true, authorized: true, authorizationError: null },
          { secure: true, authorized: true, authorizationError: null }], `${maxVersion} ${asyncHandshake}`);
      }
    }
  });
});
