// options.js: the DTLS options of dtls.connect() and dtls.createServer(), checked with node's
// error codes, and the secure context they make (lib/context.js, on DTLS 1.2 configs).
'use strict';

const { SecureContext } = require('../context');
const { defaults } = require('../defaults');
const errors = require('../errors');

const DEFAULT_MTU = 1200; // fits any IPv6 path (RFC 8200's minimum link MTU is 1280)
// RFC 6347 4.2.4.1: an initial timer of 1 s, doubling up to 60 s.
const DEFAULT_RETRANSMIT = Object.freeze({ min: 1000, max: 60000 });
// As node's TLS server: a handshake that has not finished in 120 s fails.
const DEFAULT_SERVER_HANDSHAKE_TIMEOUT = 120000;
// The PSK suites IoT peers use (Hue entertainment: PSK-AES128-GCM-SHA256; CoAP and LwM2M:
// the CCM ones, RFC 7252 9.1.3.1 mandates CCM_8), offered first when a pskCallback is set
// and `ciphers` is not.
const PSK_CIPHERS = [
  'TLS_PSK_WITH_AES_128_GCM_SHA256', 'TLS_PSK_WITH_AES_128_CCM', 'TLS_PSK_WITH_AES_128_CCM_8',
  'TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256', 'TLS_PSK_WITH_AES_256_GCM_SHA384',
  'TLS_PSK_WITH_AES_256_CCM', 'TLS_PSK_WITH_AES_256_CCM_8', 'TLS_PSK_WITH_AES_128_CBC_SHA256',
].join(':');

const set = (value) => value !== undefined && value !== null;

function integer(options, name, min, max, fallback) {
  const value = options[name];
  if (!set(value)) return fallback;
  errors.checkInteger(value, `options.${name}`, min, max);
  return value;
}

function mtuOption(value, name = 'options.mtu') {
  if (!set(value)) return DEFAULT_MTU;
  errors.checkInteger(value, name, 64, 65535);
  return value;
}

// retransmitTimeout: { min, max } in ms (either may be left out).
function retransmitOption(value) {
  if (!set(value)) return DEFAULT_RETRANSMIT;
  if (typeof value !== 'object') {
    throw errors.invalidArgType('options.retransmitTimeout', 'of type object', value);
  }
  const min = set(value.min) ? value.min : DEFAULT_RETRANSMIT.min;
  const max = set(value.max) ? value.max : Math.max(DEFAULT_RETRANSMIT.max, min);
  errors.checkInteger(min, 'options.retransmitTimeout.min', 1, 0xFFFFFFFF);
  errors.checkInteger(max, 'options.retransmitTimeout.max', min, 0xFFFFFFFF);
  return { min, max };
}

// The client's connectionId: true (an empty CID of ours: the server may use one, we need
// none), or the Buffer the peer is to put in records for us (1 to 32 bytes). -> Buffer | null
function clientConnectionId(value) {
  if (!set(value) || value === false) return null;
  if (value === true) return Buffer.alloc(0);
  if (!errors.isBinary(value)) {
    throw errors.invalidArgType('options.connectionId', 'of type boolean or an instance of Buffer, TypedArray, or DataView', value);
  }
  const cid = Buffer.from(errors.toBuffer(value));
  if (cid.length > 32) throw errors.outOfRange('options.connectionId.length', '<= 32', cid.length);
  return cid;
}

// The server's connectionId: the length of the CIDs it hands out, 0 (none) to 32.
function serverConnectionId(value) {
  if (!set(value) || value === false) return 0;
  errors.checkInteger(value, 'options.connectionId', 0, 32);
  return value;
}

// The `ciphers` option, or, without one, node's default list, after the PSK suites when
// PSK is in use.
function ciphersOption(options) {
  if (set(options.ciphers)) return options.ciphers;
  if (typeof options.pskCallback !== 'function') return defaults.ciphers;
  // node's default list ends with !PSK, which would take them out again.
  const rest = defaults.ciphers.split(':').filter((item) => item !== '!PSK' && item !== '-PSK');
  return [PSK_CIPHERS, ...rest].join(':');
}

function makeContext(options) {
  return new SecureContext({ ...options, ciphers: ciphersOption(options) }, { datagram: true });
}

function pskCallbackOption(options) {
  if (set(options.pskCallback) && typeof options.pskCallback !== 'function') {
    throw errors.invalidArgType('options.pskCallback', 'of type function', options.pskCallback);
  }
}

function typeOption(value, fallback) {
  if (!set(value)) return fallback;
  if (value !== 'udp4' && value !== 'udp6') throw errors.invalidArgValue('options.type', value);
  return value;
}

module.exports = {
  DEFAULT_MTU, DEFAULT_RETRANSMIT, DEFAULT_SERVER_HANDSHAKE_TIMEOUT, PSK_CIPHERS,
  integer, mtuOption, retransmitOption, clientConnectionId, serverConnectionId, makeContext,
  pskCallbackOption, typeOption,
};
