// connect.js: tls.connect() as node's: its three call shapes, its option checks, the
// context (through the exported createSecureContext), and the TCP connection it makes when
// no socket is given. The TLSSocket itself is socket.js's.
'use strict';

const net = require('net');
const tls = require('tls');
const context = require('./context');
const { defaults } = require('./defaults');
const errors = require('./errors');
const { handshakeSteps } = require('./handshake-steps');
const { TLSSocket, kAllowHalfOpen, kOwnTransport, kConnectOptions, isStream } = require('./socket');

const { MbedtlsError } = errors;

// connect(options[, cb]) | connect(port[, host][, options][, cb]) | connect(path[, options][, cb])
function normalizeConnectArgs(args) {
  let options = {};
  let callback;
  const list = [...args];
  if (typeof list[list.length - 1] === 'function') callback = list.pop();
  if (list[0] !== null && typeof list[0] === 'object') {
    options = { ...list[0] };
  } else if (typeof list[0] === 'string' && Number.isNaN(Number(list[0]))) {
    options = { ...(list[1] || {}), path: list[0] };
  } else if (list.length > 0) {
    options.port = list[0];
    if (typeof list[1] === 'string') {
      options.host = list[1];
      if (list[2] && typeof list[2] === 'object') options = { ...list[2], ...options };
    } else if (list[1] && typeof list[1] === 'object') {
      options = { ...list[1], ...options };
    }
  }
  return [options, callback];
}

let ipServernameWarned = false;

function validateConnectOptions(options) {
  const check = (name, type) => {
    const value = options[name];
    if (value !== undefined && value !== null && typeof value !== type) {
      throw errors.invalidArgType(`options.${name}`, `of type ${type}`, value);
    }
  };
  check('servername', 'string');
  check('host', 'string');
  check('checkServerIdentity', 'function');
  check('rejectUnauthorized', 'boolean');
  check('timeout', 'number');
  check('highWaterMark', 'number');
  check('pskCallback', 'function');
  handshakeSteps(options); // asyncHandshake
  if (typeof options.servername === 'string' && net.isIP(options.servername) && !ipServernameWarned) {
    ipServernameWarned = true;
    process.emitWarning('Setting the TLS ServerName to an IP address is not permitted by RFC 6066. ' +
      'This will be ignored in a future version.', 'DeprecationWarning', 'DEP0123');
  }
  if (options.requestOCSP) {
    // Mbed TLS 3.6 has no status_request (OCSP stapling): asking for it is refused, not ignored.
    throw new MbedtlsError('The requestOCSP option is not supported: Mbed TLS has no OCSP stapling',
      { code: 'ERR_MBEDTLS_UNSUPPORTED_OPTION', option: 'requestOCSP' });
  }
  if (options.session !== undefined && options.session !== null && !errors.isBinary(options.session)) {
    throw errors.invalidArgType('options.session', 'an instance of Buffer, TypedArray, or DataView',
      options.session);
  }
  if (options.socket !== undefined && options.socket !== null && !isStream(options.socket)) {
    throw errors.invalidArgType('options.socket', 'an instance of stream.Duplex', options.socket);
  }
}

// The context of a connect() call. As node's, it goes through the exported
// createSecureContext, which libraries replace to add CAs; while it is ours, contexts are
// cached by their material so a CA bundle is parsed once for many connections.
function connectContext(options) {
  if (options.secureContext !== undefined && options.secureContext !== null) {
    return context.validateSecureContext(options.secureContext);
  }
  const exported = require('./index').createSecureContext;
  if (exported === context.createSecureContext) return context.cachedContext(options);
  return context.validateSecureContext(exported({ ...options, ciphers: options.ciphers ?? defaults.ciphers }));
}

function connect(...args) {
  const [given, callback] = normalizeConnectArgs(args);
  const options = {
    rejectUnauthorized: process.env.NODE_TLS_REJECT_UNAUTHORIZED !== '0',
    checkServerIdentity: tls.checkServerIdentity,
    ...given,
  };
  if (options.rejectUnauthorized === undefined) {
    options.rejectUnauthorized = process.env.NODE_TLS_REJECT_UNAUTHORIZED !== '0';
  }
  if (options.checkServerIdentity === undefined) options.checkServerIdentity = tls.checkServerIdentity;
  validateConnectOptions(options);
  // Everything that parses input happens here, before any I/O.
  const secureContext = connectContext(options);
  const ALPNList = context.alpnList(options.ALPNProtocols);
  const debugLevel = context.debugLevel(options.debug);
  secureContext.native(false, ALPNList, debugLevel);

  let transport = options.socket;
  if (!transport) {
    // The TCP connect starts first, so the TLS socket sees it connecting and waits for it.
    transport = new net.Socket({ allowHalfOpen: true });
    const connectOptions = {
      host: options.host || 'localhost',
      port: options.port,
      path: options.path,
      localAddress: options.localAddress,
      localPort: options.localPort,
      family: options.family,
      hints: options.hints,
      lookup: options.lookup,
      autoSelectFamily: options.autoSelectFamily,
    };
    for (const key of Object.keys(connectOptions)) {
      if (connectOptions[key] === undefined) delete connectOptions[key];
    }
    if (connectOptions.path) delete connectOptions.host;
    transport.connect(connectOptions);
    // Each handshake flight is one write; Nagle would only delay it.
    transport.setNoDelay(true);
  }
  const socket = new TLSSocket(transport, {
    ...options, isServer: false, secureContext, ALPNList, debugLevel,
    [kAllowHalfOpen]: options.socket ? undefined : Boolean(options.allowHalfOpen),
    [kOwnTransport]: !options.socket,
    [kConnectOptions]: options,
  });
  if (callback) socket.once('secureConnect', callback);
  if (options.timeout) socket.setTimeout(options.timeout);
  socket._releaseControl();
  // On the next tick: listeners for 'debug' or 'keylog' are attached by then.
  process.nextTick(() => socket._start());
  return socket;
}

module.exports = { connect };
