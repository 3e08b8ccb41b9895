// cli/options.js: the CLI's key=value arguments -> options of the public API
// (tls.connect(), tls.createServer(), dtls.connect(), dtls.createServer()). Reads the files
// the arguments name; throws (a coded error) for what cannot be used.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

const VERSIONS = { tls12: 'TLSv1.2', tls13: 'TLSv1.3' };

function countCertificates(pem) {
  return (pem.toString('latin1').match(/-----BEGIN (X509 |TRUSTED )?CERTIFICATE-----/g) || []).length;
}

// ca_file or ca_path -> { ca, count } (ca undefined: node's bundled roots).
function loadCa(options) {
  if (options.ca_file) {
    const ca = fs.readFileSync(options.ca_file);
    return { ca, count: countCertificates(ca) };
  }
  if (options.ca_path) {
    // Every file of the folder holding a PEM certificate, as Mbed TLS's mbedtls_x509_crt_parse_path().
    const parts = [];
    let skipped = 0;
    for (const name of fs.readdirSync(options.ca_path).sort()) {
      const file = path.join(options.ca_path, name);
      let text;
      try {
        if (!fs.statSync(file).isFile()) continue;
        text = fs.readFileSync(file);
      } catch {
        skipped++;
        continue;
      }
      if (countCertificates(text) > 0) parts.push(text);
      else skipped++;
    }
    const ca = Buffer.concat(parts.flatMap((part) => [part, Buffer.from('\n')]));
    return { ca, count: countCertificates(ca), skipped };
  }
  return { ca: undefined, count: 0 };
}

// crt_file, key_file, key_pwd -> { cert, key, passphrase, keyType } or {} when not given.
function loadOwnCertificate(options) {
  if (!options.crt_file) return {};
  const cert = fs.readFileSync(options.crt_file);
  const key = fs.readFileSync(options.key_file);
  const passphrase = options.key_pwd;
  const type = crypto.createPrivateKey({ key, passphrase }).asymmetricKeyType;
  return { cert, key, passphrase, keyType: { rsa: 'RSA', 'rsa-pss': 'RSA', ec: 'EC' }[type] || type };
}

// force_version, force_ciphersuite and psk -> { minVersion, maxVersion, ciphers }.
function protocolOptions(options, defaultCiphers) {
  const result = {};
  const version = VERSIONS[options.force_version];
  if (version) {
    result.minVersion = version;
    result.maxVersion = version;
  }
  if (options.force_ciphersuite) {
    result.ciphers = options.force_ciphersuite;
    // The one suite offered decides the version, as with ssl_client2: node's `ciphers` keeps
    // the TLS 1.3 suites whatever TLS 1.2 suite it names, so the other version is turned off.
    const tls13 = /^(TLS1-3-|TLS_AES_|TLS_CHACHA20_)/.test(options.force_ciphersuite);
    if (!version && options.dtls !== '1') result[tls13 ? 'minVersion' : 'maxVersion'] = tls13 ? 'TLSv1.3' : 'TLSv1.2';
  } else if (options.psk && options.dtls !== '1') {
    // node's default list leaves TLS 1.2 PSK suites out (!PSK); a PSK user wants them first.
    result.ciphers = `PSK:${defaultCiphers.split(':').filter((s) => s !== '!PSK').join(':')}`;
  }
  return result;
}

function pskKey(options) {
  return options.psk ? Buffer.from(options.psk, 'hex') : undefined;
}

function alpnList(options) {
  return options.alpn ? options.alpn.split(',').filter(Boolean) : undefined;
}

module.exports = { loadCa, loadOwnCertificate, protocolOptions, pskKey, alpnList, countCertificates };
