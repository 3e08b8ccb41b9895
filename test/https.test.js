'use strict';
// HTTPS on top of our sockets: node's https client through an Agent that creates our
// client sockets, and node's http server fed with our server's secure connections.

const http = require('node:http');
const https = require('node:https');
const ours = require('..');
const {
  assert, certs, listen, sha256, randomBytes, collect, useCleanup, run,
} = require('./helpers');

// An https.Agent whose connections are our TLS client sockets.
class OurAgent extends https.Agent {
  createConnection(options) {
    return ours.connect({ ...options, ca: certs.ca });
  }
}

// Sends a request and resolves with { res, body } once the body has been read.
function fetch(options, body) {
  return new Promise((resolve, reject) => {
    const req = https.request(options, (res) => {
      collect(res).then((data) => resolve({ req, res, body: data }), reject);
    });
    req.once('error', reject);
    req.end(body);
  });
}

describe('https', function () {
  const track = useCleanup();

  describe('node https client through our client sockets', function () {
    // node's https server answering every request with `handler`'s body.
    async function nodeHttpsServer(handler) {
      const server = track.server(https.createServer(certs.ecdsa, handler));
      return { server, port: await listen(server) };
    }

    it('https.get() receives the response body', async function () {
      const { port } = await nodeHttpsServer((req, res) => res.end(`hello ${req.url}`));
      const agent = track.agent(new OurAgent());
      const { res, body } = await new Promise((resolve, reject) => {
        https.get({ host: '127.0.0.1', port, path: '/get', agent }, (response) => {
          collect(response).then((data) => resolve({ res: response, body: data }), reject);
        }).once('error', reject);
      });
      assert.equal(res.statusCode, 200);
      assert.equal(body.toString(), 'hello /get');
    });

    it('https.request() POSTs a body and receives the response', async function () {
      const { port } = await nodeHttpsServer(async (req, res) => {
        const data = await collect(req);
        res.end(sha256(data));
      });
      const agent = track.agent(new OurAgent());
      const payload = randomBytes(256 * 1024);
      const { res, body } = await fetch({ host: '127.0.0.1', port, path: '/', method: 'POST', agent }, payload);
      assert.equal(res.statusCode, 200);
      assert.equal(body.toString(), sha256(payload));
    });

    it('the request socket is our TLS socket and is authorized', async function () {
      const { port } = await nodeHttpsServer((req, res) => res.end('ok'));
      const agent = track.agent(new OurAgent());
      const { req } = await fetch({ host: '127.0.0.1', port, path: '/', agent });
      assert.ok(req.socket instanceof ours.TLSSocket);
      assert.equal(req.socket.authorized, true);
    });

    it('keep-alive reuses one socket for two sequential requests', async function () {
      let connections = 0;
      const { server, port } = await nodeHttpsServer((req, res) => res.end(`body of ${req.url}`));
      server.on('connection', () => { connections += 1; });
      const agent = track.agent(new OurAgent({ keepAlive: true, maxSockets: 1 }));
      const first = await fetch({ host: '127.0.0.1', port, path: '/first', agent });
      const second = await fetch({ host: '127.0.0.1', port, path: '/second', agent });
      assert.equal(first.body.toString(), 'body of /first');
      assert.equal(second.body.toString(), 'body of /second');
      assert.equal(second.req.reusedSocket, true);
      assert.equal(connections, 1);
    });
  });

  describe('node http server over our server', function () {
    const big = randomBytes(1024 * 1024);

    // An http server whose connections are our server's secure sockets.
    async function httpOverOurServer() {
      const httpServer = http.createServer((req, res) => {
        if (req.url === '/big') {
          res.setHeader('content-type', 'application/octet-stream');
          res.end(big);
        } else {
          res.end(`hello ${req.url}`);
        }
      });
      const server = track.server(ours.createServer(certs.ecdsa));
      server.on('secureConnection', (socket) => httpServer.emit('connection', socket));
      return { httpServer, port: await listen(server) };
    }

    const nodeGet = (port, path) => fetch({ host: '127.0.0.1', port, path, servername: 'localhost', ca: certs.ca, agent: false });
    const curl = (port, path) => run('curl', [
      '--silent', '--show-error', '--cacert', certs.path('ca.pem'),
      '--resolve', `localhost:${port}:127.0.0.1`, `https://localhost:${port}${path}`,
    ], { track }).result;

    it('node https.get() receives the response', async function () {
      const { port } = await httpOverOurServer();
      const { res, body } = await nodeGet(port, '/small');
      assert.equal(res.statusCode, 200);
      assert.equal(body.toString(), 'hello /small');
    });

    it('node https.get() receives a 1 MiB body intact', async function () {
      const { port } = await httpOverOurServer();
      const { res, body } = await nodeGet(port, '/big');
      assert.equal(res.statusCode, 200);
      assert.equal(sha256(body), sha256(big));
    });

    it('curl receives the response and exits 0', async function () {
      const { port } = await httpOverOurServer();
      const result = await curl(port, '/small');
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.toString(), 'hello /small');
    });

    it('curl receives a 1 MiB body intact', async function () {
      const { port } = await httpOverOurServer();
      const result = await curl(port, '/big');
      assert.equal(result.code, 0, result.stderr);
      assert.equal(sha256(result.stdout), sha256(big));
    });
  });
});
