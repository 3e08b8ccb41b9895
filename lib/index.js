// mbedtls-stream: node:tls's API on Mbed TLS 3.6. See README.md.
'use strict';

const tls = require('tls');
const ciphers = require('./ciphers');
const context = require('./context');
const errors = require('./errors');
const { TLSSocket } = require('./socket');
const { connect } = require('./connect');
const { Server, createServer } = require('./server');
const { Agent } = require('./agent');
const { SecurePair, createSecurePair } = require('./secure-pair');
const { defaults } = require('./defaults');

module.exports = {
  connect,
  createServer,
  createSecureContext: context.createSecureContext,
  SecureContext: context.SecureContext,
  TLSSocket,
  Server,
  // An https.Agent over our client sockets, with node's session resumption.
  Agent,
  MbedtlsError: errors.MbedtlsError,
  getCiphers: ciphers.getCiphers,
  // The build profile of the native addon: 'default' (16 KiB records), or 'small' (4 KiB
  // records, npm install --mbedtls_profile=small).
  buildProfile: require('./binding').constants.PROFILE,
  // Bytes Mbed TLS holds in this process, now and at the most.
  mbedtlsMemoryUsage() {
    const [current, peak] = require('./binding').memoryTotals();
    return { current, peak };
  },
  // node's own name rules and trust store, used as they are.
  checkServerIdentity: tls.checkServerIdentity,
  convertALPNProtocols: tls.convertALPNProtocols,
  // Deprecated in node (DEP0064), still exported there.
  createSecurePair,
  SecurePair,
  get rootCertificates() { return tls.rootCertificates; },
  // Assignable, as node's: contexts made afterwards use the new value.
  get DEFAULT_MIN_VERSION() { return defaults.minVersion; },
  set DEFAULT_MIN_VERSION(value) { defaults.minVersion = value; },
  get DEFAULT_MAX_VERSION() { return defaults.maxVersion; },
  set DEFAULT_MAX_VERSION(value) { defaults.maxVersion = value; },
  get DEFAULT_CIPHERS() { return defaults.ciphers; },
  set DEFAULT_CIPHERS(value) { defaults.ciphers = value; },
  DEFAULT_ECDH_CURVE: 'auto',
  // DTLS 1.2 over UDP (lib/dtls), loaded on first use.
  get dtls() { return require('./dtls'); },
};
