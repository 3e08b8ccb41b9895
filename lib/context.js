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
  MbedtlsError, MBEDTLS_ERR, fromNative, invalidArgType, invalidArgValue, outOfRange, checkInteger,
  isBinary, toBuffer, coded,
} = require('./errors');

const { constants } = binding;
const VERSIONS = { 'TLSv1.2': constants.TLS1_2, 'TLSv1.3': constants.TLS1_3 };
const OLD_VERSIONS = new Set(['TLSv1', 'TLSv1.1', 'SSLv3']);
const DEFAULT_SESSION_TIMEOUT = 300; // seconds, as node
const FRAGMENT_LENGTHS = [512, 1024, 2048, 4096]; // RFC 6066's max_fragment_length values
// The small build profile (npm install --mbedtls_profile=small; deps/build-profile.js) takes
// records of 4 KiB at most, so its TLS clients ask their servers for no longer ones by default,
// in TLS 1.2 and 1.3 (deps/patches/0011); the default profile asks only when told to.
const SMALL_PROFILE = constants.PROFILE === 'small';
const PROFILE_FRAGMENT_LENGTH = SMALL_PROFILE ? constants.RECORD_CONTENT_LENGTH : 0;
// OpenSSL's default TLS 1.3 suites, which node keeps when `ciphers` names none.
const DEFAULT_TLS13_SUITES = 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256';

const set = (value) => value !== undefined && value !== null;

function checkString(name, value) {
  if (typeof value !== 'string') throw invalidArgType(`options.${name}`, 'of type string', value);
}

// Options node accepts that this library cannot honour: setting one is an error, never
// silently ignored. Each value is first checked as node checks it, so bad input gets node's
// error. `isSet` says when node takes the option as given (node's own rule per option).
const UNSUPPORTED = {
  pfx: { isSet: set },
  dhparam: { isSet: set, check: (value) => pemItem('dhparam', value) },
  sigalgs: {
    isSet: set,
    check(value) {
      checkString('sigalgs', value);
      if (value === '') throw invalidArgValue('options.sigalgs', value);
    },
  },
  privateKeyIdentifier: {
    isSet: set,
    check(value, options) {
      if (!set(options.privateKeyEngine)) throw invalidArgValue('options.privateKeyEngine', options.privateKeyEngine);
      checkString('privateKeyEngine', options.privateKeyEngine);
      checkString('privateKeyIdentifier', value);
    },
  },
  privateKeyEngine: { isSet: set },
  clientCertEngine: {
    isSet: set,
    check(value) {
      if (typeof value !== 'string') {
        throw invalidArgType('options.clientCertEngine', 'of type string or one of null or undefined', value);
      }
    },
  },
  // 'auto', node's default, leaves the choice of groups to the TLS library: Mbed TLS's default.
  ecdhCurve: {
    isSet: (value) => value !== undefined,
    check: (value) => checkString('ecdhCurve', value),
    allowed: 'auto',
  },
  secureProtocol: { isSet: set },
  // node ignores 0.
  secureOptions: {
    isSet: Boolean,
    check(value) {
      if (typeof value !== 'number') throw invalidArgType('secureOptions', 'of type number', value);
    },
  },
};

function refuseUnsupported(options) {
  for (const [name, { isSet, check, allowed }] of Object.entries(UNSUPPORTED)) {
    const value = options[name];
    if (!isSet(value)) continue;
    if (check) check(value, options);
    if (value === allowed) continue;
    throw new MbedtlsError(`The ${name} option is not supported by mbedtls-stream`,
      { code: 'ERR_MBEDTLS_UNSUPPORTED_OPTION', option: name });
  }
}

// One item of node's key, cert, ca, crl or dhparam: a string, Buffer, TypedArray or DataView.
function pemItem(name, item) {
  if (typeof item === 'string') return Buffer.from(item);
  if (isBinary(item)) return toBuffer(item);
  throw invalidArgType(`options.${name}`, 'of type string or an instance of Buffer, TypedArray, or DataView', item);
}

