// load.js: `npm run load`. node's http.Server served over mbedtls-stream's Server, loaded by
// wrk over HTTPS with keep-alive; fails if wrk reports any socket error or non-2xx response.
//
//   node bench/load.js [seconds]     default 10 s; also LOAD_SECONDS=3
//   LOAD_CONNECTIONS=50 LOAD_THREADS=2 node bench/load.js
//
// The server runs in a child process (this file with --server), so wrk's load and the
// server never share an event loop; both stay on 127.0.0.1. wrk (Debian package `wrk`) uses
// OpenSSL and does not verify the certificate. Progress goes to stderr; the last line on
// stdout is the summary:
//   load: <requests> requests in <s>s, <rate> req/s, non-2xx <n>, socket errors connect <n>
//   read <n> write <n> timeout <n>; server: <n> handshakes, <n> handshake failures, ... OK|FAILED
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');
const { fork, spawn, spawnSync } = require('child_process');

const HOST = '127.0.0.1';
const certDir = path.join(__dirname, '..', 'certs');
const BODY = 'hello over Mbed TLS\n';

// ---- The server child ----

function serve() {
  const tls = require('..');
  const binding = require('../build/Release/mbedtls_stream.node');
  const stats = { handshakes: 0, handshakeFailures: 0, failureCodes: {}, probes: 0, requests: 0, socketErrors: 0 };
  const app = http.createServer({ keepAliveTimeout: 30000 }, (req, res) => {
    stats.requests++;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(BODY) });
    res.end(BODY);
  });
  // wrk closes its connections abruptly when the run ends; that is no failure of ours.
  app.on('clientError', (err, socket) => {
    stats.socketErrors++;
    socket.destroy();
  });
  const server = tls.createServer({
    key: fs.readFileSync(path.join(certDir, 'server-ecdsa.key')),
    cert: fs.readFileSync(path.join(certDir, 'server-ecdsa-chain.pem')),
  });
  server.on('secureConnection', (socket) => {
    stats.handshakes++;
    app.emit('connection', socket);
  });
  server.on('tlsClientError', (err, socket) => {
    // wrk first checks the address with a TCP connect that it closes without sending
    // anything: not a failed handshake.
    if (err.code === 'ECONNRESET' && socket._parent && socket._parent.bytesRead === 0) {
      stats.probes++;
      return;
    }
    stats.handshakeFailures++;
    stats.failureCodes[err.code] = (stats.failureCodes[err.code] || 0) + 1;
  });
  process.on('message', (msg) => {
    if (msg.type === 'stats') {
      process.send({ type: 'stats', ...stats, rss: process.memoryUsage().rss,
        mbedtls: binding.memoryTotals()[0] });
    }
  });
  process.on('disconnect', () => process.exit(0));
  server.listen({ port: 0, host: HOST, backlog: 1024 }, () =>
    process.send({ type: 'listening', port: server.address().port }));
}

// ---- The driver ----

function next(child, type) {
  return new Promise((resolve, reject) => {
    const onMessage = (msg) => {
      if (msg.type !== type) return;
      child.off('exit', onExit);
      child.off('message', onMessage);
      resolve(msg);
    };
    const onExit = (code, signal) => reject(new Error(`server exited (${code ?? signal})`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function positiveInt(name, value, fallback) {
  if (value === undefined || value === '') return fallback;
  const n = Number(String(value).replace(/s$/, ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got '${value}'`);
  return n;
}

// What wrk printed -> numbers; null for what it did not print.
function parseWrk(output) {
  const num = (re) => {
    const m = re.exec(output);
    return m ? Number(m[1]) : null;
  };
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(output);
  const unit = total ? { us: 1e-6, ms: 1e-3, s: 1, m: 60 }[total[3]] : null;
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const latency = /Latency\s+(\S+)\s+(\S+)\s+(\S+)/.exec(output);
  return {
    requests: total ? Number(total[1]) : null,
    seconds: total ? Number(total[2]) * unit : null,
    rate: num(/Requests\/sec:\s+([\d.]+)/),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/) ?? 0,
    socketErrors: errors
      ? { connect: Number(errors[1]), read: Number(errors[2]), write: Number(errors[3]), timeout: Number(errors[4]) }
      : { connect: 0, read: 0, write: 0, timeout: 0 },
    latency: latency ? { avg: latency[1], stdev: latency[2], max: latency[3] } : null,
  };
}

async function main() {
  const seconds = positiveInt('duration', process.argv[2] ?? process.env.LOAD_SECONDS, 10);
  const connections = positiveInt('LOAD_CONNECTIONS', process.env.LOAD_CONNECTIONS, 50);
  const threads = positiveInt('LOAD_THREADS', process.env.LOAD_THREADS, 2);

  const probe = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    console.error(`load: wrk not found (${probe.error.code}); install it: apt-get install -y wrk`);
    process.exit(1);
  }

  const server = fork(__filename, ['--server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const kill = () => { if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL'); };
  process.on('exit', kill);
  const { port } = await next(server, 'listening');
  const url = `https://${HOST}:${port}/`;
  const args = [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', url];
  console.error(`load: wrk ${args.join(' ')}`);

  const wrk = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  wrk.stdout.on('data', (d) => { out += d; });
  wrk.stderr.on('data', (d) => { out += d; });
  // wrk stops on its own after -d; a run that hangs well past it is killed.
  const guard = setTimeout(() => wrk.kill('SIGKILL'), (seconds + 30) * 1000);
  const [code, signal] = await new Promise((resolve, reject) => {
    wrk.once('error', reject);
    wrk.once('close', (c, s) => resolve([c, s]));
  });
  clearTimeout(guard);
  process.stderr.write(out.replace(/^/gm, '  wrk| '));
  if (!out.endsWith('\n')) process.stderr.write('\n');

  server.send({ type: 'stats' });
  const stats = await next(server, 'stats');
  server.disconnect();

  const r = parseWrk(out);
  const errors = r.socketErrors;
  const errorCount = errors.connect + errors.read + errors.write + errors.timeout;
  const problems = [];
  if (code !== 0) problems.push(`wrk exited ${code ?? signal}`);
  if (r.requests === null || r.rate === null) problems.push('could not parse wrk\'s output');
  else if (r.requests === 0) problems.push('no requests completed');
  if (r.non2xx > 0) problems.push(`${r.non2xx} non-2xx responses`);
  if (errorCount > 0) problems.push(`${errorCount} socket errors`);
  if (stats.handshakeFailures > 0) problems.push(`${stats.handshakeFailures} failed handshakes ${JSON.stringify(stats.failureCodes)}`);

  const mib = (b) => (b / (1 << 20)).toFixed(1);
  console.log(`load: ${r.requests} requests in ${r.seconds}s, ${r.rate} req/s` +
    `${r.latency ? ` (latency avg ${r.latency.avg}, max ${r.latency.max})` : ''}, non-2xx ${r.non2xx}, ` +
    `socket errors connect ${errors.connect} read ${errors.read} write ${errors.write} timeout ${errors.timeout}; ` +
    `server: ${stats.handshakes} handshakes, ${stats.handshakeFailures} handshake failures ` +
    `(+${stats.probes} empty connections), ` +
    `${stats.requests} requests, RSS ${mib(stats.rss)} MiB, Mbed TLS ${mib(stats.mbedtls)} MiB; ` +
    `${problems.length ? `FAILED: ${problems.join('; ')}` : 'OK'}`);
  process.exitCode = problems.length ? 1 : 0;
}

if (process.argv[2] === '--server') {
  serve();
} else {
  main().catch((err) => {
    console.error(err.stack);
    process.exitCode = 1;
  });
}
