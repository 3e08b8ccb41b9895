// Runs the C tests: the engine's (build/Release/engine_test, against certs/), our P-256
// verification's against Mbed TLS's own (build/Release/p256_verify_test, which also reads
// Mbed TLS's test vectors from the fetched tree) and X25519 through HACL
// (build/Release/x25519_test). With --memcheck, under valgrind: any leak
// or invalid access fails the run. A name filter (argument) goes to both.
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const certs = path.join(root, 'certs');
const vectors = path.join(root, 'deps', 'mbedtls', 'tests', 'suites', 'test_suite_ecdsa.data');
const memcheck = process.argv.includes('--memcheck');
const filter = process.argv.slice(2).filter((a) => !a.startsWith('--'));

const programs = [
  ['engine_test', [certs, ...filter]],
  ['p256_verify_test', [certs, vectors, ...filter]],
  ['x25519_test', [...filter]],
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
  if (result.status === 99) console.error('valgrind reported errors (see above)');
  if (result.status !== 0) status = result.status === null ? 1 : result.status;
}
process.exit(status);
