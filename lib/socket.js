// socket.js: TLSSocket, a Duplex that speaks TLS over any transport Duplex (a net.Socket,
// a stream pair, another TLS socket), and connect().
//
// Bytes flow one way per direction (see ../src/core/engine.h):
//   transport 'data' -> session.feed(chunk) -> plaintext pushed, ciphertext written back
//   write(data)      -> session.write(data) -> ciphertext written to the transport
// Each native call returns state and events, with what it produced in this[kOut]; nothing
// calls into JS from inside the engine, so a handler may destroy the socket at any point
// and the code below checks for that after each emit.
'use strict';

const crypto = require('crypto');
const net = require('net');
const os = require('os');
const tls = require('tls');
const { Duplex } = require('stream');
const binding = require('./binding');
const ciphers = require('./ciphers');
const context = require('./context');
const { attachKeylogFile } = require('./defaults');
const { selectContext } = require('./select-context');
const { OnreadSink } = require('./onread');
const { handshakeSteps } = require('./handshake-steps');
const { usesSessionStore, lookUpSession, storeNewSession } = require('./session-store');
const errors = require('./errors');
const idleTrim = require('./idle-trim');
const { checkPeerName } = require('./name-check');

const { constants } = binding;
const { MbedtlsError, callbackError } = errors;

const kSession = Symbol('session');
const kOut = Symbol('out');
const kTransport = Symbol('transport');
const kContext = Symbol('context');
const kPendingWrite = Symbol('pendingWrite');
const kPausedTransport = Symbol('pausedTransport');
const kTimer = Symbol('timer');
const kStarted = Symbol('started');
const kCloseNotify = Symbol('closeNotify');
const kPsk = Symbol('psk');
const kKeyCert = Symbol('keyCert');
const kAllowHalfOpen = Symbol('allowHalfOpen');
const kSelectContext = Symbol('selectContext');
const kAwaitingConnect = Symbol('awaitingConnect');
const kEnding = Symbol('ending');
const kOnread = Symbol('onread');
const kOwnTransport = Symbol('ownTransport');
const kInPlace = Symbol('inPlace');
const kStartWhenConnected = Symbol('startWhenConnected');
const kConnectOptions = Symbol('connectOptions');
const kFirstBytes = Symbol('firstBytes');
const kCloseAfterPeer = Symbol('closeAfterPeer');
const kSteps = Symbol('steps');
const kSpareRecords = Symbol('spareRecords');

const EVENT_HANDSHAKE_DONE = constants.EVENT_HANDSHAKE_DONE;
const EVENT_NEW_SESSION_TICKET = constants.EVENT_NEW_SESSION_TICKET;
const EVENT_CLIENT_HELLO = constants.EVENT_CLIENT_HELLO;
const EVENT_PSK_IDENTITY = constants.EVENT_PSK_IDENTITY;
const EVENT_NEW_SESSION = constants.EVENT_NEW_SESSION;
const EVENT_PSK_HINT = constants.EVENT_PSK_HINT;
const EVENT_PEER_CLOSED = constants.EVENT_PEER_CLOSED;
const STATE_FAILED = constants.STATE_FAILED;
const STATE_PEER_CLOSE_NOTIFY = constants.STATE_PEER_CLOSE_NOTIFY;
const { MBEDTLS_ERR } = errors;
// What x509_crt.c returns for a critical extension it has no parser for.
const ALERT_INTERNAL_ERROR = 80;
const ALERT_BAD_CERTIFICATE = 42;
const ALERT_HANDSHAKE_FAILURE = 40;
// The engine's code for a record longer than the receive buffer (ERR_SSL_PACKET_LENGTH_TOO_LONG).
const ERR_RECORD_TOO_LONG = -0x10008;
const UNHANDLED_CRITICAL_EXTENSION = MBEDTLS_ERR.X509_INVALID_EXTENSIONS + MBEDTLS_ERR.ASN1_UNEXPECTED_TAG;

// Closes a TCP transport after a failure (our fatal alert on its way) without resetting the
// connection: FIN after the alert, then whatever the peer still sends (the rest of its
// flight) is read and dropped until it closes too, for a second at most. A socket closed with
// unread data, or receiving data once closed, resets the connection, and a peer still
// writing its flight then fails on the reset (ECONNRESET, EPIPE) before it reads the alert.
function closeAfterPeer(transport) {
  const giveUp = setTimeout(() => transport.destroy(), 1000);
  transport.once('close', () => clearTimeout(giveUp));
  transport.once('end', () => transport.destroy());
  transport.end();
  transport.resume();
}

