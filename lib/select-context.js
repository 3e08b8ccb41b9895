// select-context.js: the server's choice of SecureContext and ALPN protocol for one
// connection, from its held ClientHello (node's SNICallback, addContext() and ALPNCallback).
'use strict';

const context = require('./context');
const errors = require('./errors');
const { callbackError } = errors;

const ALERT_NO_APPLICATION_PROTOCOL = 120;

// chooser: { socket, SNICallback, ALPNCallback, ALPNList, secureContext, contextFor(name) },
// any of them absent but secureContext. The callbacks' `this` is the socket, as in node (it
// may setKeyCert()). Answers done(err, secureContext, alpnList, alert), now or
// later: SNICallback (else contextFor) by name, then ALPNCallback. Whatever a callback throws
// or returns that cannot be used fails that handshake (a fatal alert, 'tlsClientError').
function selectContext(chooser, servername, protocols, done) {
  const fail = (err, alert) => done(callbackError(err), null, null, alert);
  const chosen = (err, secureContext) => {
    if (err) {
      fail(err);
      return;
    }
    if (secureContext !== undefined && secureContext !== null &&
        !(secureContext instanceof context.SecureContext)) {
      // node's message; ours says more in `hint`.
      const invalid = errors.coded(TypeError, 'ERR_MBEDTLS_INVALID_SNI_CONTEXT', 'Invalid SNI context');
      invalid.hint = 'SNICallback must give a SecureContext made by mbedtls-stream\'s createSecureContext()';
      fail(invalid);
      return;
    }
    let alpnList = chooser.ALPNList;
    if (chooser.ALPNCallback && protocols) {
      let selected;
      try {
        selected = chooser.ALPNCallback.call(chooser.socket, { servername, protocols });
      } catch (callbackErr) {
        fail(callbackErr);
        return;
      }
      if (selected === undefined) {
        fail(errors.coded(Error, 'ERR_SSL_NO_APPLICATION_PROTOCOL', 'no application protocol'),
          ALERT_NO_APPLICATION_PROTOCOL);
        return;
      }
      if (!protocols.includes(selected)) {
        fail(errors.coded(Error, 'ERR_TLS_ALPN_CALLBACK_INVALID_RESULT',
          `ALPN callback returned a value (${selected}) that did not match any of the client's ` +
          `offered protocols (${protocols.join(', ')})`));
        return;
      }
      alpnList = [selected];
    }
    done(null, secureContext || chooser.secureContext, alpnList);
  };
  if (!servername) {
    chosen(null, undefined);
    return;
  }
  let called = false;
  const callback = (err, secureContext) => {
    if (called) return;
    called = true;
    chosen(err, secureContext);
  };
  try {
    if (chooser.SNICallback) chooser.SNICallback.call(chooser.socket, servername, callback);
    else callback(null, chooser.contextFor ? chooser.contextFor(servername) : undefined);
  } catch (err) {
    callback(err);
  }
}

module.exports = { selectContext };
