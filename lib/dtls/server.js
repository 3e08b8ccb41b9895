// server.js: DTLSServer, many DTLS peers on one UDP socket, and its demultiplexer.
//
// Each datagram goes, in this order:
//   - a tls12_cid record (RFC 9146) to the session owning the CID; from a new address only
//     once its record authenticates for that session (mbedtls_ssl_check_record), and then
//     the session moves there ('peerAddressChange');
//   - to the session of its address and port;
//   - from an unknown address, a ClientHello goes through the stateless cookie check
//     (binding.dtls.checkHello): a HelloVerifyRequest and no state, or, with a valid cookie
//     (or cookies off), a new session;
//   - a new ClientHello (epoch 0) from the address of an established session (a rebooted
//     device) gets the same check and a new session; the old one closes when the new
//     handshake completes, and meanwhile keeps the records that authenticate for it.
// Everything else is dropped and counted in server.stats.dropped; nothing throws.
'use strict';

const dgram = require('dgram');
const { EventEmitter } = require('events');
const crypto = require('crypto');
const net = require('net');
const binding = require('../binding');
const context = require('../context');
const errors = require('../errors');
const { serverPsk } = require('../socket');
const { DTLSSocket } = require('./socket');
const records = require('./records');
const options_ = require('./options');

const set = (value) => value !== undefined && value !== null;

const peerKey = (address, port) => `${address}\u0000${port}`;

class DTLSServer extends EventEmitter {
  constructor(options, secureConnectionListener) {
    super();
    if (typeof options === 'function') {
      secureConnectionListener = options;
      options = {};
    }
    if (!set(options)) options = {};
    if (typeof options !== 'object') throw errors.invalidArgType('options', 'of type object', options);
    options_.pskCallbackOption(options);
    if (set(options.SNICallback) && typeof options.SNICallback !== 'function') {
      throw errors.invalidArgType('options.SNICallback', 'of type function', options.SNICallback);
    }
    const retransmit = options_.retransmitOption(options.retransmitTimeout);
    this._cidLength = options_.serverConnectionId(options.connectionId);
    if (set(options.cookies) && typeof options.cookies !== 'boolean') {
      throw errors.invalidArgType('options.cookies', 'of type boolean', options.cookies);
    }
    this._settings = {
      mtu: options_.mtuOption(options.mtu),
      handshakeTimeout: options_.integer(options, 'handshakeTimeout', 0, 0x7FFFFFFF,
        options_.DEFAULT_SERVER_HANDSHAKE_TIMEOUT),
      idleTimeout: options_.integer(options, 'idleTimeout', 0, 0x7FFFFFFF, 0),
      maxConnections: options_.integer(options, 'maxConnections', 0, 0x7FFFFFFF, Infinity),
      type: options_.typeOption(options.type, 'udp4'),
    };
    this._options = options;
    this._context = options_.makeContext(options);
    const { psk, error } = serverPsk(options);
    if (error) throw error;
    const dtls = {
      retransmitMin: retransmit.min,
      retransmitMax: retransmit.max,
      cookies: options.cookies !== false,
    };
    if (this._cidLength > 0) dtls.cidLength = this._cidLength;
    // What a context chosen by SNICallback is built with too (_configFor).
    this._native = {
      alpn: context.alpnList(options.ALPNProtocols), debug: context.debugLevel(options.debug), psk, dtls,
    };
    this._config = this._context.native(true, this._native.alpn, this._native.debug, null, psk, dtls);
    this._byAddress = new Map(); // peerKey -> DTLSSocket
    this._byCid = new Map(); // hex CID -> DTLSSocket
    this._replacing = new Map(); // peerKey -> the new DTLSSocket of a peer that started over
    this._udp = null;
    this._ownSocket = false;
    this._closing = false;
    // Counters of what the demultiplexer did, for monitoring and tests.
    this.stats = {
      datagrams: 0, // datagrams received
      helloVerifyRequests: 0, // stateless cookie requests sent
      handshakes: 0, // sessions created (a ClientHello with a valid cookie)
      peerAddressChanges: 0,
      dropped: {
        malformed: 0, // not a DTLS record
        unknownPeer: 0, // not a ClientHello, from an address without a session
        unknownConnectionId: 0, // a CID record no session owns
        badClientHello: 0, // a ClientHello the stateless check refused
        unauthenticated: 0, // a CID record from a new address that did not authenticate
        maxConnections: 0, // a valid ClientHello over maxConnections
        closing: 0, // after close()
      },
    };
    if (secureConnectionListener) this.on('secureConnection', secureConnectionListener);
  }

