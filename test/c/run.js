// Runs the C tests:
//   engine_test       the engine (against certs/)
//   threads_test      the engine on 4 threads at once, sessions sharing configs and moving
//                     between threads (scripts/tsan.sh runs it under ThreadSanitizer)
//   p256_verify_test  our P-256 verification against Mbed TLS's own, and Mbed TLS's ECDSA
//                     test vectors from the fetched tree
//   x25519_test       X25519 through HACL (RFC 7748, Mbed TLS's ladder)
//   gcm_test          our multi-block AES-GCM against Mbed TLS's GCM test data in
//                     deps/mbedtls/tests/suites and the stock GCM code
//
//   node test/c/run.js [--memcheck] [NAME-FILTER]
// With --memcheck, under valgrind: any leak or invalid access fails the run. A filter runs
// the tests whose names contain it, in every program.
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const certs = path.join(root, 'certs');
const suites = path.join(root, 'deps', 'mbedtls', 'tests', 'suites');
const memcheck = process.argv.includes('--memcheck');
const filter = process.argv.slice(2).filter((a) => !a.startsWith('--'));

const programs = [
  ['engine_test', [certs, ...filter]],
  // Under valgrind, which runs one thread at a time, 4 connections of each kind (not 16):
  // what memcheck looks for (leaks, invalid accesses) shows with few; it takes seconds.
  ['threads_test', [...(memcheck ? ['--connections', '4'] : []), certs, ...filter]],
  ['p256_verify_test', [certs, path.join(suites, 'test_suite_ecdsa.data'), ...filter]],
  ['x25519_test', [...filter]],
  ['gcm_test', [suites, ...filter]],
];
let status = 0;
for (const [name, programArgs] of programs) {
  const binary = path.join(root, 'build', 'Release', name);
  const command = memcheck ? 'valgrind' : binary;
  const args = memcheck
    ? ['-q', '--leak-check=full', '--show-leak-kinds=definite,indirect',
      '--errors-for-leak-kinds=definite,indirect', '--error-exitcode=99', binary, ...programArgs]
    : programArgs;
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.error) {
    console.error(`cannot run ${command}: ${result.error.message}`);
    process.exit(1);
  }
  if (result.status === 99) console.error(`valgrind reported errors in ${name} (see above)`);
  if (result.status !== 0) status = result.status === null ? 1 : result.status;
}
process.exit(status);
