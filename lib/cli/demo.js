// cli/demo.js: `mbedtls-stream demo` (npm start): a node https server on a free port of
// 127.0.0.1, serving a development certificate for localhost made for this run (so the demo
// works from an installed package as from a clone), and our client (cli/client.js) against
// it, trusting that certificate, which prints its report. Resolves with the client's status.
'use strict';

const fs = require('node:fs');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const { runClient } = require('./client');
const { developmentCertificate } = require('../server');
const args = require('./args');

async function runDemo(r) {
  const { cert, key } = developmentCertificate(true);
  const caFile = path.join(os.tmpdir(), `mbedtls-stream-demo-${process.pid}.pem`);
  fs.writeFileSync(caFile, cert);
  const server = https.createServer({ key, cert }, (req, res) => {
    res.end(`Hello from node ${process.version}'s https server (OpenSSL ${process.versions.openssl})\n`);
  });
  try {
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address();
    r.line(`  . node https server listening on 127.0.0.1:${port} with a development certificate for localhost`);
    r.line(`    (its PEM in ${caFile}); running:`);
    r.line(`    mbedtls-stream client server_name=localhost server_addr=127.0.0.1 server_port=${port} ca_file=${caFile}\n`);
    const { options } = args.parse('client', [
      'server_name=localhost', 'server_addr=127.0.0.1', `server_port=${port}`, `ca_file=${caFile}`,
    ]);
    return await runClient(options, r);
  } finally {
    server.close();
    server.closeAllConnections?.();
    fs.rmSync(caFile, { force: true });
  }
}

module.exports = { runDemo };
