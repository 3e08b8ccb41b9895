// load.js: `npm run load`. Load and soak scenarios, one after the other, each failing on
// errors, leaks or corrupt data (never on speed):
//
//   https-wrk             node's http.Server served over our Server, loaded by wrk over
//                         HTTPS with keep-alive; fails on any socket error, non-2xx response
//                         or failed handshake
//   handshakes-at-once    1,000 clients of ours in their handshakes at once; all complete
//   paused-reader-ours    our client pauses while node's server sends 100 MiB; and
//   paused-reader-node    node's client while ours does: memory bounded, sender held back,
//                         every byte intact
//   connection-churn      10,000 connections opened and dropped in ten ways; Mbed TLS's
//                         bytes and RSS back at baseline on both sides, no errors
//   context-churn         2 x 10,000 secure contexts created and dropped; the same
//   abrupt-disconnects    5,000 raw clients that give up mid-handshake (FIN or RST); each
//                         reported with a code, fds and memory back at baseline
//
// All but the first are the scenarios of test/load-scenarios.js, which the mocha suite runs
// at the size that proves each behaviour (test/load.test.js, test/hostile.test.js); here
// they run at soak size, with the same checks.
//
//   node bench/load.js [seconds]     wrk's duration, default 10 s; also LOAD_SECONDS=3
//   LOAD_CONNECTIONS=50 LOAD_THREADS=2 node bench/load.js      wrk's connections, threads
//   LOAD_SCENARIOS=https-wrk,context-churn node bench/load.js  only these
//
// Each scenario runs in a fresh node (this file with --scenario NAME, --expose-gc and a fixed
// young generation), so one scenario's garbage and heap growth never read as another's RSS.
// The wrk server runs in a child of its own (this file with --server), so wrk's load and the
// server never share an event loop; everything stays on 127.0.0.1. wrk (Debian package
// `wrk`) uses OpenSSL and does not verify the certificate. Progress goes to stderr; stdout
// has one line per scenario and a total:
//   load: <scenario>: <measurements>; OK|FAILED: <why>
//   load: <n> scenarios, <n> passed, <n> failed
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');
const { fork, spawn, spawnSync } = require('child_process');
const scenarios = require('../test/load-scenarios');

const HOST = '127.0.0.1';
const certDir = path.join(__dirname, '..', 'certs');
const BODY = 'hello over Mbed TLS\n';

// ---- The server child ----