class TLSSocket extends Duplex {
  // new TLSSocket(socket, options), as node's: `socket` is the transport (a new net.Socket
  // when absent); options: isServer, server, secureContext, requestCert,
  // rejectUnauthorized, servername, checkServerIdentity, ...
  constructor(socket, options) {
    options = checkedSocketOptions(socket, options);
    // As node's: a wrapped socket lends its allowHalfOpen, else the option decides (the
    // server and connect() say which with kAllowHalfOpen, since they make the transport).
    let allowHalfOpen = options[kAllowHalfOpen];
    if (allowHalfOpen === undefined) {
      allowHalfOpen = socket ? Boolean(socket.allowHalfOpen) : Boolean(options.allowHalfOpen);
    }
    const transport = socket || new net.Socket({ allowHalfOpen: true });
    // The transport always runs half-open: a FIN from the peer ends our readable side, and
    // the TLS socket, not the transport, decides when to close (after close_notify).
    if (transport.allowHalfOpen === false) transport.allowHalfOpen = true;
    super({
      allowHalfOpen,
      highWaterMark: options.highWaterMark,
      // 'close' carries hadError, as net.Socket's: emitted by _destroy.
      emitClose: false,
      autoDestroy: true,
    });
    this[kTransport] = transport;
    this[kContext] = options.secureContext || context.cachedContext(options);
    // plaintext, ciphertext, write status, key log lines, debug lines
    this[kOut] = [undefined, undefined, 0, undefined, undefined];
    this[kPendingWrite] = null;
    this[kPausedTransport] = false;
    this[kTimer] = null;
    this[kStarted] = false;
    this[kCloseNotify] = false;
    this._parent = socket || null;
    this._tlsOptions = options;
    this._secureEstablished = false;
    this.secureConnecting = true;
    this.encrypted = true;
    this.authorized = false;
    this.authorizationError = null;
    this.alpnProtocol = null;
    this.servername = null;
    this.server = options.server;
    this.bytesRead = 0;
    this._bytesWritten = 0;
    this.timeout = 0;

    const isServer = Boolean(options.isServer);
    const alpn = options.ALPNList !== undefined ? options.ALPNList : context.alpnList(options.ALPNProtocols);
    const debug = options.debugLevel !== undefined ? options.debugLevel : context.debugLevel(options.debug);
    // PSK: a server asks its pskCallback for each identity offered, and sends its identity
    // hint in TLS 1.2. A client asks its own as node's does: with hint null before a
    // ClientHello that may be TLS 1.3 (which has no hints; the answer is the PSK it offers),
    // then, should the server choose a TLS 1.2 PSK suite, with the server's hint.
    let psk = null;
    let pskError = null;
    if (isServer) {
      ({ psk, error: pskError } = serverPsk(options));
    } else if (typeof options.pskCallback === 'function') {
      psk = { key: null, identity: null };
      if (this[kContext].maxVersion() === 'TLSv1.3') {
        try {
          psk = clientPsk(options.pskCallback(null)) || psk;
        } catch (err) {
          pskError = callbackError(err);
        }
      }
    }
    this[kPsk] = psk;
    // The handshake's engine calls on libuv's thread pool, unless asyncHandshake: false.
    this[kSteps] = handshakeSteps(options);
    this[kSession] = new binding.Session(this[kContext].native(isServer, alpn, debug, null, psk), this[kOut]);
    const session = this[kSession];
    if (this[kContext].allowPartialTrustChain) session.allowPartialChain(true);
    if (pskError) process.nextTick(() => this.destroy(pskError));
    if (isServer) {
      // The server chooses a context by SNI and ALPN (SNICallback, addContext, ALPNCallback),
      // and learns TLS 1.3 PSK identities, before Mbed TLS reads the ClientHello. A server
      // socket made by hand chooses with its own SNICallback and ALPNCallback.
      this[kSelectContext] = typeof options.selectContext === 'function' ? options.selectContext : null;
      if (!this[kSelectContext] && (typeof options.SNICallback === 'function' ||
          typeof options.ALPNCallback === 'function')) {
        this[kSelectContext] = (s, servername, protocols, done) => selectContext({
          socket: s,
          SNICallback: options.SNICallback,
          ALPNCallback: options.ALPNCallback,
          ALPNList: alpn,
          secureContext: this[kContext],
        }, servername, protocols, done);
      }
      // Session IDs in the application's store ('newSession', 'resumeSession'): the
      // ClientHello is held for the lookup too.
      if (usesSessionStore(options.server)) session.useSessionStore();
      else if (this[kSelectContext] || psk) session.holdClientHello();
      const mode = options.requestCert
        ? (options.rejectUnauthorized !== false ? constants.VERIFY_REQUIRED : constants.VERIFY_OPTIONAL)
        : constants.VERIFY_NONE;
      session.setVerify(mode);
    } else {
      session.setVerify(options.rejectUnauthorized !== false
        ? constants.VERIFY_REQUIRED : constants.VERIFY_OPTIONAL);
      // SNI only for a server name that is not an IP address, as node.
      if (typeof options.servername === 'string' && options.servername && !net.isIP(options.servername)) {
        const err = session.setServerName(options.servername);
        if (err) throw errors.fromNative(err);
      }
      if (options.session !== undefined && options.session !== null) {
        try {
          this.setSession(options.session);
        } catch (err) {
          // As node: a session it cannot use fails the connection, as an 'error' event.
          process.nextTick(() => this.destroy(err));
        }
      }
    }

    // The key log costs nothing until someone listens, as in node.
    const onNewListener = (event) => {
      if (event !== 'keylog') return;
      session.enableKeylog();
      this.removeListener('newListener', onNewListener);
    };
    this.on('newListener', onNewListener);
    attachKeylogFile(this);
    if (options.signal !== undefined && options.signal !== null) this._abortOn(options.signal);
    // node's onread: plaintext goes into the application's buffer, not to 'data' events
    // (only for a socket that makes its own transport, as node's).
    const ownTransport = !socket || options[kOwnTransport];
    this[kOnread] = ownTransport && options.onread ? new OnreadSink(options.onread) : null;
    // As node's: until the owner takes control (connect() at once, a Server once the
    // handshake is done), errors go to '_tlsError' only and never throw for want of an
    // 'error' listener; a socket made by hand keeps it so.
    this._controlReleased = false;
    this.on('error', this._tlsError);

    // A net.Socket's reads are Buffers of their own, which only we hold when ours is the
    // only 'data' listener: records are decrypted over them (_drive), saving a Buffer and
    // a copy to cold memory per read. A Duplex of the application's may share its chunks.
    this[kInPlace] = transport instanceof net.Socket;
    transport.on('data', (chunk) => this._onTransportData(chunk));
    transport.on('end', () => this._onTransportEnd());
    transport.on('error', (err) => this._onTransportError(err));
    transport.on('close', () => this._onTransportClose());
    // A net.Socket not connected yet (new TLSSocket(null), or one the caller connects later):
    // the handshake waits for it.
    this[kAwaitingConnect] = Boolean(transport.connecting ||
      (transport instanceof net.Socket && transport.pending && !transport.destroyed));
    if (this[kAwaitingConnect]) {
      transport.once('connect', () => {
        this[kAwaitingConnect] = false;
        if (this.destroyed) return;
        this.emit('connect');
        if (this[kStartWhenConnected]) this._start();
      });
    }
  }

  // options.signal: an abort destroys the socket with an AbortError, as net.Socket's.
  _abortOn(signal) {
    if (typeof signal !== 'object' || typeof signal.aborted !== 'boolean') {
      throw errors.invalidArgType('options.signal', 'an instance of AbortSignal', signal);
    }
    const abort = () => {
      const err = errors.coded(Error, 'ABORT_ERR', 'The operation was aborted');
      err.name = 'AbortError';
      err.cause = signal.reason;
      this.destroy(err);
    };
    if (signal.aborted) {
      process.nextTick(abort);
      return;
    }
    signal.addEventListener('abort', abort, { once: true });
    this.once('close', () => signal.removeEventListener('abort', abort));
  }

  // onread: plaintext into the application's buffer; a callback returning false pauses the
  // socket (the transport), and the rest follows on resume().
  _deliverOnread(plaintext) {
    if (!this[kOnread].deliver(this, plaintext) && !this[kPausedTransport]) {
      this[kPausedTransport] = true;
      this[kTransport].pause();
    }
  }

  resume() {
    const onread = this[kOnread];
    if (onread && onread.paused) {
      onread.paused = false;
      this._deliverOnread(Buffer.alloc(0));
      if (!onread.paused) {
        this._read();
        // The peer's end, held back until onread had taken every byte before it.
        if (onread.endPending) this._endReadable();
      }
    }
    return super.resume();
  }

  _tlsError(err) {
    this.emit('_tlsError', err);
    return this._controlReleased ? err : null;
  }

  // Errors are the application's from now on: 'error' events with no listener throw.
  _releaseControl() {
    if (this._controlReleased) return false;
    this._controlReleased = true;
    this.removeListener('error', this._tlsError);
    return true;
  }

