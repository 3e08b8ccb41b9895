/*
 * engine.h: mbedtls-stream's sans-I/O TLS engine over Mbed TLS 3.6.
 *
 * The engine owns no socket, no file, no thread and no clock. The embedder moves bytes:
 *
 *     transport --feed_ciphertext--> [ engine ] --read_plaintext--> application
 *     transport <--take_ciphertext-- [ engine ] <--write_plaintext-- application
 *
 * Two objects:
 *   mst_config   parsed once (CAs, CRLs, own certificates and keys, versions, ALPN, ...),
 *                reference-counted and shared by any number of sessions. It becomes
 *                read-only when the first session is created from it.
 *   mst_session  one connection. Every call runs to completion over memory buffers: one
 *                mst_session_feed_ciphertext() processes every complete record it was given,
 *                and all the plaintext and ciphertext that produced can be taken right after.
 *
 * The engine never calls back into the embedder. What happened during a call (handshake
 * done, session ticket received, peer closed) is recorded and read with
 * mst_session_take_events() and mst_session_state() after the call returns.
 *
 * ERRORS are sticky and fatal: after a protocol error every call returns that same error
 * and does no new work, but ciphertext already queued (a fatal alert) can still be taken
 * and sent. API misuse (writing before the handshake is done, changing a config in use)
 * returns an MST_ERR_* code and leaves the session as it was.
 *
 * PEER NAMES are the embedder's to check (node checks them with tls.checkServerIdentity).
 * The engine verifies the certificate chain up to a trusted CA, validity, key usage and
 * CRLs; a name mismatch never fails the handshake here.
 *
 * DATAGRAM MODE (DTLS): each feed is one datagram, each take is one datagram, timers run
 * on the clock the embedder gives with mst_session_set_time().
 *
 * THREADS: a session is used by one thread at a time; configs may be shared across threads
 * once frozen.
 */
#ifndef MBEDTLS_STREAM_ENGINE_H
#define MBEDTLS_STREAM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Errors of the engine itself. Mbed TLS's own codes run from -0x0001 to -0x7FFF. */
#define MST_ERR_CONFIG_FROZEN  (-0x10001) /* the config is in use by a session */
#define MST_ERR_NOT_READY      (-0x10002) /* application data before the handshake is done */
#define MST_ERR_CLOSED         (-0x10003) /* write after close_notify was sent */
#define MST_ERR_BAD_ARGUMENT   (-0x10004) /* NULL pointer, bad length, unknown enum value */
#define MST_ERR_NO_CERTIFICATE (-0x10005) /* PEM or DER held no certificate */
#define MST_ERR_KEY_MISMATCH   (-0x10006) /* the private key does not match the certificate */
#define MST_ERR_TOO_MANY       (-0x10007) /* more certificate/key pairs than a config holds */
#define MST_ERR_RECORD_OVERFLOW (-0x10008) /* the peer sent an over-long record */
#define MST_ERR_SESSION_MISMATCH (-0x10009) /* a saved session made for another peer name */
#define MST_ERR_NO_SESSION     (-0x1000A) /* nothing resumable yet (no ticket, no handshake) */
#define MST_ERR_REFUSED        (-0x1000B) /* the embedder ended the session (mst_session_refuse) */
#define MST_ERR_CHAIN_TOO_LONG (-0x1000C) /* a Certificate message longer than we send */
#define MST_ERR_MESSAGE_TOO_LARGE (-0x1000D) /* DTLS: data that does not fit one record */
#define MST_ERR_HANDSHAKE_TOO_LONG (-0x1000E) /* the peer announced a handshake message longer
                                                 than MBEDTLS_SSL_IN_HANDSHAKE_MAX_LEN */

typedef struct mst_error {
    int code;        /* Mbed TLS error code or MST_ERR_*; 0 when there is no error */
    char text[160];  /* human-readable text for code */
    const char *part; /* what was being parsed ("certificate", "private key"), or NULL */
} mst_error;

enum mst_endpoint { MST_CLIENT = 0, MST_SERVER = 1 };
enum mst_transport { MST_STREAM = 0, MST_DATAGRAM = 1 };
enum mst_verify {
    MST_VERIFY_NONE = 0,     /* do not ask for / check the peer's certificate */
    MST_VERIFY_OPTIONAL = 1, /* check it, report the result, finish the handshake anyway */
    MST_VERIFY_REQUIRED = 2  /* a peer certificate that fails verification fails the handshake */
};
/* Protocol versions, as on the wire. */
#define MST_TLS1_2 0x0303
#define MST_TLS1_3 0x0304

/* mst_session_state() flags */
#define MST_STATE_HANDSHAKING       0x01u /* handshake not finished yet */
#define MST_STATE_HAS_CIPHERTEXT    0x02u /* records are waiting for mst_session_take_ciphertext */
#define MST_STATE_HAS_PLAINTEXT     0x04u /* data is waiting for mst_session_read_plaintext */
#define MST_STATE_PEER_CLOSE_NOTIFY 0x08u /* the peer sent close_notify */
#define MST_STATE_PEER_EOF          0x10u /* the transport ended without close_notify */
#define MST_STATE_FAILED            0x20u /* a sticky error; see mst_session_error() */
#define MST_STATE_CLOSE_SENT        0x40u /* we queued close_notify */

