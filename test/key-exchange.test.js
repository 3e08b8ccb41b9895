'use strict';
// The key exchange as node's: the TLS 1.2 static-RSA suites of node's default cipher list
// (AES*-GCM-SHA*, AES*-SHA256, AES*-SHA) against node's client and server and openssl, and
// getEphemeralKeyInfo() reporting the group each side agreed, as node's client reports it.

const tls = require('node:tls');
const ours = require('..');
const { assert, certs, listen, once, useCleanup, startSClient } = require('./helpers');

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
});
