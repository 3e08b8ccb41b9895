'use strict';
// Shared test helpers: the test PKI, promise wrappers, payload helpers, a per-test
// resource tracker that closes everything a test opened, OpenSSL CLI peers, peer server
// programs that bind port 0 (gnutls-serv, ssl_server2), and a relay that logs TLS records.

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const events = require('node:events');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { execFile, spawn } = require('node:child_process');
const { Duplex } = require('node:stream');

const CERTS_DIR = path.join(__dirname, '..', 'certs');
const certPath = (name) => path.join(CERTS_DIR, name);
const read = (name) => fs.readFileSync(certPath(name));

const certs = {
  dir: CERTS_DIR,
  path: certPath,
  ca: read('ca.pem'),
  otherCa: read('other-ca.pem'),
  intermediate: read('intermediate.pem'),
  ecdsa: { key: read('server-ecdsa.key'), cert: read('server-ecdsa-chain.pem') },
  ecdsaEncrypted: { key: read('server-ecdsa-encrypted.key'), passphrase: 'mbedtls-stream', cert: read('server-ecdsa-chain.pem') },
  rsa: { key: read('server-rsa.key'), cert: read('server-rsa-chain.pem') },
  client: { key: read('client.key'), cert: read('client-chain.pem') },
  otherServer: { key: read('other-server.key'), cert: read('other-server-chain.pem') },
  otherClient: { key: read('other-client.key'), cert: read('other-client.pem') },
};

// Common names of the test PKI, as certs/README.md documents them.
const names = {
  root: 'mbedtls-stream Test Root CA',
  intermediate: 'mbedtls-stream Test Intermediate CA',
  client: 'mbedtls-stream test client',
  server: 'localhost',
};

// Listens on 127.0.0.1 with an ephemeral port; resolves with the port.
function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve(server.address().port);
    });
  });
}

// Resolves with the event's first argument. Rejects on 'error' unless waiting for 'error'.
async function once(emitter, event) {
  const [first] = await events.once(emitter, event);
  return first;
}

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
const randomBytes = (n) => crypto.randomBytes(n);

// Resolves with all data the stream emitted, once it ends.
function collect(stream) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    stream.on('data', (chunk) => chunks.push(Buffer.from(chunk)));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

// Resolves with the first `n` bytes the stream emits (without waiting for 'end').
function readBytes(stream, n) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let length = 0;
    const cleanup = () => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', reject);
    };
    const onData = (chunk) => {
      chunks.push(Buffer.from(chunk));
      length += chunk.length;
      if (length >= n) {
        cleanup();
        resolve(Buffer.concat(chunks));
      }
    };
    const onEnd = () => {
      cleanup();
      reject(new Error(`stream ended after ${length} of ${n} bytes`));
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', reject);
  });
}

// Resolves once the stream has emitted data containing `text`; with everything read so far.
function readUntil(stream, text) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const cleanup = () => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', reject);
    };
    const onData = (chunk) => {
      seen += chunk.toString();
      if (seen.includes(text)) {
        cleanup();
        resolve(seen);
      }
    };
    const onEnd = () => {
      cleanup();
      reject(new Error(`stream ended before ${JSON.stringify(text)}; got ${JSON.stringify(seen)}`));
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', reject);
  });
}

// Writes `payload`, reads the same number of bytes back, then ends the socket and waits
// for it to close. Resolves with the bytes read back.
async function echoRoundTrip(socket, payload) {
  const closed = once(socket, 'close');
  const echoed = readBytes(socket, payload.length);
  socket.write(payload);
  const data = await echoed;
  socket.resume();
  socket.end();
  await closed;
  return data;
}

// A server handler that echoes everything back.
const echo = (socket) => socket.pipe(socket);

// How a client connection attempt ended: 'secure' once the handshake completed, or
// 'error' with the error. The socket is destroyed once the outcome is known.
function handshakeOutcome(socket) {
  return new Promise((resolve) => {
    const done = (outcome) => {
      socket.removeListener('secureConnect', onSecure);
      socket.removeListener('error', onError);
      socket.on('error', () => {});
      socket.destroy();
      resolve(outcome);
    };
    const onSecure = () => done({
      secure: true,
      authorized: socket.authorized,
      authorizationError: socket.authorizationError,
    });
    const onError = (error) => done({ secure: false, error });
    socket.once('secureConnect', onSecure);
    socket.once('error', onError);
  });
}

// Asserts that `ours()` throws what `theirs()` (the same call on node:tls) throws: node
// must refuse it, and the codes must be the same.
function assertThrowsLikeNode(ours, theirs, what) {
  let expected;
  try {
    theirs();
  } catch (err) {
    expected = err;
  }
  assert.ok(expected, `node refuses ${what}`);
  assert.throws(ours, { code: expected.code }, what);
}

