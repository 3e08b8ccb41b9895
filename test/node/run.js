'use strict';
// Runs node's own test/parallel/test-tls-*.js (fetched by scripts/fetch-node-tests.sh into
// deps/node-tests/) against mbedtls-stream, each in its own process as node's tools/test.py
// runs them, and compares each outcome with the verdicts in test/node/expectations.txt.
//
//   node test/node/run.js [--only name...] [--node-tls] [--update]
//
// --only      run just these tests (file names, with or without .js)
// --node-tls  run with node's own tls (no redirection): the baseline for 'not applicable'
// --update    print an expectations line for every test whose outcome disagrees with its verdict
//
// Ends with "node-suite: N passed, N failed". A test fails the suite when it is listed 'pass'
// and does not pass, when it passes but is not listed 'pass' (so the list stays true), or
// when it is not listed at all. Outputs of failing tests are kept in deps/node-tests/out/.
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const repoRoot = path.resolve(__dirname, '..', '..');
const nodeRoot = path.join(repoRoot, 'deps', 'node-tests');
const testDir = path.join(nodeRoot, 'test', 'parallel');
const outDir = path.join(nodeRoot, 'out');
const expectationsFile = path.join(__dirname, 'expectations.txt');
const preload = path.join(__dirname, 'preload.js');
// Generous: a machine five times slower than a laptop must still pass.
const TIMEOUT_MS = 120_000;

const argv = process.argv.slice(2);
const nodeTls = argv.includes('--node-tls');
const update = argv.includes('--update');
const onlyAt = argv.indexOf('--only');
const only = onlyAt < 0 ? null :
  argv.slice(onlyAt + 1).filter((a) => !a.startsWith('--')).map((n) => (n.endsWith('.js') ? n : `${n}.js`));

