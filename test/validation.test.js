'use strict';
// Arguments and options checked as node checks them, with node:tls as the oracle: the same
// codes (and, for node's own errors, the same messages), null/false/'' meaning unset where
// node takes them so, DataViews wherever node takes binary data, OpenSSL's meaning of the
// cipher keywords, and where a failed connection says it was connecting.

const { EventEmitter } = require('node:events');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const os = require('node:os');
const tls = require('node:tls');
const ours = require('..');
const ciphers = require('../lib/ciphers');
const {
  assert, certs, listen, once, collect, handshakeOutcome, assertThrowsLikeNode, useCleanup,
} = require('./helpers');

const serverCert = certs.ecdsa.cert.toString().split(/(?<=-----END CERTIFICATE-----\n)/)[0];
const dataView = (buffer) => new DataView(Uint8Array.from(buffer).buffer);

// What `fn` throws (or null).
function thrown(fn) {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return null;
}

// For node's own errors (argument checks, not OpenSSL's): the same class, code and message.
function assertSameError(mine, theirs, what) {
  const expected = thrown(theirs);
  assert.ok(expected, `node refuses ${what}`);
  const actual = thrown(mine);
  assert.ok(actual, `we refuse ${what}`);
  assert.deepEqual({ name: actual.name, code: actual.code, message: actual.message },
    { name: expected.name, code: expected.code, message: expected.message }, what);
}

