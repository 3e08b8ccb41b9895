// dtls-echo.js: a DTLS 1.2 echo server for many peers on one UDP socket (Connection IDs on),
// and a client that sends a few messages, prints each echo, then closes with close_notify.
//
//   node examples/dtls-echo.js
'use strict';

const fs = require('fs');
const path = require('path');
const { dtls } = require('..');

const pem = (name) => fs.readFileSync(path.join(__dirname, '..', 'certs', name));

const server = dtls.createServer({
  key: pem('server-ecdsa.key'),
  cert: pem('server-ecdsa-chain.pem'),
  connectionId: 8, // peers that change address (NAT rebinding) stay served
  idleTimeout: 60000,
}, (socket) => {
  console.log(`server: ${socket.getProtocol()} from ${socket.remoteAddress}:${socket.remotePort}`);
  socket.on('message', (message) => socket.send(message));
  socket.on('peerAddressChange', ({ address, port }) => console.log(`server: peer moved to ${address}:${port}`));
  socket.on('close', () => console.log('server: peer closed'));
});

server.listen(0, '127.0.0.1', () => {
  const messages = ['hello', 'echo over DTLS', 'goodbye'];
  const client = dtls.connect({
    host: '127.0.0.1', port: server.address().port, servername: 'localhost', ca: pem('ca.pem'),
    connectionId: true,
  }, () => {
    console.log(`client: connected, ${client.getCipher().standardName}, authorized: ${client.authorized}`);
    send();
  });
  const send = () => {
    const message = messages.shift();
    if (message === undefined) {
      client.close(() => server.close(() => console.log('server: closed')));
      return;
    }
    client.send(message);
  };
  client.on('message', (message) => {
    console.log(`client: echo "${message}"`);
    send();
  });
});