  // listen(port[, host][, callback]), listen({ port, host, socket }[, callback])
  listen(...args) {
    let callback = typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
    let port = 0;
    let host;
    let socket = null;
    if (args[0] !== null && typeof args[0] === 'object') {
      ({ port = 0, host, socket = null } = args[0]);
    } else {
      [port = 0, host] = args;
    }
    if (this._udp) throw errors.coded(Error, 'ERR_SERVER_ALREADY_LISTEN', 'Listen method has been called more than once without closing.');
    if (callback) this.once('listening', callback);
    callback = null;
    if (socket) {
      if (!(socket instanceof dgram.Socket)) throw errors.invalidArgType('options.socket', 'an instance of dgram.Socket', socket);
      this._attach(socket, false);
      let bound = true;
      try { socket.address(); } catch { bound = false; }
      if (bound) process.nextTick(() => this.emit('listening'));
      else socket.once('listening', () => this.emit('listening'));
      return this;
    }
    const type = host && net.isIPv6(host) ? 'udp6' : this._settings.type;
    const udp = dgram.createSocket(type);
    this._attach(udp, true);
    udp.once('listening', () => this.emit('listening'));
    udp.bind(port, host);
    return this;
  }

  _attach(udp, own) {
    this._udp = udp;
    this._ownSocket = own;
    this._onMessage = (msg, rinfo) => this._demultiplex(msg, rinfo);
    this._onError = (err) => this.emit('error', err);
    udp.on('message', this._onMessage);
    udp.on('error', this._onError);
  }

  address() {
    return this._udp ? this._udp.address() : null;
  }

  get listening() {
    return this._udp !== null && !this._closing;
  }

  getConnections(callback) {
    const count = this._byAddress.size + this._replacing.size;
    if (typeof callback === 'function') process.nextTick(callback, null, count);
    return this;
  }

  // Stops taking new peers, closes every session with close_notify, then the UDP socket.
  close(callback) {
    if (typeof callback === 'function') this.once('close', callback);
    if (this._closing) return this;
    this._closing = true;
    const sockets = new Set([...this._byAddress.values(), ...this._replacing.values()]);
    for (const socket of sockets) socket.close();
    setImmediate(() => {
      if (this._udp) {
        this._udp.removeListener('message', this._onMessage);
        this._udp.removeListener('error', this._onError);
        if (this._ownSocket) {
          try { this._udp.close(); } catch { /* already closed */ }
        }
      }
      this._udp = null;
      this.emit('close');
    });
    return this;
  }

  // The native config of a context SNICallback chose, on this server's settings and cookie
  // secret (a session moves to it with the ClientHello its cookie was checked in).
  _configFor(secureContext) {
    const { alpn, debug, psk, dtls } = this._native;
    const { cookies, ...settings } = dtls;
    return secureContext.native(true, alpn, debug, this._context, psk,
      { ...settings, cookiesOf: this._config });
  }

  // ---- The demultiplexer ----

  _demultiplex(datagram, rinfo) {
    this.stats.datagrams++;
    const { dropped } = this.stats;
    if (this._closing) {
      dropped.closing++;
      return;
    }
    if (!records.looksLikeDtls(datagram)) {
      dropped.malformed++;
      return;
    }
    const key = peerKey(rinfo.address, rinfo.port);
    const cid = records.connectionIdOf(datagram, this._cidLength);
    if (cid !== null) {
      const owner = this._byCid.get(cid);
      if (!owner) {
        dropped.unknownConnectionId++;
        return;
      }
      if (owner.remoteAddress !== rinfo.address || owner.remotePort !== rinfo.port) {
        if (!owner._authenticates(datagram)) {
          dropped.unauthenticated++;
          return;
        }
        this._move(owner, rinfo, key);
      }
      owner._receive(datagram);
      return;
    }
    const current = this._byAddress.get(key);
    const replacement = this._replacing.get(key);
    if (replacement) {
      // A peer that started over: what still authenticates for the old session is its.
      if (current && current._authenticates(datagram)) current._receive(datagram);
      else replacement._receive(datagram);
      return;
    }
    // A retransmitted ClientHello goes to the handshake it began; a new one after the
    // handshake is done starts over.
    if (current && !(current._secureEstablished && records.isInitialClientHello(datagram))) {
      current._receive(datagram);
      return;
    }
    if (datagram[0] !== records.CONTENT_HANDSHAKE) {
      dropped.unknownPeer++;
      return;
    }
    this._hello(datagram, rinfo, key, current);
  }

