'use strict';
// TLS 1.2 session IDs kept in the application's store through the server's 'newSession' and
// 'resumeSession' events, with node:tls as the oracle for when and with what they are
// called.
//
// The clients are node's, told to take no tickets (SSL_OP_NO_TICKET), as a TLS 1.2 server
// gives a session ID only to a client that takes no ticket.

const tls = require('node:tls');
const crypto = require('node:crypto');
const net = require('node:net');
const ours = require('..');
const { assert, certs, listen, once, useCleanup } = require('./helpers');

const NO_TICKET = crypto.constants.SSL_OP_NO_TICKET;

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
});