// One item or an array of them -> [Buffer]; node's ca/cert/crl shapes.
function pemList(name, value) {
  return (Array.isArray(value) ? value : [value]).map((item) => pemItem(name, item));
}

// node's key option: a key, or an array of keys and { pem, passphrase } objects, each with
// its passphrase (the object's, else the passphrase option), a string when given.
// -> [{ pem: Buffer, passphrase: Buffer | undefined }]
function keyList(value, passphrase) {
  const inArray = Array.isArray(value);
  return (inArray ? value : [value]).map((item) => {
    const object = inArray && item !== null && typeof item === 'object' && item.pem !== undefined;
    const pem = pemItem('key', object ? item.pem : item);
    const pass = object && item.passphrase !== undefined ? item.passphrase : passphrase;
    if (!set(pass)) return { pem, passphrase: undefined };
    checkString('passphrase', pass);
    return { pem, passphrase: Buffer.from(pass) };
  });
}

// As node's, a version that is not one of its names is ERR_TLS_INVALID_PROTOCOL_VERSION,
// whatever its type.
function versionOption(name, value, fallback) {
  if (!set(value)) return fallback;
  if (Object.hasOwn(VERSIONS, value)) return value;
  if (OLD_VERSIONS.has(value)) {
    throw new MbedtlsError(`${value} is not supported: Mbed TLS 3.6 speaks TLS 1.2 and 1.3 only`,
      { code: 'ERR_TLS_INVALID_PROTOCOL_VERSION' });
  }
  throw coded(TypeError, 'ERR_TLS_INVALID_PROTOCOL_VERSION',
    `${JSON.stringify(value)} is not a valid ${name === 'minVersion' ? 'minimum' : 'maximum'} TLS protocol version`);
}

