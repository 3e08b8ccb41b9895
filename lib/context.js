// context.js: createSecureContext() and the SecureContext it returns.
//
// A SecureContext holds the validated option material and builds one Mbed TLS config per
// endpoint (Mbed TLS configs are client- or server-side; node's contexts are both), each
// parsed once and shared by every connection made from it. The default trust store
// (tls.rootCertificates plus NODE_EXTRA_CA_CERTS) is parsed once per process, lazily.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const tls = require('tls');
const binding = require('./binding');
const ciphers = require('./ciphers');
const { defaults } = require('./defaults');
const {
  MbedtlsError, MBEDTLS_ERR, fromNative, invalidArgType, invalidArgValue, outOfRange, coded,
} = require('./errors');

const { constants } = binding;
const VERSIONS = { 'TLSv1.2': constants.TLS1_2, 'TLSv1.3': constants.TLS1_3 };
const OLD_VERSIONS = new Set(['TLSv1', 'TLSv1.1', 'SSLv3']);
const DEFAULT_SESSION_TIMEOUT = 300; // seconds, as node
const FRAGMENT_LENGTHS = [512, 1024, 2048, 4096]; // RFC 6066's max_fragment_length values

// Options node accepts that this library cannot honour: setting one is an error, never
// silently ignored.
const UNSUPPORTED = ['pfx', 'dhparam', 'privateKeyEngine', 'privateKeyIdentifier',
  'clientCertEngine', 'sigalgs', 'ecdhCurve', 'secureOptions', 'secureProtocol'];

function isBinary(value) {
  return Buffer.isBuffer(value) || value instanceof Uint8Array;
}