  // For a socket made with no transport (new TLSSocket(null)): connects it as
  // net.Socket#connect(...) does; the handshake starts once it is connected.
  connect(...args) {
    if (typeof args[args.length - 1] === 'function') this.once('connect', args.pop());
    this[kTransport].connect(...args);
    return this;
  }

  // ---- The transport side ----

  // Starts the handshake: connect() does at once; a client socket made by hand starts with
  // the application's first write or end(), as node's (OpenSSL handshakes on SSL_write); a
  // server with the first bytes from the client.
  _start() {
    if (this[kStarted] || this.destroyed) return;
    if (this[kAwaitingConnect]) {
      this[kStartWhenConnected] = true;
      return;
    }
    this[kStarted] = true;
    if (this[kSteps]) this[kSteps].began();
    // A client speaks first (its ClientHello costs one key generation: on the JS thread, as
    // the trip to the pool would cost more); a server waits for the ClientHello.
    if (!this._tlsOptions.isServer) this._afterNative(this[kSession].start());
  }

  // One engine call that moves the connection on: feed(chunk), or process() when chunk is
  // null. During the handshake it may run on libuv's thread pool (lib/handshake-steps.js,
  // the asyncHandshake option); callers reach it through _inOrder().
  _drive(chunk) {
    if (this.destroyed) return;
    const session = this[kSession];
    const steps = this[kSteps];
    if (steps && !this._secureEstablished) {
      steps.began();
      if (steps.offload()) {
        steps.run(this, session, chunk, (state) => this._afterNative(state));
        return;
      }
    }
    if (chunk === null) {
      this._afterNative(session.process());
    } else if (this[kInPlace] && this._transportReadByUsAlone()) {
      this._afterNative(session.feedInPlace(chunk), chunk);
    } else {
      this._afterNative(session.feed(chunk));
    }
  }

  // Whether the transport's chunks reach nobody but us: ours is its only 'data' listener,
  // and no 'readable' listener (a tap, an async iterator) takes the same chunks from read().
  _transportReadByUsAlone() {
    const transport = this[kTransport];
    return transport.listenerCount('data') === 1 && transport.listenerCount('readable') === 0;
  }

  // Runs fn now, or, while a handshake step is on the thread pool, after it and whatever
  // arrived before fn: the transport's and the callbacks' events keep their order.
  _inOrder(fn) {
    const steps = this[kSteps];
    if (steps) steps.inOrder(fn);
    else fn();
  }

  _onTransportData(chunk) {
    if (this.destroyed) return;
    this._touch();
    if (!this[kStarted]) this._start();
    // The first record header the peer sent, to name a peer that does not speak TLS.
    const first = this[kFirstBytes];
    if (first === undefined || first.length < 5) {
      this[kFirstBytes] = Buffer.concat([first || Buffer.alloc(0), chunk.subarray(0, 5)]).subarray(0, 5);
    }
    // Every record comes this way: a closure only while a handshake step is in flight.
    const steps = this[kSteps];
    if (steps && steps.busy) steps.inOrder(() => this._drive(chunk));
    else this._drive(chunk);
  }

  _onTransportError(err) {
    this._inOrder(() => this._transportFailed(err));
  }

  _transportFailed(err) {
    // As node's: a peer gone while our close_notify leaves is no error of the application's.
    if (this[kEnding] && (err.code === 'EPIPE' || err.code === 'ECONNRESET')) {
      this.destroy();
      return;
    }
    this.destroy(err);
  }

  _onTransportEnd() {
    this._inOrder(() => {
      if (!this.destroyed) this._afterNative(this[kSession].feedEof());
    });
  }

  _onTransportClose() {
    this._inOrder(() => this._transportClosed());
  }

  _transportClosed() {
    if (this.destroyed) return;
    if (!this._secureEstablished) {
      this.destroy(this._disconnectedError());
      return;
    }
    // The transport closed under us: end the readable side if the peer didn't, and let the
    // application read what is buffered before the socket closes.
    this._endReadable();
    const onreadWaiting = this[kOnread] !== null && this[kOnread].endPending;
    if (this.readableEnded || (this.readableLength === 0 && !onreadWaiting)) {
      this.destroy();
    } else {
      this.once('end', () => this.destroy());
    }
  }

  // The peer is done sending (close_notify or FIN): 'end' follows once the application has
  // read what is buffered, and at once when nothing is (as net.Socket's read(0) after EOF),
  // so a socket nobody reads still ends and closes.
  _endReadable() {
    if (this.readableEnded || this._readableState.ended) return;
    const onread = this[kOnread];
    if (onread) {
      // Plaintext still waiting for onread's buffer (its callback paused the socket): the end
      // follows it, on resume(), as node's reads stop at the pause and reach the end later.
      onread.endPending = onread.queue.length > 0;
      if (onread.endPending) return;
      // node asks onread for a buffer for the read that finds the end, too.
      onread.atEnd();
    }
    this.push(null);
    this.read(0);
  }

  _disconnectedError() {
    const message = this._tlsOptions.isServer
      ? 'socket hang up'
      : 'Client network socket disconnected before secure TLS connection was established';
    const err = new Error(message);
    err.code = 'ECONNRESET';
    // As node's, a client made by connect() says where it was connecting.
    const where = this._tlsOptions[kConnectOptions];
    if (where) {
      Object.assign(err, { path: where.path, host: where.host, port: where.port, localAddress: where.localAddress });
    }
    return err;
  }