/* mst_session_take_events() flags: what happened since the last take */
#define MST_EVENT_HANDSHAKE_DONE     0x01u
#define MST_EVENT_NEW_SESSION_TICKET 0x02u /* clients: tickets wait (mst_session_next_ticket) */
#define MST_EVENT_PEER_CLOSED        0x04u /* close_notify or EOF arrived */
#define MST_EVENT_KEYLOG             0x08u /* key log lines are waiting (see enable_keylog) */
#define MST_EVENT_CLIENT_HELLO       0x10u /* a held ClientHello waits (see hold_client_hello) */
#define MST_EVENT_DEBUG              0x20u /* debug lines are waiting (see mst_config_set_debug) */
#define MST_EVENT_PSK_IDENTITY       0x40u /* a PSK identity waits for its key (servers) */
#define MST_EVENT_PSK_HINT           0x80u /* a TLS 1.2 PSK is asked for, after the hint (clients) */
#define MST_EVENT_NEW_SESSION        0x100u /* a TLS 1.2 session ID waits to be stored (see
                                               mst_session_use_session_store) */

typedef struct mst_trust mst_trust;
typedef struct mst_resumption mst_resumption;
typedef struct mst_config mst_config;
typedef struct mst_session mst_session;

/* Seeds the process-wide RNG, starts PSA crypto and installs the memory accounting.
 * Idempotent and thread-safe; mst_config_new() calls it. Returns 0 or an error code. */
int mst_global_init(mst_error *err);

/* Bytes Mbed TLS holds in the whole process, now and at the most. */
void mst_memory_totals(size_t *current, size_t *peak);

/* The build profile this engine and its Mbed TLS were compiled with (deps/build-profile.js,
 * the gyp variable mbedtls_profile): "default", or "small" for 4 KiB record buffers. */
const char *mst_build_profile(void);
/* The most bytes of content one record carries, either way, in this build: 16384 (RFC 8446
 * 5.1), or 4096 in the small profile (MBEDTLS_SSL_{IN,OUT}_CONTENT_LEN). */
size_t mst_record_content_length(void);

/* ---- Trust: CAs and CRLs, parsed once and shared ---- */

/* A trust store (trusted CAs and CRLs) that any number of configs can share, so a large CA
 * bundle is parsed and held once. Reference-counted; read-only once a config using it has
 * been frozen by a session. */
mst_trust *mst_trust_new(mst_error *err);
void mst_trust_ref(mst_trust *trust);
void mst_trust_unref(mst_trust *trust);
/* Trusted CAs: one or more PEM certificates (labelled CERTIFICATE, TRUSTED CERTIFICATE or
 * X509 CERTIFICATE, as OpenSSL reads them; other PEM blocks are passed over) or one DER
 * certificate. With strict == 0, certificates Mbed TLS cannot parse are skipped (a system
 * bundle with an exotic root), and *skipped (when not NULL) counts them; at least one must
 * parse. Data that holds no certificate at all (no certificate block, not DER) is
 * MST_ERR_NO_CERTIFICATE and leaves the store as it was. A TRUSTED CERTIFICATE that
 * restricts the purposes it is trusted for is refused (MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE):
 * Mbed TLS cannot honour them. */
int mst_trust_add_ca(mst_trust *trust, const uint8_t *data, size_t len, int strict,
                     size_t *skipped, mst_error *err);
/* The trusted CAs as DER, in the order added: index 0, 1, ...; NULL past the end. Read them
 * only while nothing adds to the store (the pointers stay valid until the store is freed). */
const uint8_t *mst_trust_ca_certificate(const mst_trust *trust, size_t index, size_t *len);
/* A certificate revocation list, PEM or DER. */
int mst_trust_add_crl(mst_trust *trust, const uint8_t *data, size_t len, mst_error *err);

/* ---- Resumption (servers): ticket key and session-ID cache, shared ---- */

/* Node's ticket key layout: 16 bytes of key name, then 32 secret bytes. */
#define MST_TICKET_KEYS_LEN 48

/* What servers keep to resume sessions: the key that seals session tickets (TLS 1.2 and
 * 1.3) and a cache of TLS 1.2 session IDs. Sessions stay resumable for lifetime_s seconds.
 * keys: MST_TICKET_KEYS_LEN bytes, or NULL for random ones. Reference-counted; any number
 * of server configs may share one, and its keys may change while they are in use. */
mst_resumption *mst_resumption_new(uint32_t lifetime_s, const uint8_t *keys, size_t keys_len,
                                   mst_error *err);
void mst_resumption_ref(mst_resumption *store);
void mst_resumption_unref(mst_resumption *store);
/* Replaces the ticket keys: tickets sealed under the old ones are no longer accepted. */
int mst_resumption_set_keys(mst_resumption *store, const uint8_t *keys, size_t len);
void mst_resumption_get_keys(mst_resumption *store, uint8_t out[MST_TICKET_KEYS_LEN]);

/* ---- Configuration ---- */

/* A new config with node's defaults: TLS 1.2 to 1.3; clients verify the server
 * (MST_VERIFY_REQUIRED), servers do not ask for client certificates. Returns NULL and
 * fills err on failure. The caller holds one reference. */
mst_config *mst_config_new(enum mst_endpoint endpoint, enum mst_transport transport, mst_error *err);
void mst_config_ref(mst_config *config);
void mst_config_unref(mst_config *config); /* frees on the last reference */

