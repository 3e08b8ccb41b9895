'use strict';
// Mbed TLS defects and limits that make conforming peers fail, each against a real peer
// with node:tls as the oracle: a TLS 1.3 HelloRetryRequest carrying a cookie
// (deps/patches/0003), the TLS 1.3 server's alerts after its Finished (deps/patches/0004
// and 0005), certificate chains longer than Mbed TLS's default of 8 intermediates, and
// Mbed TLS failures that node names, named as node names them.

const events = require('node:events');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const tls = require('node:tls');
const ours = require('..');
const {
  assert, certs, listen, once, readUntil, useCleanup, startSServer, sServerCertArgs,
  startSClient,
} = require('./helpers');

const EXT_COOKIE = 44;
const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

// The extensions of a ClientHello or ServerHello/HelloRetryRequest record (the message
// first in its record, as hellos are), as a Map of type -> data.
function helloExtensions(record) {
  const body = record.subarray(9);
  let at = 34; // legacy_version, random
  at += 1 + body[at]; // session id
  if (record[5] === 1) {
    at += 2 + body.readUInt16BE(at); // cipher suites
    at += 1 + body[at]; // compression methods
  } else {
    at += 3; // cipher suite, compression method
  }
  const end = at + 2 + body.readUInt16BE(at);
  at += 2;
  const extensions = new Map();
  while (at + 4 <= end) {
    const type = body.readUInt16BE(at);
    const len = body.readUInt16BE(at + 2);
    extensions.set(type, body.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return extensions;
}

// A TCP relay on 127.0.0.1 to `port` that logs the hellos and alerts of both directions
// ({ from, hello: 'ClientHello' | 'ServerHello' | 'HelloRetryRequest', extensions } or
// { from, alert }). With dropClientChangeCipherSpec it drops the client's compatibility-mode
// ChangeCipherSpec records, which TLS 1.3 leaves out of the transcript. `closed` resolves
// once the client's connection to the relay has closed, everything it sent logged.
async function startRelay(track, port, { dropClientChangeCipherSpec = false } = {}) {
  const log = [];
  let downClosed;
  const closed = new Promise((resolve) => { downClosed = resolve; });
  const server = track.server(net.createServer((down) => {
    down.once('close', downClosed);
    const up = track.socket(net.connect(port, '127.0.0.1'));
    const records = (from, onRecord) => {
      let pending = Buffer.alloc(0);
      return (data) => {
        pending = Buffer.concat([pending, data]);
        while (pending.length >= 5 && pending.length >= 5 + pending.readUInt16BE(3)) {
          const record = pending.subarray(0, 5 + pending.readUInt16BE(3));
          pending = pending.subarray(record.length);
          if (record[0] === 21 && record.length === 7) log.push({ from, alert: record[6] });
          if (record[0] === 22 && (record[5] === 1 || record[5] === 2)) {
            const hello = record[5] === 1 ? 'ClientHello'
              : record.subarray(11, 43).equals(HRR_RANDOM) ? 'HelloRetryRequest' : 'ServerHello';
            log.push({ from, hello, extensions: helloExtensions(record) });
          }
          onRecord(record);
        }
      };
    };
    down.on('data', records('client', (record) => {
      if (!(dropClientChangeCipherSpec && record[0] === 20)) up.write(record);
    }));
    up.on('data', records('server', (record) => down.write(record)));
    down.on('end', () => up.end());
    up.on('end', () => down.end());
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
  }));
  return { port: await listen(server), log, closed };
}

// The relay log in short: "client:ClientHello+cookie", "server:alert(40)", ...
const wire = (log) => log.map((e) => (e.hello
  ? `${e.from}:${e.hello}${e.extensions.has(EXT_COOKIE) ? '+cookie' : ''}`
  : `${e.from}:alert(${e.alert})`));

// How a client connection ended: { secure, protocol, authorized } or { error: code }.
function outcome(socket) {
  return new Promise((resolve) => {
    socket.once('secureConnect', () => {
      resolve({ secure: true, protocol: socket.getProtocol(), authorized: socket.authorized });
    });
    socket.once('error', (err) => resolve({ error: err.code }));
  });
}

describe('Mbed TLS limits and defects real peers meet', function () {
  const track = useCleanup();

  describe('a TLS 1.3 HelloRetryRequest with a cookie (openssl s_server -stateless)', function () {
    // s_server -stateless answers every first ClientHello with a HelloRetryRequest
    // carrying a cookie (SSL_stateless()).
    // (Not with -rev, whose loop skips the stateless retry.)
    async function statelessServer(relayOptions) {
      const { child, port } = await startSServer(track, [
        ...sServerCertArgs('ecdsa'), '-tls1_3', '-stateless', '-naccept', '1',
      ]);
      return { ...await startRelay(track, port, relayOptions), sServer: child };
    }

    it('our client echoes the cookie in its second ClientHello and completes the handshake', async function () {
      // OpenSSL 3.0's stateless server fails on the ChangeCipherSpec a compatibility-mode
      // client sends before its second ClientHello (node's client as ours): the relay
      // drops it, so the handshake can complete.
      const relay = await statelessServer({ dropClientChangeCipherSpec: true });
      const client = track.socket(ours.connect({
        port: relay.port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca,
      }));
      assert.deepEqual(await outcome(client), { secure: true, protocol: 'TLSv1.3', authorized: true });
      // s_server prints what it reads and sends what it is given on stdin.
      const printed = readUntil(relay.sServer.stdout, 'from our client\n');
      client.write('from our client\n');
      await printed;
      const received = readUntil(client, 'from s_server\n');
      relay.sServer.stdin.write('from s_server\n');
      await received;

      assert.deepEqual(wire(relay.log), [
        'client:ClientHello', 'server:HelloRetryRequest+cookie', 'client:ClientHello+cookie', 'server:ServerHello',
      ]);
      const [, retry, second] = relay.log;
      assert.ok(retry.extensions.get(EXT_COOKIE).length > 2);
      assert.deepEqual(second.extensions.get(EXT_COOKIE), retry.extensions.get(EXT_COOKIE));
    });

    it('our client says on the wire what node:tls says, and fails as it does', async function () {
      // Without the relay's help, s_server ends the connection after the second ClientHello.
      const results = [];
      for (const impl of [tls, ours]) {
        const relay = await statelessServer();
        const client = track.socket(impl.connect({
          port: relay.port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca,
        }));
        const result = await outcome(client);
        await relay.closed;
        results.push({ ...result, wire: wire(relay.log) });
      }
      const [theirs, mine] = results;
      assert.deepEqual(theirs.wire, ['client:ClientHello', 'server:HelloRetryRequest+cookie', 'client:ClientHello+cookie']);
      assert.deepEqual(mine, theirs);
    });
  });

  describe("the TLS 1.3 server's alert refusing a client after its Finished", function () {
    // A node:tls (or our) client against a node:tls (or our) server that requires a client
    // certificate; the client sends `clientCert` (none when undefined). Resolves with the
    // client's error code (undefined when it had none) and the server's tlsClientError code.
    async function refusal(serverImpl, clientImpl, maxVersion, clientCert) {
      const server = track.server(serverImpl.createServer({
        ...certs.ecdsa, ca: certs.ca, requestCert: true, rejectUnauthorized: true,
      }, (socket) => socket.end('hello\n')));
      const serverError = new Promise((resolve) => server.once('tlsClientError', (err) => resolve(err.code)));
      const port = await listen(server);
      const client = track.socket(clientImpl.connect({
        port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, maxVersion, ...clientCert,
      }));
      let clientError;
      client.on('error', (err) => { clientError = err.code; });
      client.resume();
      await new Promise((resolve) => client.once('close', resolve));
      return { client: clientError, server: await serverError };
    }

    it('a client without the required certificate reads certificate_required, as from node:tls', async function () {
      const theirs = await refusal(tls, tls, 'TLSv1.3');
      assert.equal(theirs.client, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
      const mine = await refusal(ours, tls, 'TLSv1.3');
      assert.equal(mine.server, 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
      assert.equal(mine.client, theirs.client);
    });

    it('our own client reads it too, as from node:tls', async function () {
      const theirs = await refusal(tls, ours, 'TLSv1.3');
      const mine = await refusal(ours, ours, 'TLSv1.3');
      assert.equal(theirs.client, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
      assert.equal(mine.client, theirs.client);
    });

    it('a client with a certificate from an unknown CA reads unknown_ca, in TLS 1.3 as in TLS 1.2', async function () {
      // node's server finishes the handshake and then drops such a client (README,
      // "Certificate verification"); ours refuses it inside the handshake, with an alert.
      const otherClient = { key: certs.otherClient.key, cert: certs.otherClient.cert };
      const tls12 = await refusal(ours, tls, 'TLSv1.2', otherClient);
      const tls13 = await refusal(ours, tls, 'TLSv1.3', otherClient);
      assert.equal(tls12.client, 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA');
      assert.deepEqual(tls13, tls12);
    });

    it('openssl s_client reads the alert', async function () {
      const server = track.server(ours.createServer({
        ...certs.ecdsa, ca: certs.ca, requestCert: true, rejectUnauthorized: true,
      }));
      server.on('tlsClientError', () => {});
      const port = await listen(server);
      const { child, result } = startSClient(track, port, ['-CAfile', certs.path('ca.pem'), '-tls1_3']);
      child.stdin.write('hello\n');
      const { stderr } = await result;
      assert.match(stderr, /tlsv13 alert certificate required/);
      assert.doesNotMatch(stderr, /bad record mac/);
    });
  });

  describe('certificate chains longer than 8 intermediates', function () {
    const dir = certs.path('long-chain');
    const root = fs.readFileSync(path.join(dir, 'root.pem'));
    const leafKey = fs.readFileSync(path.join(dir, 'leaf.key'));
    const chain = (n) => fs.readFileSync(path.join(dir, `chain-${n}.pem`));

    // Follows getPeerCertificate(true)'s issuerCertificate links; returns the subjects'
    // common names, leaf first.
    function linked(socket) {
      const names = [];
      const seen = new Set();
      for (let cert = socket.getPeerCertificate(true); cert && cert.subject && !seen.has(cert.fingerprint256);
        cert = cert.issuerCertificate) {
        seen.add(cert.fingerprint256);
        names.push(cert.subject.CN);
      }
      return names;
    }

    // A client of `impl` against a node:tls server sending the leaf and n intermediates.
    async function clientView(impl, n, options = {}) {
      const server = track.server(tls.createServer({ key: leafKey, cert: chain(n) }, (s) => s.end()));
      const port = await listen(server);
      const client = track.socket(impl.connect({
        port, host: '127.0.0.1', servername: 'localhost', ca: root, ...options,
      }));
      const result = await outcome(client);
      if (result.secure) result.linked = linked(client);
      return result;
    }

    for (const n of [8, 9, 12, 24]) {
      it(`our client verifies a server's chain of ${n} intermediates and links all ${n + 2} certificates, as node:tls`, async function () {
        const theirs = await clientView(tls, n);
        const mine = await clientView(ours, n);
        assert.equal(mine.linked.length, n + 2);
        assert.deepEqual(mine, theirs);
      });
    }

    it('our client reports a chain of 12 intermediates it does not trust with rejectUnauthorized: false, as node:tls', async function () {
      const theirs = await clientView(tls, 12, { ca: certs.ca, rejectUnauthorized: false });
      const mine = await clientView(ours, 12, { ca: certs.ca, rejectUnauthorized: false });
      assert.equal(mine.secure, true);
      assert.equal(mine.authorized, false);
      assert.deepEqual(mine, theirs);
    });

    for (const n of [9, 24]) {
      it(`our server verifies a client's chain of ${n} intermediates and links all ${n + 2} certificates`, async function () {
        const server = track.server(ours.createServer({ ...certs.ecdsa, ca: root, requestCert: true }));
        const result = new Promise((resolve) => {
          server.once('secureConnection', (socket) => resolve({ authorized: socket.authorized, linked: linked(socket).length }));
          server.once('tlsClientError', (err) => resolve({ error: err.code }));
        });
        const port = await listen(server);
        const client = track.socket(tls.connect({
          port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, key: leafKey, cert: chain(n),
        }));
        client.on('error', () => {});
        assert.deepEqual(await result, { authorized: true, linked: n + 2 });
      });
    }

    for (const maxVersion of ['TLSv1.2', 'TLSv1.3']) {
      it(`a session resumed over ${maxVersion} reports the whole chain of 12 intermediates again`, async function () {
        const server = track.server(tls.createServer({ key: leafKey, cert: chain(12), maxVersion }, (s) => s.end('x')));
        const port = await listen(server);
        const options = { port, host: '127.0.0.1', servername: 'localhost', ca: root, maxVersion };
        const first = track.socket(ours.connect(options));
        const saved = once(first, 'session');
        first.resume();
        const session = await saved;
        const firstChain = linked(first);
        await once(first, 'close');
        const second = track.socket(ours.connect({ ...options, session }));
        await once(second, 'secureConnect');
        assert.equal(second.isSessionReused(), true);
        assert.equal(second.authorized, true);
        assert.equal(firstChain.length, 14);
        assert.deepEqual(linked(second), firstChain);
      });
    }
  });
  describe('Mbed TLS failures named as node:tls names them', function () {
    // The code of a server's tlsClientError, for a node:tls client (with clientOptions) or
    // raw bytes sent to it.
    async function serverError(impl, serverOptions, peer) {
      const server = track.server(impl.createServer({ ...certs.ecdsa, ...serverOptions }));
      const failed = new Promise((resolve) => server.once('tlsClientError', (err) => resolve(err.code)));
      const port = await listen(server);
      const client = Buffer.isBuffer(peer)
        ? track.socket(net.connect(port, '127.0.0.1', () => client.write(peer)))
        : track.socket(tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, ...peer }));
      client.on('error', () => {});
      client.resume();
      return failed;
    }

    // The code of a client's error against a server listening on `port`.
    async function clientError(impl, port, options = {}) {
      const client = track.socket(impl.connect({
        port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, ...options,
      }));
      client.resume();
      const [err] = await events.once(client, 'error');
      return err.code;
    }

    it('a plain HTTP request to our server is ERR_SSL_HTTP_REQUEST, a proxy request ERR_SSL_HTTPS_PROXY_REQUEST', async function () {
      for (const [request, code] of [
        ['GET / HTTP/1.1\r\nHost: localhost\r\n\r\n', 'ERR_SSL_HTTP_REQUEST'],
        ['POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n', 'ERR_SSL_HTTP_REQUEST'],
        ['CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n', 'ERR_SSL_HTTPS_PROXY_REQUEST'],
      ]) {
        const theirs = await serverError(tls, {}, Buffer.from(request));
        assert.equal(theirs, code);
        assert.equal(await serverError(ours, {}, Buffer.from(request)), theirs);
      }
    });

    it('bytes that are not TLS to our server are ERR_SSL_WRONG_VERSION_NUMBER', async function () {
      for (const bytes of [Buffer.alloc(64, 0), Buffer.from('SSH-2.0-OpenSSH_9.2\r\n')]) {
        const theirs = await serverError(tls, {}, bytes);
        assert.equal(theirs, 'ERR_SSL_WRONG_VERSION_NUMBER');
        assert.equal(await serverError(ours, {}, bytes), theirs);
      }
    });

    it('an HTTP answer to our client is ERR_SSL_WRONG_VERSION_NUMBER', async function () {
      const server = track.server(net.createServer((socket) => {
        socket.on('error', () => {});
        socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
      }));
      const port = await listen(server);
      const theirs = await clientError(tls, port);
      assert.equal(theirs, 'ERR_SSL_WRONG_VERSION_NUMBER');
      assert.equal(await clientError(ours, port), theirs);
    });

    it('a client below our server\'s minVersion is ERR_SSL_UNSUPPORTED_PROTOCOL', async function () {
      const theirs = await serverError(tls, { minVersion: 'TLSv1.3' }, { maxVersion: 'TLSv1.2' });
      assert.equal(theirs, 'ERR_SSL_UNSUPPORTED_PROTOCOL');
      assert.equal(await serverError(ours, { minVersion: 'TLSv1.3' }, { maxVersion: 'TLSv1.2' }), theirs);
    });

    // The protected record of 'hello': TLS 1.2 AES-GCM adds an explicit nonce and a tag,
    // TLS 1.2 ChaCha20-Poly1305 a tag, TLS 1.3 the content type and a tag.
    const HELLO_RECORD_LENGTHS = [5 + 8 + 16, 5 + 16, 5 + 1 + 16];

    // A node:tls server sending 'hello', the record tampered with on the way.
    async function tamperedServer(serverOptions) {
      const server = track.server(tls.createServer({ ...certs.ecdsa, ...serverOptions }, (socket) => {
        socket.on('error', () => {});
        socket.write('hello');
      }));
      const port = await listen(server);
      const relay = track.server(net.createServer((down) => {
        const up = track.socket(net.connect(port, '127.0.0.1'));
        let pending = Buffer.alloc(0);
        let tampered = false;
        up.on('data', (data) => {
          pending = Buffer.concat([pending, data]);
          while (pending.length >= 5 && pending.length >= 5 + pending.readUInt16BE(3)) {
            const record = Buffer.from(pending.subarray(0, 5 + pending.readUInt16BE(3)));
            pending = pending.subarray(record.length);
            if (record[0] === 23 && HELLO_RECORD_LENGTHS.includes(record.length - 5) && !tampered) {
              record[record.length - 1] ^= 1;
              tampered = true;
            }
            down.write(record);
          }
        });
        down.on('data', (data) => up.write(data));
        down.on('error', () => up.destroy());
        up.on('error', () => down.destroy());
      }));
      return listen(relay);
    }

    for (const [label, serverOptions] of [
      ['TLS 1.3', { maxVersion: 'TLSv1.3' }],
      ['TLS 1.2, AES-GCM', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }],
      ['TLS 1.2, ChaCha20-Poly1305', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305' }],
    ]) {
      it(`a record that fails authentication (${label}) has node's code`, async function () {
        const theirs = await clientError(tls, await tamperedServer(serverOptions));
        assert.match(theirs, /^ERR_SSL_(DECRYPTION_FAILED_OR_BAD_RECORD_MAC|CIPHER_OPERATION_FAILED)$/);
        assert.equal(await clientError(ours, await tamperedServer(serverOptions)), theirs);
      });
    }
  });
});
