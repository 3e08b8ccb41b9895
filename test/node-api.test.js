'use strict';
// The rest of node:tls's API, each asserted equal between node:tls and ours where node runs
// the same scenario: tls.Server() without new, assignable defaults, the exported
// createSecureContext used by connect(), new TLSSocket(null).connect(), a server socket made
// by hand (SNICallback, errors kept to '_tlsError'), createSecurePair, signal, onread,
// bufferSize, cancelled writes, captureRejections, and DEP0123.

const events = require('node:events');
const net = require('node:net');
const tls = require('node:tls');
const ours = require('..');
const { assert, certs, listen, once, run, useCleanup } = require('./helpers');

const impls = [['node:tls', tls], ['mbedtls-stream', ours]];
const server = { key: certs.ecdsa.key, cert: certs.ecdsa.cert };
const client = (port) => ({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca });

async function sameAsNode(scenario) {
  const outcomes = [];
  for (const [, impl] of impls) outcomes.push(await scenario(impl));
  assert.deepEqual(outcomes[1], outcomes[0]);
  return outcomes[1];
}

// Resolves with the first of the socket's 'error' (its code) or 'close'.
const outcomeOf = (socket) => new Promise((resolve) => {
  socket.once('error', (err) => resolve(`error:${err.name}:${err.code}`));
  socket.once('close', () => resolve('close'));
});

