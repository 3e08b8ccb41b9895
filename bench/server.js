// server.js: the server side of every measurement, one child process per measurement, forked
// by run.js with --expose-gc. It opens nothing itself and reports its port over IPC.
//
//   node --expose-gc bench/server.js <node|mbedtls> <bulk|handshake|idle>
//
// bulk:      counts the bytes of each connection; on 'end' sends { type: 'bulk', bytes }.
// handshake: accepts and discards connections.
// idle:      keeps connections open; answers { type: 'memory', waitFor } once exactly
//            `waitFor` connections are open and IDLE_SETTLE_MS passed, with
//            { rss, heap, connections } after gc().
// dtls-handshake, dtls-echo (mbedtls only: node has no DTLS): a DTLS server on one UDP
//            socket that accepts peers, and that also echoes each message back.
'use strict';

const { impl, certs, HOST, memorySample, exitWithParent, IDLE_SETTLE_MS } = require('./common');

const [name, scenario] = process.argv.slice(2);
if (!['bulk', 'handshake', 'idle', 'dtls-handshake', 'dtls-echo'].includes(scenario)) {
  throw new Error(`unknown scenario '${scenario}'`);
}
const open = new Set();

if (scenario.startsWith('dtls-')) {
  if (name !== 'mbedtls') throw new Error(`${name} has no DTLS`);
  const server = require('../dtls').createServer({ key: certs.key, cert: certs.cert }, (socket) => {
    socket.on('error', () => {});
    if (scenario === 'dtls-echo') socket.on('message', (message) => socket.send(message));
  });
  server.on('tlsClientError', () => {});
  server.listen(0, HOST, () => process.send({ type: 'listening', port: server.address().port }));
  exitWithParent();
  return;
}

const tls = impl(name);
const server = tls.createServer({ key: certs.key, cert: certs.cert }, (socket) => {
  socket.on('error', () => {}); // clients of the handshake scenario destroy at once
  open.add(socket);
  socket.on('close', () => open.delete(socket));
  if (scenario === 'bulk') {
    let bytes = 0;
    socket.on('data', (data) => { bytes += data.length; });
    socket.on('end', () => {
      process.send({ type: 'bulk', bytes });
      socket.end();
    });
  } else {
    socket.resume();
  }
});
server.on('tlsClientError', () => {});

process.on('message', (msg) => {
  if (msg.type !== 'memory') return;
  const poll = () => {
    if (open.size !== msg.waitFor) return setTimeout(poll, 10);
    const settle = msg.waitFor > 0 ? IDLE_SETTLE_MS : 0;
    setTimeout(() => {
      process.send({ type: 'memory', connections: open.size, ...memorySample(open) });
    }, settle);
  };
  poll();
});

server.listen(0, HOST, () => process.send({ type: 'listening', port: server.address().port }));
exitWithParent();
