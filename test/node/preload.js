'use strict';
// Preloaded (node -r) into each of node's own test-tls-*.js files by test/node/run.js:
// makes their require('tls') / require('node:tls') return mbedtls-stream, and points
// node's test/common at the system's openssl command-line tool.
//
// mbedtls-stream's own files still get node's tls (lib/ builds on it), and so does
// everything when MBEDTLS_STREAM_NODE_SUITE_TLS=node (run.js --node-tls, the baseline).
const Module = require('module');
const path = require('path');
const { spawnSync } = require('child_process');

const repoRoot = path.resolve(__dirname, '..', '..');
const ourIndex = path.join(repoRoot, 'lib', 'index.js');
// Whose require('tls') stays node's: our library and the packages it depends on.
const ownDirs = [path.join(repoRoot, 'lib') + path.sep, path.join(repoRoot, 'node_modules') + path.sep];
const useOurs = process.env.MBEDTLS_STREAM_NODE_SUITE_TLS !== 'node';

// Node's test/common looks for an 'openssl-cli' binary beside the node executable (a node
// build tree has one); outside a build tree, the system's openssl plays its part.
const commonIndex = path.join(repoRoot, 'deps', 'node-tests', 'test', 'common', 'index.js');
function systemOpenssl() {
  const found = spawnSync('openssl', ['version']);
  return found.status === 0 && !found.error ? 'openssl' : false;
}
let commonPatched = false;

const originalLoad = Module._load;
Module._load = function load(request, parent, isMain) {
  if (useOurs && (request === 'tls' || request === 'node:tls')) {
    const from = parent && parent.filename;
    if (!from || !ownDirs.some((dir) => from.startsWith(dir))) {
      return originalLoad.call(this, ourIndex, parent, isMain);
    }
  }
  const loaded = originalLoad.call(this, request, parent, isMain);
  if (!commonPatched && require.cache[commonIndex] && loaded === require.cache[commonIndex].exports) {
    commonPatched = true;
    let opensslCli = null;
    Object.defineProperty(loaded, 'opensslCli', {
      configurable: true,
      enumerable: true,
      get() {
        if (opensslCli === null) opensslCli = systemOpenssl();
        return opensslCli;
      },
    });
  }
  return loaded;
};
