'use strict';
// A minimal CoAP (RFC 7252) codec for the DTLS tests' server: enough to parse a request from
// libcoap's coap-client and answer it with a piggybacked response (RFC 7252 5.2.1), as a
// CoAP server over DTLS (coaps://, RFC 7252 9) does. Not a CoAP implementation: no
// retransmission, deduplication, blockwise transfer or observe.
//
//   const request = coap.parse(datagram);      // null if it is not a well-formed CoAP message
//   if (request && request.type === coap.TYPE.CON && request.code === coap.CODE.GET)
//     socket.send(coap.piggybackedContent(request, 'hello'));

// Message types (RFC 7252 3).
const TYPE = { CON: 0, NON: 1, ACK: 2, RST: 3 };
// Codes as class * 32 + detail (RFC 7252 12.1): 0.01 GET ... 2.05 Content, 4.04 Not Found.
const code = (cls, detail) => (cls << 5) | detail;
const CODE = {
  EMPTY: 0,
  GET: code(0, 1),
  POST: code(0, 2),
  PUT: code(0, 3),
  DELETE: code(0, 4),
  CONTENT: code(2, 5),
  NOT_FOUND: code(4, 4),
};
// Option numbers (RFC 7252 5.10).
const OPTION = { URI_HOST: 3, URI_PORT: 7, URI_PATH: 11, CONTENT_FORMAT: 12, URI_QUERY: 15 };
const PAYLOAD_MARKER = 0xff;
const VERSION = 1;

// "2.05" for code(2, 5).
const codeString = (c) => `${c >> 5}.${String(c & 31).padStart(2, '0')}`;

// Decodes one option delta or length nibble with its extension bytes (RFC 7252 3.1);
// returns [value, next offset] or null if the message ends or the nibble is reserved (15).
function extended(nibble, buffer, offset) {
  if (nibble < 13) return [nibble, offset];
  if (nibble === 13) return offset + 1 <= buffer.length ? [buffer[offset] + 13, offset + 1] : null;
  if (nibble === 14) return offset + 2 <= buffer.length ? [buffer.readUInt16BE(offset) + 269, offset + 2] : null;
  return null;
}

// Parses a CoAP message: { version, type, code, messageId, token, options: [{ number, value }],
// payload, uriPath } (uriPath: the Uri-Path options joined by '/'); null when `buffer` is not a
// well-formed CoAP message of version 1.
function parse(buffer) {
  if (buffer.length < 4) return null;
  const version = buffer[0] >> 6;
  const type = (buffer[0] >> 4) & 3;
  const tokenLength = buffer[0] & 15;
  if (version !== VERSION || tokenLength > 8 || buffer.length < 4 + tokenLength) return null;
  const message = {
    version,
    type,
    code: buffer[1],
    messageId: buffer.readUInt16BE(2),
    token: Buffer.from(buffer.subarray(4, 4 + tokenLength)),
    options: [],
    payload: Buffer.alloc(0),
  };
  let offset = 4 + tokenLength;
  let number = 0;
  while (offset < buffer.length) {
    if (buffer[offset] === PAYLOAD_MARKER) {
      // A marker followed by nothing is a format error (RFC 7252 3).
      if (offset + 1 === buffer.length) return null;
      message.payload = Buffer.from(buffer.subarray(offset + 1));
      break;
    }
    const delta = extended(buffer[offset] >> 4, buffer, offset + 1);
    if (!delta) return null;
    const length = extended(buffer[offset] & 15, buffer, delta[1]);
    if (!length) return null;
    const start = length[1];
    if (start + length[0] > buffer.length) return null;
    number += delta[0];
    message.options.push({ number, value: Buffer.from(buffer.subarray(start, start + length[0])) });
    offset = start + length[0];
  }
  message.uriPath = message.options.filter((o) => o.number === OPTION.URI_PATH)
    .map((o) => o.value.toString()).join('/');
  return message;
}

// The nibble and extension bytes for an option delta or length (RFC 7252 3.1).
function nibble(value) {
  if (value < 13) return [value, Buffer.alloc(0)];
  if (value < 269) return [13, Buffer.from([value - 13])];
  const ext = Buffer.alloc(2);
  ext.writeUInt16BE(value - 269);
  return [14, ext];
}

// Encodes { type, code, messageId, token, options: [{ number, value }], payload } (options in
// any order; values Buffers or strings) into a CoAP message.
function encode({ type, code: messageCode, messageId, token = Buffer.alloc(0), options = [], payload }) {
  if (token.length > 8) throw new RangeError('a CoAP token is at most 8 bytes');
  const head = Buffer.alloc(4);
  head[0] = (VERSION << 6) | (type << 4) | token.length;
  head[1] = messageCode;
  head.writeUInt16BE(messageId, 2);
  const parts = [head, token];
  let previous = 0;
  for (const option of [...options].sort((a, b) => a.number - b.number)) {
    const value = Buffer.from(option.value);
    const [deltaNibble, deltaExt] = nibble(option.number - previous);
    const [lengthNibble, lengthExt] = nibble(value.length);
    parts.push(Buffer.from([(deltaNibble << 4) | lengthNibble]), deltaExt, lengthExt, value);
    previous = option.number;
  }
  if (payload !== undefined && payload.length > 0) parts.push(Buffer.from([PAYLOAD_MARKER]), Buffer.from(payload));
  return Buffer.concat(parts);
}

// The piggybacked response to a confirmable request (RFC 7252 5.2.1): an ACK carrying 2.05
// Content, echoing the request's message ID and token, with Content-Format text/plain (0, an
// empty uint) and `payload`.
function piggybackedContent(request, payload) {
  return encode({
    type: TYPE.ACK,
    code: CODE.CONTENT,
    messageId: request.messageId,
    token: request.token,
    options: [{ number: OPTION.CONTENT_FORMAT, value: Buffer.alloc(0) }],
    payload: Buffer.from(payload),
  });
}

// A confirmable GET for `path` ('a/b'), for tests that play the client.
function get(path, { messageId, token = Buffer.alloc(0) }) {
  return encode({
    type: TYPE.CON,
    code: CODE.GET,
    messageId,
    token,
    options: path.split('/').filter(Boolean).map((segment) => ({ number: OPTION.URI_PATH, value: segment })),
  });
}

module.exports = {
  TYPE, CODE, OPTION, codeString, parse, encode, piggybackedContent, get,
};
