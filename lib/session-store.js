// session-store.js: node's 'newSession' and 'resumeSession' server events. A server's TLS
// 1.2 session IDs are kept in the application's store, which servers in other processes and
// on other machines may share, in place of the server's own cache. The engine holds the
// handshake at each question (src/core/session_store.c) until the application answers.
'use strict';

const errors = require('./errors');

// As node's: a connection that starts while its server listens for either event keeps its
// session IDs in the application's store (the server's own cache is not used).
function usesSessionStore(server) {
  return Boolean(server) && typeof server.listenerCount === 'function' &&
    (server.listenerCount('newSession') > 0 || server.listenerCount('resumeSession') > 0);
}

// The held ClientHello offers a session ID to resume: the server's
// 'resumeSession'(sessionId, callback) looks it up, at once or later. callback(null,
// sessionData) with the Buffer 'newSession' gave resumes it; callback() without one (or
// with bytes this build cannot use) gives a full handshake; callback(err) fails the
// connection. Then next(), or fail(err).
function lookUpSession(socket, session, next, fail) {
  const id = session.helloSessionId();
  const server = socket.server;
  if (!id || !server || server.listenerCount('resumeSession') === 0) {
    next();
    return;
  }
  let answered = false;
  const callback = (err, sessionData) => {
    if (answered) {
      // As node's.
      socket.destroy(errors.coded(Error, 'ERR_MULTIPLE_CALLBACK', 'Callback called multiple times'));
      return;
    }
    answered = true;
    if (socket.destroyed) return;
    if (err) {
      fail(err);
      return;
    }
    if (errors.isBinary(sessionData) && sessionData.byteLength > 0) {
      session.setStoredSession(errors.toBuffer(sessionData));
    }
    next();
  };
  server.emit('resumeSession', id, callback);
}

// A full TLS 1.2 handshake made a session ID, and waits before the server's Finished: the
// server's 'newSession'(sessionId, sessionData, callback) stores it, and the handshake goes
// on (next()) once callback() is called, so the client cannot resume a session that is not
// stored yet.
function storeNewSession(socket, session, next) {
  const made = session.newSession();
  let stored = false;
  const callback = () => {
    if (stored || socket.destroyed) return;
    stored = true;
    next();
  };
  const server = socket.server;
  if (!made || !server || !server.emit('newSession', made[0], made[1], callback)) callback();
}

module.exports = { usesSessionStore, lookUpSession, storeNewSession };
