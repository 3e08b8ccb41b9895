// Types of mbedtls-stream's DTLS 1.2 (lib/dtls): require('mbedtls-stream/dtls') and
// require('mbedtls-stream').dtls. README.md ("DTLS 1.2") says what each does.
/// <reference types="node" />

import * as dgram from 'dgram';
import { EventEmitter } from 'events';
import { X509Certificate } from 'crypto';
import * as tls from 'tls';
import type { MbedtlsError, ConnectionMemoryUsage, SecureContext, DebugLevel } from './index';

declare namespace dtls {
  /** Retransmission waits in milliseconds (RFC 6347: 1000 and 60000 by default). */
  interface RetransmitTimeout {
    min?: number | undefined;
    max?: number | undefined;
  }

  /** Options both ends take. */
  interface CommonOptions {
    ca?: string | Buffer | Array<string | Buffer> | undefined;
    cert?: string | Buffer | Array<string | Buffer> | undefined;
    key?: string | Buffer | Array<string | Buffer | tls.KeyObject> | undefined;
    passphrase?: string | undefined;
    crl?: string | Buffer | Array<string | Buffer> | undefined;
    ciphers?: string | undefined;
    ALPNProtocols?: readonly string[] | NodeJS.ArrayBufferView | undefined;
    rejectUnauthorized?: boolean | undefined;
    allowPartialTrustChain?: boolean | undefined;
    secureContext?: SecureContext | undefined;
    /** The largest datagram sent, in bytes (default 1200). */
    mtu?: number | undefined;
    retransmitTimeout?: RetransmitTimeout | undefined;
    /** Milliseconds for the whole handshake (client: none by default; server: 120000). */
    handshakeTimeout?: number | undefined;
    type?: 'udp4' | 'udp6' | undefined;
    debug?: DebugLevel | undefined;
  }

  interface ConnectOptions extends CommonOptions {
    host?: string | undefined;
    port: number;
    /** A bound dgram.Socket to use; by default the client makes and connects its own. */
    socket?: dgram.Socket | undefined;
    servername?: string | undefined;
    checkServerIdentity?: ((hostname: string, cert: tls.PeerCertificate) => Error | undefined) | undefined;
    pskCallback?: ((hint: string | null) => tls.PSKCallbackNegotation | null) | undefined;
    session?: Buffer | undefined;
    /** true: an empty CID of ours; a Buffer (up to 32 bytes): the CID the server puts in records to us. */
    connectionId?: boolean | Buffer | undefined;
  }

  interface ServerOptions extends CommonOptions {
    requestCert?: boolean | undefined;
    pskCallback?: ((socket: DTLSSocket, identity: string) => NodeJS.ArrayBufferView | null) | undefined;
    pskIdentityHint?: string | undefined;
    /** Stateless HelloVerifyRequest cookies (default true). */
    cookies?: boolean | undefined;
    /** Length in bytes (1 to 32) of the CIDs the server hands out; 0 or absent: none. */
    connectionId?: number | undefined;
    /** Milliseconds a silent peer is kept (none by default). */
    idleTimeout?: number | undefined;
    maxConnections?: number | undefined;
    ticketKeys?: Buffer | undefined;
    sessionTimeout?: number | undefined;
    SNICallback?:
      | ((servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void)
      | undefined;
  }

  interface ConnectionId {
    /** The CID the peer puts in records to us. */
    own: Buffer;
    /** The CID we put in records to the peer. */
    peer: Buffer;
  }

  /** What the server's demultiplexer did (server.stats). */
  interface ServerStats {
    datagrams: number;
    helloVerifyRequests: number;
    handshakes: number;
    peerAddressChanges: number;
    dropped: {
      malformed: number;
      unknownPeer: number;
      unknownConnectionId: number;
      badClientHello: number;
      unauthenticated: number;
      maxConnections: number;
      closing: number;
    };
  }

