// server.js: Server, a net.Server whose connections are TLSSockets, and createServer().
'use strict';

const net = require('net');
const context = require('./context');
const errors = require('./errors');
const { TLSSocket } = require('./socket');

const kContext = Symbol('context');
const kHandshakeTimeout = Symbol('handshakeTimeout');

const SERVER_OPTIONS = ['requestCert', 'rejectUnauthorized', 'ALPNProtocols', 'SNICallback',
  'handshakeTimeout', 'sessionTimeout', 'ticketKeys', 'pskCallback', 'pskIdentityHint',
  'enableTrace', 'highWaterMark'];

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
    this[kContext] = options.secureContext || context.createSecureContext(options);
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