// The ciphers option -> suite ids. As node's, an absent or empty string is the default, and
// a string of nothing but separators is ERR_INVALID_ARG_VALUE.
function cipherOption(value) {
  if (set(value)) checkString('ciphers', value);
  const spec = value || defaults.ciphers;
  const parts = spec.split(':');
  if (parts.every((part) => part === '')) throw invalidArgValue('options.ciphers', parts);
  return ciphers.parseCipherList(spec);
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
    // "bad decrypt": the words of node's code, which node gives for both.
    err.message = `${what}: ${part}bad decrypt: ${required.includes(info.errno)
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

// node takes a key without a certificate (and its server then fails every handshake). Mbed
// TLS holds a key only with its certificate, so such a key is never used; it is parsed here as
// node parses it (PEM, a missing passphrase being an empty one), for node's error on a bad one.
function checkLoneKeys(keys) {
  for (const { pem, passphrase } of keys) {
    crypto.createPrivateKey({ key: pem, format: 'pem', passphrase: passphrase || '' });
  }
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
  // `transport` is lib/dtls's: { datagram: true } makes DTLS 1.2 configs (TLS 1.2's suites).
  constructor(options, transport = null) {
    this._datagram = Boolean(transport && transport.datagram);
    if (!set(options)) options = {};
    if (typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
    refuseUnsupported(options);
    // The defaults are read now, as node's: an application may have assigned them.
    const minVersion = versionOption('minVersion', options.minVersion, defaults.minVersion);
    const maxVersion = versionOption('maxVersion', options.maxVersion, defaults.maxVersion);
    if (VERSIONS[minVersion] > VERSIONS[maxVersion]) {
      throw coded(RangeError, 'ERR_TLS_PROTOCOL_VERSION_CONFLICT',
        `minVersion ${minVersion} is higher than maxVersion ${maxVersion}`);
    }
    // In node's order: ca, cert, key, ciphers, crl, ticket keys, session timeout. As node's,
    // a falsy ca, cert or key (null, false, '', 0) is no ca, cert or key.
    const ca = options.ca ? pemList('ca', options.ca) : null;
    const cert = options.cert ? pemList('cert', options.cert) : [];
    const key = options.key ? keyList(options.key, options.passphrase) : [];
    const suites = cipherOption(options.ciphers);
    const crl = set(options.crl) ? pemList('crl', options.crl) : [];
    if (set(options.sessionIdContext)) checkString('sessionIdContext', options.sessionIdContext);
    let ticketKeys;
    if (set(options.ticketKeys)) {
      if (!isBinary(options.ticketKeys)) {
        throw invalidArgType('options.ticketKeys', 'an instance of Buffer, TypedArray, or DataView',
          options.ticketKeys);
      }
      if (options.ticketKeys.byteLength !== constants.TICKET_KEYS_LEN) {
        throw invalidArgValue('options.ticketKeys', options.ticketKeys.byteLength, 'must be exactly 48 bytes');
      }
      ticketKeys = Buffer.from(toBuffer(options.ticketKeys)); // a copy: the caller's may change
    }
    const sessionTimeout = options.sessionTimeout ?? DEFAULT_SESSION_TIMEOUT;
    checkInteger(sessionTimeout, 'options.sessionTimeout', 0, 0x7FFFFFFF);
    const maxFragmentLength = fragmentLength(options.maxFragmentLength);
    // node's allowPartialTrustChain: an intermediate in `ca` may end a chain.
    if (set(options.allowPartialTrustChain) && typeof options.allowPartialTrustChain !== 'boolean') {
      throw invalidArgType('options.allowPartialTrustChain', 'of type boolean', options.allowPartialTrustChain);
    }
    this.allowPartialTrustChain = Boolean(options.allowPartialTrustChain);
    // node's honorCipherOrder: a server picks the TLS 1.2 suite by its own order, not the client's.
    if (set(options.honorCipherOrder) && typeof options.honorCipherOrder !== 'boolean') {
      throw invalidArgType('options.honorCipherOrder', 'of type boolean', options.honorCipherOrder);
    }
    this.honorCipherOrder = Boolean(options.honorCipherOrder);
    if (maxFragmentLength && minVersion === 'TLSv1.3' && !SMALL_PROFILE) {
      throw coded(RangeError, 'ERR_TLS_PROTOCOL_VERSION_CONFLICT',
        'maxFragmentLength needs TLS 1.2 (Mbed TLS 3.6 negotiates max_fragment_length in ' +
        'TLS 1.2 only), but minVersion is TLSv1.3');
    }
    this._material = {
      ca, cert, key, crl, minVersion, maxVersion, suites, sessionTimeout, ticketKeys, maxFragmentLength,
    };
    cert.forEach((item) => checkPemOrDer('cert', item));
    if (cert.length === 0) checkLoneKeys(key);
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
  // `dtls`: DTLS settings of the config (binding.dtls.configure's: cidLength, retransmitMin,
  // retransmitMax, cookies), or null.
  native(isServer, alpn = null, debug = 0, server = null, psk = null, dtls = null) {
    const base = server || this;
    if (psk && !isServer && psk.key) {
      const config = this._build(false, alpn, debug, null, this._material, dtls);
      let result = config.setPSK(psk.key, psk.identity);
      if (!result) result = config.askPSK();
      if (result) throw fail(result, 'Invalid PSK');
      return config;
    }
    const store = isServer ? base.resumption() : null;
    if (base._id === undefined) base._id = ++contextIds;
    const hint = psk && psk.hint ? psk.hint.toString('hex') : '';
    const key = `${isServer ? 'server' : 'client'}\0${debug}\0${alpn ? alpn.join('\0') : ''}\0${base._id}\0${psk ? `psk:${hint}` : ''}\0${dtls ? JSON.stringify(dtls) : ''}`;
    if (!this._configs[key]) {
      const config = this._build(isServer, alpn, debug, store, base._material, dtls, base._datagram);
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

  // `datagram`: DTLS (a context chosen by SNI for a DTLS server follows the server's).
  _build(isServer, alpn, debug, store, settings, dtls = null, datagram = this._datagram) {
    const m = this._material;
    const config = new binding.SecureContext(isServer, datagram);
    if (dtls) {
      const result = binding.dtls.configure(config, dtls);
      if (result) throw fail({ errno: result, message: 'Invalid DTLS settings' }, 'Invalid DTLS settings');
    }
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
    let { suites } = settings;
    // As in node (OpenSSL sets TLS 1.3 suites apart), a cipher list that names no TLS 1.3
    // suite leaves TLS 1.3 its default suites; one with TLS 1.3 suites only rules TLS 1.2 out.
    const has13 = suites.some((id) => ciphers.byId(id).version === 'TLSv1.3');
    const has12 = suites.some((id) => ciphers.byId(id).version === 'TLSv1.2');
    if (datagram) {
      // DTLS 1.2: TLS 1.2's suites only.
      if (!has12) {
        throw new MbedtlsError('The cipher list names no TLS 1.2 suite, which DTLS 1.2 needs',
          { code: 'ERR_SSL_NO_CIPHER_MATCH' });
      }
      suites = suites.filter((id) => ciphers.byId(id).version === 'TLSv1.2');
      min = max = constants.TLS1_2;
    } else if (!has13) {
      suites = [...suites, ...ciphers.parseCipherList(DEFAULT_TLS13_SUITES)];
    }
    if (!has12) min = Math.max(min, constants.TLS1_3);
    // Mbed TLS 3.6.6 negotiates max_fragment_length in TLS 1.2 only; as a TLS 1.3 client it
    // fails the handshake when a server accepts the request (OpenSSL's does), so in the
    // default profile a client that asks for it speaks TLS 1.2. Patch 0011 lets its TLS 1.3
    // client ask too, which the small profile needs; there a TLS client asks for its
    // record length unless told otherwise (DTLS records are bounded by the path's MTU).
    let { maxFragmentLength } = settings;
    if (!isServer && !datagram && !maxFragmentLength) maxFragmentLength = PROFILE_FRAGMENT_LENGTH;
    if (!isServer && maxFragmentLength && !SMALL_PROFILE) max = Math.min(max, constants.TLS1_2);
    if (min > max) {
      throw new MbedtlsError('The cipher list leaves no suite for the allowed TLS versions',
        { code: 'ERR_SSL_NO_CIPHER_MATCH' });
    }
    let result = config.setVersions(min, max) || config.setCiphersuites(suites) ||
      config.setTrust(this._trust);
    if (!result && isServer) result = config.setCipherOrder(this.honorCipherOrder);
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
    // (Keys without a certificate serve nothing: see checkLoneKeys.)
    if (m.cert.length === 0) return config;
    m.key.forEach((key, i) => {
      const { pem, passphrase } = key;
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
  'allowPartialTrustChain', 'honorCipherOrder',
  'sessionTimeout', 'ticketKeys', 'maxFragmentLength'];

function feed(hash, value) {
  if (value === undefined || value === null) {
    hash.update('\0u');
  } else if (Array.isArray(value)) {
    hash.update(`\0a${value.length}`);
    value.forEach((v) => feed(hash, v));
  } else if (typeof value === 'string' || isBinary(value)) {
    hash.update(`\0s${typeof value === 'string' ? value.length : value.byteLength}:`);
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
  for (const name of Object.keys(UNSUPPORTED)) feed(hash, options[name]);
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

// node's check of a secureContext (code and message); ours says more in `hint`.
function validateSecureContext(value) {
  if (!(value instanceof SecureContext)) {
    const err = coded(TypeError, 'ERR_TLS_INVALID_CONTEXT', 'context must be a SecureContext');
    err.hint = 'A secureContext must be made by mbedtls-stream\'s createSecureContext() (node\'s own are OpenSSL\'s)';
    throw err;
  }
  return value;
}

module.exports = {
  SecureContext, createSecureContext, cachedContext, validateSecureContext, alpnList, debugLevel,
};