/* Setters fail with MST_ERR_CONFIG_FROZEN once a session uses the config. */
int mst_config_set_versions(mst_config *config, int min_version, int max_version, mst_error *err);
int mst_config_set_verify(mst_config *config, enum mst_verify mode, mst_error *err);
/* Uses `trust` (referenced) for verifying peers, in place of any trust set before. */
int mst_config_set_trust(mst_config *config, mst_trust *trust, mst_error *err);
/* Shorthands for a config's own trust store, created on first use: as mst_trust_add_ca()
 * and mst_trust_add_crl(). */
int mst_config_add_ca(mst_config *config, const uint8_t *data, size_t len, int strict,
                      size_t *skipped, mst_error *err);
int mst_config_add_crl(mst_config *config, const uint8_t *data, size_t len, mst_error *err);
/* Our own certificate chain (PEM or DER, leaf first) and its private key (PEM or DER,
 * optionally encrypted; passphrase may be NULL). Up to 4 pairs, for example RSA and ECDSA.
 * The key must match the leaf certificate. MST_ERR_CHAIN_TOO_LONG when the chain makes a
 * Certificate message of more than MBEDTLS_SSL_OUT_HANDSHAKE_MAX_LEN bytes of body (100 KiB,
 * OpenSSL's default max_cert_list, RFC 8446 4.4.2 framing), or of more than
 * MBEDTLS_SSL_OUT_CONTENT_LEN bytes in all for a datagram config. */
int mst_config_add_certificate(mst_config *config, const uint8_t *chain, size_t chain_len,
                               const uint8_t *key, size_t key_len,
                               const uint8_t *passphrase, size_t passphrase_len, mst_error *err);
/* ALPN protocol names, in preference order (copied). */
int mst_config_set_alpn(mst_config *config, const char *const *protocols, size_t count,
                        mst_error *err);
/* Cipher suites by IANA number, in preference order (copied). */
int mst_config_set_ciphersuites(mst_config *config, const int *ids, size_t count, mst_error *err);
/* Servers: choose the TLS 1.2 suite by our order (node's honorCipherOrder: true) or, the
 * default, by the client's. (Mbed TLS's TLS 1.3 server always takes the client's order.) */
int mst_config_set_cipher_order(mst_config *config, bool server_order, mst_error *err);
/* Client: the pre-shared key it offers (RFC 4279 PSK suites in TLS 1.2, an external PSK in
 * TLS 1.3) and its identity; both are copied. With a PSK no certificate is needed at all. */
int mst_config_set_psk(mst_config *config, const uint8_t *key, size_t key_len,
                       const uint8_t *identity, size_t identity_len, mst_error *err);
/* Server: PSK identities the client offers go to the embedder, which answers with the key
 * (MST_EVENT_PSK_IDENTITY, mst_session_psk_identity, mst_session_set_psk).
 * Client (TLS or DTLS): offers TLS 1.2 PSK suites, and when the server chooses one, asks
 * the embedder for the key and identity once the server's identity hint is known, before
 * the ClientKeyExchange (MST_EVENT_PSK_HINT, mst_session_psk_hint, mst_session_set_client_psk);
 * a key from mst_config_set_psk then serves TLS 1.3 only. */
int mst_config_ask_psk(mst_config *config, mst_error *err);
/* Longest PSK identity hint a server sends. */
#define MST_PSK_HINT_MAX 65535
/* Server: the identity hint sent in a TLS 1.2 ServerKeyExchange on PSK suites (RFC 4279; a
 * plain PSK suite then sends ServerKeyExchange for it), copied; NULL or len 0 for none.
 * TLS 1.3 has no hint. */
int mst_config_set_psk_hint(mst_config *config, const uint8_t *hint, size_t len, mst_error *err);
/* Servers: issue session tickets and cache session IDs with `store` (referenced). Without
 * one a server resumes nothing. */
int mst_config_set_resumption(mst_config *config, mst_resumption *store, mst_error *err);
/* RFC 6066 max_fragment_length: 512, 1024, 2048 or 4096 bytes of plaintext per record, or 0
 * for none (the default). A client asks the server for it in TLS 1.2 and sends no larger
 * records itself; a server sends no larger records whatever the client asks. Either way the
 * engine also cuts its handshake records in the clear to the limit in force, which Mbed TLS
 * applies to application data only: a server honours a client's request for every record. */
int mst_config_set_max_fragment_length(mst_config *config, size_t length, mst_error *err);
/* Mbed TLS's debug output for the sessions of this config, up to `level`: 0 none (the
 * default), 1 errors, 2 state changes, 3 informational, 4 verbose (record dumps). Lines wait
 * in a window of each session (MST_EVENT_DEBUG says when; see mst_session_peek_debug). At
 * level 0 no callback is installed and debugging costs nothing. Mbed TLS's threshold is
 * process-wide and cannot change safely while sessions run on other threads: it is 4 from
 * the first session with a debug level on, so a debug session formats the lines of every
 * level (a level-1 session is that much slower) and keeps only those of its own level. */
int mst_config_set_debug(mst_config *config, int level, mst_error *err);

/* ---- Sessions ---- */

/* A new session on config (which it references and freezes). */
mst_session *mst_session_new(mst_config *config, mst_error *err);
/* Frees the session and everything Mbed TLS holds for it. Safe on NULL. */
void mst_session_free(mst_session *session);

/* Client: the server name sent in SNI; NULL sends none. Call before the first process. */
int mst_session_set_server_name(mst_session *session, const char *name);
/* Overrides the config's verification mode for this session (node's rejectUnauthorized
 * and requestCert are per connection, a config is shared). Call before the first process. */
