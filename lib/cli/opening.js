// cli/opening.js: the steps `client` and `server` open with, in the words of ssl_client2 and
// ssl_server2: loading mbedtls-stream (which seeds Mbed TLS's random generator), the CA
// certificates (ca_file, ca_path) and the own certificate and key (crt_file, key_file, key_pwd).
'use strict';

const { loadCa, loadOwnCertificate } = require('./options');

// Runs the opening steps, reported on `r` (a report.Reporter). `side` ('client' or 'server')
// names the certificate step; withoutCa(tls) ends the CA step when neither ca_file nor ca_path
// is given, withoutCertificate() the certificate step when crt_file is not (it may throw: the
// step fails). Returns { tls, ca, own } (tls: this package; ca: undefined for node's roots;
// own: loadOwnCertificate()'s), or null once a step has failed and been reported.
function openingSteps(options, r, { side, withoutCa, withoutCertificate }) {
  // The call each step stands for in the example programs' failure line.
  let call;
  try {
    r.begin('Seeding the random number generator');
    call = 'loading mbedtls-stream';
    // Loading the addon seeds Mbed TLS's random generator (its entropy and CTR-DRBG).
    const tls = require('../index');
    tls.mbedtlsMemoryUsage();
    r.ok();

    r.begin('Loading the CA root certificate ');
    call = 'reading the CA file';
    const { ca, count, skipped } = loadCa(options);
    if (ca === undefined) withoutCa(tls);
    else r.ok(`${count} certificate${count === 1 ? '' : 's'}${skipped ? `, ${skipped} skipped` : ''}`);

    r.begin(`Loading the ${side} cert. and key`);
    call = 'reading the certificate and key';
    const own = loadOwnCertificate(options);
    if (own.cert) r.ok(`key type: ${own.keyType}`);
    else withoutCertificate();
    return { tls, ca, own };
  } catch (err) {
    r.fail(err, call);
    return null;
  }
}

module.exports = { openingSteps };
