'use strict';
// The memory of the Buffers received records are decrypted into (over a transport not read
// in place) comes back after garbage collection (src/napi/sink_pool.h) and is taken again,
// and is freed once nothing moves data: run in a process of its own, with gc() exposed.

const { assert, runNodeChild } = require('./helpers');

describe('plaintext Buffers of received data', function () {
  this.timeout(120000);

  it('keep their memory for reuse after garbage collection, and give it back when idle', async () => {
    const result = await runNodeChild(`
      const tls = require('tls');
      const ours = require('./');
      const binding = require('./lib/binding');
      const fs = require('fs');
      const c = (f) => fs.readFileSync('certs/' + f);
      const settle = () => new Promise((r) => setImmediate(r));
      const payload = require('crypto').randomBytes(4 << 20);
      const server = tls.createServer({ key: c('server-ecdsa.key'), cert: c('server-ecdsa-chain.pem') },
        (socket) => socket.write(payload));
      server.listen(0, '127.0.0.1', () => {
        binding.releaseSinkBlocks();
        // Through a Duplex of the application's: a net.Socket we read alone has its records
        // decrypted in place (test/read-in-place.test.js), with no sink.
        const { Duplex } = require('stream');
        const tcp = require('net').connect(server.address().port, '127.0.0.1');
        const duplex = new Duplex({ read() {}, write(chunk, encoding, callback) { tcp.write(chunk, callback); } });
        tcp.on('data', (chunk) => duplex.push(chunk));
        const client = ours.connect({ socket: duplex, servername: 'localhost', ca: c('ca.pem') });
        let received = 0;
        // Read while the connection is still open: once every socket is idle, lib/idle-trim.js
        // frees the kept blocks itself.
        client.on('data', async (chunk) => {
          received += chunk.length;
          if (received < payload.length) return;
          for (let i = 0; i < 10; i++) { global.gc(); await settle(); }
          const kept = binding.releaseSinkBlocks();
          const after = binding.releaseSinkBlocks();
          client.destroy();
          tcp.destroy();
          server.close();
          console.log(JSON.stringify({ received, kept, after }));
          process.exit(0);
        });
      });`, 100000);
    assert.equal(result.received, 4 << 20);
    // Some blocks came back through their Buffers' finalizers; once freed, none are left.
    assert.ok(result.kept > 0, JSON.stringify(result));
    assert.equal(result.after, 0);
  });
});
