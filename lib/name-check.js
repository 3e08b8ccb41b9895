// name-check.js: node's default name check (tls.checkServerIdentity) without node's
// detailed certificate objects.
//
// tls.checkServerIdentity(host, cert) reads two fields of the object it is given:
// cert.subjectaltname (the DNS names and IP addresses in it) and cert.subject.CN. Building
// the whole detailed chain for it (getPeerCertificate(true): each certificate parsed by
// OpenSSL as an X509Certificate and made a legacy object, issuers looked up in the trust
// store) costs about a millisecond per handshake. So the default check gets an object with
// just those two fields, from the leaf's names as Mbed TLS reads them
// (binding.certificateNames), when they are plain: common names in ASCII string types,
// DNS names of letters, digits and . * _ -, IP addresses of 4 or 16 bytes; node writes
// such names unescaped, so the object reads as node's would. Anything else, a check of the
// application's own, and a failing check, whose error carries the certificate (err.cert)
// as node's does, get the full object.
'use strict';

const tls = require('tls');
const binding = require('./binding');

// node's own function, as it was when this module loaded: an application that replaces
// tls.checkServerIdentity may read any field.
const nodeCheckServerIdentity = tls.checkServerIdentity;

const NAME_CN = 1;
const NAME_DNS = 2;
const NAME_IP = 3;
// ASN.1 string types whose ASCII bytes are the text as is: UTF8String, PrintableString,
// IA5String.
const ASCII_STRING_TAGS = new Set([0x0c, 0x13, 0x16]);
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const PLAIN_DNS = /^[A-Za-z0-9.*_-]+$/;

function ipText(bytes) {
  if (bytes.length === 4) return bytes.join('.');
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups.join(':');
}

// { subject: { CN }, subjectaltname } for the DER certificate, or null when its names are
// not all plain (see above) or Mbed TLS cannot parse it.
function nameFields(der) {
  const names = binding.certificateNames(der);
  if (names === null) return null;
  const cns = [];
  const altNames = [];
  for (let i = 0; i < names.length; i += 3) {
    const kind = names[i];
    const value = names[i + 2];
    if (kind === NAME_CN) {
      const text = value.toString('latin1');
      if (!ASCII_STRING_TAGS.has(names[i + 1]) || !PRINTABLE_ASCII.test(text)) return null;
      cns.push(text);
    } else if (kind === NAME_DNS) {
      const text = value.toString('latin1');
      if (!PLAIN_DNS.test(text)) return null;
      altNames.push(`DNS:${text}`);
    } else if (kind === NAME_IP) {
      if (value.length !== 4 && value.length !== 16) return null;
      altNames.push(`IP Address:${ipText(value)}`);
    }
    // Other kinds (email, URI, directory names, ...) play no part in the check.
  }
  const subject = Object.create(null);
  if (cns.length === 1) subject.CN = cns[0];
  else if (cns.length > 1) subject.CN = cns;
  return { subject, subjectaltname: altNames.length > 0 ? altNames.join(', ') : undefined };
}

// Runs `check` as node's client does: `detailed()` makes the full certificate object. Returns
// what the check returns (undefined when the name matches).
function checkPeerName(check, hostname, leafDer, detailed) {
  if (check === nodeCheckServerIdentity) {
    const fields = nameFields(leafDer);
    if (fields !== null && check(hostname, fields) === undefined) return undefined;
  }
  return check(hostname, detailed());
}

module.exports = { checkPeerName, nameFields };