  // Acts on what one native call did: ciphertext out first (it may carry a fatal alert),
  // then the handshake, then plaintext (records authenticated before any failure in the
  // same chunk), then the failure or the peer's close.
  _afterNative(state, chunk) {
    const out = this[kOut];
    let plaintext = out[0];
    if (out[6] !== undefined) {
      // feed() decrypted into a Buffer sized for the most the input could yield.
      plaintext = plaintext.subarray(0, out[6]);
      out[6] = undefined;
    }
    let inPlace;
    if (out[8] !== undefined) {
      // feedInPlace(chunk): the chunk's first bytes now hold plaintext, after out[0]'s.
      inPlace = chunk.subarray(0, out[8]);
      out[8] = undefined;
      // A view keeps the whole read alive: taken when the plaintext is most of the read;
      // a little of it in a big read (after the end of a record cut by the read before)
      // gets a Buffer of its own: a chunk the application keeps holds at most twice its size.
      if (inPlace.length * 2 < chunk.length) inPlace = Buffer.from(inPlace);
    }
    const ciphertext = out[1];
    const keylog = out[3];
    const debug = out[4];
    out[0] = out[1] = out[3] = out[4] = undefined;
    if (ciphertext) this._sendCiphertext(ciphertext);
    if (debug) {
      this._emitDebug(debug);
      if (this.destroyed) return;
    }
    if (keylog) {
      // One event per NSS key log line, newline included, as node emits them.
      for (let start = 0; start < keylog.length;) {
        const end = keylog.indexOf(0x0a, start) + 1;
        this.emit('keylog', keylog.subarray(start, end));
        start = end;
      }
      if (this.destroyed) return;
    }
    if (state & EVENT_PSK_HINT) {
      // TLS 1.2: the ClientKeyExchange waits for the key.
      if (!this._answerPskHint()) return;
      this._drive(null);
      return;
    }
    if (state & EVENT_PSK_IDENTITY) {
      if (!this._answerPsk()) return;
      if (!(state & EVENT_CLIENT_HELLO)) {
        // TLS 1.2: the ClientKeyExchange waits for the key.
        this._drive(null);
        return;
      }
    }
    if (state & EVENT_CLIENT_HELLO) {
      this._onClientHello();
      return;
    }
    if (state & EVENT_NEW_SESSION) {
      // TLS 1.2: the server's ChangeCipherSpec and Finished wait until it is stored.
      storeNewSession(this, this[kSession],
        () => this._inOrder(() => this._afterNative(this[kSession].newSessionStored())));
      return;
    }
    if (state & EVENT_HANDSHAKE_DONE) {
      this._onHandshakeDone();
      if (this.destroyed) return;
      // A TLS 1.2 session is resumable once the handshake is done; TLS 1.3 waits for tickets.
      if (!this._tlsOptions.isServer && this.getProtocol() === 'TLSv1.2' && !this.isSessionReused()) {
        this._emitSession();
        if (this.destroyed) return;
      }
    }
    if (state & EVENT_NEW_SESSION_TICKET) {
      // One 'session' per TLS 1.3 ticket, as node: getSession() and getTLSTicket() say
      // that ticket's session while its event runs.
      while (this[kSession].nextTicket()) {
        this._emitSession();
        if (this.destroyed) return;
      }
    }
    if (plaintext) {
      this._deliverPlaintext(plaintext);
      if (this.destroyed) return;
    }
    if (inPlace) {
      this._deliverPlaintext(inPlace);
      if (this.destroyed) return;
    }
    if (state & STATE_FAILED) {
      this._failed();
      return;
    }
    if (state & EVENT_PEER_CLOSED) {
      this[kCloseNotify] = Boolean(state & STATE_PEER_CLOSE_NOTIFY);
      this._endReadable();
    }
  }

  // Received plaintext to the application: onread's buffer or the readable side, whose
  // backpressure pauses the transport.
  _deliverPlaintext(plaintext) {
    this.bytesRead += plaintext.length;
    if (this[kOnread]) {
      this._deliverOnread(plaintext);
    } else if (!this.push(plaintext) && !this[kPausedTransport]) {
      this[kPausedTransport] = true;
      this[kTransport].pause();
    }
  }

  _emitSession() {
    if (this.listenerCount('session') === 0) return;
    const saved = this.getSession();
    if (saved) this.emit('session', saved);
  }

  // The name the server's certificate is checked against, which a saved session is bound to.
  _peerName() {
    const options = this._tlsOptions;
    return options.servername || options.host || (this._parent && this._parent._host) || 'localhost';
  }

  // The held ClientHello: the server's selectContext(socket, servername, protocols, done)
  // answers, now or later, with done(err, secureContext, alpnList, alert).
  // The server's pskCallback(socket, identity) gives the key of a PSK identity (a Buffer),
  // or null for an identity it does not know. False when that failed the connection.
  _answerPsk() {
    const session = this[kSession];
    const identity = session.pskIdentity();
    if (!identity) return true;
    let key;
    try {
      key = this._tlsOptions.pskCallback(this, identity.toString('utf8'));
      if (key !== undefined && key !== null) key = pskBuffer(key, 'ret');
    } catch (err) {
      this._refuse(callbackError(err), ALERT_INTERNAL_ERROR);
      return false;
    }
    if (this.destroyed) return false;
    session.setPSK(key === undefined ? null : key);
    return true;
  }

  // The client's pskCallback(hint) gives the TLS 1.2 key and identity once the server's
  // identity hint is known (null when it sent none), as node's client asks after
  // ServerKeyExchange; null there fails the handshake, as in node. False when it failed.
  _answerPskHint() {
    const session = this[kSession];
    const hint = session.pskHint();
    let psk;
    try {
      psk = clientPsk(this._tlsOptions.pskCallback(hint ? hint.toString('utf8') : null));
    } catch (err) {
      this._refuse(callbackError(err), ALERT_INTERNAL_ERROR);
      return false;
    }
    if (this.destroyed) return false;
    if (psk === null) {
      this._refuse(errors.coded(Error, 'ERR_SSL_PSK_IDENTITY_NOT_FOUND', 'psk identity not found'),
        ALERT_HANDSHAKE_FAILURE);
      return false;
    }
    const result = session.setClientPSK(psk.key, psk.identity);
    if (result) { // out of memory, as the arguments were checked
      this._refuse(errors.fromNative(session.error() || { errno: result, message: 'Invalid PSK' }),
        ALERT_INTERNAL_ERROR);
      return false;
    }
    return true;
  }

  _onClientHello() {
    const session = this[kSession];
    // As node's, the name asked for is the socket's from here on ('tlsClientError' included).
    const servername = session.servername() || undefined;
    if (servername) this.servername = servername;
    // As node's, the session ID is looked up before the context is chosen.
    lookUpSession(this, session, () => this._inOrder(() => this._chooseContext(servername)),
      (err) => this._inOrder(() => this._refuse(callbackError(err), ALERT_INTERNAL_ERROR)));
  }

  _chooseContext(servername) {
    const session = this[kSession];
    if (!this[kSelectContext]) {
      this._continueHello(undefined);
      return;
    }
    const protocols = session.helloALPN() || undefined;
    let answered = false;
    const answer = (err, secureContext, alpnList, alert) => {
      if (this.destroyed) return;
      if (err) {
        // Fail closed: a fatal alert to the client, the error to the server.
        this._refuse(err, alert || ALERT_INTERNAL_ERROR);
        return;
      }
      // setKeyCert() from a callback has the last word, as in node.
      const chosen = this[kKeyCert] || secureContext;
      let config;
      try {
        const options = this._tlsOptions;
        const debug = options.debugLevel !== undefined ? options.debugLevel : context.debugLevel(options.debug);
        config = chosen.native(true, alpnList, debug, this[kContext], this[kPsk]);
      } catch (buildError) {
        answer(buildError, null, null, ALERT_INTERNAL_ERROR);
        return;
      }
      this[kContext] = chosen;
      this._continueHello(config);
    };
    const done = (...args) => {
      if (answered || this.destroyed) return;
      answered = true;
      this._inOrder(() => answer(...args));
    };
    this[kSelectContext](this, servername, protocols, done);
  }

