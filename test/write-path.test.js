'use strict';
// The write path: records are encrypted straight into the Buffer handed to the transport,
// and once the transport has written it that Buffer takes the next write's records, so a
// connection sending a stream allocates no new Buffer per write; node's server reads it all.
// And records carry the full 2^14 bytes of content in TLS 1.3 as in TLS 1.2 (patch 0024), as
// node's do: a 64 KiB write is four records, each direction, on the wire.

const net = require('node:net');
const tls = require('node:tls');
const ours = require('..');
const {
  assert, certs, listen, once, randomBytes, sha256, useCleanup, TcpTransport, recordRelay, collect,
} = require('./helpers');

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

  // The application data records of one side, as the relay saw them: their lengths.
  const appData = (records, from) => records.filter((r) => r.from === from && r.type === 23).map((r) => r.length);
  // AES-256-GCM in TLS 1.3: 16384 bytes of content, the content type byte, a 16-byte tag.
  const FULL = { 'TLSv1.3': 16384 + 1 + 16, 'TLSv1.2': 8 + 16384 + 16 };

  for (const version of ['TLSv1.3', 'TLSv1.2']) {
    it(`sends a 64 KiB write as four full records, as node (${version}, both directions)`, async () => {
      const payload = randomBytes(64 * 1024);
      const lengths = {};
      for (const [name, client, server] of [['ours', ours, tls], ['node', tls, tls], ['our server', tls, ours]]) {
        const srv = cleanup.server(server.createServer({ ...certs.ecdsa, minVersion: version, maxVersion: version,
          ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' }, (socket) => {
          socket.write(payload);
          socket.end();
        }));
        const relay = await recordRelay(cleanup, await listen(srv));
        const socket = cleanup.socket(client.connect({ port: relay.port, host: '127.0.0.1', servername: 'localhost',
          ca: certs.ca, minVersion: version, maxVersion: version, ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' }));
        await once(socket, 'secureConnect');
        // No end() here: the server ends first, then the client (through a relay, a client's
        // close_notify and FIN right after its data end node's server before it writes).
        socket.write(payload);
        assert.equal(sha256(await collect(socket)), sha256(payload), name);
        await relay.closed;
        lengths[name] = { client: appData(relay.records, 'client'), server: appData(relay.records, 'server') };
      }
      // node's client sends its 64 KiB as four full records (the reference), and so do we,
      // as client and as server. In TLS 1.3 every protected record is type 23 on the wire:
      // the short ones (Finished, tickets, close_notify) are left out.
      const four = [FULL[version], FULL[version], FULL[version], FULL[version]];
      assert.deepEqual(lengths.node.client.filter((n) => n > 1000), four, `node: ${lengths.node.client}`);
      assert.deepEqual(lengths.ours.client.filter((n) => n > 1000), four, `ours: ${lengths.ours.client}`);
      assert.deepEqual(lengths['our server'].server.filter((n) => n > 1000), four,
        `our server: ${lengths['our server'].server}`);
    });
  }
});
