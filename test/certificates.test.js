'use strict';
// Certificates served and described as node's: the chain a server (or client) completes
// from `ca` as OpenSSL's automatic chain building does, key/cert pairs matched by key, a
// certificate served whatever its extended key usage, UTF-8 subjects, the issuerCertificate
// links of getPeerCertificate(true) and getPeerX509Certificate(), setKeyCert(). Each case
// runs the same options on node:tls and on mbedtls-stream; node's answer is the expected one.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const tls = require('node:tls');
const { X509Certificate } = require('node:crypto');
const ours = require('..');
const { assert, certs, names, listen, once, handshakeOutcome, useCleanup, run } = require('./helpers');

const leafOnly = (chain) => chain.toString().split(/(?<=-----END CERTIFICATE-----\n)/)[0];
const verifyDir = path.join(__dirname, '..', 'certs', 'verify');
const readVerify = (name) => fs.readFileSync(path.join(verifyDir, name));

// The subjects' CNs along issuerCertificate, as a list; '(self)' when the last links to itself.
function legacyChain(peer) {
  const list = [];
  for (let c = peer; c && c.subject; c = c.issuerCertificate) {
    list.push(c.subject.CN);
    if (c.issuerCertificate === c) {
      list.push('(self)');
      break;
    }
  }
  return list;
}

function x509Chain(cert) {
  const list = [];
  for (let c = cert; c; c = c.issuerCertificate) {
    assert.ok(c instanceof X509Certificate);
    list.push(c.subject);
  }
  return list;
}