  // The held ClientHello goes on, on `config` (undefined: the socket's own); on the thread
  // pool with asyncHandshake.
  _continueHello(config) {
    if (this.destroyed) return;
    const session = this[kSession];
    const steps = this[kSteps];
    if (!steps || !steps.offload()) {
      this._afterNative(session.continueHello(config));
      return;
    }
    const refused = session.continueHello(config, false);
    if (refused === undefined) this._drive(null);
    else this._afterNative(refused);
  }

  // One 'debug' event per line of Mbed TLS's debug output, a string without its newline.
  // A handler may destroy the socket: the lines after that are dropped.
  _emitDebug(lines) {
    for (let start = 0; start < lines.length && !this.destroyed;) {
      let end = lines.indexOf(0x0a, start);
      if (end < 0) end = lines.length;
      this.emit('debug', lines.toString('utf8', start, end));
      start = end + 1;
    }
  }

  _sendCiphertext(buffer, callback) {
    const transport = this[kTransport];
    if (transport.destroyed || transport.writableEnded) {
      if (callback) callback(this._disconnectedError());
      return;
    }
    transport.write(buffer, callback);
  }

  // The error for the session's sticky failure, named as node names the same condition.
  _sessionError() {
    const info = this[kSession].error();
    if (!info) return new MbedtlsError('TLS session failed');
    switch (info.errno) {
      case MBEDTLS_ERR.SSL_CONN_EOF:
        return this._disconnectedError();
      case MBEDTLS_ERR.SSL_NO_CLIENT_CERTIFICATE:
        return errors.fromNative(info, { code: 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE',
          message: 'peer did not return a certificate' });
      case UNHANDLED_CRITICAL_EXTENSION:
        // Mbed TLS cannot even parse such a certificate; node names it at verification.
        return Object.assign(errors.verifyError('UNHANDLED_CRITICAL_EXTENSION', 0), mbedtlsFields(info));
      case MBEDTLS_ERR.SSL_INVALID_RECORD:
      case ERR_RECORD_TOO_LONG: {
        const code = errors.notTlsCode(this[kFirstBytes], Boolean(this._tlsOptions.isServer));
        if (code) return errors.fromNative(info, { code });
        break;
      }
      case MBEDTLS_ERR.SSL_INVALID_MAC: {
        // OpenSSL's name for a record that fails authentication, except a TLS 1.2 AES-GCM
        // one, which it names after the failed cipher operation.
        const cipher = this.getCipher();
        const gcm12 = cipher && cipher.version === 'TLSv1.2' && /_AES_\d+_GCM_/.test(cipher.standardName);
        return errors.fromNative(info, {
          code: gcm12 ? 'ERR_SSL_CIPHER_OPERATION_FAILED' : 'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC',
        });
      }
      case MBEDTLS_ERR.SSL_BAD_PROTOCOL_VERSION:
        return errors.fromNative(info, { code: 'ERR_SSL_UNSUPPORTED_PROTOCOL' });
      case MBEDTLS_ERR.X509_CERT_VERIFY_FAILED:
      case MBEDTLS_ERR.SSL_BAD_CERTIFICATE: {
        const err = this._verifyError();
        if (err) {
          // As node leaves it on a socket it refused the peer of.
          this.authorizationError = err.code;
          return Object.assign(err, mbedtlsFields(info));
        }
        break;
      }
      default:
        break;
    }
    return errors.fromNative(info);
  }

  _failed() {
    this._failedWith(this._sessionError());
  }

  // Ends the connection on the application's decision: a fatal alert to the peer, `err`
  // to the application.
  _refuse(err, alert) {
    this[kSession].refuse(alert);
    const out = this[kOut];
    const ciphertext = out[1];
    out[0] = out[1] = out[3] = undefined;
    if (ciphertext) this._sendCiphertext(ciphertext);
    this._failedWith(err);
  }

  _failedWith(err) {
    // Let the fatal alert leave before the transport is torn down; a TCP transport closes
    // once the peer has too (closeAfterPeer).
    const transport = this[kTransport];
    if (transport instanceof net.Socket && !transport.destroyed && transport.writable &&
        !transport.readableEnded) {
      this[kCloseAfterPeer] = true;
    } else if (!transport.destroyed && transport.writable && transport.writableLength > 0) {
      transport.end();
    }
    this.destroy(err);
  }

  // node's code for Mbed TLS's verdict on the peer's chain, or null when it verified.
  _verifyError() {
    const session = this[kSession];
    const flags = session.verifyFlags();
    if (flags === 0) return null;
    const verified = session.verifiedChain();
    const code = errors.verifyCode(flags, verified, session.peerCertificates());
    if (!code) return null;
    const err = errors.verifyError(code, flags);
    // No chain at all when the peer sent no certificate (optional client certificates).
    if (verified.length === 0) return err;
    const hint = errors.hintFor(err.reason, {
      leaf: errors.x509(verified[0][0]),
      top: errors.x509(verified[verified.length - 1][0]),
    });
    if (hint) err.hint = hint;
    return err;
  }

  _onHandshakeDone() {
    const session = this[kSession];
    const options = this._tlsOptions;
    this._secureEstablished = true;
    this.secureConnecting = false;
    if (this[kSteps]) this[kSteps].ended();
    this.alpnProtocol = session.alpn() || false;
    this.servername = session.servername() || (options.isServer ? false : null);
    if (!this._settleAuthorization()) return;
    this._flushPendingWrite();
    this.emit('secure');
    if (!options.isServer && !this.destroyed) this.emit('secureConnect');
  }

