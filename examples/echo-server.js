// echo-server.js: an mbedtls-stream echo server and an mbedtls-stream client that sends a
// few lines one at a time, prints each echo, then ends with close_notify; the server closes.
//
//   node examples/echo-server.js
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');
const tls = require('..');

const pem = (name) => fs.readFileSync(path.join(__dirname, '..', 'certs', name));

const server = tls.createServer({ key: pem('server-ecdsa.key'), cert: pem('server-ecdsa-chain.pem') }, (socket) => {
  console.log(`server: ${socket.getProtocol()} connection from ${socket.remoteAddress}:${socket.remotePort}`);
  socket.on('end', () => console.log(`server: client ended, close_notify: ${socket.closeNotifyReceived}`));
  socket.pipe(socket); // echo; ending our side (close_notify) when the client ends its
});

server.listen(0, 'localhost', () => {
  const lines = ['hello', 'echo over Mbed TLS', 'goodbye'];
  const client = tls.connect({ host: 'localhost', port: server.address().port, ca: pem('ca.pem') }, () => {
    console.log(`client: connected, ${client.getProtocol()} ${client.getCipher().standardName}, ` +
      `authorized: ${client.authorized}`);
    send();
  });
  const send = () => {
    const line = lines.shift();
    if (line === undefined) {
      console.log('client: end() (sends close_notify)');
      client.end();
      return;
    }
    console.log(`client: sent  ${JSON.stringify(line)}`);
    client.write(`${line}\n`);
  };
  readline.createInterface({ input: client }).on('line', (line) => {
    console.log(`client: echo  ${JSON.stringify(line)}`);
    send();
  });
  client.on('end', () => console.log(`client: server ended, close_notify: ${client.closeNotifyReceived}`));
  client.on('error', (err) => console.error(`client: error ${err.code}: ${err.message}`));
  client.on('close', () => server.close(() => console.log('server closed')));
});
