'use strict';
// Memory while data flows and once a connection is idle (lib/idle-trim.js, mst_session_trim):
// a stream of 64 KiB writes reuses its memory; a quiet connection gives back its windows
// and Mbed TLS's record buffers, and takes them again when data comes.

const tls = require('node:tls');
const ours = require('..');
const { SWEEP_MS } = require('../lib/idle-trim');
const { assert, certs, listen, once, readBytes, randomBytes, useCleanup } = require('./helpers');

// What a trimmed connection holds at most (the engine's test has the same figure): Mbed TLS's
// context, keys, the peer's certificate; no record buffer, no window.
const IDLE_BOUND = 12 * 1024;
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Waits until the socket's memory is at most `bound`: the trim comes 1 to 2 sweeps after
// the last activity, later on a loaded machine; the test's own timeout is the limit.
async function trimmed(socket, bound) {
  while (socket.memoryUsage().current > bound) await delay(SWEEP_MS / 4);
  return socket.memoryUsage().current;
}

for (const version of ['TLSv1.2', 'TLSv1.3']) {
  describe(`memory per connection, ${version}`, function () {
    this.timeout(60000);
    const cleanup = useCleanup();

    async function pair(serverImpl) {
      const server = cleanup.server(serverImpl.createServer({ ...certs.ecdsa, minVersion: version,
        maxVersion: version }, (s) => s.pipe(s)));
      const port = await listen(server);
      const socket = cleanup.socket(ours.connect({ port, host: '127.0.0.1', servername: 'localhost',
        ca: certs.ca }));
      await once(socket, 'secureConnect');
      return socket;
    }

    it('a stream of 64 KiB writes allocates nothing once the first few have run', async () => {
      const socket = await pair(tls);
      const chunk = randomBytes(65536);
      const roundTrip = async () => {
        const echoed = readBytes(socket, chunk.length);
        socket.write(chunk);
        assert.ok((await echoed).equals(chunk));
      };
      for (let i = 0; i < 4; i++) await roundTrip();
      const before = socket.memoryUsage().allocations;
      for (let i = 0; i < 32; i++) await roundTrip();
      assert.equal(socket.memoryUsage().allocations, before);
    });

    for (const [name, serverImpl] of [['node', tls], ['mbedtls-stream', ours]]) {
      it(`an idle connection to a ${name} server holds at most ${IDLE_BOUND} bytes, and data flows again`, async () => {
        const socket = await pair(serverImpl);
        const payload = randomBytes(256 * 1024);
        const echoed = readBytes(socket, payload.length);
        socket.write(payload);
        assert.ok((await echoed).equals(payload));
        const busy = socket.memoryUsage().current;
        assert.ok(busy > 2 * 16384, `busy: ${busy}`);
        const idle = await trimmed(socket, IDLE_BOUND);
        // A full 16 KiB record each way after the trim, then trimmed back to the same figure.
        for (const length of [16384, 1, 100000]) {
          const data = randomBytes(length);
          const back = readBytes(socket, length);
          socket.write(data);
          assert.ok((await back).equals(data));
        }
        assert.ok(socket.memoryUsage().current > idle);
        assert.equal(await trimmed(socket, idle), idle);
      });
    }
  });
}
