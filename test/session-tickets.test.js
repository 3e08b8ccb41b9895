'use strict';
// Session tickets in detail, with node:tls as the oracle: one 'session' event per TLS 1.3
// NewSessionTicket, getSession() and getTLSTicket() while each is reported, how many tickets
// a server sends (after a full and after a resumed handshake), getSession() right after a
// TLS 1.3 handshake, and the cluster hooks that share a server's ticket keys.

const tls = require('node:tls');
const ours = require('..');
const { assert, certs, listen, once, collect, useCleanup } = require('./helpers');

describe('Session tickets', function () {
  const cleanup = useCleanup();

  async function greetingServer(server, options = {}) {
    const srv = cleanup.server(server.createServer({ ...certs.ecdsa, ...options }, (socket) => {
      socket.end('hello');
    }));
    srv.on('tlsClientError', () => {});
    return { srv, port: await listen(srv) };
  }

  // One connection read to its end: every 'session' event with what getSession() and
  // getTLSTicket() said during it, and what the socket said at secureConnect.
  async function connect(client, port, options = {}) {
    const socket = cleanup.socket(client.connect({
      port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost', ...options,
    }));
    const result = { before: socket.getTLSTicket(), events: [] };
    socket.on('session', (session) => {
      result.events.push({ session, getSession: socket.getSession(), ticket: socket.getTLSTicket() });
    });
    await once(socket, 'secureConnect');
    Object.assign(result, {
      reused: socket.isSessionReused(),
      protocol: socket.getProtocol(),
      atConnect: { session: socket.getSession(), ticket: socket.getTLSTicket() },
    });
    await collect(socket);
    return result;
  }

  describe('TLS 1.3', function () {
    const options = { minVersion: 'TLSv1.3' };

    for (const [name, server] of [['node\'s server', tls], ['our server', ours]]) {
      it(`our client reports each ticket of ${name} as node's client does`, async function () {
        const { port } = await greetingServer(server, options);
        const theirs = await connect(tls, port);
        const mine = await connect(ours, port);
        assert.equal(mine.protocol, 'TLSv1.3');
        assert.equal(mine.events.length, theirs.events.length);
        assert.equal(mine.events.length, 2);
        for (const event of mine.events) {
          // While its event runs, the socket says that ticket's session.
          assert.deepEqual(event.getSession, event.session);
          assert.ok(Buffer.isBuffer(event.ticket) && event.ticket.length > 0);
        }
        assert.notDeepEqual(mine.events[0].ticket, mine.events[1].ticket);
        assert.notDeepEqual(mine.events[0].session, mine.events[1].session);
        // The ticket bytes are the server's: each one resumes.
        for (const event of mine.events) {
          const again = await connect(ours, port, { session: event.session });
          assert.equal(again.reused, true);
          // As node's client: the ticket offered, and no new one after a resumption.
          assert.deepEqual(again.atConnect.ticket, event.ticket);
          assert.equal(again.events.length, 0);
        }
      });
    }

    it('our server sends as many tickets as node\'s, and none after a resumption', async function () {
      const counts = [];
      for (const server of [tls, ours]) {
        const { port } = await greetingServer(server, options);
        const first = await connect(tls, port);
        const resumed = await connect(tls, port, { session: first.events[0].session });
        assert.equal(resumed.reused, true);
        // node's client holds the ticket it offered.
        assert.deepEqual(resumed.atConnect.ticket, first.events[0].ticket);
        counts.push([first.events.length, resumed.events.length]);
      }
      assert.deepEqual(counts[1], counts[0]);
      assert.deepEqual(counts[0], [2, 0]);
    });

    it('getSession() right after the handshake is a session that resumes nothing, as node\'s', async function () {
      const { port } = await greetingServer(tls, options);
      for (const client of [tls, ours]) {
        const first = await connect(client, port);
        assert.ok(Buffer.isBuffer(first.atConnect.session));
        assert.notDeepEqual(first.atConnect.session, first.events[0].session);
        assert.equal(first.atConnect.ticket, undefined);
        const again = await connect(client, port, { session: first.atConnect.session });
        assert.equal(again.reused, false);
      }
    });
  });

  describe('TLS 1.2', function () {
    const options = { maxVersion: 'TLSv1.2' };

    for (const [name, server] of [['node\'s server', tls], ['our server', ours]]) {
      it(`getTLSTicket() is the ticket of ${name}, kept on a resumed connection, as node's`, async function () {
        const { port } = await greetingServer(server, options);
        for (const client of [tls, ours]) {
          const first = await connect(client, port);
          assert.equal(first.events.length, 1);
          assert.ok(Buffer.isBuffer(first.atConnect.ticket) && first.atConnect.ticket.length > 0);
          assert.deepEqual(first.events[0].ticket, first.atConnect.ticket);
          const again = await connect(client, port, { session: first.events[0].session });
          assert.equal(again.reused, true);
          assert.deepEqual(again.atConnect.ticket, first.atConnect.ticket);
          assert.equal(again.events.length, 0);
        }
      });
    }
  });

  it('getTLSTicket() is undefined before the handshake and on servers; null once destroyed', async function () {
    for (const server of [tls, ours]) {
      const said = [];
      const srv = cleanup.server(server.createServer({ ...certs.ecdsa }, (socket) => {
        said.push(socket.getTLSTicket());
        socket.end('x');
      }));
      const port = await listen(srv);
      const result = await connect(ours, port);
      assert.equal(result.before, undefined);
      assert.deepEqual(said, [undefined]);
    }
    const { port } = await greetingServer(ours);
    const got = [];
    for (const client of [tls, ours]) {
      const socket = cleanup.socket(client.connect({ port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' }));
      await once(socket, 'secureConnect');
      socket.destroy();
      got.push([socket.getTLSTicket(), socket.getSession()]);
    }
    assert.deepEqual(got[1], got[0]);
  });

  it('the cluster hooks share ticket keys as node\'s servers do', async function () {
    const a = await greetingServer(ours);
    const b = await greetingServer(ours);
    const data = a.srv._getServerData();
    // The form node's primary passes between workers.
    assert.deepEqual(Object.keys(data), Object.keys(tls.createServer()._getServerData()));
    assert.notDeepEqual(b.srv.getTicketKeys(), a.srv.getTicketKeys());
    const first = await connect(tls, a.port);
    assert.equal((await connect(tls, b.port, { session: first.events[0].session })).reused, false);
    b.srv._setServerData(data);
    assert.deepEqual(b.srv.getTicketKeys(), a.srv.getTicketKeys());
    assert.equal((await connect(tls, b.port, { session: first.events[0].session })).reused, true);
  });
});
