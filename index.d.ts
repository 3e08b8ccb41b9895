// Types of mbedtls-stream's public API (lib/index.js): node:tls's shapes from @types/node
// where ours are node's, and our additions typed here. README.md ("API") says what each does.
/// <reference types="node" />

import * as net from 'net';
import * as https from 'https';
import * as stream from 'stream';
import * as tls from 'tls';
import dtlsModule = require('./dtls');

declare namespace mbedtlsStream {
  /** Mbed TLS debug levels: 0 none, 1 errors, 2 state changes, 3 informational, 4 verbose. */
  type DebugLevel = 0 | 1 | 2 | 3 | 4;
  /** The record sizes RFC 6066's max_fragment_length can ask for, in bytes. */
  type MaxFragmentLength = 512 | 1024 | 2048 | 4096;
  /** Bytes Mbed TLS holds: now, and at the most (the handshake's peak for a connection). */
  interface MemoryUsage {
    current: number;
    peak: number;
  }
  /** A connection's memory: Mbed TLS's and the engine's buffers, and how many blocks were
   *  ever allocated for it (a count that stays put while a connection reuses its memory). */
  interface ConnectionMemoryUsage extends MemoryUsage {
    allocations: number;
  }

  /** Options of createSecureContext(): node's, plus maxFragmentLength. */
  interface SecureContextOptions extends tls.SecureContextOptions {
    /** Client: ask the server for records of at most this many bytes (TLS 1.2 only). */
    maxFragmentLength?: MaxFragmentLength | undefined;
  }

  /** Options shared by connect(), createServer() and new TLSSocket(): debug output. */
  interface DebugOption {
    /** Mbed TLS's debug output, as 'debug' events; 0 (none) by default. */
    debug?: DebugLevel | undefined;
  }

  /** Options shared by connect(), createServer() and new TLSSocket(): where the handshake runs. */
  interface AsyncHandshakeOption {
    /**
     * Runs the handshake's engine calls (its public-key operations) on libuv's thread pool,
     * one at a time per connection, events in the same order: true (the default) while more
     * than one handshake is in progress on the thread, 'always' for every one, false never
     * (on the JS thread, as node:tls does).
     */
    asyncHandshake?: boolean | 'always' | undefined;
  }

  interface TLSSocketOptions extends Omit<tls.TLSSocketOptions, 'secureContext'>, SecureContextOptions, DebugOption, AsyncHandshakeOption {
    ALPNCallback?: tls.SecureContextOptions['ALPNCallback'];
    SNICallback?: tls.TlsOptions['SNICallback'];
    pskCallback?:
      | ((socket: TLSSocket, identity: string) => NodeJS.ArrayBufferView | null)
      | ((hint: string | null) => tls.PSKCallbackNegotation | null)
      | undefined;
    allowHalfOpen?: boolean | undefined;
    highWaterMark?: number | undefined;
  }

  interface ConnectionOptions extends Omit<tls.ConnectionOptions, 'pskCallback' | 'secureContext'>, SecureContextOptions, DebugOption, AsyncHandshakeOption {
    secureContext?: SecureContext | undefined;
    pskCallback?: ((hint: string | null) => tls.PSKCallbackNegotation | null) | undefined;
    checkServerIdentity?: ((hostname: string, cert: tls.PeerCertificate) => Error | undefined) | undefined;
  }

  interface TlsOptions extends Omit<tls.TlsOptions, 'pskCallback' | 'SNICallback' | 'secureContext'>, SecureContextOptions, DebugOption, AsyncHandshakeOption {
    secureContext?: SecureContext | undefined;
    SNICallback?:
      | ((servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void)
      | undefined;
    pskCallback?: ((socket: TLSSocket, identity: string) => NodeJS.ArrayBufferView | null) | undefined;
  }

  /** Keys, certificates, CAs and CRLs parsed once (createSecureContext()). */
  class SecureContext implements tls.SecureContext {
    constructor(options?: SecureContextOptions);
    context: any;
  }

