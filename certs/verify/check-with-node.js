#!/usr/bin/env node
// certs/verify/check-with-node.js - checks every expectation in cases.json
// against node:tls itself (node is the oracle for the corpus).
//
// For each case a node:tls server on 127.0.0.1 presents the case's chain and a
// node:tls client that trusts only root.pem connects to it; the verdict is the
// client's err.code, or 'ok'. Cases with "sender": "client" are the other way
// round: the client presents the chain and the server (requestCert, trusting
// root.pem) reports socket.authorizationError, or 'ok'.
//
// Usage: node certs/verify/check-with-node.js [--update-readme] [CASE...]
//   Prints "case host expected actual" and exits 1 on any mismatch, or if the
//   table in README.md is out of date with cases.json. --update-readme
//   rewrites that table from cases.json first.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const net = require('node:net');
const tls = require('node:tls');

const DIR = __dirname;
const TIMEOUT_MS = 5000;
const README = path.join(DIR, 'README.md');
const BEGIN = '<!-- cases.json table: begin (node certs/verify/check-with-node.js --update-readme) -->';
const END = '<!-- cases.json table: end -->';

const read = (file) => fs.readFileSync(path.join(DIR, file));
const cases = JSON.parse(read('cases.json'));

// The markdown table README.md carries, derived from cases.json.
function readmeTable() {
  const cell = (s) => String(s).replace(/\|/g, '\\|');
  const rows = cases.map((c) => {
    const crl = c.crl.length ? c.crl.map((f) => `\`${f}\``).join(' + ') : '';
    const who = c.sender === 'client' ? 'client → server' : 'server → client';
    const host = c.host === null ? '' : `\`${c.host}\``;
    const verdict = c.node === 'ok' ? 'ok' : `\`${c.node}\``;
    return `| \`${c.name}\` | \`${c.chain}\` | \`${c.key}\` | ${who} | ${host} | ${crl} | ${verdict} | ${cell(c.note || '')} |`;
  });
  return [
    '| case | chain | key | sent by → verified by | host | crl | node:tls verdict | notes |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

function readmeWithTable(text) {
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md lacks the ${BEGIN} ... ${END} markers`);
  return `${text.slice(0, a + BEGIN.length)}\n${readmeTable()}\n${text.slice(b)}`;
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

// A case's verdict: { code: 'ok' or the node error code (or what else happened),
// message: the client's err.message, or null }.
async function run(c) {
  const ca = read('root.pem');
  const crl = c.crl.map(read);
  const material = { key: read(c.key), cert: read(c.chain) };
  const clientSends = c.sender === 'client';

  let server;
  try {
    server = tls.createServer(clientSends
      ? { key: read('leaf.key'), cert: read('valid.pem'), ca, crl: crl.length ? crl : undefined,
        requestCert: true, rejectUnauthorized: false }
      : { ...material, ...c.senderOptions });
  } catch (err) {
    return { code: `server setup failed: ${err.code || err.message}`, message: err.message };
  }
  server.on('tlsClientError', () => {}); // the client's alert, when it rejects us
  let verdict;
  const serverVerdict = new Promise((resolve) => {
    server.on('secureConnection', (socket) => {
      socket.on('error', () => {});
      // node's server exposes only the code of its verify error
      resolve({ code: socket.authorized ? 'ok' : String(socket.authorizationError), message: null });
      socket.end();
    });
  });

  try {
    const port = await listen(server);
    const options = { host: '127.0.0.1', port, ca };
    if (clientSends) {
      Object.assign(options, material, { servername: 'localhost' }, c.senderOptions);
    } else {
      if (crl.length) options.crl = crl;
      // IP hosts go in `host` (no SNI); names go in `servername`, which is what
      // the default checkServerIdentity then checks the certificate against.
      if (!net.isIP(c.host)) options.servername = c.host;
    }
    const clientVerdict = new Promise((resolve) => {
      const socket = tls.connect(options, () => {
        resolve({ code: 'ok', message: null });
        if (!clientSends) socket.end();
      });
      socket.on('error', (err) => resolve({ code: err.code || 'error without code', message: err.message }));
      socket.on('close', () => resolve({ code: 'closed before the handshake finished', message: null }));
      socket.setTimeout(TIMEOUT_MS, () => {
        resolve({ code: 'timeout', message: null });
        socket.destroy();
      });
      if (clientSends) serverVerdict.then(() => socket.end());
    });
    if (clientSends) {
      verdict = await Promise.race([
        serverVerdict,
        clientVerdict.then((v) => (v.code === 'ok' ? serverVerdict
          : { code: `client: ${v.code}`, message: v.message })),
      ]);
    } else {
      verdict = await clientVerdict;
    }
  } catch (err) {
    verdict = { code: `setup failed: ${err.code || err.message}`, message: err.message };
  } finally {
    server.close();
  }
  return verdict;
}

async function main() {
  const args = process.argv.slice(2);
  const update = args.includes('--update-readme');
  const only = args.filter((a) => !a.startsWith('--'));
  let failed = false;

  const readme = fs.readFileSync(README, 'utf8');
  const wanted = readmeWithTable(readme);
  if (update && wanted !== readme) {
    fs.writeFileSync(README, wanted);
    console.log('README.md: table updated from cases.json');
  } else if (wanted !== readme) {
    console.log('README.md: the case table is out of date with cases.json (run with --update-readme)');
    failed = true;
  }

  const rows = [['case', 'host', 'crl', 'expected', 'actual', '']];
  const messages = [];
  for (const c of cases) {
    if (only.length && !only.includes(c.name)) continue;
    const actual = await run(c);
    const codeOk = actual.code === c.node;
    const messageOk = actual.message === c.nodeMessage;
    if (!codeOk || !messageOk) failed = true;
    const host = c.sender === 'client' ? '(client cert)' : c.host;
    const crl = c.crl.map((f) => f.replace(/\.crl\.pem$/, '')).join('+') || '-';
    rows.push([c.name, host, crl, c.node, actual.code, codeOk ? (messageOk ? '' : 'MESSAGE MISMATCH') : 'MISMATCH']);
    if (!messageOk) {
      messages.push(`${c.name} ${host}: expected message ${JSON.stringify(c.nodeMessage)}, `
        + `got ${JSON.stringify(actual.message)}`);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd());
  for (const m of messages) console.log(m);
  console.log(failed ? '\nFAILED' : `\nall ${rows.length - 1} verdicts match node:tls`
    + ` (node ${process.version}, OpenSSL ${process.versions.openssl})`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
