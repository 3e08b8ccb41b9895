// handshake-steps.js: a TLS handshake's engine calls on libuv's thread pool (the
// `asyncHandshake` option).
//
// A handshake's cost is its public-key operations (key exchange, signing, verifying the
// peer's chain), all inside the engine call that reads a flight of the peer's (feed) or
// goes on after a callback was answered (process). Run on the JS thread they serialize every
// handshake of the thread on one core; on the pool (session.step, src/napi/offload.h) a
// server handshakes on as many cores as the pool has threads (UV_THREADPOOL_SIZE, 4 by
// default) while its JS thread moves other connections' data.
//
// When: with asyncHandshake true (the default), while more than one handshake is in
// progress on this JS thread (the process's, or a worker's); a lone handshake has nothing
// to run beside, and the trip to the pool and back would only add to its latency. With
// 'always', every step; with false, none.
//
// Order is kept per session: one step at a time, and whatever the transport or the
// application does meanwhile (more data, end, close, error, an SNI answer) waits behind it,
// in arrival order, then runs as it would have without the pool. Once the handshake is done
// the calls run on the JS thread again: a record's decryption costs less than the trip.
'use strict';

const errors = require('./errors');

// Handshakes in progress on this thread (from their first engine call to the end of the
// handshake or the socket), whose sockets may use the pool.
let inProgress = 0;

class HandshakeSteps {
  constructor(always) {
    this.always = always;
    this.counted = false;
    this.busy = false;
    this.waiting = [];
  }

  // The handshake is in progress: counted until ended() is called.
  began() {
    if (this.counted) return;
    this.counted = true;
    inProgress++;
  }

  ended() {
    if (!this.counted) return;
    this.counted = false;
    inProgress--;
  }

  // Whether the next step goes to the pool.
  offload() {
    return this.always || inProgress > 1;
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

// The asyncHandshake option: true (the default; also when undefined or null), 'always' or
// false; anything else is refused as node refuses an option of the wrong type. Returns the
// socket's HandshakeSteps, or null for false.
function handshakeSteps(options) {
  const value = options.asyncHandshake;
  if (value === undefined || value === null || value === true) return new HandshakeSteps(false);
  if (value === 'always') return new HandshakeSteps(true);
  if (value === false) return null;
  throw errors.invalidArgType('options.asyncHandshake', "of type boolean or 'always'", value);
}

module.exports = { handshakeSteps };