int mst_session_set_verify(mst_session *session, enum mst_verify mode);
/* Whether a chain may end at a trusted certificate that is not self-issued (node's
 * allowPartialTrustChain); by default it may not. Call before the first process. */
void mst_session_allow_partial_chain(mst_session *session, bool allow);
/* DTLS server: the client's transport address, bound into HelloVerifyRequest cookies. */
int mst_session_set_transport_id(mst_session *session, const uint8_t *id, size_t len);
/* DTLS: the embedder's clock, in milliseconds, before each call. */
void mst_session_set_time(mst_session *session, uint64_t now_ms);
/* DTLS: milliseconds until the retransmission timer fires (then call process), or -1. */
int64_t mst_session_timeout(const mst_session *session);

/* Client: offers to resume a session saved with mst_session_save(). `name` is the peer name
 * this connection is for (what the embedder checks the certificate against); a session saved
 * for another name is refused with MST_ERR_SESSION_MISMATCH, so a session is never resumed
 * with a different host; so is a TLS 1.3 session made with another SNI name (set the SNI
 * name first). Call before the first process; on any error the handshake is a full one. */
int mst_session_resume(mst_session *session, const uint8_t *data, size_t len, const char *name);
/* Client: the state needed to resume this connection later, bound to the peer name `name`,
 * once the handshake is done: after TLS 1.2, the session; in TLS 1.3, the ticket being
 * reported (see mst_session_next_ticket), else the latest one received, else a session
 * without a ticket, which resumes nothing (as node's before a ticket arrives). It carries
 * the peer's certificate chain and its verification flags, which a resumed connection
 * reports as its own. With out == NULL, only *len is set. MST_ERR_NO_SESSION when there is
 * nothing to save (a TLS 1.2 server that gave neither a ticket nor a session ID). */
int mst_session_save(const mst_session *session, const char *name, uint8_t *out, size_t cap,
                     size_t *len);
/* Client, TLS 1.3: every NewSessionTicket is a session of its own, as node reports one per
 * ticket. Those received since the last call wait in order (MST_EVENT_NEW_SESSION_TICKET);
 * this moves to the oldest waiting, which mst_session_save() and mst_session_ticket() then
 * report, and returns 1. With none waiting it returns 0, and they report the latest ticket.
 * Call it until it returns 0 after each MST_EVENT_NEW_SESSION_TICKET: waiting tickets are
 * kept until then. */
int mst_session_next_ticket(mst_session *session);
/* Client: the session ticket it holds, as the server sent it (the one reported, see
 * above; after a resumed handshake, the ticket it offered until a new one arrives), or
 * NULL: none, or a server. */
const uint8_t *mst_session_ticket(const mst_session *session, size_t *len);
/* 1 when the handshake resumed a session (an abbreviated handshake), else 0. */
int mst_session_reused(const mst_session *session);

/* Server: holds the ClientHello once it has fully arrived, before Mbed TLS reads any of it
 * (MST_EVENT_CLIENT_HELLO), so the embedder can choose the config by the SNI name and ALPN
 * protocols offered (node's SNICallback and ALPNCallback), taking as long as it needs. Call
 * before the first feed. Input that is not a ClientHello is not held. DTLS: the hello is put
 * together from its fragments in the datagrams fed (in any order, duplicates too); the first
 * datagram must hold some of it. */
int mst_session_hold_client_hello(mst_session *session);
/* The held hello's offers: the SNI name is mst_session_server_name(); the ALPN protocols
 * are index 0, 1, ... (NULL past the end, or when none were offered). */
const char *mst_session_hello_alpn(const mst_session *session, size_t index);
/* Goes on with the held hello on `config` (a server config of the same transport; NULL
 * keeps the session's own), then call mst_session_process(). DTLS: `config` has the
 * session's CID length and its cookie secret (mst_config_share_dtls_cookies), else
 * MST_ERR_BAD_ARGUMENT; the session keeps its MTU, Connection ID and transport id. */
int mst_session_continue_hello(mst_session *session, mst_config *config);
/* Server (stream transport, a config with mst_config_set_resumption()): TLS 1.2 session IDs
 * are kept by the embedder, in a store that many servers may share (node's 'newSession' and
 * 'resumeSession'), in place of the config's own cache, for this session. Call before the
 * first feed; it holds the ClientHello as mst_session_hold_client_hello() does.
 *  - With the hello held (MST_EVENT_CLIENT_HELLO), mst_session_hello_session_id() is the ID
 *    the client offers to resume, if any, and the embedder gives the saved session it has
 *    for it with mst_session_set_stored_session() before mst_session_continue_hello(). A
 *    session saved for another ID, expired (the store's lifetime) or unreadable gives a full
 *    handshake.
 *  - A full handshake that gives the client a session ID (not a ticket) stops before the
 *    server's ChangeCipherSpec (MST_EVENT_NEW_SESSION): mst_session_new_session_id() and
 *    mst_session_new_session_data() are the ID and the saved session, to be stored; the
 *    handshake goes on after mst_session_new_session_stored() and mst_session_process().
 * TLS 1.3 resumes with tickets only: its legacy session ID is not reported. */
int mst_session_use_session_store(mst_session *session);
/* The session ID the held ClientHello offers to resume: one that comes without a ticket, in
 * a handshake that will be TLS 1.2 (the client does not offer TLS 1.3, or the config does
 * not allow it); NULL otherwise, and without mst_session_use_session_store(). */