// One line per test: "<name> pass", "<name> known failure #<issue>: <reason>",
// "<name> not applicable: <reason>". '#' starts a comment line.
const LINE = /^(\S+)\s+(pass|known failure #(\d+)|not applicable)(?::\s*(.*))?$/;
function readExpectations() {
  const verdicts = new Map();
  if (!fs.existsSync(expectationsFile)) return verdicts;
  fs.readFileSync(expectationsFile, 'utf8').split('\n').forEach((line, i) => {
    line = line.trim();
    if (!line || line.startsWith('#')) return;
    const m = LINE.exec(line);
    if (!m) throw new Error(`${expectationsFile}:${i + 1}: cannot parse: ${line}`);
    const verdict = m[2].startsWith('known failure') ? 'known failure' : m[2];
    verdicts.set(m[1], { verdict, issue: m[3] ? Number(m[3]) : null, reason: m[4] || '' });
  });
  return verdicts;
}

// As tools/test.py: the first "// Flags:" line's words go before the test file.
function flagsOf(file) {
  const match = /\/\/\s+Flags:(.*)/.exec(fs.readFileSync(file, 'utf8'));
  return match ? match[1].trim().split(/\s+/).filter(Boolean) : [];
}

// The line most likely to say why a test failed: the first error or assertion line.
function firstErrorLine(output) {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const error = lines.find((l) => /^(\w*Error\b|AssertionError|Error \[|Uncaught|Mismatched|TypeError|RangeError)/.test(l) ||
                                  /\b(ERR_[A-Z_]+|Error:)/.test(l));
  return (error || lines[lines.length - 1] || '').slice(0, 200);
}

function runTest(name, slot) {
  const file = path.join(testDir, name);
  const args = [...flagsOf(file), '-r', preload, file];
  const env = {
    ...process.env,
    // As test.py: each parallel slot gets its own tmpdir (test/.tmp.<id>).
    TEST_THREAD_ID: String(slot),
    TEST_PARALLEL: '1',
    MBEDTLS_STREAM_NODE_SUITE_TLS: nodeTls ? 'node' : 'mbedtls-stream',
  };
  const started = Date.now();
  return new Promise((resolve) => {
    // Its own process group, so a timeout also ends whatever the test spawned.
    const child = spawn(process.execPath, args, { cwd: nodeRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => chunks.push(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { child.kill('SIGKILL'); }
    }, TIMEOUT_MS);
    // Whatever the test left running (an openssl s_server, a child node) goes with it.
    child.on('exit', () => {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* the group is gone */ }
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const output = Buffer.concat(chunks).toString('utf8');
      let outcome;
      if (timedOut) outcome = 'timeout';
      else if (code === 0 && /^1\.\.0 # Skipped:/m.test(output)) outcome = 'skip';
      else if (code === 0) outcome = 'pass';
      else outcome = 'fail';
      const skipped = /^1\.\.0 # Skipped:\s*(.*)$/m.exec(output);
      resolve({
        name, outcome, output, seconds: (Date.now() - started) / 1000,
        why: outcome === 'skip' ? `skipped: ${skipped[1]}` :
          outcome === 'timeout' ? `timed out after ${TIMEOUT_MS / 1000} s` :
            outcome === 'fail' ? `${signal ? `killed by ${signal}; ` : `exit ${code}; `}${firstErrorLine(output)}` : '',
      });
    });
  });
}

function suggestion(result) {
  if (result.outcome === 'pass') return `${result.name} pass`;
  if (nodeTls) return `${result.name} not applicable: fails with node:tls on this machine`;
  return `${result.name} known failure #10: ${result.why}`;
}

async function main() {
  if (!fs.existsSync(testDir)) {
    console.error(`node-suite: ${testDir} is missing; run scripts/fetch-node-tests.sh first`);
    process.exit(2);
  }
  const verdicts = readExpectations();
  let names = fs.readdirSync(testDir).filter((n) => /^test-tls-.*\.js$/.test(n)).sort();
  if (only) {
    const unknown = only.filter((n) => !names.includes(n));
    if (unknown.length) {
      console.error(`node-suite: no such test: ${unknown.join(', ')}`);
      process.exit(2);
    }
    names = only;
  }
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });

  const parallel = Math.max(1, Math.min(2, os.availableParallelism ? os.availableParallelism() : os.cpus().length));
  const started = Date.now();
  const results = [];
  let next = 0;
  async function worker(slot) {
    while (next < names.length) {
      const name = names[next++];
      const result = await runTest(name, slot);
      const expected = verdicts.get(name);
      const passed = result.outcome === 'pass';
      // With node's own tls the list does not apply: only outcomes are reported.
      result.ok = nodeTls || (expected ? (expected.verdict === 'pass') === passed : false);
      const label = expected ? expected.verdict + (expected.issue ? ` #${expected.issue}` : '') : 'not listed';
      const mark = result.ok ? 'ok  ' : 'FAIL';
      console.log(`${mark} ${result.outcome.padEnd(7)} ${name} (${result.seconds.toFixed(1)} s; listed: ${label})` +
                  (result.why ? ` ${result.why}` : ''));
      if (!passed) fs.writeFileSync(path.join(outDir, name.replace(/\.js$/, '.log')), result.output);
      results.push(result);
    }
  }
  await Promise.all(Array.from({ length: parallel }, (_, i) => worker(i)));
  results.sort((a, b) => a.name.localeCompare(b.name));

  const counts = { pass: 0, 'known failure': 0, 'not applicable': 0 };
  for (const name of names) {
    const expected = verdicts.get(name);
    if (expected) counts[expected.verdict]++;
  }
  const outcomes = {};
  for (const r of results) outcomes[r.outcome] = (outcomes[r.outcome] || 0) + 1;
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  console.log(`node-suite: ${nodeTls ? "node's own tls" : 'mbedtls-stream'}, ${names.length} tests in ${seconds} s, ` +
              `${parallel} at a time; outcomes: ${Object.entries(outcomes).map(([k, v]) => `${v} ${k}`).join(', ')}`);
  if (!nodeTls) {
    console.log(`node-suite: listed ${counts.pass} pass, ${counts['known failure']} known failure, ` +
                `${counts['not applicable']} not applicable`);
  }
  if (update) {
    const changes = results.filter((r) => !r.ok || (nodeTls && r.outcome !== 'pass'));
    console.log(`node-suite: ${changes.length} suggested expectations line(s):`);
    for (const r of changes) console.log(suggestion(r));
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(`node-suite: ${results.length - failed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
