// The ESM side of the declarations: default and named imports of both entry points.
import tls, { connect, createServer, createSecureContext, TLSSocket, MbedtlsError, mbedtlsMemoryUsage, buildProfile, dtls } from 'mbedtls-stream';
import dtlsDefault, { DTLSSocket, DTLSServer, connect as dtlsConnect } from 'mbedtls-stream/dtls';

const server: tls.Server = createServer({ debug: 1 });
const socket: TLSSocket = connect({ port: 443, host: 'example.com', secureContext: createSecureContext({}) });
socket.on('error', (err) => { if (err instanceof MbedtlsError) console.log(err.mbedtlsHex); });
const same: typeof dtlsDefault = dtls;
const dtlsServer: DTLSServer = same.createServer();
const peer: DTLSSocket = dtlsConnect({ port: 5684 });
console.log(server, mbedtlsMemoryUsage().peak, buildProfile, dtlsServer.stats.handshakes, peer.remotePort, tls.getCiphers());
