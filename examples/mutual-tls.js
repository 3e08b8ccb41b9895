// mutual-tls.js: mutual TLS with mbedtls-stream on both ends. The server requires a client
// certificate issued under certs/ca.pem; a client with one is authorized, a client without
// one is refused.
//
//   node examples/mutual-tls.js
'use strict';

const fs = require('fs');
const path = require('path');
const tls = require('..');

const pem = (name) => fs.readFileSync(path.join(__dirname, '..', 'certs', name));
const ca = pem('ca.pem');

const server = tls.createServer({
  key: pem('server-ecdsa.key'),
  cert: pem('server-ecdsa-chain.pem'),
  ca,
  requestCert: true,
  rejectUnauthorized: true,
}, (socket) => {
  const cn = socket.getPeerCertificate().subject.CN;
  console.log(`  server: authorized: ${socket.authorized}, client CN: ${cn}`);
  socket.end(`hello, ${cn}\n`);
});
server.on('tlsClientError', (err) => console.log(`  server: tlsClientError ${err.code}: ${err.message}`));

// Connects, prints what the client sees, and resolves once the connection is closed.
async function client(label, options) {
  console.log(label);
  const socket = tls.connect({ host: 'localhost', port: server.address().port, ca, ...options });
  socket.on('secureConnect', () => {
    console.log(`  client: authorized: ${socket.authorized}, ` +
      `server CN: ${socket.getPeerCertificate().subject.CN}, ${socket.getProtocol()}`);
  });
  socket.on('data', (data) => console.log(`  client: received ${JSON.stringify(String(data))}`));
  socket.on('error', (err) => console.log(`  client: error ${err.code}: ${err.message}`));
  await new Promise((resolve) => socket.on('close', resolve));
}

server.listen(0, 'localhost', async () => {
  await client('client with certs/client-chain.pem:', { cert: pem('client-chain.pem'), key: pem('client.key') });
  // In TLS 1.3 the client certificate comes last, so the client may finish its side of the
  // handshake ('secureConnect') before the server's refusal arrives as an 'error'
  // (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED, as from node's own server).
  await client('client without a certificate:', {});
  server.close(() => console.log('server closed'));
});
