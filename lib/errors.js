// errors.js: the one error class mbedtls-stream throws and emits, and the mapping from
// Mbed TLS's results (error codes, X.509 verification flags, alerts) to node's codes.
//
// Every error has a stable `code`: node's code where node:tls has one for the same
// condition, otherwise ERR_MBEDTLS_<NAME> from the Mbed TLS constant (MBEDTLS_ERR_<NAME>).
'use strict';

const { X509Certificate } = require('crypto');
const { inspect } = require('util');
const MBEDTLS_ERROR_NAMES = require('./mbedtls-errors.json');
const { constants } = require('./binding');

// MBEDTLS_ERR.<NAME>: Mbed TLS's error numbers by constant name (MBEDTLS_ERR_<NAME>).
const MBEDTLS_ERR = Object.freeze(Object.fromEntries(Object.entries(MBEDTLS_ERROR_NAMES)
  .map(([code, name]) => [name, -parseInt(code.slice(3), 16)])));

class MbedtlsError extends Error {
  // details: { code, mbedtlsCode, mbedtlsText, alert, ...fields copied onto the error }
  constructor(message, details = {}) {
    super(message);
    const { code, mbedtlsCode, mbedtlsText, alert, ...fields } = details;
    this.code = code || (mbedtlsCode ? mbedtlsCodeName(mbedtlsCode) : 'ERR_MBEDTLS');
    if (mbedtlsCode !== undefined) {
      this.mbedtlsCode = mbedtlsCode;
      this.mbedtlsHex = hex(mbedtlsCode);
      this.mbedtlsText = mbedtlsText;
    }
    if (alert !== undefined) this.alert = alert;
    Object.assign(this, fields);
  }

  get name() { return 'MbedtlsError'; }
}

// -0x7200 as Mbed TLS's own programs print it.
function hex(code) {
  return `${code < 0 ? '-' : ''}0x${Math.abs(code).toString(16).toUpperCase().padStart(4, '0')}`;
}

function mbedtlsCodeName(code) {
  if (code <= -0x10001) return ENGINE_CODES[code] || 'ERR_MBEDTLS_ENGINE';
  // Mbed TLS adds a low-level code to a high-level one (-0x3D00 + -0x0062): name the high part.
  const high = -(Math.abs(code) & 0xFF80);
  const name = MBEDTLS_ERROR_NAMES[hex(code)] || MBEDTLS_ERROR_NAMES[hex(high)];
  return name ? `ERR_MBEDTLS_${name}` : 'ERR_MBEDTLS';
}

const ENGINE_CODES = {
  [-0x10001]: 'ERR_MBEDTLS_CONFIG_FROZEN',
  [-0x10002]: 'ERR_MBEDTLS_NOT_READY',
  [-0x10003]: 'ERR_MBEDTLS_CLOSED',
  [-0x10004]: 'ERR_MBEDTLS_BAD_ARGUMENT',
  [-0x10005]: 'ERR_MBEDTLS_NO_CERTIFICATE',
  [-0x10006]: 'ERR_MBEDTLS_KEY_MISMATCH',
  [-0x10007]: 'ERR_MBEDTLS_TOO_MANY_CERTIFICATES',
  [-0x10008]: 'ERR_SSL_PACKET_LENGTH_TOO_LONG', // node's code for the same condition
  [-0x1000C]: 'ERR_MBEDTLS_CHAIN_TOO_LONG',
  [-0x1000D]: 'ERR_DTLS_MESSAGE_TOO_LARGE',
  [-0x1000E]: 'ERR_SSL_EXCESSIVE_MESSAGE_SIZE', // node's code for the same condition
};

