// server.js: Server, a net.Server whose connections are TLSSockets, and createServer().
'use strict';

const net = require('net');
const binding = require('./binding');
const context = require('./context');
const errors = require('./errors');
const { TLSSocket } = require('./socket');

const kContext = Symbol('context');
const kHandshakeTimeout = Symbol('handshakeTimeout');

const SERVER_OPTIONS = ['requestCert', 'rejectUnauthorized', 'ALPNProtocols', 'SNICallback',
  'handshakeTimeout', 'sessionTimeout', 'ticketKeys', 'pskCallback', 'pskIdentityHint',
  'enableTrace', 'highWaterMark'];

// createServer() given no key, no cert and no secureContext serves a self-signed
// development certificate for localhost, generated once per process (per worker thread)
// and renewed when it has less than a day left. No key ships with the package.
const DEVELOPMENT_SUBJECT = 'CN=localhost,O=mbedtls-stream development certificate';
const DEVELOPMENT_NAMES = [ // [is an IP address, DNS name or address bytes]
  [false, Buffer.from('localhost')],
  [true, Buffer.from([127, 0, 0, 1])],
  [true, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])],
];
const HOUR = 3600;
const DAY = 24 * HOUR;
let development = null; // { cert: PEM string, key: PEM Buffer, notAfter: seconds }
let developmentWarned = false;

function developmentCertificate() {
  const now = Math.floor(Date.now() / 1000);
  if (!development || development.notAfter - now < DAY) {
    // Valid from an hour ago, for clocks a little behind this one.
    const notAfter = now + 30 * DAY;
    const result = binding.generateSelfSigned(DEVELOPMENT_SUBJECT, DEVELOPMENT_NAMES, now - HOUR, notAfter);
    if (!Buffer.isBuffer(result.cert)) throw errors.fromNative(result);
    development = { cert: result.cert.toString('latin1'), key: result.key, notAfter };
  }
  if (!developmentWarned) {
    developmentWarned = true;
    process.emitWarning('createServer() was given no key and no cert: it serves a self-signed ' +
      'development certificate for localhost, generated for this process. Do not use it in ' +
      'production; clients trust it with ca: server.developmentCertificate.',
    { code: 'MBEDTLS_STREAM_DEV_CERT' });
  }
  return development;
}

const absent = (value) => value === undefined || value === null;

class Server extends net.Server {
  constructor(options, secureConnectionListener) {
    if (typeof options === 'function') {
      secureConnectionListener = options;
      options = {};
    }
    options = options || {};
    if (typeof options !== 'object') throw errors.invalidArgType('options', 'of type object', options);
    super({
      allowHalfOpen: options.allowHalfOpen,
      pauseOnConnect: options.pauseOnConnect,
      noDelay: options.noDelay,
      keepAlive: options.keepAlive,
      keepAliveInitialDelay: options.keepAliveInitialDelay,
      highWaterMark: options.highWaterMark,
    });
    for (const name of ['SNICallback', 'ticketKeys', 'pskCallback', 'ALPNCallback']) {
      if (options[name] !== undefined && options[name] !== null) {
        throw new errors.MbedtlsError(`The ${name} option is not supported yet by mbedtls-stream`,
          { code: 'ERR_MBEDTLS_UNSUPPORTED_OPTION', option: name });
      }
    }
    const timeout = options.handshakeTimeout ?? 120000;
    if (typeof timeout !== 'number' || !(timeout >= 0)) {
      throw errors.invalidArgType('options.handshakeTimeout', 'of type number', timeout);
    }
    if (options.secureContext !== undefined) context.validateSecureContext(options.secureContext);
    // The PEM of the development certificate served, or null (see developmentCertificate()).
    this.developmentCertificate = null;
    if (options.secureContext === undefined && absent(options.key) && absent(options.cert) &&
        absent(options.pfx)) {
      const { cert, key } = developmentCertificate();
      this[kContext] = context.createSecureContext({ ...options, cert, key });
      this.developmentCertificate = cert;
    } else {
      this[kContext] = options.secureContext || context.createSecureContext(options);
    }
    this._tlsOptions = {};
    for (const name of SERVER_OPTIONS) this._tlsOptions[name] = options[name];
    // Validated once here; each connection reuses the normalized values.
    this._tlsOptions.ALPNList = context.alpnList(options.ALPNProtocols);
    this._tlsOptions.debugLevel = context.debugLevel(options.debug);
    // Bad keys fail here, not later.
    this[kContext].native(true, this._tlsOptions.ALPNList, this._tlsOptions.debugLevel);
    this[kHandshakeTimeout] = timeout;
    this._tlsOptions.requestCert = Boolean(options.requestCert);
    this._tlsOptions.rejectUnauthorized = options.rejectUnauthorized !== false;
    this._tlsOptions.allowHalfOpen = Boolean(options.allowHalfOpen);
    this.on('connection', (raw) => this._onConnection(raw));
    if (secureConnectionListener) this.on('secureConnection', secureConnectionListener);
  }

  _onConnection(raw) {
    raw.setNoDelay(true);
    const socket = new TLSSocket(raw, {
      ...this._tlsOptions,
      isServer: true,
      server: this,
      secureContext: this[kContext],
    });
    let timer = null;
    if (this[kHandshakeTimeout] > 0) {
      timer = setTimeout(() => {
        const err = errors.coded(Error, 'ERR_TLS_HANDSHAKE_TIMEOUT', 'TLS handshake timeout');
        socket.destroy(err);
      }, this[kHandshakeTimeout]);
      timer.unref();
    }
    // Errors before the handshake completes are the server's (tlsClientError); after, the
    // application's, as in node. A failed client never disturbs the others.
    const onError = (err) => {
      if (!socket._secureEstablished) this.emit('tlsClientError', err, socket);
    };
    socket.on('error', onError);
    if (this.listenerCount('keylog') > 0) {
      socket.on('keylog', (line) => this.emit('keylog', line, socket));
    }
    if (this._tlsOptions.debugLevel > 0) {
      socket.on('debug', (line) => this.emit('debug', line, socket));
    }
    socket.once('secure', () => {
      clearTimeout(timer);
      this.emit('secureConnection', socket);
    });
    socket.once('close', () => clearTimeout(timer));
  }

  setSecureContext(options) {
    this[kContext] = context.createSecureContext(options);
    this.developmentCertificate = null;
    this[kContext].native(true, this._tlsOptions.ALPNList, this._tlsOptions.debugLevel);
  }

  addContext() {
    throw new errors.MbedtlsError('addContext is not supported yet by mbedtls-stream',
      { code: 'ERR_MBEDTLS_UNSUPPORTED_OPTION', option: 'addContext' });
  }
}

function createServer(options, secureConnectionListener) {
  return new Server(options, secureConnectionListener);
}

module.exports = { Server, createServer };
