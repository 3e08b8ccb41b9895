// require('mbedtls-stream/dtls'): the DTLS 1.2 client and server (lib/dtls).
'use strict';

module.exports = require('./lib/dtls');
