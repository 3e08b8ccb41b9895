// Uses every export of mbedtls-stream and mbedtls-stream/dtls as an application would, so that
// `tsc --noEmit --strict` (npm run test:types) fails when the declarations break. Never run.
import tls = require('mbedtls-stream');
import dtls = require('mbedtls-stream/dtls');
import * as fs from 'fs';
import * as https from 'https';
import * as net from 'net';

const ca = fs.readFileSync('ca.pem');
const context: tls.SecureContext = tls.createSecureContext({ ca, maxFragmentLength: 1024, allowPartialTrustChain: true });
const byHand = new tls.SecureContext({ ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });

const server: tls.Server = tls.createServer({ debug: 2, sessionTimeout: 600, ALPNCallback: ({ protocols }) => protocols[0],
  SNICallback: (name, cb) => cb(null, name === 'a.example' ? context : undefined),
  pskCallback: (socket, identity) => (identity === 'sensor-17' ? Buffer.alloc(16) : null) },
(socket: tls.TLSSocket) => socket.end('hello\n'));
const callable: tls.Server = new tls.Server((socket) => socket.end());
const devCert: string | null = server.developmentCertificate;
server.on('tlsClientError', (err, socket) => console.log(err.message, socket.remoteAddress));
server.on('debug', (line: string, socket: tls.TLSSocket) => console.log(line, socket.servername));
server.on('newSession', (id: Buffer, data: Buffer, done: () => void) => done());
server.on('resumeSession', (id: Buffer, done) => done(null, null));
server.addContext('*.example', byHand);
server.setTicketKeys(server.getTicketKeys());
server.listen(0);

const socket: tls.TLSSocket = tls.connect({ port: 8443, host: 'localhost', ca: devCert ?? ca, maxFragmentLength: 512, debug: 4 }, () => {
  const usage: tls.MemoryUsage = socket.memoryUsage();
  const allocations: number = socket.memoryUsage().allocations;
  const peak: number = usage.peak + usage.current + allocations;
  const cert: import('tls').DetailedPeerCertificate = socket.getPeerCertificate(true);
  const key: Buffer = socket.exportKeyingMaterial(32, 'EXPERIMENTAL-my-protocol', Buffer.from('ctx'));
  console.log(peak, cert.issuerCertificate.subject, key, socket.getProtocol(), socket.getCipher().standardName);
  socket.setMaxSendFragment(1024);
});
socket.on('debug', (line) => { const text: string = line; console.error(text); });
socket.on('end', () => { const clean: boolean = socket.closeNotifyReceived; console.log(clean); });
socket.on('error', (err) => {
  if (err instanceof tls.MbedtlsError) {
    const fields: Array<string | number | undefined> = [err.code, err.mbedtlsCode, err.mbedtlsHex, err.mbedtlsText, err.alert, err.hint, err.reason];
    console.log(fields);
  }
});
tls.connect(443, 'example.com', { servername: 'example.com' });
tls.connect(443, { host: 'example.com', pskCallback: (hint) => ({ psk: Buffer.alloc(16), identity: hint ?? 'me' }) });
tls.connect('/tmp/tls.sock', { rejectUnauthorized: false, checkServerIdentity: tls.checkServerIdentity });

const wrapped = new tls.TLSSocket(new net.Socket(), { isServer: false, debug: 1 });
const unconnected = new tls.TLSSocket(null);
unconnected.on('close', (hadError: boolean) => console.log(hadError, wrapped.encrypted));

const agent: https.Agent = new tls.Agent({ keepAlive: false });
https.get({ host: 'example.com', agent });

const error = new tls.MbedtlsError('failed', { code: 'ERR_MBEDTLS_X', mbedtlsCode: -0x7200 });
const errorName: 'MbedtlsError' = error.name;
const ciphers: string[] = tls.getCiphers();
const memory: { current: number; peak: number } = tls.mbedtlsMemoryUsage();
const roots: readonly string[] = tls.rootCertificates;
const profile: 'default' | 'small' = tls.buildProfile;
const alpn = {};
tls.convertALPNProtocols(['h2', 'http/1.1'], alpn);
tls.DEFAULT_MIN_VERSION = 'TLSv1.3';
tls.DEFAULT_MAX_VERSION = 'TLSv1.3';
tls.DEFAULT_CIPHERS = tls.DEFAULT_CIPHERS + ':!PSK';
const curve: 'auto' = tls.DEFAULT_ECDH_CURVE;
const pair: tls.SecurePair = tls.createSecurePair(context, false);
const pair2 = new tls.SecurePair(context, true, false, false);
pair.cleartext.write('x');
pair2.destroy();
console.log(errorName, ciphers, memory, roots, curve, profile);

// DTLS, both ways of reaching it.
const sameDtls: typeof dtls = tls.dtls;
const dtlsServer: dtls.DTLSServer = sameDtls.createServer({ connectionId: 8, idleTimeout: 300000, maxConnections: 10000,
  pskCallback: (peer: dtls.DTLSSocket, identity: string) => (identity ? Buffer.alloc(16) : null),
  retransmitTimeout: { min: 500, max: 30000 } }, (peer) => {
  peer.on('message', (message: Buffer) => peer.send(message));
  peer.on('peerAddressChange', ({ address, port }) => console.log(address, port));
});
dtlsServer.listen(5684, () => {
  const stats: dtls.ServerStats = dtlsServer.stats;
  console.log(stats.datagrams, stats.dropped.unknownConnectionId, dtlsServer.address().port);
});
dtlsServer.on('tlsClientError', (err, peer) => console.log(err.message, peer.remoteAddress));
new dtls.DTLSServer().listen({ port: 0 }).close(() => undefined).getConnections((err, count: number) => console.log(err, count));

const client: dtls.DTLSSocket = dtls.connect({ host: 'localhost', port: 5684, ca, connectionId: true, mtu: 1200, debug: 2 }, () => {
  client.send('hello', (err) => console.log(err));
  const cid = client.getConnectionId();
  if (cid) console.log(cid.own, cid.peer);
  const usage: tls.MemoryUsage = client.memoryUsage();
  console.log(usage, client.getProtocol(), client.getCipher().name, client.getPeerCertificate().subject, client.isSessionReused());
  client.setMTU(1400);
  client.close();
});
client.on('session', (session: Buffer) => dtls.connect({ port: 5684, session }));
client.on('error', (err) => console.log(err.message));