  // The verdict on the peer once the handshake is done: sets authorized and
  // authorizationError as node's TLSSocket does. A server that asked for a certificate
  // (requestCert) takes Mbed TLS's verdict on the client's chain; Mbed TLS has already
  // refused it if rejectUnauthorized. A client takes Mbed TLS's verdict on the server's
  // chain, then checks the name (this._peerName()) with options.checkServerIdentity or
  // node's tls.checkServerIdentity (through ./name-check.js); a failure refuses the peer
  // with this._refuse() (alert bad_certificate, internal_error when the check itself
  // threw or returned a non-Error) unless rejectUnauthorized is false. Returns false when
  // it refused (the socket is being destroyed with the error), true when the handshake
  // goes on. DTLSSocket borrows it: it reads this[kSession], this._tlsOptions, this[kPsk]
  // and calls _verifyError, _peerName, getPeerCertificate, getPeerX509Certificate, _refuse.
  _settleAuthorization() {
    const options = this._tlsOptions;
    if (options.isServer) {
      if (options.requestCert) {
        const err = this._verifyError();
        this.authorized = !err;
        this.authorizationError = err ? err.code : null;
      }
      return true;
    }
    // Client: a server that proved it holds our PSK sent no certificate, and has no name to
    // check: it is authorized by the key (as node's client on a TLS 1.3 PSK handshake).
    if (this[kPsk] && this[kSession].peerCertificates().length === 0) {
      this.authorized = true;
      return true;
    }
    // Client: Mbed TLS checked the chain (and refused it if rejectUnauthorized); the name
    // is checked here with node's rules, against servername || host.
    let verifyError = this._verifyError();
    if (!verifyError) {
      const hostname = this._peerName();
      const check = options.checkServerIdentity || tls.checkServerIdentity;
      try {
        const leaf = this[kSession].peerCertificates()[0];
        verifyError = (leaf === undefined ? check(hostname, {})
          : checkPeerName(check, hostname, leaf, () => this.getPeerCertificate(true))) || null;
      } catch (err) {
        verifyError = callbackError(err);
      }
      if (verifyError !== null && !(verifyError instanceof Error)) {
        // Anything but undefined or an Error refuses the peer too: fail closed.
        verifyError = callbackError(verifyError);
      }
      if (verifyError && verifyError.code === 'ERR_TLS_CERT_ALTNAME_INVALID' && !verifyError.hint) {
        verifyError.hint = errors.hintFor(verifyError.code,
          { leaf: this.getPeerX509Certificate(), host: hostname });
      }
    }
    if (!verifyError) {
      this.authorized = true;
      return true;
    }
    this.authorized = false;
    this.authorizationError = verifyError.code || verifyError.message;
    if (options.rejectUnauthorized === false) return true;
    this._refuse(verifyError, verifyError.code === 'ERR_MBEDTLS_CALLBACK_FAILED'
      ? ALERT_INTERNAL_ERROR : ALERT_BAD_CERTIFICATE);
    return false;
  }

  // ---- The application side ----

  _read() {
    if (this[kPausedTransport]) {
      this[kPausedTransport] = false;
      this[kTransport].resume();
    }
  }

  _write(chunk, encoding, callback) {
    this._writev([{ chunk }], callback);
  }

  _writev(chunks, callback) {
    if (!this._secureEstablished) {
      // Application data waits for the handshake; Duplex sends no more until callback.
      this[kPendingWrite] = [chunks, callback];
      this._start();
      return;
    }
    this._touch();
    const data = chunks.length === 1 ? chunks[0].chunk : chunks.map((c) => c.chunk);
    // A Buffer of records whose transport write is done is given again to encrypt into.
    const spare = this[kSpareRecords];
    this[kSpareRecords] = null;
    const state = this[kSession].write(data, spare || undefined);
    const out = this[kOut];
    const ret = out[2];
    let ciphertext = out[1];
    let records = null;
    if (out[7] !== undefined) {
      // write() encrypted into a Buffer (the spare, or one sized for the most the records
      // could take): it is ours again once the transport has written it.
      records = ciphertext;
      ciphertext = ciphertext.subarray(0, out[7]);
      out[7] = undefined;
    }
    const debug = out[4];
    out[1] = out[4] = undefined;
    out[2] = 0;
    try {
      if (state & STATE_FAILED) {
        callback(this._sessionError());
        return;
      }
      if (ret !== 0) {
        const err = errors.fromNative({ errno: ret, message: 'write refused' });
        callback(err);
        return;
      }
      for (const c of chunks) this._bytesWritten += c.chunk.length;
      if (records) {
        this._sendCiphertext(ciphertext, (err) => {
          if (!err && !this.destroyed) this[kSpareRecords] = records;
          callback(err);
        });
      } else if (ciphertext) {
        this._sendCiphertext(ciphertext, callback);
      } else {
        callback();
      }
    } finally {
      if (debug) this._emitDebug(debug);
    }
  }

  _flushPendingWrite() {
    const pending = this[kPendingWrite];
    if (!pending) return;
    this[kPendingWrite] = null;
    this._writev(pending[0], pending[1]);
  }

  // end(): close_notify, then FIN once everything before it is flushed.
  _final(callback) {
    if (!this._secureEstablished) {
      this.once('secure', () => this._final(callback));
      this._start();
      return;
    }
    this[kEnding] = true;
    this[kSession].close();
    const ciphertext = this[kOut][1];
    const debug = this[kOut][4];
    this[kOut][1] = this[kOut][4] = undefined;
    const transport = this[kTransport];
    if (ciphertext) this._sendCiphertext(ciphertext);
    if (debug) this._emitDebug(debug);
    if (transport.destroyed || transport.writableEnded) {
      callback();
      return;
    }
    transport.end(() => callback());
  }

  _destroy(err, callback) {
    this._clearTimer();
    if (this[kSteps]) this[kSteps].ended();
    this[kSpareRecords] = null;
    idleTrim.forget(this);
    if (this[kPendingWrite]) {
      // Data still waiting for the handshake is cancelled, as a net.Socket's queued write
      // is when its handle closes; the callback runs after the destroy, as node's do.
      const [, cb] = this[kPendingWrite];
      this[kPendingWrite] = null;
      process.nextTick(cb, Object.assign(errors.coded(Error, 'ECANCELED', 'write ECANCELED'),
        { errno: -os.constants.errno.ECANCELED, syscall: 'write' }));
    }
    this[kSession].destroy();
    const transport = this[kTransport];
    if (!transport.destroyed) {
      if (this[kCloseAfterPeer]) {
        closeAfterPeer(transport);
      } else if (transport.writableLength > 0 && !transport.writableEnded && transport.writable) {
        // A queued fatal alert or close_notify still leaves; then the transport closes.
        transport.end();
        transport.once('finish', () => transport.destroy());
        transport.setTimeout?.(1000, () => transport.destroy());
      } else {
        transport.destroy();
      }
    }
    callback(err);
    // After 'error', as net.Socket emits it.
    process.nextTick(() => this.emit('close', Boolean(err)));
  }

