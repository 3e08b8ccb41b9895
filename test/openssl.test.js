'use strict';
// Interoperability with the OpenSSL command line tools: our client against
// `openssl s_server -rev`, and `openssl s_client` against our server.

const ours = require('..');
const {
  assert, certs, names, listen, once, readUntil, useCleanup, startSServer, sServerCertArgs,
  startSClient,
} = require('./helpers');

const VERSIONS = [
  { name: 'TLSv1.2', flag: '-tls1_2' },
  { name: 'TLSv1.3', flag: '-tls1_3' },
];

describe('openssl CLI interop', function () {
  const track = useCleanup();

  describe('our client with openssl s_server -rev', function () {
    for (const version of VERSIONS) {
      for (const keyType of ['ecdsa', 'rsa']) {
        describe(`${version.name}, ${keyType.toUpperCase()} certificate`, function () {
          // Starts s_server and connects our client to it; resolves with the client socket.
          async function connectToSServer() {
            const { port } = await startSServer(track, [...sServerCertArgs(keyType), '-rev', version.flag, '-naccept', '1']);
            const client = track.socket(ours.connect({
              port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca,
            }));
            await once(client, 'secureConnect');
            return client;
          }

          it(`negotiates ${version.name} and is authorized`, async function () {
            const client = await connectToSServer();
            assert.equal(client.getProtocol(), version.name);
            assert.equal(client.authorized, true);
          });

          it('receives the line it sent, reversed', async function () {
            const client = await connectToSServer();
            const line = 'hello from mbedtls-stream';
            const answer = readUntil(client, '\n');
            client.write(`${line}\n`);
            assert.equal(await answer, `${[...line].reverse().join('')}\n`);
          });

          it('gets end and close after sending CLOSE', async function () {
            const client = await connectToSServer();
            const ended = once(client, 'end');
            const closed = once(client, 'close');
            client.resume();
            client.write('CLOSE\n');
            await ended;
            await closed;
          });

          it('reports the server certificate chain', async function () {
            const client = await connectToSServer();
            const cert = client.getPeerCertificate(true);
            assert.equal(cert.subject.CN, names.server);
            assert.equal(cert.issuerCertificate.subject.CN, names.intermediate);
          });
        });
      }
    }
  });

  describe('openssl s_client with our server', function () {
    for (const version of VERSIONS) {
      describe(version.name, function () {
        // Starts our server (ending every connection with `reply` once it receives a line)
        // and an s_client against it. Resolves with { received, result }: the first line
        // our server read, and s_client's exit.
        async function sClientSession(keyType, reply) {
          const server = track.server(ours.createServer(certs[keyType]));
          const port = await listen(server);
          const received = new Promise((resolve, reject) => {
            server.once('secureConnection', (socket) => {
              readUntil(socket, '\n').then((line) => {
                socket.end(reply);
                resolve({ line, protocol: socket.getProtocol() });
              }, reject);
            });
          });
          const { child, result } = startSClient(track, port, [
            '-CAfile', certs.path('ca.pem'), version.flag, '-verify_return_error', '-quiet',
          ]);
          child.stdin.write('hello from s_client\n');
          const [got, exit] = await Promise.all([received, result]);
          return { ...got, ...exit };
        }

        for (const keyType of ['ecdsa', 'rsa']) {
          it(`our server receives the line s_client sends (${keyType.toUpperCase()})`, async function () {
            const session = await sClientSession(keyType, 'bye\n');
            assert.equal(session.line, 'hello from s_client\n');
            assert.equal(session.protocol, version.name);
          });
        }

        it('s_client exits 0 after our server ends the connection', async function () {
          const session = await sClientSession('ecdsa', 'bye\n');
          assert.equal(session.code, 0, session.stderr);
        });

        it('s_client receives what our server wrote before ending', async function () {
          const session = await sClientSession('ecdsa', 'bye\n');
          assert.equal(session.stdout.toString(), 'bye\n');
        });

        it("s_client's verification of our chain succeeds", async function () {
          const session = await sClientSession('ecdsa', 'bye\n');
          assert.equal(session.code, 0, session.stderr);
          assert.doesNotMatch(session.stderr, /verify error/);
          assert.match(session.stderr, /depth=0 CN = localhost\s+verify return:1/);
        });

        it('s_client trusting only other-ca fails verification of our chain', async function () {
          const server = track.server(ours.createServer(certs.ecdsa));
          server.on('tlsClientError', () => {});
          const port = await listen(server);
          const { child, result } = startSClient(track, port, [
            '-CAfile', certs.path('other-ca.pem'), version.flag, '-verify_return_error', '-quiet',
          ]);
          child.stdin.write('hello from s_client\n');
          const exit = await result;
          assert.notEqual(exit.code, 0);
          assert.match(exit.stderr, /verify error/);
        });
      });
    }
  });
});