  // A ClientHello from a peer without a session (or starting over): the stateless check.
  _hello(datagram, rinfo, key, current) {
    const clientId = Buffer.from(key);
    const { verdict, reply } = binding.dtls.checkHello(this._config, datagram, clientId);
    if (verdict === binding.dtls.HELLO_VERIFY) {
      this.stats.helloVerifyRequests++;
      this._udp.send(reply, rinfo.port, rinfo.address, () => {});
      return;
    }
    if (verdict !== binding.dtls.HELLO_ACCEPT) {
      this.stats.dropped.badClientHello++;
      return;
    }
    if (this._byAddress.size + this._replacing.size >= this._settings.maxConnections) {
      this.stats.dropped.maxConnections++;
      return;
    }
    let socket;
    try {
      socket = this._newSocket(rinfo, clientId);
    } catch (err) {
      this.emit('tlsClientError', err, null);
      return;
    }
    this.stats.handshakes++;
    if (current) this._replacing.set(key, socket);
    else this._byAddress.set(key, socket);
    socket._receive(datagram);
  }

  _newSocket(rinfo, clientId) {
    const udp = this._udp;
    let connectionId = null;
    if (this._cidLength > 0) {
      do connectionId = crypto.randomBytes(this._cidLength);
      while (this._byCid.has(connectionId.toString('hex')));
    }
    const socket = new DTLSSocket({
      isServer: true,
      options: this._options,
      context: this._context,
      config: this._config,
      send: (datagram, callback) => {
        udp.send(datagram, socket.remotePort, socket.remoteAddress, (err) => {
          if (callback) callback(err || null);
        });
      },
      address: rinfo.address,
      port: rinfo.port,
      local: () => udp.address(),
      server: this,
      clientId,
      mtu: this._settings.mtu,
      connectionId,
      handshakeTimeout: this._settings.handshakeTimeout,
      idleTimeout: this._settings.idleTimeout,
    });
    if (connectionId) this._byCid.set(connectionId.toString('hex'), socket);
    socket.on('secure', () => this._established(socket));
    socket._onRelease = () => this._forget(socket, connectionId);
    return socket;
  }

  _established(socket) {
    const key = peerKey(socket.remoteAddress, socket.remotePort);
    if (this._replacing.get(key) === socket) {
      // The peer started over and proved itself: the old session goes.
      const old = this._byAddress.get(key);
      this._replacing.delete(key);
      this._byAddress.set(key, socket);
      if (old && old !== socket) old.close();
    }
    this.emit('secureConnection', socket);
  }

  // A session's peer moved to rinfo's address (its CID record authenticated from there).
  _move(socket, rinfo, key) {
    const oldKey = peerKey(socket.remoteAddress, socket.remotePort);
    if (this._byAddress.get(oldKey) === socket) this._byAddress.delete(oldKey);
    const displaced = this._byAddress.get(key);
    if (displaced && displaced !== socket) displaced.close();
    this._byAddress.set(key, socket);
    socket.remoteAddress = rinfo.address;
    socket.remotePort = rinfo.port;
    socket.remoteFamily = rinfo.family;
    this.stats.peerAddressChanges++;
    socket.emit('peerAddressChange', { address: rinfo.address, port: rinfo.port });
  }

  _forget(socket, connectionId) {
    const key = peerKey(socket.remoteAddress, socket.remotePort);
    if (this._byAddress.get(key) === socket) this._byAddress.delete(key);
    if (this._replacing.get(key) === socket) this._replacing.delete(key);
    if (connectionId) this._byCid.delete(connectionId.toString('hex'));
  }

  // A session failed: before its handshake completed it is a 'tlsClientError', as node's;
  // afterwards the socket's own 'error', when it has a listener (a peer's bad input never
  // throws in the server's process).
  _socketError(socket, err) {
    if (!socket._secureEstablished) {
      process.nextTick(() => this.emit('tlsClientError', err, socket));
    } else {
      process.nextTick(() => {
        if (socket.listenerCount('error') > 0) socket.emit('error', err);
      });
    }
  }
}

function createServer(options, secureConnectionListener) {
  return new DTLSServer(options, secureConnectionListener);
}

module.exports = { DTLSServer, createServer };
