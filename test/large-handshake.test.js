'use strict';
// Handshake messages longer than one 16 KiB record (certs/large/): Certificate messages of
// about 45 KB (a leaf with 1,500 subjectAltNames), 80 KB (a certificate_list over 64 KiB) and
// 120 KB (over the 100 KiB bound), and a CertificateRequest of about 25 KB naming three CAs
// with long names. They are received and sent as node receives and sends them, up to
// OpenSSL's default max_cert_list of 100 KiB, in both roles and both versions
// (deps/patches/0007); a longer one received is refused as node refuses it,
// ERR_SSL_EXCESSIVE_MESSAGE_SIZE and illegal_parameter, and a chain that would make one is
// refused when the context is made.

const { X509Certificate } = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const tls = require('node:tls');
const ours = require('..');
const { assert, certs, listen, useCleanup, startSServer, startSClient } = require('./helpers');

const dir = certs.path('large');
const readLarge = (name) => fs.readFileSync(path.join(dir, name));
const key = readLarge('leaf.key');
const cert = readLarge('leaf-many-names.pem');
const cert80k = readLarge('leaf-80k.pem');
const cert120k = readLarge('leaf-120k.pem');
const ca = readLarge('root.pem');
const longNameCas = readLarge('ca-long-names.pem');

const HOST = '127.0.0.1';
const VERSIONS = ['TLSv1.2', 'TLSv1.3'];

// How a client connection ended: whether its handshake completed, the first error, and the
// protocol. Waits for 'close', so an error after 'secureConnect' (a TLS 1.3 client learns
// of its refusal after its Finished) is seen too.
function clientOutcome(socket) {
  return new Promise((resolve) => {
    const view = { secure: false };
    socket.once('secureConnect', () => {
      view.secure = true;
      view.protocol = socket.getProtocol();
      socket.end();
    });
    socket.on('error', (err) => { if (!('error' in view)) view.error = err.code; });
    socket.resume();
    socket.once('close', () => resolve(view));
  });
}

// How a server saw one client: its handshake completed with the client's certificate (the
// subject's CN), or its 'tlsClientError' code.
function serverOutcome(server) {
  return new Promise((resolve) => {
    server.once('secureConnection', (socket) => {
      const peer = socket.getPeerCertificate();
      resolve({ secure: true, authorized: socket.authorized, peer: peer && peer.subject && peer.subject.CN });
    });
    server.once('tlsClientError', (err) => resolve({ secure: false, error: err.code }));
  });
}

