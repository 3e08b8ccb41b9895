// import dtls from 'mbedtls-stream/dtls', and named imports: the CommonJS module (lib/dtls).
import { createRequire } from 'node:module';

const dtls = createRequire(import.meta.url)('./lib/dtls/index.js');

export default dtls;
export const { connect, createServer, DTLSServer, DTLSSocket } = dtls;
