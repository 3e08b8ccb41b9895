// onread.js: node's `onread` option for a TLSSocket: plaintext goes into the application's
// buffer, piece by piece, instead of to 'data' events.
'use strict';

const errors = require('./errors');

class OnreadSink {
  // onread: { buffer: Uint8Array | () => Uint8Array, callback(nread, buffer) }, as node's.
  constructor(onread) {
    if (typeof onread !== 'object') throw errors.invalidArgType('options.onread', 'of type object', onread);
    const { buffer, callback } = onread;
    if (typeof buffer !== 'function' && !(buffer instanceof Uint8Array)) {
      throw errors.invalidArgType('options.onread.buffer', 'an instance of Uint8Array or of type function', buffer);
    }
    if (typeof callback !== 'function') {
      throw errors.invalidArgType('options.onread.callback', 'of type function', callback);
    }
    this.buffer = buffer;
    this.callback = callback;
    this.queue = [];
    this.paused = false;
    // The peer's end came while plaintext waited in queue: the socket ends once it is taken.
    this.endPending = false;
  }

  // Copies `plaintext` (and what waits before it) into buffers and calls callback(n, buffer)
  // on `socket` for each piece, until a callback returns false: then false (the socket is to
  // pause; the rest follows on resume()). A destroyed socket stops the delivery.
  deliver(socket, plaintext) {
    if (plaintext.length > 0) this.queue.push(plaintext);
    if (this.paused) return false;
    while (this.queue.length > 0 && !socket.destroyed) {
      const chunk = this.queue[0];
      const buffer = typeof this.buffer === 'function' ? this.buffer() : this.buffer;
      const n = Math.min(buffer.length, chunk.length);
      buffer.set(chunk.subarray(0, n));
      if (n === chunk.length) this.queue.shift();
      else this.queue[0] = chunk.subarray(n);
      if (this.callback.call(socket, n, buffer) === false) {
        this.paused = true;
        return false;
      }
    }
    return true;
  }

  // node asks for a buffer for the read that finds the end, too.
  atEnd() {
    if (typeof this.buffer === 'function') this.buffer();
  }
}

module.exports = { OnreadSink };
