// Prints Mbed TLS's library sources for deps/mbedtls.gyp (gyp has no glob of its own).
'use strict';
const fs = require('fs');
const path = require('path');

const dir = path.join(__dirname, 'mbedtls', 'library');
if (!fs.existsSync(dir)) {
  console.error('deps/mbedtls is missing: run deps/fetch-mbedtls.sh first');
  process.exit(1);
}
console.log(fs.readdirSync(dir).filter((f) => f.endsWith('.c')).sort()
  .map((f) => `mbedtls/library/${f}`).join('\n'));
