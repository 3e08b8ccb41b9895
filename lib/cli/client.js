// cli/client.js: `mbedtls-stream client`, a client in the manner of Mbed TLS's ssl_client2:
// connects with the public API (tls.connect, or dtls.connect with dtls=1), reports each step,
// the handshake, the verification of the server and its certificate, sends the request and
// prints the answer; reconnect=N resumes the saved session N times.
// Resolves with the exit status: 0 on success, 1 on failure.
'use strict';

const net = require('node:net');
const report = require('./report');
const { protocolOptions, pskKey, alpnList } = require('./options');
const { openingSteps } = require('./opening');
const { unescape } = require('./args');

// ssl_client2's request: GET request_page HTTP/1.0, Host, an empty extra header.
function defaultRequest(serverName) {
  return `GET / HTTP/1.0\r\nHost: ${serverName}\r\nExtra-header: \r\n\r\n`;
}

// Runs the client. `options` are parse()'s, `reporter` a report.Reporter.
async function runClient(options, reporter) {
  const r = reporter;
  const dtls = options.dtls === '1';
  const host = options.server_addr || options.server_name;
  const port = Number(options.server_port);
  const request = Buffer.from(options.request !== undefined ? unescape(options.request) : defaultRequest(options.server_name));
  const authMode = options.auth_mode || 'required';
  r.report.command = 'client';
  r.report.connections = [];

  const opened = openingSteps(options, r, {
    side: 'client',
    withoutCa: (tls) => r.ok(`node's ${tls.rootCertificates.length} bundled roots`),
    withoutCertificate: () => r.skip('no crt_file'),
  });
  if (!opened) return 1;
  const { tls, ca, own } = opened;

  const psk = pskKey(options);
  const alpn = alpnList(options);
  const maxFragmentLength = options.max_frag_len ? Number(options.max_frag_len) : undefined;
  const debug = Number(options.debug_level);
  const contextOptions = {
    ca, cert: own.cert, key: own.key, passphrase: own.passphrase,
    ...protocolOptions(options, tls.DEFAULT_CIPHERS),
  };
  const connectOptions = {
    servername: options.server_name,
    rejectUnauthorized: authMode === 'required',
    ALPNProtocols: alpn,
    pskCallback: psk ? () => ({ psk, identity: options.psk_identity }) : undefined,
    debug: debug || undefined,
  };

  r.begin('Setting up the SSL/TLS structure');
  try {
    if (!dtls) {
      connectOptions.secureContext = tls.createSecureContext({ ...contextOptions, maxFragmentLength });
    } else {
      if (maxFragmentLength) throw Object.assign(new Error('max_frag_len is not supported with dtls=1'), { code: 'ERR_INVALID_ARG_VALUE' });
      Object.assign(connectOptions, contextOptions);
    }
    r.ok();
  } catch (err) {
    r.fail(err, 'mbedtls_ssl_setup');
    return 1;
  }

  let session;
  const rounds = 1 + Number(options.reconnect || 0);
  for (let round = 0; round < rounds; round++) {
    if (round > 0) {
      r.begin('Saving session for reuse');
      if (!session) {
        r.fail(Object.assign(new Error('the server gave no session to resume'), { code: 'ERR_NO_SESSION' }), 'getSession');
        return 1;
      }
      r.ok();
      r.line(`    [ Saved ${session.length} bytes of session data]`);
      r.line('  . Reconnecting with saved session... ok');
    }
    const result = await oneConnection(tls, r, {
      dtls, host, port, request, authMode, psk, alpn, maxFragmentLength,
      connectOptions: { ...connectOptions, session },
    });
    if (!result.ok) {
      lastError(r);
      return 1;
    }
    session = result.session || session;
  }
  r.report.ok = true;
  return 0;
}

