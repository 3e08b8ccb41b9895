/*
 * internal.h: the structures behind engine.h, shared by config.c and session.c.
 * Not part of the engine's interface.
 */
#ifndef MBEDTLS_STREAM_INTERNAL_H
#define MBEDTLS_STREAM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cookie.h>
#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_crt.h>

#include "bytes.h"
#include "engine.h"
#include "memory.h"

#define MST_MAX_OWN_CERTIFICATES 4

struct mst_trust {
    atomic_int references;
    atomic_bool frozen; /* set when a config using it is frozen: handshakes read the lists */
    mbedtls_x509_crt ca; /* an empty list (one entry without data) trusts nothing */
    mbedtls_x509_crl crl;
    bool has_crl;
};

struct mst_resumption {
    atomic_int references;
    pthread_mutex_t lock; /* guards key and keys, which setting new keys replaces */
    mbedtls_svc_key_id_t key; /* AES-256-GCM, from keys[16..48] */
    uint8_t keys[MST_TICKET_KEYS_LEN];
    uint32_t lifetime_s;
    mbedtls_ssl_cache_context cache; /* TLS 1.2 session IDs; thread-safe itself */
};

struct mst_config {
    atomic_int references;
    atomic_bool frozen; /* set by the first session: Mbed TLS forbids changes after that */
    enum mst_endpoint endpoint;
    enum mst_transport transport;
    mbedtls_ssl_config ssl;
    mst_trust *trust; /* CAs and CRLs, possibly shared with other configs; may be NULL */
    struct {
        mbedtls_x509_crt chain;
        mbedtls_pk_context key;
    } own[MST_MAX_OWN_CERTIFICATES];
    size_t own_count;
    char **alpn;       /* NULL-terminated copy, as Mbed TLS keeps the pointer */
    int *ciphersuites; /* 0-terminated copy, likewise */
    mst_resumption *resumption; /* servers: tickets and session-ID cache, or NULL */
    bool asks_psk;              /* PSKs come from the embedder: servers' keys of identities,
                                   clients' TLS 1.2 key and identity after the server's hint */
    uint8_t *psk_hint;          /* servers: the TLS 1.2 identity hint, as Mbed TLS keeps it */
    mbedtls_ssl_cookie_ctx cookies; /* DTLS servers */
    bool has_cookies;
    struct mst_config *cookies_from; /* DTLS servers: the config whose cookie secret this one
                                        uses (mst_config_share_dtls_cookies), or NULL */
    int dtls_cid_length; /* DTLS: the length of our CIDs, or -1: no Connection IDs */
    int debug_level; /* 0: no debug callback installed */
};

/* The process-wide DRBG all configs draw from (thread-safe under MBEDTLS_THREADING_C). */
mbedtls_ctr_drbg_context *mst_global_rng(void);

/* The server's SNI hook (session.c): records the name the client asked for. */
int mst_record_server_name(void *context, mbedtls_ssl_context *ssl, const unsigned char *name,
                           size_t len);

/* Ticket callbacks of a server (resumption.c), mbedtls_ssl_ticket_write_t and _parse_t. */
int mst_resumption_seal(void *context, const mbedtls_ssl_session *session, unsigned char *start,
                        const unsigned char *end, size_t *ticket_len, uint32_t *lifetime);
int mst_resumption_open(void *context, mbedtls_ssl_session *session, unsigned char *buf,
                        size_t len);
/* The debug hook of configs with a debug level (session.c): records the line into the
 * session Mbed TLS is running for. */
void mst_record_debug(void *context, int level, const char *file, int line, const char *text);

/* The PSK hook of servers that ask the embedder (session.c), mbedtls_ssl_conf_psk_cb's. */
int mst_lookup_psk(void *context, mbedtls_ssl_context *ssl, const unsigned char *identity,
                   size_t len);

/* The verify_data of a handshake's Finished messages (handshake.c): 12 bytes in TLS 1.2,
 * the hash's length in TLS 1.3. */
#define MST_FINISHED_MAX 64
typedef struct mst_finished {
    uint8_t own[MST_FINISHED_MAX];
    size_t own_len; /* 0 until ours was sent */
    uint8_t peer[MST_FINISHED_MAX];
    size_t peer_len; /* 0 until the peer's was verified */
    uint8_t pending[MST_FINISHED_MAX]; /* TLS 1.2: ours, computed before the step sends it */
    size_t pending_len;
} mst_finished;