  destroySoon() {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  // ---- Idle timeout, as net.Socket's ----

  setTimeout(ms, callback) {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw errors.invalidArgType('msecs', 'of type number', ms);
    }
    this.timeout = ms;
    this._clearTimer();
    if (ms > 0) {
      this[kTimer] = setTimeout(() => this.emit('timeout'), ms);
      this[kTimer].unref();
    }
    if (callback) {
      if (ms === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    return this;
  }

  _touch() {
    if (this[kTimer]) this[kTimer].refresh();
    idleTrim.noteActivity(this);
  }

  // Called by lib/idle-trim.js once the socket has been quiet for a while.
  _trimIdle() {
    this[kSpareRecords] = null;
    if (!this.destroyed) this[kSession].trim();
  }

  _unrefTimer() {
    this._touch();
  }

  _clearTimer() {
    if (this[kTimer]) {
      clearTimeout(this[kTimer]);
      this[kTimer] = null;
    }
  }

  // ---- net.Socket's surface, forwarded to the transport ----

  get connecting() { return Boolean(this[kTransport].connecting); }
  get pending() { return Boolean(this[kTransport].pending); }
  get remoteAddress() { return this[kTransport].remoteAddress; }
  get remotePort() { return this[kTransport].remotePort; }
  get remoteFamily() { return this[kTransport].remoteFamily; }
  get localAddress() { return this[kTransport].localAddress; }
  get localPort() { return this[kTransport].localPort; }
  get localFamily() { return this[kTransport].localFamily; }
  get bytesWritten() { return this._bytesWritten; }
  // As net.Socket's: undefined once the socket is closed.
  get bufferSize() { return this.destroyed ? undefined : this.writableLength; }
  get readyState() {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }

  address() { return typeof this[kTransport].address === 'function' ? this[kTransport].address() : {}; }

  setNoDelay(noDelay) {
    if (typeof this[kTransport].setNoDelay === 'function') this[kTransport].setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable, initialDelay) {
    if (typeof this[kTransport].setKeepAlive === 'function') {
      this[kTransport].setKeepAlive(enable, initialDelay);
    }
    return this;
  }

  ref() {
    if (typeof this[kTransport].ref === 'function') this[kTransport].ref();
    return this;
  }

  unref() {
    if (typeof this[kTransport].unref === 'function') this[kTransport].unref();
    return this;
  }

  // ---- TLS ----

  // True when the peer ended with close_notify; false when its transport just ended (a
  // truncation an application may want to treat as an error). null while open.
  get closeNotifyReceived() {
    return this.readableEnded || this.destroyed ? this[kCloseNotify] : null;
  }

  // As node's, these return null once the socket is destroyed.
  getProtocol() { return this.destroyed ? null : this[kSession].protocol(); }

  // As node's: undefined before the handshake, null once destroyed.
  getCipher() {
    if (this.destroyed) return null;
    const cipher = this[kSession].cipher();
    if (!cipher) return undefined;
    const suite = ciphers.byId(cipher[0]);
    if (!suite) return { name: cipher[1], standardName: cipher[1], version: this.getProtocol() };
    return { name: suite.name, standardName: suite.standardName, version: suite.cipherVersion };
  }

  getPeerCertificate(detailed) {
    if (this.destroyed) return null;
    const chain = this[kSession].peerCertificates();
    // As node's: {} while there is no certificate (before the handshake, or none sent).
    if (chain.length === 0) return {};
    const leaf = legacyObject(chain[0]);
    if (!detailed) return leaf;
    // As node's: issuerCertificate links the certificates the peer sent by who issued whom,
    // then goes on with issuers from the trust store; a self-issued last one links to itself.
    const sent = chain.slice(1).map((der) => new crypto.X509Certificate(der));
    let cert = new crypto.X509Certificate(chain[0]);
    let object = leaf;
    const link = (issuer) => {
      const next = legacyObject(issuer.raw);
      object.issuerCertificate = next;
      object = next;
    };
    for (let i; (i = sent.findIndex((ca) => cert.checkIssued(ca))) >= 0;) {
      link(sent[i]);
      cert = sent.splice(i, 1)[0];
    }
    const trusted = this[kContext].caCertificates();
    while (!cert.checkIssued(cert)) {
      const issuer = trusted.find((ca) => cert.checkIssued(ca));
      if (!issuer) break;
      link(issuer);
      if (issuer.raw.equals(cert.raw)) break; // self-signed without keyCertSign
      cert = issuer;
    }
    if (cert.checkIssued(cert)) object.issuerCertificate = object;
    return leaf;
  }

  getCertificate() {
    if (this.destroyed) return null;
    const der = this[kSession].ownCertificate();
    return der ? legacyObject(der) : {};
  }

  // As node's, null once destroyed.
  isSessionReused() { return this.destroyed ? null : this[kSession].reused(); }

  // The state to resume this connection with (the `session` option of connect()); a client
  // has one once the handshake is done (in TLS 1.3, one that resumes nothing until a ticket
  // arrives, as node's). It is bound to the host name the certificate was checked against
  // and never resumed for another.
  getSession() {
    if (this.destroyed) return null;
    if (this._tlsOptions.isServer) return undefined;
    return this[kSession].save(this._peerName());
  }

  // Offers a saved session for resumption; only before the handshake starts. A session for
  // another host name, or from another Mbed TLS build, gives a full handshake.
  setSession(saved) {
    if (!errors.isBinary(saved)) {
      throw errors.invalidArgType('session', 'an instance of Buffer, TypedArray, or DataView', saved);
    }
    const buffer = errors.toBuffer(saved);
    const ret = this[kSession].resume(buffer, this._peerName());
    if (ret === MBEDTLS_ERR.SSL_BAD_INPUT_DATA) {
      // Not a session this library saved: node fails such a connection too.
      throw new MbedtlsError('The session is not one saved by mbedtls-stream (getSession() or the \'session\' event)',
        { code: 'ERR_MBEDTLS_INVALID_SESSION' });
    }
  }

  // node's: the session ticket a client holds, as the server sent it; undefined on servers.
  getTLSTicket() { return this.destroyed ? null : this[kSession].ticket(); }

  // As node's: on a client the ephemeral key exchange's group ({} for none, as with static
  // RSA), null on a server or once destroyed.
  getEphemeralKeyInfo() {
    if (this.destroyed || this._tlsOptions.isServer) return null;
    const group = EPHEMERAL_GROUPS[this[kSession].keyExchangeGroup()];
    return group ? { type: 'ECDH', name: group.name, size: group.size } : {};
  }

  // The verify_data of the latest Finished message sent / received; undefined before then.
  // As node's, these getters say null once the socket is destroyed.
  getFinished() { return this.destroyed ? null : this[kSession].finished(false); }

  getPeerFinished() { return this.destroyed ? null : this[kSession].finished(true); }

  // As node's: the server serves this connection with the key and certificate of `secureContext`
  // (a SecureContext or createSecureContext() options). Called from SNICallback or
  // ALPNCallback (this is the socket there), while the ClientHello waits for them, it
  // replaces the context they chose, as an SNI context does.
  setKeyCert(secureContext) {
    if (this.destroyed) return;
    const chosen = secureContext instanceof context.SecureContext
      ? secureContext : context.createSecureContext(secureContext);
    if (this._tlsOptions.isServer) this[kKeyCert] = chosen;
  }

  // As node's: issuerCertificate links each certificate to the next one the peer sent.
  getPeerX509Certificate() {
    let issuer;
    for (const der of this[kSession].peerCertificates().reverse()) {
      const cert = new crypto.X509Certificate(der);
      if (issuer) Object.defineProperty(cert, 'issuerCertificate', { value: issuer, configurable: true });
      issuer = cert;
    }
    return issuer;
  }

  getX509Certificate() {
    const der = this[kSession].ownCertificate();
    return der ? new crypto.X509Certificate(der) : undefined;
  }

  setServername(name) {
    if (typeof name !== 'string') throw errors.invalidArgType('name', 'of type string', name);
    if (this._tlsOptions.isServer) {
      throw errors.coded(Error, 'ERR_TLS_SNI_FROM_SERVER', 'Cannot issue SNI from a TLS server-side socket');
    }
    const err = this[kSession].setServerName(name);
    if (err) throw errors.fromNative(err);
  }

  // As node's: the most plaintext each record we send carries, 512 to 16384; true when set.
  setMaxSendFragment(size) {
    errors.checkInteger(size, 'size', -0x80000000, 0x7FFFFFFF);
    return size >= 0 && !this.destroyed && this[kSession].setMaxSendFragment(size);
  }

  // RFC 5705 / RFC 8446 7.5 keying material, as node's exportKeyingMaterial().
  exportKeyingMaterial(length, label, context) {
    errors.checkInteger(length, 'length', 1, 0xFFFFFFFF);
    if (typeof label !== 'string') throw errors.invalidArgType('label', 'of type string', label);
    if (context !== undefined && !errors.isBinary(context)) {
      throw errors.invalidArgType('context', 'an instance of Buffer, TypedArray, or DataView', context);
    }
    if (context !== undefined) context = errors.toBuffer(context);
    if (!this._secureEstablished || this.destroyed) {
      throw errors.coded(Error, 'ERR_TLS_INVALID_STATE', 'TLS socket connection must be securely established');
    }
    const result = this[kSession].exportKeyingMaterial(length, label, context);
    if (!Buffer.isBuffer(result)) throw errors.fromNative(result);
    return result;
  }

  renegotiate(options, callback) {
    const err = errors.coded(Error, 'ERR_TLS_RENEGOTIATION_DISABLED',
      'TLS session renegotiation disabled for this socket');
    if (typeof callback === 'function') process.nextTick(callback, err);
    return false;
  }

  // Bytes Mbed TLS holds for this connection: { current, peak }.
  memoryUsage() {
    const [current, peak, allocations] = this[kSession].memory();
    return { current, peak, allocations };
  }
}

// The largest pre-shared key: MBEDTLS_PSK_MAX_LEN in deps/config/mbedtls_stream_config.h,
// set to OpenSSL's limit, which is node's.
const MAX_PSK_LENGTH = 512;
// OpenSSL's longest PSK identity hint (PSK_MAX_IDENTITY_LEN), which node keeps to.
const MAX_PSK_HINT_LENGTH = 256;

// A server's PSK settings from its options, as node reads them: { psk: { hint } or null,
// error }. The hint counts only with a pskCallback, and must be a string when given; node
// passes it to OpenSSL as a C string, which fails each connection for one that is too long.
function serverPsk(options) {
  if (typeof options.pskCallback !== 'function') return { psk: null, error: null };
  if (options.pskIdentityHint && typeof options.pskIdentityHint !== 'string') {
    throw errors.invalidArgType('options.pskIdentityHint', 'of type string', options.pskIdentityHint);
  }
  const hint = Buffer.from((options.pskIdentityHint || '').split('\0')[0], 'utf8');
  if (hint.length > MAX_PSK_HINT_LENGTH) {
    return {
      psk: { hint: null },
      error: errors.coded(Error, 'ERR_TLS_PSK_SET_IDENTIY_HINT_FAILED', 'Failed to set PSK identity hint'),
    };
  }
  return { psk: { hint: hint.length > 0 ? hint : null }, error: null };
}

// A PSK as node takes it: a Buffer, TypedArray or DataView of at most MAX_PSK_LENGTH bytes.
function pskBuffer(value, name) {
  if (!ArrayBuffer.isView(value)) {
    throw errors.invalidArgType(name, 'an instance of Buffer, TypedArray, or DataView', value);
  }
  const key = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (key.length === 0 || key.length > MAX_PSK_LENGTH) {
    throw errors.invalidArgValue(name, key.length, `must be 1 to ${MAX_PSK_LENGTH} bytes`);
  }
  return key;
}

// What a client's pskCallback returned: null (no PSK) or { psk, identity }, as node checks it.
function clientPsk(ret) {
  if (ret === undefined || ret === null) return null;
  if (typeof ret !== 'object') throw errors.invalidArgType('ret', 'of type object', ret);
  const key = pskBuffer(ret.psk, 'psk');
  if (typeof ret.identity !== 'string') throw errors.invalidArgType('identity', 'of type string', ret.identity);
  const identity = Buffer.from(ret.identity, 'utf8');
  if (identity.length === 0 || identity.length > 128) {
    throw errors.invalidArgValue('identity', ret.identity, 'must be 1 to 128 bytes');
  }
  return { key, identity };
}

function mbedtlsFields(info) {
  return { mbedtlsCode: info.errno, mbedtlsHex: errors.hex(info.errno), mbedtlsText: info.message };
}

// TLS NamedGroups -> what node's getEphemeralKeyInfo() says of them (OpenSSL's short name
// and key size in bits).
const EPHEMERAL_GROUPS = {
  0x0017: { name: 'prime256v1', size: 256 },
  0x0018: { name: 'secp384r1', size: 384 },
  0x0019: { name: 'secp521r1', size: 521 },
  0x001D: { name: 'X25519', size: 253 },
  0x001E: { name: 'X448', size: 448 },
};

function legacyObject(der) {
  return new crypto.X509Certificate(der).toLegacyObject();
}

// What a TLSSocket can run over: a net.Socket or any Duplex (node's JSStreamSocket needs as much).
const isStream = (value) => value !== null && typeof value === 'object' &&
  typeof value.on === 'function' && typeof value.write === 'function' && typeof value.pause === 'function';

// new TLSSocket(socket, options)'s arguments, checked as node checks them -> the options.
function checkedSocketOptions(socket, options) {
  if (socket !== undefined && socket !== null && !isStream(socket)) {
    throw errors.invalidArgType('socket', 'an instance of net.Socket or stream.Duplex', socket);
  }
  options = options || {};
  if (options.secureContext) context.validateSecureContext(options.secureContext);
  if (options.isServer && options.SNICallback && typeof options.SNICallback !== 'function') {
    throw errors.invalidArgType('options.SNICallback', 'of type function', options.SNICallback);
  }
  return options;
}

module.exports = {
  TLSSocket, kTransport, kAllowHalfOpen, kOwnTransport, kConnectOptions, serverPsk, isStream,
  // For lib/dtls, whose DTLSSocket shares the getters and the verdict that read these.
  kSession, kContext, kPsk,
};
