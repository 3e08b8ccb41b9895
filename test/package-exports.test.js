'use strict';
// What the package gives by its name through package.json `exports`: `require` and `import`
// of 'mbedtls-stream' and 'mbedtls-stream/dtls' (one instance, the same exports), nothing
// deeper, and declarations (index.d.ts, dtls.d.ts) that name every runtime export.

const https = require('node:https');
const path = require('node:path');
const { assert, certs, listen, collect, useCleanup } = require('./helpers');

const ROOT = path.join(__dirname, '..');
const dataKeys = (module) => Object.keys(module).sort();
const namedKeys = (namespace) => Object.keys(namespace).filter((name) => name !== 'default').sort();

describe('package exports: require and import by the package name', () => {
  const cleanup = useCleanup();

  it('import default is the module require gives, and require by name is ..', async () => {
    const esm = await import('mbedtls-stream');
    assert.equal(esm.default, require('mbedtls-stream'));
    assert.equal(require('mbedtls-stream'), require('..'));
  });

  it('named imports are every export of the CommonJS module, with its values', async () => {
    const esm = await import('mbedtls-stream');
    const cjs = require('mbedtls-stream');
    assert.deepEqual(namedKeys(esm), dataKeys(cjs));
    for (const name of namedKeys(esm)) assert.equal(esm[name], cjs[name], name);
  });

  it('mbedtls-stream/dtls: import default and named, require, and .dtls are one module', async () => {
    const esm = await import('mbedtls-stream/dtls');
    const cjs = require('mbedtls-stream/dtls');
    assert.equal(esm.default, cjs);
    assert.equal(require('mbedtls-stream').dtls, cjs);
    assert.deepEqual(namedKeys(esm), dataKeys(cjs));
    for (const name of namedKeys(esm)) assert.equal(esm[name], cjs[name], name);
    assert.equal(typeof esm.DTLSServer, 'function');
  });

  it('mbedtls-stream/package.json is exported; paths inside the package are not', () => {
    assert.equal(require('mbedtls-stream/package.json').name, 'mbedtls-stream');
    for (const deep of ['mbedtls-stream/lib/socket', 'mbedtls-stream/lib/index.js', 'mbedtls-stream/index.mjs']) {
      assert.throws(() => require(deep), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' }, deep);
    }
  });

  it('a client made through import completes a handshake with node https and reads the page', async () => {
    const { connect } = await import('mbedtls-stream');
    const server = cleanup.server(https.createServer(certs.ecdsa, (req, res) => res.end('hello from node https\n')));
    const port = await listen(server);
    const socket = cleanup.socket(connect({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca }));
    socket.end('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    const reply = (await collect(socket)).toString();
    assert.equal(socket.authorized, true);
    assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(reply, /hello from node https\n$/);
  });
});

describe('package exports: the declarations name every runtime export', () => {
  // The TypeScript compiler's own view of index.d.ts and dtls.d.ts, against what the modules export.
  function declaredExports(file) {
    const ts = require('typescript');
    const program = ts.createProgram([path.join(ROOT, file)], {
      strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ['node'],
    });
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(path.join(ROOT, file));
    const diagnostics = ts.getPreEmitDiagnostics(program, source);
    assert.deepEqual(diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')), []);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    // `export =` a namespace: its values (not its interfaces and types) are the module's exports.
    return checker.getExportsOfModule(moduleSymbol)
      .filter((symbol) => symbol.flags & ts.SymbolFlags.Value).map((symbol) => symbol.name).sort();
  }

  it('index.d.ts declares each export of lib/index.js, and no value it lacks', function () {
    this.timeout(60000);
    const declared = declaredExports('index.d.ts');
    const runtime = dataKeys(require('mbedtls-stream'));
    assert.deepEqual(declared.filter((name) => !runtime.includes(name)), []);
    assert.deepEqual(runtime.filter((name) => !declared.includes(name)), []);
  });

  it('dtls.d.ts declares each export of lib/dtls', function () {
    this.timeout(60000);
    const declared = declaredExports('dtls.d.ts');
    const runtime = dataKeys(require('mbedtls-stream/dtls'));
    assert.deepEqual(declared.filter((name) => !runtime.includes(name)), []);
    assert.deepEqual(runtime.filter((name) => !declared.includes(name)), []);
  });
});
