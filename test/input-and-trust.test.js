'use strict';
// Bad input fails synchronously with a stable code, node's where node has one; and the
// trust store: node's roots by default, NODE_EXTRA_CA_CERTS, `ca` replacing them, in every
// form node accepts.

const crypto = require('node:crypto');
const path = require('node:path');
const tls = require('node:tls');
const { promisify } = require('node:util');
const execFile = promisify(require('node:child_process').execFile);
const ours = require('..');
const { assert, certs, listen, handshakeOutcome, useCleanup, run } = require('./helpers');

const serverCert = certs.ecdsa.cert.toString().split(/(?<=-----END CERTIFICATE-----\n)/)[0];
const dsaKey = crypto.generateKeyPairSync('dsa', { modulusLength: 1024 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' });

const badCertificateBlock = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';

// [what, options]: node's code for each is the expected one.
const LIKE_NODE = [
  ['an undecodable PEM key', { key: '-----BEGIN PRIVATE KEY-----\nnot base64!!\n-----END PRIVATE KEY-----\n', cert: serverCert }],
  ['a key that is not PEM', { key: 'garbage', cert: serverCert }],
  ['a wrong passphrase', { ...certs.ecdsaEncrypted, passphrase: 'wrong' }],
  ['a missing passphrase', { key: certs.ecdsaEncrypted.key, cert: certs.ecdsaEncrypted.cert }],
  ['a key that does not match its certificate', { key: certs.otherServer.key, cert: serverCert }],
  ['a certificate that is not PEM', { key: certs.ecdsa.key, cert: 'garbage' }],
  ['a ca of the wrong type', { ca: 42 }],
  ['a key of the wrong type', { key: 42, cert: serverCert }],
  ['a passphrase of the wrong type', { ...certs.ecdsa, passphrase: 42 }],
  ['ciphers of the wrong type', { ciphers: 42 }],
  ['an unknown minVersion', { minVersion: 'TLSv9' }],
];

// Where node accepts what Mbed TLS (or this library) refuses, on purpose.
const STRICTER = [
  ['a ca whose certificate block does not decode (node ignores it)', { ca: badCertificateBlock }, 'ERR_MBEDTLS_X509_INVALID_FORMAT'],
  ['a ca that is DER but not a certificate (node ignores it)', { ca: Buffer.from([0x30, 0x03, 1, 2, 3]) }, 'ERR_MBEDTLS_X509_INVALID_FORMAT'],
  ['a DSA key (Mbed TLS has no DSA)', { key: dsaKey, cert: serverCert }, 'ERR_MBEDTLS_PK_UNKNOWN_PK_ALG'],
  ['TLS 1.1 (not in Mbed TLS 3.6)', { minVersion: 'TLSv1.1' }, 'ERR_TLS_INVALID_PROTOCOL_VERSION'],
  ['an option Mbed TLS cannot honour', { pfx: Buffer.alloc(10) }, 'ERR_MBEDTLS_UNSUPPORTED_OPTION'],
];

function codeOf(fn) {
  try {
    fn();
  } catch (err) {
    return err.code;
  }
  return 'no error';
}

describe('bad input to createSecureContext()', () => {
  for (const [what, options] of LIKE_NODE) {
    it(`fails on ${what} with node's code`, () => {
      const expected = codeOf(() => tls.createSecureContext(options));
      assert.notEqual(expected, 'no error');
      assert.equal(codeOf(() => ours.createSecureContext(options)), expected);
    });
  }
  for (const [what, options, code] of STRICTER) {
    it(`fails on ${what} with ${code}`, () => {
      assert.equal(codeOf(() => ours.createSecureContext(options)), code);
    });
  }

  it('reports the Mbed TLS code alongside node\'s', () => {
    let error;
    try {
      ours.createSecureContext({ ...certs.ecdsaEncrypted, passphrase: 'wrong' });
    } catch (err) {
      error = err;
    }
    assert.ok(error instanceof ours.MbedtlsError);
    assert.equal(error.mbedtlsHex, '-0x3B80');
    assert.match(error.mbedtlsText, /password/);
  });

  it('fails in createServer() and connect() before any I/O', () => {
    assert.equal(codeOf(() => ours.createServer({ key: 'garbage', cert: serverCert })), 'ERR_OSSL_UNSUPPORTED');
    assert.equal(codeOf(() => ours.connect({ port: 1, ca: badCertificateBlock })), 'ERR_MBEDTLS_X509_INVALID_FORMAT');
    assert.equal(codeOf(() => ours.connect({ port: 1, servername: 42 })), 'ERR_INVALID_ARG_TYPE');
  });
});

describe('trust store', () => {
  const cleanup = useCleanup();
  let port;

  beforeEach(async () => {
    port = await listen(cleanup.server(tls.createServer(certs.ecdsa, (s) => s.end())));
  });

  const outcome = async (lib, options) => {
    const r = await handshakeOutcome(lib.connect({ port, host: '127.0.0.1', servername: 'localhost', ...options }));
    return r.secure ? 'ok' : r.error.code;
  };

  it('is node\'s bundled roots by default, which do not know the test CA', async () => {
    const expected = await outcome(tls, {});
    assert.equal(expected, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
    assert.equal(await outcome(ours, {}), expected);
  });

  const ca = certs.ca.toString();
  const forms = [
    ['a string', ca],
    ['a Buffer', certs.ca],
    ['an array', [certs.otherCa, ca]],
    ['several PEM blocks in one string', certs.otherCa.toString() + ca],
    ['DER', new crypto.X509Certificate(certs.ca).raw],
  ];
  for (const [what, value] of forms) {
    it(`takes ca as ${what}, replacing the default roots`, async () => {
      assert.equal(await outcome(ours, { ca: value }), 'ok');
    });
  }

  // OpenSSL reads certificates under three PEM labels (PEM_read_bio_X509_AUX).
  for (const label of ['TRUSTED CERTIFICATE', 'X509 CERTIFICATE']) {
    it(`takes ca under the PEM label ${label}, as node`, async () => {
      const value = ca.replace(/CERTIFICATE/g, label);
      assert.equal(await outcome(tls, { ca: value }), 'ok');
      assert.equal(await outcome(ours, { ca: value }), 'ok');
    });
  }

  // node ignores a ca that holds no certificate: the client then trusts nothing.
  for (const [what, value] of [['empty', ''], ['text', 'garbage'], ['a private key', certs.ecdsa.key]]) {
    it(`takes a ca that holds no certificate (${what}) as node: it trusts nothing`, async () => {
      const expected = await outcome(tls, { ca: value });
      assert.equal(expected, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
      assert.equal(await outcome(ours, { ca: value }), expected);
      // Beside a real CA it changes nothing.
      assert.equal(await outcome(ours, { ca: [value, ca] }), 'ok');
    });
  }

  it('refuses a TRUSTED CERTIFICATE that restricts its purposes (Mbed TLS cannot honour them)', async () => {
    const { stdout, code, stderr } = await run('openssl',
      ['x509', '-addtrust', 'serverAuth', '-trustout'], { input: certs.ca }).result;
    assert.equal(code, 0, stderr);
    assert.match(stdout.toString(), /-----BEGIN TRUSTED CERTIFICATE-----/);
    assert.equal(codeOf(() => ours.createSecureContext({ ca: stdout })), 'ERR_MBEDTLS_X509_FEATURE_UNAVAILABLE');
  });

  it('adds NODE_EXTRA_CA_CERTS to the default roots', async () => {
    const script = `
      const ours = require('.');
      const s = ours.connect({ port: ${port}, host: '127.0.0.1', servername: 'localhost' }, () => {
        console.log(s.authorized); s.destroy();
      });
      s.on('error', (e) => { console.log(e.code); });`;
    // (Asynchronously: the server the child connects to runs in this process.)
    const run = async (env) => (await execFile(process.execPath, ['-e', script], {
      cwd: path.join(__dirname, '..'), env: { ...process.env, ...env }, timeout: 20000,
    })).stdout.trim();
    assert.equal(await run({ NODE_EXTRA_CA_CERTS: certs.path('ca.pem') }), 'true');
    assert.equal(await run({ NODE_EXTRA_CA_CERTS: '' }), 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
  });
});

describe('the default trust store', () => {
  it('is parsed once, whatever the number of contexts and servers', async () => {
    const script = `
      const tls = require('.');
      const binding = require('./lib/binding');
      const fs = require('fs');
      const keep = [tls.createSecureContext({})];
      const first = binding.memoryTotals()[0];
      for (let i = 0; i < 20; i++) keep.push(tls.createSecureContext({}));
      const server = { key: fs.readFileSync('certs/server-ecdsa.key'), cert: fs.readFileSync('certs/server-ecdsa-chain.pem') };
      for (let i = 0; i < 20; i++) keep.push(tls.createServer(server));
      console.log(JSON.stringify({ first, after: binding.memoryTotals()[0] }));`;
    const { stdout } = await execFile(process.execPath, ['-e', script], { cwd: path.join(__dirname, '..') });
    const { first, after } = JSON.parse(stdout);
    // The roots are hundreds of kilobytes; 40 more contexts add only their own keys.
    assert.ok(first > 200 * 1024, `roots: ${first} bytes`);
    assert.ok(after - first < 20 * 16 * 1024, `40 contexts added ${after - first} bytes`);
  });
});
