// server.js: Server, a net.Server whose connections are TLSSockets, and createServer().
'use strict';

const EventEmitter = require('events');
const net = require('net');
const binding = require('./binding');
const context = require('./context');
const errors = require('./errors');
const { TLSSocket, kAllowHalfOpen, serverPsk } = require('./socket');
const { selectContext } = require('./select-context');
const { handshakeSteps } = require('./handshake-steps');

const kContext = Symbol('context');
const kHandshakeTimeout = Symbol('handshakeTimeout');

const SERVER_OPTIONS = ['requestCert', 'rejectUnauthorized', 'ALPNProtocols', 'SNICallback',
  'handshakeTimeout', 'sessionTimeout', 'ticketKeys', 'pskCallback', 'pskIdentityHint',
  'enableTrace', 'highWaterMark', 'asyncHandshake'];

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

// The development certificate for localhost (and 127.0.0.1, ::1), generated once per process
// and renewed a day before it expires: { cert: PEM string, key: PEM Buffer }. Warns once that
// it is in use unless `quiet` (the CLI's demo, which says so itself).
function developmentCertificate(quiet = false) {
  const now = Math.floor(Date.now() / 1000);
  if (!development || development.notAfter - now < DAY) {
    // Valid from an hour ago, for clocks a little behind this one.
    const notAfter = now + 30 * DAY;
    const result = binding.generateSelfSigned(DEVELOPMENT_SUBJECT, DEVELOPMENT_NAMES, now - HOUR, notAfter);
    if (!Buffer.isBuffer(result.cert)) throw errors.fromNative(result);
    development = { cert: result.cert.toString('latin1'), key: result.key, notAfter };
  }
  if (!developmentWarned && !quiet) {
    developmentWarned = true;
    process.emitWarning('createServer() was given no key and no cert: it serves a self-signed ' +
      'development certificate for localhost, generated for this process. Do not use it in ' +
      'production; clients trust it with ca: server.developmentCertificate.',
    { code: 'MBEDTLS_STREAM_DEV_CERT' });
  }
  return development;
}

// As node's, a falsy key or cert (null, false, '') is none.
const absent = (value) => !value;

