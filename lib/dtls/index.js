// mbedtls-stream's DTLS 1.2: require('mbedtls-stream').dtls, require('mbedtls-stream/dtls').
// See README.md ("DTLS") for the API, which follows node:tls's where DTLS shares it.
'use strict';

const { connect } = require('./connect');
const { DTLSServer, createServer } = require('./server');
const { DTLSSocket } = require('./socket');

module.exports = { connect, createServer, DTLSServer, DTLSSocket };