function toBuffer(value) {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

// A string, Buffer, or array of them -> [Buffer]; node's ca/cert/key/crl shapes.
function pemList(name, value, { allowObjects = false } = {}) {
  const list = Array.isArray(value) ? value : [value];
  return list.map((item, i) => {
    if (typeof item === 'string') return Buffer.from(item);
    if (isBinary(item)) return toBuffer(item);
    if (allowObjects && item && typeof item === 'object' && (item.pem !== undefined)) {
      return { pem: pemList(name, item.pem)[0], passphrase: item.passphrase };
    }
    throw invalidArgType(Array.isArray(value) ? `options.${name}[${i}]` : `options.${name}`,
      'of type string or an instance of Buffer, TypedArray, or DataView', item);
  });
}

function versionOption(name, value, fallback) {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string') throw invalidArgType(`options.${name}`, 'of type string', value);
  if (VERSIONS[value] !== undefined) return value;
  if (OLD_VERSIONS.has(value)) {
    throw new MbedtlsError(`${value} is not supported: Mbed TLS 3.6 speaks TLS 1.2 and 1.3 only`,
      { code: 'ERR_TLS_INVALID_PROTOCOL_VERSION' });
  }
  throw coded(TypeError, 'ERR_TLS_INVALID_PROTOCOL_VERSION',
    `"${value}" is not a valid ${name === 'minVersion' ? 'minimum' : 'maximum'} TLS protocol version`);
}

// A native { errno, message, part } -> MbedtlsError, with node's code where node has one for
// the same bad input (node's codes are OpenSSL's: ERR_OSSL_*).
function fail(info, what) {
  const err = fromNative(info);
  const part = info.part ? `${info.part}: ` : '';
  err.message = `${what}: ${part}${err.message}`;
  const required = [MBEDTLS_ERR.PK_PASSWORD_REQUIRED, MBEDTLS_ERR.PEM_PASSWORD_REQUIRED];
  const mismatch = [MBEDTLS_ERR.PK_PASSWORD_MISMATCH, MBEDTLS_ERR.PEM_PASSWORD_MISMATCH];
  if (required.includes(info.errno) || mismatch.includes(info.errno)) {
    err.code = 'ERR_OSSL_BAD_DECRYPT';
    err.message = `${what}: ${part}${required.includes(info.errno)
      ? 'the key is encrypted and no passphrase was given' : 'wrong passphrase'} (${err.mbedtlsHex})`;
  } else if (info.part === 'private key' && info.errno !== MBEDTLS_ERR.PK_UNKNOWN_PK_ALG) {
    err.code = 'ERR_OSSL_UNSUPPORTED'; // node: the key could not be decoded
  } else if (info.errno === constants.ERR_KEY_MISMATCH) {
    err.code = 'ERR_OSSL_X509_KEY_VALUES_MISMATCH';
    err.message = `${what}: the private key does not match the certificate (key values mismatch)`;
  }
  return err;
}

// A PEM-or-DER input that is neither: node's "no start line".
function checkPemOrDer(name, buffer) {
  if (buffer.length > 0 && buffer[0] === 0x30) return; // DER: an ASN.1 SEQUENCE
  if (buffer.includes('-----BEGIN')) return;
  throw new MbedtlsError(`Invalid ${name}: no PEM "-----BEGIN" line and not DER`,
    { code: 'ERR_OSSL_PEM_NO_START_LINE' });
}

// Builds a native trust store from CA bundles (strict: every certificate must parse) and CRLs.
// A bundle that holds no certificate at all (a key, text, nothing) adds nothing, as in node.
function trustStore(cas, crls, strict) {
  const store = new binding.TrustStore();
  for (const ca of cas) {
    const r = store.addCA(ca, strict);
    if (typeof r === 'object' && r !== null && !(strict && r.errno === constants.ERR_NO_CERTIFICATE)) {
      throw fail(r, 'Invalid ca certificate');
    }
  }
  for (const crl of crls) {
    const r = store.addCRL(crl);
    if (r) throw fail(r, 'Invalid crl');
  }
  return store;
}

// node's default trust store, parsed once per process (per worker), lazily. Roots Mbed TLS
// cannot parse are passed over rather than refused.
let defaultTrust;
let contextIds = 0;
function defaultTrustStore() {
  if (!defaultTrust) defaultTrust = trustStore(defaultCertificates(), [], false);
  return defaultTrust;
}

// The CAs of a native trust store as X509Certificates, made once per store (the default
// store's once per process).
const storeCertificates = new WeakMap();
function certificatesOf(store) {
  let list = storeCertificates.get(store);
  if (!list) {
    list = [];
    for (const der of store.certificates()) {
      try {
        list.push(new crypto.X509Certificate(der));
      } catch {
        // not parseable by node; Mbed TLS's verdict stands either way
      }
    }
    storeCertificates.set(store, list);
  }
  return list;
}

const CERTIFICATE_BLOCK = /-----BEGIN (?:TRUSTED |X509 )?CERTIFICATE-----/g;

// As OpenSSL's automatic chain building, which node's servers and clients do: a certificate
// given alone goes out with its issuers from the trust store (the `ca` option, or the
// default roots), up to and including the root, as far as they are found there. A `cert`
// that holds a chain is sent as it is.
function completeChain(cert, trusted) {
  const pem = cert.includes('-----BEGIN');
  if (pem && (cert.toString('latin1').match(CERTIFICATE_BLOCK) || []).length !== 1) return cert;
  let leaf;
  try {
    leaf = new crypto.X509Certificate(cert);
  } catch {
    return cert; // Mbed TLS says what is wrong with it
  }
  const issuers = [];
  const seen = new Set([leaf.fingerprint256]);
  const now = Date.now();
  for (let current = leaf; issuers.length < 10 && !current.checkIssued(current);) {
    const candidates = trusted.filter((ca) => current.checkIssued(ca));
    // As OpenSSL's lookup: an issuer valid now if there is one.
    const issuer = candidates.find((ca) => Date.parse(ca.validFrom) <= now && now <= Date.parse(ca.validTo)) ||
      candidates[0];
    if (!issuer || seen.has(issuer.fingerprint256)) break;
    seen.add(issuer.fingerprint256);
    issuers.push(issuer);
    current = issuer;
  }
  if (issuers.length === 0) return cert;
  return Buffer.from([pem ? cert.toString('latin1') : leaf.toString(), ...issuers.map(String)].join('\n'), 'latin1');
}

let defaultRoots; // [Buffer] of PEM, lazily
function defaultCertificates() {
  if (!defaultRoots) {
    defaultRoots = tls.rootCertificates.map((pem) => Buffer.from(pem));
    const extra = process.env.NODE_EXTRA_CA_CERTS;
    if (extra) {
      try {
        defaultRoots.push(fs.readFileSync(extra));
      } catch (err) {
        process.emitWarning(`Ignoring extra certs from \`${extra}\`, load failed: ${err.message}`);
      }
    }
  }
  return defaultRoots;
}

class SecureContext {
  constructor(options = {}) {
    if (options === null || typeof options !== 'object') {
      throw invalidArgType('options', 'of type object', options);
    }
    for (const name of UNSUPPORTED) {
      if (options[name] !== undefined && options[name] !== null) {
        throw new MbedtlsError(`The ${name} option is not supported by mbedtls-stream`,
          { code: 'ERR_MBEDTLS_UNSUPPORTED_OPTION', option: name });
      }
    }
    // The defaults are read now, as node's: an application may have assigned them.
    const minVersion = versionOption('minVersion', options.minVersion, defaults.minVersion);
    const maxVersion = versionOption('maxVersion', options.maxVersion, defaults.maxVersion);
    if (VERSIONS[minVersion] > VERSIONS[maxVersion]) {
      throw coded(RangeError, 'ERR_TLS_PROTOCOL_VERSION_CONFLICT',
        `minVersion ${minVersion} is higher than maxVersion ${maxVersion}`);
    }
    if (options.passphrase !== undefined && typeof options.passphrase !== 'string' &&
        !isBinary(options.passphrase)) {
      throw invalidArgType('options.passphrase', 'of type string', options.passphrase);
    }
    if (options.ciphers !== undefined && options.ciphers !== null && typeof options.ciphers !== 'string') {
      throw invalidArgType('options.ciphers', 'of type string', options.ciphers);
    }
    // As node: a list of nothing but separators names no suite for either version.
    const cipherList = options.ciphers || defaults.ciphers;
    if (cipherList.split(':').every((name) => name.length === 0)) {
      throw invalidArgValue('options.ciphers', cipherList.split(':'));
    }
    const suites = ciphers.parseCipherList(cipherList);
    const sessionTimeout = options.sessionTimeout ?? DEFAULT_SESSION_TIMEOUT;
    if (typeof sessionTimeout !== 'number') {
      throw invalidArgType('options.sessionTimeout', 'of type number', sessionTimeout);
    }
    if (!Number.isInteger(sessionTimeout) || sessionTimeout < -0x80000000 || sessionTimeout > 0x7FFFFFFF) {
      throw coded(RangeError, 'ERR_OUT_OF_RANGE', 'The value of "options.sessionTimeout" is out of range. ' +
        `It must be an integer >= -2147483648 && <= 2147483647. Received ${sessionTimeout}`);
    }
    let ticketKeys;
    if (options.ticketKeys !== undefined && options.ticketKeys !== null) {
      if (!isBinary(options.ticketKeys)) {
        throw invalidArgType('options.ticketKeys', 'an instance of Buffer, TypedArray, or DataView',
          options.ticketKeys);
      }
      ticketKeys = Buffer.from(toBuffer(options.ticketKeys)); // a copy: the caller's may change
      if (ticketKeys.length !== constants.TICKET_KEYS_LEN) {
        throw invalidArgValue('options.ticketKeys', ticketKeys.length, 'must be exactly 48 bytes');
      }
    }
    const maxFragmentLength = fragmentLength(options.maxFragmentLength);
    if (maxFragmentLength && minVersion === 'TLSv1.3') {
      throw coded(RangeError, 'ERR_TLS_PROTOCOL_VERSION_CONFLICT',
        'maxFragmentLength needs TLS 1.2 (Mbed TLS 3.6 negotiates max_fragment_length in ' +
        'TLS 1.2 only), but minVersion is TLSv1.3');
    }
    this._material = {
      ca: options.ca !== undefined && options.ca !== null ? pemList('ca', options.ca) : null,
      cert: options.cert !== undefined && options.cert !== null ? pemList('cert', options.cert) : [],
      key: options.key !== undefined && options.key !== null
        ? pemList('key', options.key, { allowObjects: true }) : [],
      crl: options.crl !== undefined && options.crl !== null ? pemList('crl', options.crl) : [],
      passphrase: options.passphrase === undefined ? undefined : Buffer.from(options.passphrase),
      minVersion, maxVersion, suites, sessionTimeout, ticketKeys, maxFragmentLength,
    };
    this._material.cert.forEach((cert) => checkPemOrDer('cert', cert));
    if (this._material.key.length > 0 && this._material.cert.length === 0) {
      throw coded(Error, 'ERR_MBEDTLS_NO_CERTIFICATE', 'A key was given without its certificate (cert option)');
    }
    const { ca, crl } = this._material;
    this._trust = ca === null && crl.length === 0
      ? defaultTrustStore() : trustStore(ca || defaultCertificates(), crl, ca !== null);
    this._configs = {};
    this._resumption = null;
    // Parse now so that bad input fails here, synchronously, before any I/O.
    this.native(false);
  }

  // The Mbed TLS config for one endpoint, ALPN list and debug level, built on first use.
  // (Mbed TLS keeps ALPN and the debug hook in the config; node sets them per connection,
  // so each combination has its config.) `server` is the context a server was created with,
  // when this one was chosen for a connection by SNI: as in node (where OpenSSL keeps the
  // first context's settings), the server's versions, cipher suites, fragment length, ticket
  // keys and session cache then apply.
  // `psk`, when a pskCallback gives the keys: for a client { key, identity }, the PSK it
  // offers before the handshake (for TLS 1.3; a config of its own, not kept) or nulls, and its
  // TLS 1.2 PSK is asked for after the server's hint; for a server { hint }, the identity hint
  // it sends in TLS 1.2 (a Buffer) or null.
  native(isServer, alpn = null, debug = 0, server = null, psk = null) {
    const base = server || this;
    if (psk && !isServer && psk.key) {
      const config = this._build(false, alpn, debug, null, this._material);
      let result = config.setPSK(psk.key, psk.identity);
      if (!result) result = config.askPSK();
      if (result) throw fail(result, 'Invalid PSK');
      return config;
    }
    const store = isServer ? base.resumption() : null;
    if (base._id === undefined) base._id = ++contextIds;
    const hint = psk && psk.hint ? psk.hint.toString('hex') : '';
    const key = `${isServer ? 'server' : 'client'}\0${debug}\0${alpn ? alpn.join('\0') : ''}\0${base._id}\0${psk ? `psk:${hint}` : ''}`;
    if (!this._configs[key]) {
      const config = this._build(isServer, alpn, debug, store, base._material);
      if (psk) {
        let result = config.askPSK();
        if (!result && psk.hint) result = config.setPSKHint(psk.hint);
        if (result) throw fail(result, 'Invalid PSK settings');
      }
      this._configs[key] = config;
    }
    return this._configs[key];
  }

  // The highest protocol version this context allows, as configured ('TLSv1.3' or 'TLSv1.2').
  maxVersion() {
    return this._material.maxVersion;
  }

  _build(isServer, alpn, debug, store, settings) {
    const m = this._material;
    const config = new binding.SecureContext(isServer, false);
    if (alpn) {
      const result = config.setALPN(alpn);
      if (result) throw fail(result, 'Invalid ALPNProtocols');
    }
    if (debug > 0) {
      const result = config.setDebug(debug);
      if (result) throw fail(result, 'Invalid debug');
    }
    let min = VERSIONS[settings.minVersion];
    let max = VERSIONS[settings.maxVersion];
    const { suites } = settings;
    // As in node, a cipher list without TLS 1.3 suites rules TLS 1.3 out (and vice versa).
    const has13 = suites.some((id) => ciphers.byId(id).version === 'TLSv1.3');
    const has12 = suites.some((id) => ciphers.byId(id).version === 'TLSv1.2');
    if (!has13) max = Math.min(max, constants.TLS1_2);
    if (!has12) min = Math.max(min, constants.TLS1_3);
    // Mbed TLS 3.6 negotiates max_fragment_length in TLS 1.2 only; as a TLS 1.3 client it
    // fails the handshake when a server accepts the request (OpenSSL's does), so a client
    // that asks for it speaks TLS 1.2.
    const { maxFragmentLength } = settings;
    if (!isServer && maxFragmentLength) max = Math.min(max, constants.TLS1_2);
    if (min > max) {
      throw new MbedtlsError('The cipher list leaves no suite for the allowed TLS versions',
        { code: 'ERR_SSL_NO_CIPHER_MATCH' });
    }
    let result = config.setVersions(min, max) || config.setCiphersuites(suites) ||
      config.setTrust(this._trust);
    if (!result && maxFragmentLength) result = config.setMaxFragmentLength(maxFragmentLength);
    if (result) throw fail(result, 'Invalid TLS settings');
    if (store) {
      result = config.setResumption(store);
      if (result) throw fail(result, 'Invalid TLS settings');
    }
    // Each key goes with the certificate it matches, wherever it is in `cert` (OpenSSL pairs
    // them by key type, not by position): cert[i] is tried first, then the others. Several
    // pairs (RSA and ECDSA) let Mbed TLS choose by what the client supports.
    const chains = [];
    const chain = (j) => {
      if (!chains[j]) chains[j] = completeChain(m.cert[j], certificatesOf(this._trust));
      return chains[j];
    };
    m.key.forEach((key, i) => {
      const pem = Buffer.isBuffer(key) ? key : key.pem;
      const passphrase = Buffer.isBuffer(key) || key.passphrase === undefined
        ? m.passphrase : Buffer.from(key.passphrase);
      const order = [...new Set([i < m.cert.length ? i : 0, ...m.cert.keys()])];
      let mismatch = null;
      for (const j of order) {
        result = config.addCertificate(chain(j), pem, passphrase);
        if (!result) return;
        if (result.errno !== constants.ERR_KEY_MISMATCH) throw fail(result, 'Invalid key or certificate');
        mismatch = mismatch || result;
      }
      throw fail(mismatch, 'Invalid key or certificate');
    });
    return config;
  }

  // Servers: the ticket keys and session-ID cache of this context, shared by its configs;
  // null when sessionTimeout <= 0 (nothing is resumable).
  resumption() {
    const m = this._material;
    if (this._resumption === null && m.sessionTimeout > 0) {
      this._resumption = new binding.Resumption(m.sessionTimeout, m.ticketKeys);
    }
    return this._resumption;
  }

  // node's SecureContext ticket key API, used by Server#getTicketKeys/setTicketKeys.
  getTicketKeys() {
    const store = this.resumption();
    return store ? store.getTicketKeys() : Buffer.from(this._material.ticketKeys || Buffer.alloc(48));
  }

  setTicketKeys(keys) {
    const store = this.resumption();
    this._material.ticketKeys = Buffer.from(keys);
    if (store) {
      const result = store.setTicketKeys(this._material.ticketKeys);
      if (result) throw fromNative(result);
    }
  }

  // The trusted CAs as X509Certificate objects (for issuerCertificate lookups), lazily.
  caCertificates() {
    return certificatesOf(this._trust);
  }
}

function createSecureContext(options) {
  return new SecureContext(options);
}

// Contexts for connect() calls that bring no secureContext, keyed by their option material,
// so a CA bundle or key is parsed once however many connections use it.
const CACHE_LIMIT = 64;
const cache = new Map();
const MATERIAL = ['ca', 'cert', 'key', 'crl', 'passphrase', 'ciphers', 'minVersion', 'maxVersion',
  'sessionTimeout', 'ticketKeys', 'maxFragmentLength'];

function feed(hash, value) {
  if (value === undefined || value === null) {
    hash.update('\0u');
  } else if (Array.isArray(value)) {
    hash.update(`\0a${value.length}`);
    value.forEach((v) => feed(hash, v));
  } else if (typeof value === 'string' || isBinary(value)) {
    hash.update(`\0s${value.length}:`);
    hash.update(value);
  } else if (typeof value === 'object' && value.pem !== undefined) {
    feed(hash, value.pem);
    feed(hash, value.passphrase);
  } else {
    hash.update(`\0${typeof value}:${String(value)}`);
  }
}

function cachedContext(options) {
  const hash = crypto.createHash('sha256');
  for (const name of MATERIAL) feed(hash, options[name]);
  for (const name of UNSUPPORTED) feed(hash, options[name]);
  for (const name of ['minVersion', 'maxVersion', 'ciphers']) feed(hash, defaults[name]);
  const key = hash.digest('base64');
  let context = cache.get(key);
  if (context) {
    cache.delete(key); // most recently used goes last
  } else {
    context = new SecureContext(options);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value);
  }
  cache.set(key, context);
  return context;
}