// One connection: connect, handshake, report, write, read, close. Resolves with { ok, session }.
async function oneConnection(tls, r, { dtls, host, port, request, authMode, psk, alpn, maxFragmentLength, connectOptions }) {
  const facts = {};
  r.report.connections.push(facts);
  let transport;
  r.begin(`Connecting to ${dtls ? 'udp' : 'tcp'}/${host}/${port}`);
  if (dtls) {
    r.ok();
  } else {
    try {
      transport = await new Promise((resolve, reject) => {
        const socket = net.connect({ host, port });
        socket.once('connect', () => { socket.removeListener('error', reject); resolve(socket); });
        socket.once('error', reject);
      });
      r.ok();
    } catch (err) {
      r.fail(err, 'mbedtls_net_connect');
      return { ok: false };
    }
  }

  let session;
  r.begin('Performing the SSL/TLS handshake');
  let socket;
  try {
    socket = await new Promise((resolve, reject) => {
      const options = dtls ? { ...connectOptions, host, port } : { ...connectOptions, socket: transport };
      const s = dtls ? tls.dtls.connect(options) : tls.connect(options);
      if (connectOptions.debug) s.on('debug', (line) => process.stderr.write(`${line}\n`));
      s.on('session', (saved) => { session = saved; });
      s.once('secureConnect', () => { s.removeListener('error', reject); resolve(s); });
      s.once('error', reject);
    });
  } catch (err) {
    if (transport) transport.destroy();
    r.fail(err, 'mbedtls_ssl_handshake');
    return { ok: false };
  }
  // Errors after the handshake are reported where they happen (reading, writing).
  const failures = [];
  socket.on('error', (err) => failures.push(err));
  r.ok();
  Object.assign(facts, report.handshakeFacts(socket, { maxFragmentLength, alpn }));
  for (const line of report.handshakeLines(facts)) r.line(line);

  verifyStep(r, socket, facts, { authMode, psk });

  const peer = peerCertificate(socket);
  if (peer) {
    facts.peerCertificate = report.certificateInfo(peer);
    r.line('  . Peer certificate information    ...');
    r.line(`${report.certificateText(facts.peerCertificate)}\n`);
  }

  const written = await write(socket, request, dtls);
  if (written instanceof Error) {
    r.begin('Writing to the server');
    r.fail(written, 'mbedtls_ssl_write');
    return { ok: false };
  }
  facts.written = request.length;
  facts.request = request.toString('latin1');
  r.line(`  > Write to server: ${request.length} bytes written${dtls ? '' : ' in 1 fragments'}\n`);
  r.line(`${facts.request}\n`);

  const read = await readAll(socket, dtls);
  facts.read = read.data.length;
  facts.response = read.data.toString('latin1');
  facts.closeNotifyReceived = dtls ? undefined : socket.closeNotifyReceived;
  r.line(`  < Read from server: ${read.data.length} bytes read\n`);
  if (read.data.length) r.line(facts.response);
  const readError = read.error || failures[0];
  if (readError) {
    r.begin('Reading from the server');
    r.fail(readError, 'mbedtls_ssl_read');
    socket.destroy();
    return { ok: false };
  }

  r.begin('Closing the connection');
  await close(socket, dtls);
  r.current.ok = true;
  r.print(' done\n');
  return { ok: true, session: session || (dtls ? undefined : socket.getSession()) };
}

function verifyStep(r, socket, facts, { authMode, psk }) {
  r.begin('Verifying peer X.509 certificate');
  const hasCertificate = Boolean(peerCertificate(socket));
  if (authMode === 'none') {
    facts.verification = { ok: false, skipped: true, failures: ['Certificate verification was skipped'] };
    r.current.ok = true;
    r.print(' failed\n  ! Certificate verification was skipped\n');
    return;
  }
  if (psk && !hasCertificate) {
    facts.verification = { ok: socket.authorized, psk: true };
    r.ok('the server proved the pre-shared key; no certificate');
    return;
  }
  if (socket.authorized) {
    facts.verification = { ok: true };
    r.ok();
    return;
  }
  // auth_mode=optional: the handshake went on. As ssl_client2, each of Mbed TLS's verification
  // failures on its own line (the socket's verdict carries Mbed TLS's flags); node's code when
  // none is named.
  const code = socket.authorizationError;
  const verdict = socket._verifyError();
  const texts = verdict && verdict.verifyFlags !== undefined ? report.verifyTexts(verdict.verifyFlags) : [];
  const failures = texts.length > 0 ? texts : [typeof code === 'string' ? code : (code && code.message)];
  facts.verification = { ok: false, code: typeof code === 'string' ? code : undefined, failures };
  r.current.ok = false;
  r.print(` failed\n${failures.map((text) => `  ! ${text}\n`).join('')}`);
}

function peerCertificate(socket) {
  if (typeof socket.getPeerX509Certificate === 'function') return socket.getPeerX509Certificate();
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.raw) return undefined;
  return new (require('node:crypto').X509Certificate)(cert.raw);
}

function write(socket, data, dtls) {
  return new Promise((resolve) => {
    if (dtls) socket.send(data, (err) => resolve(err || null));
    else socket.write(data, (err) => resolve(err || null));
  });
}

// Everything the server sends until it closes (TLS), or its first datagram (DTLS).
function readAll(socket, dtls) {
  return new Promise((resolve) => {
    const chunks = [];
    const done = (error) => resolve({ data: Buffer.concat(chunks), error });
    if (dtls) {
      socket.once('message', (message) => { chunks.push(message); done(); });
      socket.once('close', () => done());
      socket.once('error', done);
      return;
    }
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.once('end', () => done());
    socket.once('close', () => done());
    socket.once('error', done);
  });
}

function close(socket, dtls) {
  return new Promise((resolve) => {
    if (dtls) {
      socket.close(() => resolve());
      return;
    }
    if (socket.destroyed) {
      resolve();
      return;
    }
    socket.once('close', () => resolve());
    socket.end();
  });
}

// ssl_client2's last line after a failure: "Last error was: -0x2700 - X509 - ...".
function lastError(r) {
  const err = r.report.error;
  if (!err) return;
  r.line('');
  if (err.mbedtlsHex) r.line(`Last error was: ${err.mbedtlsHex} - ${err.mbedtlsText || err.message}`);
  else r.line(`Last error was: ${err.code} - ${err.message}`);
}

module.exports = { runClient, defaultRequest };