const uint8_t *mst_session_hello_session_id(const mst_session *session, size_t *len);
/* The saved session (mst_session_new_session_data()'s bytes, copied) the store holds for
 * the offered ID. Call while the hello is held; without it the handshake is a full one. */
int mst_session_set_stored_session(mst_session *session, const uint8_t *data, size_t len);
/* After MST_EVENT_NEW_SESSION, until mst_session_new_session_stored(): the new session's ID
 * (32 bytes) and the saved session, Mbed TLS's serialized session (it holds the master
 * secret: keep it as secret as the server's key). NULL otherwise. */
const uint8_t *mst_session_new_session_id(const mst_session *session, size_t *len);
const uint8_t *mst_session_new_session_data(const mst_session *session, size_t *len);
/* The embedder has stored the new session; then call mst_session_process(). */
int mst_session_new_session_stored(mst_session *session);
/* Server with mst_config_ask_psk(): the PSK identity the client offered (in a TLS 1.3
 * ClientHello, which must be held, or a TLS 1.2 ClientKeyExchange), waiting for its key;
 * NULL when none waits. The handshake goes no further until mst_session_set_psk(). */
const uint8_t *mst_session_psk_identity(const mst_session *session, size_t *len);
/* Answers the waiting identity with its key (copied), or NULL for an identity the server
 * does not know (the handshake then fails with unknown_psk_identity, or in TLS 1.3 goes on
 * without the PSK). Then call mst_session_process(). */
int mst_session_set_psk(mst_session *session, const uint8_t *key, size_t len);
/* Client with mst_config_ask_psk(), after MST_EVENT_PSK_HINT: the identity hint of the
 * server's ServerKeyExchange, as sent; NULL when the server sent none or an empty one. *asked (when not NULL) is 1 while the handshake waits for
 * mst_session_set_client_psk(). */
const uint8_t *mst_session_psk_hint(const mst_session *session, size_t *len, int *asked);
/* Answers MST_EVENT_PSK_HINT with the key and identity for the ClientKeyExchange (both copied;
 * at most 48 and 65535 bytes). Then call mst_session_process(). To refuse, the embedder ends
 * the session with mst_session_refuse(). */
int mst_session_set_client_psk(mst_session *session, const uint8_t *key, size_t key_len,
                               const uint8_t *identity, size_t identity_len);

/* Runs the handshake and decrypts whatever is buffered, without new input: call it once
 * after creating a client (to produce the ClientHello) and when a DTLS timer fires. */
int mst_session_process(mst_session *session);
/* Feeds bytes received from the transport (in datagram mode: one datagram) and processes
 * every complete record. Returns 0 or the sticky error. After the handshake (stream mode)
 * records are read from `data` in place, and only a last, incomplete record is copied. */
int mst_session_feed_ciphertext(mst_session *session, const uint8_t *data, size_t len);
/* As mst_session_feed_ciphertext(), with the plaintext the call decrypts written to `out`
 * (cap bytes of room) first, *written bytes of it, so the embedder can hand it on without
 * a copy; what does not fit waits in the plaintext window as usual (and comes after). A
 * window that already holds plaintext keeps the order: the call then writes nothing to
 * out. Stream mode (a datagram session takes no `out`). */
int mst_session_feed_into(mst_session *session, const uint8_t *data, size_t len, uint8_t *out,
                          size_t cap, size_t *written);
/* As mst_session_feed_ciphertext(), with the plaintext of records wholly within `data`
 * decrypted over `data` itself, into its first *in_place bytes: a record's plaintext is
 * shorter than the record, and is written only over bytes Mbed TLS has already read. What
 * comes first (plaintext waiting from before, the record completing one begun in an earlier
 * call) goes to the window: the call's plaintext is the window's, then data[0, *in_place).
 * The bytes of `data` past *in_place are left undefined. Stream mode after the handshake;
 * otherwise a plain feed (*in_place is 0). */
int mst_session_feed_in_place(mst_session *session, uint8_t *data, size_t len,
                              size_t *in_place);
/* The most plaintext a feed of len more bytes can yield, counting the input still waiting
 * from before: room enough for mst_session_feed_into()'s out. */
size_t mst_session_plaintext_bound(const mst_session *session, size_t len);
/* The transport ended (TCP FIN). Before the handshake is done this is an error
 * (MBEDTLS_ERR_SSL_CONN_EOF); after it, MST_STATE_PEER_EOF unless close_notify came first. */
int mst_session_feed_eof(mst_session *session);
/* Encrypts application data; all of it is queued as records. Requires a finished
 * handshake (MST_ERR_NOT_READY otherwise). */
int mst_session_write_plaintext(mst_session *session, const uint8_t *data, size_t len);
/* As mst_session_write_plaintext(), with the records written to `out` (cap bytes of room)
 * first, *written bytes of them, so the embedder can send them without a copy; a record
 * that does not fit, and every one after it, waits in the ciphertext window as usual (and
 * goes after). A window that already holds ciphertext keeps the order: the call then
 * writes nothing to out. Stream mode only (MST_ERR_BAD_ARGUMENT for a datagram session). */
int mst_session_write_into(mst_session *session, const uint8_t *data, size_t len, uint8_t *out,
                           size_t cap, size_t *written);
/* Room enough for the records of a write of len bytes: mst_session_write_into()'s out.
 * 0 when the session has no keys yet. */
