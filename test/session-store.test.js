'use strict';
// TLS 1.2 session IDs kept in the application's store through the server's 'newSession' and
// 'resumeSession' events, with node:tls as the oracle for when and with what they are
// called; then many servers: two server processes (examples/session-store-redis.js) sharing
// one Redis (Debian's redis-server, started here on 127.0.0.1), and session tickets resumed
// across processes given the same ticketKeys and across the workers of a node cluster.
//
// The clients are node's, told to take no tickets (SSL_OP_NO_TICKET), as a TLS 1.2 server
// gives a session ID only to a client that takes no ticket.

const tls = require('node:tls');
const crypto = require('node:crypto');
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { createClient, RESP_TYPES } = require('redis');
const ours = require('..');
const { assert, certs, listen, once, useCleanup } = require('./helpers');

const NO_TICKET = crypto.constants.SSL_OP_NO_TICKET;
const EXAMPLE = path.join(__dirname, '..', 'examples', 'session-store-redis.js');

describe('Session store', function () {
  const cleanup = useCleanup();

  // A server of `tlsModule` answering each connection with 'hello', with these listeners;
  // what the server reports goes into `log`, in order (the listeners may log there too).
  async function serverWith(tlsModule, listeners = {}, options = {}, log = []) {
    const srv = cleanup.server(tlsModule.createServer({ ...certs.ecdsa, ...options }, (socket) => {
      log.push(['secureConnection', socket.isSessionReused()]);
      socket.end('hello');
    }));
    srv.on('tlsClientError', (err) => log.push(['tlsClientError', err.code, err.message]));
    for (const event of ['newSession', 'resumeSession']) {
      if (listeners[event]) srv.on(event, listeners[event]);
    }
    return { srv, log, port: await listen(srv) };
  }

  // A store in memory, as node's documentation shows it.
  function memoryStore(log) {
    const sessions = new Map();
    return {
      sessions,
      newSession: (id, data, callback) => {
        log.push(['newSession', id.length, Buffer.isBuffer(data)]);
        sessions.set(id.toString('hex'), data);
        callback();
      },
      resumeSession: (id, callback) => {
        log.push(['resumeSession', id.length, sessions.has(id.toString('hex'))]);
        callback(null, sessions.get(id.toString('hex')) || null);
      },
    };
  }

  // One connection of node's client, read to its end: { reused, session, error }.
  async function connect(port, options = {}) {
    const socket = cleanup.socket(tls.connect({
      port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost',
      maxVersion: 'TLSv1.2', secureOptions: NO_TICKET, ...options,
    }));
    const result = { reused: null, session: null, error: null, protocol: null };
    socket.on('session', (session) => { result.session = session; });
    socket.on('secureConnect', () => {
      result.reused = socket.isSessionReused();
      result.protocol = socket.getProtocol();
    });
    socket.on('error', (err) => { result.error = err; });
    socket.resume();
    await new Promise((resolve) => socket.once('close', resolve)); // errors included
    return result;
  }

  describe("'newSession' and 'resumeSession'", function () {
    // A full handshake, then the session offered again, on a server of `tlsModule`: the
    // listeners' and the server's log, in order, and both clients' results.
    async function scenario(tlsModule, makeListeners, options = {}) {
      const log = [];
      const { srv, port } = await serverWith(tlsModule, makeListeners(log), options, log);
      const first = await connect(port);
      const second = await connect(port, { session: first.session });
      srv.close();
      return { log, first, second };
    }

    async function bothWith(makeListeners, options) {
      return {
        node: await scenario(tls, makeListeners, options),
        ours: await scenario(ours, makeListeners, options),
      };
    }

    it('store a new session before the handshake ends, and resume it from the store, as node', async function () {
      const { node, ours: got } = await bothWith((log) => memoryStore(log));
      const expected = [
        ['newSession', 32, true], ['secureConnection', false],
        ['resumeSession', 32, true], ['secureConnection', true],
      ];
      assert.deepEqual(node.log, expected);
      assert.deepEqual(got.log, expected);
      for (const run of [node, got]) {
        assert.equal(run.first.reused, false);
        assert.equal(run.second.reused, true);
      }
    });

    it("the session ID is the one 'newSession' gave", async function () {
      const ids = [];
      const sessions = new Map();
      const { port } = await serverWith(ours, {
        newSession: (id, data, callback) => { ids.push(['new', id.toString('hex')]); sessions.set(id.toString('hex'), data); callback(); },
        resumeSession: (id, callback) => { ids.push(['resume', id.toString('hex')]); callback(null, sessions.get(id.toString('hex'))); },
      });
      const first = await connect(port);
      await connect(port, { session: first.session });
      assert.equal(ids.length, 2);
      assert.equal(ids[1][1], ids[0][1]);
      assert.equal(ids[0][1].length, 64);
    });

    it("the handshake waits for 'newSession''s callback, as node's", async function () {
      for (const tlsModule of [tls, ours]) {
        let store;
        const asked = new Promise((resolve) => { store = resolve; });
        const { port } = await serverWith(tlsModule, { newSession: (id, data, callback) => store(callback) });
        const socket = cleanup.socket(tls.connect({
          port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost', maxVersion: 'TLSv1.2', secureOptions: NO_TICKET,
        }));
        let connected = false;
        socket.on('secureConnect', () => { connected = true; });
        socket.resume();
        const callback = await asked;
        // A TCP round trip to the server, in which the client would read the server's Finished
        // had it left: it has not, and the client's handshake goes no further.
        const probe = net.connect(port, '127.0.0.1');
        await once(probe, 'connect');
        probe.destroy();
        await new Promise((resolve) => setImmediate(resolve));
        assert.equal(connected, false, tlsModule === tls ? 'node' : 'ours');
        callback();
        await once(socket, 'secureConnect');
        await once(socket, 'close');
      }
    });

    it("'resumeSession' may answer later, as node's", async function () {
      for (const tlsModule of [tls, ours]) {
        const sessions = new Map();
        let lookedUp;
        const asked = new Promise((resolve) => { lookedUp = resolve; });
        const { port } = await serverWith(tlsModule, {
          newSession: (id, data, callback) => { sessions.set(id.toString('hex'), data); callback(); },
          resumeSession: (id, callback) => lookedUp(() => callback(null, sessions.get(id.toString('hex')))),
        });
        const first = await connect(port);
        const second = connect(port, { session: first.session });
        const answer = await asked;
        await new Promise((resolve) => setImmediate(resolve));
        answer();
        assert.equal((await second).reused, true, tlsModule === tls ? 'node' : 'ours');
      }
    });

    for (const [what, answer] of [
      ['nothing (callback())', (callback) => callback()],
      ['null', (callback) => callback(null, null)],
      ['bytes that are no session', (callback) => callback(null, Buffer.from('not a session'))],
      ['a string', (callback) => callback(null, 'not a buffer')],
    ]) {
      it(`'resumeSession' answering ${what}: a full handshake and a new session, as node`, async function () {
        const { node, ours: got } = await bothWith((log) => {
          const store = memoryStore(log);
          return {
            newSession: store.newSession,
            resumeSession: (id, callback) => { log.push(['resumeSession', id.length]); answer(callback); },
          };
        });
        const expected = [
          ['newSession', 32, true], ['secureConnection', false],
          ['resumeSession', 32], ['newSession', 32, true], ['secureConnection', false],
        ];
        assert.deepEqual(node.log, expected);
        assert.deepEqual(got.log, expected);
        assert.equal(got.second.reused, false);
        assert.equal(got.second.error, null);
      });
    }

    it("'resumeSession' answering an error fails the connection with it", async function () {
      const { node, ours: got } = await bothWith((log) => ({
        newSession: memoryStore(log).newSession,
        resumeSession: (id, callback) => callback(new Error('store unreachable')),
      }));
      // node: 'tlsClientError' with the error, and a reset for the client. Ours: the error (its
      // code ERR_MBEDTLS_CALLBACK_FAILED, as for every callback's error without a code of its
      // own) and a fatal internal_error alert for the client, as our other callbacks.
      assert.deepEqual(node.log.slice(2), [['tlsClientError', undefined, 'store unreachable']]);
      assert.deepEqual(got.log.slice(2), [['tlsClientError', 'ERR_MBEDTLS_CALLBACK_FAILED', 'store unreachable']]);
      assert.equal(node.second.error.code, 'ECONNRESET');
      assert.equal(got.second.error.code, 'ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR');
      assert.equal(got.second.reused, null);
    });

    it("a 'resumeSession' callback called twice destroys the socket, as node's", async function () {
      const { node, ours: got } = await bothWith((log) => {
        const store = memoryStore(log);
        return {
          newSession: store.newSession,
          resumeSession: (id, callback) => {
            callback(null, store.sessions.get(id.toString('hex')));
            callback(null, null);
          },
        };
      });
      const expected = [
        ['newSession', 32, true], ['secureConnection', false],
        ['tlsClientError', 'ERR_MULTIPLE_CALLBACK', 'Callback called multiple times'],
      ];
      assert.deepEqual(node.log, expected);
      assert.deepEqual(got.log, expected);
    });

    it('a client that takes tickets resumes with a ticket: no events, as node', async function () {
      for (const tlsModule of [tls, ours]) {
        const log = [];
        const { port, log: serverLog } = await serverWith(tlsModule, memoryStore(log));
        const first = await connect(port, { secureOptions: 0 });
        const second = await connect(port, { secureOptions: 0, session: first.session });
        assert.equal(second.reused, true);
        assert.deepEqual(log, []);
        assert.deepEqual(serverLog, [['secureConnection', false], ['secureConnection', true]]);
      }
    });

    it('TLS 1.3 resumes with tickets: no events (node\'s asks about the legacy session ID and reports each ticket)', async function () {
      const log = [];
      const { port, log: serverLog } = await serverWith(ours, memoryStore(log));
      const first = await connect(port, { maxVersion: 'TLSv1.3', secureOptions: 0 });
      const second = await connect(port, { maxVersion: 'TLSv1.3', secureOptions: 0, session: first.session });
      assert.equal(second.protocol, 'TLSv1.3');
      assert.equal(second.reused, true);
      // node's server (OpenSSL 3) logs here resumeSession(32, false), then newSession(32) for
      // each of its two tickets, for each connection: a lookup that never finds anything, and
      // sessions it never asks for again.
      assert.deepEqual(log, []);
      assert.deepEqual(serverLog, [['secureConnection', false], ['secureConnection', true]]);
    });

    it('a client offering TLS 1.3 to a TLS 1.2 server resumes from the store, as node', async function () {
      for (const tlsModule of [tls, ours]) {
        const log = [];
        const { port } = await serverWith(tlsModule, memoryStore(log), { maxVersion: 'TLSv1.2' });
        const first = await connect(port, { maxVersion: 'TLSv1.3' });
        const second = await connect(port, { maxVersion: 'TLSv1.3', session: first.session });
        assert.equal(second.protocol, 'TLSv1.2');
        assert.equal(second.reused, true);
        // Its first ClientHello carries a (legacy) session ID too, which the store is asked about.
        assert.deepEqual(log, [['resumeSession', 32, false], ['newSession', 32, true], ['resumeSession', 32, true]],
          tlsModule === tls ? 'node' : 'ours');
      }
    });

    it("a server with only a 'newSession' listener resumes nothing by ID, as node's", async function () {
      for (const tlsModule of [tls, ours]) {
        const log = [];
        const { port } = await serverWith(tlsModule, { newSession: memoryStore(log).newSession });
        const first = await connect(port);
        const second = await connect(port, { session: first.session });
        assert.equal(second.reused, false);
        assert.deepEqual(log, [['newSession', 32, true], ['newSession', 32, true]]);
      }
    });

    it('without listeners our server resumes session IDs from its own cache (node\'s resumes none)', async function () {
      const { port } = await serverWith(ours);
      const first = await connect(port);
      assert.equal((await connect(port, { session: first.session })).reused, true);
    });
  });

  describe('Many servers', function () {
    let redisServer = null;
    let redis = null;
    const servers = []; // { child, port, stop }
    const ticketKeys = crypto.randomBytes(48).toString('hex');

    before(async function () {
      redisServer = await startRedis();
      redis = createClient({ url: `redis://127.0.0.1:${redisServer.port}` })
        .withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
      await redis.connect();
    });

    afterEach(async function () {
      await Promise.all(servers.splice(0).map((server) => server.stop()));
      if (redis) await redis.flushAll();
    });

    after(async function () {
      if (redis) await redis.quit();
      if (redisServer) await redisServer.stop();
    });

    // A process of the example serving on a free port (with `workers` cluster workers) with
    // this Redis; resolves once every worker listens.
    async function exampleServer(env = {}, workers = 1) {
      const server = await startProcess(process.execPath, [EXAMPLE, 'serve'], {
        env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${redisServer.port}`, PORT: '0', WORKERS: String(workers), ...env },
        ready: (output) => (output.match(/ listening on 127\.0\.0\.1:\d+\n/g) || []).length === workers,
      });
      server.port = Number(/ listening on 127\.0\.0\.1:(\d+)\n/.exec(server.output().stdout)[1]);
      servers.push(server);
      return server;
    }

    // One connection to an example server: its line ({ pid, protocol, reused }), and the
    // client's view.
    async function ask(client, port, options = {}) {
      const socket = cleanup.socket(client.connect({
        port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost', ...options,
      }));
      let session = null;
      let reused = null;
      socket.on('session', (s) => { session = session || s; });
      socket.once('secureConnect', () => { reused = socket.isSessionReused(); });
      let line = '';
      socket.on('data', (data) => { line += data; });
      await once(socket, 'end');
      return { server: JSON.parse(line), reused, session };
    }

    it('a TLS 1.2 session made by one server process resumes on another through Redis', async function () {
      const a = await exampleServer({ TICKET_KEYS: ticketKeys });
      const b = await exampleServer({ TICKET_KEYS: ticketKeys });
      const tls12 = { maxVersion: 'TLSv1.2', secureOptions: NO_TICKET };
      const first = await ask(tls, a.port, tls12);
      assert.deepEqual(first.server, { pid: a.child.pid, protocol: 'TLSv1.2', reused: false });
      // In Redis, for as long as the servers' sessionTimeout.
      const keys = await redis.keys('tls-session:*');
      assert.equal(keys.length, 1);
      const ttl = await redis.ttl(keys[0]);
      assert.ok(ttl > 0 && ttl <= 300, `TTL ${ttl}`);
      const again = await ask(tls, b.port, { ...tls12, session: first.session });
      assert.deepEqual(again.server, { pid: b.child.pid, protocol: 'TLSv1.2', reused: true });
      assert.equal(again.reused, true);
      // Gone from Redis, the session resumes nowhere.
      await redis.flushAll();
      const flushed = await ask(tls, a.port, { ...tls12, session: first.session });
      assert.equal(flushed.reused, false);
      assert.equal(flushed.server.reused, false);
    });

    it('TLS 1.3 tickets resume across server processes given the same ticketKeys', async function () {
      const a = await exampleServer({ TICKET_KEYS: ticketKeys });
      const b = await exampleServer({ TICKET_KEYS: ticketKeys });
      const other = await exampleServer(); // keys of its own
      const first = await ask(ours, a.port);
      assert.equal(first.server.protocol, 'TLSv1.3');
      const again = await ask(ours, b.port, { session: first.session });
      assert.deepEqual(again.server, { pid: b.child.pid, protocol: 'TLSv1.3', reused: true });
      assert.equal(again.reused, true);
      const elsewhere = await ask(ours, other.port, { session: first.session });
      assert.equal(elsewhere.reused, false);
      assert.equal(elsewhere.server.reused, false);
    });

    it("the workers of a cluster resume each other's TLS 1.3 tickets", async function () {
      // No ticketKeys given: node's cluster hands the first worker's to the others.
      const cluster = await exampleServer({}, 2);
      const first = await ask(ours, cluster.port);
      assert.equal(first.server.protocol, 'TLSv1.3');
      // The primary deals connections to the workers in turn; until another worker answers.
      let again;
      for (let attempt = 0; attempt < 20; attempt++) {
        again = await ask(ours, cluster.port, { session: first.session });
        if (again.server.pid !== first.server.pid) break;
      }
      assert.notEqual(again.server.pid, first.server.pid, 'a second worker answered');
      assert.equal(again.server.reused, true);
      assert.equal(again.reused, true);
    });
  });
});

// A free TCP port on 127.0.0.1, as the kernel gives one to a listener that then closes.
async function freePort() {
  const probe = net.createServer();
  const port = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

// Spawns a program and resolves once ready(output so far) holds, with { child, output, stop }:
// output() is { stdout, stderr } so far; stop() ends it with SIGTERM and waits for its exit.
function startProcess(command, args, { env, ready }) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  const output = () => ({ stdout, stderr });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let started = false;
    const check = () => {
      if (started || !ready(stdout)) return;
      started = true;
      resolve({ child, output, stop });
    };
    child.stdout.on('data', (d) => { stdout += d; check(); });
    child.stderr.on('data', (d) => { stderr += d; });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (!started) reject(new Error(`${command} exited (${code ?? signal}) before it was ready:\n${stdout}${stderr}`));
    });
  });
}

// Debian's redis-server on a free 127.0.0.1 port, in memory only (nothing saved); resolves
// with { port, stop } once it accepts connections. A port taken meanwhile is tried again.
async function startRedis() {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      const server = await startProcess('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      ], { ready: (output) => output.includes('Ready to accept connections') });
      server.port = port;
      return server;
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}