class Server extends net.Server {
  constructor(options, secureConnectionListener) {
    if (typeof options === 'function') {
      secureConnectionListener = options;
      options = {};
    }
    options = options || {};
    if (typeof options !== 'object') throw errors.invalidArgType('options', 'of type object', options);
    // (Each TLSSocket runs its TCP socket half-open and applies allowHalfOpen itself.)
    super({
      allowHalfOpen: options.allowHalfOpen,
      pauseOnConnect: options.pauseOnConnect,
      noDelay: options.noDelay,
      keepAlive: options.keepAlive,
      keepAliveInitialDelay: options.keepAliveInitialDelay,
      highWaterMark: options.highWaterMark,
    });
    // As node's, a falsy callback is no callback.
    for (const name of ['SNICallback', 'ALPNCallback', 'pskCallback']) {
      if (options[name] && typeof options[name] !== 'function') {
        throw errors.invalidArgType(`options.${name}`, 'of type function', options[name]);
      }
    }
    if (options.ALPNCallback && options.ALPNProtocols) {
      throw errors.coded(TypeError, 'ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS',
        'The ALPNCallback and ALPNProtocols TLS options are mutually exclusive');
    }
    if (options.pskIdentityHint && typeof options.pskIdentityHint !== 'string') {
      throw errors.invalidArgType('options.pskIdentityHint', 'of type string', options.pskIdentityHint);
    }
    // As node's: a falsy handshakeTimeout (0 included) is the default, one below 0 none.
    const timeout = options.handshakeTimeout || 120000;
    if (typeof timeout !== 'number') {
      throw errors.invalidArgType('options.handshakeTimeout', 'of type number', timeout);
    }
    if (options.secureContext !== undefined) context.validateSecureContext(options.secureContext);
    // The PEM of the development certificate served, or null (see developmentCertificate()).
    this.developmentCertificate = null;
    // As node's: a server takes its own cipher order unless told otherwise (a context made
    // by createSecureContext() alone takes the client's).
    this.honorCipherOrder = options.honorCipherOrder !== undefined ? Boolean(options.honorCipherOrder) : true;
    options = { ...options, honorCipherOrder: this.honorCipherOrder };
    // A PSK server needs no certificate, and gets none.
    if (options.secureContext === undefined && absent(options.key) && absent(options.cert) &&
        (options.pfx === undefined || options.pfx === null) && typeof options.pskCallback !== 'function') {
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
    handshakeSteps(options); // validated once here
    // Bad keys fail here, not later.
    this[kContext].native(true, this._tlsOptions.ALPNList, this._tlsOptions.debugLevel, null,
      serverPsk(this._tlsOptions).psk);
    this[kHandshakeTimeout] = timeout;
    this._tlsOptions.requestCert = Boolean(options.requestCert);
    this._tlsOptions.rejectUnauthorized = options.rejectUnauthorized !== false;
    this._tlsOptions.allowHalfOpen = Boolean(options.allowHalfOpen);
    this._tlsOptions.pauseOnConnect = Boolean(options.pauseOnConnect);
    this._SNICallback = options.SNICallback || null;
    this._ALPNCallback = options.ALPNCallback || null;
    this._contexts = []; // [RegExp, SecureContext], from addContext()
    this.on('connection', (raw) => this._onConnection(raw));
    if (secureConnectionListener) this.on('secureConnection', secureConnectionListener);
  }

  // `raw` is whatever emitted 'connection' carried: a net.Socket, or any Duplex.
  _onConnection(raw) {
    if (typeof raw.setNoDelay === 'function') raw.setNoDelay(true);
    const choosing = this._SNICallback || this._ALPNCallback || this._contexts.length > 0;
    const socket = new TLSSocket(raw, {
      ...this._tlsOptions,
      [kAllowHalfOpen]: this._tlsOptions.allowHalfOpen,
      isServer: true,
      server: this,
      secureContext: this[kContext],
      selectContext: choosing ? (s, servername, protocols, done) => selectContext({
        socket: s,
        SNICallback: this._SNICallback,
        ALPNCallback: this._ALPNCallback,
        ALPNList: this._tlsOptions.ALPNList,
        secureContext: this[kContext],
        contextFor: (name) => this._contextFor(name),
      }, servername, protocols, done) : undefined,
    });
    let timer = null;
    if (this[kHandshakeTimeout] > 0) {
      timer = setTimeout(() => {
        const err = errors.coded(Error, 'ERR_TLS_HANDSHAKE_TIMEOUT', 'TLS handshake timeout');
        socket.destroy(err);
      }, this[kHandshakeTimeout]);
      timer.unref();
    }
    // Errors before the handshake completes are the server's (tlsClientError, once); after,
    // the application's, as in node. A failed client never disturbs the others.
    let clientErrorEmitted = false;
    socket.on('_tlsError', (err) => {
      if (socket._controlReleased || clientErrorEmitted) return;
      clientErrorEmitted = true;
      this.emit('tlsClientError', err, socket);
    });
    if (this.listenerCount('keylog') > 0) {
      socket.on('keylog', (line) => this.emit('keylog', line, socket));
    }
    if (this._tlsOptions.debugLevel > 0) {
      socket.on('debug', (line) => this.emit('debug', line, socket));
    }
    if (this._tlsOptions.pauseOnConnect) {
      // As node's: the handshake runs; the application gets the socket paused.
      socket.pause();
      if (typeof raw.resume === 'function') raw.resume();
    }
    socket.once('secure', () => {
      clearTimeout(timer);
      if (!socket.destroyed && socket._releaseControl()) this.emit('secureConnection', socket);
    });
    socket.once('close', () => clearTimeout(timer));
  }

  setSecureContext(options) {
    if (options === null || typeof options !== 'object') {
      throw errors.invalidArgType('options', 'of type object', options);
    }
    const previous = this[kContext];
    this.honorCipherOrder = options.honorCipherOrder !== undefined ? Boolean(options.honorCipherOrder) : true;
    this[kContext] = context.createSecureContext({ ...options, honorCipherOrder: this.honorCipherOrder });
    // As node: the ticket keys carry over unless new ones are given.
    if (options.ticketKeys === undefined) this[kContext].setTicketKeys(previous.getTicketKeys());
    this.developmentCertificate = null;
    // As node, the PSK settings stay the server's own (pskIdentityHint here changes nothing).
    this[kContext].native(true, this._tlsOptions.ALPNList, this._tlsOptions.debugLevel, null,
      serverPsk(this._tlsOptions).psk);
  }

  // events.captureRejections: a rejected async 'secureConnection' listener destroys that
  // socket with its error, as node's server does.
  [EventEmitter.captureRejectionSymbol](err, event, ...args) {
    if (event === 'secureConnection') {
      args[0].destroy(err);
      return;
    }
    net.Server.prototype[EventEmitter.captureRejectionSymbol].call(this, err, event, ...args);
  }

  // The context addContext() gave for this name; the latest added wins, as in node.
  _contextFor(servername) {
    for (let i = this._contexts.length - 1; i >= 0; i--) {
      if (this._contexts[i][0].test(servername)) return this._contexts[i][1];
    }
    return undefined;
  }

  // node's: the context for connections whose SNI name matches `hostname` ('*' matches one
  // label); `secureContext` is a SecureContext or createSecureContext() options.
  addContext(hostname, secureContext) {
    if (typeof hostname !== 'string' || hostname === '') {
      throw errors.coded(Error, 'ERR_TLS_REQUIRED_SERVER_NAME',
        '"servername" is required parameter for Server.addContext');
    }
    const ctx = secureContext instanceof context.SecureContext
      ? secureContext : context.createSecureContext(secureContext);
    ctx.native(true, this._tlsOptions.ALPNList, this._tlsOptions.debugLevel, this[kContext],
      serverPsk(this._tlsOptions).psk); // bad keys fail here
    const pattern = hostname.replace(/[.^$+?\-\\[\]{}()|]/g, '\\$&').replace(/\*/g, '[^.]*');
    this._contexts.push([new RegExp(`^${pattern}$`, 'i'), ctx]);
  }

  // node's: the 48-byte key that seals this server's session tickets (16 bytes of name, 32
  // of secret); servers sharing it resume each other's sessions.
  getTicketKeys() {
    return this[kContext].getTicketKeys();
  }

  setTicketKeys(keys) {
    if (!errors.isBinary(keys)) {
      throw errors.invalidArgType('buffer', 'an instance of Buffer, TypedArray, or DataView', keys);
    }
    if (keys.byteLength !== 48) {
      // node asserts this internally, hence its code.
      throw errors.coded(Error, 'ERR_INTERNAL_ASSERTION', 'Session ticket keys must be a 48-byte buffer');
    }
    this[kContext].setTicketKeys(errors.toBuffer(keys));
  }

  // node's cluster hooks: a worker's server hands its ticket keys to the primary, which gives
  // the first worker's to every worker listening on the same address, so that they resume
  // each other's sessions.
  _getServerData() {
    return { ticketKeys: this.getTicketKeys().toString('hex') };
  }

  _setServerData(data) {
    this.setTicketKeys(Buffer.from(data.ticketKeys, 'hex'));
  }

}

function createServer(options, secureConnectionListener) {
  return new Server(options, secureConnectionListener);
}

// As node's, tls.Server(...) without `new` makes a server too; subclasses and instanceof
// see the class itself.
const CallableServer = new Proxy(Server, {
  apply(target, thisArg, args) { return new target(...args); },
});

module.exports = { Server: CallableServer, createServer, developmentCertificate };
