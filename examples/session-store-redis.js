// session-store-redis.js: TLS servers in several processes that resume each other's
// sessions. TLS 1.2 session IDs live in Redis, through the server's 'newSession' and
// 'resumeSession' events; session tickets (TLS 1.3, and TLS 1.2 clients that take them)
// resume on any server holding the same ticket keys: `ticketKeys` given to every process,
// and shared by node's cluster among the workers of one.
//
//   node examples/session-store-redis.js          a demo: two server processes, and clients
//                                                 whose sessions made on the first resume on
//                                                 the second
//   node examples/session-store-redis.js serve    one server process (below)
//
// Needs a Redis server: REDIS_URL, redis://127.0.0.1:6379 by default (Debian's redis-server).
// A server process reads PORT (0: any free port), HOST (127.0.0.1), TICKET_KEYS (96 hex
// digits, random by default) and WORKERS (cluster workers, 1 by default); it prints
// "<pid> listening on HOST:PORT" once per worker, and answers each connection with one line
// of JSON: { pid, protocol, reused }.
'use strict';

const cluster = require('cluster');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { fork } = require('child_process');
const { createClient, RESP_TYPES } = require('redis');
const tls = require('..');

const pem = (name) => fs.readFileSync(path.join(__dirname, '..', 'certs', name));
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const SESSION_TIMEOUT = 300; // seconds: the server's sessionTimeout and the keys' TTL in Redis

// Keeps the server's TLS 1.2 session IDs in Redis, for as long as they are resumable. A
// store that fails costs a full handshake, never the connection.
function useRedisSessionStore(server, redis, prefix = 'tls-session:') {
  server.on('newSession', (id, sessionData, done) => {
    redis.set(prefix + id.toString('hex'), sessionData, { EX: SESSION_TIMEOUT })
      .catch((err) => console.error(`session store: ${err.message}`))
      .finally(done); // the handshake ends once the session is stored
  });
  server.on('resumeSession', (id, done) => {
    redis.get(prefix + id.toString('hex')).then(
      (sessionData) => done(null, sessionData), // a Buffer, or null: a full handshake
      (err) => {
        console.error(`session store: ${err.message}`);
        done(null, null);
      });
  });
}

async function serve() {
  const workers = Number(process.env.WORKERS || 1);
  if (workers > 1 && cluster.isPrimary) {
    // The workers listen together; node's cluster gives them all the first one's ticket keys.
    for (let i = 0; i < workers; i++) cluster.fork();
    return;
  }
  // Sessions are Buffers: Redis's strings come back as Buffers too.
  const redis = createClient({ url: REDIS_URL }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  redis.on('error', (err) => console.error(`redis: ${err.message}`));
  await redis.connect();

  const server = tls.createServer({
    key: pem('server-ecdsa.key'),
    cert: pem('server-ecdsa-chain.pem'),
    sessionTimeout: SESSION_TIMEOUT,
    ticketKeys: process.env.TICKET_KEYS ? Buffer.from(process.env.TICKET_KEYS, 'hex') : undefined,
  }, (socket) => {
    const line = { pid: process.pid, protocol: socket.getProtocol(), reused: socket.isSessionReused() };
    socket.end(`${JSON.stringify(line)}\n`);
  });
  useRedisSessionStore(server, redis);
  server.on('tlsClientError', (err) => console.error(`tlsClientError: ${err.code}: ${err.message}`));
  server.on('close', () => redis.quit().catch(() => {}));
  const host = process.env.HOST || '127.0.0.1';
  server.listen(Number(process.env.PORT || 0), host, () => {
    console.log(`${process.pid} listening on ${host}:${server.address().port}`);
  });
}

// ---- The demo: two server processes, one Redis ----

// Starts `node this-file serve` and resolves with its port once it listens.
function startServer(env) {
  const child = fork(__filename, ['serve'], { env: { ...process.env, ...env }, stdio: 'pipe' });
  child.stderr.pipe(process.stderr);
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (data) => {
      output += data;
      const match = / listening on .*:(\d+)\n/.exec(output);
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
}

// One connection; resolves with the server's line, the client's own view and its session.
function connect(client, port, options) {
  return new Promise((resolve, reject) => {
    let session = null;
    let reused = null;
    let line = '';
    const socket = client.connect({ host: '127.0.0.1', port, ca: pem('ca.pem'), servername: 'localhost', ...options },
      () => { reused = socket.isSessionReused(); });
    socket.on('session', (s) => { session = session || s; });
    socket.on('data', (data) => { line += data; });
    socket.on('error', reject);
    socket.on('close', () => resolve({ server: JSON.parse(line), reused, session }));
  });
}

async function demo() {
  const ticketKeys = crypto.randomBytes(48).toString('hex'); // both processes get the same
  const a = await startServer({ TICKET_KEYS: ticketKeys });
  const b = await startServer({ TICKET_KEYS: ticketKeys });
  try {
    // A client that takes no tickets (node's own here, told so) gets a session ID, which
    // the first server stores in Redis and the second finds there.
    const tls12 = { maxVersion: 'TLSv1.2', secureOptions: crypto.constants.SSL_OP_NO_TICKET };
    const first = await connect(require('tls'), a.port, tls12);
    const again = await connect(require('tls'), b.port, { ...tls12, session: first.session });
    console.log(`TLS 1.2 session ID: made by ${first.server.pid}, resumed by ${again.server.pid}: ` +
      `client ${again.reused}, server ${again.server.reused}`);
    // TLS 1.3 (our client): a ticket from the first resumes on the second, same keys.
    const ticketed = await connect(tls, a.port, {});
    const resumed = await connect(tls, b.port, { session: ticketed.session });
    console.log(`TLS 1.3 ticket: made by ${ticketed.server.pid}, resumed by ${resumed.server.pid}: ` +
      `client ${resumed.reused}, server ${resumed.server.reused}`);
  } finally {
    a.child.kill();
    b.child.kill();
  }
}

const main = process.argv[2] === 'serve' || !cluster.isPrimary ? serve : demo;
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