function serve() {
  const tls = require('..');
  const binding = require('../lib/binding');
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

// The https-wrk scenario: resolves with { summary, problems }.
async function httpsWrk(track, { seconds, connections, threads }) {
  const probe = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    return { summary: 'no wrk', problems: [`wrk not found (${probe.error.code}); install it: apt-get install -y wrk`] };
  }

  const server = track.child(fork(__filename, ['--server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const { port } = await next(server, 'listening');
  const url = `https://${HOST}:${port}/`;
  const args = [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', url];
  console.error(`load: wrk ${args.join(' ')}`);

  const wrk = track.child(spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
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
  const summary = `${r.requests} requests in ${r.seconds}s, ${r.rate} req/s` +
    `${r.latency ? ` (latency avg ${r.latency.avg}, max ${r.latency.max})` : ''}, non-2xx ${r.non2xx}, ` +
    `socket errors connect ${errors.connect} read ${errors.read} write ${errors.write} timeout ${errors.timeout}; ` +
    `server: ${stats.handshakes} handshakes, ${stats.handshakeFailures} handshake failures ` +
    `(+${stats.probes} empty connections), ` +
    `${stats.requests} requests, RSS ${mib(stats.rss)} MiB, Mbed TLS ${mib(stats.mbedtls)} MiB`;
  return { summary, problems };
}

// ---- The scenarios, in order ----

// Each: run(track) resolves with measurements and a `summary`; check(result) throws on a
// failure. None fails for being slow; one that hangs is killed after HANG_LIMIT_S.
const HANG_LIMIT_S = 600;

function scenarioList({ seconds, connections, threads }) {
  const wrkCheck = (r) => {
    if (r.problems.length) throw new Error(r.problems.join('; '));
  };
  return [
    ['https-wrk', (track) => httpsWrk(track, { seconds, connections, threads }), wrkCheck],
    ['handshakes-at-once', (track) => scenarios.handshakesAtOnce(track, { count: 1000 }),
      scenarios.checkHandshakesAtOnce],
    ['paused-reader-ours', (track) => scenarios.pausedReader(track, { sender: 'node', mibs: 100 }),
      scenarios.checkPausedReader],
    ['paused-reader-node', (track) => scenarios.pausedReader(track, { sender: 'ours', mibs: 100 }),
      scenarios.checkPausedReader],
    ['connection-churn', (track) => scenarios.connectionChurn(track, { count: 10000, warmup: 1000, concurrency: 20 }),
      scenarios.checkConnectionChurn],
    ['context-churn', (track) => scenarios.contextChurn(track, { count: 10000, alive: 1000 }),
      scenarios.checkContextChurn],
    ['abrupt-disconnects', (track) => scenarios.abruptDisconnects(track, { count: 5000, concurrency: 50 }),
      scenarios.checkAbruptDisconnects],
  ];
}

// In the scenario's own process: runs it, prints its line, exits 0 if it passed.
async function runScenario(name, options) {
  const [, run, check] = scenarioList(options).find(([n]) => n === name);
  const track = scenarios.tracker();
  const start = Date.now();
  let summary = '';
  let failure = null;
  try {
    const result = await run(track);
    summary = result.summary;
    check(result);
  } catch (err) {
    failure = err;
  } finally {
    await track.cleanup();
  }
  const took = `${((Date.now() - start) / 1000).toFixed(1)} s`;
  const verdict = failure ? `FAILED: ${failure.message.split('\n')[0]}` : 'OK';
  console.log(`load: ${name}: ${summary.replace(/\n\s*/g, '; ')}${summary ? '; ' : ''}${took}; ${verdict}`);
  if (failure && failure.stack) console.error(failure.stack);
  process.exit(failure ? 1 : 0);
}

// In the driver: the scenario in a child; resolves with whether it passed.
function forkScenario(name, seconds) {
  return new Promise((resolve) => {
    console.error(`load: ${name} ...`);
    const child = fork(__filename, ['--scenario', name, String(seconds)], {
      execArgv: ['--expose-gc', '--max-semi-space-size=2'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const hang = setTimeout(() => {
      console.log(`load: ${name}: FAILED: did not finish within ${HANG_LIMIT_S} s`);
      child.kill('SIGKILL');
    }, HANG_LIMIT_S * 1000);
    child.once('exit', (code, signal) => {
      clearTimeout(hang);
      if (code !== 0 && code !== 1) console.log(`load: ${name}: FAILED: exited ${code ?? signal}`);
      resolve(code === 0);
    });
  });
}

function options(secondsArg) {
  return {
    seconds: positiveInt('duration', secondsArg ?? process.env.LOAD_SECONDS, 10),
    connections: positiveInt('LOAD_CONNECTIONS', process.env.LOAD_CONNECTIONS, 50),
    threads: positiveInt('LOAD_THREADS', process.env.LOAD_THREADS, 2),
  };
}

async function main() {
  const { seconds } = options(process.argv[2]);
  const names = scenarioList(options(process.argv[2])).map(([name]) => name);
  const only = (process.env.LOAD_SCENARIOS || '').split(',').filter(Boolean);
  const unknown = only.filter((name) => !names.includes(name));
  if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${names.join(', ')}`);
  const chosen = only.length ? names.filter((name) => only.includes(name)) : names;
  let passed = 0;
  for (const name of chosen) {
    if (await forkScenario(name, seconds)) passed++;
  }
  const failed = chosen.length - passed;
  console.log(`load: ${chosen.length} scenarios, ${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

if (process.argv[2] === '--server') {
  serve();
} else if (process.argv[2] === '--scenario') {
  process.on('disconnect', () => process.exit(1));
  runScenario(process.argv[3], options(process.argv[4]));
} else {
  main().catch((err) => {
    console.error(err.stack);
    process.exitCode = 1;
  });
}