/* Around each mbedtls_ssl_handshake_step (handshake.c): reads the Finished messages, and
 * keeps a server from sending a ticket after a resumed TLS 1.3 handshake. */
void mst_handshake_before_step(mbedtls_ssl_context *ssl, mst_finished *finished);
void mst_handshake_after_step(mbedtls_ssl_context *ssl, int state_before, int ret,
                              mst_finished *finished);

/* A client's TLS 1.3 tickets (tickets.c): each one received is kept as the session it
 * makes, in order, until the embedder has reported it. */
typedef struct mst_ticket mst_ticket;
typedef struct mst_tickets {
    mst_ticket *waiting;  /* oldest first */
    mst_ticket *reported; /* the one being reported, or NULL: the live session */
} mst_tickets;
/* Keeps the live session, which holds the ticket just received. 0 or an Mbed TLS error. */
int mst_tickets_keep(mst_tickets *tickets, const mbedtls_ssl_session *live);
/* Reports the oldest waiting ticket (true), or, when none waits, the live session again. */
bool mst_tickets_next(mst_tickets *tickets);
/* The reported ticket's session (mbedtls_ssl_session_save()'s bytes) and the ticket itself;
 * NULL when the live session is reported. */
const uint8_t *mst_tickets_session(const mst_tickets *tickets, size_t *len);
const uint8_t *mst_tickets_ticket(const mst_tickets *tickets, size_t *len);
void mst_tickets_free(mst_tickets *tickets);

/* The TLS NamedGroup of the ephemeral key exchange the handshake in progress has agreed
 * (key_exchange.c), or 0: none yet, none at all (static RSA, a resumed TLS 1.2 session,
 * TLS 1.3 psk_ke), or the handshake is over. Meaningful on clients. */
uint16_t mst_handshake_group(mbedtls_ssl_context *ssl);

/* A server's TLS 1.2 session IDs kept by the embedder (session_store.c), in place of the
 * config's own cache: the ID a held ClientHello offers and the saved session the embedder
 * found for it; the session a full handshake made, reported before the server's
 * ChangeCipherSpec until the embedder has stored it. */
#define MST_SESSION_ID_MAX 32
typedef struct mst_session_store {
    bool enabled;
    uint8_t offered_id[MST_SESSION_ID_MAX];
    size_t offered_id_len; /* 0: nothing for the embedder to look up */
    uint8_t *found;        /* mbedtls_ssl_session_save() bytes, or NULL */
    size_t found_len;
    enum { NEW_SESSION_NOT_ASKED, NEW_SESSION_ASKED, NEW_SESSION_STORED } new_session;
    uint8_t new_id[MST_SESSION_ID_MAX];
    size_t new_id_len;
    uint8_t *new_data; /* mbedtls_ssl_session_save() bytes, while asked */
    size_t new_data_len;
} mst_session_store;
/* What the held ClientHello offers: a session ID is worth looking up when no ticket comes
 * with it and the handshake will be TLS 1.2 (a TLS 1.3 ClientHello's legacy_session_id
 * resumes nothing). */
void mst_store_note_hello(mst_session_store *store, const mbedtls_ssl_config *conf,
                          const uint8_t *id, size_t id_len, bool offers_ticket,
                          bool offers_tls13);
/* Keeps a copy of the embedder's saved session for the offered ID. 0 or an Mbed TLS error. */
int mst_store_set_found(mst_session_store *store, const uint8_t *data, size_t len);
/* Before each handshake step: 0 goes on; 1 waits for the embedder to store the new session;
 * 2 when this call stopped the handshake for it (the caller reports the event); or an Mbed
 * TLS error. */
int mst_store_hold_new_session(mst_session_store *store, mbedtls_ssl_context *ssl);
void mst_store_new_session_stored(mst_session_store *store);
void mst_store_free(mst_session_store *store);
/* The session-ID cache hooks of server configs (mbedtls_ssl_cache_get_t and _set_t), on
 * an mst_resumption: the embedder's store for sessions that use one, else the cache. */
int mst_store_get(void *context, const unsigned char *id, size_t id_len,
                  mbedtls_ssl_session *session);
int mst_store_set(void *context, const unsigned char *id, size_t id_len,
                  const mbedtls_ssl_session *session);
/* The store of the session Mbed TLS is running for on this thread (session.c), or NULL:
 * Mbed TLS calls the cache hooks with the config's context only. */
mst_session_store *mst_running_session_store(void);

