// ciphers.js: cipher suite names. Mbed TLS names suites like IANA with dashes
// (TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256, TLS1-3-AES-128-GCM-SHA256); node speaks IANA
// names (standardName) and OpenSSL names (name). Both are derived here from Mbed TLS's own
// list, so getCiphers(), getCipher() and the `ciphers` option agree with the build.
'use strict';

const binding = require('./binding');
const { MbedtlsError } = require('./errors');

// OpenSSL's names for the bulk ciphers of TLS 1.2 suites.
const OPENSSL_CIPHERS = {
  AES_128_GCM: 'AES128-GCM', AES_256_GCM: 'AES256-GCM', AES_128_CBC: 'AES128',
  AES_256_CBC: 'AES256', AES_128_CCM: 'AES128-CCM', AES_256_CCM: 'AES256-CCM',
  AES_128_CCM_8: 'AES128-CCM8', AES_256_CCM_8: 'AES256-CCM8', CHACHA20_POLY1305: 'CHACHA20-POLY1305',
};

function standardNameOf(mbedtlsName) {
  return mbedtlsName.replace(/^TLS1-3-/, 'TLS_').replace(/-/g, '_');
}

// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 -> ECDHE-ECDSA-AES128-GCM-SHA256
function opensslNameOf(standardName) {
  if (!standardName.includes('_WITH_')) return standardName; // TLS 1.3: the same name
  const [kx, rest] = standardName.slice(4).split('_WITH_');
  const hash = rest.match(/_(SHA|SHA256|SHA384)$/);
  const bulk = hash ? rest.slice(0, -hash[0].length) : rest;
  let cipher = OPENSSL_CIPHERS[bulk] || bulk.replace(/_/g, '-');
  const psk = kx.endsWith('PSK');
  // OpenSSL keeps "CBC" in PSK suite names only (PSK-AES128-CBC-SHA256, ECDHE-RSA-AES128-SHA256).
  if (psk && bulk.endsWith('_CBC')) cipher += '-CBC';
  // AEAD suites other than GCM carry no hash in OpenSSL's names.
  const showHash = hash && !bulk.startsWith('CHACHA20') && !bulk.includes('CCM');
  const prefix = kx === 'RSA' ? '' : `${kx.replace(/_/g, '-')}-`;
  return `${prefix}${cipher}${showHash ? `-${hash[1]}` : ''}`;
}

// The oldest protocol version a TLS 1.2 suite is defined for, as OpenSSL names it (node's
// getCipher().version): CBC suites with SHA-1 come from SSLv3 (static RSA, PSK) or TLS 1.0
// (ECDHE, RFC 4492), and the PSK CBC suites with SHA-256/384 from TLS 1.0 (RFC 5487, 5489).
function cipherVersionOf(standardName) {
  const cbc = standardName.includes('_CBC_');
  const psk = standardName.includes('PSK');
  if (cbc && standardName.endsWith('_SHA')) return standardName.startsWith('TLS_ECDHE_') ? 'TLSv1.0' : 'SSLv3';
  if (cbc && psk) return 'TLSv1.0';
  return 'TLSv1.2';
}

// [{ id, mbedtlsName, standardName, name, version, cipherVersion, psk }] in Mbed TLS's order;
// `version` is the protocol the suite is for, `cipherVersion` what node's getCipher() says.
let suites;
function allSuites() {
  if (!suites) {
    suites = binding.ciphersuites().filter(([, n]) => n).map(([id, mbedtlsName]) => {
      const standardName = standardNameOf(mbedtlsName);
      const version = mbedtlsName.startsWith('TLS1-3-') ? 'TLSv1.3' : 'TLSv1.2';
      return {
        id, mbedtlsName, standardName, name: opensslNameOf(standardName), version,
        cipherVersion: version === 'TLSv1.3' ? version : cipherVersionOf(standardName),
        psk: /PSK/.test(mbedtlsName),
      };
    });
  }
  return suites;
}

function byId(id) {
  return allSuites().find((s) => s.id === id);
}

// Names are case-sensitive, as in OpenSSL (and so node): 'aes256-sha' names nothing.
function lookup(name) {
  return allSuites().find((s) => s.name === name || s.standardName === name || s.mbedtlsName === name);
}

