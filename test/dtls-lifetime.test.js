'use strict';
// DTLS sessions' native memory is released however they end: close() both ways (close_notify),
// the server's close(), idleTimeout, destroy(), garbage collection of client sockets dropped
// without either, and a worker's termination. Each check runs in a fresh node with
// --expose-gc and compares Mbed TLS's memory (binding.memoryTotals()) after a cycle with what
// it was after a first, warm-up cycle: PSA's key store keeps the slots it grew to.

const { assert, runNodeChild } = require('./helpers');

// The child scripts take seconds; a sanitizer build on a busy machine, ten times that.
const CHILD_TIMEOUT = 200000;
const TEST_TIMEOUT = CHILD_TIMEOUT + 20000;

const runChild = (source) => runNodeChild(source, CHILD_TIMEOUT);

// For the child scripts: our dtls, the memory totals, the test PKI, and helpers: an echo
// server, `clients(n, port)` resolving with n connected clients, a wait until the server has
// no session, and a few rounds of garbage collection.
const PREAMBLE = `
  const dgram = require('dgram');
  const { once } = require('events');
  const dtls = require('./dtls');
  const binding = require('./lib/binding');
  const fs = require('fs');
  const c = (f) => fs.readFileSync('certs/' + f);
  const key = c('server-ecdsa.key');
  const cert = c('server-ecdsa-chain.pem');
  const ca = c('ca.pem');
  const memory = () => binding.memoryTotals()[0];
  const settle = () => new Promise((r) => setTimeout(r, 20));
  async function echoServer(options = {}) {
    const server = dtls.createServer({ key, cert, ...options }, (s) => {
      s.on('message', (m) => s.send(m));
      s.on('error', () => {});
    });
    server.on('tlsClientError', () => {});
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return server;
  }
  async function clients(n, port, options = {}) {
    const list = [];
    for (let i = 0; i < n; i++) {
      const client = dtls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca, ...options });
      client.on('error', () => {});
      list.push(client);
    }
    await Promise.all(list.map((client) => once(client, 'secureConnect')));
    // One record each way: both ends are established.
    await Promise.all(list.map((client) => { const m = once(client, 'message'); client.send('x'); return m; }));
    return list;
  }
  const connections = (server) => new Promise((r) => server.getConnections((e, n) => r(n)));
  async function drained(server) { while (await connections(server) > 0) await settle(); }
  async function collect() { for (let i = 0; i < 10; i++) { global.gc(); await settle(); } }`;

