// binding.js: loads the compiled addon (build/Release, or build/Debug for development).
// MBEDTLS_STREAM_ADDON=/path/to/mbedtls_stream.node loads that build instead (scripts/sanitize.sh).
'use strict';
const path = require('path');

function load() {
  if (process.env.MBEDTLS_STREAM_ADDON) return require(path.resolve(process.env.MBEDTLS_STREAM_ADDON));
  const root = path.join(__dirname, '..');
  let firstError;
  for (const dir of ['Release', 'Debug']) {
    try {
      return require(path.join(root, 'build', dir, 'mbedtls_stream.node'));
    } catch (err) {
      if (err.code !== 'MODULE_NOT_FOUND') throw err;
      firstError = firstError || err;
    }
  }
  firstError.message = `mbedtls-stream's native addon is not built (run npm install): ${firstError.message}`;
  throw firstError;
}

module.exports = load();
