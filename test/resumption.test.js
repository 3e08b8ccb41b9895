'use strict';
// Session resumption both ways with node:tls as the peer: TLS 1.2 tickets and session IDs,
// TLS 1.3 tickets; the client's 'session' event, `session` option, getSession() and
// isSessionReused(); the server's ticketKeys, getTicketKeys()/setTicketKeys() and
// sessionTimeout; https.Agent resumption; never resuming for another host name.

const https = require('node:https');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const tls = require('node:tls');
const ours = require('..');
const {
  assert, certs, names, listen, once, collect, handshakeOutcome, assertThrowsLikeNode, useCleanup,
  startSClient,
} = require('./helpers');

const VERSIONS = ['TLSv1.2', 'TLSv1.3'];

// [name, client module, server module]
const PAIRS = [
  ['our client with node server', ours, tls],
  ['node client with our server', tls, ours],
  ['our client with our server', ours, ours],
];

// One connection: resolves once the server's greeting has been read and the socket closed,
// with the sessions the client was given and what both ends said of resumption.
function connectOnce(client, port, options = {}) {
  return new Promise((resolve, reject) => {
    const sessions = [];
    const socket = client.connect({
      port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost', ...options,
    });
    socket.on('session', (session) => sessions.push(session));
    socket.once('error', reject);
    let result = null;
    socket.once('secureConnect', () => {
      result = {
        reused: socket.isSessionReused(),
        protocol: socket.getProtocol(),
        authorized: socket.authorized,
        peerCN: socket.getPeerCertificate().subject?.CN,
      };
    });
    collect(socket).then((data) => {
      // A TLS 1.3 ticket may follow the handshake; the greeting comes after it.
      socket.once('close', () => resolve({
        ...result, data: data.toString(), sessions, session: sessions[sessions.length - 1],
      }));
      socket.destroy();
    }, reject);
  });
}

// A server that greets each connection and records whether it resumed.
function greetingServer(cleanup, server, options) {
  const resumed = [];
  const srv = cleanup.server(server.createServer({ ...certs.ecdsa, ...options }, (socket) => {
    resumed.push(socket.isSessionReused());
    socket.end('hello');
  }));
  srv.on('tlsClientError', () => {});
  return { srv, resumed };
}

