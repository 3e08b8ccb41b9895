// socket.js: DTLSSocket, one DTLS 1.2 association with datagram semantics: send() one record,
// 'message' once per record received. It owns no UDP socket: its owner (dtls.connect()'s
// client, or a DTLSServer's demultiplexer) gives it each datagram from its peer with
// _receive() and sends what it produces through the `send` function it was made with.
//
// Timers: while handshaking, one setTimeout at the engine's next retransmission deadline
// (no polling); handshakeTimeout, when set, ends the handshake with
// ERR_DTLS_HANDSHAKE_TIMEOUT; idleTimeout closes a silent peer.
'use strict';

const { EventEmitter } = require('events');
const binding = require('../binding');
const errors = require('../errors');
const { TLSSocket, kSession, kContext, kPsk } = require('../socket');
const sni = require('./sni');

const { constants } = binding;
const { MbedtlsError, MBEDTLS_ERR } = errors;

const kOut = Symbol('out');
const kSend = Symbol('send');
const kTimers = Symbol('timers');
const kPending = Symbol('pending');

const ALERT_INTERNAL_ERROR = 80;

// What TLSSocket does the same way for a DTLS session (they read this[kSession],
// this[kContext], this.destroyed, this._secureEstablished).
const BORROWED = [
  'getCipher', 'getPeerCertificate', 'getCertificate', 'isSessionReused', 'getPeerX509Certificate',
  'getX509Certificate', 'getFinished', 'getPeerFinished', 'exportKeyingMaterial', 'memoryUsage',
  '_verifyError',
  // Client: the state to resume this session with (the `session` option of connect()), bound
  // to this._peerName(); undefined on a server, null once destroyed.
  'getSession',
  // The verdict on the peer once the handshake is done (authorized, authorizationError, the
  // name check), which also reads this[kPsk] and this._tlsOptions and calls this._peerName()
  // and this._refuse().
  '_settleAuthorization',
  // The pskCallbacks (server: (socket, identity) -> key | null; client: (hint) -> { psk,
  // identity } | null), which also read this._tlsOptions and call this._refuse().
  '_answerPsk', '_answerPskHint',
];

function handshakeTimeoutError() {
  return errors.coded(Error, 'ERR_DTLS_HANDSHAKE_TIMEOUT', 'DTLS handshake timeout');
}

function dataOf(data) {
  if (typeof data === 'string') return Buffer.from(data);
  if (errors.isBinary(data)) return errors.toBuffer(data);
  throw errors.invalidArgType('data', 'of type string or an instance of Buffer, TypedArray, or DataView', data);
}

class DTLSSocket extends EventEmitter {
  // Made by dtls.connect() and DTLSServer, not by applications. internal: { isServer,
  // context (lib/context.js SecureContext), config (its native config), send(datagram,
  // callback), address, port, local() -> { address, family, port }, server, options }.
  constructor(internal) {
    super();
    const { isServer, options } = internal;
    this[kContext] = internal.context;
    // records, datagrams, write status, key log lines, debug lines, timer deadline
    this[kOut] = [undefined, undefined, 0, undefined, undefined, -1];
    this[kSession] = new binding.Session(internal.config, this[kOut]);
    this[kSend] = internal.send;
    this[kTimers] = { retransmit: null, handshake: null, idle: null, lastActivity: Date.now() };
    this[kPending] = []; // sends before the handshake is done: [data, callback]
    this[kPsk] = typeof options.pskCallback === 'function';
    this._tlsOptions = { ...options, isServer };
    this._local = internal.local;
    this.server = internal.server || null;
    this.remoteAddress = internal.address;
    this.remotePort = internal.port;
    this.remoteFamily = internal.address && internal.address.includes(':') ? 'IPv6' : 'IPv4';
    this.encrypted = true;
    this.authorized = false;
    this.authorizationError = null;
    this.alpnProtocol = null;
    this.servername = null;
    this.destroyed = false;
    this.closed = false;
    this._secureEstablished = false;
    this.secureConnecting = true;

    const session = this[kSession];
    const mtuResult = binding.dtls.setMTU(session, internal.mtu);
    if (mtuResult) throw errors.fromNative({ errno: mtuResult, message: 'Invalid MTU' });
    if (internal.connectionId) {
      const result = binding.dtls.useConnectionId(session, internal.connectionId);
      if (result) throw errors.fromNative({ errno: result, message: 'Invalid connection ID' });
    }
    if (isServer) {
      binding.dtls.setTransportId(session, internal.clientId);
      if (sni.holdsHello(options)) session.holdClientHello();
      const mode = options.requestCert
        ? (options.rejectUnauthorized !== false ? constants.VERIFY_REQUIRED : constants.VERIFY_OPTIONAL)
        : constants.VERIFY_NONE;
      session.setVerify(mode);
    } else {
      session.setVerify(options.rejectUnauthorized !== false
        ? constants.VERIFY_REQUIRED : constants.VERIFY_OPTIONAL);
      const name = options.servername;
      if (typeof name === 'string' && name && !require('net').isIP(name)) {
        const err = session.setServerName(name);
        if (err) throw errors.fromNative(err);
      }
      if (set(options.session)) this._offerSession(options.session);
    }
    if (this[kContext].allowPartialTrustChain) session.allowPartialChain(true);
    // The key log costs nothing until someone listens, as in node.
    const onNewListener = (event) => {
      if (event !== 'keylog') return;
      session.enableKeylog();
      this.removeListener('newListener', onNewListener);
    };
    this.on('newListener', onNewListener);
    if (internal.handshakeTimeout > 0) {
      this[kTimers].handshake = setTimeout(() => {
        if (!this._secureEstablished) this._fail(handshakeTimeoutError());
      }, internal.handshakeTimeout);
    }
    this._idleTimeout = internal.idleTimeout || 0;
  }

