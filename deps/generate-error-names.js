// Writes lib/mbedtls-errors.json: every MBEDTLS_ERR_* constant of the pinned Mbed TLS
// headers, as { "-0x7200": "SSL_BAD_INPUT_DATA"... }, for lib/errors.js to turn Mbed TLS
// codes into stable ERR_MBEDTLS_<NAME> codes. Run after deps/fetch-mbedtls.sh when the
// pinned version changes; the output is committed.
'use strict';
const fs = require('fs');
const path = require('path');

const include = path.join(__dirname, 'mbedtls', 'include', 'mbedtls');
const names = {};
for (const file of fs.readdirSync(include).sort()) {
  if (!file.endsWith('.h')) continue;
  const text = fs.readFileSync(path.join(include, file), 'utf8');
  for (const m of text.matchAll(/^#define\s+MBEDTLS_ERR_(\w+)\s+-0x([0-9A-Fa-f]+)/gm)) {
    const key = `-0x${m[2].toUpperCase().padStart(4, '0')}`;
    if (!(key in names)) names[key] = m[1];
  }
}
const sorted = Object.fromEntries(Object.entries(names).sort((a, b) => a[0].localeCompare(b[0])));
fs.writeFileSync(path.join(__dirname, '..', 'lib', 'mbedtls-errors.json'),
  `${JSON.stringify(sorted, null, 1)}\n`);
console.log(`${Object.keys(sorted).length} error names`);
