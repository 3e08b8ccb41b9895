// sni.js: a DTLS server's SNICallback, as tls servers have it: the session holds the
// ClientHello (the engine puts it together from its fragments), the callback chooses a
// SecureContext by the name the client asked for, and the handshake goes on with that
// context's certificates; the server's own settings (versions, suites, DTLS settings,
// cookie secret, ticket keys) stay, as node keeps the first context's.
'use strict';

const { selectContext } = require('../select-context');

// Whether sessions of a server with these options hold their ClientHello.
function holdsHello(options) {
  return typeof options.SNICallback === 'function';
}

// chooser: { socket, SNICallback, secureContext (the server's), config(secureContext) -> the
// native config for a chosen context }. Answers done(err, config | null, alert): null keeps
// the session's own config; err fails the handshake closed.
function chooseByHello(chooser, servername, done) {
  selectContext({
    socket: chooser.socket,
    SNICallback: chooser.SNICallback,
    secureContext: chooser.secureContext,
  }, servername, undefined, (err, secureContext, alpnList, alert) => {
    if (err) {
      done(err, null, null, alert);
      return;
    }
    if (secureContext === chooser.secureContext) {
      done(null, secureContext, null);
      return;
    }
    let config;
    try {
      config = chooser.config(secureContext);
    } catch (buildError) {
      done(buildError, null, null);
      return;
    }
    done(null, secureContext, config);
  });
}

module.exports = { holdsHello, chooseByHello };