describe('createSecureContext() options, checked as node checks them', function () {
  // Options whose error node words itself: ours must be the same error.
  const NODE_ERRORS = [
    { ciphers: 1 },
    { ciphers: ':' },
    { ciphers: '::' },
    { sessionTimeout: 'abcd' },
    { sessionTimeout: false },
    { sessionTimeout: -1 },
    { sessionTimeout: 1.5 },
    { sessionTimeout: NaN },
    { sessionTimeout: 2 ** 31 },
    { ticketKeys: 'x'.repeat(48) },
    { ticketKeys: false },
    { ticketKeys: new DataView(new ArrayBuffer(47)) },
    { key: 'dummykey', passphrase: 1 },
    { key: certs.ecdsaEncrypted.key, passphrase: Buffer.from('mbedtls-stream') },
    { key: [{ pem: certs.ecdsaEncrypted.key, passphrase: true }] },
    { key: true },
    { key: { pem: certs.ecdsa.key } },
    { key: [certs.ecdsa.key, true], cert: serverCert },
    { key: [null] },
    { cert: {} },
    { cert: [false] },
    { ca: [certs.ca, true] },
    { ca: 1 },
    { crl: false },
    { crl: [1] },
    { ecdhCurve: 1 },
    { ecdhCurve: null },
    { sigalgs: 1 },
    { sigalgs: '' },
    { dhparam: 1 },
    { clientCertEngine: 1 },
    { privateKeyIdentifier: 'id' },
    { secureOptions: 'x' },
    { sessionIdContext: 1 },
    { minVersion: 1 },
    { minVersion: '' },
    { maxVersion: false },
  ];
  for (const options of NODE_ERRORS) {
    const what = require('node:util').inspect(options, { depth: 1, breakLength: Infinity, maxStringLength: 20 });
    it(`refuses ${what} with node's error`, function () {
      assertSameError(() => ours.createSecureContext(options), () => tls.createSecureContext(options), what);
    });
  }

  it('refuses a non-object options argument as node does', function () {
    for (const options of [1, 'x', true]) {
      assertSameError(() => ours.createSecureContext(options), () => tls.createSecureContext(options), String(options));
    }
  });

  it('refuses bad cipher names with ERR_SSL_NO_CIPHER_MATCH and the words of it, as node', function () {
    // Names are case-sensitive in OpenSSL: 'aes256-sha' names nothing.
    for (const name of ['aes256-sha', 'FOOBARBAZ', 'TLS_not_a_cipher', 'high']) {
      assertThrowsLikeNode(() => ours.createSecureContext({ ciphers: name }),
        () => tls.createSecureContext({ ciphers: name }), name);
      assert.match(thrown(() => ours.createSecureContext({ ciphers: name })).message, /no cipher match/i);
    }
  });

  it('says "bad decrypt" for a wrong or missing passphrase, as node\'s ERR_OSSL_BAD_DECRYPT', function () {
    for (const options of [{ ...certs.ecdsaEncrypted, passphrase: 'wrong' },
      { key: certs.ecdsaEncrypted.key, cert: certs.ecdsaEncrypted.cert },
      { key: [{ pem: certs.ecdsaEncrypted.key, passphrase: 'wrong' }], cert: certs.ecdsaEncrypted.cert }]) {
      assertThrowsLikeNode(() => ours.createSecureContext(options), () => tls.createSecureContext(options), 'passphrase');
      assert.match(thrown(() => ours.createSecureContext(options)).message, /bad decrypt/);
    }
  });

  it('takes null, false, \'\' and 0 as no key, cert or ca, and null as no other option, as node', function () {
    for (const value of [null, false, '', 0, undefined]) {
      const options = { key: value, cert: value, ca: value };
      tls.createSecureContext(options);
      ours.createSecureContext(options);
    }
    const unset = {
      ciphers: null, clientCertEngine: null, crl: null, dhparam: null, passphrase: null, pfx: null,
      privateKeyIdentifier: null, privateKeyEngine: null, sessionIdContext: null, sessionTimeout: null,
      sigalgs: null, ticketKeys: null, minVersion: null, maxVersion: null, secureOptions: 0,
    };
    tls.createSecureContext(unset);
    ours.createSecureContext(unset);
    // '' is the default cipher list, as node's.
    tls.createSecureContext({ ciphers: '' });
    ours.createSecureContext({ ciphers: '' });
    tls.createSecureContext(null);
    ours.createSecureContext(null);
    // node's default ecdhCurve.
    ours.createSecureContext({ ecdhCurve: tls.DEFAULT_ECDH_CURVE });
  });

  describe('a falsy ca is none: the default roots', function () {
    const cleanup = useCleanup();

    it('which do not know the test CA, as node\'s', async function () {
      const server = cleanup.server(ours.createServer(certs.ecdsa));
      const port = await listen(server);
      for (const ca of ['', false, null]) {
        const options = { port, host: '127.0.0.1', servername: 'localhost', ca };
        const mine = await handshakeOutcome(cleanup.socket(ours.connect(options)));
        const theirs = await handshakeOutcome(cleanup.socket(tls.connect(options)));
        assert.equal(theirs.secure, false);
        assert.equal(mine.secure, false);
        assert.equal(mine.error.code, theirs.error.code, `ca: ${JSON.stringify(ca)}`);
      }
    });
  });

  it('takes a key without a certificate as node does, and refuses a bad one with node\'s code', function () {
    tls.createSecureContext({ key: certs.ecdsa.key, cert: false });
    ours.createSecureContext({ key: certs.ecdsa.key, cert: false });
    ours.createServer({ key: [certs.ecdsa.key, certs.rsa.key] });
    for (const options of [{ key: 'garbage' }, { key: certs.ecdsaEncrypted.key }, { key: certs.ecdsaEncrypted.key, passphrase: 'x' }]) {
      assertThrowsLikeNode(() => ours.createSecureContext(options), () => tls.createSecureContext(options),
        `${options.key.slice(0, 10)} without a certificate`);
    }
  });

  it('refuses what createServer() refuses as node does', function () {
    const cases = [
      { ciphers: 1 },
      { handshakeTimeout: 'abcd' },
      { SNICallback: 42 },
      { pskCallback: 'x' },
      { pskIdentityHint: 1 },
      { ticketKeys: Buffer.alloc(0) },
      { ecdhCurve: 1 },
    ];
    for (const options of cases) {
      assertSameError(() => ours.createServer(options), () => tls.createServer(options), JSON.stringify(options));
    }
  });

  it('takes falsy callbacks and handshakeTimeout in createServer() as unset, as node', function () {
    for (const value of [null, false, 0, undefined]) {
      const options = { ...certs.ecdsa, SNICallback: value, ALPNCallback: value, pskCallback: value, handshakeTimeout: value };
      tls.createServer(options);
      ours.createServer(options);
    }
  });
});

