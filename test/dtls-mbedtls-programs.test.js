'use strict';
// DTLS 1.2 with Mbed TLS's own ssl_server2 and ssl_client2 (dtls=1), built from the fetched
// tree with Mbed TLS's default configuration (which has RFC 9146 Connection IDs) by
// scripts/build-mbedtls-programs.sh: the CID peer. Both ways, the CIDs negotiated are the ones
// each side chose (our getConnectionId() and what the programs print), records flow, and the
// records after the handshake carry the CID on the wire (content type tls12_cid, seen through
// the test's UDP proxy).

const path = require('node:path');
const { execFile } = require('node:child_process');
const dtls = require('../dtls');
const {
  assert, certs, once, useCleanup, run, startPeerServer,
} = require('./helpers');
const { UdpProxy } = require('./dtls/udp-proxy');

const ROOT = path.join(__dirname, '..');
const TLS12_CID = 25;
const APPLICATION_DATA = 23;

// "(initial handshake) Peer CID (length 4 Bytes): c1 d2 e3 f4 " as a Buffer; null if the
// program printed that no CID was negotiated.
function printedPeerCid(output) {
  const match = /\(initial handshake\) Peer CID \(length (\d+) Bytes\): ([0-9a-f ]*)/.exec(output);
  if (!match) return null;
  const cid = Buffer.from(match[2].replace(/ /g, ''), 'hex');
  assert.equal(cid.length, Number(match[1]));
  return cid;
}

