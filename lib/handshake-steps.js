// handshake-steps.js: a TLS handshake's engine calls on libuv's thread pool (the
// `asyncHandshake` option, on by default).
//
// A handshake's cost is its public-key operations (key exchange, signing, verifying the
// peer's chain), all inside the engine call that reads a flight of the peer's (feed) or
// goes on after a callback was answered (process). Run on the JS thread they serialize every
// handshake of the process on one core; on the pool (session.step, src/napi/offload.h) a
// server handshakes on as many cores as the pool has threads (UV_THREADPOOL_SIZE, 4 by
// default) while its JS thread moves other connections' data.
//
// Order is kept per session: one step at a time, and whatever the transport or the
// application does meanwhile (more data, end, close, error, an SNI answer) waits behind it,
// in arrival order, then runs as it would have without the pool. Once the handshake is done
// the calls run on the JS thread again: a record's decryption costs less than the trip.
'use strict';

const errors = require('./errors');

class HandshakeSteps {
  constructor() {
    this.busy = false;
    this.waiting = [];
  }

  // Runs fn now, or once the step in flight and everything queued before it are done.
  inOrder(fn) {
    if (this.busy) this.waiting.push(fn);
    else fn();
  }

  // session.step(chunk | null) on the pool (a feed, or process() without a chunk); then
  // after(state) on the JS thread, then what waited, until a step is in flight again. A
  // socket destroyed meanwhile drops both.
  run(socket, session, chunk, after) {
    this.busy = true;
    session.step(chunk, (state) => {
      this.busy = false;
      if (socket.destroyed) {
        this.waiting.length = 0;
        return;
      }
      after(state);
      while (!this.busy && this.waiting.length > 0 && !socket.destroyed) this.waiting.shift()();
    });
  }
}

// The asyncHandshake option: true (the default; also when undefined or null) or false;
// anything else is refused, as node refuses a non-boolean where it expects one.
function asyncHandshake(options) {
  const value = options.asyncHandshake;
  if (value === undefined || value === null) return true;
  if (typeof value !== 'boolean') throw errors.invalidArgType('options.asyncHandshake', 'of type boolean', value);
  return value;
}

module.exports = { HandshakeSteps, asyncHandshake };