  /** A TLS connection over any Duplex, node's tls.TLSSocket on Mbed TLS. */
  class TLSSocket extends tls.TLSSocket {
    constructor(socket: net.Socket | stream.Duplex | null, options?: TLSSocketOptions);
    /** After 'end': true when the peer sent close_notify, false for a bare FIN (truncation). */
    readonly closeNotifyReceived: boolean;
    authorizationError: Error;
    /** Bytes held for this connection (Mbed TLS's and the engine's buffers); the peak is the
     *  handshake's or a burst's. Given back 1 to 2 s after the connection goes quiet. */
    memoryUsage(): ConnectionMemoryUsage;
    setKeyCert(context: tls.SecureContextOptions | tls.SecureContext): void;

    addListener(event: 'debug', listener: (line: string) => void): this;
    addListener(event: 'secure', listener: () => void): this;
    addListener(event: 'secureConnect', listener: () => void): this;
    addListener(event: 'session', listener: (session: Buffer) => void): this;
    addListener(event: 'keylog', listener: (line: Buffer) => void): this;
    addListener(event: 'error', listener: (err: MbedtlsError | Error) => void): this;
    addListener(event: 'close', listener: (hadError: boolean) => void): this;
    addListener(event: string | symbol, listener: (...args: any[]) => void): this;
    on(event: 'debug', listener: (line: string) => void): this;
    on(event: 'secure', listener: () => void): this;
    on(event: 'secureConnect', listener: () => void): this;
    on(event: 'session', listener: (session: Buffer) => void): this;
    on(event: 'keylog', listener: (line: Buffer) => void): this;
    on(event: 'error', listener: (err: MbedtlsError | Error) => void): this;
    on(event: 'close', listener: (hadError: boolean) => void): this;
    on(event: string | symbol, listener: (...args: any[]) => void): this;
    once(event: 'debug', listener: (line: string) => void): this;
    once(event: 'secure', listener: () => void): this;
    once(event: 'secureConnect', listener: () => void): this;
    once(event: 'session', listener: (session: Buffer) => void): this;
    once(event: 'keylog', listener: (line: Buffer) => void): this;
    once(event: 'error', listener: (err: MbedtlsError | Error) => void): this;
    once(event: 'close', listener: (hadError: boolean) => void): this;
    once(event: string | symbol, listener: (...args: any[]) => void): this;
  }

  /** A net.Server whose connections are TLSSockets; callable without `new`, as node's. */
  class Server extends tls.Server {
    constructor(secureConnectionListener?: (socket: TLSSocket) => void);
    constructor(options: TlsOptions, secureConnectionListener?: (socket: TLSSocket) => void);
    /** The PEM of the development certificate this server serves, or null. */
    readonly developmentCertificate: string | null;
    addContext(hostname: string, context: tls.SecureContextOptions | tls.SecureContext): void;
    setSecureContext(options: SecureContextOptions): void;

    addListener(event: 'secureConnection', listener: (socket: TLSSocket) => void): this;
    addListener(event: 'tlsClientError', listener: (err: MbedtlsError | Error, socket: TLSSocket) => void): this;
    addListener(event: 'debug', listener: (line: string, socket: TLSSocket) => void): this;
    addListener(event: 'keylog', listener: (line: Buffer, socket: TLSSocket) => void): this;
    addListener(event: 'newSession',
      listener: (sessionId: Buffer, sessionData: Buffer, callback: () => void) => void): this;
    addListener(event: 'resumeSession',
      listener: (sessionId: Buffer, callback: (err: Error | null, sessionData?: Buffer | null) => void) => void): this;
    addListener(event: string | symbol, listener: (...args: any[]) => void): this;
    on(event: 'secureConnection', listener: (socket: TLSSocket) => void): this;
    on(event: 'tlsClientError', listener: (err: MbedtlsError | Error, socket: TLSSocket) => void): this;
    on(event: 'debug', listener: (line: string, socket: TLSSocket) => void): this;
    on(event: 'keylog', listener: (line: Buffer, socket: TLSSocket) => void): this;
    on(event: 'newSession',
      listener: (sessionId: Buffer, sessionData: Buffer, callback: () => void) => void): this;
    on(event: 'resumeSession',
      listener: (sessionId: Buffer, callback: (err: Error | null, sessionData?: Buffer | null) => void) => void): this;
    on(event: string | symbol, listener: (...args: any[]) => void): this;
    once(event: 'secureConnection', listener: (socket: TLSSocket) => void): this;
    once(event: 'tlsClientError', listener: (err: MbedtlsError | Error, socket: TLSSocket) => void): this;
    once(event: 'debug', listener: (line: string, socket: TLSSocket) => void): this;
    once(event: 'keylog', listener: (line: Buffer, socket: TLSSocket) => void): this;
    once(event: string | symbol, listener: (...args: any[]) => void): this;
  }

