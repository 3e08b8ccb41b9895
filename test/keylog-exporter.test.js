'use strict';
// The 'keylog' event and exportKeyingMaterial(), with node:tls as the peer and the oracle:
// our key log lines are lines node's peer logs for the same connection (so Wireshark can
// decrypt with them), and exported keying material equals node's.

const tls = require('node:tls');
const ours = require('..');
const { assert, certs, listen, once, useCleanup } = require('./helpers');

const PAIRS = [
  ['our client with node server', ours, tls],
  ['node client with our server', tls, ours],
];
// What node logs per connection on each side (NSS key log labels, sorted): the secrets
// Wireshark needs, and in TLS 1.3 the exporter secret too.
const LABELS = {
  'TLSv1.2': ['CLIENT_RANDOM'],
  'TLSv1.3': ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'EXPORTER_SECRET',
    'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_TRAFFIC_SECRET_0'],
};

for (const version of ['TLSv1.2', 'TLSv1.3']) {
  for (const [name, clientLib, serverLib] of PAIRS) {
    describe(`key log and exporter, ${name}, ${version}`, () => {
      const cleanup = useCleanup();

      // A connected pair, with every key log line each side emitted.
      async function connected() {
        const logs = { client: [], server: [] };
        const server = cleanup.server(serverLib.createServer({ ...certs.ecdsa, minVersion: version, maxVersion: version }));
        server.on('keylog', (line, socket) => {
          assert.ok(socket instanceof serverLib.TLSSocket);
          logs.server.push(line.toString());
        });
        const accepted = once(server, 'secureConnection');
        const port = await listen(server);
        const client = cleanup.socket(clientLib.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca }));
        client.on('keylog', (line) => logs.client.push(line.toString()));
        await once(client, 'secureConnect');
        const serverSocket = await accepted;
        return { client, serverSocket, logs };
      }

      it('logs the lines the node peer logs, the same set, enough to decrypt the connection', async () => {
        const { logs } = await connected();
        const mine = clientLib === ours ? logs.client : logs.server;
        const theirs = clientLib === ours ? logs.server : logs.client;
        for (const line of mine) assert.match(line, /^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+\n$/);
        assert.deepEqual(mine.map((line) => line.split(' ')[0]).sort(), LABELS[version]);
        assert.deepEqual([...mine].sort(), [...theirs].sort());
      });

      it('exports the same keying material as node, with and without a context', async () => {
        const { client, serverSocket } = await connected();
        const context = Buffer.from('context bytes');
        assert.deepEqual(client.exportKeyingMaterial(32, 'EXPERIMENTAL-mbedtls-stream', context),
          serverSocket.exportKeyingMaterial(32, 'EXPERIMENTAL-mbedtls-stream', context));
        assert.deepEqual(client.exportKeyingMaterial(48, 'EXPERIMENTAL-other'),
          serverSocket.exportKeyingMaterial(48, 'EXPERIMENTAL-other'));
      });
    });
  }
}

describe('exportKeyingMaterial() misuse', () => {
  const cleanup = useCleanup();

  it('throws coded errors for bad arguments and before the handshake, as node', async () => {
    const server = cleanup.server(tls.createServer(certs.ecdsa));
    const port = await listen(server);
    const client = cleanup.socket(ours.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca }));
    assert.throws(() => client.exportKeyingMaterial(32, 'label'), { code: 'ERR_TLS_INVALID_STATE' });
    await once(client, 'secureConnect');
    assert.throws(() => client.exportKeyingMaterial('32', 'label'), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => client.exportKeyingMaterial(32, 42), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => client.exportKeyingMaterial(32, 'label', 'ctx'), { code: 'ERR_INVALID_ARG_TYPE' });
  });
});
