'use strict';
// The small build profile (`npm install --mbedtls_profile=small`, deps/build-profile.js): Mbed
// TLS's record buffers hold 4 KiB of content, our client asks its server for records that
// small (max_fragment_length, RFC 6066, in TLS 1.2 and 1.3: deps/patches/0011; in TLS 1.3 Mbed
// TLS also sends record_size_limit, RFC 8449), and our server honours what its clients ask.
// Against real peers, through a relay that reads every record header: node's tls and
// `openssl s_server` / `s_client`, TLS 1.2 and 1.3, 64 KiB each way; memory per connection;
// and what a peer that sends 16 KiB records anyway gets.
//
// It needs an addon built with that profile: scripts/test-small-profile.sh builds one in a
// copy of the checkout and runs this file there with --forbid-pending. With the default
// build every test here is pending, and says why.

const tls = require('node:tls');
const ours = require('..');
const dtls = require('../dtls');
const binding = require('../lib/binding');
const { SWEEP_MS } = require('../lib/idle-trim');
const {
  assert, certs, listen, once, readBytes, useCleanup, startSServer, sServerCertArgs, startSClient,
  recordRelay,
} = require('./helpers');

const SMALL = ours.buildProfile === 'small';
const RECORD = 4096;
// The most a protected record adds to its content: TLS 1.2 AES-GCM 24 bytes (explicit nonce and
// tag), TLS 1.3 the content type, padding (none from node or OpenSSL, up to 15 from Mbed TLS)
// and the tag. Far below what a 16 KiB record would show.
const EXPANSION = 64;
// The goal of the profile (issue 13): what an idle connection holds, client and server.
const IDLE_BOUND = 20 * 1024;
// Mbed TLS's two record buffers at their full length: 2 x 4.4 KB here (16.7 KB each by default).
const RECORD_BUFFERS_BOUND = 2 * 5 * 1024;
const HANDSHAKE = 22;
const APPLICATION_DATA = 23;
const CLIENT_HELLO = 1;
const SERVER_HELLO = 2;
const MAX_FRAGMENT_LENGTH = 1; // extension numbers
const RECORD_SIZE_LIMIT = 28;
const MFL_4096 = 4; // RFC 6066's code for 2^12

// 64 KiB of digits: many records each way, and nothing s_server or s_client reads as a command.
const PAYLOAD = Buffer.from(Array.from({ length: 13108 }, (_, i) => String(i % 100000).padStart(5, '0'))
  .join('').slice(0, 65536));
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The extensions of a ClientHello or ServerHello record in the clear: Map(type -> data).
function helloExtensions(record) {
  const body = record.subarray(5);
  let at = 4 + 2 + 32; // message header, version, random
  at += 1 + body[at]; // session id
  if (body[0] === CLIENT_HELLO) {
    at += 2 + body.readUInt16BE(at); // cipher suites
    at += 1 + body[at]; // compression methods
  } else {
    at += 2 + 1; // cipher suite, compression method
  }
  const extensions = new Map();
  const end = at + 2 + body.readUInt16BE(at);
  for (at += 2; at < end; at += 4 + body.readUInt16BE(at + 2)) {
    extensions.set(body.readUInt16BE(at), body.subarray(at + 4, at + 4 + body.readUInt16BE(at + 2)));
  }
  return extensions;
}

// A relay to `port` that keeps the first ClientHello and ServerHello records it passes on.
async function helloRelay(track, port) {
  const hellos = {};
  const relay = await recordRelay(track, port, {
    alter(record, entry) {
      if (entry.type === HANDSHAKE && (entry.first === CLIENT_HELLO || entry.first === SERVER_HELLO)) {
        hellos[entry.from] = hellos[entry.from] || record;
      }
      return record;
    },
  });
  return { ...relay, hellos };
}

// Every record each way but the ClientHello carries at most RECORD bytes of content, and the
// data took many of them: the 4 KiB limit was kept on the wire.
function assertSmallRecords(records) {
  for (const from of ['client', 'server']) {
    const mine = records.filter((r) => r.from === from && !(r.type === HANDSHAKE && r.first === CLIENT_HELLO));
    for (const record of mine) {
      assert.ok(record.length <= RECORD + EXPANSION, `the ${from} sent a ${record.length}-byte record`);
    }
    const data = mine.filter((r) => r.type === APPLICATION_DATA);
    assert.ok(data.length >= PAYLOAD.length / RECORD, `the ${from} sent ${data.length} data records`);
  }
}

// Our ClientHello asks for 4096 (max_fragment_length; record_size_limit too when it offers
// TLS 1.3); a TLS 1.2 ServerHello grants it.
function assertAsked(hellos, version) {
  const asked = helloExtensions(hellos.client);
  assert.deepEqual(asked.get(MAX_FRAGMENT_LENGTH), Buffer.from([MFL_4096]), 'max_fragment_length asked for');
  if (version === 'TLSv1.3') {
    assert.deepEqual(asked.get(RECORD_SIZE_LIMIT), Buffer.from([RECORD >> 8, 0]), 'record_size_limit sent');
  } else {
    assert.deepEqual(helloExtensions(hellos.server).get(MAX_FRAGMENT_LENGTH), Buffer.from([MFL_4096]),
      'max_fragment_length granted');
  }
}