  /** An https.Agent whose connections are our client TLSSockets, with session resumption. */
  class Agent extends https.Agent {}

  /** The error class thrown and emitted; `code` is stable (node's, else ERR_MBEDTLS_<NAME>). */
  class MbedtlsError extends Error {
    constructor(message: string, details?: {
      code?: string; mbedtlsCode?: number; mbedtlsText?: string; alert?: string; [field: string]: unknown;
    });
    readonly name: 'MbedtlsError';
    code: string;
    /** Mbed TLS's error number (negative), when the error came from Mbed TLS. */
    mbedtlsCode?: number;
    /** The number as Mbed TLS's programs print it, e.g. '-0x7200'. */
    mbedtlsHex?: string;
    /** Mbed TLS's description of the error. */
    mbedtlsText?: string;
    /** The name of the fatal alert the peer sent. */
    alert?: string;
    /** Plain words on the usual cause, for the failures people meet most. */
    hint?: string;
    /** The precise verification failure where `code` is node's coarser one. */
    reason?: string;
    /** ERR_TLS_CERT_ALTNAME_INVALID: the name checked and the peer's certificate. */
    host?: string;
    cert?: tls.PeerCertificate;
  }

  /** Deprecated in node (DEP0064). */
  interface SecurePair extends NodeJS.EventEmitter {
    encrypted: TLSSocket;
    cleartext: TLSSocket;
    destroy(): void;
  }
  const SecurePair: {
    new (secureContext?: SecureContext, isServer?: boolean, requestCert?: boolean,
      rejectUnauthorized?: boolean, options?: TLSSocketOptions): SecurePair;
  };

  function connect(options: ConnectionOptions, secureConnectListener?: () => void): TLSSocket;
  function connect(port: number, host?: string, options?: ConnectionOptions, secureConnectListener?: () => void): TLSSocket;
  function connect(port: number, options?: ConnectionOptions, secureConnectListener?: () => void): TLSSocket;
  function connect(path: string, options?: ConnectionOptions, secureConnectListener?: () => void): TLSSocket;
  function createServer(secureConnectionListener?: (socket: TLSSocket) => void): Server;
  function createServer(options: TlsOptions, secureConnectionListener?: (socket: TLSSocket) => void): Server;
  /** Parses once; bad input throws here with a coded MbedtlsError. */
  function createSecureContext(options?: SecureContextOptions): SecureContext;
  /** @deprecated DEP0064, as in node. */
  function createSecurePair(secureContext?: SecureContext, isServer?: boolean, requestCert?: boolean,
    rejectUnauthorized?: boolean, options?: TLSSocketOptions): SecurePair;
  /** Cipher suite names (lower case, OpenSSL's names as node lists them). */
  function getCiphers(): string[];
  /** Bytes Mbed TLS holds in this process, now and at the most. */
  function mbedtlsMemoryUsage(): MemoryUsage;
  /** The build profile of the native addon: 'default' (16 KiB records), or 'small' (4 KiB
   *  records, `npm install --mbedtls_profile=small`; see README "Small-footprint build"). */
  const buildProfile: 'default' | 'small';
  const checkServerIdentity: typeof tls.checkServerIdentity;
  const convertALPNProtocols: (protocols: readonly string[] | NodeJS.ArrayBufferView, out: object) => void;
  const rootCertificates: readonly string[];
  /** Assignable: contexts made afterwards use the new value. */
  let DEFAULT_MIN_VERSION: tls.SecureVersion;
  let DEFAULT_MAX_VERSION: tls.SecureVersion;
  let DEFAULT_CIPHERS: string;
  const DEFAULT_ECDH_CURVE: 'auto';
  /** DTLS 1.2 over UDP; also require('mbedtls-stream/dtls'). */
  const dtls: typeof dtlsModule;
}

export = mbedtlsStream;
