'use strict';
// Native lifetimes: memory Mbed TLS holds is released by destroy(), by garbage collection
// of dropped sockets, and by a worker's environment teardown; destroy() is safe from any
// event handler and twice in a row.

const ours = require('..');
const { assert, certs, listen, once, runNodeChild, useCleanup } = require('./helpers');

// The child scripts take a second or two; a sanitizer build on a busy machine, ten times
// that. Asynchronous, so that mocha's timeout (a little longer) can fire while one runs.
const CHILD_TIMEOUT = 100000;
const TEST_TIMEOUT = CHILD_TIMEOUT + 20000;

const runChild = (source) => runNodeChild(source, CHILD_TIMEOUT);

// For the child scripts: client sessions on transports that take every write and never
// answer, so each stays mid-handshake holding its Mbed TLS memory.
const SESSIONS_PREAMBLE = `
  const binding = require('./lib/binding');
  const { TLSSocket, createSecureContext } = require('.');
  const { Duplex } = require('stream');
  const fs = require('fs');
  const silent = () => new Duplex({ read() {}, write(chunk, encoding, cb) { cb(); } });
  const secureContext = createSecureContext({ ca: fs.readFileSync('certs/ca.pem') });
  const settle = () => new Promise((r) => setImmediate(r));`;

// PSA's key store grows to the most keys alive at once and keeps its slots for reuse, so
// each check runs its cycle twice and compares the second against the first: whatever a
// cycle allocates must all be returned.
describe('native memory', function () {
  this.timeout(TEST_TIMEOUT);

  // Enough to hold megabytes; the check is exact, so a leak of one byte each would show.
  const DROPPED = 200;
  it('is released by garbage collection of sockets that were never destroyed', async () => {
    const result = await runChild(`
${SESSIONS_PREAMBLE}
      async function cycle() {
        // Client sessions that started their handshake (with a first write), then are simply dropped.
        for (let i = 0; i < ${DROPPED}; i++) new TLSSocket(silent(), { secureContext }).write('x');
        await settle();
        const held = binding.memoryTotals()[0];
        for (let i = 0; i < 10; i++) { global.gc(); await settle(); }
        return held;
      }
      (async () => {
        await cycle();
        const before = binding.memoryTotals()[0];
        const held = await cycle();
        console.log(JSON.stringify({ before, held, after: binding.memoryTotals()[0] }));
      })();`);
    // The sessions hold megabytes while alive; after collection nothing of theirs is left.
    assert.ok(result.held - result.before > DROPPED * 16384, JSON.stringify(result));
    assert.equal(result.after, result.before, JSON.stringify(result));
  });

  it('is released by destroy() at once', async () => {
    const result = await runChild(`
${SESSIONS_PREAMBLE}
      async function cycle() {
        const sockets = [];
        for (let i = 0; i < 100; i++) {
          // A client socket made by hand starts its handshake with the first write.
          const socket = new TLSSocket(silent(), { secureContext });
          socket.write('x');
          sockets.push(socket);
        }
        await settle();
        for (const s of sockets) { s.destroy(); s.destroy(); }
      }
      (async () => {
        await cycle();
        const before = binding.memoryTotals()[0];
        await cycle();
        console.log(JSON.stringify({ before, after: binding.memoryTotals()[0] }));
      })();`);
    assert.equal(result.after, result.before, JSON.stringify(result));
  });

  it('is released when a worker with open connections is terminated', async () => {
    const result = await runChild(`
      const { Worker } = require('worker_threads');
      const binding = require('./lib/binding');
      const root = JSON.stringify(process.cwd());
      // 20 connections (client and server side) open in the worker when it is terminated.
      const source = \`
        const { parentPort } = require('worker_threads');
        const tls = require(\${root});
        const fs = require('fs');
        const c = (f) => fs.readFileSync(\${root} + '/certs/' + f);
        const server = tls.createServer({ key: c('server-ecdsa.key'), cert: c('server-ecdsa-chain.pem') },
          (s) => s.on('data', () => {}));
        server.listen(0, '127.0.0.1', () => {
          let open = 0;
          for (let i = 0; i < 20; i++) {
            tls.connect({ port: server.address().port, host: '127.0.0.1', ca: c('ca.pem') }, () => {
              if (++open === 20) parentPort.postMessage('open');
            });
          }
        });\`;
      function cycle() {
        return new Promise((resolve) => {
          const worker = new Worker(source, { eval: true });
          worker.once('message', async () => {
            const during = binding.memoryTotals()[0];
            await worker.terminate();
            setImmediate(() => resolve(during));
          });
        });
      }
      (async () => {
        await cycle();
        const before = binding.memoryTotals()[0];
        const during = await cycle();
        console.log(JSON.stringify({ before, during, after: binding.memoryTotals()[0] }));
      })();`);
    assert.ok(result.during - result.before > 40 * 16384, JSON.stringify(result));
    assert.equal(result.after, result.before, JSON.stringify(result));
  });
});

