'use strict';
// The default name check without node's detailed certificate objects (lib/name-check.js):
// for every certificate of the fixtures and some with awkward subjects, and host names
// that match and do not, the result is node's tls.checkServerIdentity's on the full object.

const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const tls = require('node:tls');
const { checkPeerName, nameFields } = require('../lib/name-check');
const { assert } = require('./helpers');

const CERTS = path.join(__dirname, '..', 'certs');

function* pemFiles(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* pemFiles(file);
    else if (entry.name.endsWith('.pem') || entry.name.endsWith('.crt')) yield file;
  }
}

function certificatesIn(file) {
  const text = fs.readFileSync(file, 'latin1');
  return text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) || [];
}

// Self-signed certificates with subjects and names that are awkward to read from text.
function awkwardCertificates() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'name-check-'));
  const subjects = [
    ['/CN=a\\,b.example', 'DNS:x.example'],
    ['/CN=comma\\, in.example'],
    ['/CN=multi.example+O=Org'],
    ['/CN=one.example/CN=two.example'],
    ['/CN=b\u00fccher.example'],
    ['/CN=\\#hash.example'],
    ['/O=No CN'],
    ['/CN=*.wild.example'],
    ['/CN=quote"d.example', 'DNS:under_score.example,DNS:*.x.example'],
    ['/CN=ip.example', 'IP:127.0.0.1,IP:::1,DNS:localhost'],
    ['/CN=email.example', 'email:a@b.example,URI:https://u.example/'],
  ];
  const out = [];
  try {
    subjects.forEach(([subject, san], i) => {
      const cert = path.join(dir, `${i}.pem`);
      const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
        '-keyout', path.join(dir, `${i}.key`), '-out', cert, '-days', '1', '-utf8', '-subj', subject];
      if (san) args.push('-addext', `subjectAltName=${san}`);
      execFileSync('openssl', args, { stdio: 'ignore' });
      out.push(...certificatesIn(cert));
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

function hostsFor(legacy) {
  const hosts = new Set(['localhost', '127.0.0.1', '::1', 'example.com', 'a.example', 'x.example',
    'a.wild.example', 'wild.example', 'a,b.example', 'multi.example', 'one.example', 'two.example',
    'bücher.example', 'xn--bcher-kva.example']);
  const cn = legacy.subject && legacy.subject.CN;
  for (const name of [].concat(cn || [])) hosts.add(name).add(name.replace('*', 'sub'));
  // The first names and the last (certs/large has a leaf with 1,500).
  const names = (legacy.subjectaltname || '').split(', ');
  for (const name of [...names.slice(0, 20), names[names.length - 1]]) {
    const value = name.slice(name.indexOf(':') + 1);
    hosts.add(value).add(value.replace('*', 'sub'));
  }
  return [...hosts];
}

const outcome = (result) => (result === undefined ? 'ok' : `${result.code}: ${result.reason} (${result.host})`);

describe('the default name check without the detailed certificate object', function () {
  this.timeout(60000);

  it('decides as tls.checkServerIdentity on the full object, for every certificate and host', () => {
    const pems = [];
    for (const file of pemFiles(CERTS)) pems.push(...certificatesIn(file));
    pems.push(...awkwardCertificates());
    let fast = 0;
    let full = 0;
    let checks = 0;
    for (const pem of pems) {
      const x509 = new crypto.X509Certificate(pem);
      const legacy = x509.toLegacyObject();
      if (nameFields(x509.raw) !== null) fast++;
      else full++;
      for (const host of hostsFor(legacy)) {
        let detailedMade = 0;
        const ours = checkPeerName(tls.checkServerIdentity, host, x509.raw, () => {
          detailedMade++;
          return legacy;
        });
        const theirs = tls.checkServerIdentity(host, legacy);
        assert.equal(outcome(ours), outcome(theirs), `${x509.subject} / ${legacy.subjectaltname} for ${host}`);
        // A failure carries the full object, as node's does.
        if (theirs !== undefined) assert.equal(ours.cert, legacy);
        if (theirs === undefined && nameFields(x509.raw) !== null) assert.equal(detailedMade, 0);
        checks++;
      }
    }
    // Most certificates take the short way; the awkward ones (a UTF-8 common name, ...) the
    // full object.
    assert.ok(fast > 40 && full >= 1, `fast ${fast}, full ${full}, checks ${checks}`);
  });

  it('reads a UTF-8 common name from the full object', () => {
    const utf8 = awkwardCertificates().map((pem) => new crypto.X509Certificate(pem))
      .find((x) => x.subject.includes('CN=b\u00fccher.example'));
    assert.ok(utf8);
    assert.equal(nameFields(utf8.raw), null);
  });

  it('gives an application\'s own check the full object', () => {
    const pem = certificatesIn(path.join(CERTS, 'server-ecdsa.pem'))[0];
    const x509 = new crypto.X509Certificate(pem);
    const legacy = x509.toLegacyObject();
    let seen;
    const result = checkPeerName((host, cert) => { seen = cert; }, 'localhost', x509.raw, () => legacy);
    assert.equal(result, undefined);
    assert.equal(seen, legacy);
  });
});