// node's ALPNProtocols (an array of strings, or one Buffer/TypedArray in the wire format of
// length-prefixed names) -> [string] or null.
function alpnList(value) {
  if (value === undefined || value === null) return null;
  let names;
  if (Array.isArray(value)) {
    names = value.map((item, i) => {
      if (typeof item === 'string') return item;
      throw invalidArgType(`options.ALPNProtocols[${i}]`, 'of type string', item);
    });
  } else if (isBinary(value)) {
    const wire = toBuffer(value);
    names = [];
    for (let i = 0; i < wire.length; i += 1 + wire[i]) {
      if (i + 1 + wire[i] > wire.length) {
        throw invalidArgValue('options.ALPNProtocols', value, 'is not a valid ALPN wire format');
      }
      names.push(wire.toString('latin1', i + 1, i + 1 + wire[i]));
    }
  } else {
    throw invalidArgType('options.ALPNProtocols',
      'an instance of Array, Buffer, TypedArray, or DataView', value);
  }
  for (const name of names) {
    if (name.length === 0 || name.length > 255) {
      const err = new RangeError(`The byte length of the protocol at index ${names.indexOf(name)} ` +
        `exceeds the maximum length. It must be <= 255. Received ${name.length}`);
      err.code = 'ERR_OUT_OF_RANGE';
      throw err;
    }
  }
  return names.length > 0 ? names : null;
}

// The maxFragmentLength option: one of RFC 6066's lengths, or 0 (none) when absent.
function fragmentLength(value) {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number') {
    throw invalidArgType('options.maxFragmentLength', 'of type number', value);
  }
  if (!FRAGMENT_LENGTHS.includes(value)) {
    throw outOfRange('options.maxFragmentLength', 'one of 512, 1024, 2048, 4096', value);
  }
  return value;
}

// The debug option: Mbed TLS's debug level, 0 (none, the default) to 4 (verbose).
function debugLevel(value) {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number') throw invalidArgType('options.debug', 'of type number', value);
  if (!Number.isInteger(value)) throw outOfRange('options.debug', 'an integer', value);
  if (value < 0 || value > 4) throw outOfRange('options.debug', '>= 0 && <= 4', value);
  return value;
}

function validateSecureContext(value) {
  if (!(value instanceof SecureContext)) {
    throw invalidArgValue('options.secureContext', value,
      'must be a SecureContext made by mbedtls-stream\'s createSecureContext()');
  }
  return value;
}

module.exports = {
  SecureContext, createSecureContext, cachedContext, validateSecureContext, alpnList, debugLevel,
};