describe('DTLS: Mbed TLS ssl_server2 and ssl_client2 with Connection IDs', function () {
  const track = useCleanup();
  const proxies = [];
  afterEach(async () => {
    for (const proxy of proxies.splice(0)) await proxy.close();
  });
  let programs;

  before(function (done) {
    // Builds the two programs on the first run (minutes on a slow machine), then a no-op.
    this.timeout(20 * 60 * 1000);
    execFile('bash', [path.join(ROOT, 'scripts', 'build-mbedtls-programs.sh')], { maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err) return done(new Error(`build-mbedtls-programs.sh failed:\n${stderr}`));
        programs = stdout.trim();
        return done();
      });
  });

  // A proxy forwarding everything, to see the records on the wire.
  async function watch(port) {
    const proxy = new UdpProxy({ port });
    proxies.push(proxy);
    return { proxy, port: await proxy.listen() };
  }
  // The content types of the records after the handshake (the first after the last handshake
  // record each way), in one direction.
  const typesAfterHandshake = (proxy, direction) => {
    const log = proxy.log.filter((e) => e.direction === direction);
    return log.filter((e) => e.type === APPLICATION_DATA || e.type === TLS12_CID).map((e) => e.type);
  };

  describe('our client with ssl_server2 dtls=1 cid=1', function () {
    // ssl_server2 over UDP on 127.0.0.1, a port of its choosing; it answers one request with
    // "HTTP/1.0 200 OK ... Successful connection using: SUITE" and closes the session.
    function startSslServer2(args) {
      return startPeerServer(track, path.join(programs, 'ssl_server2'), [
        'dtls=1', 'server_addr=127.0.0.1', 'server_port=0',
        `crt_file=${certs.path('server-ecdsa-chain.pem')}`, `key_file=${certs.path('server-ecdsa.key')}`,
        `ca_file=${certs.path('ca.pem')}`, 'auth_mode=none', ...args,
      ], { ready: /Waiting for a remote connection/, protocol: 'udp' });
    }

    // connectionId: true asks for none of our own (an empty CID: ssl_server2's records to us
    // stay plain application_data); a Buffer is the CID ssl_server2 must put in them.
    for (const [what, connectionId, own] of [
      ['connectionId: true', true, Buffer.alloc(0)],
      ['connectionId: Buffer', Buffer.from('0a0b0c0d0e', 'hex'), Buffer.from('0a0b0c0d0e', 'hex')],
    ]) {
      it(`negotiates CIDs with ${what}: our records carry ssl_server2's CID, its records ours`, async function () {
        const server = await startSslServer2(['cid=1', 'cid_val=c1d2e3f4']);
        const { proxy, port } = await watch(server.port);
        const socket = track.socket(dtls.connect({
          host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca, connectionId,
        }));
        await once(socket, 'secureConnect');
        const ids = socket.getConnectionId();
        assert.deepEqual(ids.peer, Buffer.from('c1d2e3f4', 'hex'));
        assert.deepEqual(ids.own, own);
        const answer = once(socket, 'message');
        socket.send('GET / HTTP/1.0\r\n\r\n');
        const reply = (await answer).toString();
        assert.match(reply, /^HTTP\/1\.0 200 OK/);
        assert.match(reply, new RegExp(`Successful connection using: ${socket.getCipher().standardName.replace(/_/g, '-')}`));
        await once(socket, 'close');
        const { stdout } = await server.stop();
        // ssl_server2 puts our CID in the records it sends us.
        assert.deepEqual(printedPeerCid(stdout), own);
        assert.deepEqual(typesAfterHandshake(proxy, 'toServer'), [TLS12_CID]);
        const toUs = typesAfterHandshake(proxy, 'toClient');
        assert.ok(toUs.length >= 1);
        assert.deepEqual(new Set(toUs), new Set([own.length > 0 ? TLS12_CID : APPLICATION_DATA]));
      });
    }

    it('uses no CID when ssl_server2 has cid=0', async function () {
      const server = await startSslServer2(['cid=0']);
      const { proxy, port } = await watch(server.port);
      const socket = track.socket(dtls.connect({
        host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca, connectionId: true,
      }));
      await once(socket, 'secureConnect');
      assert.equal(socket.getConnectionId(), null);
      const answer = once(socket, 'message');
      socket.send('GET / HTTP/1.0\r\n\r\n');
      assert.match((await answer).toString(), /^HTTP\/1\.0 200 OK/);
      await once(socket, 'close');
      await server.stop();
      assert.deepEqual(typesAfterHandshake(proxy, 'toServer'), [APPLICATION_DATA]);
    });

    it('offers a CID with PSK too (psk, psk_identity)', async function () {
      const key = '00112233445566778899aabbccddeeff';
      const server = await startSslServer2(['cid=1', 'cid_val=77', `psk=${key}`, 'psk_identity=sensor-17',
        'force_ciphersuite=TLS-PSK-WITH-AES-128-CCM-8']);
      const socket = track.socket(dtls.connect({
        host: '127.0.0.1', port: server.port, connectionId: true,
        pskCallback: () => ({ psk: Buffer.from(key, 'hex'), identity: 'sensor-17' }),
      }));
      await once(socket, 'secureConnect');
      assert.equal(socket.getCipher().standardName, 'TLS_PSK_WITH_AES_128_CCM_8');
      assert.deepEqual(socket.getConnectionId().peer, Buffer.from('77', 'hex'));
      const answer = once(socket, 'message');
      socket.send('GET / HTTP/1.0\r\n\r\n');
      assert.match((await answer).toString(), /Successful connection using: TLS-PSK-WITH-AES-128-CCM-8/);
    });
  });

  describe('ssl_client2 dtls=1 cid=1 with our server', function () {
    // ssl_client2 against 127.0.0.1:port: one request, our one-record reply, exit.
    async function sslClient2(port, args) {
      const { result } = run(path.join(programs, 'ssl_client2'), [
        'dtls=1', 'server_addr=127.0.0.1', `server_port=${port}`, 'server_name=localhost',
        `ca_file=${certs.path('ca.pem')}`, 'crt_file=none', 'key_file=none', ...args,
      ], { track });
      const exit = await result;
      return { ...exit, stdout: exit.stdout.toString() };
    }

    // Our server answering each session's first record, then closing it; resolves with
    // { port, proxy, sessions } (the port is the proxy's, to see the records).
    async function replyingServer(options) {
      const sessions = [];
      const server = track.server(dtls.createServer(options, (socket) => {
        const session = { connectionId: socket.getConnectionId(), request: null };
        sessions.push(session);
        socket.once('message', (message) => {
          session.request = message.toString();
          socket.send('HTTP/1.0 200 OK\r\n\r\nhello from mbedtls-stream\r\n', () => socket.close());
        });
      }));
      await once(server.listen(0, '127.0.0.1'), 'listening');
      const { proxy, port } = await watch(server.address().port);
      return { port, proxy, sessions, server };
    }

    it('hands ssl_client2 the CID it chose and puts ssl_client2\'s in its records', async function () {
      const { port, proxy, sessions } = await replyingServer({ ...certs.ecdsa, connectionId: 6 });
      const result = await sslClient2(port, ['cid=1', 'cid_val=abcdef01']);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.equal(sessions.length, 1);
      const ids = sessions[0].connectionId;
      assert.deepEqual(ids.peer, Buffer.from('abcdef01', 'hex'));
      assert.equal(ids.own.length, 6);
      assert.deepEqual(printedPeerCid(result.stdout), ids.own);
      assert.match(sessions[0].request, /^GET \/ HTTP\/1\.0/);
      assert.match(result.stdout, /hello from mbedtls-stream/);
      assert.deepEqual(typesAfterHandshake(proxy, 'toServer').slice(0, 1), [TLS12_CID]);
      assert.ok(typesAfterHandshake(proxy, 'toServer').every((type) => type === TLS12_CID));
      assert.ok(typesAfterHandshake(proxy, 'toClient').length >= 1);
      assert.ok(typesAfterHandshake(proxy, 'toClient').every((type) => type === TLS12_CID));
    });

    it('a server without connectionId negotiates none with ssl_client2 cid=1', async function () {
      const { port, proxy, sessions } = await replyingServer(certs.ecdsa);
      const result = await sslClient2(port, ['cid=1', 'cid_val=abcdef01']);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.equal(sessions[0].connectionId, null);
      assert.equal(printedPeerCid(result.stdout), null);
      assert.match(result.stdout, /\(initial handshake\) Use of Connection ID was rejected by the server\./);
      assert.match(result.stdout, /hello from mbedtls-stream/);
      assert.deepEqual(typesAfterHandshake(proxy, 'toServer').slice(0, 1), [APPLICATION_DATA]);
    });

    it('serves ssl_client2 with CID and PSK (TLS-PSK-WITH-AES-128-CCM-8)', async function () {
      const key = '00112233445566778899aabbccddeeff';
      const { port, sessions } = await replyingServer({
        connectionId: 4,
        pskCallback: (socket, identity) => (identity === 'sensor-17' ? Buffer.from(key, 'hex') : null),
      });
      const result = await sslClient2(port, ['cid=1', 'cid_val=01', `psk=${key}`, 'psk_identity=sensor-17',
        'force_ciphersuite=TLS-PSK-WITH-AES-128-CCM-8']);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.deepEqual(sessions[0].connectionId.peer, Buffer.from('01', 'hex'));
      assert.deepEqual(printedPeerCid(result.stdout), sessions[0].connectionId.own);
      assert.match(result.stdout, /hello from mbedtls-stream/);
    });
  });
});
