// deps/install.js: package.json's install script. It keeps a native addon that loads and was
// built with the profile asked for, else fetches Mbed TLS and builds one:
//
//   npm install                            the default profile
//   npm install --mbedtls_profile=small    4 KiB records (deps/build-profile.js)
//   npm install --build-from-source        build whatever is there
//
// npm hands --mbedtls_profile=NAME to this script as npm_config_mbedtls_profile, and node-gyp
// (run from here) turns that into the gyp variable deps/mbedtls.gyp reads. The addon kept is
// the one node-gyp-build loads, as lib/binding.js does: a build of this tree, else the
// prebuilt binary of the published package, which has the default profile; so with
// another profile a prebuilt binary is never used. Bash, curl and a compiler are needed only
// when a build is.
'use strict';

const { spawnSync } = require('child_process');
const path = require('path');
const { definesOf } = require('./build-profile');

const root = path.join(__dirname, '..');

function fail(message) {
  console.error(`mbedtls-stream: ${message}`);
  process.exit(1);
}

// The profile of the addon node-gyp-build loads from this tree, or null when none loads. In
// a child process, as node-gyp-build's own test: a binary that fails to load (another
// platform's, a partial build) must not take the install down with it.
function loadableProfile() {
  let loader;
  try {
    loader = require.resolve('node-gyp-build', { paths: [root] });
  } catch {
    return null;
  }
  const source = `process.stdout.write(String(require(${JSON.stringify(loader)})(${JSON.stringify(root)}).constants.PROFILE))`;
  const child = spawnSync(process.execPath, ['-e', source], { cwd: root, encoding: 'utf8' });
  return child.status === 0 && child.stdout ? child.stdout : null;
}

function run(command, args) {
  const child = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (child.error) fail(`${command}: ${child.error.message}`);
  if (child.status !== 0) process.exit(child.status === null ? 1 : child.status);
}

// node-gyp as node-gyp-build finds it: this package's own (a checkout's devDependency), else
// the one npm puts on the PATH of install scripts.
function nodeGyp() {
  try {
    const pkg = require.resolve('node-gyp/package.json', { paths: [root] });
    const { bin } = require(pkg);
    return [process.execPath, [path.join(path.dirname(pkg), typeof bin === 'string' ? bin : bin['node-gyp'])]];
  } catch {
    return [process.platform === 'win32' ? 'node-gyp.cmd' : 'node-gyp', []];
  }
}

const profile = process.env.npm_config_mbedtls_profile || 'default';
try {
  definesOf(profile);
} catch (err) {
  fail(err.message.replace(/^mbedtls-stream: /, ''));
}

if (process.env.npm_config_build_from_source !== 'true') {
  const found = loadableProfile();
  if (found === profile) process.exit(0);
  if (found !== null) console.error(`mbedtls-stream: the addon here has the ${found} profile; building the ${profile} one`);
}
run('bash', [path.join('deps', 'fetch-mbedtls.sh')]);
const [command, args] = nodeGyp();
run(command, [...args, 'rebuild']);