// Tracks servers (and every connection they accept, TCP and TLS level), sockets, child
// processes and agents; cleanup() closes them all. For bench/load.js as for the tests.
function resourceTracker() {
  const sockets = new Set();
  const servers = new Set();
  const children = new Set();
  const agents = new Set();

  const tracker = {
    socket(socket) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      return socket;
    },
    // Tracks the server and every connection it accepts (TCP and TLS level).
    server(server) {
      servers.add(server);
      server.on('connection', (s) => tracker.socket(s));
      server.on('secureConnection', (s) => tracker.socket(s));
      return server;
    },
    child(child) {
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    agent(agent) {
      agents.add(agent);
      return agent;
    },
    async cleanup() {
      for (const agent of agents) agent.destroy();
      agents.clear();
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      const closing = [];
      for (const server of servers) {
        if (server.listening) closing.push(new Promise((resolve) => server.close(() => resolve())));
      }
      servers.clear();
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) {
          closing.push(once(child, 'exit'));
          child.kill('SIGKILL');
        }
      }
      children.clear();
      await Promise.all(closing);
    },
  };
  return tracker;
}

// A resourceTracker() whose resources are closed after each test. Call it inside a describe().
function useCleanup() {
  const tracker = resourceTracker();
  afterEach(() => tracker.cleanup());
  after(() => tracker.cleanup());
  return tracker;
}

// A Duplex transport over a TCP connection (a `socket` for connect()), for tests that watch
// what crosses it: `memory` lists the memory (ArrayBuffer) of every chunk written to it, and
// with { byteByByte: true } each byte the peer sends is a 'data' event of its own, all in
// one go (whatever follows the first byte of a read arrives while that one is handled).
class TcpTransport extends Duplex {
  constructor(socket, { byteByByte = false } = {}) {
    super();
    this.socket = socket;
    this.memory = [];
    socket.on('data', (chunk) => {
      if (!byteByByte) this.push(chunk);
      else for (const byte of chunk) this.push(Buffer.of(byte));
    });
    socket.on('end', () => this.push(null));
    socket.on('close', () => this.destroy());
    socket.on('error', (err) => this.destroy(err));
  }

  _read() {}

  _write(chunk, encoding, callback) {
    this.memory.push(chunk.buffer);
    this.socket.write(chunk, callback);
  }

  _final(callback) {
    this.socket.end(callback);
  }

  _destroy(err, callback) {
    this.socket.destroy();
    callback(err);
  }
}

// Spawns a child process and resolves with { code, signal, stdout, stderr } on exit.
function run(command, args, { input, track } = {}) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  if (track) track.child(child);
  const stdout = [];
  const stderr = [];
  child.stdout.on('data', (d) => stdout.push(d));
  child.stderr.on('data', (d) => stderr.push(d));
  const result = new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({
      code,
      signal,
      stdout: Buffer.concat(stdout),
      stderr: Buffer.concat(stderr).toString(),
    }));
  });
  if (input !== undefined) child.stdin.end(input);
  return { child, result };
}

// Starts `openssl s_server` on an ephemeral 127.0.0.1 port with the given extra args, and
// resolves with { child, port } once it prints ACCEPT. The child is tracked for cleanup.
function startSServer(track, args) {
  const child = spawn('openssl', ['s_server', '-accept', '127.0.0.1:0', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  track.child(child);
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    let stdout = '';
    const onData = (d) => {
      stdout += d;
      const match = /ACCEPT\s+\S*:(\d+)/.exec(stdout);
      if (match) {
        child.stdout.removeListener('data', onData);
        child.stdout.resume();
        resolve({ child, port: Number(match[1]) });
      }
    };
    child.stdout.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`s_server exited (${code}) before ACCEPT: ${stderr}`)));
  });
}

// s_server arguments serving the given server certificate with its intermediate.
function sServerCertArgs(kind = 'ecdsa') {
  return [
    '-cert', certPath(`server-${kind}.pem`),
    '-key', certPath(`server-${kind}.key`),
    '-cert_chain', certPath('intermediate.pem'),
  ];
}

// Spawns `openssl s_client` against 127.0.0.1:port; returns { child, result } as run().
function startSClient(track, port, args) {
  return run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...args], { track });
}

