// cli/demo.js: `mbedtls-stream demo` (npm start): a node https server on a free port of
// 127.0.0.1, serving the test PKI's certificate (certs/ of a checkout), and our client
// (cli/client.js) against it, which prints its report. Resolves with the client's status.
'use strict';

const fs = require('node:fs');
const https = require('node:https');
const path = require('node:path');
const { runClient } = require('./client');
const args = require('./args');

const CERTS = path.join(__dirname, '..', '..', 'certs');

async function runDemo(r) {
  const file = (name) => path.join(CERTS, name);
  if (!fs.existsSync(file('ca.pem'))) {
    r.line(`  ! the demo needs the test certificates of a checkout (${CERTS}); run it from a clone`);
    return 1;
  }
  const server = https.createServer({
    key: fs.readFileSync(file('server-ecdsa.key')),
    cert: fs.readFileSync(file('server-ecdsa-chain.pem')),
  }, (req, res) => {
    res.end(`Hello from node ${process.version}'s https server (OpenSSL ${process.versions.openssl})\n`);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  r.line(`  . node https server listening on 127.0.0.1:${port}; running:`);
  r.line(`    mbedtls-stream client server_name=localhost server_addr=127.0.0.1 server_port=${port} ca_file=certs/ca.pem\n`);
  const { options } = args.parse('client', [
    'server_name=localhost', 'server_addr=127.0.0.1', `server_port=${port}`, `ca_file=${file('ca.pem')}`,
  ]);
  try {
    return await runClient(options, r);
  } finally {
    server.close();
    server.closeAllConnections?.();
  }
}

module.exports = { runDemo };