describe('certificates as node serves and describes them', function () {
  const track = useCleanup();
  // A self-signed certificate with a UTF-8 subject and extended key usage clientAuth only,
  // as node's fixture agent5 (made here with the openssl CLI: no key ships for it).
  let selfSigned;
  before(async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mbedtls-stream-utf8-'));
    try {
      const { code, stderr } = await run('openssl', ['req', '-x509', '-newkey', 'ec',
        '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-utf8',
        '-subj', '/CN=Ádám Lippai/O=Tresorit', '-addext', 'extendedKeyUsage=clientAuth',
        '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')]).result;
      assert.equal(code, 0, stderr);
      selfSigned = {
        key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')),
      };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  // Serves `serverOptions` with `lib` and connects node's client (`clientOptions`); resolves
  // with { client, server } (the server's socket) once both are secure.
  async function connect(lib, serverOptions, clientOptions = {}, client = tls) {
    const server = track.server(lib.createServer(serverOptions));
    const port = await listen(server);
    const accepted = once(server, 'secureConnection');
    const socket = track.socket(client.connect({
      port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false, ...clientOptions,
    }));
    const [serverSocket] = await Promise.all([accepted, once(socket, 'secureConnect')]);
    return { client: socket, server: serverSocket };
  }

  // What node's client sees a server send: the subjects in the order sent.
  async function sentBy(lib, serverOptions) {
    const { client } = await connect(lib, serverOptions);
    return x509Chain(client.getPeerX509Certificate());
  }

  describe('the chain completed from ca (OpenSSL\'s automatic chain building)', function () {
    const cases = [
      ['a leaf with its intermediate and root in ca: leaf, intermediate, root',
        { ca: [certs.intermediate, certs.ca] }, 3],
      ['a leaf with its intermediate in ca: leaf and intermediate', { ca: [certs.intermediate] }, 2],
      ['a leaf whose issuer is not in ca: the leaf alone', { ca: [certs.ca] }, 1],
      ['a leaf without ca (the default roots do not know it): the leaf alone', {}, 1],
    ];
    for (const [what, options, length] of cases) {
      it(`${what}, as node's server sends`, async function () {
        const serverOptions = { key: certs.ecdsa.key, cert: leafOnly(certs.ecdsa.cert), ...options };
        const expected = await sentBy(tls, serverOptions);
        assert.equal(expected.length, length);
        assert.deepEqual(await sentBy(ours, serverOptions), expected);
      });
    }

    it('a cert that holds a chain is sent as given, even with the root in ca', async function () {
      const serverOptions = { ...certs.ecdsa, ca: [certs.intermediate, certs.ca] };
      const expected = await sentBy(tls, serverOptions);
      assert.equal(expected.length, 2);
      assert.deepEqual(await sentBy(ours, serverOptions), expected);
    });

    it('a DER leaf (which node does not take) is completed as its PEM is by node', async function () {
      const pem = leafOnly(certs.ecdsa.cert);
      const expected = await sentBy(tls, { key: certs.ecdsa.key, cert: pem, ca: [certs.intermediate] });
      assert.equal(expected.length, 2);
      const der = new X509Certificate(pem).raw;
      assert.deepEqual(await sentBy(ours, { key: certs.ecdsa.key, cert: der, ca: [certs.intermediate] }), expected);
    });

    it('a client certificate is completed from the client\'s ca, and the server verifies it', async function () {
      const clientOptions = {
        key: certs.client.key, cert: leafOnly(certs.client.cert), ca: [certs.intermediate, certs.ca],
      };
      const seen = [];
      for (const lib of [tls, ours]) {
        const { server } = await connect(tls, { ...certs.ecdsa, requestCert: true, ca: certs.ca },
          clientOptions, lib);
        assert.equal(server.authorized, true);
        seen.push(x509Chain(server.getPeerX509Certificate()));
      }
      assert.equal(seen[0].length, 3);
      assert.deepEqual(seen[1], seen[0]);
    });
  });

  describe('several keys and certificates', function () {
    // Given in opposite orders: each key goes with the certificate it matches.
    const serverOptions = {
      key: [certs.ecdsa.key, certs.rsa.key],
      cert: [certs.rsa.cert, certs.ecdsa.cert],
    };
    for (const [suite, keyType] of [['ECDHE-ECDSA-AES128-GCM-SHA256', 'ec'], ['ECDHE-RSA-AES128-GCM-SHA256', 'rsa']]) {
      it(`are paired by key: a TLS 1.2 client asking for ${suite} gets the ${keyType.toUpperCase()} certificate, as from node`, async function () {
        const clientOptions = { ciphers: suite, maxVersion: 'TLSv1.2', ca: certs.ca };
        for (const lib of [tls, ours]) {
          const { client } = await connect(lib, serverOptions, clientOptions);
          assert.equal(client.authorized, true);
          assert.equal(client.getCipher().name, suite);
          assert.equal(client.getPeerX509Certificate().publicKey.asymmetricKeyType, keyType);
        }
      });
    }

    it('a TLS 1.3 client gets the certificate node\'s server chooses', async function () {
      const types = [];
      for (const lib of [tls, ours]) {
        const { client } = await connect(lib, serverOptions, { ca: certs.ca });
        assert.equal(client.getProtocol(), 'TLSv1.3');
        types.push(client.getPeerX509Certificate().publicKey.asymmetricKeyType);
      }
      assert.equal(types[1], types[0]);
    });
  });

  describe('a certificate whose extended key usage lacks serverAuth', function () {
    const serverOptions = { cert: readVerify('client-auth-only.pem'), key: readVerify('leaf.key') };

    it('is served, and node\'s client refuses it as from node\'s server (INVALID_PURPOSE)', async function () {
      const outcomes = [];
      for (const lib of [tls, ours]) {
        const server = track.server(lib.createServer(serverOptions));
        const port = await listen(server);
        const strict = await handshakeOutcome(tls.connect({
          port, host: '127.0.0.1', servername: 'localhost', ca: readVerify('root.pem'),
        }));
        outcomes.push(strict.secure ? 'ok' : strict.error.code);
      }
      assert.equal(outcomes[0], 'INVALID_PURPOSE');
      assert.equal(outcomes[1], outcomes[0]);
    });

    it('with rejectUnauthorized: false, the client connects and reports it', async function () {
      const errors = [];
      for (const lib of [tls, ours]) {
        const { client } = await connect(lib, serverOptions, { ca: readVerify('root.pem') });
        errors.push(client.authorizationError);
      }
      assert.equal(errors[0], 'INVALID_PURPOSE');
      assert.equal(errors[1], errors[0]);
    });

    it('with a UTF-8 subject (as node\'s fixture agent5), described as node describes it', async function () {
      const seen = [];
      for (const lib of [tls, ours]) {
        const { client } = await connect(lib, selfSigned);
        seen.push(client.getPeerCertificate());
      }
      assert.equal(seen[0].subject.CN, 'Ádám Lippai');
      assert.deepEqual(seen[1].subject, seen[0].subject);
      assert.equal(seen[1].fingerprint256, seen[0].fingerprint256);
    });
  });

  describe('issuerCertificate', function () {
    // Our client and node's, with the same options, against node's server.
    async function bothClients(serverOptions, clientOptions) {
      const views = [];
      for (const lib of [tls, ours]) {
        const { client } = await connect(tls, serverOptions, clientOptions, lib);
        views.push({
          detailed: legacyChain(client.getPeerCertificate(true)),
          brief: client.getPeerCertificate().issuerCertificate,
          x509: x509Chain(client.getPeerX509Certificate()),
        });
      }
      return views;
    }

    it('links what the server sent, then the root from the trust store, which links to itself', async function () {
      const [node, mine] = await bothClients(certs.ecdsa, { ca: certs.ca });
      assert.deepEqual(node.detailed, [names.server, names.intermediate, names.root, '(self)']);
      assert.deepEqual(mine, node);
    });

    it('goes on from the trust store when the server sent its leaf alone', async function () {
      const [node, mine] = await bothClients({ key: certs.ecdsa.key, cert: leafOnly(certs.ecdsa.cert) },
        { ca: [certs.ca, certs.intermediate] });
      assert.deepEqual(node.detailed, [names.server, names.intermediate, names.root, '(self)']);
      assert.equal(node.x509.length, 1);
      assert.deepEqual(mine, node);
    });

    it('stops where no issuer is known', async function () {
      const [node, mine] = await bothClients({ key: certs.ecdsa.key, cert: leafOnly(certs.ecdsa.cert) }, {});
      assert.deepEqual(node.detailed, [names.server]);
      assert.deepEqual(mine, node);
    });

    it('of a self-signed certificate is the certificate itself', async function () {
      const [node, mine] = await bothClients(selfSigned, {});
      assert.deepEqual(node.detailed, ['Ádám Lippai', '(self)']);
      assert.deepEqual(mine, node);
    });

    it('of a self-signed certificate without keyCertSign is absent (it does not issue itself)', async function () {
      const [node, mine] = await bothClients(
        { key: readVerify('leaf.key'), cert: readVerify('self-signed.pem') }, {});
      assert.deepEqual(node.detailed, ['localhost']);
      assert.deepEqual(mine, node);
    });

    it('of getPeerX509Certificate() follows the order the peer sent, on a server too', async function () {
      const clientOptions = { ...certs.client, ca: certs.ca };
      const seen = [];
      for (const lib of [tls, ours]) {
        const { server } = await connect(lib, { ...certs.ecdsa, requestCert: true, ca: certs.ca }, clientOptions);
        seen.push(x509Chain(server.getPeerX509Certificate()));
      }
      assert.equal(seen[0].length, 2);
      assert.deepEqual(seen[1], seen[0]);
    });
  });

  describe('setKeyCert() in ALPNCallback', function () {
    // A certificate of the same key type: node's (OpenSSL's) replaces the one of that type.
    const replacementOptions = { key: certs.otherServer.key, cert: certs.otherServer.cert };
    const replacementLeaf = new X509Certificate(certs.otherServer.cert);
    for (const what of ['createSecureContext() options', 'a SecureContext']) {
      it(`serves the certificate of ${what} instead, as node's server (ALPNCallback's this is the socket)`, async function () {
        for (const lib of [tls, ours]) {
          const replacement = what === 'a SecureContext' ? lib.createSecureContext(replacementOptions) : replacementOptions;
          let self;
          const serverOptions = {
            ...certs.ecdsa,
            ALPNCallback({ protocols }) {
              self = this;
              this.setKeyCert(replacement);
              return protocols[0];
            },
          };
          const { client, server } = await connect(lib, serverOptions,
            { ALPNProtocols: ['acme-tls/1'], ca: certs.otherCa });
          assert.equal(self, server);
          assert.equal(client.authorized, true);
          assert.equal(client.alpnProtocol, 'acme-tls/1');
          assert.ok(client.getPeerX509Certificate().raw.equals(replacementLeaf.raw));
        }
      });
    }

    it('SNICallback\'s this is the socket too, as in node', async function () {
      for (const lib of [tls, ours]) {
        let self;
        const serverOptions = {
          ...certs.ecdsa,
          SNICallback(name, callback) {
            self = this;
            callback(null, undefined);
          },
        };
        const { server } = await connect(lib, serverOptions);
        assert.equal(self, server);
      }
    });
  });

  describe('a chain up to a version 1 root (no extensions, as node\'s fixture ca2)', function () {
    // root (v1, self-signed) -> intermediate (CA) -> leaf for localhost, made with the
    // openssl CLI; the server sends all three.
    let chain;
    before(async function () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mbedtls-stream-v1-'));
      const file = (name) => path.join(dir, name);
      const openssl = async (...args) => {
        const { code, stderr } = await run('openssl', args).result;
        assert.equal(code, 0, `openssl ${args[0]}: ${stderr}`);
      };
      const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
      try {
        fs.writeFileSync(file('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n');
        fs.writeFileSync(file('leaf.ext'), 'subjectAltName=DNS:localhost\n');
        await openssl('req', '-new', ...newKey, '-keyout', file('root.key'), '-subj', '/CN=v1 root', '-out', file('root.csr'));
        await openssl('x509', '-req', '-in', file('root.csr'), '-key', file('root.key'), '-days', '2', '-out', file('root.pem'));
        await openssl('req', '-new', ...newKey, '-keyout', file('int.key'), '-subj', '/CN=v3 intermediate', '-out', file('int.csr'));
        await openssl('x509', '-req', '-in', file('int.csr'), '-CA', file('root.pem'), '-CAkey', file('root.key'),
          '-days', '2', '-extfile', file('ca.ext'), '-out', file('int.pem'));
        await openssl('req', '-new', ...newKey, '-keyout', file('leaf.key'), '-subj', '/CN=localhost', '-out', file('leaf.csr'));
        await openssl('x509', '-req', '-in', file('leaf.csr'), '-CA', file('int.pem'), '-CAkey', file('int.key'),
          '-days', '2', '-extfile', file('leaf.ext'), '-out', file('leaf.pem'));
        const read = (name) => fs.readFileSync(file(name), 'latin1');
        chain = { key: read('leaf.key'), cert: read('leaf.pem') + read('int.pem') + read('root.pem'), root: read('root.pem') };
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      assert.doesNotMatch(new X509Certificate(chain.root).toString(), /X509v3/);
    });

    for (const [what, clientOptions] of [
      ['untrusted (the default roots): SELF_SIGNED_CERT_IN_CHAIN', {}],
      ['trusted (ca): verified', { ca: 'root' }],
    ]) {
      it(`${what}, as node's client says`, async function () {
        const server = track.server(tls.createServer({ key: chain.key, cert: chain.cert }));
        const port = await listen(server);
        const verdicts = [];
        for (const lib of [tls, ours]) {
          const options = { port, host: '127.0.0.1', servername: 'localhost', ...(clientOptions.ca ? { ca: chain.root } : {}) };
          const strict = await handshakeOutcome(lib.connect(options));
          const lenient = await handshakeOutcome(lib.connect({ ...options, rejectUnauthorized: false }));
          verdicts.push([strict.secure ? 'ok' : strict.error.code, lenient.authorizationError || null]);
        }
        assert.deepEqual(verdicts[0], clientOptions.ca ? ['ok', null]
          : ['SELF_SIGNED_CERT_IN_CHAIN', 'SELF_SIGNED_CERT_IN_CHAIN']);
        assert.deepEqual(verdicts[1], verdicts[0]);
      });
    }
  });

  it('server.setSecureContext() requires an object, as node\'s', function () {
    for (const value of [undefined, null, 42]) {
      const expected = (() => {
        try {
          tls.createServer(certs.ecdsa).setSecureContext(value);
        } catch (err) {
          return err.code;
        }
        return 'no error';
      })();
      assert.equal(expected, 'ERR_INVALID_ARG_TYPE');
      assert.throws(() => ours.createServer(certs.ecdsa).setSecureContext(value), { code: expected });
    }
  });

  it('server.setSecureContext() with a leaf and its issuers in ca serves the completed chain', async function () {
    const options = { key: certs.ecdsa.key, cert: leafOnly(certs.ecdsa.cert), ca: [certs.intermediate] };
    const seen = [];
    for (const lib of [tls, ours]) {
      const server = track.server(lib.createServer(certs.rsa));
      server.setSecureContext(options);
      const port = await listen(server);
      const client = track.socket(tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca }));
      await once(client, 'secureConnect');
      assert.equal(client.authorized, true);
      seen.push(x509Chain(client.getPeerX509Certificate()));
    }
    assert.equal(seen[0].length, 2);
    assert.deepEqual(seen[1], seen[0]);
  });
});
