// idle-trim.js: gives back the memory of connections that went quiet.
//
// While data flows the engine keeps its windows (up to 256 KiB each) and Mbed TLS its two
// 16.7 KB record buffers, so a stream of large writes does not allocate at every call. The
// engine has no clock; this module is its idle timer, one for all sockets (a timer per socket
// would cost more than it saves): every SWEEP_MS it trims each socket that moved no data
// since the sweep before (session.trim(), see mst_session_trim in src/core/engine.h), so a
// socket is trimmed SWEEP_MS to 2 * SWEEP_MS after its last activity. The timer is unref'd
// and runs only while some socket has been active since it was last trimmed.
'use strict';

const binding = require('./binding');

const SWEEP_MS = 1000;

const kActive = Symbol('active');
const watched = new Set(); // sockets active since their last trim
let timer = null;

function sweep() {
  timer = null;
  for (const socket of watched) {
    if (socket[kActive]) {
      socket[kActive] = false;
      continue;
    }
    watched.delete(socket);
    socket._trimIdle();
  }
  if (watched.size > 0) schedule();
  // Nothing moves data any more: the memory kept for plaintext Buffers goes back too.
  else binding.releaseSinkBlocks();
}

function schedule() {
  timer = setTimeout(sweep, SWEEP_MS);
  timer.unref();
}

// The socket moved data (or handshake records); it needs `_trimIdle()`.
function noteActivity(socket) {
  socket[kActive] = true;
  if (watched.has(socket)) return;
  watched.add(socket);
  if (timer === null) schedule();
}

// The socket is gone: nothing to trim.
function forget(socket) {
  watched.delete(socket);
}

module.exports = { noteActivity, forget, SWEEP_MS };
