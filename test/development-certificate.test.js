'use strict';
// createServer() without key and cert: an ephemeral self-signed certificate for localhost,
// checked with node:tls as the client. Each scenario runs in a fresh node, since the
// certificate and its warning are once per process.

const fs = require('node:fs');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { assert } = require('./helpers');

const ROOT = path.join(__dirname, '..');

// Runs `body` (an async function body) in a fresh node with the preamble below; resolves
// with the value it returns, through JSON.
function scenario(body) {
  const source = `
    const tls = require('tls');
    const ours = require('.');
    const warnings = [];
    process.on('warning', (w) => warnings.push({ name: w.name, code: w.code, message: w.message }));
    const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
    // How a node:tls client's connection ends: its peer certificate and verdict, or the error.
    const nodeClient = (options) => new Promise((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', ...options }, () => {
        const cert = socket.getPeerCertificate();
        const x509 = socket.getPeerX509Certificate();
        resolve({ authorized: socket.authorized, authorizationError: socket.authorizationError,
          subject: cert.subject, subjectaltname: cert.subjectaltname, validFrom: cert.valid_from,
          validTo: cert.valid_to, ca: x509.ca, curve: x509.publicKey.asymmetricKeyDetails.namedCurve,
          serialNumber: cert.serialNumber, selfIssued: x509.checkIssued(x509) });
        socket.destroy();
      });
      socket.on('error', (err) => resolve({ error: err.code }));
    });
    (async () => { ${body} })().then((value) => {
      console.log(JSON.stringify(value));
      process.exit(0);
    }, (err) => { console.error(err); process.exit(1); });`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', source], { cwd: ROOT, timeout: 30000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()));
    });
  });
}

describe('development certificate', () => {
  it('createServer() with no options serves node:tls a self-signed certificate for localhost', async () => {
    const started = Date.now();
    const r = await scenario(`
      const server = ours.createServer((socket) => socket.end());
      const port = await listen(server);
      const peer = await nodeClient({ port, servername: 'localhost', rejectUnauthorized: false });
      server.close();
      return peer;`);
    assert.equal(r.subject.CN, 'localhost');
    assert.equal(r.subjectaltname, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.equal(r.curve, 'prime256v1');
    assert.equal(r.ca, false);
    assert.equal(r.selfIssued, true);
    // Self-signed: not trusted by default, with node's code for it.
    assert.equal(r.authorized, false);
    assert.equal(r.authorizationError, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    // Valid from an hour ago (for clocks a little behind) for 30 days.
    const from = Date.parse(r.validFrom);
    const to = Date.parse(r.validTo);
    assert.ok(Math.abs(from - (started - 3600e3)) < 120e3, r.validFrom);
    assert.ok(Math.abs(to - (started + 30 * 86400e3)) < 120e3, r.validTo);
  });

  it('node:tls verifies it with ca: server.developmentCertificate, by name and by address', async () => {
    const r = await scenario(`
      const server = ours.createServer((socket) => socket.end());
      const port = await listen(server);
      const ca = server.developmentCertificate;
      const results = {
        byName: await nodeClient({ port, servername: 'localhost', ca }),
        byAddress: await nodeClient({ port, ca }),
        otherName: await nodeClient({ port, servername: 'example.com', ca }),
        withoutCa: await nodeClient({ port, servername: 'localhost' }),
      };
      // Our client verifies it too.
      results.ours = await new Promise((resolve) => {
        const socket = ours.connect({ port, host: '127.0.0.1', servername: 'localhost', ca }, () => {
          resolve({ authorized: socket.authorized });
          socket.destroy();
        });
        socket.on('error', (err) => resolve({ error: err.code }));
      });
      server.close();
      return { pem: ca, ...results };`);
    assert.match(r.pem, /^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n?$/);
    assert.equal(r.byName.authorized, true);
    assert.equal(r.byAddress.authorized, true);
    assert.equal(r.otherName.error, 'ERR_TLS_CERT_ALTNAME_INVALID');
    assert.equal(r.withoutCa.error, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    assert.equal(r.ours.authorized, true);
  });

  it('warns once per process; two servers share one certificate; none with key and cert', async () => {
    const r = await scenario(`
      const first = ours.createServer();
      const second = new ours.Server({ ALPNProtocols: ['h2'] });
      const fs = require('fs');
      const given = ours.createServer({ key: fs.readFileSync('certs/server-ecdsa.key'), cert: fs.readFileSync('certs/server-ecdsa-chain.pem') });
      const shared = ours.createServer({ secureContext: ours.createSecureContext({ key: fs.readFileSync('certs/server-ecdsa.key'), cert: fs.readFileSync('certs/server-ecdsa-chain.pem') }) });
      const ports = [await listen(first), await listen(second)];
      const peers = [];
      for (const port of ports) peers.push(await nodeClient({ port, servername: 'localhost', ca: first.developmentCertificate }));
      first.close();
      second.close();
      await new Promise((resolve) => setImmediate(resolve));
      return { warnings, same: first.developmentCertificate === second.developmentCertificate,
        serials: peers.map((p) => p.serialNumber), authorized: peers.map((p) => p.authorized),
        given: given.developmentCertificate, shared: shared.developmentCertificate,
        pem: first.developmentCertificate };`);
    assert.equal(r.warnings.length, 1, JSON.stringify(r.warnings));
    assert.equal(r.warnings[0].code, 'MBEDTLS_STREAM_DEV_CERT');
    assert.match(r.warnings[0].message, /development certificate/);
    assert.match(r.warnings[0].message, /production/);
    assert.equal(r.same, true);
    assert.equal(r.serials[0], r.serials[1]);
    assert.deepEqual(r.authorized, [true, true]);
    assert.equal(r.given, null);
    assert.equal(r.shared, null);
    // Another process makes its own: generated, not shipped.
    const other = await scenario(`
      const server = ours.createServer();
      return { pem: server.developmentCertificate, warnings };`);
    assert.notEqual(other.pem, r.pem);
    assert.equal(other.warnings.length, 1);
  });

  it('no private key ships in the package', () => {
    const { files } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const found = [];
    const walk = (entry) => {
      const full = path.join(ROOT, entry);
      if (!fs.existsSync(full)) return;
      if (fs.statSync(full).isDirectory()) {
        for (const name of fs.readdirSync(full)) walk(path.join(entry, name));
      } else if (entry.endsWith('.node')) {
        // A prebuilt addon (npm run prebuild) holds Mbed TLS's PEM labels, the strings its
        // parser looks for; a key would be a label followed by its base64 body.
        if (/-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/=\r\n]{64}/.test(fs.readFileSync(full, 'latin1'))) {
          found.push(entry);
        }
      } else if (fs.readFileSync(full, 'latin1').includes('PRIVATE KEY-----')) {
        found.push(entry);
      }
    };
    files.forEach(walk);
    assert.deepEqual(found, []);
  });
});