// Text that came from the peer (names in its certificate), made safe to print: quoted,
// control and non-ASCII characters escaped, and cut short.
function quote(text) {
  const escaped = JSON.stringify(String(text)).replace(/[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length > 200 ? `${escaped.slice(0, 197)}..."` : escaped;
}

// A plain-words pointer to the usual cause of the failures people meet most.
function hintFor(code, { leaf, top, host } = {}) {
  switch (code) {
    case 'CERT_NOT_YET_VALID':
      return `The certificate is valid from ${leaf ? leaf.validFrom : 'a later date'}; this ` +
        `machine's clock says ${new Date().toUTCString()}. Is the system clock set?`;
    case 'CERT_HAS_EXPIRED':
      return `The certificate expired ${leaf ? leaf.validTo : ''}; this machine's clock says ` +
        `${new Date().toUTCString()}.`;
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      return top ? `No trusted certificate for the issuer ${quote(top.issuer)} of ` +
        `${quote(top.subject)}: trust it with the ca option, or have the server send its ` +
        'intermediate certificates.' : undefined;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return leaf ? `The certificate is for ${quote(leaf.subjectAltName || `CN of ${leaf.subject}`)}` +
        `, not ${quote(host)}.` : undefined;
    case 'ERR_SSL_PACKET_LENGTH_TOO_LONG':
      if (constants.PROFILE === 'small') {
        return `The peer sent a record larger than this build takes (${constants.RECORD_CONTENT_LENGTH} ` +
          'bytes of content: mbedtls-stream was built with --mbedtls_profile=small). A peer ' +
          'sends records that small only when asked (max_fragment_length, record_size_limit): ' +
          'this build\'s clients ask their servers, but node\'s tls client, for one, never asks ' +
          'and sends up to 16384 bytes.';
      }
      return 'The peer sent a record larger than the receiving buffer allows (16384 bytes of ' +
        'content here). This is Mbed TLS\'s -0x7200 problem seen from the other side: a peer ' +
        'with small buffers must be sent records limited by max fragment length.';
    case 'ERR_SSL_HTTP_REQUEST':
      return 'The peer sent a plain HTTP request to this TLS port (an http:// URL where ' +
        'https:// was meant?).';
    case 'ERR_SSL_HTTPS_PROXY_REQUEST':
      return 'The peer sent an HTTP proxy request (CONNECT) to this TLS port: it takes this ' +
        'server for a proxy.';
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return 'The peer\'s first bytes are not a TLS record: is it speaking TLS on this port ' +
        '(plain HTTP, for example)?';
    case 'ERR_MBEDTLS_SSL_INVALID_RECORD':
      return 'The peer sent something that is not a TLS record of the negotiated version ' +
        '(is it speaking TLS on this port, plain HTTP for example?), or a record larger ' +
        'than this side\'s buffer (max fragment length).';
    default:
      return undefined;
  }
}

// node's code for a peer whose first record header (`first`, its first five bytes) is not
// TLS, as OpenSSL names it: an HTTP request or proxy CONNECT sent to a server, otherwise a
// wrong version number. undefined when the header is TLS's (major version 3), or is an
// SSLv2-format ClientHello to a server (which OpenSSL names by its lengths).
function notTlsCode(first, isServer) {
  if (first === undefined || first.length < 3 || first[1] === 3) return undefined;
  if (isServer) {
    if (first[0] & 0x80 && first[2] === 1) return undefined;
    const text = first.toString('latin1');
    if (/^(GET |POST|HEAD|PUT )/.test(text)) return 'ERR_SSL_HTTP_REQUEST';
    if (text.startsWith('CONNE')) return 'ERR_SSL_HTTPS_PROXY_REQUEST';
  }
  return 'ERR_SSL_WRONG_VERSION_NUMBER';
}

// Mbed TLS results that node names, by Mbed TLS code: node's code for the same condition.
const NODE_CODES = {
  // The server has no ciphersuite in common with the client (deps/patches/0009).
  [MBEDTLS_ERR.SSL_NO_CIPHER_CHOSEN]: 'ERR_SSL_NO_SHARED_CIPHER',
};

// { errno, message, alert } from the native side -> MbedtlsError
function fromNative(info, extra = {}) {
  const details = { mbedtlsCode: info.errno, mbedtlsText: info.message, ...extra };
  if (!details.code && NODE_CODES[info.errno]) details.code = NODE_CODES[info.errno];
  let message = `${info.message} (${hex(info.errno)})`;
  if (info.alert !== undefined) {
    const alert = ALERTS[info.alert] || { name: `alert_${info.alert}`, code: 'ERR_SSL_ALERT' };
    details.alert = alert.name;
    details.code = details.code || alert.code;
    message = `peer sent fatal alert ${alert.name} (${info.alert}): ${message}`;
  }
  const err = new MbedtlsError(extra.message || message, details);
  const hint = hintFor(err.code);
  if (hint) err.hint = hint;
  return err;
}

// TLS alert descriptions (RFC 8446 6.2, RFC 5246 7.2) and node's codes for receiving them.
const ALERTS = {};
for (const [number, name, prefix] of [
  [0, 'close_notify', 'SSLV3_ALERT'], [10, 'unexpected_message', 'SSLV3_ALERT'],
  [20, 'bad_record_mac', 'SSLV3_ALERT'], [21, 'decryption_failed', 'TLSV1_ALERT'],
  [22, 'record_overflow', 'TLSV1_ALERT'], [30, 'decompression_failure', 'SSLV3_ALERT'],
  [40, 'handshake_failure', 'SSLV3_ALERT'], [41, 'no_certificate', 'SSLV3_ALERT'],
  [42, 'bad_certificate', 'SSLV3_ALERT'], [43, 'unsupported_certificate', 'SSLV3_ALERT'],
  [44, 'certificate_revoked', 'SSLV3_ALERT'], [45, 'certificate_expired', 'SSLV3_ALERT'],
  [46, 'certificate_unknown', 'SSLV3_ALERT'], [47, 'illegal_parameter', 'SSLV3_ALERT'],
  [48, 'unknown_ca', 'TLSV1_ALERT'], [49, 'access_denied', 'TLSV1_ALERT'],
  [50, 'decode_error', 'TLSV1_ALERT'], [51, 'decrypt_error', 'TLSV1_ALERT'],
  [70, 'protocol_version', 'TLSV1_ALERT'], [71, 'insufficient_security', 'TLSV1_ALERT'],
  [80, 'internal_error', 'TLSV1_ALERT'], [86, 'inappropriate_fallback', 'TLSV1_ALERT'],
  [90, 'user_canceled', 'TLSV1_ALERT'], [100, 'no_renegotiation', 'TLSV1_ALERT'],
  [109, 'missing_extension', 'TLSV13_ALERT'], [110, 'unsupported_extension', 'TLSV1'],
  [111, 'certificate_unobtainable', 'TLSV1'], [112, 'unrecognized_name', 'TLSV1'],
  [113, 'bad_certificate_status_response', 'TLSV1'], [114, 'bad_certificate_hash_value', 'TLSV1'],
  [115, 'unknown_psk_identity', 'TLSV1_ALERT'], [116, 'certificate_required', 'TLSV13_ALERT'],
  [120, 'no_application_protocol', 'TLSV1_ALERT'],
]) {
  ALERTS[number] = { name, code: `ERR_SSL_${prefix}_${name.toUpperCase()}` };
}

// X.509 verification flags (MBEDTLS_X509_BADCERT_*, MBEDTLS_X509_BADCRL_*).
const X509 = {
  BADCERT_EXPIRED: 0x01, BADCERT_REVOKED: 0x02, BADCERT_CN_MISMATCH: 0x04,
  BADCERT_NOT_TRUSTED: 0x08, BADCRL_NOT_TRUSTED: 0x10, BADCRL_EXPIRED: 0x20,
  BADCERT_MISSING: 0x40, BADCERT_SKIP_VERIFY: 0x80, BADCERT_OTHER: 0x0100,
  BADCERT_FUTURE: 0x0200, BADCRL_FUTURE: 0x0400, BADCERT_KEY_USAGE: 0x0800,
  BADCERT_EXT_KEY_USAGE: 0x1000, BADCERT_NS_CERT_TYPE: 0x2000, BADCERT_BAD_MD: 0x4000,
  BADCERT_BAD_PK: 0x8000, BADCERT_BAD_KEY: 0x010000, BADCRL_BAD_MD: 0x020000,
  BADCRL_BAD_PK: 0x040000, BADCRL_BAD_KEY: 0x080000,
};

// node's verification codes and OpenSSL's texts for them, as node reports them.
const VERIFY_MESSAGES = {
  UNABLE_TO_GET_ISSUER_CERT: 'unable to get issuer certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain',
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  CERT_REVOKED: 'certificate revoked',
  INVALID_PURPOSE: 'unsupported certificate purpose',
  PATH_LENGTH_EXCEEDED: 'path length constraint exceeded',
  INVALID_CA: 'invalid CA certificate',
  CERT_SIGNATURE_FAILURE: 'certificate signature failure',
  CERT_REJECTED: 'certificate rejected',
  EE_KEY_TOO_SMALL: 'EE certificate key too weak',
  CA_KEY_TOO_SMALL: 'CA certificate key too weak',
  CA_MD_TOO_WEAK: 'CA signature digest algorithm too weak',
  KEYUSAGE_NO_CERTSIGN: 'key usage does not include certificate signing',
  UNHANDLED_CRITICAL_EXTENSION: 'unhandled critical extension',
  UNABLE_TO_GET_CRL: 'unable to get certificate CRL',
  CRL_HAS_EXPIRED: 'CRL has expired',
  CRL_NOT_YET_VALID: 'CRL is not yet valid',
  CRL_SIGNATURE_FAILURE: 'CRL signature failure',
};

// A self-signed version 1 certificate (no extensions at all, as old roots are): OpenSSL's
// X509_check_ca() counts it as a CA, though node's `ca` (basicConstraints) says false.
function isVersion1Root(cert) {
  if (cert.ca || cert.subject !== cert.issuer || !cert.checkIssued(cert)) return false;
  // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, ... } }: a
  // version 1 certificate has no [0].
  const der = cert.raw;
  const skipHeader = (at) => at + 2 + (der[at + 1] & 0x80 ? der[at + 1] & 0x7F : 0);
  return der[skipHeader(skipHeader(0))] !== 0xA0;
}

function x509(der) {
  try {
    return der ? new X509Certificate(der) : null;
  } catch {
    return null;
  }
}

const CRL_MISSING = 0x40000000; // MST_X509_CRL_MISSING in engine.h
const PARTIAL_CHAIN = 0x20000000; // MST_X509_PARTIAL_CHAIN in engine.h

// Mbed TLS's verdict on the peer's chain -> OpenSSL's name for it, or null when verified.
//   flags     the final MBEDTLS_X509_BADCERT_* flags (names excluded)
//   verified  [[der, flags], ...]: the path Mbed TLS built, leaf (depth 0) upwards
//   sent      [der, ...]: the chain as the peer sent it
// Mbed TLS decides; this only names its decision the way node would. node lets OpenSSL run
// every check and reports the last error found, so the errors are collected in OpenSSL's
// order (building the chain, extensions, key strength, revocation, then signatures and
// validity from the top down) and the last one is the answer.
function verifyCode(flags, verified, sent) {
  if (flags === 0) return null;
  if (flags === 0xFFFFFFFF || flags & X509.BADCERT_MISSING || verified.length === 0) {
    return 'UNABLE_TO_GET_ISSUER_CERT';
  }
  const found = [];
  const top = verified.length - 1;
  const depthFlags = verified.map(([, f]) => f);
  let refusedIssuer = null;
  if (depthFlags[top] & PARTIAL_CHAIN) {
    // A trusted intermediate ends the chain: OpenSSL finds no issuer for it.
    found.push('UNABLE_TO_GET_ISSUER_CERT');
  } else if (depthFlags[top] & X509.BADCERT_NOT_TRUSTED) {
    const last = x509(verified[top][0]);
    // An issuer the peer sent that Mbed TLS would not take as a parent (OpenSSL would have
    // built the chain with it and found fault later).
    refusedIssuer = last && sent.map(x509).find((c) => c && !c.raw.equals(last.raw) &&
      c.subject === last.issuer);
    if (refusedIssuer) {
      // Mbed TLS takes a version 1 root as a parent only when it trusts it; OpenSSL takes it
      // as a CA and builds the chain up to it, an untrusted self-signed top.
      if (isVersion1Root(refusedIssuer)) found.push('SELF_SIGNED_CERT_IN_CHAIN');
      else if (!refusedIssuer.ca) found.push('INVALID_CA');
      else if (last.checkIssued(refusedIssuer)) found.push('PATH_LENGTH_EXCEEDED');
    } else if (last && last.subject === last.issuer) {
      found.push(top === 0 ? 'DEPTH_ZERO_SELF_SIGNED_CERT' : 'SELF_SIGNED_CERT_IN_CHAIN');
    } else {
      found.push(top === 0 ? 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' : 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
    }
  }
  if (flags & (X509.BADCERT_KEY_USAGE | X509.BADCERT_EXT_KEY_USAGE | X509.BADCERT_NS_CERT_TYPE)) {
    found.push('INVALID_PURPOSE');
  }
  if (flags & X509.BADCERT_BAD_KEY) {
    found.push(depthFlags[0] & X509.BADCERT_BAD_KEY ? 'EE_KEY_TOO_SMALL' : 'CA_KEY_TOO_SMALL');
  }
  if (flags & (X509.BADCERT_BAD_MD | X509.BADCERT_BAD_PK)) found.push('CA_MD_TOO_WEAK');
  // Revocation, certificate by certificate from the leaf up.
  for (const f of depthFlags) {
    if (f & CRL_MISSING) found.push('UNABLE_TO_GET_CRL');
    if (f & (X509.BADCRL_NOT_TRUSTED | X509.BADCRL_BAD_MD | X509.BADCRL_BAD_PK | X509.BADCRL_BAD_KEY)) {
      found.push('CRL_SIGNATURE_FAILURE');
    }
    if (f & X509.BADCRL_FUTURE) found.push('CRL_NOT_YET_VALID');
    if (f & X509.BADCRL_EXPIRED) found.push('CRL_HAS_EXPIRED');
    if (f & X509.BADCERT_REVOKED) found.push('CERT_REVOKED');
  }
  // The refused issuer signed what it should not have: OpenSSL says so while verifying
  // signatures (its checkIssued() is what refuses a key without keyCertSign).
  if (refusedIssuer && !x509(verified[top][0]).checkIssued(refusedIssuer)) {
    found.push('KEYUSAGE_NO_CERTSIGN');
  }
  for (let depth = top; depth >= 0; depth--) {
    const f = depthFlags[depth];
    // Below the top, "not trusted" means the parent's signature on this one did not verify.
    if (depth < top && f & X509.BADCERT_NOT_TRUSTED) found.push('CERT_SIGNATURE_FAILURE');
    if (f & X509.BADCERT_FUTURE) found.push('CERT_NOT_YET_VALID');
    if (f & X509.BADCERT_EXPIRED) found.push('CERT_HAS_EXPIRED');
  }
  return found.length > 0 ? found[found.length - 1] : 'CERT_REJECTED';
}

// The verification errors node names; it reports every other one as UNSPECIFIED, with
// OpenSSL's text as the message (src/crypto/crypto_common.cc in node).
const NODE_NAMED = new Set(['UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_SIGNATURE_FAILURE', 'CRL_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED', 'CRL_NOT_YET_VALID', 'CRL_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD', 'ERROR_IN_CRL_NEXT_UPDATE_FIELD', 'OUT_OF_MEM',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED', 'INVALID_CA', 'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH']);

// An error as node reports a verification failure: code (or UNSPECIFIED) and OpenSSL's text;
// `reason` keeps the precise name either way.
function verifyError(reason, flags) {
  const code = NODE_NAMED.has(reason) ? reason : 'UNSPECIFIED';
  return new MbedtlsError(VERIFY_MESSAGES[reason] || reason, { code, reason, verifyFlags: flags });
}

// Node's argument errors, with node's codes and message shapes.
function describe(value) {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    return value.constructor?.name ? `an instance of ${value.constructor.name}` : inspect(value, { depth: -1 });
  }
  if (typeof value === 'string') {
    // As node shows a string: cut short, quoted (not escaped).
    const text = value.length > 28 ? `${value.slice(0, 25)}...` : value;
    const quote = ["'", '"', '`'].find((q) => !text.includes(q)) || "'";
    return `type string (${quote}${text}${quote})`;
  }
  return `type ${typeof value} (${inspect(value, { colors: false })})`;
}

// `name` is an argument ('size') or an option ('options.ciphers'), which node calls a property.
const kindOf = (name) => (name.includes('.') ? 'property' : 'argument');

function invalidArgType(name, expected, value) {
  const err = new TypeError(`The "${name}" ${kindOf(name)} must be ${expected}. Received ${describe(value)}`);
  err.code = 'ERR_INVALID_ARG_TYPE';
  return err;
}

function invalidArgValue(name, value, reason = 'is invalid') {
  let shown = inspect(value);
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;
  const err = new TypeError(`The ${kindOf(name)} '${name}' ${reason}. Received ${shown}`);
  err.code = 'ERR_INVALID_ARG_VALUE';
  return err;
}

// node's ERR_OUT_OF_RANGE: `range` says what is allowed ("an integer", ">= 0 && <= 4").
function outOfRange(name, range, value) {
  let shown = String(value);
  // Large integers with node's digit separators: 4_294_967_296.
  if (Number.isInteger(value) && Math.abs(value) > 2 ** 32) shown = separated(shown);
  else if (typeof value === 'bigint') shown = `${value > 2n ** 32n || value < -(2n ** 32n) ? separated(shown) : shown}n`;
  const err = new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${shown}`);
  err.code = 'ERR_OUT_OF_RANGE';
  return err;
}

function separated(digits) {
  const sign = digits[0] === '-' ? '-' : '';
  let rest = sign ? digits.slice(1) : digits;
  let out = '';
  for (; rest.length > 3; rest = rest.slice(0, -3)) out = `_${rest.slice(-3)}${out}`;
  return `${sign}${rest}${out}`;
}

// node's checks of an integer argument (its validateInt32 and validateUint32): the wrong type
// is ERR_INVALID_ARG_TYPE, a non-integer or a value outside [min, max] ERR_OUT_OF_RANGE.
function checkInteger(value, name, min, max) {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
  return value;
}

// Buffer, any TypedArray or a DataView, as node's options and arguments take binary data.
const isBinary = (value) => ArrayBuffer.isView(value);

// A Buffer over the same memory (no copy) of a Buffer, TypedArray or DataView.
function toBuffer(value) {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function coded(ErrorClass, code, message) {
  const err = new ErrorClass(message);
  err.code = code;
  return err;
}

// What a callback threw or returned in place of an Error with a code, as a coded error:
// an Error with a code stays as it is (node passes such errors on), one without keeps its
// message (the one node reports) and gets a code.
function callbackError(err) {
  if (err instanceof Error && typeof err.code === 'string') return err;
  const wrapped = new MbedtlsError(
    err instanceof Error ? err.message : `A TLS callback failed: ${String(err)}`,
    { code: 'ERR_MBEDTLS_CALLBACK_FAILED' });
  wrapped.cause = err;
  return wrapped;
}

module.exports = {
  callbackError,
  MbedtlsError, MBEDTLS_ERR, ALERTS, X509, VERIFY_MESSAGES,
  fromNative, notTlsCode, verifyCode, verifyError, hex, mbedtlsCodeName, hintFor, quote, x509,
  invalidArgType, invalidArgValue, outOfRange, checkInteger, isBinary, toBuffer, coded,
};