describe('node:tls API', () => {
  const cleanup = useCleanup();

  it('tls.Server() without new makes a server that serves', async () => {
    await sameAsNode(async (impl) => {
      const srv = cleanup.server(impl.Server(server, (s) => s.end('made without new')));
      const port = await listen(srv);
      const c = cleanup.socket(tls.connect(client(port)));
      let data = '';
      c.on('data', (d) => { data += d; });
      await once(c, 'end');
      return { instance: srv instanceof impl.Server, data };
    });
  });

  it('assigning DEFAULT_MAX_VERSION and DEFAULT_CIPHERS takes effect for later contexts', async () => {
    await sameAsNode(async (impl) => {
      const saved = [impl.DEFAULT_MAX_VERSION, impl.DEFAULT_CIPHERS];
      impl.DEFAULT_MAX_VERSION = 'TLSv1.2';
      impl.DEFAULT_CIPHERS = 'ECDHE-ECDSA-AES256-GCM-SHA384';
      try {
        const srv = cleanup.server(tls.createServer(server, (s) => s.end()));
        const port = await listen(srv);
        const c = cleanup.socket(impl.connect(client(port)));
        await once(c, 'secureConnect');
        return [c.getProtocol(), c.getCipher().name];
      } finally {
        [impl.DEFAULT_MAX_VERSION, impl.DEFAULT_CIPHERS] = saved;
      }
    });
  });

  it('connect() goes through the exported createSecureContext, as libraries that patch it expect', async () => {
    await sameAsNode(async (impl) => {
      const original = impl.createSecureContext;
      const seen = [];
      impl.createSecureContext = (options) => {
        seen.push(options.ciphers === impl.DEFAULT_CIPHERS);
        return original({ ...options, ca: certs.ca });
      };
      try {
        const srv = cleanup.server(tls.createServer(server, (s) => s.end()));
        const port = await listen(srv);
        const c = cleanup.socket(impl.connect({ port, host: '127.0.0.1', servername: 'localhost' }));
        await once(c, 'secureConnect');
        // (node calls it twice, once without ciphers; ours once, with them.)
        return { called: seen.length > 0, withDefaultCiphers: seen.includes(true), authorized: c.authorized };
      } finally {
        impl.createSecureContext = original;
      }
    });
  });

  it('new TLSSocket(null).connect(port) connects, then handshakes with its first write', async () => {
    await sameAsNode(async (impl) => {
      const got = new Promise((resolve) => {
        const srv = cleanup.server(tls.createServer(server, (s) => {
          let data = '';
          s.on('data', (d) => { data += d; });
          s.on('end', () => resolve(data));
        }));
        listen(srv).then((port) => {
          // rejectUnauthorized: false, as node's hand-made client does not verify at all.
          const c = cleanup.socket(new impl.TLSSocket(null, { rejectUnauthorized: false }));
          c.connect(port, () => c.end('hello over a socket made by hand'));
        });
      });
      return got;
    });
  });

  it('a server socket made by hand asks its own SNICallback', async () => {
    await sameAsNode(async (impl) => {
      const names = [];
      const done = new Promise((resolve) => {
        const srv = cleanup.server(net.createServer((raw) => {
          const s = new impl.TLSSocket(raw, {
            isServer: true,
            secureContext: impl.createSecureContext(server),
            SNICallback: (name, cb) => { names.push(name); cb(null, null); },
          });
          s.on('secure', () => s.end('served'));
        }));
        listen(srv).then((port) => {
          const c = cleanup.socket(tls.connect(client(port)));
          let data = '';
          c.on('data', (d) => { data += d; });
          c.on('end', () => resolve(data));
        });
      });
      return { data: await done, names };
    });
  });

  it('a server socket made by hand fed junk reports \'_tlsError\' and throws nothing', async () => {
    await sameAsNode(async (impl) => {
      const seen = [];
      const closed = new Promise((resolve) => {
        const srv = cleanup.server(net.createServer((raw) => {
          const s = new impl.TLSSocket(raw, { isServer: true, secureContext: impl.createSecureContext(server) });
          s.on('_tlsError', () => seen.push('_tlsError'));
          s.on('close', () => resolve());
        }));
        listen(srv).then((port) => {
          const c = cleanup.socket(net.connect(port, '127.0.0.1', () => c.write(Buffer.alloc(1024, 42))));
          c.on('error', () => {});
        });
      });
      await closed;
      return seen;
    });
  });

  it('createSecurePair() handshakes over its encrypted end', async () => {
    const pair = ours.createSecurePair(ours.createSecureContext({ ca: certs.ca }), false, false, false);
    const srv = cleanup.server(tls.createServer(server, (s) => s.end('through a pair')));
    const port = await listen(srv);
    const tcp = cleanup.socket(net.connect(port, '127.0.0.1'));
    tcp.pipe(pair.encrypted).pipe(tcp);
    let data = '';
    pair.cleartext.on('data', (d) => { data += d; });
    await once(pair, 'secure');
    await once(pair.cleartext, 'end');
    assert.equal(data, 'through a pair');
  });

  // (node:tls itself aborts the process on an abort in the same tick as connect(), so node's
  // values are written in: what its own test-tls-connect-abort-controller.js asserts.)
  for (const [when, listeners] of [['before connect()', 0], ['after connect()', 1], ['a tick after connect()', 1]]) {
    it(`signal aborted ${when} destroys the socket with an AbortError`, async () => {
      const srv = cleanup.server(tls.createServer(server));
      const port = await listen(srv);
      const ac = new AbortController();
      if (when === 'before connect()') ac.abort();
      const c = cleanup.socket(ours.connect({ ...client(port), signal: ac.signal }));
      assert.equal(events.getEventListeners(ac.signal, 'abort').length, listeners);
      const outcome = outcomeOf(c);
      if (when === 'a tick after connect()') setImmediate(() => ac.abort());
      else ac.abort();
      assert.equal(await outcome, 'error:AbortError:ABORT_ERR');
      assert.equal(events.getEventListeners(ac.signal, 'abort').length, 0);
    });
  }

  it('onread delivers plaintext into the given buffer instead of \'data\' events', async () => {
    await sameAsNode(async (impl) => {
      const srv = cleanup.server(tls.createServer(server, (s) => s.end('hello world')));
      const port = await listen(srv);
      const pieces = [];
      const buffer = Buffer.alloc(4);
      const c = cleanup.socket(impl.connect({
        ...client(port),
        onread: { buffer, callback: (n, buf) => pieces.push([n, buf === buffer, buf.toString('latin1', 0, n)]) },
      }));
      let dataEvents = 0;
      c.on('data', () => { dataEvents++; });
      await once(c, 'end');
      return { text: pieces.map((p) => p[2]).join(''), sameBuffer: pieces.every((p) => p[1]), dataEvents };
    });
  });

  // The server's data and close_notify reach the client in one read (they are written in
  // the same tick, before the client's loop polls): the end must wait for the paused onread.
  it("onread whose callback pauses gets every byte before 'end' (close_notify right after the data)", async () => {
    await sameAsNode(async (impl) => {
      const payload = Buffer.alloc(5000, 'x');
      const srv = cleanup.server(tls.createServer(server, (s) => s.end(payload)));
      const port = await listen(srv);
      let received = 0;
      const c = cleanup.socket(impl.connect({
        ...client(port),
        onread: {
          buffer: Buffer.alloc(1000),
          callback(n) {
            received += n;
            setTimeout(() => c.resume(), 10);
            return false;
          },
        },
      }));
      await once(c, 'end');
      const atEnd = received;
      await once(c, 'close');
      return { atEnd, atClose: received };
    });
  });

  it('bufferSize counts queued bytes, and is undefined once closed', async () => {
    await sameAsNode(async (impl) => {
      const srv = cleanup.server(tls.createServer(server, (s) => s.resume()));
      const port = await listen(srv);
      const c = cleanup.socket(impl.connect(client(port)));
      await once(c, 'secureConnect');
      const open = c.bufferSize;
      c.destroy();
      await once(c, 'close');
      return [open, c.bufferSize];
    });
  });

  // node's own test-tls-writewrap-leak.js expects ECANCELED here; node:tls itself reports
  // such a write as written (its data is buffered in OpenSSL and lost with the connection),
  // ours says it never left.
  it('a write waiting for a handshake that never comes is cancelled (ECANCELED)', async () => {
    const srv = cleanup.server(net.createServer((raw) => raw.destroy()));
    const port = await listen(srv);
    const c = cleanup.socket(ours.connect(client(port)));
    c.on('error', () => {});
    const err = await new Promise((resolve) => c.write('never sent', resolve));
    assert.equal(err && err.code, 'ECANCELED');
    assert.equal(err.syscall, 'write');
  });

  it('events.captureRejections: a rejected async secureConnection listener destroys that socket', async () => {
    await sameAsNode(async (impl) => {
      const kaboom = new Error('kaboom');
      // As node's own test does it: the process-wide default, read when the server is made.
      events.captureRejections = true;
      let srv;
      try {
        srv = cleanup.server(impl.createServer(server));
      } finally {
        events.captureRejections = false;
      }
      const seen = new Promise((resolve) => {
        srv.on('secureConnection', async (s) => {
          s.on('error', (err) => resolve(err === kaboom));
          throw kaboom;
        });
      });
      const port = await listen(srv);
      const c = cleanup.socket(tls.connect(client(port)));
      c.on('error', () => {});
      return seen;
    });
  });

  it('an IP address as servername warns once per process (DEP0123)', async () => {
    // In a child: the warning is once per process.
    const script = `
      const tls = require(process.argv[1] === 'node' ? 'tls' : ${JSON.stringify(require.resolve('..'))});
      const fs = require('fs');
      const certs = ${JSON.stringify(certs.dir)};
      const srv = tls.createServer({ key: fs.readFileSync(certs + '/server-ecdsa.key'),
        cert: fs.readFileSync(certs + '/server-ecdsa-chain.pem') }, (s) => s.end());
      srv.listen(0, '127.0.0.1', async () => {
        for (let i = 0; i < 2; i++) {
          const c = tls.connect({ port: srv.address().port, host: '127.0.0.1', servername: '127.0.0.1',
            rejectUnauthorized: false });
          await new Promise((resolve) => c.on('close', resolve).resume());
        }
        srv.close();
      });`;
    const counts = [];
    for (const which of ['node', 'ours']) {
      const r = await run(process.execPath, ['-e', script, which]).result;
      assert.equal(r.code, 0, r.stderr);
      counts.push(r.stderr.split('DEP0123').length - 1);
    }
    assert.deepEqual(counts, [1, 1]);
  });

  // What each getter gives while connecting, once secure and once destroyed: node's kind of
  // value (null, undefined, {} or a value) at each stage. (Not getProtocol() while connecting:
  // OpenSSL answers with its highest version before any handshake.)
  it('getters give node\'s kind of value before, during and after the connection', async () => {
    const getters = ['getPeerCertificate', 'getCertificate', 'getCipher', 'isSessionReused',
      'getSession', 'getTLSTicket', 'getEphemeralKeyInfo', 'getFinished', 'getPeerFinished',
      'getPeerX509Certificate', 'getX509Certificate'];
    const kind = (v) => (v === null ? 'null' : v === undefined ? 'undefined'
      : typeof v === 'object' && !Buffer.isBuffer(v) && Object.keys(v).length === 0 ? '{}' : typeof v);
    const probe = (socket) => Object.fromEntries(getters.map((g) => [g, kind(socket[g]())]));
    await sameAsNode(async (impl) => {
      const srv = cleanup.server(tls.createServer({ ...server, maxVersion: 'TLSv1.2' }, (s) => s.resume()));
      const port = await listen(srv);
      const c = cleanup.socket(impl.connect(client(port)));
      const connecting = probe(c);
      await once(c, 'secureConnect');
      const secure = probe(c);
      c.destroy();
      await once(c, 'close');
      return { connecting, secure, destroyed: probe(c), protocol: c.getProtocol() };
    });
  });

  for (const honorCipherOrder of [undefined, false, true]) {
    it(`honorCipherOrder: ${honorCipherOrder}: the TLS 1.2 suite is chosen as node's server chooses it`, async () => {
      await sameAsNode(async (impl) => {
        const srv = cleanup.server(impl.createServer({
          ...server, maxVersion: 'TLSv1.2', honorCipherOrder,
          ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384',
        }, (s) => s.end()));
        const port = await listen(srv);
        const c = cleanup.socket(tls.connect({ ...client(port),
          ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256' }));
        await once(c, 'secureConnect');
        return c.getCipher().name;
      });
    });
  }

  it('a cipher list naming no TLS 1.3 suite leaves TLS 1.3 its default suites, as node\'s', async () => {
    await sameAsNode(async (impl) => {
      const srv = cleanup.server(impl.createServer({ ...server, ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }, (s) => s.end()));
      const port = await listen(srv);
      const c = cleanup.socket(impl.connect({ ...client(port), ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }));
      await once(c, 'secureConnect');
      return [c.getProtocol(), c.getCipher().name];
    });
  });
});