/* The Mbed TLS context of a session (dtls.c works on it). */
mbedtls_ssl_context *mst_session_ssl(mst_session *session);
mst_config *mst_session_config(const mst_session *session);
/* Runs `work(session, argument)` with the session as the owner of what Mbed TLS allocates
 * meanwhile (session.c); returns what it returns. */
int mst_session_run(mst_session *session, int (*work)(mbedtls_ssl_context *ssl, void *argument),
                    void *argument);
bool mst_session_handshake_done(const mst_session *session);

/* Mbed TLS's record buffers of an idle TLS session (record_buffers.c). Release shrinks both
 * to a few bytes when the handshake is over and no record is partly received, waiting to
 * be read or to be sent, and says whether it did; restore grows them back to their usual
 * length (0 or an Mbed TLS error), and must run before Mbed TLS reads or writes a record.
 * Call both with the session's memory account as the owner. */
bool mst_record_buffers_release(mbedtls_ssl_context *ssl);
int mst_record_buffers_restore(mbedtls_ssl_context *ssl);

/* The cookie secret a DTLS server config makes and checks cookies with. */
static inline mbedtls_ssl_cookie_ctx *mst_config_cookies(mst_config *config)
{
    return config->cookies_from != NULL ? &config->cookies_from->cookies : &config->cookies;
}

/* dtls_hello.c: the first ClientHello of a DTLS session, from the datagrams queued for it
 * (each a 2-byte length, then records), put together from its fragments without consuming
 * them. 1: it is whole, and *body (malloc'd; the caller frees it) holds its body in TLS's
 * layout (the DTLS cookie taken out), *body_len bytes; 0: not all of it is here yet; 2: it
 * will not be (the first datagram holds none, it is longer than max_message, malformed, or
 * far more than a hello is queued without one); -1: out of memory. */
int mst_dtls_reassemble_client_hello(const uint8_t *queue, size_t len, size_t max_message,
                                     uint8_t **body, size_t *body_len);

/* dtls.c: what a DTLS session was given that lives in its Mbed TLS context (the path MTU, our
 * Connection ID, the client's transport id), carried over when a held ClientHello moves the
 * session to another config (mst_session_continue_hello sets the context up again). */
typedef struct {
    uint16_t mtu;
    bool cid_enabled;
    uint8_t own_cid[MBEDTLS_SSL_CID_IN_LEN_MAX];
    size_t own_cid_len;
} mst_dtls_carried;
void mst_dtls_carry_from(const mbedtls_ssl_context *ssl, mst_dtls_carried *carried);
int mst_dtls_carry_to(mbedtls_ssl_context *ssl, const mst_dtls_carried *carried,
                      const uint8_t *transport_id, size_t transport_id_len);
/* dtls.c: a server refusing a held ClientHello that Mbed TLS has not read answers with the
 * record sequence number of the first record queued (2-byte length prefixed datagrams), as
 * Mbed TLS answers a ClientHello it reads (RFC 6347 4.2.1). */
void mst_dtls_answer_sequence(mbedtls_ssl_context *ssl, const uint8_t *queue, size_t len);

/* dtls.c: in the first datagram of a queue (2-byte length prefixed datagrams), the identity
 * of a ClientKeyExchange's first fragment in epoch 0 (a TLS 1.2 PSK suite's), and its length
 * in *len; NULL when that datagram holds none (it then goes to Mbed TLS as it is). */
const uint8_t *mst_dtls_find_psk_identity(const uint8_t *queue, size_t len, size_t *identity_len);
/* dtls.c: the side of a DTLS handshake that sent the last flight keeps the new session and
 * keys aside until the peer's next record (to resend that flight), and Mbed TLS's keying
 * material exporter reads the current ones, still NULL then. Lends it the new ones for one
 * call: false (nothing lent) when there are none; mst_dtls_give_back() after the call. */
typedef struct {
    mbedtls_ssl_session *session;
    mbedtls_ssl_transform *transform;
} mst_dtls_lent;
bool mst_dtls_lend_negotiated(mbedtls_ssl_context *ssl, mst_dtls_lent *lent);
void mst_dtls_give_back(mbedtls_ssl_context *ssl, const mst_dtls_lent *lent);

/* Freezes the config on first use by a session; returns 0 or an Mbed TLS error. */
int mst_config_freeze(mst_config *config);

#endif /* MBEDTLS_STREAM_INTERNAL_H */
