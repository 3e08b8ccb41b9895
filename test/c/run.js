// Runs the engine's C tests (build/Release/engine_test) against certs/.
// With --memcheck, under valgrind: any leak or invalid access fails the run.
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const binary = path.join(root, 'build', 'Release', 'engine_test');
const certs = path.join(root, 'certs');
const memcheck = process.argv.includes('--memcheck');
const filter = process.argv.slice(2).filter((a) => !a.startsWith('--'));

const command = memcheck ? 'valgrind' : binary;
const args = memcheck
  ? ['-q', '--leak-check=full', '--show-leak-kinds=definite,indirect',
    '--errors-for-leak-kinds=definite,indirect', '--error-exitcode=99', binary, certs, ...filter]
  : [certs, ...filter];
const result = spawnSync(command, args, { stdio: 'inherit' });
if (result.error) {
  console.error(`cannot run ${command}: ${result.error.message}`);
  process.exit(1);
}
if (result.status === 99) console.error('valgrind reported errors (see above)');
process.exit(result.status === null ? 1 : result.status);