// The TCP port a process listens on over IPv4, for peers told to bind port 0 that never say
// which port they got (gnutls-serv, ssl_server2): the listening socket among the process's
// own file descriptors, looked up by inode in /proc/net/tcp. With protocol 'udp', the port of
// its bound IPv4 UDP socket, from /proc/net/udp (DTLS servers). Linux only.
function listeningPort(pid, protocol = 'tcp') {
  const inodes = new Set();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target;
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed since the directory was read
    }
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match) inodes.add(match[1]);
  }
  // A listening TCP socket is in state LISTEN; a bound UDP socket in any state.
  const LISTEN = '0A';
  for (const line of fs.readFileSync(`/proc/net/${protocol}`, 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length > 9 && (protocol === 'udp' || fields[3] === LISTEN) && inodes.has(fields[9])) {
      const port = parseInt(fields[1].split(':')[1], 16);
      if (port !== 0) return port;
    }
  }
  throw new Error(`process ${pid} has no ${protocol === 'udp' ? 'bound' : 'listening'} IPv4 ${protocol.toUpperCase()} socket`);
}

// Spawns a peer server program that binds port 0, and resolves once it printed `ready` (a
// regular expression tried on stdout and stderr together) with { child, port, output, stop }:
// output() is what it printed so far ({ stdout, stderr }); stop() ends it with SIGTERM and
// resolves with everything it printed (a program writing stdout to a pipe may hold it in its
// buffer until it exits). `protocol: 'udp'` for a DTLS server (its bound UDP port). The child
// is tracked for cleanup.
function startPeerServer(track, command, args, { ready, cwd, protocol = 'tcp' } = {}) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd });
  track.child(child);
  let stdout = '';
  let stderr = '';
  const output = () => ({ stdout, stderr });
  const closed = new Promise((resolve) => child.once('close', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await closed;
    return output();
  };
  return new Promise((resolve, reject) => {
    let started = false;
    const check = () => {
      if (started || !ready.test(stdout + stderr)) return;
      started = true;
      try {
        resolve({ child, port: listeningPort(child.pid, protocol), output, stop });
      } catch (err) {
        reject(err);
      }
    };
    child.stdout.on('data', (d) => { stdout += d; check(); });
    child.stderr.on('data', (d) => { stderr += d; check(); });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (!started) reject(new Error(`${command} exited (${code ?? signal}) before it was ready:\n${stdout}${stderr}`));
    });
  });
}

// A TCP relay on 127.0.0.1 to 127.0.0.1:port that passes TLS records on whole and logs each,
// in the order the relay saw them: records is [{ from: 'client' | 'server', type, length,
// first }] (type: the record's content type, 21 an alert in the clear, 23 a protected record
// in TLS 1.3; first: its body's first byte, the handshake message type of a handshake
// record in the clear). `alter(record, entry)`, if given, returns the bytes to pass on in
// place of a record (a Buffer: header and body). `closed` resolves once both connections of
// the relay (to the client, to the server) have closed, everything either side sent logged.
// The relay and its sockets are tracked.
async function recordRelay(track, port, { alter } = {}) {
  const records = [];
  let bothClosed;
  const closed = new Promise((resolve) => { bothClosed = resolve; });
  const relayRecords = (from, to) => {
    let pending = Buffer.alloc(0);
    return (data) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 5 && pending.length >= 5 + pending.readUInt16BE(3)) {
        const record = pending.subarray(0, 5 + pending.readUInt16BE(3));
        pending = pending.subarray(record.length);
        const entry = { from, type: record[0], length: record.length - 5, first: record[5] };
        records.push(entry);
        to.write(alter ? alter(Buffer.from(record), entry) : record);
      }
    };
  };
  const relay = track.server(net.createServer((down) => {
    const up = track.socket(net.connect(port, '127.0.0.1'));
    let open = 2;
    const closedOne = () => { if (--open === 0) bothClosed(); };
    down.once('close', closedOne);
    up.once('close', closedOne);
    down.on('data', relayRecords('client', up));
    up.on('data', relayRecords('server', down));
    down.on('end', () => up.end());
    up.on('end', () => down.end());
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
  }));
  return { port: await listen(relay), records, closed };
}

// Runs `source` in a fresh node (--expose-gc) in the project's root; resolves with its last
// line of output, parsed as JSON. Asynchronous, so that mocha's timeout (a little longer than
// `timeout`, ms) can fire while it runs.
function runNodeChild(source, timeout) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', '-e', source],
      { cwd: path.join(__dirname, '..'), encoding: 'utf8', timeout }, (err, stdout, stderr) => {
        if (err) {
          err.message += `\n${stderr}`;
          reject(err);
          return;
        }
        resolve(JSON.parse(stdout.trim().split('\n').pop()));
      });
  });
}

module.exports = {
  assert,
  TcpTransport,
  runNodeChild,
  certs,
  names,
  listen,
  once,
  sha256,
  randomBytes,
  collect,
  readBytes,
  readUntil,
  echoRoundTrip,
  echo,
  handshakeOutcome,
  assertThrowsLikeNode,
  resourceTracker,
  useCleanup,
  run,
  startSServer,
  sServerCertArgs,
  startSClient,
  listeningPort,
  startPeerServer,
  recordRelay,
};
