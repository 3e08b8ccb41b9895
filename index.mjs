// import tls from 'mbedtls-stream', and named imports of each export: the CommonJS module
// itself (lib/index.js), so that `import` and `require` share one instance.
// Named exports are the values at import time, as node:tls's: assign DEFAULT_MIN_VERSION,
// DEFAULT_MAX_VERSION and DEFAULT_CIPHERS through the default export.
import { createRequire } from 'node:module';

const tls = createRequire(import.meta.url)('./lib/index.js');

export default tls;
export const {
  connect, createServer, createSecureContext, SecureContext, TLSSocket, Server, Agent,
  MbedtlsError, getCiphers, mbedtlsMemoryUsage, buildProfile, checkServerIdentity, convertALPNProtocols,
  createSecurePair, SecurePair, rootCertificates, DEFAULT_MIN_VERSION, DEFAULT_MAX_VERSION,
  DEFAULT_CIPHERS, DEFAULT_ECDH_CURVE, dtls,
} = tls;
