#!/usr/bin/env bash
# Install without a compiler, end to end: builds the prebuilt N-API binary (npm run prebuild),
# packs the package (npm pack), installs the tarball into an empty project with --offline
# and an empty npm cache, under a PATH that holds node and npm only (no cc, c++, gcc, make,
# python3), then requires and imports it there and completes a handshake with node's https
# server each way, and runs the CLI's demo (mbedtls-stream demo). Prints "test-pack: ok"
# and exits 0 on success. Run from .ci/run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "test-pack: npm run prebuild"
npm run prebuild >"$work/prebuild.log" 2>&1 || { cat "$work/prebuild.log"; exit 1; }
ls prebuilds/linux-x64/*.glibc.node

echo "test-pack: npm pack"
tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
tar -tzf "$work/$tarball" >"$work/contents"
for want in package/prebuilds/linux-x64/mbedtls-stream.glibc.node package/index.mjs package/index.d.ts \
  package/dtls.mjs package/dtls.d.ts package/node_modules/node-gyp-build/package.json \
  package/node_modules/node-addon-api/package.json; do
  grep -qx "$want" "$work/contents" || { echo "test-pack: $want is not in $tarball"; exit 1; }
done
if grep -q '^package/build/' "$work/contents"; then echo "test-pack: build/ is in $tarball"; exit 1; fi

# A PATH with node and npm and the shell's basic tools, and no compiler, make or python.
bin=$work/bin
mkdir -p "$bin"
for tool in node npm sh bash env cat mkdir rm ls sed grep uname; do
  ln -s "$(command -v "$tool")" "$bin/$tool"
done
for absent in cc c++ gcc g++ make python3 python; do
  if PATH=$bin command -v "$absent" >/dev/null 2>&1; then echo "test-pack: $absent is on the test PATH"; exit 1; fi
done

project=$work/project
mkdir -p "$project"
cp "$work/$tarball" "$project/"
cd "$project"
echo '{ "name": "consumer", "version": "1.0.0", "private": true }' >package.json
echo "test-pack: npm install $tarball (offline, empty cache, no compiler)"
env -i HOME="$work/home" PATH="$bin" npm_config_cache="$work/cache" \
  npm install --offline --no-audit --no-fund --foreground-scripts --loglevel info "./$tarball" 2>&1 | tee "$work/install.log"
[ "${PIPESTATUS[0]}" -eq 0 ]
# The install script ran (and found the prebuilt binary: without a compiler a build would fail).
grep -q 'run mbedtls-stream@.* install .*deps/install.js' "$work/install.log" \
  || { echo "test-pack: the package's install script did not run"; exit 1; }
test -f node_modules/mbedtls-stream/prebuilds/linux-x64/mbedtls-stream.glibc.node
if [ -e node_modules/mbedtls-stream/build ]; then echo "test-pack: the install compiled (build/ exists)"; exit 1; fi

cp "$root/certs/ca.pem" "$root/certs/server-ecdsa.key" "$root/certs/server-ecdsa-chain.pem" .
cat >client.cjs <<'JS'
const assert = require('assert');
const fs = require('fs');
const https = require('https');
const tls = require('mbedtls-stream');
const { dtls } = tls;
assert.equal(typeof dtls.createServer, 'function');
assert.equal(require('mbedtls-stream/dtls'), dtls);
const server = https.createServer({ key: fs.readFileSync('server-ecdsa.key'), cert: fs.readFileSync('server-ecdsa-chain.pem') },
  (req, res) => res.end('hello from node https\n'));
server.listen(0, '127.0.0.1', () => {
  const socket = tls.connect({ port: server.address().port, host: '127.0.0.1', servername: 'localhost', ca: fs.readFileSync('ca.pem') }, () => {
    assert.equal(socket.authorized, true);
    socket.end('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  });
  let reply = '';
  socket.on('data', (chunk) => { reply += chunk; });
  socket.on('end', () => {
    assert.match(reply, /^HTTP\/1\.1 200 OK/);
    assert.match(reply, /hello from node https\n$/);
    console.log(`require: ${socket.getProtocol()} ${socket.getCipher().name}, ${reply.length} bytes`);
    server.close();
  });
});
JS
cat >client.mjs <<'JS'
import assert from 'node:assert';
import fs from 'node:fs';
import https from 'node:https';
import tls, { connect, dtls } from 'mbedtls-stream';
import dtlsDefault, { DTLSServer } from 'mbedtls-stream/dtls';
assert.equal(tls.connect, connect);
assert.equal(dtlsDefault, dtls);
assert.equal(typeof DTLSServer, 'function');
const server = https.createServer({ key: fs.readFileSync('server-ecdsa.key'), cert: fs.readFileSync('server-ecdsa-chain.pem') },
  (req, res) => res.end('hello from node https\n'));
server.listen(0, '127.0.0.1', () => {
  const socket = connect({ port: server.address().port, host: '127.0.0.1', servername: 'localhost', ca: fs.readFileSync('ca.pem') }, () => {
    assert.equal(socket.authorized, true);
    socket.end('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  });
  let reply = '';
  socket.on('data', (chunk) => { reply += chunk; });
  socket.on('end', () => {
    assert.match(reply, /hello from node https\n$/);
    console.log(`import: ${socket.getProtocol()} ${socket.getCipher().name}, ${reply.length} bytes`);
    server.close();
  });
});
JS
env -i HOME="$work/home" PATH="$bin" node client.cjs
env -i HOME="$work/home" PATH="$bin" node client.mjs
# The CLI the package installs (package.json bin): the demo, our client against node's https
# server, with no checkout's certs/ at hand.
env -i HOME="$work/home" PATH="$bin" node_modules/.bin/mbedtls-stream demo >"$work/demo.log" 2>&1 \
  || { cat "$work/demo.log"; echo "test-pack: mbedtls-stream demo failed"; exit 1; }
grep -q '  . Verifying peer X.509 certificate... ok' "$work/demo.log" \
  || { cat "$work/demo.log"; echo "test-pack: the demo's report lacks the verification"; exit 1; }
echo "demo: $(grep -m1 'Protocol is' "$work/demo.log")"
echo "test-pack: ok"
