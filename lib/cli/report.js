// cli/report.js: the CLI's report in the words of Mbed TLS's example programs: steps
// ("  . Loading the CA root certificate ... ok"), handshake facts ("    [ Protocol is TLSv1.3 ]"),
// verification failures one per line ("  ! The certificate validity has expired"), the peer
// certificate's details, and what was written and read. Text is printed as it happens; with
// --json the same facts are collected and printed as one object at the end.
'use strict';

// Mbed TLS's texts for its X.509 verification flags (MBEDTLS_X509_BADCERT_*, x509_crt.h),
// as x509_crt_verify_info() prints them, in flag order.
const VERIFY_TEXTS = [
  [0x01, 'The certificate validity has expired'],
  [0x02, 'The certificate has been revoked (is on a CRL)'],
  [0x04, 'The certificate Common Name (CN) does not match with the expected CN'],
  [0x08, 'The certificate is not correctly signed by the trusted CA'],
  [0x10, 'The CRL is not correctly signed by the trusted CA'],
  [0x20, 'The CRL is expired'],
  [0x40, 'Certificate was missing'],
  [0x80, 'Certificate verification was skipped'],
  [0x0100, 'Other reason (can be used by verify callback)'],
  [0x0200, 'The certificate validity starts in the future'],
  [0x0400, 'The CRL is from the future'],
  [0x0800, 'Usage does not match the keyUsage extension'],
  [0x1000, 'Usage does not match the extendedKeyUsage extension'],
  [0x2000, 'Usage does not match the nsCertType extension'],
  [0x4000, 'The certificate is signed with an unacceptable hash.'],
  [0x8000, 'The certificate is signed with an unacceptable PK alg (eg RSA vs ECDSA).'],
  [0x010000, 'The certificate is signed with an unacceptable key (eg bad curve, RSA too short).'],
  [0x020000, 'The CRL is signed with an unacceptable hash.'],
  [0x040000, 'The CRL is signed with an unacceptable PK alg (eg RSA vs ECDSA).'],
  [0x080000, 'The CRL is signed with an unacceptable key (eg bad curve, RSA too short).'],
];

function verifyTexts(flags) {
  return VERIFY_TEXTS.filter(([bit]) => flags & bit).map(([, text]) => text);
}

// TLS_AES_128_GCM_SHA256 -> TLS1-3-AES-128-GCM-SHA256; TLS_ECDHE_..._SHA256 -> TLS-ECDHE-...-SHA256.
function mbedtlsSuiteName(standardName, protocol) {
  if (!standardName) return undefined;
  const dashed = standardName.replace(/_/g, '-');
  return protocol === 'TLSv1.3' ? dashed.replace(/^TLS-/, 'TLS1-3-') : dashed;
}

// The bulk cipher's key size in bits, as ssl_client2's "[ Key size is N ]".
function keyBits(standardName) {
  const match = /_(AES|ARIA|CAMELLIA)_(128|256)_/.exec(standardName || '');
  if (match) return Number(match[2]);
  return /CHACHA20/.test(standardName || '') ? 256 : undefined;
}

// Bytes a record adds to its payload at most, as mbedtls_ssl_get_record_expansion() counts
// them for the suite: the header (5, DTLS 13), then for AEAD suites the explicit nonce of
// TLS 1.2 GCM and CCM (8) and the tag (16, CCM_8 8), and in TLS 1.3 the inner content type
// with padding (16); for CBC suites the MAC, the padding and the explicit IV (one block each).
function recordExpansion(standardName, protocol) {
  if (!standardName) return undefined;
  const header = protocol === 'DTLSv1.2' ? 13 : 5;
  const tag = /CCM_8/.test(standardName) ? 8 : 16;
  if (protocol === 'TLSv1.3') return header + tag + 16;
  if (/_GCM_|_CCM/.test(standardName)) return header + 8 + tag;
  if (/CHACHA20_POLY1305/.test(standardName)) return header + 16;
  if (/_CBC_/.test(standardName)) {
    const mac = { SHA: 20, SHA256: 32, SHA384: 48 }[/_(SHA|SHA256|SHA384)$/.exec(standardName)?.[1]];
    return mac === undefined ? undefined : header + mac + 16 + 16;
  }
  if (/_NULL_/.test(standardName)) {
    const mac = { SHA: 20, SHA256: 32, SHA384: 48 }[/_(SHA|SHA256|SHA384)$/.exec(standardName)?.[1]];
    return mac === undefined ? undefined : header + mac;
  }
  return undefined;
}

