'use strict';
// max_fragment_length (RFC 6066) against OpenSSL, which honours it: our server serves
// `openssl s_client -maxfraglen`, and our client's maxFragmentLength gets small records from
// `openssl s_server`. A TCP proxy between the peers reads every TLS record header, so the
// assertions are on the bytes on the wire.

const crypto = require('node:crypto');
const net = require('node:net');
const tls = require('node:tls');
const ours = require('..');
const {
  assert, certs, listen, once, useCleanup, startSServer, sServerCertArgs, startSClient,
} = require('./helpers');

// 20000 digits: more than one full-size record, and nothing s_server reads as a command.
const PAYLOAD = Buffer.from(Array.from({ length: 4000 }, (_, i) => String(i % 100000).padStart(5, '0')).join(''));
const HANDSHAKE = 22;
const APPLICATION_DATA = 23;

// A proxy to 127.0.0.1:targetPort that records the header of every record each way:
// records.toServer / records.toClient are [{ type, length, first }] (first: the first byte
// of the record's body, the handshake message type of a record in the clear).
async function recordProxy(track, targetPort) {
  const records = { toServer: [], toClient: [] };
  const parse = (list) => {
    let pending = Buffer.alloc(0);
    return (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 5 && pending.length >= 5 + pending.readUInt16BE(3)) {
        const length = pending.readUInt16BE(3);
        list.push({ type: pending[0], length, first: pending[5] });
        pending = pending.subarray(5 + length);
      }
    };
  };
  const proxy = track.server(net.createServer((downstream) => {
    const upstream = track.socket(net.connect(targetPort, '127.0.0.1'));
    const toServer = parse(records.toServer);
    const toClient = parse(records.toClient);
    downstream.on('data', (d) => { toServer(d); upstream.write(d); });
    upstream.on('data', (d) => { toClient(d); downstream.write(d); });
    downstream.on('end', () => upstream.end());
    upstream.on('end', () => downstream.end());
    downstream.on('error', () => upstream.destroy());
    upstream.on('error', () => downstream.destroy());
  }));
  return { port: await listen(proxy), records };
}

// Plaintext bytes a record of this cipher suite adds in TLS 1.2: AES-GCM an 8-byte explicit
// nonce and a 16-byte tag, ChaCha20-Poly1305 the tag only.
function expansion(standardName) {
  if (/_GCM_/.test(standardName)) return 24;
  if (/CHACHA20_POLY1305/.test(standardName)) return 16;
  throw new Error(`no expansion known for ${standardName}`);
}

// Bytes of DER in a PEM chain: a Certificate message carries a little more.
const derLength = (pem) => pem.toString().match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)
  .reduce((sum, block) => sum + new crypto.X509Certificate(block).raw.length, 0);

const longest = (list, type) => Math.max(0, ...list.filter((r) => r.type === type).map((r) => r.length));
const CLIENT_HELLO = 1;