  // ---- Driving the session ----

  // Client: sends the ClientHello.
  _start() {
    this._afterNative(this[kSession].start());
  }

  // One datagram from the peer.
  _receive(datagram) {
    // While SNICallback chooses, the whole ClientHello is held: what comes meanwhile is the
    // client retransmitting it, and its timer will send it again.
    if (this.destroyed || this._helloHeld) return;
    this[kTimers].lastActivity = Date.now();
    this._afterNative(this[kSession].feed(datagram));
  }

  _afterNative(state) {
    const out = this[kOut];
    const [records, datagrams, , keylog, debug, deadline] = out;
    out[0] = out[1] = out[3] = out[4] = undefined;
    if (datagrams) for (const datagram of datagrams) this[kSend](datagram);
    if (debug) {
      for (const line of debug.toString('utf8').split('\n')) {
        if (line && !this.destroyed) this.emit('debug', line);
      }
    }
    if (keylog) {
      // One event per NSS key log line, newline included, as node emits them.
      for (let start = 0; start < keylog.length && !this.destroyed;) {
        const end = keylog.indexOf(0x0a, start) + 1 || keylog.length;
        this.emit('keylog', keylog.subarray(start, end));
        start = end;
      }
    }
    if (this.destroyed) return;
    this._armRetransmit(deadline);
    if (state & constants.EVENT_CLIENT_HELLO) {
      this._onClientHello();
      return;
    }
    if (state & constants.EVENT_PSK_HINT) {
      if (this._answerPskHint()) this._afterNative(this[kSession].process());
      return;
    }
    if (state & constants.EVENT_PSK_IDENTITY) {
      if (this._answerPsk()) this._afterNative(this[kSession].process());
      return;
    }
    if (state & constants.EVENT_HANDSHAKE_DONE) {
      this._onHandshakeDone();
      if (this.destroyed) return;
    }
    if (records && this._secureEstablished) {
      for (const record of records) {
        this.emit('message', record);
        if (this.destroyed) return;
      }
    }
    if (state & constants.STATE_FAILED) {
      this._fail(this._sessionError());
      return;
    }
    if (state & constants.EVENT_PEER_CLOSED) this._finish();
  }

  // The engine's next retransmission deadline (ms from now, -1 for none): one timer, moved.
  _armRetransmit(deadline) {
    const timers = this[kTimers];
    if (timers.retransmit) {
      clearTimeout(timers.retransmit);
      timers.retransmit = null;
    }
    if (deadline < 0 || deadline === undefined) return;
    timers.retransmit = setTimeout(() => {
      timers.retransmit = null;
      if (!this.destroyed) this._afterNative(this[kSession].process());
    }, deadline);
  }

  _armIdle() {
    if (!this._idleTimeout || this.destroyed) return;
    const timers = this[kTimers];
    const wait = timers.lastActivity + this._idleTimeout - Date.now();
    if (wait <= 0) {
      this.close();
      return;
    }
    timers.idle = setTimeout(() => {
      timers.idle = null;
      this._armIdle();
    }, wait);
  }