describe('worker termination', function () {
  this.timeout(TEST_TIMEOUT);

  it('in the middle of native calls leaves the process standing', async () => {
    // A worker busy creating, driving and feeding sessions is terminated at a random
    // moment, 20 times: the process must neither abort nor crash. The moment is counted
    // from the worker's message that it is in its loop: a slow machine may take longer to
    // start a worker than any fixed delay.
    const result = await runChild(`
      const { Worker } = require('worker_threads');
      const root = JSON.stringify(process.cwd());
      const source = \`
        const binding = require(\${root} + '/lib/binding');
        const { createSecureContext } = require(\${root});
        const context = createSecureContext({});
        const out = [];
        require('worker_threads').parentPort.postMessage('busy');
        for (;;) {
          const session = new binding.Session(context.native(false), out);
          session.start();
          session.feed(Buffer.from([0x16, 3, 3, 0, 4, 1, 2, 3, 4]));
        }\`;
      (async () => {
        for (let i = 0; i < 20; i++) {
          const worker = new Worker(source, { eval: true });
          await new Promise((resolve, reject) => {
            worker.once('message', resolve);
            worker.once('error', reject);
          });
          worker.on('error', () => {});
          await new Promise((r) => setTimeout(r, (i % 5) * 5));
          await worker.terminate();
        }
        console.log(JSON.stringify({ terminated: 20 }));
      })();`);
    assert.equal(result.terminated, 20);
  });
});

describe('process exit', function () {
  this.timeout(TEST_TIMEOUT);

  // A child with open TLS connections (client and server side, mid-transfer) ends: by
  // process.exit(), and by its event loop running dry with the sockets unref'd.
  for (const how of ['process.exit()', 'an empty event loop']) {
    it(`with connections open, by ${how}, is clean`, async () => {
      const result = await runChild(`
        const tls = require('.');
        const fs = require('fs');
        const c = (f) => fs.readFileSync('certs/' + f);
        const sockets = [];
        let open = 0;
        // Both ends of all 10 connections are up (a TLS 1.3 client finishes first).
        const opened = () => {
          if (++open < 20) return;
          console.log(JSON.stringify({ open: open / 2 }));
          if (${JSON.stringify(how)} === 'process.exit()') process.exit(0);
          server.unref();
          for (const s of sockets) s.unref();
        };
        const server = tls.createServer({ key: c('server-ecdsa.key'), cert: c('server-ecdsa-chain.pem') }, (s) => {
          s.on('data', () => {});
          s.write(Buffer.alloc(1 << 20));
          sockets.push(s);
          opened();
        });
        server.listen(0, '127.0.0.1', () => {
          for (let i = 0; i < 10; i++) {
            const s = tls.connect({ port: server.address().port, host: '127.0.0.1', ca: c('ca.pem') }, () => {
              s.write(Buffer.alloc(1 << 16));
              opened();
            });
            s.on('data', () => {});
            sockets.push(s);
          }
        });`);
      assert.equal(result.open, 10);
    });
  }
});

describe('destroy() from event handlers', () => {
  const cleanup = useCleanup();

  async function server() {
    const srv = cleanup.server(ours.createServer(certs.ecdsa, (s) => {
      s.on('error', () => {});
      s.write('hello');
      s.on('data', (d) => s.write(d));
    }));
    srv.on('tlsClientError', () => {});
    return listen(srv);
  }

  for (const event of ['connect', 'secureConnect', 'data', 'end']) {
    it(`is safe in '${event}', twice, with writes queued`, async () => {
      const port = await server();
      const socket = cleanup.socket(ours.connect({ port, host: '127.0.0.1', ca: certs.ca }));
      let callbacks = 0;
      socket.on('error', () => {});
      socket.once(event, () => {
        if (socket.writable) socket.write(Buffer.alloc(1 << 20), () => { callbacks++; });
        socket.destroy();
        socket.destroy();
      });
      if (event === 'end') socket.once('secureConnect', () => socket.end());
      socket.resume();
      await once(socket, 'close');
      await new Promise((r) => setImmediate(r));
      assert.equal(socket.destroyed, true);
      assert.ok(callbacks <= 1);
    });
  }

  it('is safe in the server\'s secureConnection handler', async () => {
    const srv = cleanup.server(ours.createServer(certs.ecdsa, (s) => s.destroy()));
    const port = await listen(srv);
    const socket = cleanup.socket(ours.connect({ port, host: '127.0.0.1', ca: certs.ca }));
    socket.on('error', () => {});
    socket.resume();
    await once(socket, 'close');
    // The server still serves.
    const again = cleanup.socket(ours.connect({ port, host: '127.0.0.1', ca: certs.ca }));
    again.on('error', () => {});
    await once(again, 'secureConnect');
  });
});