describe('DTLS: native lifetimes', function () {
  this.timeout(TEST_TIMEOUT);
  const SESSIONS = 20;

  it('close() from the clients, then the server\'s close(), frees every session and the server', async () => {
    const result = await runChild(`${PREAMBLE}
      async function cycle() {
        const server = await echoServer();
        const list = await clients(${SESSIONS}, server.address().port);
        const held = memory();
        await Promise.all(list.map((client) => new Promise((r) => client.close(r))));
        await drained(server);
        await new Promise((r) => server.close(r));
        await collect();
        return held;
      }
      (async () => {
        const empty = memory();
        await cycle();
        const before = memory();
        const held = await cycle();
        console.log(JSON.stringify({ empty, before, held, after: memory() }));
      })();`);
    assert.ok(result.held - result.before > SESSIONS * 2 * 4096, JSON.stringify(result));
    assert.equal(result.after, result.before, JSON.stringify(result));
  });

  it('the server\'s close() with sessions open frees them, and the clients\' on the close_notify', async () => {
    const result = await runChild(`${PREAMBLE}
      async function cycle() {
        const server = await echoServer();
        const list = await clients(${SESSIONS}, server.address().port);
        const closed = Promise.all(list.map((client) => once(client, 'close')));
        await new Promise((r) => server.close(r));
        await closed;
        await collect();
      }
      (async () => {
        await cycle();
        const before = memory();
        await cycle();
        console.log(JSON.stringify({ before, after: memory() }));
      })();`);
    assert.equal(result.after, result.before, JSON.stringify(result));
  });

  it('idleTimeout frees the sessions of clients that went silent', async () => {
    const result = await runChild(`${PREAMBLE}
      (async () => {
        const server = await echoServer({ idleTimeout: 500 });
        const port = server.address().port;
        async function cycle() {
          // The clients vanish without a word: destroy() sends nothing.
          const list = await clients(${SESSIONS}, port);
          const open = await connections(server);
          for (const client of list) client.destroy();
          await drained(server);
          // The clients' secure contexts go with garbage collection.
          await collect();
          return open;
        }
        await cycle();
        const before = memory();
        const open = await cycle();
        console.log(JSON.stringify({ open, before, after: memory() }));
        server.close();
      })();`);
    assert.equal(result.open, SESSIONS);
    assert.equal(result.after, result.before, JSON.stringify(result));
  });

  it('destroy() on both ends frees the sessions at once, and twice is harmless', async () => {
    const result = await runChild(`${PREAMBLE}
      (async () => {
        const accepted = [];
        const server = await echoServer();
        server.on('secureConnection', (s) => accepted.push(s));
        const port = server.address().port;
        async function cycle() {
          const list = await clients(${SESSIONS}, port);
          const held = memory();
          const servers = accepted.splice(0);
          for (const s of servers) { s.destroy(); s.destroy(); }
          for (const client of list) { client.destroy(); client.destroy(); }
          // At once: the sockets are still referenced here, nothing was collected.
          const destroyed = memory();
          await drained(server);
          await collect();
          return { held, destroyed, sockets: list.length + servers.length };
        }
        await cycle();
        const before = memory();
        const { held, destroyed, sockets } = await cycle();
        console.log(JSON.stringify({ before, held, destroyed, sockets, after: memory(), connections: await connections(server) }));
        server.close();
      })();`);
    assert.equal(result.connections, 0);
    assert.equal(result.sockets, 2 * SESSIONS);
    assert.ok(result.held - result.destroyed > SESSIONS * 2 * 4096, JSON.stringify(result));
    assert.equal(result.after, result.before, JSON.stringify(result));
  });

  it('garbage collection frees client sockets dropped without close() or destroy()', async () => {
    const result = await runChild(`${PREAMBLE}
      (async () => {
        // The server lets the silent peers go by its idle timeout; the clients are only dropped.
        const server = await echoServer({ idleTimeout: 500 });
        const port = server.address().port;
        async function cycle() {
          const udps = [];
          for (let i = 0; i < ${SESSIONS}; i++) {
            const udp = dgram.createSocket('udp4');
            udp.bind(0, '127.0.0.1');
            await once(udp, 'listening');
            udps.push(udp);
          }
          for (const udp of udps) await clients(1, port, { socket: udp });
          const held = memory();
          // Their UDP sockets closed, the DTLS sockets simply forgotten.
          await Promise.all(udps.map((udp) => new Promise((r) => udp.close(r))));
          udps.length = 0;
          await drained(server);
          await collect();
          return held;
        }
        await cycle();
        const before = memory();
        const held = await cycle();
        console.log(JSON.stringify({ before, held, after: memory() }));
        server.close();
      })();`);
    assert.ok(result.held > result.before, JSON.stringify(result));
    assert.equal(result.after, result.before, JSON.stringify(result));
  });

  it('a worker with a server and connected clients is terminated: all of it freed', async () => {
    const result = await runChild(`
      const { Worker } = require('worker_threads');
      const binding = require('./lib/binding');
      const root = JSON.stringify(process.cwd());
      const source = \`
        const { parentPort } = require('worker_threads');
        const dtls = require(\${root} + '/dtls');
        const fs = require('fs');
        const c = (f) => fs.readFileSync(\${root} + '/certs/' + f);
        const server = dtls.createServer({ key: c('server-ecdsa.key'), cert: c('server-ecdsa-chain.pem') }, (s) => s.on('message', () => {}));
        server.listen(0, '127.0.0.1', () => {
          let open = 0;
          for (let i = 0; i < ${SESSIONS}; i++) {
            dtls.connect({ port: server.address().port, host: '127.0.0.1', servername: 'localhost', ca: c('ca.pem') }, () => {
              if (++open === ${SESSIONS}) parentPort.postMessage('open');
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
    assert.ok(result.during - result.before > SESSIONS * 16384, JSON.stringify(result));
    assert.equal(result.after, result.before, JSON.stringify(result));
  });
});
