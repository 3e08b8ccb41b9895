'use strict';
// The TLS socket's life as node's: half-close with late readers, 'end' and 'close' for a
// socket nobody reads, 'close' with hadError, allowHalfOpen, pauseOnConnect, any Duplex as
// a server's connection, and optional client certificates that are not sent. Each scenario
// runs on node:tls and on ours, and the outcomes must be equal. Then how ours closes its TCP
// socket after a failed handshake.

const net = require('node:net');
const { Writable } = require('node:stream');
// Two Duplexes, each reading what the other writes: a transport that is no net.Socket.
const { duplexPair } = require('../lib/secure-pair');
const { pipeline } = require('node:stream/promises');
const tls = require('node:tls');
const ours = require('..');
const { assert, certs, listen, once, sha256, randomBytes, useCleanup, run } = require('./helpers');

const impls = [['node:tls', tls], ['mbedtls-stream', ours]];
const server = { key: certs.ecdsa.key, cert: certs.ecdsa.cert };
const client = (port) => ({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const immediates = (n) => new Promise((resolve) => {
  const step = (left) => (left === 0 ? resolve() : setImmediate(step, left - 1));
  step(n);
});

// Runs `scenario(impl)` with node:tls and with ours; asserts equal outcomes, returns ours.
async function sameAsNode(scenario) {
  const outcomes = [];
  for (const [, impl] of impls) outcomes.push(await scenario(impl));
  assert.deepEqual(outcomes[1], outcomes[0]);
  return outcomes[1];
}

describe('stream lifecycle as node:tls', () => {
  const cleanup = useCleanup();

  // Node's client writes, then ends (close_notify and FIN); the server reads only later.
  async function lateReader(impl, wait, options = {}) {
    const events = [];
    let data = '';
    let clientClosed;
    let clientGot = '';
    const serverClosed = new Promise((resolve) => {
      const srv = cleanup.server(impl.createServer({ ...server, ...options }, async (conn) => {
        conn.on('close', (hadError) => { events.push(`close:${hadError}`); resolve(); });
        conn.on('error', (err) => events.push(`error:${err.code}`));
        await wait();
        events.push(`reading (destroyed: ${conn.destroyed})`);
        conn.on('data', (d) => { data += d; });
        conn.on('end', () => {
          events.push('end');
          if (options.allowHalfOpen) {
            events.push(`writable after end: ${conn.writable}`);
            conn.end('reply');
          }
        });
      }));
      listen(srv).then((port) => {
        const c = cleanup.socket(tls.connect(client(port), () => c.end('early data')));
        c.on('data', (d) => { clientGot += d; });
        c.on('error', () => {});
        clientClosed = new Promise((resolve) => c.once('close', resolve));
      });
    });
    await serverClosed;
    await clientClosed;
    return { data, events, clientGot };
  }

  for (const [name, wait] of [
    ['a timer', () => sleep(200)],
    ['a few setImmediate()s', () => immediates(5)],
    ['nothing', () => undefined],
  ]) {
    it(`a server reading after ${name} still gets the data, 'end', then 'close'`, async () => {
      const r = await sameAsNode((impl) => lateReader(impl, wait));
      assert.equal(r.data, 'early data');
      assert.deepEqual(r.events, ['reading (destroyed: false)', 'end', 'close:false']);
    });
  }

  it('allowHalfOpen: the server may still write after the client ended', async () => {
    const r = await sameAsNode((impl) => lateReader(impl, () => sleep(50), { allowHalfOpen: true }));
    assert.deepEqual(r.events, ['reading (destroyed: false)', 'end', 'writable after end: true', 'close:false']);
    assert.equal(r.clientGot, 'reply');
  });

  // node's server reports no EPIPE there either (its test-tls-reuse-host-from-socket.js).
  it('a server whose client is gone when close_notify leaves closes without an error', async () => {
    const events = [];
    const srv = cleanup.server(ours.createServer(server));
    srv.on('tlsClientError', (err) => events.push(`tlsClientError:${err.code}`));
    srv.on('secureConnection', (conn) => {
      conn.on('error', (err) => events.push(`error:${err.code}`));
      conn.on('close', (hadError) => events.push(`close:${hadError}`));
    });
    const port = await listen(srv);
    for (let i = 0; i < 5; i++) {
      const closed = new Promise((resolve) => srv.once('secureConnection', (conn) => conn.once('close', resolve)));
      // Over a connected socket, as node's test does: the client's Finished leaves at once.
      const tcp = cleanup.socket(net.connect(port, '127.0.0.1'));
      await once(tcp, 'connect');
      const c = cleanup.socket(ours.connect({ ...client(port), socket: tcp }, () => c.destroy()));
      await closed;
    }
    assert.deepEqual(events, Array(5).fill('close:false'));
  });

  it('a 4 MiB upload piped into a slow writable arrives whole', async () => {
    const payload = randomBytes(4 * 1024 * 1024);
    const received = new Promise((resolve, reject) => {
      const srv = cleanup.server(ours.createServer(server, (conn) => {
        const chunks = [];
        const slow = new Writable({
          highWaterMark: 16 * 1024,
          write(chunk, encoding, callback) {
            chunks.push(chunk);
            setTimeout(callback, chunks.length % 16 === 0 ? 5 : 0);
          },
        });
        pipeline(conn, slow).then(() => resolve(Buffer.concat(chunks)), reject);
      }));
      listen(srv).then((port) => {
        const c = cleanup.socket(tls.connect(client(port), () => c.end(payload)));
        c.on('error', () => {});
      });
    });
    const got = await received;
    assert.equal(got.length, payload.length);
    assert.equal(sha256(got), sha256(payload));
  });

  it('a client that never reads gets \'end\' and \'close\' when the server ends', async () => {
    await sameAsNode(async (impl) => {
      const srv = cleanup.server(tls.createServer(server, (s) => s.end()));
      const port = await listen(srv);
      const c = cleanup.socket(impl.connect(client(port)));
      const events = [];
      c.on('end', () => events.push('end'));
      const [hadError] = await once(c, 'close').then((e) => [e]);
      events.push(`close:${hadError}`);
      return events;
    });
  });

  it('\'close\' says whether an error destroyed the socket', async () => {
    await sameAsNode(async (impl) => {
      const srv = cleanup.server(tls.createServer(server, (s) => s.resume()));
      const port = await listen(srv);
      const outcome = [];
      for (const err of [undefined, new Error('boom')]) {
        const c = cleanup.socket(impl.connect(client(port)));
        c.on('error', (e) => outcome.push(`error:${e.message}`));
        await once(c, 'secureConnect');
        const closed = new Promise((resolve) => c.once('close', resolve));
        c.destroy(err);
        outcome.push(`close:${await closed}`);
      }
      return outcome;
    });
  });

  it('pauseOnConnect: the handshake runs and the socket is handed over paused', async () => {
    await sameAsNode(async (impl) => {
      let conn;
      const secure = new Promise((resolve) => {
        conn = null;
        const srv = cleanup.server(impl.createServer({ ...server, pauseOnConnect: true }, (s) => {
          conn = s;
          resolve();
        }));
        listen(srv).then((port) => {
          const c = cleanup.socket(tls.connect(client(port), () => c.write('while paused')));
          c.on('error', () => {});
        });
      });
      await secure;
      await sleep(100);
      const paused = conn.isPaused();
      let data = '';
      conn.on('data', (d) => { data += d; });
      const before = data;
      conn.resume();
      while (data.length < 'while paused'.length) await once(conn, 'data');
      return { paused, before, data };
    });
  });

  it('a server takes any Duplex as a connection (server.emit(\'connection\', duplex))', async () => {
    await sameAsNode(async (impl) => {
      const [a, b] = duplexPair();
      const srv = impl.createServer(server, (s) => s.end('over a stream pair'));
      srv.emit('connection', a);
      const c = tls.connect({ socket: b, servername: 'localhost', ca: certs.ca });
      let data = '';
      c.on('data', (d) => { data += d; });
      await once(c, 'end');
      return data;
    });
  });
});

describe('optional client certificates, none sent', () => {
  const cleanup = useCleanup();
  const options = { ...server, ca: certs.ca, requestCert: true, rejectUnauthorized: false };

  for (const maxVersion of ['TLSv1.2', 'TLSv1.3']) {
    it(`${maxVersion}: the server serves it, unauthorized, as node's`, async () => {
      await sameAsNode(async (impl) => {
        const seen = new Promise((resolve) => {
          const srv = cleanup.server(impl.createServer(options, (s) => {
            resolve({
              authorized: s.authorized,
              authorizationError: s.authorizationError,
              peer: s.getPeerCertificate(),
              detailed: s.getPeerCertificate(true),
              x509: s.getPeerX509Certificate(),
            });
            s.end('served');
          }));
          listen(srv).then((port) => {
            const c = cleanup.socket(tls.connect({ ...client(port), maxVersion }));
            c.resume();
            c.on('error', () => {});
          });
        });
        return seen;
      });
    });
  }

  it('curl -k without a certificate is served (it crashed the server)', async () => {
    const srv = cleanup.server(ours.createServer(options, (s) => {
      const body = `${s.authorized} ${s.authorizationError}`;
      s.end(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    }));
    const port = await listen(srv);
    const r = await run('curl', ['-sk', `https://127.0.0.1:${port}/`], { track: cleanup }).result;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString(), 'false UNABLE_TO_GET_ISSUER_CERT');
  });
});

// After a failed handshake our fatal alert leaves with FIN, and the TCP transport stays open,
// reading and dropping what the peer still sends, until the peer closes too: closed at once,
// a transport receiving the rest of the peer's flight would reset the connection, and a peer
// still writing fails on the reset before it reads the alert.
describe('closing after a failed handshake', () => {
  const cleanup = useCleanup();

  for (const maxVersion of ['TLSv1.2', 'TLSv1.3']) {
    it(`${maxVersion}: our client refusing node's server closes its TCP socket once the server has`, async () => {
      const srv = cleanup.server(tls.createServer({ ...server, maxVersion }));
      const refused = once(srv, 'tlsClientError');
      const tcp = cleanup.socket(net.connect(await listen(srv), '127.0.0.1'));
      const events = [];
      tcp.on('end', () => events.push('end'));
      const closed = new Promise((resolve) => tcp.once('close', () => { events.push('close'); resolve(); }));
      const c = cleanup.socket(ours.connect({ socket: tcp, servername: 'localhost', ca: certs.otherCa }));
      const err = await once(c, 'error');
      assert.equal(err.code, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
      assert.equal((await refused).code, 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA');
      await closed;
      // The server's FIN came before our socket closed.
      assert.deepEqual(events, ['end', 'close']);
    });
  }
});
