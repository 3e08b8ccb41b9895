'use strict';
// TLS 1.3 alerts a client sends between the server's ServerHello and its own Finished,
// refusing the server's flight (a chain it cannot verify, a record that fails
// authentication), while the server already reads under the client handshake traffic keys.
// - Our client protects them under those keys (RFC 8446 5 and 6), after the middlebox
//   compatibility ChangeCipherSpec (RFC 8446 D.4), which goes once: deps/patches/0008.
// - Our server also reads one sent in the clear before the client's first protected record,
//   as OpenSSL's client sends it and OpenSSL's server reads it: deps/patches/0010.
// A relay between client and server logs the records each way; node's server and ours, side
// by side, must name the same alert.

const tls = require('node:tls');
const ours = require('..');
const {
  assert, certs, listen, once, recordRelay, useCleanup, startSClient,
} = require('./helpers');

const CHANGE_CIPHER_SPEC = 20;
const ALERT = 21;
const HANDSHAKE = 22;
const APPLICATION_DATA = 23;
// A protected alert's body holds at least the 2-byte alert, its inner content type and a
// 16-byte AEAD tag (Mbed TLS pads the inner plaintext to a multiple of 16 bytes).
const PROTECTED_ALERT_LENGTH = 2 + 1 + 16;
const SERVERS = [['node\'s', tls], ['our', ours]];

describe('TLS 1.3 alerts refusing the server\'s flight', function () {
  const track = useCleanup();

  // `lib`'s server (node's or ours) serving our test chain in TLS 1.3, with `options`;
  // resolves with { port, refused }: refused resolves with the error of the first handshake it
  // fails.
  async function startServer(lib, options = {}) {
    const server = track.server(lib.createServer({ ...certs.ecdsa, minVersion: 'TLSv1.3', ...options }));
    const refused = once(server, 'tlsClientError');
    return { port: await listen(server), refused };
  }

  const clientRecords = (relay) => relay.records.filter((r) => r.from === 'client');

  describe('our client protects them (deps/patches/0008)', function () {
    // Our client through `relay` to the server; resolves with its error once the relay closed.
    async function connectThrough(relay, options) {
      const socket = track.socket(ours.connect({
        port: relay.port, host: '127.0.0.1', servername: 'localhost', maxVersion: 'TLSv1.3', ...options,
      }));
      const failed = new Promise((resolve) => {
        socket.once('secureConnect', () => resolve(null));
        socket.once('error', resolve);
      });
      const [error] = await Promise.all([failed, relay.closed]);
      return error;
    }

    // ClientHello, then (after the server's flight) the compatibility CCS and the alert under
    // the handshake keys: no alert in the clear.
    function assertProtectedAlert(relay) {
      const sent = clientRecords(relay);
      assert.deepEqual(sent.map((r) => r.type), [HANDSHAKE, CHANGE_CIPHER_SPEC, APPLICATION_DATA]);
      assert.ok(sent[2].length >= PROTECTED_ALERT_LENGTH, `a ${sent[2].length}-byte record`);
      assert.ok(!sent.some((r) => r.type === ALERT));
    }

    for (const [serverName, lib] of SERVERS) {
      it(`refusing ${serverName} server's chain: unknown_ca goes out protected, and the server hears it`, async function () {
        const server = await startServer(lib);
        const relay = await recordRelay(track, server.port);
        const error = await connectThrough(relay, { ca: certs.otherCa });
        assert.equal(error?.code, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
        assertProtectedAlert(relay);
        assert.equal((await server.refused).code, 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA');
      });

      it(`a record of ${serverName} server damaged in transit: bad_record_mac goes out protected, and the server hears it`, async function () {
        const server = await startServer(lib);
        let damaged = false;
        // Flips a bit of the tag of the server's first protected record (EncryptedExtensions).
        const relay = await recordRelay(track, server.port, {
          alter(record, entry) {
            if (entry.from === 'server' && entry.type === APPLICATION_DATA && !damaged) {
              damaged = true;
              record[record.length - 1] ^= 0x01;
            }
            return record;
          },
        });
        const error = await connectThrough(relay, { ca: certs.ca });
        assert.ok(damaged);
        assert.equal(error?.code, 'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC');
        assertProtectedAlert(relay);
        assert.equal((await server.refused).code, 'ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC');
      });
    }

    // Against node's server only: ecdhCurve is node's, our server takes no such option.
    it('refusing node\'s server\'s chain after a HelloRetryRequest: the one CCS went before the second ClientHello', async function () {
      // A server taking only P-384 asks for another key share than our client's first.
      const server = await startServer(tls, { ecdhCurve: 'P-384' });
      const relay = await recordRelay(track, server.port);
      const error = await connectThrough(relay, { ca: certs.otherCa });
      assert.equal(error?.code, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
      const sent = clientRecords(relay);
      assert.deepEqual(sent.map((r) => r.type),
        [HANDSHAKE, CHANGE_CIPHER_SPEC, HANDSHAKE, APPLICATION_DATA]);
      assert.ok(sent[3].length >= PROTECTED_ALERT_LENGTH, `a ${sent[3].length}-byte record`);
      assert.equal((await server.refused).code, 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA');
    });
  });

  describe('our server reads one sent in the clear, as node\'s does (deps/patches/0010)', function () {
    for (const middlebox of [true, false]) {
      for (const [serverName, lib] of SERVERS) {
        it(`openssl s_client${middlebox ? '' : ' -no_middlebox'} refusing ${serverName} server's chain: the server hears unknown_ca`, async function () {
          const server = await startServer(lib);
          const relay = await recordRelay(track, server.port);
          const { result } = startSClient(track, relay.port, [
            '-tls1_3', '-servername', 'localhost', '-CAfile', certs.path('other-ca.pem'),
            '-verify_return_error', ...(middlebox ? [] : ['-no_middlebox']),
          ]);
          const [exit] = await Promise.all([result, relay.closed]);
          assert.notEqual(exit.code, 0);
          assert.match(exit.stderr, /unable to get local issuer certificate/);
          // What makes this case: OpenSSL's client sends its alert in the clear right after
          // its ClientHello (no CCS either way), though the server reads under the client
          // handshake keys by then.
          const sent = clientRecords(relay);
          assert.deepEqual(sent.map((r) => r.type), [HANDSHAKE, ALERT]);
          assert.equal(sent[1].length, 2);
          assert.equal((await server.refused).code, 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA');
        });
      }
    }
  });
});
