// agent.js: an https.Agent whose connections are mbedtls-stream client sockets, resuming
// TLS sessions across connections as node's own https.Agent does (its session cache, keyed
// by host, port and TLS options, and evicted when a connection fails).
'use strict';

const https = require('https');
const { connect } = require('./connect');

class Agent extends https.Agent {
  createConnection(port, host, options) {
    if (port !== null && typeof port === 'object') {
      options = { ...port };
    } else if (host !== null && typeof host === 'object') {
      options = { ...host };
    } else {
      options = { ...(options || {}) };
    }
    if (typeof port === 'number') options.port = port;
    if (typeof host === 'string') options.host = host;

    const key = options._agentKey;
    if (key) {
      const session = this._getSession(key);
      if (session) options = { session, ...options };
    }
    const socket = connect(options);
    if (key) {
      socket.on('session', (session) => this._cacheSession(key, session));
      socket.once('close', (hadError) => {
        if (hadError) this._evictSession(key);
      });
    }
    return socket;
  }
}

module.exports = { Agent };