  /** One DTLS association, with datagram semantics: one record per send(), one 'message' per record. */
  class DTLSSocket extends EventEmitter {
    private constructor();
    readonly encrypted: true;
    authorized: boolean;
    authorizationError: Error | null;
    alpnProtocol: string | false | null;
    servername: string | false | null;
    remoteAddress: string;
    remotePort: number;
    remoteFamily: 'IPv4' | 'IPv6';
    destroyed: boolean;
    server: DTLSServer | null;
    /** Sends one record; data larger than one record fails with ERR_DTLS_MESSAGE_TOO_LARGE. */
    send(data: string | NodeJS.ArrayBufferView, callback?: (err?: Error | null) => void): void;
    /** Sends close_notify, then closes. */
    close(callback?: () => void): void;
    destroy(err?: Error): void;
    address(): { address: string; family: string; port: number };
    /** The path MTU in bytes, 64 to 65535. */
    setMTU(mtu: number): void;
    getConnectionId(): ConnectionId | null;
    getProtocol(): 'DTLSv1.2' | string | null;
    getCipher(): tls.CipherNameAndProtocol;
    getPeerCertificate(detailed: true): tls.DetailedPeerCertificate;
    getPeerCertificate(detailed?: false): tls.PeerCertificate;
    getPeerCertificate(detailed?: boolean): tls.PeerCertificate | tls.DetailedPeerCertificate;
    getPeerX509Certificate(): X509Certificate | undefined;
    getCertificate(): tls.PeerCertificate | object | null;
    getX509Certificate(): X509Certificate | undefined;
    getSession(): Buffer | undefined | null;
    isSessionReused(): boolean;
    getFinished(): Buffer | undefined;
    getPeerFinished(): Buffer | undefined;
    exportKeyingMaterial(length: number, label: string, context?: Buffer): Buffer;
    memoryUsage(): ConnectionMemoryUsage;

    on(event: 'secureConnect' | 'secure', listener: () => void): this;
    on(event: 'message', listener: (message: Buffer) => void): this;
    on(event: 'session', listener: (session: Buffer) => void): this;
    on(event: 'peerAddressChange', listener: (address: { address: string; port: number }) => void): this;
    on(event: 'keylog', listener: (line: Buffer) => void): this;
    on(event: 'debug', listener: (line: string) => void): this;
    on(event: 'close', listener: () => void): this;
    on(event: 'error', listener: (err: MbedtlsError | Error) => void): this;
    on(event: string | symbol, listener: (...args: any[]) => void): this;
    once(event: 'secureConnect' | 'secure', listener: () => void): this;
    once(event: 'message', listener: (message: Buffer) => void): this;
    once(event: 'session', listener: (session: Buffer) => void): this;
    once(event: 'close', listener: () => void): this;
    once(event: 'error', listener: (err: MbedtlsError | Error) => void): this;
    once(event: string | symbol, listener: (...args: any[]) => void): this;
  }

  /** One UDP socket, many peers. */
  class DTLSServer extends EventEmitter {
    constructor(secureConnectionListener?: (socket: DTLSSocket) => void);
    constructor(options: ServerOptions, secureConnectionListener?: (socket: DTLSSocket) => void);
    readonly stats: ServerStats;
    readonly listening: boolean;
    listen(port?: number, host?: string, callback?: () => void): this;
    listen(port?: number, callback?: () => void): this;
    listen(options: { port?: number; host?: string; socket?: dgram.Socket }, callback?: () => void): this;
    address(): { address: string; family: string; port: number };
    /** close_notify to every peer, then the socket. */
    close(callback?: () => void): this;
    getConnections(callback: (err: Error | null, count: number) => void): this;

    on(event: 'listening' | 'close', listener: () => void): this;
    on(event: 'secureConnection', listener: (socket: DTLSSocket) => void): this;
    on(event: 'tlsClientError', listener: (err: MbedtlsError | Error, socket: DTLSSocket) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: string | symbol, listener: (...args: any[]) => void): this;
    once(event: 'listening' | 'close', listener: () => void): this;
    once(event: 'secureConnection', listener: (socket: DTLSSocket) => void): this;
    once(event: 'tlsClientError', listener: (err: MbedtlsError | Error, socket: DTLSSocket) => void): this;
    once(event: 'error', listener: (err: Error) => void): this;
    once(event: string | symbol, listener: (...args: any[]) => void): this;
  }

  function connect(options: ConnectOptions, secureConnectListener?: () => void): DTLSSocket;
  function createServer(secureConnectionListener?: (socket: DTLSSocket) => void): DTLSServer;
  function createServer(options: ServerOptions, secureConnectionListener?: (socket: DTLSSocket) => void): DTLSServer;
}

export = dtls;