// Cipher-string keywords understood here, as sets of suites (OpenSSL's meaning, checked
// against `openssl ciphers -psk` by the tests). As in OpenSSL and node, keywords select TLS
// 1.2 suites only; TLS 1.3 suites are named. Every suite of this build is strong enough for
// OpenSSL's HIGH, PSK suites included; its DEFAULT leaves out the CCM suites.
const tls12 = (test) => () => allSuites().filter((s) => s.version === 'TLSv1.2' && test(s));
const KEYWORDS = {
  ALL: tls12(() => true),
  DEFAULT: tls12((s) => !s.mbedtlsName.includes('CCM')),
  HIGH: tls12(() => true),
  ECDHE: tls12((s) => s.mbedtlsName.includes('ECDHE') && !s.psk),
  EECDH: tls12((s) => s.mbedtlsName.includes('ECDHE') && !s.psk),
  AESGCM: tls12((s) => s.mbedtlsName.includes('GCM')),
  CHACHA20: tls12((s) => s.mbedtlsName.includes('CHACHA20')),
  ECDSA: tls12((s) => s.mbedtlsName.includes('ECDSA')),
  aECDSA: tls12((s) => s.mbedtlsName.includes('ECDSA')),
  aRSA: tls12((s) => s.mbedtlsName.includes('-RSA-')),
  // Static RSA key exchange; OpenSSL's RSA is kRSA.
  kRSA: tls12((s) => s.mbedtlsName.startsWith('TLS-RSA-WITH-')),
  RSA: tls12((s) => s.mbedtlsName.startsWith('TLS-RSA-WITH-')),
  PSK: tls12((s) => s.psk),
};
// Names node's and OpenSSL's default strings use for things this build has none of.
const ABSENT = /^(aNULL|eNULL|NULL|EXPORT|LOW|MEDIUM|DES|3DES|RC4|MD5|SRP|CAMELLIA|ARIA|IDEA|SEED|DSS|DH|DHE|EDH|ADH|AECDH|kDHE|SHA1|SHA)$|^(DHE|EDH|ADH|SRP|DES|RC4|IDEA|SEED|CAMELLIA)-|-(DES|RC4|IDEA|SEED|CAMELLIA|ARIA)[-0-9A-Z]*$|^@SECLEVEL=\d$|^@STRENGTH$/;

// An OpenSSL-style cipher string -> IANA ids in order. Names of suites this build lacks
// (DHE, CAMELLIA...) are passed over, as OpenSSL passes over what it lacks; a name that is
// neither known nor a suite of some TLS library is an error, and so is a string that
// leaves no suite at all.
function parseCipherList(spec) {
  const chosen = [];
  const removed = new Set();
  for (const raw of spec.split(/[:, ]+/).filter(Boolean)) {
    const negate = raw[0] === '!' || raw[0] === '-';
    const item = raw.replace(/^[!+-]/, '');
    const parts = item.split('+');
    let set;
    if (parts.every((p) => KEYWORDS[p])) {
      set = parts.map((p) => KEYWORDS[p]()).reduce((a, b) => a.filter((s) => b.includes(s)));
    } else if (lookup(item)) {
      set = [lookup(item)];
    } else if (ABSENT.test(item) || /^(TLS_|TLS-)?[A-Z0-9]+(-[A-Z0-9]+)+$/.test(item)) {
      continue;
    } else {
      throw new MbedtlsError(`No cipher match: "${item}" is not a cipher suite or keyword ` +
        '(names are case-sensitive, as in OpenSSL)', { code: 'ERR_SSL_NO_CIPHER_MATCH' });
    }
    for (const s of set) {
      if (negate) removed.add(s.id);
      else if (!chosen.includes(s.id)) chosen.push(s.id);
    }
  }
  const ids = chosen.filter((id) => !removed.has(id));
  if (ids.length === 0) {
    throw new MbedtlsError(`No cipher match for "${spec}"`, { code: 'ERR_SSL_NO_CIPHER_MATCH' });
  }
  return ids;
}

// node's tls.getCiphers(): lower-case OpenSSL names.
function getCiphers() {
  return [...new Set(allSuites().map((s) => s.name.toLowerCase()))];
}

module.exports = { byId, lookup, parseCipherList, getCiphers, allSuites };
