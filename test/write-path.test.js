'use strict';
// The write path: records are encrypted straight into the Buffer handed to the transport,
// and once the transport has written it that Buffer takes the next write's records, so a
// connection sending a stream allocates no new Buffer per write; node's server reads it all.

const net = require('node:net');
const tls = require('node:tls');
const ours = require('..');
const { assert, certs, listen, once, randomBytes, sha256, useCleanup, TcpTransport } = require('./helpers');

describe('the write path', function () {
  this.timeout(60000);
  const cleanup = useCleanup();

  for (const version of ['TLSv1.3', 'TLSv1.2']) {
    it(`reuses the records' Buffer from one 64 KiB write to the next (${version}, node's server)`, async () => {
      const WRITES = 40;
      let received = null;
      const server = cleanup.server(tls.createServer(certs.ecdsa, (socket) => {
        const chunks = [];
        socket.on('data', (chunk) => chunks.push(chunk));
        socket.on('end', () => {
          received = Buffer.concat(chunks);
          socket.end();
        });
      }));
      const port = await listen(server);
      const transport = new TcpTransport(net.connect(port, '127.0.0.1'));
      const client = cleanup.socket(ours.connect({
        socket: transport, servername: 'localhost', ca: certs.ca, minVersion: version, maxVersion: version,
      }));
      await once(client, 'secureConnect');
      const sent = [];
      const before = transport.memory.length;
      for (let i = 0; i < WRITES; i++) {
        const chunk = randomBytes(64 * 1024);
        sent.push(chunk);
        await new Promise((resolve, reject) => client.write(chunk, (err) => (err ? reject(err) : resolve())));
      }
      const written = new Set(transport.memory.slice(before));
      client.end();
      await once(client, 'close');
      assert.equal(sha256(received), sha256(Buffer.concat(sent)));
      // One Buffer, taken again for every write once the one before was written.
      assert.ok(written.size <= 2, `${written.size} Buffers for ${WRITES} writes`);
    });
  }
});