describe('max_fragment_length', () => {
  const track = useCleanup();

  describe('our server with openssl s_client -maxfraglen', () => {
    it('TLS 1.2, 512: every record we send is 512 bytes or less, the handshake included', async () => {
      const server = track.server(ours.createServer(certs.ecdsa, (socket) => {
        socket.once('data', () => socket.end(PAYLOAD));
        socket.on('error', () => {});
      }));
      const accepted = new Promise((resolve, reject) => {
        server.once('secureConnection', resolve);
        server.once('tlsClientError', reject);
      });
      const proxy = await recordProxy(track, await listen(server));
      const { child, result } = startSClient(track, proxy.port, [
        '-tls1_2', '-maxfraglen', '512', '-servername', 'localhost', '-CAfile', certs.path('ca.pem'), '-ign_eof',
      ]);
      const socket = await accepted;
      const cipher = socket.getCipher().standardName;
      child.stdin.end('go\n');
      const { code, stdout } = await result;
      assert.equal(code, 0);
      assert.ok(stdout.includes(PAYLOAD), 's_client did not print the payload intact');
      const records = proxy.records.toClient;
      assert.ok(longest(records, HANDSHAKE) > 0);
      // Handshake records in the clear carry at most 512 bytes (the certificate chain is
      // longer, so it was cut); encrypted ones 512 plus the suite's expansion.
      assert.ok(derLength(certs.ecdsa.cert) > 512, 'the chain fits one record: nothing to test');
      const clear = records.slice(0, records.findIndex((r) => r.type === 20));
      assert.ok(clear.length >= 5, 'ServerHello, Certificate in two records or more, ..., ServerHelloDone');
      for (const record of clear) assert.ok(record.length <= 512, `a ${record.length}-byte record in the clear`);
      const limit = 512 + expansion(cipher);
      for (const record of records) assert.ok(record.length <= limit, `a ${record.length}-byte record`);
      // The payload took 40 records or more: it was cut to the limit, not sent whole.
      assert.ok(records.filter((r) => r.type === APPLICATION_DATA).length >= 40);
    });

    it('TLS 1.2 without -maxfraglen: the same server sends full-size records (the proxy sees them)', async () => {
      const server = track.server(ours.createServer(certs.ecdsa, (socket) => {
        socket.once('data', () => socket.end(PAYLOAD));
        socket.on('error', () => {});
      }));
      const proxy = await recordProxy(track, await listen(server));
      const { child, result } = startSClient(track, proxy.port, [
        '-tls1_2', '-servername', 'localhost', '-CAfile', certs.path('ca.pem'), '-ign_eof',
      ]);
      child.stdin.end('go\n');
      const { code, stdout } = await result;
      assert.equal(code, 0);
      assert.ok(stdout.includes(PAYLOAD));
      assert.ok(longest(proxy.records.toClient, HANDSHAKE) > 512);
      assert.ok(longest(proxy.records.toClient, APPLICATION_DATA) > 16384);
    });

    it('TLS 1.3: the request is declined (not echoed), and s_client takes full-size records', async () => {
      const server = track.server(ours.createServer(certs.ecdsa, (socket) => {
        socket.once('data', () => socket.end(PAYLOAD));
        socket.on('error', () => {});
      }));
      const accepted = once(server, 'secureConnection');
      const proxy = await recordProxy(track, await listen(server));
      const { child, result } = startSClient(track, proxy.port, [
        '-tls1_3', '-maxfraglen', '512', '-servername', 'localhost', '-CAfile', certs.path('ca.pem'), '-ign_eof',
      ]);
      assert.equal((await accepted).getProtocol(), 'TLSv1.3');
      child.stdin.end('go\n');
      const { code, stdout } = await result;
      assert.equal(code, 0);
      assert.ok(stdout.includes(PAYLOAD));
      assert.ok(longest(proxy.records.toClient, APPLICATION_DATA) > 16384);
    });
  });

  describe('our client with maxFragmentLength against openssl s_server', () => {
    // s_server sends PAYLOAD from its stdin once our client is connected through the proxy.
    // Resolves with what our client received; sServerPrinted(bytes) resolves once s_server
    // has printed `bytes` (what it received from our client).
    async function fetch(serverArgs, clientOptions) {
      const { child, port } = await startSServer(track, [...sServerCertArgs('ecdsa'), '-naccept', '1', ...serverArgs]);
      let output = Buffer.alloc(0);
      child.stdout.on('data', (d) => { output = Buffer.concat([output, d]); });
      const sServerPrinted = (bytes) => new Promise((resolve) => {
        const check = () => {
          if (!output.includes(bytes)) return;
          child.stdout.removeListener('data', check);
          resolve();
        };
        child.stdout.on('data', check);
        check();
      });
      const proxy = await recordProxy(track, port);
      const client = track.socket(ours.connect({
        port: proxy.port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, ...clientOptions,
      }));
      await once(client, 'secureConnect');
      const chunks = [];
      let length = 0;
      const received = new Promise((resolve, reject) => {
        client.on('data', (chunk) => {
          chunks.push(chunk);
          length += chunk.length;
          if (length >= PAYLOAD.length) resolve(Buffer.concat(chunks));
        });
        client.once('error', reject);
      });
      child.stdin.write(PAYLOAD);
      const data = await received;
      return { client, data, records: proxy.records, sServerPrinted };
    }

    it('512: the server sends records of 512 bytes or less, handshake included, and the data arrives intact', async () => {
      const { client, data, records, sServerPrinted } = await fetch(['-tls1_2'], { maxFragmentLength: 512 });
      assert.equal(client.getProtocol(), 'TLSv1.2');
      assert.deepEqual(data, PAYLOAD);
      const limit = 512 + expansion(client.getCipher().standardName);
      for (const record of records.toClient) assert.ok(record.length <= limit, `a ${record.length}-byte record`);
      assert.ok(records.toClient.filter((r) => r.type === APPLICATION_DATA).length >= 40);
      // And our own records: the request binds us too (the ClientHello aside). s_server, which
      // refuses a longer record, prints what it got.
      client.write(PAYLOAD);
      await sServerPrinted(PAYLOAD);
      for (const record of records.toServer.filter((r) => !(r.type === HANDSHAKE && r.first === CLIENT_HELLO))) {
        assert.ok(record.length <= limit, `we sent a ${record.length}-byte record`);
      }
    });

    it('512 with a client certificate: our certificate chain is cut to the limit too', async () => {
      const { client, data, records } = await fetch(
        ['-tls1_2', '-Verify', '2', '-CAfile', certs.path('ca.pem')],
        { maxFragmentLength: 512, ...certs.client },
      );
      assert.deepEqual(data, PAYLOAD);
      assert.ok(derLength(certs.client.cert) > 512, 'the chain fits one record: nothing to test');
      // Our records up to ChangeCipherSpec are in the clear: Certificate, ClientKeyExchange,
      // CertificateVerify, each 512 bytes at most.
      const mine = records.toServer.filter((r) => !(r.type === HANDSHAKE && r.first === CLIENT_HELLO));
      const clear = mine.slice(0, mine.findIndex((r) => r.type === 20));
      assert.ok(clear.length >= 4, `${clear.length} records: the certificate was not cut`);
      for (const record of mine) assert.ok(record.length <= 512, `we sent a ${record.length}-byte record`);
      const limit = 512 + expansion(client.getCipher().standardName);
      for (const record of records.toClient) assert.ok(record.length <= limit);
    });

    it('speaks TLS 1.2 with a server that would take TLS 1.3', async () => {
      const { client, data } = await fetch([], { maxFragmentLength: 2048 });
      assert.equal(client.getProtocol(), 'TLSv1.2');
      assert.deepEqual(data, PAYLOAD);
    });

    it('without it, the server sends full-size records', async () => {
      const { data, records } = await fetch(['-tls1_2'], {});
      assert.deepEqual(data, PAYLOAD);
      assert.ok(longest(records.toClient, APPLICATION_DATA) > 4096);
    });
  });

  describe('our client with our server', () => {
    it('4096, TLS 1.2: records both ways within the limit, data intact', async () => {
      const server = track.server(ours.createServer(certs.rsa, (socket) => socket.pipe(socket)));
      const proxy = await recordProxy(track, await listen(server));
      const client = track.socket(ours.connect({
        port: proxy.port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, maxFragmentLength: 4096,
      }));
      await once(client, 'secureConnect');
      const big = Buffer.concat([PAYLOAD, PAYLOAD, PAYLOAD]);
      const echoed = new Promise((resolve) => {
        const chunks = [];
        let length = 0;
        client.on('data', (c) => {
          chunks.push(c);
          length += c.length;
          if (length >= big.length) resolve(Buffer.concat(chunks));
        });
      });
      client.write(big);
      assert.deepEqual(await echoed, big);
      const limit = 4096 + expansion(client.getCipher().standardName);
      for (const list of [proxy.records.toClient, proxy.records.toServer]) {
        for (const record of list.filter((r) => !(r.type === HANDSHAKE && r.first === CLIENT_HELLO))) {
          assert.ok(record.length <= limit, `a ${record.length}-byte record`);
        }
      }
      assert.ok(longest(proxy.records.toClient, APPLICATION_DATA) > 4096);
    });
  });

  describe('our server with maxFragmentLength, node:tls as the client', () => {
    for (const version of ['TLSv1.2', 'TLSv1.3']) {
      it(`1024, ${version}: the server's records stay within 1024 bytes of data`, async () => {
        const server = track.server(ours.createServer({ ...certs.ecdsa, maxFragmentLength: 1024 },
          (socket) => socket.end(PAYLOAD)));
        const proxy = await recordProxy(track, await listen(server));
        const client = track.socket(tls.connect({
          port: proxy.port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca,
          minVersion: version, maxVersion: version,
        }));
        const chunks = [];
        client.on('data', (c) => chunks.push(c));
        await once(client, 'end');
        assert.deepEqual(Buffer.concat(chunks), PAYLOAD);
        // TLS 1.3 adds the content type, padding to 16 bytes (Mbed TLS's default) and the tag.
        const limit = 1024 + (version === 'TLSv1.3' ? 32 : expansion(client.getCipher().standardName));
        const data = proxy.records.toClient.filter((r) => r.type === APPLICATION_DATA);
        assert.ok(data.length >= 20);
        for (const record of data) assert.ok(record.length <= limit, `a ${record.length}-byte record`);
      });
    }
  });

  describe('the option', () => {
    it('takes 512, 1024, 2048 or 4096, as node checks numbers', () => {
      for (const value of [512, 1024, 2048, 4096, undefined, null]) {
        ours.createSecureContext({ maxFragmentLength: value });
      }
      for (const [value, code] of [[1000, 'ERR_OUT_OF_RANGE'], [16384, 'ERR_OUT_OF_RANGE'], [0, 'ERR_OUT_OF_RANGE'],
        ['512', 'ERR_INVALID_ARG_TYPE'], [true, 'ERR_INVALID_ARG_TYPE']]) {
        assert.throws(() => ours.createSecureContext({ maxFragmentLength: value }), { code });
        assert.throws(() => ours.connect({ port: 1, maxFragmentLength: value }), { code });
      }
      assert.throws(() => ours.connect({ port: 1, maxFragmentLength: 1000 }), {
        name: 'RangeError',
        message: 'The value of "options.maxFragmentLength" is out of range. It must be one of 512, 1024, 2048, 4096. Received 1000',
      });
    });

    it('cannot be combined with minVersion TLSv1.3', () => {
      assert.throws(() => ours.connect({ port: 1, maxFragmentLength: 512, minVersion: 'TLSv1.3' }),
        { code: 'ERR_TLS_PROTOCOL_VERSION_CONFLICT' });
    });
  });
});
