// connect.js: dtls.connect(options[, callback]), a DTLS 1.2 client on a UDP socket of its
// own (connected to the server, so the kernel drops datagrams from anyone else) or on the
// bound dgram.Socket the application gives (then datagrams from other addresses are ignored).
'use strict';

const dgram = require('dgram');
const dns = require('dns');
const net = require('net');
const context = require('../context');
const errors = require('../errors');
const { DTLSSocket } = require('./socket');
const options_ = require('./options');

const set = (value) => value !== undefined && value !== null;
const TRANSIENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH']);

// node's options for a client, checked before any I/O -> what the DTLSSocket needs.
function clientSettings(options) {
  if (!set(options) || typeof options !== 'object') throw errors.invalidArgType('options', 'of type object', options);
  const port = options.port;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw errors.coded(RangeError, 'ERR_SOCKET_BAD_PORT', `options.port should be >= 1 and < 65536. Received ${port}.`);
  }
  const host = set(options.host) ? options.host : 'localhost';
  if (typeof host !== 'string') throw errors.invalidArgType('options.host', 'of type string', host);
  options_.pskCallbackOption(options);
  if (set(options.socket) && !(options.socket instanceof dgram.Socket)) {
    throw errors.invalidArgType('options.socket', 'an instance of dgram.Socket', options.socket);
  }
  const retransmit = options_.retransmitOption(options.retransmitTimeout);
  const connectionId = options_.clientConnectionId(options.connectionId);
  const ctx = options_.makeContext(options);
  const alpn = context.alpnList(options.ALPNProtocols);
  const debug = context.debugLevel(options.debug);
  const dtls = { retransmitMin: retransmit.min, retransmitMax: retransmit.max };
  if (connectionId) dtls.cidLength = connectionId.length;
  // A client with a pskCallback asks for its key after the server's identity hint.
  const psk = typeof options.pskCallback === 'function' ? { key: null, identity: null } : null;
  return {
    host,
    port,
    context: ctx,
    config: ctx.native(false, alpn, debug, null, psk, dtls),
    connectionId,
    mtu: options_.mtuOption(options.mtu),
    handshakeTimeout: options_.integer(options, 'handshakeTimeout', 0, 0x7FFFFFFF, 0),
    type: options_.typeOption(options.type, net.isIPv6(host) ? 'udp6' : 'udp4'),
  };
}

function connect(options, callback) {
  if (callback !== undefined && typeof callback !== 'function') {
    throw errors.invalidArgType('callback', 'of type function', callback);
  }
  const settings = clientSettings(options);
  const own = !set(options.socket);
  const udp = own ? dgram.createSocket(settings.type) : options.socket;
  let peer = null; // { address, port } once resolved
  const send = (datagram, cb) => {
    if (udp._dtlsClosed) {
      if (cb) process.nextTick(cb, errors.coded(Error, 'ERR_DTLS_SOCKET_CLOSED', 'The DTLS socket is closed'));
      return;
    }
    const done = cb ? (err) => cb(err || null) : undefined;
    try {
      if (own) udp.send(datagram, done);
      else udp.send(datagram, peer.port, peer.address, done);
    } catch (err) {
      if (cb) process.nextTick(cb, err);
    }
  };
  const socket = new DTLSSocket({
    isServer: false,
    options: {
      ...options,
      host: settings.host,
      // SNI and the name checked: the host unless told otherwise, never an IP address.
      servername: set(options.servername) ? options.servername : (net.isIP(settings.host) ? '' : settings.host),
    },
    context: settings.context,
    config: settings.config,
    send,
    address: undefined,
    port: settings.port,
    local: () => udp.address(),
    mtu: settings.mtu,
    connectionId: settings.connectionId,
    handshakeTimeout: settings.handshakeTimeout,
  });
  if (callback) socket.once('secureConnect', callback);

  const onMessage = (msg, rinfo) => {
    if (!own && peer && (rinfo.address !== peer.address || rinfo.port !== peer.port)) return;
    socket._receive(msg);
  };
  // An ICMP unreachable reported on the connected socket says nothing the retransmission
  // timer cannot deal with (RFC 6347 4.1.1.1: a peer may not be listening yet).
  const onError = (err) => {
    if (!TRANSIENT.has(err.code)) socket.destroy(err);
  };
  udp.on('message', onMessage);
  udp.on('error', onError);
  socket._onRelease = () => {
    udp.removeListener('message', onMessage);
    udp.removeListener('error', onError);
    if (own) {
      // close_notify first, then the socket.
      setImmediate(() => {
        udp._dtlsClosed = true;
        try { udp.close(); } catch { /* already closed */ }
      });
    }
  };
  const begin = (address) => {
    if (socket.destroyed) return;
    peer = { address, port: settings.port };
    socket.remoteAddress = address;
    socket.remoteFamily = net.isIPv6(address) ? 'IPv6' : 'IPv4';
    socket._start();
  };
  if (own) {
    udp.connect(settings.port, settings.host, (err) => {
      if (err) {
        socket.destroy(err);
        return;
      }
      begin(udp.remoteAddress().address);
    });
  } else if (net.isIP(settings.host)) {
    process.nextTick(begin, settings.host);
  } else {
    dns.lookup(settings.host, { family: settings.type === 'udp6' ? 6 : 4 }, (err, address) => {
      if (err) socket.destroy(err);
      else begin(address);
    });
  }
  return socket;
}

module.exports = { connect };