size_t mst_session_ciphertext_bound(const mst_session *session, size_t len);
/* Caps the plaintext carried by each record we send, from 512 to 16384 bytes (node's
 * setMaxSendFragment): a peer with small buffers, or lower latency per record. */
int mst_session_set_max_send_fragment(mst_session *session, size_t size);
/* Ends the session with the fatal alert `alert` (an RFC 8446 AlertDescription), at any
 * stage: a held ClientHello the embedder will not serve, a peer whose name it refuses.
 * The alert is queued and the session fails with MST_ERR_REFUSED. */
int mst_session_refuse(mst_session *session, unsigned char alert);
/* Queues close_notify. Idempotent. */
int mst_session_close(mst_session *session);

/* Ciphertext to send. In stream mode all queued bytes; in datagram mode one datagram.
 * The pointer is valid until the next call on the session. */
const uint8_t *mst_session_peek_ciphertext(const mst_session *session, size_t *len);
void mst_session_consume_ciphertext(mst_session *session, size_t len);
/* Copies up to cap bytes of ciphertext out (one datagram at most); returns the count. */
size_t mst_session_take_ciphertext(mst_session *session, uint8_t *out, size_t cap);

/* Decrypted application data. The pointer is valid until the next call on the session.
 * In datagram mode one record at a time: peek gives the oldest record, consume and read
 * take it whole (read cuts what does not fit cap, as a datagram socket does). */
const uint8_t *mst_session_peek_plaintext(const mst_session *session, size_t *len);
void mst_session_consume_plaintext(mst_session *session, size_t len);
size_t mst_session_read_plaintext(mst_session *session, uint8_t *out, size_t cap);

unsigned mst_session_state(const mst_session *session);
unsigned mst_session_take_events(mst_session *session);
/* The sticky error, or NULL. */
const mst_error *mst_session_error(const mst_session *session);
/* The description byte of the fatal alert the peer sent (RFC 8446 6.2), or -1. */
int mst_session_peer_alert(const mst_session *session);

/* ---- What was negotiated (valid once the handshake is done) ---- */

/* "TLSv1.2" or "TLSv1.3" (node's spelling), or NULL during the handshake. */
const char *mst_session_protocol(const mst_session *session);
/* IANA number and Mbed TLS name of the cipher suite, or 0 / NULL. */
int mst_session_ciphersuite_id(const mst_session *session);
const char *mst_session_ciphersuite_name(const mst_session *session);
/* Client: the TLS NamedGroup of the ephemeral key exchange (0x001D for X25519, 0x0017 for
 * secp256r1, ...), or 0 when there was none: a static RSA suite, a resumed TLS 1.2 session,
 * a TLS 1.3 psk_ke handshake. Always 0 on a server. */
uint16_t mst_session_key_exchange_group(const mst_session *session);
/* The negotiated ALPN protocol, or NULL. */
const char *mst_session_alpn(const mst_session *session);
/* The server name the client sent (server side) or was set (client side), or NULL. */
const char *mst_session_server_name(const mst_session *session);
/* Mbed TLS's X.509 verification flags for the peer (MBEDTLS_X509_BADCERT_*), name checks
 * excluded; 0 when verified. UINT32_MAX when no certificate was verified. */
uint32_t mst_session_verify_flags(const mst_session *session);
/* The peer's certificate chain as DER, as it sent it (leaf first): index 0, 1, ...; NULL
 * past the end. Also after a handshake that refused the chain. */
const uint8_t *mst_session_peer_certificate(const mst_session *session, size_t index, size_t *len);
/* In the per-depth flags of mst_session_verified_certificate(): the config holds CRLs but
 * none from this certificate's issuer. As node with a `crl` option (OpenSSL's
 * CRL_CHECK_ALL), every certificate below a self-issued anchor then needs its issuer's CRL;
 * the engine fails its verification (MBEDTLS_X509_BADCERT_OTHER) when one is missing. */
#define MST_X509_CRL_MISSING 0x40000000u
/* In the same flags: the chain ends at a trusted certificate that is not self-issued (an
 * intermediate in the CA list) and the session does not allow partial chains. As node
 * without allowPartialTrustChain (OpenSSL without X509_V_FLAG_PARTIAL_CHAIN), the engine
 * then fails the verification (MBEDTLS_X509_BADCERT_NOT_TRUSTED on that certificate). */
#define MST_X509_PARTIAL_CHAIN 0x20000000u

/* The chain as Mbed TLS verified it (also after a refused handshake): depth 0 is the
 * peer's leaf, the last depth the trust anchor when one was found. DER and the
 * MBEDTLS_X509_BADCERT_* flags of that depth (name checks excluded); NULL past the end. */
const uint8_t *mst_session_verified_certificate(const mst_session *session, size_t depth,
                                                size_t *len, uint32_t *flags);
/* The verify_data of our Finished message and of the peer's (RFC 5246 7.4.9, RFC 8446
 * 4.4.4: 12 bytes in TLS 1.2, the hash's length in TLS 1.3), of the latest handshake; NULL
 * until ours was sent / the peer's was verified. */
const uint8_t *mst_session_own_finished(const mst_session *session, size_t *len);
const uint8_t *mst_session_peer_finished(const mst_session *session, size_t *len);
/* Our own leaf certificate as sent in this session, as DER, or NULL. */
const uint8_t *mst_session_own_certificate(const mst_session *session, size_t *len);

