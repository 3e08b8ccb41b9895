// binding.js: loads the native addon with node-gyp-build: a build of this tree (build/Release,
// then build/Debug) if there is one, else the prebuilt N-API binary of the published package
// that matches this platform (prebuilds/linux-x64/mbedtls-stream.glibc.node, from npm run prebuild).
// MBEDTLS_STREAM_ADDON=/path/to/mbedtls_stream.node loads that build instead (scripts/sanitize.sh).
'use strict';
const path = require('path');

function load() {
  if (process.env.MBEDTLS_STREAM_ADDON) return require(path.resolve(process.env.MBEDTLS_STREAM_ADDON));
  try {
    return require('node-gyp-build')(path.join(__dirname, '..'));
  } catch (err) {
    err.message = 'mbedtls-stream\'s native addon is not built and no prebuilt binary matches ' +
      `${process.platform}-${process.arch} (run npm install): ${err.message}`;
    throw err;
  }
}

module.exports = load();