for (const version of VERSIONS) {
  for (const [name, client, server] of PAIRS) {
    describe(`Session resumption, ${name}, ${version}`, function () {
      const cleanup = useCleanup();

      it('resumes with the session from the \'session\' event, both ends agreeing', async function () {
        const { srv, resumed } = greetingServer(cleanup, server, { minVersion: version, maxVersion: version });
        const port = await listen(srv);
        const first = await connectOnce(client, port);
        assert.equal(first.protocol, version);
        assert.equal(first.reused, false);
        assert.ok(first.sessions.length >= 1, 'a session event');
        assert.ok(Buffer.isBuffer(first.session));
        const second = await connectOnce(client, port, { session: first.session });
        assert.equal(second.reused, true);
        assert.equal(second.protocol, version);
        assert.equal(second.data, 'hello');
        assert.equal(second.authorized, true);
        // node's client has no peer certificate on a resumed connection; ours keeps it.
        if (client === ours) assert.equal(second.peerCN, names.server);
        assert.deepEqual(resumed, [false, true]);
      });

      it('resumes with getSession() taken after the greeting', async function () {
        const { srv, resumed } = greetingServer(cleanup, server, { minVersion: version, maxVersion: version });
        const port = await listen(srv);
        const socket = cleanup.socket(client.connect({ port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' }));
        assert.equal(socket.getSession(), undefined);
        await collect(socket);
        const saved = socket.getSession();
        assert.ok(Buffer.isBuffer(saved));
        const again = await connectOnce(client, port, { session: saved });
        assert.equal(again.reused, true);
        assert.deepEqual(resumed, [false, true]);
      });
    });
  }

  describe(`Session resumption of our client, ${version}`, function () {
    const cleanup = useCleanup();

    async function nodeServer(options = {}) {
      const resumed = [];
      const srv = cleanup.server(tls.createServer({
        ...certs.ecdsa, minVersion: version, maxVersion: version, ...options,
      }, (socket) => { resumed.push(socket.isSessionReused()); socket.end('hello'); }));
      srv.on('tlsClientError', () => {});
      return { port: await listen(srv), resumed };
    }

    it('never resumes a session for another host name', async function () {
      const { port, resumed } = await nodeServer();
      const first = await connectOnce(ours, port, { servername: 'localhost' });
      // The certificate is valid for 127.0.0.1 too: only the binding stops resumption.
      const other = await connectOnce(ours, port, { servername: undefined, session: first.session });
      assert.equal(other.reused, false);
      assert.equal(other.authorized, true);
      const same = await connectOnce(ours, port, { servername: 'localhost', session: first.session });
      assert.equal(same.reused, true);
      // The same name as host, without SNI: TLS 1.3 tickets are bound to the SNI they came
      // with, so that one is a full handshake, never a failure.
      const noSni = await connectOnce(ours, port, { host: 'localhost', servername: undefined, session: first.session });
      assert.equal(noSni.authorized, true);
      assert.equal(noSni.reused, version === 'TLSv1.2');
      assert.deepEqual(resumed, [false, false, true, version === 'TLSv1.2']);
    });

    it('checks the host name again on a resumed connection', async function () {
      const { port } = await nodeServer();
      const checked = [];
      const checkServerIdentity = (host, cert) => {
        checked.push([host, cert.subject.CN]);
        return undefined;
      };
      const first = await connectOnce(ours, port, { checkServerIdentity });
      const second = await connectOnce(ours, port, { checkServerIdentity, session: first.session });
      assert.equal(second.reused, true);
      assert.deepEqual(checked, [['localhost', names.server], ['localhost', names.server]]);
    });

    it('a session from an unverified connection stays unverified when resumed', async function () {
      const { port } = await nodeServer();
      const first = await connectOnce(ours, port, { ca: certs.otherCa, rejectUnauthorized: false });
      assert.equal(first.authorized, false);
      const outcome = await handshakeOutcome(cleanup.socket(ours.connect({
        port, host: '127.0.0.1', servername: 'localhost', ca: certs.otherCa, session: first.session,
      })));
      assert.equal(outcome.secure, false);
      // node's client, refused by the same CA on a full handshake, is the oracle for the code.
      const expected = await handshakeOutcome(cleanup.socket(tls.connect({
        port, host: '127.0.0.1', servername: 'localhost', ca: certs.otherCa,
      })));
      assert.equal(outcome.error.code, expected.error.code);
    });

    it('a resumed connection reports the peer certificate chain', async function () {
      const { port } = await nodeServer();
      const first = await connectOnce(ours, port);
      const socket = cleanup.socket(ours.connect({
        port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost', session: first.session,
      }));
      await once(socket, 'secureConnect');
      assert.equal(socket.isSessionReused(), true);
      const peer = socket.getPeerCertificate(true);
      assert.equal(peer.subject.CN, names.server);
      assert.equal(peer.issuerCertificate.subject.CN, names.intermediate);
      assert.equal(peer.issuerCertificate.issuerCertificate.subject.CN, names.root);
    });

    it('fails with a coded error on a session it did not save', async function () {
      const { port } = await nodeServer();
      // A session node's client saved is OpenSSL's, not ours.
      const nodeSession = await new Promise((resolve, reject) => {
        const s = tls.connect({ port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
        s.on('session', (session) => { resolve(session); s.destroy(); });
        s.on('error', reject);
        s.resume();
      });
      for (const session of [Buffer.from('garbage'), nodeSession]) {
        const outcome = await handshakeOutcome(cleanup.socket(ours.connect({
          port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost', session,
        })));
        assert.equal(outcome.secure, false);
        assert.equal(outcome.error.code, 'ERR_MBEDTLS_INVALID_SESSION');
      }
      assert.throws(() => ours.connect({ port, session: 'text' }), { code: 'ERR_INVALID_ARG_TYPE' });
    });
  });

  describe(`Session resumption of our server, ${version}`, function () {
    const cleanup = useCleanup();

    it('servers sharing ticketKeys resume each other\'s sessions', async function () {
      const ticketKeys = Buffer.alloc(48, 7);
      const a = greetingServer(cleanup, ours, { maxVersion: version, minVersion: version, ticketKeys });
      const b = greetingServer(cleanup, ours, { maxVersion: version, minVersion: version, ticketKeys });
      const c = greetingServer(cleanup, ours, { maxVersion: version, minVersion: version });
      const [portA, portB, portC] = [await listen(a.srv), await listen(b.srv), await listen(c.srv)];
      assert.deepEqual(a.srv.getTicketKeys(), ticketKeys);
      const first = await connectOnce(tls, portA);
      assert.equal((await connectOnce(tls, portB, { session: first.session })).reused, true);
      assert.equal((await connectOnce(tls, portC, { session: first.session })).reused, false);
      assert.deepEqual(b.resumed, [true]);
      assert.deepEqual(c.resumed, [false]);
    });

    it('setTicketKeys() replaces the keys: old tickets stop resuming until they are back', async function () {
      const { srv } = greetingServer(cleanup, ours, { maxVersion: version, minVersion: version });
      const port = await listen(srv);
      const original = srv.getTicketKeys();
      assert.equal(original.length, 48);
      const first = await connectOnce(tls, port);
      srv.setTicketKeys(Buffer.alloc(48, 1));
      assert.deepEqual(srv.getTicketKeys(), Buffer.alloc(48, 1));
      assert.equal((await connectOnce(tls, port, { session: first.session })).reused, false);
      srv.setTicketKeys(original);
      assert.equal((await connectOnce(tls, port, { session: first.session })).reused, true);
    });

    it('a session older than sessionTimeout is not resumed', async function () {
      this.timeout(60000);
      // The session store counts a session's age in whole seconds: it resumes while the count
      // is at most sessionTimeout, so the resumption just below must come within 2 s of the
      // first handshake (1 s was tight for a sanitizer build on a busy machine), and the
      // wait after makes the count 3 at least.
      const { srv } = greetingServer(cleanup, ours, { maxVersion: version, minVersion: version, sessionTimeout: 2 });
      const port = await listen(srv);
      const first = await connectOnce(tls, port);
      assert.equal((await connectOnce(tls, port, { session: first.session })).reused, true);
      await new Promise((resolve) => setTimeout(resolve, 3100));
      assert.equal((await connectOnce(tls, port, { session: first.session })).reused, false);
    });
  });
}

describe('Session resumption options', function () {
  it('validates ticketKeys and sessionTimeout as node does', function () {
    const cases = [
      { ticketKeys: Buffer.alloc(47) },
      { ticketKeys: 'x'.repeat(48) },
      { sessionTimeout: '300' },
      { sessionTimeout: 1.5 },
    ];
    for (const options of cases) {
      assertThrowsLikeNode(() => ours.createServer({ ...certs.ecdsa, ...options }),
        () => tls.createServer({ ...certs.ecdsa, ...options }), JSON.stringify(options));
    }
    const nodeServer = tls.createServer(certs.ecdsa);
    const server = ours.createServer(certs.ecdsa);
    for (const keys of [Buffer.alloc(10), 'x'.repeat(48)]) {
      assertThrowsLikeNode(() => server.setTicketKeys(keys), () => nodeServer.setTicketKeys(keys),
        `setTicketKeys(${keys.length} bytes)`);
    }
  });
});

describe('Session resumption, TLS 1.2 session IDs (no tickets) with openssl s_client', function () {
  const cleanup = useCleanup();

  it('our server resumes a session ID from its cache', async function () {
    const resumed = [];
    const srv = cleanup.server(ours.createServer({ ...certs.ecdsa, maxVersion: 'TLSv1.2' }, (socket) => {
      resumed.push(socket.isSessionReused());
      socket.end('hello\n');
    }));
    const port = await listen(srv);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mbedtls-stream-sess-'));
    const file = path.join(dir, 'session.pem');
    try {
      const args = ['-tls1_2', '-no_ticket', '-CAfile', certs.path('ca.pem'), '-servername', 'localhost'];
      const first = await startSClient(cleanup, port, [...args, '-sess_out', file]).result;
      assert.match(first.stdout.toString(), /^New, TLSv1\.2/m);
      const second = await startSClient(cleanup, port, [...args, '-sess_in', file]).result;
      assert.match(second.stdout.toString(), /^Reused, TLSv1\.2/m);
      assert.deepEqual(resumed, [false, true]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Session resumption through https.Agent', function () {
  const cleanup = useCleanup();

  for (const [name, serverModule] of [['node https server', https], ['our server', null]]) {
    it(`ours.Agent resumes the TLS session on a new connection (${name})`, async function () {
      const resumed = [];
      const handler = (req, res) => {
        resumed.push(req.socket.isSessionReused());
        res.end('ok');
      };
      let srv;
      if (serverModule) {
        srv = cleanup.server(serverModule.createServer(certs.ecdsa, handler));
      } else {
        const http = require('node:http');
        const app = http.createServer(handler);
        srv = cleanup.server(ours.createServer(certs.ecdsa, (socket) => app.emit('connection', socket)));
      }
      const port = await listen(srv);
      // No keep-alive: each request is a new TLS connection.
      const agent = cleanup.agent(new ours.Agent({ keepAlive: false, ca: certs.ca }));
      const reusedByClient = [];
      for (let i = 0; i < 3; i++) {
        const body = await new Promise((resolve, reject) => {
          const req = https.get({ host: 'localhost', port, agent, path: '/' }, (res) => {
            reusedByClient.push(res.socket.isSessionReused());
            collect(res).then(resolve, reject);
          });
          req.on('error', reject);
        });
        assert.equal(body.toString(), 'ok');
      }
      assert.deepEqual(reusedByClient, [false, true, true]);
      assert.deepEqual(resumed, [false, true, true]);
    });
  }
});
