// records.js: what the server's demultiplexer reads of a datagram before any session sees it
// (RFC 6347 4.1 record header, RFC 9146 tls12_cid records).
'use strict';

const RECORD_HEADER = 13; // type, version (2), epoch (2), sequence number (6), length (2)
const CONTENT_HANDSHAKE = 22;
const CONTENT_CID = 25; // tls12_cid: the receiver's CID follows the first 11 header bytes
const HANDSHAKE_CLIENT_HELLO = 1;

// Whether the datagram starts like a DTLS record: at least a header, a DTLS version (0xFEnn).
function looksLikeDtls(datagram) {
  return datagram.length >= RECORD_HEADER && datagram[1] === 0xFE;
}

// The CID a tls12_cid record carries for us, as a hex key, or null.
function connectionIdOf(datagram, length) {
  if (length <= 0 || datagram[0] !== CONTENT_CID || datagram.length < 11 + length + 2) return null;
  return datagram.toString('hex', 11, 11 + length);
}

// Whether the first record is a handshake record of epoch 0 holding a ClientHello: a peer
// that starts over (a rebooted device), not one of the records of a live session.
function isInitialClientHello(datagram) {
  return datagram.length > RECORD_HEADER && datagram[0] === CONTENT_HANDSHAKE &&
    datagram[3] === 0 && datagram[4] === 0 && datagram[RECORD_HEADER] === HANDSHAKE_CLIENT_HELLO;
}

module.exports = { looksLikeDtls, connectionIdOf, isInitialClientHello, CONTENT_HANDSHAKE, CONTENT_CID };