/* Starts recording the session's secrets as NSS key log lines ("CLIENT_RANDOM ...",
 * "CLIENT_TRAFFIC_SECRET_0 ...", one per line, '\n'-terminated), for Wireshark: the labels
 * OpenSSL logs, EXPORTER_SECRET included in TLS 1.3. Call before
 * the handshake; lines then wait in a window (MST_EVENT_KEYLOG says when). */
int mst_session_enable_keylog(mst_session *session);
const uint8_t *mst_session_peek_keylog(const mst_session *session, size_t *len);
void mst_session_consume_keylog(mst_session *session, size_t len);

/* Debug lines of a config with a debug level (mst_config_set_debug), as Mbed TLS's own
 * programs print them: "file:line: |level| text\n", one per line, control characters inside
 * the text replaced by '?'. At most 256 KiB wait at a time: past that, one line saying so
 * ("mbedtls-stream:0000: |level| more than ...") is recorded and the rest dropped until the
 * window is consumed. */
const uint8_t *mst_session_peek_debug(const mst_session *session, size_t *len);
void mst_session_consume_debug(mst_session *session, size_t len);

/* RFC 5705 / RFC 8446 7.5 keying material exporter; context may be NULL (no context). */
int mst_session_export_keying_material(mst_session *session, uint8_t *out, size_t len,
                                       const char *label, size_t label_len,
                                       const uint8_t *context, size_t context_len);

/* Bytes held for this session, now and at the most: Mbed TLS's allocations and the
 * engine's own windows (ciphertext in and out, plaintext out, key log, debug lines). */
void mst_session_memory(const mst_session *session, size_t *current, size_t *peak);
/* How many blocks were ever allocated for this session (Mbed TLS's and the windows'): a
 * count that stays put while a connection reuses its memory. */
size_t mst_session_allocations(const mst_session *session);
/* Gives back what an idle session need not hold; call it when the connection has been
 * idle for a while (the engine has no clock: lib/ does so from one timer shared by all
 * sockets). While data flows the windows keep up to 256 KiB each between calls, and Mbed
 * TLS keeps its two record buffers (16.7 KB each); this frees every empty window and, for
 * a TLS session whose handshake is over with no record partly received, unread or unsent,
 * shrinks the record buffers to a few bytes. The next call that may read or write a
 * record (feed, process, write, close, refuse) grows them back first, so a full 16 KiB
 * record from the peer is always received (RFC 8446 5.1). Any time, any number of times;
 * returns the bytes the session holds afterwards (as mst_session_memory's current). */
size_t mst_session_trim(mst_session *session);

/* ---- DTLS 1.2 (datagram transport; dtls.c) ----
 *
 * RFC 6347 over the datagram mode above, plus RFC 9146 Connection IDs. The embedder owns the
 * UDP socket and the demultiplexing; these are the knobs it needs. Every config setter here
 * fails with MST_ERR_BAD_ARGUMENT on a stream config and MST_ERR_CONFIG_FROZEN once in use. */

/* Longest Connection ID, in bytes, either way (MBEDTLS_SSL_CID_IN_LEN_MAX / _OUT_LEN_MAX). */
#define MST_DTLS_CID_MAX 32
/* RFC 9146's record content type, tls12_cid: such a record carries the receiver's CID right
 * after its 11 bytes of type, version, epoch and sequence number. */
#define MST_DTLS_CID_CONTENT_TYPE 25

/* Uses RFC 9146 Connection IDs: `own_length` bytes is the length of every CID this config's
 * sessions ask their peers to put in records for them (0 to 32; 0 lets the peer use a CID
 * of its own while ours stays empty, as clients usually do). Each session then gives its own
 * CID with mst_session_use_cid(). Records carrying a CID of another length are dropped. */
int mst_config_set_dtls_cid(mst_config *config, size_t own_length, mst_error *err);
/* The handshake retransmission timer (RFC 6347 4.2.4.1): first wait min_ms, doubling up to
 * max_ms, after which the handshake fails (MBEDTLS_ERR_SSL_TIMEOUT). The defaults are the
 * RFC's 1000 and 60000 ms. 0 < min_ms <= max_ms. */
int mst_config_set_dtls_retransmit(mst_config *config, uint32_t min_ms, uint32_t max_ms,
                                   mst_error *err);
/* Servers: whether a ClientHello must return a HelloVerifyRequest cookie (RFC 6347 4.2.1)
 * before any state is kept; on by default. Off, mst_dtls_check_hello() accepts every
 * well-formed ClientHello and the sessions skip the cookie exchange. */
int mst_config_set_dtls_cookies(mst_config *config, bool enabled, mst_error *err);
/* Servers: `config` makes and checks cookies with the secret of `from` (a DTLS server config,
 * kept referenced), so that a session moved to it by its held ClientHello (see
 * mst_session_continue_hello: a config chosen by SNI) accepts the cookie `from` made; its
 * cookies are on or off as from's are. Idempotent, also once `config` is in use. */
int mst_config_share_dtls_cookies(mst_config *config, mst_config *from, mst_error *err);
/* The config's own CID length (mst_config_set_dtls_cid), or -1 when it uses none. */
int mst_config_dtls_cid_length(const mst_config *config);

/* The path MTU: the largest datagram the session sends, in bytes, IP and UDP headers
 * excluded (Mbed TLS fragments handshake messages to fit; application records that do not
 * fit are refused, see mst_session_max_payload). 0 (the engine's default) means no limit;
 * lib/dtls sets 1200, which fits any IPv6 path. */