describe('handshake messages longer than one record', function () {
  const track = useCleanup();

  // Node's client and ours, each against its own node server made by serverOptions.
  async function clientViews(serverOptions, clientOptions) {
    const views = [];
    for (const impl of [tls, ours]) {
      const server = track.server(tls.createServer(serverOptions, (s) => s.end()));
      server.on('tlsClientError', () => {});
      const port = await listen(server);
      views.push(await clientOutcome(track.socket(impl.connect({ port, host: HOST, servername: 'localhost', ...clientOptions }))));
    }
    return views;
  }

  // Our server and node's, each with node's client made by clientOptions.
  async function serverViews(serverOptions, clientOptions) {
    const views = [];
    for (const impl of [tls, ours]) {
      const server = track.server(impl.createServer(serverOptions, (s) => s.end()));
      const port = await listen(server);
      const seen = serverOutcome(server);
      const client = await clientOutcome(track.socket(tls.connect({ port, host: HOST, servername: 'localhost', ...clientOptions })));
      views.push({ server: await seen, client });
    }
    return views;
  }

  it('createSecureContext refuses a chain whose Certificate message would be over 100 KiB', function () {
    assert.throws(() => ours.createSecureContext({ key, cert: cert120k }), { code: 'ERR_MBEDTLS_CHAIN_TOO_LONG' });
  });

  it('a server refuses it at createServer, not on every handshake', function () {
    assert.throws(() => ours.createServer({ key, cert: cert120k }), { code: 'ERR_MBEDTLS_CHAIN_TOO_LONG' });
  });

  it('a client refuses it as its own certificate at connect', function () {
    assert.throws(() => ours.connect({ port: 1, host: HOST, key, cert: cert120k, ca }),
      { code: 'ERR_MBEDTLS_CHAIN_TOO_LONG' });
  });

  it('chains of 45 KB and 80 KB are taken, as a short one', function () {
    assert.ok(ours.createSecureContext(certs.ecdsa));
    assert.ok(ours.createSecureContext({ key, cert }));
    assert.ok(ours.createSecureContext({ key, cert: cert80k }));
  });

  for (const version of VERSIONS) {
    const pinned = { minVersion: version, maxVersion: version };

    // Mbed TLS 3.6.6 reassembled a handshake message in its 16 KiB input buffer and failed a
    // longer one with -0x7100 (Mbed-TLS/mbedtls#10906); deps/patches/0007 grows the buffer.
    it(`our client receives a ${version} Certificate message of 45 KB from node's server, as node's client`, async function () {
      const views = await clientViews({ key, cert, ...pinned }, { ca });
      assert.deepEqual(views[1], views[0]);
      assert.deepEqual(views[1], { secure: true, protocol: version });
    });

    // Mbed TLS's certificate parsers took lists and certificates under 64 KiB only.
    it(`our client receives a ${version} Certificate message of 80 KB (a list over 64 KiB), as node's client`, async function () {
      const views = await clientViews({ key, cert: cert80k, ...pinned }, { ca });
      assert.deepEqual(views[1], views[0]);
      assert.deepEqual(views[1], { secure: true, protocol: version });
    });

    it(`our client refuses a ${version} Certificate message over 100 KiB as node's client does`, async function () {
      const views = await clientViews({ key, cert: cert120k, ...pinned }, { ca });
      assert.deepEqual(views[1], views[0]);
      assert.deepEqual(views[1], { secure: false, error: 'ERR_SSL_EXCESSIVE_MESSAGE_SIZE' });
    });

    it(`our client receives a ${version} CertificateRequest of 25 KB naming three CAs, as node's client`, async function () {
      const views = await clientViews({ ...certs.ecdsa, ...pinned, requestCert: true, rejectUnauthorized: false,
        ca: [longNameCas, certs.ca] }, { ca: certs.ca });
      assert.deepEqual(views[1], views[0]);
      assert.deepEqual(views[1], { secure: true, protocol: version });
    });

    // (The 80 KB one makes node's TLS 1.2 server fail with internal_error: the session ticket
    // it makes holds the client's certificate and cannot be that long. The parser our server
    // uses is the one our client's 80 KB tests exercise.)
    it(`our server receives a ${version} client Certificate of 45 KB from node's client, as node's server`, async function () {
      const views = await serverViews({ ...certs.ecdsa, ...pinned, requestCert: true, ca },
        { ca: certs.ca, key, cert });
      assert.deepEqual(views[1], views[0]);
      assert.deepEqual(views[1].server, { secure: true, authorized: true, peer: 'localhost' });
    });

    // Mbed TLS 3.6.6 built each handshake message whole in its 16 KiB output buffer and could
    // not send a longer one (Mbed-TLS/mbedtls#10863); deps/patches/0007 grows the buffer.
    for (const [size, chain] of [['45 KB', cert], ['80 KB', cert80k]]) {
      it(`our server sends a ${version} Certificate message of ${size} to node's client, as node's server`, async function () {
        const views = await serverViews({ key, cert: chain, ...pinned }, { ca });
        assert.deepEqual(views[1], views[0]);
        assert.deepEqual(views[1], { server: { secure: true, authorized: false, peer: undefined },
          client: { secure: true, protocol: version } });
      });
    }

    it(`our client sends a ${version} client Certificate of 45 KB to node's server, as node's client`, async function () {
      const views = [];
      for (const impl of [tls, ours]) {
        const server = track.server(tls.createServer({ ...certs.ecdsa, ...pinned, requestCert: true, ca }, (s) => s.end()));
        const port = await listen(server);
        const seen = serverOutcome(server);
        const client = await clientOutcome(track.socket(impl.connect({ port, host: HOST, servername: 'localhost',
          ca: certs.ca, key, cert })));
        views.push({ server: await seen, client });
      }
      assert.deepEqual(views[1], views[0]);
      assert.deepEqual(views[1].server, { secure: true, authorized: true, peer: 'localhost' });
    });

    it(`our server refuses a ${version} client Certificate over 100 KiB as node's server does`, async function () {
      const views = await serverViews({ ...certs.ecdsa, ...pinned, requestCert: true, ca },
        { ca: certs.ca, key, cert: cert120k });
      assert.deepEqual(views[1], views[0]);
      assert.deepEqual(views[1].server, { secure: false, error: 'ERR_SSL_EXCESSIVE_MESSAGE_SIZE' });
    });
  }

  for (const [version, flag] of [['TLSv1.2', '-tls1_2'], ['TLSv1.3', '-tls1_3']]) {
    it(`our client takes openssl s_server's ${version} Certificate message of 80 KB`, async function () {
      const { port } = await startSServer(track, ['-cert', path.join(dir, 'leaf-80k.pem'),
        '-key', path.join(dir, 'leaf.key'), flag, '-naccept', '1']);
      const socket = track.socket(ours.connect({ port, host: HOST, servername: 'localhost', ca }));
      const view = await new Promise((resolve) => {
        socket.once('secureConnect', () => resolve({ protocol: socket.getProtocol(), authorized: socket.authorized,
          fingerprint: socket.getPeerCertificate().fingerprint256 }));
        socket.once('error', (err) => resolve({ error: err.code }));
      });
      socket.destroy();
      const expected = new X509Certificate(cert80k).fingerprint256;
      assert.deepEqual(view, { protocol: version, authorized: true, fingerprint: expected });
    });

    it(`openssl s_client verifies our server's ${version} Certificate message of 80 KB`, async function () {
      const server = track.server(ours.createServer({ key, cert: cert80k }, (s) => s.end()));
      const port = await listen(server);
      const { child, result } = startSClient(track, port, ['-CAfile', path.join(dir, 'root.pem'),
        '-servername', 'localhost', flag, '-verify_return_error', '-brief']);
      child.stdin.end();
      const { code, stderr } = await result;
      assert.equal(code, 0, stderr);
      assert.match(stderr, new RegExp(`Protocol version: ${version}`));
      assert.match(stderr, /Verification: OK/);
    });
  }

  it('our client holds no more memory after a 25 KB CertificateRequest than after a short one', async function () {
    // The input buffer grows for the long message and shrinks back once it is read.
    const idle = [];
    for (const cas of [[certs.ca], [longNameCas, certs.ca]]) {
      const server = track.server(tls.createServer({ ...certs.ecdsa, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2',
        requestCert: true, rejectUnauthorized: false, ca: cas }));
      const port = await listen(server);
      const socket = track.socket(ours.connect({ port, host: HOST, servername: 'localhost', ca: certs.ca }));
      await new Promise((resolve, reject) => { socket.once('secureConnect', resolve); socket.once('error', reject); });
      idle.push(socket.memoryUsage());
      socket.destroy();
    }
    assert.ok(idle[1].peak > idle[0].peak + 16384, `the long message was buffered: ${JSON.stringify(idle)}`);
    assert.ok(idle[1].current < idle[0].current + 4096, `idle memory is back: ${JSON.stringify(idle)}`);
  });

  describe('from a raw TLS 1.2 server', function () {
    // A server that answers any ClientHello with a ServerHello (ECDHE-ECDSA-AES128-GCM-SHA256,
    // renegotiation_info), then with `records`, all in the clear; it records the alerts the
    // client sends back.
    async function rawServer(records) {
      const server = track.server(net.createServer((socket) => {
        let received = Buffer.alloc(0);
        server.closed = new Promise((resolve) => socket.once('close', () => {
          server.alerts.push(...alertsIn(received));
          resolve();
        }));
        socket.on('error', () => {});
        socket.once('data', () => {
          const hello = Buffer.concat([Buffer.from([0x03, 0x03]), Buffer.alloc(32, 0x5A), Buffer.from([0x00, 0xC0, 0x2B, 0x00,
            0x00, 0x05, 0xFF, 0x01, 0x00, 0x01, 0x00])]);
          socket.write(Buffer.concat([record(handshake(0x02, hello)), ...records]));
          socket.on('data', (chunk) => { received = Buffer.concat([received, chunk]); });
        });
      }));
      server.alerts = [];
      return { server, port: await listen(server) };
    }

    const handshake = (type, body, announced = body.length) => {
      const header = Buffer.alloc(4);
      header[0] = type;
      header.writeUIntBE(announced, 1, 3);
      return Buffer.concat([header, body]);
    };
    const record = (body, type = 0x16) => {
      const header = Buffer.from([type, 0x03, 0x03, 0, 0]);
      header.writeUInt16BE(body.length, 3);
      return Buffer.concat([header, body]);
    };
    // The descriptions of the alert records in what a client sent after its ClientHello.
    function alertsIn(bytes) {
      const alerts = [];
      for (let at = 0; at + 5 <= bytes.length; at += 5 + bytes.readUInt16BE(at + 3)) {
        if (bytes[at] === 0x15 && at + 7 <= bytes.length) alerts.push(bytes[at + 6]);
      }
      return alerts;
    }

    async function views(records) {
      const seen = [];
      for (const impl of [tls, ours]) {
        const { server, port } = await rawServer(records);
        const socket = track.socket(impl.connect({ port, host: HOST, servername: 'localhost', ca: certs.ca }));
        const view = await clientOutcome(socket);
        await server.closed;
        seen.push({ ...view, alerts: server.alerts, memory: impl === ours ? socket.memoryUsage() : undefined });
      }
      return seen;
    }

    it('a Certificate announced over 100 KiB is refused at its header, before it is buffered', async function () {
      // 16 KiB of a message announced at 192 KiB; the client stops before the rest would come.
      const first = handshake(0x0B, Buffer.alloc(16380, 0x30), 192 * 1024);
      const [node, mine] = await views([record(first)]);
      assert.deepEqual(node.alerts, [47]);
      assert.deepEqual({ ...mine, memory: undefined }, node);
      assert.equal(mine.error, 'ERR_SSL_EXCESSIVE_MESSAGE_SIZE');
      assert.ok(mine.memory.peak < 100 * 1024, `no room made for the message: ${JSON.stringify(mine.memory)}`);
    });

    it('records in the middle of a long message stay bounded: a 20,000-byte one is record_overflow', async function () {
      const first = handshake(0x0B, Buffer.alloc(16380, 0x30), 40000);
      const [node, mine] = await views([record(first), record(Buffer.alloc(20000, 0x31))]);
      assert.deepEqual({ ...mine, memory: undefined }, node);
      assert.deepEqual(mine.alerts, [22]);
      assert.equal(mine.error, 'ERR_SSL_PACKET_LENGTH_TOO_LONG');
    });
  });
});
