// defaults.js: the process-wide defaults node:tls exposes and lets applications assign
// (tls.DEFAULT_MIN_VERSION, DEFAULT_MAX_VERSION, DEFAULT_CIPHERS), and node's command-line
// flags that set them (--tls-min-v1.x, --tls-max-v1.x, --tls-cipher-list) or ask for a key
// log file (--tls-keylog).
'use strict';

const fs = require('fs');
const tls = require('tls');

// Node's own tls module has read the flags already: its defaults are where they start.
// Mbed TLS 3.6 has no TLS 1.0 or 1.1, so a flag asking for them leaves the minimum at 1.2.
const SUPPORTED = new Set(['TLSv1.2', 'TLSv1.3']);
const defaults = {
  minVersion: SUPPORTED.has(tls.DEFAULT_MIN_VERSION) ? tls.DEFAULT_MIN_VERSION : 'TLSv1.2',
  maxVersion: SUPPORTED.has(tls.DEFAULT_MAX_VERSION) ? tls.DEFAULT_MAX_VERSION : 'TLSv1.3',
  ciphers: tls.DEFAULT_CIPHERS,
};

// The value of --tls-keylog=FILE from the command line or NODE_OPTIONS, or null.
function keylogFlag() {
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS || '').split(/\s+/)];
  let file = null;
  for (let i = 0; i < args.length; i++) {
    if (args[i].startsWith('--tls-keylog=')) file = args[i].slice('--tls-keylog='.length);
    else if (args[i] === '--tls-keylog' && i + 1 < args.length) file = args[i + 1];
  }
  return file || null;
}

const keylogFile = keylogFlag();
let keylogWarned = false;
let keylogErrorWarned = false;

// With --tls-keylog, every socket appends its key log lines to the file, as node's do.
function attachKeylogFile(socket) {
  if (!keylogFile) return;
  if (!keylogWarned) {
    keylogWarned = true;
    process.emitWarning('Using --tls-keylog makes TLS connections insecure by writing secret ' +
      `key material to file ${keylogFile}`);
  }
  socket.on('keylog', (line) => {
    fs.appendFile(keylogFile, line, { mode: 0o600 }, (err) => {
      if (err && !keylogErrorWarned) {
        keylogErrorWarned = true;
        process.emitWarning(`Failed to write TLS keylog (this warning will not be repeated): ${err}`);
      }
    });
  });
}

module.exports = { defaults, attachKeylogFile };