int mst_session_set_mtu(mst_session *session, uint16_t mtu);
/* Asks the peer to use a Connection ID: `own`, own_len bytes (the config's length exactly),
 * the CID the peer is to put in the records it sends us (a server picks one unique among its
 * sessions). Needs mst_config_set_dtls_cid(); call before the first process. */
int mst_session_use_cid(mst_session *session, const uint8_t *own, size_t own_len);
/* After the handshake: 1 when a Connection ID is in use (the peer's, ours, or both non-empty),
 * with our CID (what the peer puts in records to us) and the peer's (what we put in records
 * to it) copied into own/peer (MST_DTLS_CID_MAX bytes each; lengths may be 0); 0 when none is
 * in use; or an error. */
int mst_session_cid(mst_session *session, uint8_t own[MST_DTLS_CID_MAX], size_t *own_len,
                    uint8_t peer[MST_DTLS_CID_MAX], size_t *peer_len);
/* Whether the first record of `datagram` is authentic for this session and not a replay,
 * without changing the session (mbedtls_ssl_check_record): what a server asks before it
 * believes that a peer has moved to the address the datagram came from. 0 when it is, else
 * an Mbed TLS error (MBEDTLS_ERR_SSL_INVALID_MAC, _INVALID_RECORD, _UNEXPECTED_RECORD). The
 * datagram is copied, never changed. */
int mst_session_check_record(mst_session *session, const uint8_t *datagram, size_t len);
/* The most application data one record can carry now (mbedtls_ssl_get_max_out_record_payload:
 * the MTU less the record expansion); a write of more fails without harming the session
 * (mst_session_write_datagram). 0 before the handshake is done. */
size_t mst_session_max_payload(mst_session *session);
/* Sends `data` as one application data record: MST_ERR_MESSAGE_TOO_LARGE (the session goes
 * on) when it is longer than mst_session_max_payload(), else as mst_session_write_plaintext. */
int mst_session_write_datagram(mst_session *session, const uint8_t *data, size_t len);

/* ---- Self-signed certificates ---- */

enum mst_name_type { MST_NAME_DNS = 1, MST_NAME_IP = 2 };
/* A subjectAltName: a DNS name (its text, no NUL) or an IP address (4 or 16 bytes). */
typedef struct mst_alt_name {
    enum mst_name_type type;
    const uint8_t *value;
    size_t len;
} mst_alt_name;

/* Generates an ECDSA P-256 key and a self-signed X.509 v3 certificate for it, signed with
 * SHA-256: subject and issuer `subject` (Mbed TLS's form, "CN=localhost,O=..."), up to 16
 * subjectAltNames in the order given, valid from not_before to not_after (seconds since
 * 1970-01-01 UTC, on the embedder's clock), a random serial number, not a CA, extended key
 * usage serverAuth. *cert_pem and *key_pem (SEC 1 "EC PRIVATE KEY") receive NUL-terminated
 * PEM, *cert_len and *key_len its length without the NUL; free each with mst_free_pem(). */
int mst_generate_self_signed(const char *subject, const mst_alt_name *alt_names, size_t alt_count,
                             int64_t not_before, int64_t not_after, char **cert_pem,
                             size_t *cert_len, char **key_pem, size_t *key_len, mst_error *err);
/* Wipes and frees PEM from mst_generate_self_signed(). Safe on NULL. */
void mst_free_pem(char *pem, size_t len);

/* ---- The names a peer's certificate is checked against (names.c) ---- */

enum {
    MST_CERTIFICATE_NAME_CN = 1,    /* a commonName of the subject (tag: its ASN.1 string type) */
    MST_CERTIFICATE_NAME_DNS = 2,   /* a dNSName subjectAltName (IA5String contents) */
    MST_CERTIFICATE_NAME_IP = 3,    /* an iPAddress subjectAltName (4 or 16 bytes, or bad) */
    MST_CERTIFICATE_NAME_OTHER = 4  /* any other subjectAltName (tag: its GeneralName tag) */
};
typedef struct mst_certificate_name {
    int kind;             /* MST_CERTIFICATE_NAME_* */
    int tag;              /* the ASN.1 tag of the value */
    const uint8_t *value; /* inside the DER given */
    size_t len;
} mst_certificate_name;

/* The names node's tls.checkServerIdentity reads of a DER certificate (RFC 6125: the
 * subjectAltNames, and the subject's common names when there is no DNS name), in the
 * certificate's order: the subject's CNs, then the subjectAltNames. Fills up to cap entries
 * and sets *count to how many there are (call again with room for all when more). The
 * values point into `der`. 0, or Mbed TLS's parse error (then *count is 0). */
int mst_certificate_names(const uint8_t *der, size_t len, mst_certificate_name *names, size_t cap,
                          size_t *count);

/* Every cipher suite this build supports, in Mbed TLS's preference order: fills up to cap
 * IANA numbers into ids and returns how many there are. */
size_t mst_ciphersuites(int *ids, size_t cap);
/* Mbed TLS's name for an IANA cipher suite number, or NULL. */
const char *mst_ciphersuite_name(int id);

/* Fills err with code and Mbed TLS's text (or the engine's) for it. */
void mst_error_set(mst_error *err, int code);

#ifdef __cplusplus
}
#endif

#endif /* MBEDTLS_STREAM_ENGINE_H */
