'use strict';
// The key exchange as node's: the TLS 1.2 static-RSA suites of node's default cipher list
// (AES*-GCM-SHA*, AES*-SHA256, AES*-SHA) against node's client and server and openssl,
// getEphemeralKeyInfo() reporting the group each side agreed, as node's client reports it,
// and X25519 (computed by Everest/HACL* inside Mbed TLS) with node's client and server, a
// peer's all-zero (low-order) X25519 key share refused.

const tls = require('node:tls');
const ours = require('..');
const {
  assert, certs, listen, once, useCleanup, startSClient, echo, echoRoundTrip, randomBytes,
  handshakeOutcome, recordRelay,
} = require('./helpers');

const STATIC_RSA = ['AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'AES128-SHA256', 'AES256-SHA256',
  'AES128-SHA', 'AES256-SHA'];

describe('key exchange', function () {
  const track = useCleanup();

  async function connect(server, client, serverOptions, clientOptions) {
    const srv = track.server(server.createServer(serverOptions));
    const port = await listen(srv);
    const accepted = once(srv, 'secureConnection');
    const socket = track.socket(client.connect({
      port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, ...clientOptions,
    }));
    const [serverSocket] = await Promise.all([accepted, once(socket, 'secureConnect')]);
    return { client: socket, server: serverSocket };
  }

  describe('static RSA suites', function () {
    it('are in the default cipher list, as in node\'s', function () {
      const nodeDefault = tls.getCiphers();
      for (const name of STATIC_RSA) {
        assert.ok(nodeDefault.includes(name.toLowerCase()), `node has ${name}`);
        assert.ok(ours.getCiphers().includes(name.toLowerCase()), `we have ${name}`);
      }
    });

    for (const name of STATIC_RSA) {
      it(`${name}: our client with node's server and node's client with ours, by default lists`, async function () {
        // Each end offers its default list; the other end allows this suite only.
        for (const [server, client, serverOptions, clientOptions] of [
          [tls, ours, { ...certs.rsa, ciphers: name, maxVersion: 'TLSv1.2' }, {}],
          [ours, tls, certs.rsa, { ciphers: name, maxVersion: 'TLSv1.2' }],
        ]) {
          const p = await connect(server, client, serverOptions, clientOptions);
          assert.equal(p.client.authorized, true);
          for (const end of [p.client, p.server]) {
            assert.equal(end.getCipher().name, name);
            assert.equal(end.getProtocol(), 'TLSv1.2');
          }
          assert.deepEqual(p.client.getCipher(), p.server.getCipher());
        }
      });
    }

    it('getCipher().version is the oldest version a suite is defined for, as node says', async function () {
      const key = Buffer.alloc(16, 7);
      const psk = {
        server: { pskCallback: () => key },
        client: { pskCallback: () => ({ psk: key, identity: 'id' }), checkServerIdentity: () => undefined },
      };
      for (const [name, keys] of [
        ['AES128-SHA', certs.rsa], ['ECDHE-RSA-AES128-SHA', certs.rsa], ['ECDHE-ECDSA-AES256-SHA', certs.ecdsa],
        ['ECDHE-RSA-AES128-SHA256', certs.rsa], ['ECDHE-ECDSA-AES128-CCM', certs.ecdsa],
        ['PSK-AES128-CBC-SHA', null], ['PSK-AES128-CBC-SHA256', null], ['ECDHE-PSK-AES128-CBC-SHA256', null],
      ]) {
        const pin = { ciphers: name, maxVersion: 'TLSv1.2' };
        const p = await connect(tls, ours, { ...(keys || psk.server), ...pin }, { ...(keys ? {} : psk.client), ...pin });
        assert.equal(p.client.getCipher().name, name);
        assert.deepEqual(p.client.getCipher(), p.server.getCipher(), name);
      }
    });

    it('AES256-SHA256 from openssl s_client to our server', async function () {
      const server = track.server(ours.createServer(certs.rsa, (s) => s.end('hello')));
      const port = await listen(server);
      const { result } = startSClient(track, port, ['-tls1_2', '-cipher', 'AES256-SHA256', '-quiet']);
      const { code, stdout, stderr } = await result;
      assert.equal(code, 0, stderr);
      assert.equal(stdout.toString(), 'hello');
    });
  });

  describe('getEphemeralKeyInfo()', function () {
    const cases = [
      ['TLS 1.3, the default group', {}, {}],
      ['TLS 1.3, a server that takes P-256 only (a HelloRetryRequest)', { ecdhCurve: 'prime256v1' }, {}],
      ['TLS 1.3, a server that takes P-521 only', { ecdhCurve: 'secp521r1' }, {}],
      ['TLS 1.2 ECDHE, the default group', {}, { maxVersion: 'TLSv1.2' }],
      ['TLS 1.2 ECDHE, P-384', { ecdhCurve: 'secp384r1' }, { maxVersion: 'TLSv1.2' }],
      ['TLS 1.2 static RSA (none)', {}, { maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256' }],
    ];
    for (const [what, serverOptions, clientOptions] of cases) {
      it(`on our client is what node's client reports: ${what}`, async function () {
        const infos = [];
        for (const client of [tls, ours]) {
          const p = await connect(tls, client, { ...certs.rsa, ...serverOptions }, clientOptions);
          infos.push(p.client.getEphemeralKeyInfo());
        }
        assert.deepEqual(infos[1], infos[0]);
      });
    }

    it('is { type: \'ECDH\', name: \'X25519\', size: 253 } by default, null on a server', async function () {
      const p = await connect(ours, ours, certs.ecdsa, {});
      assert.deepEqual(p.client.getEphemeralKeyInfo(), { type: 'ECDH', name: 'X25519', size: 253 });
      assert.equal(p.server.getEphemeralKeyInfo(), null);
      const n = await connect(tls, tls, certs.ecdsa, {});
      assert.equal(n.server.getEphemeralKeyInfo(), null);
    });

    it('is {} after a resumed TLS 1.2 session, as node\'s', async function () {
      const infos = [];
      for (const client of [tls, ours]) {
        const server = track.server(tls.createServer({ ...certs.ecdsa, maxVersion: 'TLSv1.2' }));
        const port = await listen(server);
        const options = { port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca };
        const first = track.socket(client.connect(options));
        const session = await once(first, 'session');
        first.destroy();
        const again = track.socket(client.connect({ ...options, session }));
        await once(again, 'secureConnect');
        assert.equal(again.isSessionReused(), true);
        infos.push(again.getEphemeralKeyInfo());
      }
      assert.deepEqual(infos[0], {});
      assert.deepEqual(infos[1], infos[0]);
    });

    it('is null once the socket is destroyed, as node\'s', async function () {
      const p = await connect(tls, ours, certs.ecdsa, {});
      p.client.destroy();
      assert.equal(p.client.getEphemeralKeyInfo(), null);
    });
  });

  describe('X25519', function () {
    const HANDSHAKE = 22;
    for (const version of ['TLSv1.3', 'TLSv1.2']) {
      for (const [serverName, server, clientName, client] of [['our', ours, 'node\'s', tls],
        ['node\'s', tls, 'our', ours]]) {
        it(`${version}: ${clientName} client and ${serverName} server agree on X25519 and exchange data`, async function () {
          // Node's server takes X25519 only and node's client offers it first (with P-256,
          // the certificate's curve, which a TLS 1.2 server needs in the client's list);
          // ours offer X25519 first by default.
          const srv = track.server(server.createServer({
            ...certs.ecdsa, ...(server === tls ? { ecdhCurve: 'X25519' } : {}),
          }, echo));
          const port = await listen(srv);
          const socket = track.socket(client.connect({
            port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca,
            minVersion: version, maxVersion: version,
            ...(client === tls ? { ecdhCurve: 'X25519:P-256' } : {}),
          }));
          await once(socket, 'secureConnect');
          assert.equal(socket.getProtocol(), version);
          assert.deepEqual(socket.getEphemeralKeyInfo(), { type: 'ECDH', name: 'X25519', size: 253 });
          const payload = randomBytes(100000);
          assert.deepEqual(await echoRoundTrip(socket, payload), payload);
        });
      }
    }

    // Replaces the 32 bytes after `marker` in the first matching handshake record from
    // the client with zeros: the u-coordinate 0, a point of order 2 (RFC 7748 section 6.1).
    function zeroKeyShare(handshakeType, marker) {
      const state = { done: false };
      state.alter = (record, entry) => {
        if (!state.done && entry.from === 'client' && entry.type === HANDSHAKE &&
            entry.first === handshakeType) {
          const at = record.indexOf(marker, 5);
          if (at >= 0) {
            record.fill(0, at + marker.length, at + marker.length + 32);
            state.done = true;
          }
        }
        return record;
      };
      return state;
    }

    const cases = [
      // TLS 1.3: ClientHello's key_share entry: group 0x001d, length 32.
      ['TLSv1.3', 'ClientHello key share', 1, Buffer.from([0x00, 0x1d, 0x00, 0x20])],
      // TLS 1.2: ClientKeyExchange, body length 33, point length 32.
      ['TLSv1.2', 'ClientKeyExchange', 16, Buffer.from([0x10, 0x00, 0x00, 0x21, 0x20])],
    ];
    for (const [version, what, handshakeType, marker] of cases) {
      it(`${version}: an all-zero X25519 ${what} is refused by our server, as by node's`, async function () {
        for (const server of [tls, ours]) {
          const srv = track.server(server.createServer({
            ...certs.ecdsa, ...(server === tls ? { ecdhCurve: 'X25519' } : {}),
          }));
          const refused = once(srv, 'tlsClientError');
          const port = await listen(srv);
          const zero = zeroKeyShare(handshakeType, marker);
          const relay = await recordRelay(track, port, { alter: zero.alter });
          const socket = track.socket(tls.connect({
            port: relay.port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca,
            minVersion: version, maxVersion: version, ecdhCurve: 'X25519:P-256',
          }));
          const outcome = await handshakeOutcome(socket);
          assert.ok(zero.done, 'the key share was found and zeroed');
          assert.equal(outcome.secure, false);
          const error = await refused;
          // Node's server says ERR_SSL_FAILED_DURING_DERIVATION and sends illegal_parameter;
          // ours refuses with an Mbed TLS code (the point check of Mbed TLS, before any
          // multiplication) and closes without an alert.
          assert.match(error.code, /^ERR_/);
        }
      });
    }
  });
});
