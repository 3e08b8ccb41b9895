'use strict';
// The command line, bin/mbedtls-stream.js, run as a user runs it: the client against node's
// https server (versions, suites, verification, PSK, ALPN, max_frag_len, resumption, --json),
// the server against curl and Mbed TLS's ssl_client2, DTLS client against the DTLS server,
// argument errors and --help, and `npm start`. Every spawned process is tracked and killed.

const fs = require('node:fs');
const https = require('node:https');
const path = require('node:path');
const { execFile, spawn } = require('node:child_process');
const { assert, certs, listen, useCleanup, run } = require('./helpers');

const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'mbedtls-stream.js');
const CA = certs.path('ca.pem');

describe('CLI (mbedtls-stream client|server|demo)', function () {
  this.timeout(120000);
  const track = useCleanup();

  async function cli(args) {
    const { result } = run(process.execPath, [BIN, ...args], { track });
    const { code, stdout, stderr } = await result;
    return { code, stdout: stdout.toString(), stderr };
  }

  // node's https server on 127.0.0.1 answering "hello from node"; resolves with its port.
  async function nodeServer(options = {}) {
    const server = https.createServer({ ...certs.ecdsa, ...options }, (req, res) => res.end('hello from node\n'));
    track.server(server);
    return listen(server);
  }

  const client = (port, ...args) => cli(['client', 'server_name=localhost', 'server_addr=127.0.0.1',
    `server_port=${port}`, `ca_file=${CA}`, ...args]);

  for (const [force, protocol, suite] of [
    ['tls12', 'TLSv1.2', 'TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256'],
    ['tls13', 'TLSv1.3', 'TLS1-3-AES-256-GCM-SHA384'],
  ]) {
    it(`client: force_version=${force} against node's https server reports each step`, async () => {
      const port = await nodeServer();
      const { code, stdout } = await client(port, `force_version=${force}`);
      assert.equal(code, 0, stdout);
      for (const line of [
        '  . Seeding the random number generator... ok',
        '  . Loading the CA root certificate ... ok (1 certificate)',
        `  . Connecting to tcp/127.0.0.1/${port}... ok`,
        '  . Performing the SSL/TLS handshake... ok',
        `    [ Protocol is ${protocol} ]`,
        `    [ Ciphersuite is ${suite} ]`,
        `    [ Record expansion is ${protocol === 'TLSv1.3' ? 37 : 29} ]`,
        '    [ Maximum fragment length is 16384 ]',
        '  . Verifying peer X.509 certificate... ok',
        'subject name      : CN=localhost',
        'signed using      : ECDSA with SHA256',
        '  > Write to server: 51 bytes written in 1 fragments',
        '  . Closing the connection... done',
      ]) assert.ok(stdout.includes(`${line}\n`), `missing ${JSON.stringify(line)} in:\n${stdout}`);
      assert.match(stdout, /< Read from server: \d+ bytes read\n\nHTTP\/1\.1 200 OK[^]*hello from node/);
    });
  }

  it('client: force_ciphersuite by Mbed TLS name is the suite negotiated', async () => {
    const port = await nodeServer();
    const { code, stdout } = await client(port, 'force_ciphersuite=TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256');
    assert.equal(code, 0, stdout);
    assert.ok(stdout.includes('[ Protocol is TLSv1.2 ]'), stdout);
    assert.ok(stdout.includes('[ Ciphersuite is TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256 ]'), stdout);
    assert.ok(stdout.includes('[ Record expansion is 21 ]'), stdout);
  });

  it('client: auth_mode=required against an unknown CA fails with the verification line and exit 1', async () => {
    const port = await nodeServer();
    const { code, stdout } = await cli(['client', 'server_addr=127.0.0.1', `server_port=${port}`,
      `ca_file=${certs.path('other-ca.pem')}`, 'auth_mode=required']);
    assert.equal(code, 1, stdout);
    assert.ok(stdout.includes('  . Performing the SSL/TLS handshake... failed\n'), stdout);
    assert.ok(stdout.includes('  ! mbedtls_ssl_handshake returned -0x2700\n'), stdout);
    assert.ok(stdout.includes('  ! The certificate is not correctly signed by the trusted CA\n'), stdout);
    assert.ok(stdout.includes('Last error was: -0x2700 - X509 - Certificate verification failed'), stdout);
  });

  it('client: auth_mode=optional goes on and reports the failure', async () => {
    const port = await nodeServer();
    const { code, stdout } = await cli(['client', 'server_addr=127.0.0.1', `server_port=${port}`,
      `ca_file=${certs.path('other-ca.pem')}`, 'auth_mode=optional']);
    assert.equal(code, 0, stdout);
    // Mbed TLS's text for the flag, as ssl_client2 prints it.
    assert.ok(stdout.includes('  . Verifying peer X.509 certificate... failed\n  ! The certificate is not correctly signed by the trusted CA\n'), stdout);
    assert.match(stdout, /hello from node/);
  });

  it('client: --json prints the same report as one object', async () => {
    const port = await nodeServer();
    const { code, stdout } = await client(port, '--json', 'alpn=h2,http/1.1', 'reconnect=1');
    assert.equal(code, 0, stdout);
    const report = JSON.parse(stdout);
    assert.equal(report.ok, true);
    assert.equal(report.command, 'client');
    assert.ok(report.steps.every((step) => step.ok), stdout);
    assert.equal(report.connections.length, 2);
    const [first, second] = report.connections;
    assert.equal(first.protocol, 'TLSv1.3');
    assert.equal(first.standardName, 'TLS_AES_256_GCM_SHA384');
    assert.equal(first.alpn, 'http/1.1');
    assert.deepEqual(first.verification, { ok: true });
    assert.equal(first.peerCertificate.subject, 'CN=localhost');
    assert.match(first.response, /hello from node/);
    assert.equal(first.resumed, false);
    assert.equal(second.resumed, true);
  });

  for (const force of ['tls12', 'tls13']) {
    it(`client: reconnect=1 resumes the session (${force})`, async () => {
      const port = await nodeServer();
      const { code, stdout } = await client(port, `force_version=${force}`, 'reconnect=1');
      assert.equal(code, 0, stdout);
      assert.ok(stdout.includes('  . Reconnecting with saved session... ok\n'), stdout);
      assert.match(stdout, /\[ Saved \d+ bytes of session data\]/);
      assert.equal(stdout.split('[ Session was resumed ]').length, 2, stdout);
    });
  }

  it('client: max_frag_len=1024 with TLS 1.2 is reported and data still flows', async () => {
    const port = await nodeServer();
    const { code, stdout } = await client(port, 'max_frag_len=1024');
    assert.equal(code, 0, stdout);
    assert.ok(stdout.includes('[ Protocol is TLSv1.2 ]'), stdout);
    assert.ok(stdout.includes('[ Maximum fragment length is 1024 ]'), stdout);
    assert.match(stdout, /hello from node/);
  });

  it('client: alpn reports the protocol the server chose', async () => {
    const port = await nodeServer({ ALPNProtocols: ['http/1.1'] });
    const { code, stdout } = await client(port, 'alpn=h2,http/1.1');
    assert.equal(code, 0, stdout);
    assert.ok(stdout.includes('[ Application Layer Protocol is http/1.1 ]'), stdout);
  });

  it('client: a connection refused fails at the connecting step', async () => {
    const server = https.createServer();
    const port = await listen(server);
    await new Promise((resolve) => server.close(resolve));
    const { code, stdout } = await client(port);
    assert.equal(code, 1);
    assert.ok(stdout.includes(`  . Connecting to tcp/127.0.0.1/${port}... failed\n  ! ECONNREFUSED`), stdout);
  });

  it('client and server: a failing opening step names what failed and exits 1', async () => {
    const missing = path.join(ROOT, 'no-such-file.pem');
    const noCa = await cli(['client', 'server_name=localhost', 'server_port=1', `ca_file=${missing}`]);
    assert.equal(noCa.code, 1, noCa.stdout);
    assert.ok(noCa.stdout.startsWith('  . Seeding the random number generator... ok\n' +
      '  . Loading the CA root certificate ... failed\n  ! ENOENT: '), noCa.stdout);

    const noKey = await cli(['client', 'server_name=localhost', 'server_port=1', `ca_file=${CA}`,
      `crt_file=${certs.path('client.pem')}`, `key_file=${missing}`]);
    assert.equal(noKey.code, 1, noKey.stdout);
    assert.match(noKey.stdout, /\. Loading the client cert\. and key\.\.\. failed\n {2}! ENOENT: /);

    // ca_path reads every file of the folder holding a certificate and counts the others.
    const dtlsWithoutCertificate = await cli(['server', 'dtls=1', 'server_port=0', `ca_path=${path.dirname(CA)}`]);
    assert.equal(dtlsWithoutCertificate.code, 1, dtlsWithoutCertificate.stdout);
    assert.match(dtlsWithoutCertificate.stdout, /\. Loading the CA root certificate \.\.\. ok \(\d+ certificates, [1-9]\d* skipped\)\n/);
    assert.match(dtlsWithoutCertificate.stdout,
      /\. Loading the server cert\. and key\.\.\. failed\n {2}! ERR_MISSING_OPTION: dtls=1 has no development certificate/);
    assert.doesNotMatch(dtlsWithoutCertificate.stdout, /Setting up/);
  });

  it('an unknown key is an error listing the accepted ones; --help lists them', async () => {
    const bad = await cli(['client', 'server_prot=4433']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown argument 'server_prot'; client accepts server_name, server_addr, server_port, ca_file/);
    assert.match(bad.stderr, /force_ciphersuite, psk, psk_identity, alpn/);
    const help = await cli(['client', '--help']);
    assert.equal(help.code, 0);
    for (const key of ['server_name', 'ca_path', 'key_pwd', 'auth_mode', 'debug_level', 'max_frag_len', 'reconnect', 'tickets', 'request', 'dtls']) {
      assert.match(help.stdout, new RegExp(`^    ${key}=%s`, 'm'), key);
    }
    const server = await cli(['server', '--help']);
    assert.equal(server.code, 0);
    assert.match(server.stdout, /development certificate/);
    const unknown = await cli(['serve']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'serve'; accepted: client, server, demo/);
  });

  // The CLI server on a port of its own choosing (it prints the port it bound); resolves
  // when it waits for connections. stop() sends SIGTERM and gives what it printed.
  function cliServer(args) {
    const child = track.child(spawn(process.execPath, [BIN, 'server', 'server_addr=127.0.0.1', 'server_port=0', ...args]));
    let stdout = '';
    const closed = new Promise((resolve) => child.once('close', resolve));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await closed;
      return { stdout };
    };
    return new Promise((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        const port = /Bind on \S+ \.\.\. ok \(port (\d+)\)\n {2}\. Waiting for a remote connection/.exec(stdout)?.[1];
        if (port) resolve({ port: Number(port), devCert: /ca_file=(\S+) \]/.exec(stdout)?.[1], stop, output: () => ({ stdout }) });
      });
      child.once('exit', (code) => reject(new Error(`the CLI server exited (${code}):\n${stdout}`)));
    });
  }

  it('server: serves its development certificate to curl, then the next connection, until SIGTERM', async function () {
    const server = await cliServer([]);
    assert.ok(server.devCert && fs.existsSync(server.devCert), server.output().stdout);
    for (const version of ['--tlsv1.3', '--tls-max']) {
      const args = version === '--tls-max' ? ['--tls-max', '1.2'] : [version];
      const { result } = run('curl', ['-sS', ...args, '--cacert', server.devCert, '--resolve', `localhost:${server.port}:127.0.0.1`,
        `https://localhost:${server.port}/`], { track });
      const { code, stdout, stderr } = await result;
      assert.equal(code, 0, stderr);
      const protocol = version === '--tls-max' ? 'TLSv1.2' : 'TLSv1.3';
      assert.match(stdout.toString(), new RegExp(`<p>Successful connection using: TLS[^<]*</p>\\r\\n<p>Protocol: ${protocol}</p>`));
    }
    const { stdout } = await server.stop();
    assert.equal(stdout.split('  . Performing the SSL/TLS handshake... ok').length, 3, stdout);
    assert.match(stdout, /interrupted by SIGTERM\n {2}\. Cleaning up\.\.\. done\.\n$/);
    assert.ok(!fs.existsSync(server.devCert));
  });

  describe('with Mbed TLS\'s ssl_client2', function () {
    let programs;
    before(function (done) {
      this.timeout(20 * 60 * 1000);
      execFile('bash', [path.join(ROOT, 'scripts', 'build-mbedtls-programs.sh')], { maxBuffer: 1 << 20 },
        (err, stdout, stderr) => (err ? done(new Error(stderr)) : (programs = stdout.trim(), done())));
    });

    // The command lines of Mbed TLS's documentation, with the program's name changed.
    for (const force of ['tls12', 'tls13']) {
      it(`server: ssl_client2 force_version=${force} gets the page naming protocol and suite`, async () => {
        const server = await cliServer([`crt_file=${certs.path('server-ecdsa-chain.pem')}`, `key_file=${certs.path('server-ecdsa.key')}`]);
        const { result } = run(path.join(programs, 'ssl_client2'), ['server_name=localhost', 'server_addr=127.0.0.1',
          `server_port=${server.port}`, `ca_file=${CA}`, `force_version=${force}`, 'auth_mode=required'], { track });
        const { code, stdout } = await result;
        assert.equal(code, 0, stdout.toString());
        const text = stdout.toString();
        const suite = /\[ Ciphersuite is (\S+) \]/.exec(text)[1];
        assert.ok(text.includes(`<p>Successful connection using: ${suite}</p>`), text);
        assert.ok(text.includes(`<p>Protocol: ${force === 'tls12' ? 'TLSv1.2' : 'TLSv1.3'}</p>`), text);
        const served = (await server.stop()).stdout;
        assert.ok(served.includes(`[ Ciphersuite is ${suite} ]`), served);
      });
    }

    it('server: psk and psk_identity as ssl_client2 gives them', async () => {
      const server = await cliServer(['psk=00112233445566778899aabbccddeeff', 'psk_identity=sensor-17',
        'force_ciphersuite=TLS-PSK-WITH-AES-128-GCM-SHA256']);
      const { result } = run(path.join(programs, 'ssl_client2'), ['server_addr=127.0.0.1', `server_port=${server.port}`,
        'psk=00112233445566778899aabbccddeeff', 'psk_identity=sensor-17',
        'force_ciphersuite=TLS-PSK-WITH-AES-128-GCM-SHA256'], { track });
      const { code, stdout } = await result;
      assert.equal(code, 0, stdout.toString());
      assert.ok(stdout.toString().includes('Successful connection using: TLS-PSK-WITH-AES-128-GCM-SHA256'));
    });
  });

  it('client psk against the CLI server\'s psk (TLS 1.2 suite and TLS 1.3)', async () => {
    const server = await cliServer(['psk=00112233445566778899aabbccddeeff']);
    for (const force of ['tls12', 'tls13']) {
      const { code, stdout } = await cli(['client', 'server_addr=127.0.0.1', `server_port=${server.port}`,
        'psk=00112233445566778899aabbccddeeff', `force_version=${force}`,
        ...(force === 'tls12' ? ['force_ciphersuite=TLS-PSK-WITH-AES-128-GCM-SHA256'] : [])]);
      assert.equal(code, 0, stdout);
      assert.ok(stdout.includes('. Verifying peer X.509 certificate... ok (the server proved the pre-shared key; no certificate)'), stdout);
      assert.match(stdout, /Successful connection using: TLS/);
    }
    const wrong = await cli(['client', 'server_addr=127.0.0.1', `server_port=${server.port}`,
      'psk=ffeeddccbbaa99887766554433221100', 'force_version=tls12', 'force_ciphersuite=TLS-PSK-WITH-AES-128-GCM-SHA256']);
    assert.equal(wrong.code, 1, wrong.stdout);
    assert.ok(wrong.stdout.includes('  . Performing the SSL/TLS handshake... failed'), wrong.stdout);
  });

  it('dtls=1: the client against the CLI\'s DTLS server', async () => {
    const server = await cliServer(['dtls=1', `crt_file=${certs.path('server-ecdsa-chain.pem')}`, `key_file=${certs.path('server-ecdsa.key')}`]);
    const { code, stdout } = await cli(['client', 'dtls=1', 'server_addr=127.0.0.1', `server_port=${server.port}`, `ca_file=${CA}`]);
    assert.equal(code, 0, stdout);
    assert.ok(stdout.includes(`  . Connecting to udp/127.0.0.1/${server.port}... ok`), stdout);
    assert.ok(stdout.includes('[ Protocol is DTLSv1.2 ]'), stdout);
    assert.ok(stdout.includes('[ Record expansion is 37 ]'), stdout);
    assert.ok(stdout.includes('<p>Protocol: DTLSv1.2</p>'), stdout);
  });

  it('npm start (the demo) exits 0 and prints the report', async () => {
    const { result } = run('npm', ['start', '--silent', '--prefix', ROOT], { track });
    const { code, stdout, stderr } = await result;
    const text = stdout.toString();
    assert.equal(code, 0, text + stderr);
    assert.ok(text.includes('  . Performing the SSL/TLS handshake... ok'), text);
    assert.ok(text.includes('  . Verifying peer X.509 certificate... ok'), text);
    assert.match(text, /Hello from node v\d+.*https server/);
    // A certificate made for the run, not certs/ of a checkout (the demo works from a package),
    // and the demo says so itself: no process warning about it.
    assert.match(text, /subject name\s+: CN=localhost, O=mbedtls-stream development certificate/);
    assert.doesNotMatch(stderr.toString(), /MBEDTLS_STREAM_DEV_CERT/);
  });
});
