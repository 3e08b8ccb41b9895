// Runs the C tests: the engine's (build/Release/engine_test, against certs/), then our
// multi-block AES-GCM's (build/Release/gcm_test, against Mbed TLS's GCM test data in
// deps/mbedtls/tests/suites and the stock GCM code).
//   node test/c/run.js [--memcheck] [NAME-FILTER]
// With --memcheck, under valgrind: any leak or invalid access fails the run. A filter runs
// the tests whose names contain it, in both programs.
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const release = path.join(root, 'build', 'Release');
const memcheck = process.argv.includes('--memcheck');
const filter = process.argv.slice(2).filter((a) => !a.startsWith('--'));

const programs = [
  [path.join(release, 'engine_test'), path.join(root, 'certs')],
  [path.join(release, 'gcm_test'), path.join(root, 'deps', 'mbedtls', 'tests', 'suites')],
];

let status = 0;
for (const [binary, dataDir] of programs) {
  const command = memcheck ? 'valgrind' : binary;
  const args = memcheck
    ? ['-q', '--leak-check=full', '--show-leak-kinds=definite,indirect',
      '--errors-for-leak-kinds=definite,indirect', '--error-exitcode=99', binary, dataDir, ...filter]
    : [dataDir, ...filter];
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.error) {
    console.error(`cannot run ${command}: ${result.error.message}`);
    process.exit(1);
  }
  if (result.status === 99) console.error(`valgrind reported errors in ${path.basename(binary)} (see above)`);
  if (result.status !== 0) status = result.status === null ? 1 : result.status;
}
process.exit(status);
