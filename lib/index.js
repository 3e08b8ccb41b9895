// mbedtls-stream: node:tls's API on Mbed TLS 3.6. See README.md.
'use strict';

const tls = require('tls');
const ciphers = require('./ciphers');
const context = require('./context');
const errors = require('./errors');
const { TLSSocket, connect } = require('./socket');
const { Server, createServer } = require('./server');
const { Agent } = require('./agent');

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
  // Bytes Mbed TLS holds in this process, now and at the most.
  mbedtlsMemoryUsage() {
    const [current, peak] = require('./binding').memoryTotals();
    return { current, peak };
  },
  // node's own name rules and trust store, used as they are.
  checkServerIdentity: tls.checkServerIdentity,
  get rootCertificates() { return tls.rootCertificates; },
  DEFAULT_MIN_VERSION: context.DEFAULT_MIN_VERSION,
  DEFAULT_MAX_VERSION: context.DEFAULT_MAX_VERSION,
  DEFAULT_CIPHERS: ciphers.DEFAULT_CIPHERS,
  DEFAULT_ECDH_CURVE: 'auto',
};
