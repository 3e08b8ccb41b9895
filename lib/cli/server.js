// cli/server.js: `mbedtls-stream server`, a server in the manner of Mbed TLS's ssl_server2:
// serves connections with the public API (tls.createServer, or dtls.createServer with
// dtls=1), one after another until SIGINT or SIGTERM, reports each handshake, and answers
// each request with an HTTP page naming the protocol and the cipher suite. Without crt_file
// it serves the development certificate and writes its PEM to a file a client can trust.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const report = require('./report');
const { protocolOptions, pskKey, alpnList } = require('./options');
const { openingSteps } = require('./opening');

// ssl_server2's answer, naming the protocol as well.
function page(protocol, suite) {
  return 'HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n' +
    '<h2>mbedtls-stream Test Server</h2>\r\n' +
    `<p>Successful connection using: ${suite}</p>\r\n` +
    `<p>Protocol: ${protocol}</p>\r\n`;
}

// Resolves with the exit status once interrupted (0), or 1 when it cannot start.
async function runServer(options, r) {
  const dtls = options.dtls === '1';
  const authMode = options.auth_mode || 'none';
  r.report.command = 'server';

  const opened = openingSteps(options, r, {
    side: 'server',
    withoutCa: () => r.skip('no ca_file: client certificates are checked against node\'s roots'),
    withoutCertificate: () => {
      if (options.psk && dtls) r.skip('pre-shared key only');
      else if (dtls) throw Object.assign(new Error('dtls=1 has no development certificate: give crt_file and key_file, or psk'), { code: 'ERR_MISSING_OPTION' });
      else r.ok('development certificate');
    },
  });
  if (!opened) return 1;
  const { tls, ca, own } = opened;

  const psk = pskKey(options);
  const serverOptions = {
    ca, cert: own.cert, key: own.key, passphrase: own.passphrase,
    ...protocolOptions(options, tls.DEFAULT_CIPHERS),
    requestCert: authMode !== 'none',
    rejectUnauthorized: authMode === 'required',
    ALPNProtocols: alpnList(options),
    pskCallback: psk ? (socket, identity) => (identity === options.psk_identity ? psk : null) : undefined,
    debug: Number(options.debug_level) || undefined,
  };
  for (const key of Object.keys(serverOptions)) if (serverOptions[key] === undefined) delete serverOptions[key];

  let server;
  r.begin('Setting up the SSL/TLS structure');
  try {
    server = dtls ? tls.dtls.createServer(serverOptions) : tls.createServer(serverOptions);
    r.ok();
  } catch (err) {
    r.fail(err, 'mbedtls_ssl_setup');
    return 1;
  }
  if (server.developmentCertificate) {
    const file = path.join(os.tmpdir(), `mbedtls-stream-dev-cert-${process.pid}.pem`);
    fs.writeFileSync(file, server.developmentCertificate);
    r.report.developmentCertificate = file;
    r.line(`    [ Development certificate for CN=localhost written to ${file}: give clients ca_file=${file} ]`);
  }
  if (serverOptions.debug) server.on('debug', (line) => process.stderr.write(`${line}\n`));

  const host = options.server_addr;
  r.begin(`Bind on ${dtls ? 'udp' : 'tcp'}://${host || '*'}:${options.server_port}/ `);
  try {
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(Number(options.server_port), host, () => { server.removeListener('error', reject); resolve(); });
    });
    r.ok(`port ${server.address().port}`);
  } catch (err) {
    r.fail(err, 'mbedtls_net_bind');
    return 1;
  }
  server.on('error', (err) => r.line(`  ! server error: ${err.code}: ${err.message}`));

  r.line('  . Waiting for a remote connection ...');
  if (dtls) serveDatagrams(server, r, { authMode });
  else serveStreams(server, r, { authMode });

  await new Promise((resolve) => {
    const stop = (signal) => {
      r.line(`  . Waiting for a remote connection ... interrupted by ${signal}`);
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  r.print('  . Cleaning up...');
  if (r.report.developmentCertificate) fs.rmSync(r.report.developmentCertificate, { force: true });
  await new Promise((resolve) => {
    server.close(() => resolve());
    // Connections still open are cut: the user asked to stop.
    for (const socket of open) socket.destroy();
  });
  r.print(' done.\n');
  r.report.ok = true;
  return 0;
}

const open = new Set();

// One block per connection, printed as a whole so concurrent clients do not interleave lines.
function handshakeBlock(socket, { authMode }) {
  const facts = report.handshakeFacts(socket, {});
  const lines = ['  . Performing the SSL/TLS handshake... ok', ...report.handshakeLines(facts)];
  if (authMode !== 'none') {
    if (socket.authorized) lines.push('  . Verifying peer X.509 certificate... ok');
    else lines.push('  . Verifying peer X.509 certificate... failed', `  ! ${socket.authorizationError}`);
  }
  return { facts, lines };
}

function serveStreams(server, r, { authMode }) {
  server.on('connection', (socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    r.line(`  . Accepted a connection from ${socket.remoteAddress}:${socket.remotePort}`);
  });
  server.on('tlsClientError', (err) => {
    r.line('  . Performing the SSL/TLS handshake... failed');
    for (const line of report.errorLines(report.errorFacts(err), 'mbedtls_ssl_handshake')) r.line(line);
    r.line('  . Waiting for a remote connection ...');
  });
  server.on('secureConnection', (socket) => {
    const { facts, lines } = handshakeBlock(socket, { authMode });
    r.line(lines.join('\n'));
    socket.on('error', (err) => r.line(`  ! ${err.code}: ${err.message}`));
    const chunks = [];
    let answered = false;
    const answer = () => {
      if (answered || socket.destroyed) return;
      answered = true;
      const request = Buffer.concat(chunks);
      const response = page(facts.protocol, facts.ciphersuite);
      r.line(`  < Read from client: ${request.length} bytes read\n\n${request.toString('latin1')}`);
      socket.end(response, () => {
        r.line(`  > Write to client: ${Buffer.byteLength(response)} bytes written in 1 fragments\n\n${response}`);
      });
    };
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      // An HTTP request ends with an empty line; anything else is answered as it comes.
      const text = Buffer.concat(chunks).toString('latin1');
      if (text.includes('\r\n\r\n') || !/^[A-Z]+ /.test(text)) answer();
    });
    socket.on('end', answer);
    socket.once('close', () => {
      r.line('  . Closing the connection... done');
      r.line('  . Waiting for a remote connection ...');
    });
  });
}

function serveDatagrams(server, r, { authMode }) {
  server.on('tlsClientError', (err) => {
    r.line('  . Performing the SSL/TLS handshake... failed');
    for (const line of report.errorLines(report.errorFacts(err), 'mbedtls_ssl_handshake')) r.line(line);
  });
  server.on('secureConnection', (socket) => {
    open.add(socket);
    const { facts, lines } = handshakeBlock(socket, { authMode });
    r.line(`  . Accepted a connection from ${socket.remoteAddress}:${socket.remotePort}`);
    r.line(lines.join('\n'));
    socket.on('error', (err) => r.line(`  ! ${err.code}: ${err.message}`));
    socket.on('message', (message) => {
      const response = Buffer.from(page(facts.protocol, facts.ciphersuite));
      r.line(`  < Read from client: ${message.length} bytes read\n\n${message.toString('latin1')}`);
      socket.send(response, (err) => {
        if (err) r.line(`  ! ${err.code}: ${err.message}`);
        else r.line(`  > Write to client: ${response.length} bytes written\n\n${response}`);
      });
    });
    socket.once('close', () => {
      open.delete(socket);
      r.line('  . Closing the connection... done');
      r.line('  . Waiting for a remote connection ...');
    });
  });
}

module.exports = { runServer, page };
