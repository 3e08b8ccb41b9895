// common.js: what the bench/ scripts share: the two implementations under test, the
// certificates, client helpers, memory sampling, forking children that talk over IPC, and
// the tables' layout.
'use strict';

const fs = require('fs');
const path = require('path');
const { fork } = require('child_process');

const IMPLEMENTATIONS = {
  node: () => require('tls'),
  mbedtls: () => require('..'),
};

function impl(name) {
  if (!IMPLEMENTATIONS[name]) throw new Error(`unknown implementation '${name}' (node|mbedtls)`);
  return IMPLEMENTATIONS[name]();
}

const certDir = path.join(__dirname, '..', 'certs');
const certs = {
  ca: fs.readFileSync(path.join(certDir, 'ca.pem')),
  cert: fs.readFileSync(path.join(certDir, 'server-ecdsa-chain.pem')), // ECDSA P-256
  key: fs.readFileSync(path.join(certDir, 'server-ecdsa.key')),
};

const HOST = '127.0.0.1'; // in the server certificate's SAN; no DNS, no SNI

// One client context per measurement, shared by its connections, for both implementations
// (versions live in the context: node ignores minVersion/maxVersion next to secureContext).
function clientContext(tls, options = {}) {
  return tls.createSecureContext({ ca: certs.ca, ...options });
}

// Resolves with the socket on 'secureConnect'; rejects on 'error'.
function handshake(tls, port, secureContext) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: HOST, port, secureContext }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

// Runs `count` copies of the async function `worker` concurrently.
function workers(count, worker) {
  return Promise.all(Array.from({ length: count }, (_, i) => worker(i)));
}

// How long connections stay quiet before their memory is sampled, for either implementation:
// idle means idle for a while. mbedtls-stream gives back its buffers 1 to 2 s after a
// connection's last activity (lib/idle-trim.js).
const IDLE_SETTLE_MS = 3000;

// RSS after a full collection (the process must run with --expose-gc), and the bytes Mbed TLS
// holds for `sockets` (null for node:tls, whose sockets have no memoryUsage()).
function memorySample(sockets) {
  global.gc();
  global.gc();
  let heap = null;
  for (const socket of sockets) {
    if (typeof socket.memoryUsage === 'function') heap += socket.memoryUsage().current;
  }
  return { rss: process.memoryUsage().rss, heap };
}

// ---- Children over IPC ----

const children = new Set();

function forkChild(script, args) {
  const child = fork(path.join(__dirname, script), args, {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child.label = [script, ...args].join(' ');
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

// The next message of `type` from `child`; rejects if the child exits first.
function next(child, type) {
  return new Promise((resolve, reject) => {
    const onMessage = (msg) => {
      if (msg && msg.type === type) {
        cleanup();
        resolve(msg);
      }
    };
    const onExit = (code, signal) => {
      cleanup();
      reject(new Error(`${child.label} exited (${signal || code}) while waiting for '${type}'`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

// Sends `msg` and resolves with the child's reply (the next message of the same type).
function request(child, msg) {
  const reply = next(child, msg.type);
  child.send(msg);
  return reply;
}

function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill();
  return exited;
}

function killChildren() {
  for (const child of children) child.kill('SIGKILL');
}
process.on('exit', killChildren);

// In a child: exit when the parent goes away, whatever is still open.
function exitWithParent() {
  process.on('disconnect', () => process.exit(0));
}

// The lines of a table of strings, rows[0] its header: the first `leftColumns` columns
// aligned left (labels), the others right (figures), a rule under the header.
function tableLines(rows, leftColumns) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row) => row.map((cell, i) => (i < leftColumns ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
    .join(' | ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.slice(1).map(line)];
}

module.exports = {
  impl, certs, HOST, clientContext, handshake, workers, memorySample, IDLE_SETTLE_MS,
  forkChild, next, request, stopChild, killChildren, exitWithParent, tableLines,
};