// --- The peer certificate, as mbedtls_x509_crt_info() lays it out ---

// A minimal DER reader: [tag, contentStart, end] of the element at `at`.
function element(der, at) {
  const tag = der[at];
  let length = der[at + 1];
  let start = at + 2;
  if (length & 0x80) {
    const bytes = length & 0x7F;
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start + i];
    start += bytes;
  }
  return [tag, start, start + length];
}

// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm SEQUENCE { OID, ... }, ... }
function certificateFields(der) {
  const [, certStart] = element(der, 0);
  const [, tbsStart, tbsEnd] = element(der, certStart);
  const version = der[tbsStart] === 0xA0 ? der[element(der, tbsStart)[1] + 2] + 1 : 1;
  const [, algStart] = element(der, tbsEnd);
  const [oidTag, oidStart, oidEnd] = element(der, algStart);
  const oid = oidTag === 0x06 ? decodeOid(der.subarray(oidStart, oidEnd)) : '';
  return { version, signatureOid: oid };
}

function decodeOid(bytes) {
  const parts = [Math.floor(bytes[0] / 40), bytes[0] % 40];
  let value = 0;
  for (const byte of bytes.subarray(1)) {
    value = value * 128 + (byte & 0x7F);
    if (!(byte & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

// Mbed TLS's names for signature algorithms (its oid.c descriptions).
const SIGNATURE_NAMES = {
  '1.2.840.113549.1.1.5': 'RSA with SHA1',
  '1.2.840.113549.1.1.11': 'RSA with SHA-256',
  '1.2.840.113549.1.1.12': 'RSA with SHA-384',
  '1.2.840.113549.1.1.13': 'RSA with SHA-512',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
  '1.2.840.10045.4.1': 'ECDSA with SHA1',
  '1.2.840.10045.4.3.2': 'ECDSA with SHA256',
  '1.2.840.10045.4.3.3': 'ECDSA with SHA384',
  '1.2.840.10045.4.3.4': 'ECDSA with SHA512',
  '1.3.101.112': 'Ed25519',
};

// "C=NL\nO=PolarSSL\nCN=x" (node) -> "C=NL, O=PolarSSL, CN=x" (Mbed TLS).
const distinguishedName = (text) => (text || '').split('\n').join(', ');

// "May 17 07:10:36 2023 GMT" -> "2023-05-17 07:10:36".
function timestamp(text) {
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : date.toISOString().slice(0, 19).replace('T', ' ');
}

// node's X509Certificate -> the facts ssl_client2 prints, as an object.
function certificateInfo(x509) {
  let fields = { version: undefined, signatureOid: '' };
  try {
    fields = certificateFields(x509.raw);
  } catch { /* the X509Certificate parsed it; the extras are optional */ }
  const details = x509.publicKey.asymmetricKeyDetails || {};
  const keyType = x509.publicKey.asymmetricKeyType;
  const keySize = details.modulusLength
    || { prime256v1: 256, secp384r1: 384, secp521r1: 521 }[details.namedCurve]
    || { ed25519: 256, ed448: 456 }[keyType];
  return {
    version: fields.version,
    serialNumber: x509.serialNumber.replace(/(..)(?=.)/g, '$1:'),
    issuer: distinguishedName(x509.issuer),
    subject: distinguishedName(x509.subject),
    validFrom: timestamp(x509.validFrom),
    validTo: timestamp(x509.validTo),
    signedUsing: SIGNATURE_NAMES[fields.signatureOid] || fields.signatureOid,
    keyType: { rsa: 'RSA', 'rsa-pss': 'RSA', ec: 'EC', ed25519: 'ED25519', ed448: 'ED448' }[keyType] || keyType,
    keySize,
    ca: x509.ca,
    subjectAltName: x509.subjectAltName,
    fingerprint256: x509.fingerprint256,
  };
}

function certificateText(info) {
  const row = (label, value) => `${label.padEnd(18)}: ${value}`;
  const lines = [
    row('cert. version', info.version),
    row('serial number', info.serialNumber),
    row('issuer name', info.issuer),
    row('subject name', info.subject),
    row('issued  on', info.validFrom),
    row('expires on', info.validTo),
    row('signed using', info.signedUsing),
    row(`${info.keyType} key size`, `${info.keySize} bits`),
    row('basic constraints', `CA=${info.ca}`),
  ];
  if (info.subjectAltName) {
    lines.push(row('subject alt name', ''));
    for (const name of info.subjectAltName.split(', ')) {
      const [type, ...value] = name.split(':');
      const label = { DNS: 'dNSName', 'IP Address': 'iPAddress', URI: 'uniformResourceIdentifier', email: 'rfc822Name' }[type] || type;
      lines.push(`    ${label} : ${value.join(':')}`);
    }
  }
  return lines.join('\n');
}

// The handshake's facts from a connected socket (ours, TLS or DTLS).
function handshakeFacts(socket, { maxFragmentLength, alpn }) {
  const protocol = socket.getProtocol();
  const cipher = socket.getCipher() || {};
  const facts = {
    protocol,
    ciphersuite: mbedtlsSuiteName(cipher.standardName, protocol),
    standardName: cipher.standardName,
    keySize: keyBits(cipher.standardName),
    recordExpansion: recordExpansion(cipher.standardName, protocol),
    // What we asked for: a server that ignores the request sends records up to 16384.
    maxFragmentLength: maxFragmentLength || 16384,
    resumed: socket.isSessionReused(),
  };
  if (alpn) facts.alpn = socket.alpnProtocol || null;
  return facts;
}

function handshakeLines(facts) {
  const lines = [
    `    [ Protocol is ${facts.protocol} ]`,
    `    [ Ciphersuite is ${facts.ciphersuite} ]`,
  ];
  if (facts.keySize) lines.push(`    [ Key size is ${facts.keySize} ]`);
  lines.push(`    [ Record expansion is ${facts.recordExpansion ?? 'unknown'} ]`);
  lines.push(`    [ Maximum fragment length is ${facts.maxFragmentLength} ]`);
  if (facts.alpn !== undefined) lines.push(`    [ Application Layer Protocol is ${facts.alpn || '(none)'} ]`);
  if (facts.resumed) lines.push('    [ Session was resumed ]');
  return lines;
}

// An error as Mbed TLS's programs report a failed call: its code, the hex code and text of
// Mbed TLS's error when there is one, and the hint.
function errorFacts(err) {
  const facts = { code: err.code, message: err.message };
  for (const key of ['mbedtlsCode', 'mbedtlsHex', 'mbedtlsText', 'alert', 'reason', 'hint']) {
    if (err[key] !== undefined) facts[key] = err[key];
  }
  if (err.verifyFlags !== undefined) facts.verifyFailures = verifyTexts(err.verifyFlags);
  return facts;
}

function errorLines(facts, call) {
  const lines = [];
  if (facts.mbedtlsHex) lines.push(`  ! ${call} returned ${facts.mbedtlsHex}`);
  lines.push(`  ! ${facts.code}: ${facts.message}`);
  if (facts.hint) lines.push(`    ${facts.hint}`);
  for (const text of facts.verifyFailures || []) lines.push(`  ! ${text}`);
  return lines;
}

// Collects the report; prints it as it grows unless `json`.
class Reporter {
  constructor({ json = false, out = process.stdout } = {}) {
    this.json = json;
    this.out = out;
    this.report = { ok: false, steps: [] };
    this.current = null;
  }

  print(text) {
    if (!this.json) this.out.write(text);
  }

  line(text) { this.print(`${text}\n`); }

  // "  . Label..." then " ok" / " failed".
  begin(label) {
    this.current = { step: label, ok: null };
    this.report.steps.push(this.current);
    this.print(`  . ${label}...`);
  }

  ok(detail) {
    this.current.ok = true;
    if (detail !== undefined) this.current.detail = detail;
    this.print(` ok${detail !== undefined ? ` (${detail})` : ''}\n`);
  }

  skip(detail) {
    this.current.ok = true;
    this.current.skipped = detail;
    this.print(` skipped (${detail})\n`);
  }

  fail(err, call) {
    const facts = errorFacts(err);
    this.current.ok = false;
    this.current.error = facts;
    this.report.error = facts;
    this.print(' failed\n');
    for (const line of errorLines(facts, call)) this.line(line);
    return facts;
  }
}

module.exports = {
  Reporter, handshakeFacts, handshakeLines, certificateInfo, certificateText, errorFacts,
  errorLines, verifyTexts, mbedtlsSuiteName, recordExpansion, keyBits,
};
