// https-get.js: node's https.get() over mbedtls-stream. A node https server (OpenSSL) on a
// free port, and a GET to it through an https.Agent whose connections are mbedtls-stream's.
//
//   node examples/https-get.js
'use strict';

const fs = require('fs');
const https = require('https');
const path = require('path');
const tls = require('..');

const pem = (name) => fs.readFileSync(path.join(__dirname, '..', 'certs', name));
const ca = pem('ca.pem');

// The only change a client needs: an Agent whose createConnection is mbedtls-stream's.
class MbedtlsAgent extends https.Agent {
  createConnection(options) {
    return tls.connect({ ...options, ca });
  }
}

const server = https.createServer({ key: pem('server-ecdsa.key'), cert: pem('server-ecdsa-chain.pem') },
  (req, res) => res.end(`hello from node's https server, you asked for ${req.url}\n`));

server.listen(0, 'localhost', () => {
  const url = `https://localhost:${server.address().port}/greeting`;
  console.log(`GET ${url}`);
  https.get(url, { agent: new MbedtlsAgent() }, (res) => {
    const socket = res.socket;
    console.log(`status: ${res.statusCode} ${res.statusMessage}`);
    console.log(`socket: mbedtls-stream TLSSocket: ${socket instanceof tls.TLSSocket}, ` +
      `${socket.getProtocol()} ${socket.getCipher().standardName}, authorized: ${socket.authorized}`);
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => { body += chunk; });
    res.on('end', () => {
      process.stdout.write(`body: ${body}`);
      server.close(() => console.log('server closed'));
    });
  }).on('error', (err) => {
    console.error(`request failed: ${err.code} ${err.message}`);
    process.exitCode = 1;
    server.close();
  });
});