describe('node\'s ERR_TLS_INVALID_CONTEXT', function () {
  it('for a secureContext that is not one, wherever node checks it', function () {
    for (const value of [{}, 1]) {
      assertSameError(() => ours.connect({ port: 1, secureContext: value }),
        () => tls.connect({ port: 1, secureContext: value }), 'connect');
      assertSameError(() => new ours.TLSSocket(new net.Socket(), { secureContext: value }),
        () => new tls.TLSSocket(new net.Socket(), { secureContext: value }), 'new TLSSocket');
    }
    assertSameError(() => ours.createSecurePair({}), () => tls.createSecurePair({}), 'createSecurePair');
  });
});

describe('new TLSSocket() arguments', function () {
  it('refuses an SNICallback that is not a function on a server socket, as node', function () {
    for (const SNICallback of ['fhqwhgads', 42, {}, []]) {
      assertSameError(() => new ours.TLSSocket(new net.Socket(), { isServer: true, SNICallback }),
        () => new tls.TLSSocket(new net.Socket(), { isServer: true, SNICallback }), String(SNICallback));
    }
  });

  it('refuses a transport that is not a stream with a TypeError, as node (ours is coded)', function () {
    for (const socket of [new EventEmitter(), {}, 42]) {
      assert.throws(() => new tls.TLSSocket(socket), TypeError);
      assert.throws(() => new ours.TLSSocket(socket), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    }
  });
});

describe('socket methods, checked as node checks them', function () {
  const cleanup = useCleanup();

  // A connected pair: node's client to our server and our client to node's server, so the
  // same calls can be made on our socket and on node's.
  async function connectedSockets() {
    const ourServer = cleanup.server(ours.createServer(certs.ecdsa, (s) => s.resume()));
    const nodeServer = cleanup.server(tls.createServer(certs.ecdsa, (s) => s.resume()));
    const options = { host: '127.0.0.1', servername: 'localhost', ca: certs.ca };
    const mine = cleanup.socket(ours.connect({ ...options, port: await listen(nodeServer) }));
    const theirs = cleanup.socket(tls.connect({ ...options, port: await listen(ourServer) }));
    await Promise.all([once(mine, 'secureConnect'), once(theirs, 'secureConnect')]);
    return { mine, theirs };
  }

  it('setMaxSendFragment() and exportKeyingMaterial(): node\'s type and range errors', async function () {
    const { mine, theirs } = await connectedSockets();
    for (const size of [undefined, null, '', {}, false, [], NaN, Infinity, 2 ** 31, -(2 ** 31) - 1, 1.5, Symbol('x')]) {
      assertSameError(() => mine.setMaxSendFragment(size), () => theirs.setMaxSendFragment(size), String(size));
    }
    for (const args of [[-3, 'a'], [0, 'a'], [1.5, 'a'], [2 ** 32, 'a'], ['length', 'a'], [10, null],
      [128, 'label', 'context'], [128, 'label', 1234]]) {
      assertSameError(() => mine.exportKeyingMaterial(...args), () => theirs.exportKeyingMaterial(...args),
        JSON.stringify(args));
    }
  });

  it('exportKeyingMaterial() takes a DataView context, as node', async function () {
    const { mine } = await connectedSockets();
    const context = Buffer.from('some context');
    assert.deepEqual(mine.exportKeyingMaterial(32, 'EXPERIMENTAL-x', dataView(context)),
      mine.exportKeyingMaterial(32, 'EXPERIMENTAL-x', context));
  });

  it('setMaxSendFragment(768) on our server keeps every record node\'s client reads within 768 bytes', async function () {
    // node's client emits one 'data' chunk per record, so its chunks measure our records.
    const server = cleanup.server(ours.createServer(certs.ecdsa, (socket) => {
      assert.equal(socket.setMaxSendFragment(511), false);
      assert.equal(socket.setMaxSendFragment(16385), false);
      assert.equal(socket.setMaxSendFragment(768), true);
      socket.end(Buffer.alloc(10000, 1));
    }));
    const client = cleanup.socket(tls.connect({ port: await listen(server), host: '127.0.0.1', servername: 'localhost', ca: certs.ca }));
    const sizes = [];
    client.on('data', (chunk) => sizes.push(chunk.length));
    await once(client, 'end');
    assert.equal(sizes.reduce((a, b) => a + b, 0), 10000);
    assert.ok(Math.max(...sizes) <= 768, `records of ${Math.max(...sizes)} bytes`);
  });

  it('setTicketKeys() refuses what node refuses and takes a DataView', function () {
    const server = ours.createServer(certs.ecdsa);
    const nodeServer = tls.createServer(certs.ecdsa);
    for (const keys of [null, undefined, 0, 1n, {}, [], true, '', () => {}, new Uint8Array(1), new DataView(new ArrayBuffer(2))]) {
      assertThrowsLikeNode(() => server.setTicketKeys(keys), () => nodeServer.setTicketKeys(keys), String(keys));
    }
    const keys = Buffer.alloc(48, 7);
    server.setTicketKeys(dataView(keys));
    assert.deepEqual(server.getTicketKeys(), keys);
  });
});

describe('DataViews wherever node takes binary data', function () {
  const cleanup = useCleanup();

  it('key, cert and ca as DataViews, on both ends', async function () {
    const server = cleanup.server(ours.createServer({ key: dataView(certs.ecdsa.key), cert: dataView(certs.ecdsa.cert) }));
    const port = await listen(server);
    const outcome = await handshakeOutcome(cleanup.socket(ours.connect({
      port, host: '127.0.0.1', servername: 'localhost', ca: dataView(certs.ca),
    })));
    assert.equal(outcome.secure, true, outcome.error && outcome.error.stack);
    assert.equal(outcome.authorized, true);
  });

  it('ticketKeys and a saved session as DataViews: the session resumes', async function () {
    const server = cleanup.server(ours.createServer({ ...certs.ecdsa, ticketKeys: dataView(Buffer.alloc(48, 3)) },
      (socket) => socket.end('hi')));
    const port = await listen(server);
    const options = { port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, maxVersion: 'TLSv1.2' };
    const first = cleanup.socket(ours.connect(options));
    const session = await once(first, 'session');
    await collect(first);
    const second = cleanup.socket(ours.connect({ ...options, session: dataView(session) }));
    await once(second, 'secureConnect');
    assert.equal(second.isSessionReused(), true);
    assert.deepEqual(server.getTicketKeys(), Buffer.alloc(48, 3));
  });

  it('a PSK as a DataView, and keys up to node\'s 512 bytes, against node\'s server', async function () {
    for (const [version, cipherList] of [['TLSv1.2', 'PSK-AES128-GCM-SHA256'], ['TLSv1.3', undefined]]) {
      for (const length of [16, 512]) {
        const key = Buffer.alloc(length, 9);
        const server = cleanup.server(tls.createServer({
          ciphers: cipherList, minVersion: version, maxVersion: version, pskCallback: () => key,
        }, (socket) => socket.end('psk')));
        const client = cleanup.socket(ours.connect({
          port: await listen(server), host: '127.0.0.1', ciphers: cipherList, maxVersion: version,
          pskCallback: () => ({ psk: dataView(key), identity: 'me' }),
        }));
        assert.equal((await collect(client)).toString(), 'psk', `${version}, ${length} bytes`);
      }
    }
  });
});

describe('cipher keywords as OpenSSL means them', function () {
  it('each keyword selects the suites `openssl ciphers -psk` selects, among this build\'s', function () {
    const ours12 = new Set(ciphers.allSuites().filter((s) => s.version === 'TLSv1.2').map((s) => s.name));
    for (const keyword of ['ALL', 'DEFAULT', 'HIGH', 'ECDHE', 'EECDH', 'AESGCM', 'CHACHA20', 'ECDSA',
      'aECDSA', 'aRSA', 'PSK', 'PSK+HIGH', 'HIGH:!PSK', 'ECDHE+HIGH']) {
      // (@SECLEVEL=0: the meaning of the keyword, not Debian's security level policy.)
      const theirs = execFileSync('openssl', ['ciphers', '-psk', '-tls1_2', '-s', `${keyword}:@SECLEVEL=0`]).toString()
        .trim().split(':').filter((name) => ours12.has(name));
      const mine = ciphers.parseCipherList(keyword).map((id) => ciphers.byId(id).name);
      assert.deepEqual(new Set(mine), new Set(theirs), keyword);
    }
  });

  const cleanup = useCleanup();

  it('\'PSK+HIGH\' selects the PSK suites: a PSK handshake with node\'s server', async function () {
    const key = Buffer.alloc(32, 5);
    const server = cleanup.server(tls.createServer({ ciphers: 'PSK+HIGH', maxVersion: 'TLSv1.2', pskCallback: () => key },
      (socket) => socket.end('ok')));
    const client = cleanup.socket(ours.connect({
      port: await listen(server), host: '127.0.0.1', ciphers: 'PSK+HIGH', pskCallback: () => ({ psk: key, identity: 'x' }),
    }));
    await once(client, 'secureConnect');
    assert.match(client.getCipher().name, /^(ECDHE-)?PSK-/);
    assert.equal((await collect(client)).toString(), 'ok');
  });

  it('a cipher list naming no TLS 1.3 suite leaves TLS 1.3 its default suites when only TLS 1.3 is allowed', async function () {
    const server = cleanup.server(tls.createServer(certs.ecdsa, (socket) => socket.end()));
    const options = {
      port: await listen(server), host: '127.0.0.1', servername: 'localhost', ca: certs.ca,
      ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256', minVersion: 'TLSv1.3',
    };
    // Read at 'secureConnect': the server's end() may close either socket before the other
    // is connected.
    const negotiated = (socket) => new Promise((resolve, reject) => {
      socket.once('secureConnect', () => resolve([socket.getProtocol(), socket.getCipher().standardName]));
      socket.once('error', reject);
    });
    const [mine, theirs] = await Promise.all([negotiated(cleanup.socket(ours.connect(options))),
      negotiated(cleanup.socket(tls.connect(options)))]);
    assert.equal(mine[0], 'TLSv1.3');
    assert.equal(mine[1], theirs[1]);
  });
});

describe('a connection reset before the handshake says where it was connecting, as node', function () {
  const cleanup = useCleanup();
  const FIELDS = ['code', 'message', 'host', 'port', 'path', 'localAddress'];
  const fields = (err) => Object.fromEntries(FIELDS.map((name) => [name, err[name]]));

  async function bothErrors(...args) {
    const mine = await handshakeOutcome(cleanup.socket(ours.connect(...args)));
    const theirs = await handshakeOutcome(cleanup.socket(tls.connect(...args)));
    assert.equal(theirs.error.code, 'ECONNRESET');
    assert.deepEqual(fields(mine.error), fields(theirs.error));
  }

  it('host and port; localAddress; a pipe\'s path', async function () {
    const server = cleanup.server(net.createServer((socket) => socket.end()));
    const port = await listen(server);
    await bothErrors(port, '127.0.0.1');
    await bothErrors({ port, family: 4, localAddress: '127.0.0.1' });
    const pipe = path.join(os.tmpdir(), `mbedtls-stream-validation-${process.pid}.sock`);
    fs.rmSync(pipe, { force: true });
    const pipeServer = cleanup.server(net.createServer((socket) => socket.end()));
    await new Promise((resolve) => pipeServer.listen(pipe, resolve));
    await bothErrors({ path: pipe });
  });
});

describe('error wording as node\'s', function () {
  const cleanup = useCleanup();

  // A server whose SNICallback gives `result`; resolves with the 'tlsClientError' error and
  // the socket's servername then.
  async function sniFailure(lib, result) {
    const server = cleanup.server(lib.createServer({
      ...certs.ecdsa,
      SNICallback: (name, callback) => (result instanceof Error ? callback(result) : callback(null, result)),
    }));
    const reported = new Promise((resolve) => {
      server.once('tlsClientError', (err, socket) => resolve({ name: err.name, message: err.message, servername: socket.servername }));
    });
    const client = cleanup.socket(tls.connect({ port: await listen(server), host: '127.0.0.1', servername: 'sni.test', rejectUnauthorized: false }));
    client.on('error', () => {});
    return reported;
  }

  it('an SNICallback giving something else than a context: TypeError \'Invalid SNI context\', with the name asked for', async function () {
    const mine = await sniFailure(ours, {});
    assert.deepEqual(mine, await sniFailure(tls, {}));
  });

  it('an error passed to the SNICallback\'s callback keeps its message', async function () {
    const mine = await sniFailure(ours, new Error('no context for this name'));
    const theirs = await sniFailure(tls, new Error('no context for this name'));
    assert.deepEqual({ message: mine.message, servername: mine.servername },
      { message: theirs.message, servername: theirs.servername });
  });
});
