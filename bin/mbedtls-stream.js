#!/usr/bin/env node
// The `mbedtls-stream` command (package.json "bin"): see lib/cli/ and `mbedtls-stream --help`.
'use strict';

require('../lib/cli').main(process.argv.slice(2)).then((status) => {
  process.exitCode = status;
}, (err) => {
  process.stderr.write(`mbedtls-stream: ${err && err.stack ? err.stack : err}\n`);
  process.exitCode = 1;
});