// Waits until the socket's memory is at most `bound`: the idle trim comes 1 to 2 sweeps
// after the last activity, later on a loaded machine; the test's own timeout is the limit.
async function trimmed(socket, bound) {
  while (socket.memoryUsage().current > bound) await delay(SWEEP_MS / 4);
  return socket.memoryUsage().current;
}

// A socket's memory once idle, given what it held right after its handshake: at most
// IDLE_BOUND, and the record buffers it gave back (all that the trim takes from a connection
// that moved no data yet) at most RECORD_BUFFERS_BOUND.
async function assertIdleMemory(socket, afterHandshake, who) {
  while (socket.memoryUsage().current >= afterHandshake) await delay(SWEEP_MS / 4);
  const idle = socket.memoryUsage().current;
  assert.ok(idle <= IDLE_BOUND, `${who}: ${idle} bytes idle`);
  const buffers = afterHandshake - idle;
  assert.ok(buffers > 0 && buffers <= RECORD_BUFFERS_BOUND, `${who}: record buffers of ${buffers} bytes`);
  return idle;
}

const title = SMALL ? 'the small build profile'
  : 'the small build profile (pending: this addon was built with the default profile; ' +
    'bash scripts/test-small-profile.sh builds the small one and runs these)';

(SMALL ? describe : describe.skip)(title, function () {
  this.timeout(60000);
  const track = useCleanup();

  it('the addon says it was built with the small profile, 4096-byte records', () => {
    assert.equal(ours.buildProfile, 'small');
    assert.equal(binding.constants.PROFILE, 'small');
    assert.equal(binding.constants.RECORD_CONTENT_LENGTH, RECORD);
  });

  for (const version of ['TLSv1.2', 'TLSv1.3']) {
    describe(`${version}: our client`, () => {
      it('with a node tls server: max_fragment_length 4096 asked and kept, 64 KiB each way intact', async () => {
        const server = track.server(tls.createServer({ ...certs.ecdsa, minVersion: version, maxVersion: version },
          (socket) => socket.pipe(socket)));
        const relay = await helloRelay(track, await listen(server));
        const client = track.socket(ours.connect({ port: relay.port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca }));
        await once(client, 'secureConnect');
        assert.equal(client.getProtocol(), version);
        const echoed = readBytes(client, PAYLOAD.length);
        client.write(PAYLOAD);
        assert.ok((await echoed).equals(PAYLOAD));
        assertAsked(relay.hellos, version);
        assertSmallRecords(relay.records);
      });

      it(`with openssl s_server: 64 KiB each way intact within 4 KiB records${version === 'TLSv1.3' ? ', offering TLS 1.3 only' : ''}`, async () => {
        const flag = version === 'TLSv1.2' ? '-tls1_2' : '-tls1_3';
        const { child, port } = await startSServer(track, [...sServerCertArgs('ecdsa'), '-naccept', '1', flag]);
        let printed = Buffer.alloc(0);
        const sServerGot = new Promise((resolve) => {
          child.stdout.on('data', (d) => {
            printed = Buffer.concat([printed, d]);
            if (printed.includes(PAYLOAD)) resolve();
          });
        });
        const relay = await helloRelay(track, port);
        const client = track.socket(ours.connect({
          port: relay.port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca,
          // A ClientHello for TLS 1.3 alone asks for it too (deps/patches/0011).
          ...(version === 'TLSv1.3' ? { minVersion: 'TLSv1.3' } : {}),
        }));
        await once(client, 'secureConnect');
        assert.equal(client.getProtocol(), version);
        const received = readBytes(client, PAYLOAD.length);
        child.stdin.write(PAYLOAD);
        assert.ok((await received).equals(PAYLOAD));
        client.write(PAYLOAD);
        await sServerGot;
        assertAsked(relay.hellos, version);
        assertSmallRecords(relay.records);
      });

      it(`idle, it holds at most ${IDLE_BOUND} bytes (a node tls server), and data flows again`, async () => {
        const server = track.server(tls.createServer({ ...certs.ecdsa, minVersion: version, maxVersion: version },
          (socket) => socket.pipe(socket)));
        const client = track.socket(ours.connect({ port: await listen(server), host: '127.0.0.1', servername: 'localhost', ca: certs.ca }));
        await once(client, 'secureConnect');
        const idle = await assertIdleMemory(client, client.memoryUsage().current, 'client');
        const echoed = readBytes(client, PAYLOAD.length);
        client.write(PAYLOAD);
        assert.ok((await echoed).equals(PAYLOAD));
        assert.equal(await trimmed(client, idle), idle);
      });
    });

    describe(`${version}: our server`, () => {
      it('with our client: 64 KiB each way intact within 4 KiB records; idle, both hold at most 20 KiB', async () => {
        const server = track.server(ours.createServer({ ...certs.ecdsa, minVersion: version, maxVersion: version },
          (socket) => socket.pipe(socket)));
        const accepted = once(server, 'secureConnection');
        const relay = await helloRelay(track, await listen(server));
        const client = track.socket(ours.connect({ port: relay.port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca }));
        const [socket] = await Promise.all([accepted, once(client, 'secureConnect')]);
        assert.equal(socket.getProtocol(), version);
        const afterHandshake = [socket.memoryUsage().current, client.memoryUsage().current];
        await Promise.all([assertIdleMemory(socket, afterHandshake[0], 'server'),
          assertIdleMemory(client, afterHandshake[1], 'client')]);
        const echoed = readBytes(client, PAYLOAD.length);
        client.write(PAYLOAD);
        assert.ok((await echoed).equals(PAYLOAD));
        assertAsked(relay.hellos, version);
        assertSmallRecords(relay.records);
      });

      it('with a node tls client: idle at most 20 KiB; records of 4 KiB arrive, a 16 KiB one is refused with record_overflow', async () => {
        const server = track.server(ours.createServer({ ...certs.ecdsa, minVersion: version, maxVersion: version }));
        const accepted = once(server, 'secureConnection');
        const port = await listen(server);
        const client = track.socket(tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca }));
        const clientError = once(client, 'error');
        const [socket] = await Promise.all([accepted, once(client, 'secureConnect')]);
        await assertIdleMemory(socket, socket.memoryUsage().current, 'server');
        // node never asks for small records: what it writes at once goes in records of up to
        // 16 KiB. One of 4 KiB fits.
        const first = PAYLOAD.subarray(0, RECORD);
        const arrived = readBytes(socket, first.length);
        client.write(first);
        assert.ok((await arrived).equals(first));
        const serverError = once(socket, 'error');
        client.write(PAYLOAD);
        const err = await serverError;
        assert.equal(err.code, 'ERR_SSL_PACKET_LENGTH_TOO_LONG');
        assert.match(err.message, /longer than this build takes \(4096 bytes of content/);
        assert.match(err.hint, /--mbedtls_profile=small/);
        const peerErr = await clientError;
        assert.equal(peerErr.code, 'ERR_SSL_TLSV1_ALERT_RECORD_OVERFLOW');
        // The server serves on.
        const next = track.socket(tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca }));
        await once(next, 'secureConnect');
      });
    });
  }

  it('our server with openssl s_client -tls1_2 -maxfraglen 4096: 64 KiB each way intact', async () => {
    const server = track.server(ours.createServer(certs.ecdsa, (socket) => {
      socket.pipe(socket);
      socket.on('error', () => {});
    }));
    const relay = await helloRelay(track, await listen(server));
    const { child, result } = startSClient(track, relay.port, [
      '-tls1_2', '-maxfraglen', '4096', '-servername', 'localhost', '-CAfile', certs.path('ca.pem'), '-quiet',
    ]);
    // -quiet implies -ign_eof: s_client stays until it is ended, once it printed the echo.
    let printed = Buffer.alloc(0);
    const echoed = new Promise((resolve) => {
      child.stdout.on('data', (d) => {
        printed = Buffer.concat([printed, d]);
        if (printed.includes(PAYLOAD)) resolve();
      });
    });
    child.stdin.write(PAYLOAD);
    await Promise.race([echoed, result.then(({ code, stderr }) => {
      throw new Error(`s_client exited (${code}) before the echo came back: ${stderr}`);
    })]);
    child.kill();
    await result;
    assert.deepEqual(helloExtensions(relay.hellos.server).get(MAX_FRAGMENT_LENGTH), Buffer.from([MFL_4096]),
      'max_fragment_length granted');
    assertSmallRecords(relay.records);
  });

  it('our server with openssl s_client -tls1_3 -maxfraglen 4096: declined in TLS 1.3, so its 16 KiB records are refused', async () => {
    const server = track.server(ours.createServer(certs.ecdsa));
    const serverError = new Promise((resolve) => {
      server.on('secureConnection', (socket) => socket.on('error', resolve));
    });
    const { child, result } = startSClient(track, await listen(server), [
      '-tls1_3', '-maxfraglen', '4096', '-servername', 'localhost', '-CAfile', certs.path('ca.pem'), '-quiet',
    ]);
    child.stdin.on('error', () => {}); // s_client may be gone before all is written
    child.stdin.write(PAYLOAD);
    const err = await serverError;
    assert.equal(err.code, 'ERR_SSL_PACKET_LENGTH_TOO_LONG');
    child.kill();
    await result;
  });

  it('DTLS: our client and server handshake and exchange messages', async () => {
    const server = track.server(dtls.createServer(certs.ecdsa, (socket) => {
      socket.on('message', (message) => socket.send(message));
    }));
    await once(server.listen(0, '127.0.0.1'), 'listening');
    const client = track.socket(dtls.connect({
      host: '127.0.0.1', port: server.address().port, servername: 'localhost', ca: certs.ca,
    }));
    await once(client, 'secureConnect');
    const message = PAYLOAD.subarray(0, 1000);
    const answer = once(client, 'message');
    client.send(message);
    assert.ok((await answer).equals(message));
  });
});