  // Server with an SNICallback: the held ClientHello's name chooses the context; the
  // handshake goes on with it, or fails closed (a fatal alert, 'tlsClientError').
  _onClientHello() {
    const session = this[kSession];
    const servername = session.servername() || undefined;
    if (servername) this.servername = servername;
    this._helloHeld = true;
    sni.chooseByHello({
      socket: this,
      SNICallback: this._tlsOptions.SNICallback,
      secureContext: this[kContext],
      config: (chosen) => this.server._configFor(chosen),
    }, servername, (err, secureContext, config, alert) => {
      if (this.destroyed) return;
      this._helloHeld = false;
      if (err) {
        this._refuse(err, alert || ALERT_INTERNAL_ERROR);
        return;
      }
      if (config) this[kContext] = secureContext;
      this._afterNative(session.continueHello(config || undefined));
    });
  }

  _onHandshakeDone() {
    const session = this[kSession];
    const options = this._tlsOptions;
    this.alpnProtocol = session.alpn() || false;
    this.servername = session.servername() || (options.isServer ? false : null);
    if (!this._settleAuthorization()) return;
    this._secureEstablished = true;
    this.secureConnecting = false;
    if (this[kTimers].handshake) {
      clearTimeout(this[kTimers].handshake);
      this[kTimers].handshake = null;
    }
    this._armIdle();
    this.emit('secure');
    if (this.destroyed) return;
    if (!options.isServer) {
      this.emit('secureConnect');
      if (this.destroyed) return;
      if (!this.isSessionReused() && this.listenerCount('session') > 0) {
        const saved = this.getSession();
        if (saved) this.emit('session', saved);
        if (this.destroyed) return;
      }
    }
    const pending = this[kPending];
    this[kPending] = [];
    for (const [data, callback] of pending) {
      if (this.destroyed) break;
      this._sendRecord(data, callback);
    }
  }

  // The error of the session's sticky failure, with node's codes where node has them.
  _sessionError() {
    const info = this[kSession].error();
    if (!info) return new MbedtlsError('DTLS session failed');
    switch (info.errno) {
      case MBEDTLS_ERR.SSL_TIMEOUT:
        return errors.fromNative(info, { code: 'ERR_DTLS_HANDSHAKE_TIMEOUT' });
      case MBEDTLS_ERR.SSL_NO_CLIENT_CERTIFICATE:
        return errors.fromNative(info, { code: 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE',
          message: 'peer did not return a certificate' });
      case MBEDTLS_ERR.X509_CERT_VERIFY_FAILED:
      case MBEDTLS_ERR.SSL_BAD_CERTIFICATE: {
        const err = this._verifyError();
        if (err) {
          this.authorizationError = err.code;
          return Object.assign(err, { mbedtlsCode: info.errno, mbedtlsHex: errors.hex(info.errno),
            mbedtlsText: info.message });
        }
        break;
      }
      default:
        break;
    }
    return errors.fromNative(info);
  }

  // Ends the session on the application's decision: a fatal alert to the peer, err to us.
  _refuse(err, alert) {
    this[kSession].refuse(alert);
    const datagrams = this[kOut][1];
    this[kOut][1] = undefined;
    if (datagrams) for (const datagram of datagrams) this[kSend](datagram);
    this._fail(err);
  }

  _fail(err) {
    this.destroy(err);
  }

  // ---- The application side ----

  // Sends `data` (a Buffer, TypedArray, DataView or string) as one record. Before the
  // handshake is done it waits. Data longer than one record holds (the MTU less the record
  // expansion) is refused with ERR_DTLS_MESSAGE_TOO_LARGE, never split: to `callback` when
  // given, else as an 'error' event (the socket goes on either way, as dgram's EMSGSIZE).
  send(data, callback) {
    const buffer = dataOf(data);
    if (callback !== undefined && typeof callback !== 'function') {
      throw errors.invalidArgType('callback', 'of type function', callback);
    }
    if (this.destroyed || this.closed) {
      this._sendFailed(errors.coded(Error, 'ERR_DTLS_SOCKET_CLOSED', 'The DTLS socket is closed'), callback);
      return;
    }
    if (!this._secureEstablished) {
      this[kPending].push([buffer, callback]);
      return;
    }
    this._sendRecord(buffer, callback);
  }

