// secure-pair.js: createSecurePair(), deprecated in node (DEP0064) and still exported there:
// a TLSSocket over one end of an in-memory stream pair, the other end carrying ciphertext.
'use strict';

const EventEmitter = require('events');
const { Duplex } = require('stream');
const context = require('./context');
const { TLSSocket } = require('./socket');

// Two Duplexes, each reading what the other writes.
function duplexPair() {
  const sides = [];
  for (let i = 0; i < 2; i++) {
    sides.push(new Duplex({
      read() {},
      write(chunk, encoding, callback) {
        sides[1 - i].push(chunk);
        callback();
      },
      final(callback) {
        sides[1 - i].push(null);
        callback();
      },
    }));
  }
  return sides;
}

let warned = false;

class SecurePair extends EventEmitter {
  // secureContext: a SecureContext (by default a new one with node's defaults).
  constructor(secureContext, isServer, requestCert, rejectUnauthorized, options = {}) {
    super();
    const [clear, encrypted] = duplexPair();
    this.server = options.server;
    // As node's: no context is a new default one; anything else must be a SecureContext.
    this.credentials = secureContext
      ? context.validateSecureContext(secureContext) : context.createSecureContext();
    this.encrypted = encrypted;
    this.cleartext = new TLSSocket(clear, {
      secureContext: this.credentials,
      isServer: Boolean(isServer),
      requestCert: Boolean(requestCert),
      rejectUnauthorized: Boolean(rejectUnauthorized),
      ...options,
    });
    this.cleartext.once('secure', () => this.emit('secure'));
    if (!isServer) process.nextTick(() => this.cleartext._start());
  }

  destroy() {
    this.cleartext.destroy();
    this.encrypted.destroy();
  }
}

function createSecurePair(secureContext, isServer, requestCert, rejectUnauthorized, options) {
  if (!warned) {
    warned = true;
    process.emitWarning('tls.createSecurePair() is deprecated. Please use tls.TLSSocket instead.',
      'DeprecationWarning', 'DEP0064');
  }
  return new SecurePair(secureContext, isServer, requestCert, rejectUnauthorized, options);
}

module.exports = { SecurePair, createSecurePair, duplexPair };
