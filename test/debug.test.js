'use strict';
// The debug option: Mbed TLS's debug output as 'debug' events, with node:tls as the peer.

const tls = require('node:tls');
const ours = require('..');
const { assert, certs, listen, once, useCleanup } = require('./helpers');

// "file:line: |level| text", as Mbed TLS's own programs print it.
const LINE = /^[\w.-]+:\d{4,}: \|([1-4])\| /;

describe('debug output', () => {
  const cleanup = useCleanup();

  async function nodeServer(options = {}) {
    const server = cleanup.server(tls.createServer({ ...certs.ecdsa, ...options }, (s) => s.end('done')));
    return listen(server);
  }

  // Connects our client with `options`; resolves with the debug lines and the events seen, in
  // order, once the connection has closed.
  async function ourClient(port, options) {
    const seen = [];
    const socket = cleanup.socket(ours.connect({
      port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, ...options,
    }));
    socket.on('debug', (line) => seen.push(line));
    socket.on('secureConnect', () => seen.push('<secureConnect>'));
    socket.on('error', (err) => seen.push(`<error ${err.code}>`));
    socket.resume();
    await new Promise((resolve) => socket.once('close', resolve));
    return seen;
  }

  for (const version of ['TLSv1.2', 'TLSv1.3']) {
    it(`debug: 2 emits the handshake's state changes, in order, ${version}`, async () => {
      const port = await nodeServer({ minVersion: version, maxVersion: version });
      const seen = await ourClient(port, { debug: 2 });
      const lines = seen.filter((l) => l !== '<secureConnect>');
      assert.ok(lines.length > 20, `only ${lines.length} lines`);
      for (const line of lines) {
        const match = LINE.exec(line);
        assert.ok(match, `not a debug line: ${JSON.stringify(line)}`);
        assert.ok(Number(match[1]) <= 2, `a level-${match[1]} line at debug: 2`);
        assert.ok(!line.includes('\n'));
      }
      // Mbed TLS's client states, each before the next, and all before 'secureConnect'.
      const states = ['MBEDTLS_SSL_CLIENT_HELLO', 'MBEDTLS_SSL_SERVER_HELLO',
        'MBEDTLS_SSL_SERVER_CERTIFICATE', 'MBEDTLS_SSL_CLIENT_FINISHED', 'MBEDTLS_SSL_HANDSHAKE_WRAPUP'];
      const positions = states.map((state) => seen.findIndex((l) => l.endsWith(`client state: ${state}`)));
      for (const [i, position] of positions.entries()) assert.ok(position >= 0, `no ${states[i]}`);
      assert.deepEqual([...positions].sort((a, b) => a - b), positions);
      assert.ok(positions[positions.length - 1] < seen.indexOf('<secureConnect>'));
      // Lines of reading the data, and of our close_notify after the handshake.
      assert.ok(seen.some((l) => l.endsWith('=> read')), 'no line for reading data');
      const after = seen.slice(seen.indexOf('<secureConnect>'));
      assert.ok(after.some((l) => l.endsWith('=> write close notify')), 'no line for close_notify');
    });
  }

  it('debug: 4 includes verbose lines; debug: 1 keeps to errors', async () => {
    const port = await nodeServer();
    const verbose = await ourClient(port, { debug: 4 });
    assert.ok(verbose.some((l) => LINE.exec(l)?.[1] === '4'));
    // An unknown CA fails the handshake: level 1 reports the failure and nothing else.
    const seen = await ourClient(port, { debug: 1, ca: certs.otherCa });
    assert.equal(seen[seen.length - 1], '<error UNABLE_TO_GET_ISSUER_CERT_LOCALLY>');
    const lines = seen.slice(0, -1);
    assert.ok(lines.some((l) => l.includes('x509_verify_cert')), lines.join('\n'));
    for (const line of lines) assert.equal(LINE.exec(line)?.[1], '1', line);
  });

  it('emits nothing at debug: 0 or without the option', async () => {
    const port = await nodeServer();
    for (const options of [{}, { debug: 0 }, { debug: undefined }]) {
      const seen = await ourClient(port, options);
      assert.deepEqual(seen, ['<secureConnect>']);
    }
  });

  it('a server with debug emits (line, socket) for each connection', async () => {
    const server = cleanup.server(ours.createServer({ ...certs.ecdsa, debug: 2 }, (s) => s.end('done')));
    const lines = [];
    server.on('debug', (line, socket) => {
      assert.ok(socket instanceof ours.TLSSocket);
      lines.push(line);
    });
    const port = await listen(server);
    const client = cleanup.socket(tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca }));
    client.resume();
    await once(client, 'close');
    assert.ok(lines.some((l) => / \|2\| tls13 server state: MBEDTLS_SSL_CLIENT_HELLO\(1\)$/.test(l)),
      lines.slice(0, 10).join('\n'));
    assert.ok(lines.every((l) => LINE.test(l)));
    // A server without the option emits none.
    const quiet = cleanup.server(ours.createServer(certs.ecdsa, (s) => s.end('done')));
    quiet.on('debug', () => assert.fail('debug line from a server without debug'));
    const quietPort = await listen(quiet);
    const other = cleanup.socket(tls.connect({ port: quietPort, host: '127.0.0.1', servername: 'localhost', ca: certs.ca }));
    other.resume();
    await once(other, 'close');
  });

  it('a socket destroyed from a debug handler stops there, at every stage', async () => {
    const port = await nodeServer();
    // Count the lines of a whole connection, then destroy at each tenth line of another.
    const total = (await ourClient(port, { debug: 3 })).filter((l) => LINE.test(l)).length;
    for (let stop = 1; stop < total; stop += 10) {
      const socket = ours.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, debug: 3 });
      let count = 0;
      socket.on('debug', () => {
        count++;
        assert.ok(!socket.destroyed, 'a debug event after destroy()');
        if (count === stop) socket.destroy();
      });
      socket.on('error', () => {});
      socket.resume();
      await once(socket, 'close');
      assert.equal(count, stop);
    }
  });

  it('a socket destroyed from a debug handler during a write stops there', async () => {
    // A silent TLS 1.2 peer: after the handshake, only our write makes debug lines.
    const server = cleanup.server(tls.createServer({ ...certs.ecdsa, maxVersion: 'TLSv1.2' }));
    const port = await listen(server);
    const socket = cleanup.socket(ours.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, debug: 2 }));
    await once(socket, 'secureConnect');
    const lines = [];
    socket.on('debug', (line) => {
      lines.push(line);
      socket.destroy();
    });
    const written = new Promise((resolve) => socket.write('x', resolve));
    await new Promise((resolve) => socket.once('close', resolve));
    await written;
    assert.equal(lines.length, 1);
    assert.match(lines[0], / \|2\| => write$/);
  });

  it('refuses a debug level that is not 0 to 4, as node refuses numbers', async () => {
    const port = await nodeServer();
    const cases = [['2', 'ERR_INVALID_ARG_TYPE'], [true, 'ERR_INVALID_ARG_TYPE'], [5, 'ERR_OUT_OF_RANGE'],
      [-1, 'ERR_OUT_OF_RANGE'], [1.5, 'ERR_OUT_OF_RANGE'], [NaN, 'ERR_OUT_OF_RANGE']];
    for (const [debug, code] of cases) {
      assert.throws(() => ours.connect({ port, host: '127.0.0.1', ca: certs.ca, debug }), { code });
      assert.throws(() => ours.createServer({ ...certs.ecdsa, debug }), { code });
    }
    assert.throws(() => ours.connect({ port, ca: certs.ca, debug: 7 }),
      { name: 'RangeError', message: 'The value of "options.debug" is out of range. It must be >= 0 && <= 4. Received 7' });
  });
});
