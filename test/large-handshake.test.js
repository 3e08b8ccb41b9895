'use strict';
// Handshake messages longer than one 16 KiB record: a Certificate message of about 45 KB
// (a leaf with 1,500 subjectAltNames, certs/large/). Mbed TLS 3.6.6 builds each handshake
// message whole in its 16 KiB output buffer and reassembles one in its 16 KiB input buffer,
// so it can neither send nor receive it; node's tls does both.

const fs = require('node:fs');
const path = require('node:path');
const tls = require('node:tls');
const ours = require('..');
const { assert, certs, listen, useCleanup } = require('./helpers');

const dir = certs.path('large');
const key = fs.readFileSync(path.join(dir, 'leaf.key'));
const cert = fs.readFileSync(path.join(dir, 'leaf-many-names.pem'));
const ca = fs.readFileSync(path.join(dir, 'root.pem'));

function outcome(socket) {
  return new Promise((resolve) => {
    socket.once('secureConnect', () => resolve({ secure: true, protocol: socket.getProtocol() }));
    socket.once('error', (err) => resolve({ error: err.code }));
  });
}

describe('handshake messages longer than one record', function () {
  const track = useCleanup();

  it('createSecureContext refuses a chain whose Certificate message can never be sent', function () {
    assert.throws(() => ours.createSecureContext({ key, cert }), { code: 'ERR_MBEDTLS_CHAIN_TOO_LONG' });
  });

  it('a server refuses it at createServer, not on every handshake', function () {
    assert.throws(() => ours.createServer({ key, cert }), { code: 'ERR_MBEDTLS_CHAIN_TOO_LONG' });
  });

  it('a client refuses it as its own certificate at connect', function () {
    assert.throws(() => ours.connect({ port: 1, host: '127.0.0.1', key, cert, ca }),
      { code: 'ERR_MBEDTLS_CHAIN_TOO_LONG' });
  });

  it('a chain that fits is still taken', function () {
    assert.ok(ours.createSecureContext(certs.ecdsa));
  });

  for (const version of ['TLSv1.2', 'TLSv1.3']) {
    // Defect: Mbed TLS 3.6.6 reassembles a handshake message in its input buffer
    // (MBEDTLS_SSL_IN_CONTENT_LEN, 16 KiB) and fails a longer one with -0x7100
    // (Mbed-TLS/mbedtls#10906, #10714); node's client takes it (issue 11: handshake
    // messages longer than one 16 KiB record, received).
    it.skip(`our client receives a ${version} Certificate message of 45 KB from node's server, as node's client`, async function () {
      const views = [];
      for (const impl of [tls, ours]) {
        const server = track.server(tls.createServer({ key, cert, minVersion: version, maxVersion: version },
          (s) => s.end()));
        const port = await listen(server);
        views.push(await outcome(track.socket(impl.connect({ port, host: '127.0.0.1', servername: 'localhost', ca }))));
      }
      assert.deepEqual(views[1], views[0]);
      assert.deepEqual(views[1], { secure: true, protocol: version });
    });
  }
});