  _sendRecord(buffer, callback) {
    const state = this[kSession].write(buffer);
    const status = this[kOut][2];
    if (status === binding.dtls.ERR_MESSAGE_TOO_LARGE) {
      const err = errors.coded(RangeError, 'ERR_DTLS_MESSAGE_TOO_LARGE',
        `The message (${buffer.length} bytes) does not fit one DTLS record ` +
        `(at most ${binding.dtls.maxPayload(this[kSession])} bytes at this MTU)`);
      this._sendFailed(err, callback);
      return;
    }
    const datagrams = this[kOut][1];
    this[kOut][1] = undefined;
    if (datagrams && datagrams.length > 0) {
      for (let i = 0; i < datagrams.length; i++) {
        this[kSend](datagrams[i], i === datagrams.length - 1 ? callback : undefined);
      }
    } else if (callback) {
      process.nextTick(callback, null);
    }
    if (state & constants.STATE_FAILED) this._fail(this._sessionError());
  }

  _sendFailed(err, callback) {
    if (callback) process.nextTick(callback, err);
    else process.nextTick(() => this.emit('error', err));
  }

  // Sends close_notify and closes; `callback` listens for 'close'.
  close(callback) {
    if (typeof callback === 'function') {
      if (this.closed) process.nextTick(callback);
      else this.once('close', callback);
    }
    if (this.destroyed || this.closed) return this;
    this._afterNativeQuiet(this[kSession].close());
    this._finish();
    return this;
  }

  // Sends what a call produced, nothing else (closing: no events).
  _afterNativeQuiet() {
    const datagrams = this[kOut][1];
    this[kOut][1] = undefined;
    if (datagrams) for (const datagram of datagrams) this[kSend](datagram);
  }

  destroy(err) {
    if (this.destroyed) return this;
    this.destroyed = true;
    this._release();
    if (err) {
      if (this._tlsOptions.isServer && this.server) this.server._socketError(this, err);
      else process.nextTick(() => this.emit('error', err));
    }
    process.nextTick(() => this.emit('close'));
    return this;
  }

  // Closed cleanly: the peer's close_notify, ours, or the idle timeout.
  _finish() {
    if (this.destroyed) return;
    this.destroyed = true;
    this._release();
    process.nextTick(() => this.emit('close'));
  }

  _release() {
    this.closed = true;
    this.secureConnecting = false;
    const timers = this[kTimers];
    for (const name of ['retransmit', 'handshake', 'idle']) {
      if (timers[name]) clearTimeout(timers[name]);
      timers[name] = null;
    }
    const pending = this[kPending];
    this[kPending] = [];
    for (const [, callback] of pending) {
      if (callback) process.nextTick(callback, errors.coded(Error, 'ERR_DTLS_SOCKET_CLOSED', 'The DTLS socket is closed'));
    }
    this[kSession].destroy();
    if (this._onRelease) this._onRelease();
  }

  // ---- What the socket says ----

  getProtocol() { return this.destroyed ? null : this[kSession].protocol(); }

  address() { return this._local(); }

  // { own, peer }: our CID (what the peer puts in records to us) and the peer's, Buffers
  // (either may be empty), or null when no Connection ID is in use.
  getConnectionId() {
    if (this.destroyed) return null;
    return binding.dtls.connectionId(this[kSession]);
  }

  // The path MTU in bytes (64 to 65535): handshake messages are fragmented to it, and a
  // record sent must fit it.
  setMTU(mtu) {
    errors.checkInteger(mtu, 'mtu', 64, 65535);
    if (this.destroyed) return;
    const result = binding.dtls.setMTU(this[kSession], mtu);
    if (result) throw errors.fromNative({ errno: result, message: 'Invalid MTU' });
  }

  // The name the server's certificate is checked against, which a saved session is bound to.
  _peerName() {
    const options = this._tlsOptions;
    return options.servername || options.host || 'localhost';
  }

  _offerSession(saved) {
    if (!errors.isBinary(saved)) {
      throw errors.invalidArgType('options.session', 'an instance of Buffer, TypedArray, or DataView', saved);
    }
    const ret = this[kSession].resume(errors.toBuffer(saved), this._peerName());
    if (ret === MBEDTLS_ERR.SSL_BAD_INPUT_DATA) {
      throw new MbedtlsError('The session is not one saved by mbedtls-stream (getSession() or the \'session\' event)',
        { code: 'ERR_MBEDTLS_INVALID_SESSION' });
    }
  }

  // Server demultiplexer: whether the first record of `datagram` authenticates for this
  // session (and is no replay), without changing it.
  _authenticates(datagram) {
    return !this.destroyed && binding.dtls.checkRecord(this[kSession], datagram) === 0;
  }
}

const set = (value) => value !== undefined && value !== null;

for (const name of BORROWED) {
  DTLSSocket.prototype[name] = TLSSocket.prototype[name];
}

module.exports = { DTLSSocket, handshakeTimeoutError };
