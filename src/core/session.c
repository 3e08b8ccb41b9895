/*
 * session.c: mst_session, one TLS or DTLS connection driven over memory buffers.
 *
 * Mbed TLS reads and writes through two callbacks (recv_ciphertext, send_ciphertext)
 * that only touch the session's own byte queues. Every public call runs Mbed TLS until it
 * wants more input, then returns; nothing is ever called back in the embedder.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS /* the handshake pointer and the received alert record */
#include "internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/debug.h>
#include <mbedtls/platform_util.h>

/* Room made for each mbedtls_ssl_read: one full TLS record of plaintext. */
#define PLAINTEXT_CHUNK 16384
/* The debug window once taken, and a datagram session's windows, keep at most this much. */
#define IDLE_BUFFER_KEEP 16384
/* Once data flows an empty window keeps up to this much, so a stream of 64 KiB writes
 * reuses its windows rather than allocate (and page-fault) them again at every call;
 * mst_session_trim() gives them back when the connection goes idle. */
#define BUSY_BUFFER_KEEP (256 * 1024)
/* Certificates of a peer chain kept: as many as Mbed TLS verifies (the leaf, the trust
 * anchor and MBEDTLS_X509_MAX_INTERMEDIATE_CA between, 100 as OpenSSL's default depth). */
#define MAX_CHAIN_DEPTH MBEDTLS_X509_MAX_VERIFY_CHAIN_SIZE
/* Debug lines kept between two takes; a level-4 record dump is about five times the record. */
#define DEBUG_WINDOW_LIMIT (256 * 1024)

/* A peer's certificate chain kept as DER copies, with flags per certificate; grown as
 * certificates arrive, so a session pays for the chain it got, not for the longest. */
typedef struct kept_chain {
    struct kept_certificate {
        uint8_t *der; /* NULL: no certificate recorded at this place */
        size_t len;
        uint32_t flags;
    } *entries;
    size_t length;   /* places in use */
    size_t capacity; /* places allocated; those past length are zeroed */
} kept_chain;

struct mst_session {
    mbedtls_ssl_context ssl; /* first: Mbed TLS callbacks get &ssl and find the session */
    mst_config *config;
    mst_memory_account *memory;
    mst_bytes ciphertext_in;  /* from the transport; datagram mode: 2-byte length prefixes */
    mst_bytes ciphertext_out; /* to the transport; likewise */
    mst_bytes plaintext_out;  /* to the application */
    mst_bytes keylog;         /* NSS key log lines, when enabled */
    mst_bytes debug;          /* Mbed TLS debug lines, when the config has a debug level */
    int debug_level;          /* 0: none */
    bool debug_capped;        /* the window is full; lines are dropped until it is taken */
    char debug_prefix[32];    /* "<address of ssl>: ", which Mbed TLS puts before each line */
    size_t debug_prefix_len;
    mst_error error;
    unsigned events;
    unsigned flags; /* the MST_STATE_* bits that are remembered, not derived */
    bool handshake_done;
    bool transport_eof;
    bool record_buffers_released; /* mst_session_trim() shrank Mbed TLS's record buffers */
    bool data_flows; /* application data moved since the last mst_session_trim() */
    /* During a feed after the handshake (stream mode): the caller's bytes, read in place
     * once ciphertext_in is empty, and what is left of them is queued after the call. */
    const uint8_t *borrowed;
    size_t borrowed_len;
    /* During mst_session_feed_into(): where plaintext goes while the window is empty. */
    uint8_t *sink;
    size_t sink_cap;
    size_t sink_used;
    /* During mst_session_feed_in_place(): the caller's bytes (borrowed's start), whose
     * first in_place_used bytes now hold plaintext decrypted over records already read. */
    uint8_t *in_place;
    size_t in_place_used;
    /* During mst_session_write_into(): where records go while the window is empty. */
    uint8_t *record_sink;
    size_t record_sink_cap;
    size_t record_sink_used;
    /* DTLS retransmission timer, on the embedder's clock */
    uint64_t now_ms;
    uint64_t timer_started_ms;
    uint32_t timer_intermediate_ms;
    uint32_t timer_final_ms; /* 0: cancelled */
    uint8_t *transport_id;
    size_t transport_id_len;
    char *server_name; /* SNI received (server) or to send (client) */
    int verify_mode;   /* MBEDTLS_SSL_VERIFY_* for this session, or VERIFY_UNSET */
    bool allow_partial_chain; /* node's allowPartialTrustChain */
    bool chain_top_next;      /* the next verify callback is the top of a chain */
    int peer_alert;    /* description of a fatal alert received, or -1 */
    size_t max_send_fragment; /* plaintext bytes per record we send */
    /* The chain as Mbed TLS verified it, leaf (depth 0) up to the trust anchor: DER copies
     * and flags per depth. Kept because Mbed TLS frees a refused chain. */
    kept_chain verified;
    /* The chain the peer sent, in its order, likewise kept for refused handshakes. */
    kept_chain sent;
    /* Resumption (client): what the saved session said of the peer (the chain it sent, and
     * the chain as verified with its flags), reported when the server accepts the session;
     * and whether the handshake was an abbreviated one. */
    kept_chain restored[2]; /* [RESTORED_SENT], [RESTORED_VERIFIED] */
    uint32_t restored_flags;
    bool offered_session;
    bool reused;
    bool keylog_enabled;
    /* Holding the ClientHello (servers): what it offered, for the embedder to choose by. */
    enum { HELLO_NOT_HELD, HELLO_AWAITED, HELLO_HELD, HELLO_RELEASED } hello;
    char **hello_alpn; /* NULL-terminated */
    /* Asking the embedder for PSKs: on servers the identity offered and the key answered;
     * on clients the server's hint and the key and identity answered. */
    enum { PSK_NOT_ASKED, PSK_ASKED, PSK_ANSWERED } psk;
    uint8_t *psk_identity;
    size_t psk_identity_len;
    uint8_t *psk_key; /* NULL: an identity the embedder does not know */
    size_t psk_key_len;
    uint8_t *psk_hint; /* clients: NULL when the server sent none */
    size_t psk_hint_len;
    uint64_t states_seen; /* bit n: Mbed TLS's handshake state n was entered */
    mst_finished finished; /* both Finished messages' verify_data */
    mst_tickets tickets;   /* clients: TLS 1.3 tickets received, one session each */
    uint16_t key_exchange_group; /* clients: TLS NamedGroup of the ephemeral key exchange */
    mst_session_store store; /* servers: TLS 1.2 session IDs the embedder keeps */
};

static uint16_t get16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

static void free_alpn_list(char **list)
{
    if (list == NULL)
        return;
    for (char **p = list; *p != NULL; p++)
        free(*p);
    free(list);
}

/* Frees the certificates; the places stay allocated for the next chain. */
static void chain_clear(kept_chain *chain)
{
    for (size_t i = 0; i < chain->length; i++)
        free(chain->entries[i].der);
    if (chain->entries != NULL)
        memset(chain->entries, 0, chain->length * sizeof(chain->entries[0]));
    chain->length = 0;
}

static void chain_free(kept_chain *chain)
{
    chain_clear(chain);
    free(chain->entries);
    chain->entries = NULL;
    chain->capacity = 0;
}

/* Keeps a copy of `der` at place `at` (at < MAX_CHAIN_DEPTH), replacing what was there. */
static bool chain_keep(kept_chain *chain, size_t at, const uint8_t *der, size_t len, uint32_t flags)
{
    if (at >= chain->capacity) {
        size_t capacity = chain->capacity == 0 ? 4 : chain->capacity;
        while (capacity <= at)
            capacity *= 2;
        struct kept_certificate *grown = realloc(chain->entries, capacity * sizeof(*grown));
        if (grown == NULL)
            return false;
        memset(grown + chain->capacity, 0, (capacity - chain->capacity) * sizeof(*grown));
        chain->entries = grown;
        chain->capacity = capacity;
    }
    uint8_t *copy = malloc(len);
    if (copy == NULL)
        return false;
    memcpy(copy, der, len);
    free(chain->entries[at].der);
    chain->entries[at] = (struct kept_certificate){copy, len, flags};
    if (at + 1 > chain->length)
        chain->length = at + 1;
    return true;
}

/* The certificate at place `at`, or NULL (with *len 0) where there is none. */
static const uint8_t *chain_get(const kept_chain *chain, size_t at, size_t *len, uint32_t *flags)
{
    if (at >= chain->length || chain->entries[at].der == NULL) {
        *len = 0;
        return NULL;
    }
    *len = chain->entries[at].len;
    if (flags != NULL)
        *flags = chain->entries[at].flags;
    return chain->entries[at].der;
}

enum { RESTORED_SENT = 0, RESTORED_VERIFIED = 1 };

static void forget_restored_chain(mst_session *session)
{
    chain_clear(&session->restored[RESTORED_SENT]);
    chain_clear(&session->restored[RESTORED_VERIFIED]);
}

/* The session Mbed TLS is running for on this thread: its debug callback and session-cache
 * hooks get no context of the session's own (the config, and so they, are shared). */
static _Thread_local mst_session *running_session;

/* Runs Mbed TLS with this session as the owner of what it allocates, of the debug lines it
 * prints and of the session IDs it looks up. */
#define WITH_SESSION_MEMORY(session, statement)                                \
    do {                                                                       \
        mst_memory_account *previous_owner = mst_memory_enter((session)->memory); \
        mst_session *previous_running_session = running_session;               \
        running_session = (session);                                           \
        statement;                                                             \
        running_session = previous_running_session;                            \
        mst_memory_leave(previous_owner);                                      \
    } while (0)

static int wake(mst_session *session);

mbedtls_ssl_context *mst_session_ssl(mst_session *session) { return &session->ssl; }

mst_config *mst_session_config(const mst_session *session) { return session->config; }

bool mst_session_handshake_done(const mst_session *session) { return session->handshake_done; }

int mst_session_run(mst_session *session, int (*work)(mbedtls_ssl_context *ssl, void *argument),
                    void *argument)
{
    int ret = wake(session);
    if (ret != 0)
        return ret;
    WITH_SESSION_MEMORY(session, ret = work(&session->ssl, argument));
    return ret;
}

mst_session_store *mst_running_session_store(void)
{
    return running_session != NULL ? &running_session->store : NULL;
}

static bool is_datagram(const mst_session *session)
{
    return session->config->transport == MST_DATAGRAM;
}

static int fail(mst_session *session, int code)
{
    if (session->error.code != 0)
        return session->error.code;
    mst_error_set(&session->error, code);
    /* Mbed TLS keeps the alert record it just read in in_msg: level, description. */
    const unsigned char *message = session->ssl.MBEDTLS_PRIVATE(in_msg);
    if (code == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && message != NULL)
        session->peer_alert = message[1];
    return code;
}

/* Grows Mbed TLS's record buffers back after mst_session_trim(), before any call that may
 * read or write a record. 0 or the sticky error. */
static int wake(mst_session *session)
{
    if (!session->record_buffers_released)
        return 0;
    int ret;
    WITH_SESSION_MEMORY(session, ret = mst_record_buffers_restore(&session->ssl));
    if (ret != 0)
        return fail(session, ret);
    session->record_buffers_released = false;
    return 0;
}

/* How much memory an empty window keeps between calls (see BUSY_BUFFER_KEEP): handshake
 * flights are one-off bursts, and a connection without traffic holds no empty window;
 * application data comes again. Datagram windows hold a datagram or two at a time. */
static size_t window_keep(const mst_session *session)
{
    if (is_datagram(session))
        return IDLE_BUFFER_KEEP;
    return session->data_flows ? BUSY_BUFFER_KEEP : 0;
}

/* The plaintext window also keeps the room made for the next read. */
static size_t plaintext_keep(const mst_session *session)
{
    if (is_datagram(session))
        return IDLE_BUFFER_KEEP + PLAINTEXT_CHUNK;
    return session->data_flows ? BUSY_BUFFER_KEEP + PLAINTEXT_CHUNK : 0;
}

/* ---- The transport side, as Mbed TLS sees it ---- */

/* Records go out as Mbed TLS cuts them: within a negotiated record limit, handshake
 * records included (deps/patches/0006). */
static int send_ciphertext(void *context, const unsigned char *data, size_t len)
{
    mst_session *session = context;
    if (is_datagram(session)) {
        if (len > 0xFFFF)
            return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
        uint8_t prefix[2] = {(uint8_t)(len >> 8), (uint8_t)len};
        if (mst_bytes_append(&session->ciphertext_out, prefix, 2) != 0)
            return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    }
    /* Into the caller's sink (mst_session_write_into) while the record fits and nothing
     * waits in the window before it. */
    if (len <= session->record_sink_cap - session->record_sink_used &&
        mst_bytes_length(&session->ciphertext_out) == 0) {
        memcpy(session->record_sink + session->record_sink_used, data, len);
        session->record_sink_used += len;
        return (int)len;
    }
    if (mst_bytes_append(&session->ciphertext_out, data, len) != 0)
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    return (int)len;
}

static int psk_gate(mst_session *session);

static int recv_ciphertext(void *context, unsigned char *out, size_t len)
{
    mst_session *session = context;
    mst_bytes *in = &session->ciphertext_in;
    size_t available = mst_bytes_length(in);
    if (available == 0 && session->borrowed_len > 0) {
        size_t n = session->borrowed_len < len ? session->borrowed_len : len;
        memcpy(out, session->borrowed, n);
        session->borrowed += n;
        session->borrowed_len -= n;
        return (int)n;
    }
    if (available == 0)
        return session->transport_eof ? 0 : MBEDTLS_ERR_SSL_WANT_READ;
    if (session->config->asks_psk && session->config->endpoint == MST_SERVER && psk_gate(session) != 0)
        return MBEDTLS_ERR_SSL_WANT_READ;
    if (!is_datagram(session)) {
        size_t n = available < len ? available : len;
        memcpy(out, mst_bytes_front(in), n);
        mst_bytes_consume(in, n);
        return (int)n;
    }
    /* One datagram per call; a datagram larger than Mbed TLS's buffer is cut. */
    const uint8_t *front = mst_bytes_front(in);
    size_t datagram = ((size_t)front[0] << 8) | front[1];
    size_t n = datagram < len ? datagram : len;
    memcpy(out, front + 2, n);
    mst_bytes_consume(in, 2 + datagram);
    return (int)n;
}

/* ---- DTLS timer on the embedder's clock ---- */

static void set_timer(void *context, uint32_t intermediate_ms, uint32_t final_ms)
{
    mst_session *session = context;
    session->timer_started_ms = session->now_ms;
    session->timer_intermediate_ms = intermediate_ms;
    session->timer_final_ms = final_ms;
}

static int get_timer(void *context)
{
    mst_session *session = context;
    if (session->timer_final_ms == 0)
        return -1;
    uint64_t elapsed = session->now_ms - session->timer_started_ms;
    if (elapsed >= session->timer_final_ms)
        return 2;
    if (elapsed >= session->timer_intermediate_ms)
        return 1;
    return 0;
}

/* ---- Callbacks of our own, run inside Mbed TLS; they only record ---- */

static bool issued_by_itself(const mbedtls_x509_crt *crt)
{
    return crt->issuer_raw.len == crt->subject_raw.len &&
           memcmp(crt->issuer_raw.p, crt->subject_raw.p, crt->issuer_raw.len) == 0;
}

/* Whether a trusted certificate leads, through the trust store, to a self-issued one: Mbed
 * TLS stops at the first trusted issuer it meets, OpenSSL goes on to the root. */
static bool reaches_trusted_root(const mbedtls_x509_crt *crt, const mst_trust *trust)
{
    for (int hops = 0; trust != NULL && hops < MBEDTLS_X509_MAX_INTERMEDIATE_CA; hops++) {
        if (issued_by_itself(crt))
            return true;
        const mbedtls_x509_crt *issuer = &trust->ca;
        for (; issuer != NULL && issuer->raw.len > 0; issuer = issuer->next) {
            if (issuer->subject_raw.len == crt->issuer_raw.len &&
                memcmp(issuer->subject_raw.p, crt->issuer_raw.p, crt->issuer_raw.len) == 0)
                break;
        }
        if (issuer == NULL || issuer->raw.len == 0)
            return false;
        crt = issuer;
    }
    return false;
}

static bool has_crl_from(const mbedtls_x509_crl *crl, const mbedtls_x509_crt *crt)
{
    for (; crl != NULL && crl->version != 0; crl = crl->next) {
        if (crl->issuer_raw.len == crt->issuer_raw.len &&
            memcmp(crl->issuer_raw.p, crt->issuer_raw.p, crt->issuer_raw.len) == 0)
            return true;
    }
    return false;
}

/* Names are the embedder's to check, so a name mismatch is taken out of the leaf's flags;
 * every other flag stays and is kept per depth for the embedder's error reporting. */
static int verify_certificate(void *context, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    mst_session *session = context;
    if (depth == 0)
        *flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH;
    /* Mbed TLS verifies an empty placeholder (no DER) when every certificate the peer
     * sent had an unknown signature algorithm: there is nothing of it to keep. */
    if (depth < 0 || depth >= MAX_CHAIN_DEPTH || crt->raw.len == 0)
        return 0;
    if (depth == 0) {
        /* The leaf heads the list Mbed TLS parsed from the peer's Certificate message. */
        chain_clear(&session->sent);
        for (const mbedtls_x509_crt *c = crt;
             c != NULL && c->raw.len > 0 && session->sent.length < MAX_CHAIN_DEPTH; c = c->next) {
            if (!chain_keep(&session->sent, session->sent.length, c->raw.p, c->raw.len, 0))
                return MBEDTLS_ERR_X509_ALLOC_FAILED;
        }
    }
    uint32_t recorded = *flags;
    /* Mbed TLS calls the top of the chain first; a trusted top is the anchor. */
    bool top = session->chain_top_next;
    session->chain_top_next = (depth == 0);
    if (top && !session->allow_partial_chain && !(*flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) &&
        !reaches_trusted_root(crt, session->config->trust)) {
        *flags |= MBEDTLS_X509_BADCERT_NOT_TRUSTED;
        recorded = *flags | MST_X509_PARTIAL_CHAIN;
    }
    const mst_trust *trust = session->config->trust;
    if (trust != NULL && trust->has_crl && !issued_by_itself(crt) && !has_crl_from(&trust->crl, crt)) {
        *flags |= MBEDTLS_X509_BADCERT_OTHER;
        recorded |= *flags | MST_X509_CRL_MISSING;
    }
    /* Mbed TLS verifies from the top of the chain down: the first call is the deepest. */
    if (!chain_keep(&session->verified, (size_t)depth, crt->raw.p, crt->raw.len, recorded))
        return MBEDTLS_ERR_X509_ALLOC_FAILED;
    return 0;
}

int mst_record_server_name(void *context, mbedtls_ssl_context *ssl, const unsigned char *name,
                           size_t len)
{
    (void)context;
    mst_session *session = (mst_session *)ssl;
    if (len == 0 || len > 255 || memchr(name, '\0', len) != NULL)
        return 0;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    memcpy(copy, name, len);
    copy[len] = '\0';
    free(session->server_name);
    session->server_name = copy;
    return 0;
}

/* Appends "LABEL <client random> <secret>\n" to the key log window. */
static void append_keylog_line(mst_session *session, const char *label,
                               const unsigned char client_random[32],
                               const unsigned char *secret, size_t secret_len)
{
    static const char hex[] = "0123456789abcdef";
    size_t label_len = strlen(label);
    size_t line_len = label_len + 1 + 64 + 1 + 2 * secret_len + 1;
    uint8_t *line = mst_bytes_reserve(&session->keylog, line_len);
    if (line == NULL)
        return; /* a key log line is lost, the connection is not */
    memcpy(line, label, label_len);
    uint8_t *p = line + label_len;
    *p++ = ' ';
    for (size_t i = 0; i < 32; i++) {
        *p++ = (uint8_t)hex[client_random[i] >> 4];
        *p++ = (uint8_t)hex[client_random[i] & 15];
    }
    *p++ = ' ';
    for (size_t i = 0; i < secret_len; i++) {
        *p++ = (uint8_t)hex[secret[i] >> 4];
        *p++ = (uint8_t)hex[secret[i] & 15];
    }
    *p = '\n';
    session->keylog.end += line_len;
    session->events |= MST_EVENT_KEYLOG;
}

/* Mbed TLS hands over each secret as it derives it; it becomes an NSS key log line. */
static void record_keys(void *context, mbedtls_ssl_key_export_type type, const unsigned char *secret,
                        size_t secret_len, const unsigned char client_random[32],
                        const unsigned char server_random[32], mbedtls_tls_prf_types prf)
{
    (void)server_random;
    (void)prf;
    mst_session *session = context;
    const char *label;
    switch (type) {
    case MBEDTLS_SSL_KEY_EXPORT_TLS12_MASTER_SECRET: label = "CLIENT_RANDOM"; break;
    case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_CLIENT_EARLY_SECRET: label = "CLIENT_EARLY_TRAFFIC_SECRET"; break;
    case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_EARLY_EXPORTER_SECRET: label = "EARLY_EXPORTER_SECRET"; break;
    case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_CLIENT_HANDSHAKE_TRAFFIC_SECRET: label = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"; break;
    case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_SERVER_HANDSHAKE_TRAFFIC_SECRET: label = "SERVER_HANDSHAKE_TRAFFIC_SECRET"; break;
    case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_CLIENT_APPLICATION_TRAFFIC_SECRET: label = "CLIENT_TRAFFIC_SECRET_0"; break;
    case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_SERVER_APPLICATION_TRAFFIC_SECRET: label = "SERVER_TRAFFIC_SECRET_0"; break;
    default: return;
    }
    /* Mbed TLS has no event for the exporter master secret, which node logs as
     * EXPORTER_SECRET before the traffic secrets: it is derived with them (RFC 8446 7.1,
     * ssl_tls13_keys.c), into the session being negotiated, of the same hash length. */
    const mbedtls_ssl_session *negotiated = session->ssl.MBEDTLS_PRIVATE(session_negotiate);
    if (type == MBEDTLS_SSL_KEY_EXPORT_TLS1_3_CLIENT_APPLICATION_TRAFFIC_SECRET && negotiated != NULL &&
        secret_len <= sizeof(negotiated->MBEDTLS_PRIVATE(app_secrets).exporter_master_secret)) {
        append_keylog_line(session, "EXPORTER_SECRET", client_random,
                           negotiated->MBEDTLS_PRIVATE(app_secrets).exporter_master_secret, secret_len);
    }
    append_keylog_line(session, label, client_random, secret, secret_len);
}

/* ---- Debug output ---- */

/* Mbed TLS's debug threshold is one number for the whole process, which Mbed TLS reads
 * without a lock in every debug statement of a session whose config has a debug callback.
 * Changing it while such a session runs on another thread is a data race (ThreadSanitizer
 * reports it: test/c/threads_test.c), so it is set once, to the highest level, before the
 * first session with a debug level exists, and never changes: every debug session then
 * formats the lines of all levels, and mst_record_debug() keeps those of its own level.
 * Sessions without a debug level never reach the threshold (no callback) and pay nothing. */
static pthread_once_t debug_threshold_once = PTHREAD_ONCE_INIT;

static void set_debug_threshold(void)
{
    mbedtls_debug_set_threshold(4);
}

static void append_debug_text(mst_bytes *window, const char *text, size_t len)
{
    uint8_t *p = mst_bytes_reserve(window, len);
    if (p == NULL)
        return; /* a debug line is lost, the connection is not */
    memcpy(p, text, len);
    window->end += len;
}

void mst_record_debug(void *context, int level, const char *file, int line, const char *text)
{
    (void)context;
    mst_session *session = running_session;
    if (session == NULL || level > session->debug_level || session->debug_capped)
        return;
    if (strncmp(text, session->debug_prefix, session->debug_prefix_len) == 0)
        text += session->debug_prefix_len;
    const char *base = strrchr(file, '/');
    base = base != NULL ? base + 1 : file;
    size_t text_len = strlen(text);
    while (text_len > 0 && (text[text_len - 1] == '\n' || text[text_len - 1] == '\r'))
        text_len--;

    char head[96];
    int head_len = snprintf(head, sizeof(head), "%s:%04d: |%d| ", base, line, level);
    if (head_len < 0)
        return;
    if ((size_t)head_len >= sizeof(head))
        head_len = (int)sizeof(head) - 1;
    size_t need = (size_t)head_len + text_len + 1;
    if (mst_bytes_length(&session->debug) + need > DEBUG_WINDOW_LIMIT) {
        char note[160];
        int n = snprintf(note, sizeof(note),
                         "mbedtls-stream:0000: |%d| more than %d bytes of debug output; "
                         "lines dropped until they are read\n", level, DEBUG_WINDOW_LIMIT);
        if (n > 0 && (size_t)n < sizeof(note))
            append_debug_text(&session->debug, note, (size_t)n);
        session->debug_capped = true;
        session->events |= MST_EVENT_DEBUG;
        return;
    }
    uint8_t *out = mst_bytes_reserve(&session->debug, need);
    if (out == NULL)
        return;
    memcpy(out, head, (size_t)head_len);
    /* One line per line: a name from the peer's certificate cannot start a line of its own. */
    for (size_t i = 0; i < text_len; i++) {
        unsigned char c = (unsigned char)text[i];
        out[(size_t)head_len + i] = (c < 0x20 && c != '\t') || c == 0x7F ? '?' : c;
    }
    out[need - 1] = '\n';
    session->debug.end += need;
    session->events |= MST_EVENT_DEBUG;
}

const uint8_t *mst_session_peek_debug(const mst_session *session, size_t *len)
{
    *len = mst_bytes_length(&session->debug);
    return *len ? mst_bytes_front(&session->debug) : NULL;
}

void mst_session_consume_debug(mst_session *session, size_t len)
{
    mst_bytes_consume(&session->debug, len);
    if (mst_bytes_length(&session->debug) == 0) {
        session->debug_capped = false;
        mst_bytes_trim(&session->debug, IDLE_BUFFER_KEEP);
    }
}

/* ---- Life cycle ---- */

/* Sets up Mbed TLS's context on session->config and hooks the engine into it. */
static int setup_ssl(mst_session *session)
{
    int ret;
    mbedtls_ssl_init(&session->ssl);
    WITH_SESSION_MEMORY(session, ret = mbedtls_ssl_setup(&session->ssl, &session->config->ssl));
    if (ret == 0 && session->config->endpoint == MST_CLIENT) {
        /* Explicitly no name in Mbed TLS: the embedder checks names (see engine.h). */
        WITH_SESSION_MEMORY(session, ret = mbedtls_ssl_set_hostname(&session->ssl, NULL));
    }
    if (ret != 0)
        return ret;
    mbedtls_ssl_set_bio(&session->ssl, session, send_ciphertext, recv_ciphertext, NULL);
    mbedtls_ssl_set_verify(&session->ssl, verify_certificate, session);
    if (is_datagram(session))
        mbedtls_ssl_set_timer_cb(&session->ssl, session, set_timer, get_timer);
    if (session->verify_mode != MBEDTLS_SSL_VERIFY_UNSET)
        mbedtls_ssl_set_hs_authmode(&session->ssl, session->verify_mode);
    if (session->keylog_enabled)
        mbedtls_ssl_set_export_keys_cb(&session->ssl, record_keys, session);
    return 0;
}

mst_session *mst_session_new(mst_config *config, mst_error *err)
{
    if (config == NULL) {
        mst_error_set(err, MST_ERR_BAD_ARGUMENT);
        return NULL;
    }
    mst_session *session = calloc(1, sizeof(*session));
    mst_memory_account *memory = mst_memory_account_new();
    if (session == NULL || memory == NULL) {
        free(session);
        mst_memory_account_release(memory);
        mst_error_set(err, MBEDTLS_ERR_SSL_ALLOC_FAILED);
        return NULL;
    }
    session->memory = memory;
    session->ciphertext_in.owner = memory;
    session->ciphertext_out.owner = memory;
    session->plaintext_out.owner = memory;
    session->keylog.owner = memory;
    session->debug.owner = memory;
    session->config = config;
    session->verify_mode = MBEDTLS_SSL_VERIFY_UNSET;
    session->chain_top_next = true;
    session->peer_alert = -1;
    session->max_send_fragment = MBEDTLS_SSL_OUT_CONTENT_LEN;
    mst_config_ref(config);
    mst_config_freeze(config);
    if (config->debug_level > 0) {
        /* As Mbed TLS prefixes each line when built with threading (debug.c). */
        int n = snprintf(session->debug_prefix, sizeof(session->debug_prefix), "%p: ",
                         (void *)&session->ssl);
        session->debug_prefix_len = n > 0 && (size_t)n < sizeof(session->debug_prefix) ? (size_t)n : 0;
        session->debug_level = config->debug_level;
        pthread_once(&debug_threshold_once, set_debug_threshold);
    }

    int ret = setup_ssl(session);
    if (ret != 0) {
        mst_error_set(err, ret);
        mst_session_free(session);
        return NULL;
    }
    return session;
}

void mst_session_free(mst_session *session)
{
    if (session == NULL)
        return;
    session->debug_level = 0; /* nobody reads what freeing would print */
    WITH_SESSION_MEMORY(session, mbedtls_ssl_free(&session->ssl));
    mst_bytes_free(&session->ciphertext_in);
    mst_bytes_free(&session->ciphertext_out);
    if (session->plaintext_out.data != NULL)
        mbedtls_platform_zeroize(session->plaintext_out.data, session->plaintext_out.capacity);
    mst_bytes_free(&session->plaintext_out);
    if (session->keylog.data != NULL)
        mbedtls_platform_zeroize(session->keylog.data, session->keylog.capacity);
    mst_bytes_free(&session->keylog);
    mst_bytes_free(&session->debug);
    free(session->transport_id);
    free(session->server_name);
    free_alpn_list(session->hello_alpn);
    free(session->psk_identity);
    free(session->psk_hint);
    if (session->psk_key != NULL) {
        mbedtls_platform_zeroize(session->psk_key, session->psk_key_len);
        free(session->psk_key);
    }
    chain_free(&session->verified);
    chain_free(&session->sent);
    chain_free(&session->restored[RESTORED_SENT]);
    chain_free(&session->restored[RESTORED_VERIFIED]);
    mst_tickets_free(&session->tickets);
    mst_store_free(&session->store);
    mbedtls_platform_zeroize(&session->finished, sizeof(session->finished));
    mst_memory_account_release(session->memory);
    mst_config_unref(session->config);
    free(session);
}

/* ---- Settings ---- */

int mst_session_set_server_name(mst_session *session, const char *name)
{
    if (session->config->endpoint != MST_CLIENT)
        return MST_ERR_BAD_ARGUMENT;
    char *copy = NULL;
    if (name != NULL) {
        size_t len = strlen(name);
        if ((copy = malloc(len + 1)) == NULL)
            return MBEDTLS_ERR_SSL_ALLOC_FAILED;
        memcpy(copy, name, len + 1);
    }
    int ret;
    WITH_SESSION_MEMORY(session, ret = mbedtls_ssl_set_hostname(&session->ssl, name));
    if (ret != 0) {
        free(copy);
        return ret;
    }
    free(session->server_name);
    session->server_name = copy;
    return 0;
}

int mst_session_enable_keylog(mst_session *session)
{
    session->keylog_enabled = true;
    mbedtls_ssl_set_export_keys_cb(&session->ssl, record_keys, session);
    return 0;
}

const uint8_t *mst_session_peek_keylog(const mst_session *session, size_t *len)
{
    *len = mst_bytes_length(&session->keylog);
    return *len ? mst_bytes_front(&session->keylog) : NULL;
}

void mst_session_consume_keylog(mst_session *session, size_t len)
{
    mst_bytes_consume(&session->keylog, len);
}

int mst_session_export_keying_material(mst_session *session, uint8_t *out, size_t len,
                                       const char *label, size_t label_len,
                                       const uint8_t *context, size_t context_len)
{
    if (!session->handshake_done || session->error.code != 0)
        return MST_ERR_NOT_READY;
    mbedtls_ssl_context *ssl = &session->ssl;
    mst_dtls_lent lent;
    if (is_datagram(session) && !mst_dtls_lend_negotiated(ssl, &lent))
        return MST_ERR_NOT_READY;
    int ret;
    WITH_SESSION_MEMORY(session, ret = mbedtls_ssl_export_keying_material(
                                     ssl, out, len, label, label_len,
                                     context, context_len, context != NULL));
    if (is_datagram(session))
        mst_dtls_give_back(ssl, &lent);
    return ret;
}

int mst_session_set_verify(mst_session *session, enum mst_verify mode)
{
    static const int modes[] = {MBEDTLS_SSL_VERIFY_NONE, MBEDTLS_SSL_VERIFY_OPTIONAL,
                                MBEDTLS_SSL_VERIFY_REQUIRED};
    if ((unsigned)mode > MST_VERIFY_REQUIRED || session->ssl.MBEDTLS_PRIVATE(handshake) == NULL)
        return MST_ERR_BAD_ARGUMENT;
    session->verify_mode = modes[mode];
    /* Mbed TLS reads this per-handshake mode (meant for SNI) on both sides, TLS 1.2 and 1.3. */
    mbedtls_ssl_set_hs_authmode(&session->ssl, session->verify_mode);
    return 0;
}

void mst_session_allow_partial_chain(mst_session *session, bool allow)
{
    session->allow_partial_chain = allow;
}

int mst_session_set_transport_id(mst_session *session, const uint8_t *id, size_t len)
{
    if (session->config->endpoint != MST_SERVER || !is_datagram(session) || id == NULL || len == 0)
        return MST_ERR_BAD_ARGUMENT;
    uint8_t *copy = malloc(len);
    if (copy == NULL)
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    memcpy(copy, id, len);
    free(session->transport_id);
    session->transport_id = copy;
    session->transport_id_len = len;
    int ret;
    WITH_SESSION_MEMORY(session, ret = mbedtls_ssl_set_client_transport_id(&session->ssl, id, len));
    return ret;
}

void mst_session_set_time(mst_session *session, uint64_t now_ms) { session->now_ms = now_ms; }

int64_t mst_session_timeout(const mst_session *session)
{
    if (session->timer_final_ms == 0)
        return -1;
    uint64_t deadline = session->timer_started_ms + session->timer_final_ms;
    return deadline > session->now_ms ? (int64_t)(deadline - session->now_ms) : 0;
}

/* ---- Driving Mbed TLS ---- */

/* Mbed TLS refuses a malformed TLS record (INVALID_RECORD, or BAD_INPUT_DATA for one longer
 * than its buffer) without telling the peer. Read the refused record's header and send the
 * alert RFC 8446 5 asks for; an over-long record is reported as record_overflow. A handshake
 * message announced longer than we take was refused with its alert (deps/patches/0007); it
 * gets the engine's code. */
static int refuse_record(mst_session *session, int ret)
{
    if (ret == MBEDTLS_ERR_SSL_HANDSHAKE_MESSAGE_TOO_LONG)
        return MST_ERR_HANDSHAKE_TOO_LONG;
    if (is_datagram(session) ||
        (ret != MBEDTLS_ERR_SSL_INVALID_RECORD && ret != MBEDTLS_ERR_SSL_BAD_INPUT_DATA))
        return ret;
    const unsigned char *header = session->ssl.MBEDTLS_PRIVATE(in_hdr);
    if (header == NULL)
        return ret;
    size_t length = ((size_t)header[3] << 8) | header[4];
    bool too_long = length > MBEDTLS_SSL_IN_CONTENT_LEN + 2048;
    /* BAD_INPUT_DATA also comes from checks that have nothing to do with the record. */
    if (ret == MBEDTLS_ERR_SSL_BAD_INPUT_DATA && !too_long)
        return ret;
    unsigned char alert = MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR;
    if (too_long) {
        alert = MBEDTLS_SSL_ALERT_MSG_RECORD_OVERFLOW;
        ret = MST_ERR_RECORD_OVERFLOW;
    } else if (header[0] < MBEDTLS_SSL_MSG_CHANGE_CIPHER_SPEC ||
               header[0] > MBEDTLS_SSL_MSG_APPLICATION_DATA) {
        alert = MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE;
    }
    mbedtls_ssl_send_alert_message(&session->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL, alert);
    return ret;
}

/* Records which handshake states Mbed TLS went through; whether it resumed a session is
 * read from that when the handshake is done. */
static void note_state(mst_session *session)
{
    int state = session->ssl.MBEDTLS_PRIVATE(state);
    if (state >= 0 && state < 64)
        session->states_seen |= (uint64_t)1 << state;
}

static bool saw_state(const mst_session *session, int state)
{
    return (session->states_seen >> state) & 1;
}

/* A full TLS 1.2 handshake always passes ServerHelloDone, an abbreviated one never does. In
 * TLS 1.3 a handshake on a PSK skips the certificate states, and counts as resumed whether
 * that PSK was a ticket or an external one (as OpenSSL's SSL_session_reused(), which node's
 * isSessionReused() reports): a client on a PSK offered a ticket or has an external PSK. */
static bool handshake_resumed(const mst_session *session)
{
    if (mbedtls_ssl_get_version_number(&session->ssl) == MBEDTLS_SSL_VERSION_TLS1_2)
        return !saw_state(session, MBEDTLS_SSL_SERVER_HELLO_DONE);
    if (saw_state(session, MBEDTLS_SSL_CERTIFICATE_REQUEST) ||
        saw_state(session, MBEDTLS_SSL_SERVER_CERTIFICATE))
        return false;
    return session->config->endpoint == MST_SERVER || session->offered_session ||
           session->config->ssl.MBEDTLS_PRIVATE(psk) != NULL;
}

static bool client_psk_gate(mst_session *session);
static int note_psk_hint(mst_session *session);

static int run_handshake(mst_session *session)
{
    while (!mbedtls_ssl_is_handshake_over(&session->ssl)) {
        if (client_psk_gate(session))
            return 0;
        int held = mst_store_hold_new_session(&session->store, &session->ssl);
        if (held < 0)
            return fail(session, held);
        if (held > 0) {
            if (held == 2)
                session->events |= MST_EVENT_NEW_SESSION;
            return 0;
        }
        int before = session->ssl.MBEDTLS_PRIVATE(state);
        mst_handshake_before_step(&session->ssl, &session->finished);
        int ret = mbedtls_ssl_handshake_step(&session->ssl);
        mst_handshake_after_step(&session->ssl, before, ret, &session->finished);
        note_state(session); /* the state each step leads to */
        if (ret == 0 && before == MBEDTLS_SSL_SERVER_KEY_EXCHANGE)
            ret = note_psk_hint(session);
        /* Read while Mbed TLS still holds the handshake state; the last step frees it. */
        if (session->config->endpoint == MST_CLIENT &&
            session->ssl.MBEDTLS_PRIVATE(handshake) != NULL)
            session->key_exchange_group = mst_handshake_group(&session->ssl);
        if (ret == 0)
            continue;
        if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
            return 0;
        if (ret == MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED) {
            /* DTLS: the HelloVerifyRequest is queued; start over for the cookie'd hello. */
            ret = mbedtls_ssl_session_reset(&session->ssl);
            if (ret == 0 && session->verify_mode != MBEDTLS_SSL_VERIFY_UNSET)
                mbedtls_ssl_set_hs_authmode(&session->ssl, session->verify_mode);
            if (ret == 0 && session->transport_id != NULL)
                ret = mbedtls_ssl_set_client_transport_id(&session->ssl, session->transport_id,
                                                          session->transport_id_len);
            if (ret == 0)
                continue;
        }
        ret = refuse_record(session, ret);
        if (ret == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE &&
            mbedtls_ssl_get_version_number(&session->ssl) == MBEDTLS_SSL_VERSION_TLS1_2) {
            /* Mbed TLS fails a TLS 1.2 handshake without a required client certificate
             * silently; tell the client, as OpenSSL does, rather than leave it waiting. */
            mbedtls_ssl_send_alert_message(&session->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                           MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE);
        }
        return fail(session, ret);
    }
    session->handshake_done = true;
    session->reused = handshake_resumed(session);
    session->events |= MST_EVENT_HANDSHAKE_DONE;
    return 0;
}

/* mst_session_feed_in_place(): how many bytes of plaintext the next read may write at
 * in_place + in_place_used, over ciphertext Mbed TLS has already copied in; 0 when it is
 * to go to the window. Plaintext is shorter than its record, so a record wholly within the
 * bytes not yet read has room for all of its plaintext over itself and what was read before
 * it; the record completing one begun in an earlier call has not, and goes to the window.
 * Once plaintext is in place, every later read goes there too (the window comes first). */
static size_t in_place_room(const mst_session *session)
{
    const mbedtls_ssl_context *ssl = &session->ssl;
    size_t read = (size_t)(session->borrowed - session->in_place);
    if (ssl->MBEDTLS_PRIVATE(in_left) == 0 && !mbedtls_ssl_check_pending(ssl) &&
        mst_bytes_length(&session->ciphertext_in) == 0 && session->borrowed_len >= 5) {
        /* The next record Mbed TLS reads starts at `borrowed`: is it all there? */
        size_t record = 5 + (size_t)get16(session->borrowed + 3);
        if (record <= session->borrowed_len)
            return read + record - session->in_place_used;
    }
    return session->in_place_used > 0 ? read - session->in_place_used : 0;
}

/* Ends mst_session_feed_in_place()'s writes for this call, the order kept: what is in place
 * moves to the end of the window, where the rest follows. A guard: with TLS records it does
 * not run, as every record read leaves at least its header and tag of room behind it. */
static int leave_in_place(mst_session *session)
{
    int ret = 0;
    if (session->in_place_used > 0 &&
        mst_bytes_append(&session->plaintext_out, session->in_place, session->in_place_used) != 0)
        ret = MBEDTLS_ERR_SSL_ALLOC_FAILED;
    session->in_place = NULL;
    session->in_place_used = 0;
    return ret;
}

static int read_records(mst_session *session)
{
    for (int stalls = 0;;) {
        if (session->flags & (MST_STATE_PEER_CLOSE_NOTIFY | MST_STATE_PEER_EOF))
            return 0;
        /* In place over the caller's records (mst_session_feed_in_place) while there is room;
         * into the caller's sink (mst_session_feed_into) while it has room and nothing waits
         * in the window before; else into the window. In datagram mode each record keeps
         * its bounds there: a 2-byte length, then the record. */
        size_t in_place = 0;
        if (session->in_place != NULL) {
            in_place = in_place_room(session);
            if (in_place == 0 && session->in_place_used > 0 && leave_in_place(session) != 0)
                return fail(session, MBEDTLS_ERR_SSL_ALLOC_FAILED);
        }
        bool into_sink = session->sink_used < session->sink_cap &&
                         mst_bytes_length(&session->plaintext_out) == 0;
        size_t prefix = is_datagram(session) ? 2 : 0;
        uint8_t *room;
        size_t room_len;
        if (in_place > 0) {
            room = session->in_place + session->in_place_used;
            room_len = in_place;
        } else if (into_sink) {
            room = session->sink + session->sink_used;
            room_len = session->sink_cap - session->sink_used;
        } else {
            room = mst_bytes_reserve(&session->plaintext_out, prefix + PLAINTEXT_CHUNK);
            if (room == NULL)
                return fail(session, MBEDTLS_ERR_SSL_ALLOC_FAILED);
            room += prefix;
            room_len = PLAINTEXT_CHUNK;
        }
        int ret = mbedtls_ssl_read(&session->ssl, room, room_len);
        if (ret > 0) {
            if (in_place > 0) {
                session->in_place_used += (size_t)ret;
            } else if (into_sink) {
                session->sink_used += (size_t)ret;
            } else {
                if (prefix) {
                    room[-2] = (uint8_t)(ret >> 8);
                    room[-1] = (uint8_t)ret;
                }
                session->plaintext_out.end += prefix + (size_t)ret;
            }
            session->data_flows = true;
            continue;
        }
        switch (ret) {
        case MBEDTLS_ERR_SSL_WANT_READ:
            /* Not always out of input: a TLS 1.3 NewSessionTicket is answered with WANT_READ
             * while it (and any record after it) waits in Mbed TLS for the next read. A
             * bounded number of such stalls guards against a loop without progress. */
            if (++stalls < 64 && (mbedtls_ssl_check_pending(&session->ssl) ||
                                  (!mbedtls_ssl_is_handshake_over(&session->ssl) &&
                                   (mst_bytes_length(&session->ciphertext_in) > 0 ||
                                    session->borrowed_len > 0))))
                continue;
            return 0;
        case MBEDTLS_ERR_SSL_WANT_WRITE:
            return 0;
        case MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET:
            /* Kept now: the next ticket replaces it in the connection's session. */
            ret = mst_tickets_keep(&session->tickets, session->ssl.MBEDTLS_PRIVATE(session));
            if (ret != 0)
                return fail(session, ret);
            session->events |= MST_EVENT_NEW_SESSION_TICKET;
            continue;
        case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
            session->flags |= MST_STATE_PEER_CLOSE_NOTIFY;
            session->events |= MST_EVENT_PEER_CLOSED;
            return 0;
        case 0:
            /* Mbed TLS returns 0 when the transport ended without close_notify. */
            if (session->transport_eof) {
                session->flags |= MST_STATE_PEER_EOF;
                session->events |= MST_EVENT_PEER_CLOSED;
                return 0;
            }
            continue;
        default:
            return fail(session, refuse_record(session, ret));
        }
    }
}

/* ---- Pre-shared keys the embedder knows (servers) ----
 *
 * Mbed TLS asks for the key of an identity from inside the handshake (mst_lookup_psk), which
 * must not call out. So the identity is read before Mbed TLS gets to it: from the held
 * ClientHello in TLS 1.3 (read_hello_extensions), and in TLS 1.2 from the ClientKeyExchange
 * record, which the gate below keeps from Mbed TLS until the embedder has answered. */

static int ask_psk(mst_session *session, const uint8_t *identity, size_t len)
{
    uint8_t *copy = malloc(len);
    if (copy == NULL)
        return -1;
    memcpy(copy, identity, len);
    free(session->psk_identity);
    session->psk_identity = copy;
    session->psk_identity_len = len;
    session->psk = PSK_ASKED;
    session->events |= MST_EVENT_PSK_IDENTITY;
    return 0;
}

/* DTLS: a ClientKeyExchange in the next datagram queued names the identity (dtls.c). */
static int datagram_psk_gate(mst_session *session)
{
    size_t identity_len;
    const uint8_t *identity = mst_dtls_find_psk_identity(mst_bytes_front(&session->ciphertext_in),
                                                         mst_bytes_length(&session->ciphertext_in),
                                                         &identity_len);
    return identity != NULL && ask_psk(session, identity, identity_len) == 0;
}

/* Nonzero while Mbed TLS must not read on: the record it is about to read is a TLS 1.2
 * ClientKeyExchange on a PSK suite whose identity the embedder has not answered yet. */
static int psk_gate(mst_session *session)
{
    if (session->psk == PSK_ASKED)
        return 1;
    mbedtls_ssl_context *ssl = &session->ssl;
    if (session->psk != PSK_NOT_ASKED || ssl->MBEDTLS_PRIVATE(session_negotiate) == NULL)
        return 0;
    if (is_datagram(session)) {
        /* Mbed TLS asks for a datagram only once it has read all of the previous one. */
        int state = ssl->MBEDTLS_PRIVATE(state);
        if (state != MBEDTLS_SSL_CLIENT_CERTIFICATE && state != MBEDTLS_SSL_CLIENT_KEY_EXCHANGE)
            return 0;
    } else if (ssl->MBEDTLS_PRIVATE(state) != MBEDTLS_SSL_CLIENT_KEY_EXCHANGE ||
               ssl->MBEDTLS_PRIVATE(in_left) != 0) {
        return 0;
    }
    const mbedtls_ssl_ciphersuite_t *suite = mbedtls_ssl_ciphersuite_from_id(
        ssl->MBEDTLS_PRIVATE(session_negotiate)->MBEDTLS_PRIVATE(ciphersuite));
    if (suite == NULL)
        return 0;
    switch (suite->MBEDTLS_PRIVATE(key_exchange)) {
    case MBEDTLS_KEY_EXCHANGE_PSK:
    case MBEDTLS_KEY_EXCHANGE_DHE_PSK:
    case MBEDTLS_KEY_EXCHANGE_RSA_PSK:
    case MBEDTLS_KEY_EXCHANGE_ECDHE_PSK:
        break;
    default:
        return 0;
    }
    if (is_datagram(session))
        return datagram_psk_gate(session);
    /* The whole record first: its header, then the message's type and the identity. */
    const uint8_t *record = mst_bytes_front(&session->ciphertext_in);
    size_t available = mst_bytes_length(&session->ciphertext_in);
    if (available < 5)
        return session->transport_eof ? 0 : 1;
    size_t record_len = get16(record + 3);
    if (record[0] != MBEDTLS_SSL_MSG_HANDSHAKE || record_len > MBEDTLS_SSL_IN_CONTENT_LEN)
        return 0; /* not for us to judge: Mbed TLS refuses it */
    if (available < 5 + record_len)
        return session->transport_eof ? 0 : 1;
    const uint8_t *body = record + 5;
    if (record_len < 6 || body[0] != MBEDTLS_SSL_HS_CLIENT_KEY_EXCHANGE)
        return 0;
    size_t identity_len = get16(body + 4);
    if (identity_len == 0 || 6 + identity_len > record_len)
        return 0;
    if (ask_psk(session, body + 6, identity_len) != 0)
        return 0; /* out of memory: Mbed TLS finds no key and refuses the identity */
    return 1;
}

int mst_lookup_psk(void *context, mbedtls_ssl_context *ssl, const unsigned char *identity,
                   size_t len)
{
    (void)context;
    mst_session *session = (mst_session *)ssl;
    if (session->psk != PSK_ANSWERED || session->psk_key == NULL ||
        session->psk_identity_len != len || memcmp(session->psk_identity, identity, len) != 0)
        return -1;
    return mbedtls_ssl_set_hs_psk(ssl, session->psk_key, session->psk_key_len);
}

const uint8_t *mst_session_psk_identity(const mst_session *session, size_t *len)
{
    if (session->config->endpoint != MST_SERVER || session->psk != PSK_ASKED) {
        *len = 0;
        return NULL;
    }
    *len = session->psk_identity_len;
    return session->psk_identity;
}

int mst_session_set_psk(mst_session *session, const uint8_t *key, size_t len)
{
    if (session->config->endpoint != MST_SERVER || session->psk != PSK_ASKED ||
        (key != NULL && len == 0))
        return MST_ERR_BAD_ARGUMENT;
    if (key != NULL) {
        if ((session->psk_key = malloc(len)) == NULL)
            return MBEDTLS_ERR_SSL_ALLOC_FAILED;
        memcpy(session->psk_key, key, len);
        session->psk_key_len = len;
    }
    session->psk = PSK_ANSWERED;
    return 0;
}

/* ---- Pre-shared keys the embedder chooses by the server's hint (clients) ----
 *
 * As OpenSSL's client, which asks for the TLS 1.2 PSK once it has read the server's identity
 * hint: the hint is copied out of the ServerKeyExchange that Mbed TLS has just parsed, and
 * the handshake stops before the ClientKeyExchange until the embedder has answered. */

static bool uses_tls12_psk(const mbedtls_ssl_context *ssl)
{
    const mbedtls_ssl_session *negotiated = ssl->MBEDTLS_PRIVATE(session_negotiate);
    if (negotiated == NULL || mbedtls_ssl_get_version_number(ssl) != MBEDTLS_SSL_VERSION_TLS1_2)
        return false;
    const mbedtls_ssl_ciphersuite_t *suite =
        mbedtls_ssl_ciphersuite_from_id(negotiated->MBEDTLS_PRIVATE(ciphersuite));
    if (suite == NULL)
        return false;
    switch (suite->MBEDTLS_PRIVATE(key_exchange)) {
    case MBEDTLS_KEY_EXCHANGE_PSK:
    case MBEDTLS_KEY_EXCHANGE_DHE_PSK:
    case MBEDTLS_KEY_EXCHANGE_RSA_PSK:
    case MBEDTLS_KEY_EXCHANGE_ECDHE_PSK:
        return true;
    default:
        return false;
    }
}

/* After the step of the ServerKeyExchange state: when that read a ServerKeyExchange on a PSK
 * suite (plain PSK suites may go without), in_msg still holds it, hint first (RFC 4279 2, 3;
 * its length already checked by Mbed TLS). */
static int note_psk_hint(mst_session *session)
{
    const mbedtls_ssl_context *ssl = &session->ssl;
    if (session->config->endpoint != MST_CLIENT || !session->config->asks_psk ||
        !uses_tls12_psk(ssl) || ssl->MBEDTLS_PRIVATE(in_msgtype) != MBEDTLS_SSL_MSG_HANDSHAKE)
        return 0;
    const uint8_t *message = ssl->MBEDTLS_PRIVATE(in_msg);
    size_t message_len = ssl->MBEDTLS_PRIVATE(in_hslen);
    /* The handshake header is 4 bytes in TLS, 12 in DTLS (RFC 6347 4.2.2). */
    size_t header = is_datagram(session) ? 12 : 4;
    if (message == NULL || message_len < header + 2 ||
        message[0] != MBEDTLS_SSL_HS_SERVER_KEY_EXCHANGE)
        return 0;
    size_t hint_len = get16(message + header);
    if (hint_len == 0 || header + 2 + hint_len > message_len)
        return 0;
    uint8_t *copy = malloc(hint_len);
    if (copy == NULL)
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    memcpy(copy, message + header + 2, hint_len);
    free(session->psk_hint);
    session->psk_hint = copy;
    session->psk_hint_len = hint_len;
    return 0;
}

/* True while the ClientKeyExchange of a PSK suite waits for the embedder's key. */
static bool client_psk_gate(mst_session *session)
{
    if (session->config->endpoint != MST_CLIENT || !session->config->asks_psk ||
        session->psk == PSK_ANSWERED)
        return false;
    if (session->psk == PSK_ASKED)
        return true;
    if (session->ssl.MBEDTLS_PRIVATE(state) != MBEDTLS_SSL_CLIENT_KEY_EXCHANGE ||
        !uses_tls12_psk(&session->ssl))
        return false;
    session->psk = PSK_ASKED;
    session->events |= MST_EVENT_PSK_HINT;
    return true;
}

const uint8_t *mst_session_psk_hint(const mst_session *session, size_t *len, int *asked)
{
    if (asked != NULL)
        *asked = session->config->endpoint == MST_CLIENT && session->psk == PSK_ASKED;
    *len = session->psk_hint_len;
    return session->psk_hint;
}

int mst_session_set_client_psk(mst_session *session, const uint8_t *key, size_t key_len,
                               const uint8_t *identity, size_t identity_len)
{
    if (session->config->endpoint != MST_CLIENT || session->psk != PSK_ASKED || key == NULL ||
        key_len == 0 || key_len > MBEDTLS_PSK_MAX_LEN || identity == NULL || identity_len == 0 ||
        identity_len > 0xFFFF)
        return MST_ERR_BAD_ARGUMENT;
    uint8_t *key_copy = malloc(key_len);
    uint8_t *identity_copy = malloc(identity_len);
    if (key_copy == NULL || identity_copy == NULL) {
        free(key_copy);
        free(identity_copy);
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    }
    memcpy(key_copy, key, key_len);
    memcpy(identity_copy, identity, identity_len);
    session->psk_key = key_copy;
    session->psk_key_len = key_len;
    session->psk_identity = identity_copy;
    session->psk_identity_len = identity_len;
    /* Mbed TLS copies the key and keeps a pointer to the identity, which the session holds
     * for the rest of its life (deps/patches/0002). */
    int ret;
    WITH_SESSION_MEMORY(session, ret = mbedtls_ssl_set_hs_psk(&session->ssl, key_copy, key_len));
    if (ret == 0)
        ret = mbedtls_ssl_set_hs_psk_identity(&session->ssl, identity_copy, identity_len);
    if (ret != 0)
        return fail(session, ret);
    session->psk = PSK_ANSWERED;
    return 0;
}

/* ---- Holding the ClientHello (servers) ----
 *
 * Before Mbed TLS reads anything, the engine reassembles the ClientHello from the records
 * waiting in ciphertext_in (without consuming them) and reads the SNI name and the ALPN
 * list it offers. The embedder then chooses a config and releases it; only then does Mbed
 * TLS parse the hello, on that config. */

/* Largest ClientHello held; a larger one goes to Mbed TLS, which refuses it. */
#define MAX_HELD_HELLO 65536


/* Reads the SNI host name and the ALPN protocols out of a ClientHello body. Malformed
 * fields are left for Mbed TLS to refuse: what cannot be read is simply not reported. */
static int read_hello_extensions(mst_session *session, const uint8_t *body, size_t len)
{
    /* version, random, session id, cipher suites, compression methods, extensions */
    size_t at = 2 + 32;
    if (at >= len || (at += 1 + body[at]) + 2 > len || (at += 2 + get16(body + at)) + 1 > len ||
        (at += 1 + body[at]) + 2 > len || at + 2 + get16(body + at) > len)
        return 0;
    const uint8_t *session_id = body + 2 + 32 + 1;
    size_t session_id_len = body[2 + 32];
    bool offers_ticket = false, offers_tls13 = false;
    const uint8_t *p = body + at + 2, *end = p + get16(body + at);
    while (end - p >= 4) {
        uint16_t type = get16(p), ext_len = get16(p + 2);
        const uint8_t *data = p + 4;
        if (end - data < ext_len)
            break;
        p = data + ext_len;
        if (type == 35 /* session_ticket */) {
            offers_ticket = ext_len > 0; /* empty: asks for one */
        } else if (type == 43 /* supported_versions */ && ext_len >= 1) {
            for (size_t i = 1; i + 1 < ext_len && i + 1 <= data[0]; i += 2) {
                if (get16(data + i) == MST_TLS1_3)
                    offers_tls13 = true;
            }
        } else if (type == 0 /* server_name */ && ext_len >= 5 && data[2] == 0 /* host_name */) {
            size_t name_len = get16(data + 3);
            if (name_len > 0 && name_len <= ext_len - 5u && session->server_name == NULL &&
                mst_record_server_name(NULL, &session->ssl, data + 5, name_len) != 0)
                return -1;
        } else if (type == 41 /* pre_shared_key */ && ext_len >= 4 && session->config->asks_psk &&
                   session->psk == PSK_NOT_ASKED) {
            /* identities<7..2^16-1>: { identity<1..2^16-1>, obfuscated_ticket_age (4) }; the
             * first one that is not a ticket of ours (those start with our key name). */
            size_t list_end = 2 + (size_t)get16(data);
            for (size_t at = 2; list_end <= ext_len && at + 2 <= list_end;) {
                size_t identity_len = get16(data + at);
                const uint8_t *identity = data + at + 2;
                if (identity_len == 0 || at + 2 + identity_len + 4 > list_end)
                    break;
                at += 2 + identity_len + 4;
                mst_resumption *store = session->config->resumption;
                if (store != NULL && identity_len > 16) {
                    uint8_t keys[MST_TICKET_KEYS_LEN];
                    mst_resumption_get_keys(store, keys);
                    bool ticket = memcmp(identity, keys, 16) == 0;
                    mbedtls_platform_zeroize(keys, sizeof(keys));
                    if (ticket)
                        continue;
                }
                if (ask_psk(session, identity, identity_len) != 0)
                    return -1;
                break;
            }
        } else if (type == 16 /* ALPN */ && ext_len >= 2 && session->hello_alpn == NULL) {
            size_t list_len = get16(data), count = 0;
            if (list_len > ext_len - 2u)
                continue;
            for (size_t at = 2; at < 2 + list_len; at += 1 + data[at])
                count++;
            char **list = calloc(count + 1, sizeof(char *));
            if (list == NULL)
                return -1;
            size_t n = 0;
            for (size_t at = 2; at < 2 + list_len && n < count; at += 1 + data[at]) {
                size_t name_len = data[at];
                if (name_len == 0 || at + 1 + name_len > 2 + list_len)
                    break;
                if ((list[n] = malloc(name_len + 1)) == NULL) {
                    free_alpn_list(list);
                    return -1;
                }
                memcpy(list[n], data + at + 1, name_len);
                list[n++][name_len] = '\0';
            }
            session->hello_alpn = list;
        }
    }
    mst_store_note_hello(&session->store, &session->config->ssl, session_id, session_id_len,
                         offers_ticket, offers_tls13);
    return 0;
}

/* 1: a complete ClientHello was read; 0: it is not all here yet; 2: the input is not a
 * ClientHello in handshake records (Mbed TLS will refuse it); -1: out of memory. */
static int scan_client_hello(mst_session *session)
{
    const uint8_t *in = mst_bytes_front(&session->ciphertext_in);
    size_t available = mst_bytes_length(&session->ciphertext_in);
    if (is_datagram(session)) {
        /* Mbed TLS reads no DTLS handshake message larger than its input buffer. */
        uint8_t *body;
        size_t body_len;
        int found = mst_dtls_reassemble_client_hello(in, available, MBEDTLS_SSL_IN_CONTENT_LEN,
                                                     &body, &body_len);
        if (found == 1)
            found = read_hello_extensions(session, body, body_len) == 0 ? 1 : -1;
        free(body);
        return found;
    }
    uint8_t *message = NULL;
    size_t have = 0, need = 0, at = 0;
    int result = 0;
    while (at + 5 <= available) {
        const uint8_t *record = in + at;
        size_t record_len = get16(record + 3);
        if (record[0] != MBEDTLS_SSL_MSG_HANDSHAKE || record_len == 0 ||
            record_len > MBEDTLS_SSL_IN_CONTENT_LEN) {
            result = 2;
            break;
        }
        if (at + 5 + record_len > available)
            break;
        if (message == NULL) {
            if (record_len < 4 || record[5] != MBEDTLS_SSL_HS_CLIENT_HELLO) {
                result = 2;
                break;
            }
            need = 4 + (((size_t)record[6] << 16) | ((size_t)record[7] << 8) | record[8]);
            if (need > MAX_HELD_HELLO) {
                result = 2;
                break;
            }
            if ((message = malloc(need)) == NULL)
                return -1;
        }
        size_t take = record_len < need - have ? record_len : need - have;
        memcpy(message + have, record + 5, take);
        have += take;
        at += 5 + record_len;
        if (have == need) {
            result = read_hello_extensions(session, message + 4, need - 4) == 0 ? 1 : -1;
            break;
        }
    }
    free(message);
    return result;
}

int mst_session_hold_client_hello(mst_session *session)
{
    if (session->config->endpoint != MST_SERVER || session->hello != HELLO_NOT_HELD ||
        session->ssl.MBEDTLS_PRIVATE(state) != MBEDTLS_SSL_HELLO_REQUEST)
        return MST_ERR_BAD_ARGUMENT;
    session->hello = HELLO_AWAITED;
    return 0;
}

const char *mst_session_hello_alpn(const mst_session *session, size_t index)
{
    if (session->hello_alpn == NULL)
        return NULL;
    for (size_t i = 0; i < index; i++) {
        if (session->hello_alpn[i] == NULL)
            return NULL;
    }
    return session->hello_alpn[index];
}

int mst_session_continue_hello(mst_session *session, mst_config *config)
{
    if (session->hello != HELLO_HELD)
        return MST_ERR_BAD_ARGUMENT;
    if (config != NULL && config != session->config) {
        if (config->endpoint != MST_SERVER || config->transport != session->config->transport)
            return MST_ERR_BAD_ARGUMENT;
        bool datagram = is_datagram(session);
        if (datagram && (config->dtls_cid_length != session->config->dtls_cid_length ||
                         mst_config_cookies(config) != mst_config_cookies(session->config)))
            return MST_ERR_BAD_ARGUMENT;
        mst_dtls_carried carried;
        if (datagram)
            mst_dtls_carry_from(&session->ssl, &carried);
        /* Nothing was read yet: the context starts over on the chosen config. */
        WITH_SESSION_MEMORY(session, mbedtls_ssl_free(&session->ssl));
        mst_config_ref(config);
        mst_config_freeze(config);
        mst_config_unref(session->config);
        session->config = config;
        int ret = setup_ssl(session);
        if (ret == 0 && datagram)
            WITH_SESSION_MEMORY(session, ret = mst_dtls_carry_to(&session->ssl, &carried,
                                                                 session->transport_id,
                                                                 session->transport_id_len));
        if (ret != 0)
            return fail(session, ret);
    }
    session->hello = HELLO_RELEASED;
    return 0;
}

int mst_session_refuse(mst_session *session, unsigned char alert)
{
    if (session->error.code != 0)
        return session->error.code;
    if (session->hello == HELLO_AWAITED || session->hello == HELLO_HELD) {
        if (is_datagram(session))
            mst_dtls_answer_sequence(&session->ssl, mst_bytes_front(&session->ciphertext_in),
                                     mst_bytes_length(&session->ciphertext_in));
        session->hello = HELLO_RELEASED;
    }
    int ret = wake(session);
    if (ret != 0)
        return ret;
    WITH_SESSION_MEMORY(session, ret = mbedtls_ssl_send_alert_message(
                                     &session->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL, alert));
    fail(session, MST_ERR_REFUSED);
    return ret;
}

/* ---- Session IDs kept by the embedder (servers; see session_store.c) ---- */

int mst_session_use_session_store(mst_session *session)
{
    if (session->config->endpoint != MST_SERVER || is_datagram(session) ||
        (session->hello != HELLO_NOT_HELD && session->hello != HELLO_AWAITED) ||
        session->ssl.MBEDTLS_PRIVATE(state) != MBEDTLS_SSL_HELLO_REQUEST)
        return MST_ERR_BAD_ARGUMENT;
    session->store.enabled = true;
    session->hello = HELLO_AWAITED;
    return 0;
}

const uint8_t *mst_session_hello_session_id(const mst_session *session, size_t *len)
{
    *len = session->hello == HELLO_HELD ? session->store.offered_id_len : 0;
    return *len > 0 ? session->store.offered_id : NULL;
}

int mst_session_set_stored_session(mst_session *session, const uint8_t *data, size_t len)
{
    if (session->hello != HELLO_HELD || session->store.offered_id_len == 0 || data == NULL ||
        len == 0)
        return MST_ERR_BAD_ARGUMENT;
    return mst_store_set_found(&session->store, data, len);
}

const uint8_t *mst_session_new_session_id(const mst_session *session, size_t *len)
{
    bool asked = session->store.new_session == NEW_SESSION_ASKED;
    *len = asked ? session->store.new_id_len : 0;
    return asked ? session->store.new_id : NULL;
}

const uint8_t *mst_session_new_session_data(const mst_session *session, size_t *len)
{
    bool asked = session->store.new_session == NEW_SESSION_ASKED;
    *len = asked ? session->store.new_data_len : 0;
    return asked ? session->store.new_data : NULL;
}

int mst_session_new_session_stored(mst_session *session)
{
    if (session->store.new_session != NEW_SESSION_ASKED)
        return MST_ERR_BAD_ARGUMENT;
    mst_store_new_session_stored(&session->store);
    return 0;
}

static int drive(mst_session *session)
{
    if (session->error.code != 0)
        return session->error.code;
    if (wake(session) != 0)
        return session->error.code;
    if (session->hello == HELLO_AWAITED) {
        int found = scan_client_hello(session);
        if (found < 0)
            return fail(session, MBEDTLS_ERR_SSL_ALLOC_FAILED);
        if (found == 1) {
            session->hello = HELLO_HELD;
            session->events |= MST_EVENT_CLIENT_HELLO;
        } else if (found == 2) {
            session->hello = HELLO_RELEASED; /* not a ClientHello: Mbed TLS will say so */
        } else if (session->transport_eof) {
            return fail(session, MBEDTLS_ERR_SSL_CONN_EOF);
        }
    }
    if (session->hello == HELLO_AWAITED || session->hello == HELLO_HELD)
        return 0;
    int ret = 0;
    WITH_SESSION_MEMORY(session, {
        if (!session->handshake_done)
            ret = run_handshake(session);
        if (ret == 0 && session->handshake_done)
            ret = read_records(session);
    });
    if (ret == 0 && !session->handshake_done && session->transport_eof &&
        mst_bytes_length(&session->ciphertext_in) == 0)
        ret = fail(session, MBEDTLS_ERR_SSL_CONN_EOF);
    mst_bytes_trim(&session->ciphertext_in, window_keep(session));
    /* The room made for a read that found no data goes, until data flows. */
    mst_bytes_trim(&session->plaintext_out, plaintext_keep(session));
    return ret;
}

int mst_session_process(mst_session *session) { return drive(session); }

int mst_session_feed_ciphertext(mst_session *session, const uint8_t *data, size_t len)
{
    if (session->error.code != 0)
        return session->error.code;
    if (len > 0 && data == NULL)
        return MST_ERR_BAD_ARGUMENT;
    /* After the peer closed, nothing more is read. */
    if (session->flags & (MST_STATE_PEER_CLOSE_NOTIFY | MST_STATE_PEER_EOF))
        return 0;
    if (is_datagram(session)) {
        if (len == 0 || len > 0xFFFF)
            return MST_ERR_BAD_ARGUMENT;
        uint8_t prefix[2] = {(uint8_t)(len >> 8), (uint8_t)len};
        if (mst_bytes_append(&session->ciphertext_in, prefix, 2) != 0)
            return fail(session, MBEDTLS_ERR_SSL_ALLOC_FAILED);
    }
    if (is_datagram(session) || !session->handshake_done) {
        /* The handshake's input is looked through in the window (a held ClientHello, a PSK
         * identity) before Mbed TLS reads it. */
        if (mst_bytes_append(&session->ciphertext_in, data, len) != 0)
            return fail(session, MBEDTLS_ERR_SSL_ALLOC_FAILED);
        return drive(session);
    }
    /* Records are read from the caller's bytes in place; only what is left of them (part of
     * a record) is copied, to wait for the rest. */
    session->borrowed = data;
    session->borrowed_len = len;
    int ret = drive(session);
    if (session->borrowed_len > 0 &&
        mst_bytes_append(&session->ciphertext_in, session->borrowed, session->borrowed_len) != 0)
        ret = fail(session, MBEDTLS_ERR_SSL_ALLOC_FAILED);
    session->borrowed = NULL;
    session->borrowed_len = 0;
    return ret;
}

size_t mst_session_plaintext_bound(const mst_session *session, size_t len)
{
    /* A record's plaintext is shorter than the record: the bytes not yet read as records
     * bound what they can yield. */
    const mbedtls_ssl_context *ssl = &session->ssl;
    size_t bound = len + mst_bytes_length(&session->ciphertext_in) + ssl->MBEDTLS_PRIVATE(in_left);
    if (ssl->MBEDTLS_PRIVATE(in_offt) != NULL)
        bound += ssl->MBEDTLS_PRIVATE(in_msglen);
    return bound;
}

int mst_session_feed_into(mst_session *session, const uint8_t *data, size_t len, uint8_t *out,
                          size_t cap, size_t *written)
{
    *written = 0;
    if (cap > 0 && out == NULL)
        return MST_ERR_BAD_ARGUMENT;
    if (is_datagram(session))
        return mst_session_feed_ciphertext(session, data, len);
    session->sink = out;
    session->sink_cap = cap;
    session->sink_used = 0;
    int ret = mst_session_feed_ciphertext(session, data, len);
    *written = session->sink_used;
    session->sink = NULL;
    session->sink_cap = session->sink_used = 0;
    return ret;
}

int mst_session_feed_in_place(mst_session *session, uint8_t *data, size_t len,
                              size_t *in_place)
{
    *in_place = 0;
    if (len > 0 && data == NULL)
        return MST_ERR_BAD_ARGUMENT;
    if (is_datagram(session) || !session->handshake_done)
        return mst_session_feed_ciphertext(session, data, len);
    session->in_place = data;
    session->in_place_used = 0;
    int ret = mst_session_feed_ciphertext(session, data, len);
    *in_place = session->in_place_used;
    session->in_place = NULL;
    session->in_place_used = 0;
    return ret;
}

int mst_session_feed_eof(mst_session *session)
{
    if (session->error.code != 0)
        return session->error.code;
    if (session->transport_eof)
        return 0;
    session->transport_eof = true;
    return drive(session);
}

int mst_session_write_plaintext(mst_session *session, const uint8_t *data, size_t len)
{
    if (session->error.code != 0)
        return session->error.code;
    if (!session->handshake_done)
        return MST_ERR_NOT_READY;
    if (session->flags & MST_STATE_CLOSE_SENT)
        return MST_ERR_CLOSED;
    if (len > 0 && data == NULL)
        return MST_ERR_BAD_ARGUMENT;
    int ret = wake(session);
    if (ret != 0)
        return ret;
    session->data_flows = true;
    WITH_SESSION_MEMORY(session, {
        while (len > 0) {
            size_t chunk = len < session->max_send_fragment ? len : session->max_send_fragment;
            ret = mbedtls_ssl_write(&session->ssl, data, chunk);
            if (ret <= 0)
                break;
            data += ret;
            len -= (size_t)ret;
            ret = 0;
        }
    });
    /* Our send callback never blocks, so WANT_WRITE/WANT_READ here is an engine fault. */
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
        ret = MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    return ret != 0 ? fail(session, ret) : 0;
}

size_t mst_session_ciphertext_bound(const mst_session *session, size_t len)
{
    int payload = mbedtls_ssl_get_max_out_record_payload(&session->ssl);
    int expansion = mbedtls_ssl_get_record_expansion(&session->ssl);
    size_t per_record = session->max_send_fragment;
    if (payload > 0 && (size_t)payload < per_record)
        per_record = (size_t)payload;
    if (expansion < 0 || per_record == 0)
        return 0;
    return len + (len / per_record + 1) * (size_t)expansion;
}

int mst_session_write_into(mst_session *session, const uint8_t *data, size_t len, uint8_t *out,
                           size_t cap, size_t *written)
{
    *written = 0;
    if ((cap > 0 && out == NULL) || is_datagram(session))
        return MST_ERR_BAD_ARGUMENT;
    session->record_sink = out;
    session->record_sink_cap = cap;
    session->record_sink_used = 0;
    int ret = mst_session_write_plaintext(session, data, len);
    *written = session->record_sink_used;
    session->record_sink = NULL;
    session->record_sink_cap = session->record_sink_used = 0;
    return ret;
}

int mst_session_set_max_send_fragment(mst_session *session, size_t size)
{
    if (size < 512 || size > MBEDTLS_SSL_OUT_CONTENT_LEN)
        return MST_ERR_BAD_ARGUMENT;
    session->max_send_fragment = size;
    return 0;
}

int mst_session_close(mst_session *session)
{
    if (session->error.code != 0)
        return session->error.code;
    if (session->flags & MST_STATE_CLOSE_SENT)
        return 0;
    session->flags |= MST_STATE_CLOSE_SENT;
    if (!session->handshake_done)
        return 0;
    int ret = wake(session);
    if (ret != 0)
        return ret;
    WITH_SESSION_MEMORY(session, ret = mbedtls_ssl_close_notify(&session->ssl));
    return ret != 0 ? fail(session, ret) : 0;
}

/* ---- Windows ---- */

static const uint8_t *peek(const mst_session *session, const mst_bytes *b, size_t *len)
{
    size_t available = mst_bytes_length(b);
    if (available == 0) {
        *len = 0;
        return NULL;
    }
    const uint8_t *front = mst_bytes_front(b);
    if (is_datagram(session)) {
        *len = ((size_t)front[0] << 8) | front[1];
        return front + 2;
    }
    *len = available;
    return front;
}

const uint8_t *mst_session_peek_ciphertext(const mst_session *session, size_t *len)
{
    return peek(session, &session->ciphertext_out, len);
}

void mst_session_consume_ciphertext(mst_session *session, size_t len)
{
    mst_bytes *out = &session->ciphertext_out;
    if (is_datagram(session)) {
        /* A datagram leaves whole. */
        size_t datagram;
        if (peek(session, out, &datagram) != NULL)
            mst_bytes_consume(out, 2 + datagram);
    } else {
        mst_bytes_consume(out, len);
    }
    mst_bytes_trim(out, window_keep(session));
}

size_t mst_session_take_ciphertext(mst_session *session, uint8_t *out, size_t cap)
{
    size_t len;
    const uint8_t *front = mst_session_peek_ciphertext(session, &len);
    if (front == NULL)
        return 0;
    size_t n = len < cap ? len : cap;
    memcpy(out, front, n);
    mst_session_consume_ciphertext(session, n);
    return n;
}

const uint8_t *mst_session_peek_plaintext(const mst_session *session, size_t *len)
{
    return peek(session, &session->plaintext_out, len);
}

void mst_session_consume_plaintext(mst_session *session, size_t len)
{
    size_t record;
    if (is_datagram(session) && peek(session, &session->plaintext_out, &record) != NULL)
        len = 2 + record; /* a record leaves whole */
    mst_bytes_consume(&session->plaintext_out, len);
    mst_bytes_trim(&session->plaintext_out, plaintext_keep(session));
}

size_t mst_session_read_plaintext(mst_session *session, uint8_t *out, size_t cap)
{
    size_t len;
    const uint8_t *front = mst_session_peek_plaintext(session, &len);
    size_t n = len < cap ? len : cap;
    if (n > 0) {
        memcpy(out, front, n);
        mst_session_consume_plaintext(session, n);
    }
    return n;
}

/* ---- State ---- */

unsigned mst_session_state(const mst_session *session)
{
    unsigned state = session->flags;
    if (!session->handshake_done && session->error.code == 0)
        state |= MST_STATE_HANDSHAKING;
    if (mst_bytes_length(&session->ciphertext_out) > 0)
        state |= MST_STATE_HAS_CIPHERTEXT;
    if (mst_bytes_length(&session->plaintext_out) > 0)
        state |= MST_STATE_HAS_PLAINTEXT;
    if (session->error.code != 0)
        state |= MST_STATE_FAILED;
    return state;
}

unsigned mst_session_take_events(mst_session *session)
{
    unsigned events = session->events;
    session->events = 0;
    return events;
}

const mst_error *mst_session_error(const mst_session *session)
{
    return session->error.code != 0 ? &session->error : NULL;
}

int mst_session_peer_alert(const mst_session *session) { return session->peer_alert; }

/* ---- Negotiated parameters ---- */

const char *mst_session_protocol(const mst_session *session)
{
    if (!session->handshake_done)
        return NULL;
    switch (mbedtls_ssl_get_version_number(&session->ssl)) {
    case MBEDTLS_SSL_VERSION_TLS1_2: return is_datagram(session) ? "DTLSv1.2" : "TLSv1.2";
    case MBEDTLS_SSL_VERSION_TLS1_3: return "TLSv1.3";
    default: return NULL;
    }
}

int mst_session_ciphersuite_id(const mst_session *session)
{
    return session->handshake_done ? mbedtls_ssl_get_ciphersuite_id_from_ssl(&session->ssl) : 0;
}

const char *mst_session_ciphersuite_name(const mst_session *session)
{
    return session->handshake_done ? mbedtls_ssl_get_ciphersuite(&session->ssl) : NULL;
}

uint16_t mst_session_key_exchange_group(const mst_session *session)
{
    return session->handshake_done ? session->key_exchange_group : 0;
}

const char *mst_session_alpn(const mst_session *session)
{
    return mbedtls_ssl_get_alpn_protocol(&session->ssl);
}

const char *mst_session_server_name(const mst_session *session)
{
    return session->server_name;
}

/* A client that resumed a session it saved reports what the session says of the peer. */
static bool reports_saved_peer(const mst_session *session)
{
    return session->reused && session->offered_session;
}

uint32_t mst_session_verify_flags(const mst_session *session)
{
    if (reports_saved_peer(session))
        return session->restored_flags;
    return mbedtls_ssl_get_verify_result(&session->ssl);
}

const uint8_t *mst_session_peer_certificate(const mst_session *session, size_t index, size_t *len)
{
    /* A resumed session: Mbed TLS keeps no chain in TLS 1.3 tickets and only the leaf in
     * TLS 1.2 sessions; the saved session has all the peer sent. */
    if (reports_saved_peer(session))
        return chain_get(&session->restored[RESTORED_SENT], index, len, NULL);
    const mbedtls_x509_crt *crt = mbedtls_ssl_get_peer_cert(&session->ssl);
    if (crt == NULL) {
        /* A refused chain: Mbed TLS freed it, the verify callback kept a copy. */
        return chain_get(&session->sent, index, len, NULL);
    }
    for (; crt != NULL && index > 0; index--)
        crt = crt->next;
    if (crt == NULL || crt->raw.len == 0) {
        *len = 0;
        return NULL;
    }
    *len = crt->raw.len;
    return crt->raw.p;
}

const uint8_t *mst_session_verified_certificate(const mst_session *session, size_t depth,
                                                size_t *len, uint32_t *flags)
{
    /* A resumed session reports its first handshake's verification. */
    if (reports_saved_peer(session))
        return chain_get(&session->restored[RESTORED_VERIFIED], depth, len, flags);
    return chain_get(&session->verified, depth, len, flags);
}

const uint8_t *mst_session_own_certificate(const mst_session *session, size_t *len)
{
    const mst_config *config = session->config;
    if (config->own_count == 0) {
        *len = 0;
        return NULL;
    }
    *len = config->own[0].chain.raw.len;
    return config->own[0].chain.raw.p;
}

const uint8_t *mst_session_own_finished(const mst_session *session, size_t *len)
{
    *len = session->finished.own_len;
    return *len > 0 ? session->finished.own : NULL;
}

const uint8_t *mst_session_peer_finished(const mst_session *session, size_t *len)
{
    *len = session->finished.peer_len;
    return *len > 0 ? session->finished.peer : NULL;
}

size_t mst_ciphersuites(int *ids, size_t cap)
{
    const int *list = mbedtls_ssl_list_ciphersuites();
    size_t count = 0;
    for (; list[count] != 0; count++) {
        if (count < cap)
            ids[count] = list[count];
    }
    return count;
}

const char *mst_ciphersuite_name(int id)
{
    const char *name = mbedtls_ssl_get_ciphersuite_name(id);
    return (name != NULL && strcmp(name, "unknown") != 0) ? name : NULL;
}

void mst_session_memory(const mst_session *session, size_t *current, size_t *peak)
{
    mst_memory_account_read(session->memory, current, peak);
}

size_t mst_session_allocations(const mst_session *session)
{
    return mst_memory_account_allocations(session->memory);
}

size_t mst_session_trim(mst_session *session)
{
    /* Empty windows go; one still holding bytes is the embedder's to take first. */
    session->data_flows = false;
    mst_bytes_trim(&session->ciphertext_in, 0);
    mst_bytes_trim(&session->ciphertext_out, 0);
    mst_bytes_trim(&session->plaintext_out, 0);
    mst_bytes_trim(&session->keylog, 0);
    mst_bytes_trim(&session->debug, 0);
    if (session->error.code == 0 && !session->record_buffers_released) {
        bool released;
        WITH_SESSION_MEMORY(session, released = mst_record_buffers_release(&session->ssl));
        session->record_buffers_released = released;
    }
    size_t current, peak;
    mst_memory_account_read(session->memory, &current, &peak);
    return current;
}

/* ---- Resumption (client) ----
 *
 * A saved session, all numbers big-endian:
 *   "MSTS" | version 1 | name length (1) | name | verify flags (4)
 *   | sent count (1) | { DER length (3) | DER } ...          the chain the peer sent
 *   | verified count (1) | { flags (4) | DER length (3) | DER } ...   the chain as verified
 *   | Mbed TLS session length (4) | Mbed TLS session
 * The Mbed TLS part is mbedtls_ssl_session_save()'s, which refuses a session from a build
 * with another version or configuration. */

#define SAVED_MAGIC "MSTS"
#define SAVED_VERSION 1

int mst_session_reused(const mst_session *session) { return session->reused ? 1 : 0; }

static uint8_t *put_number(uint8_t *p, size_t value, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(value >> (8 * (n - 1 - i)));
    return p + n;
}

int mst_session_save(const mst_session *session, const char *name, uint8_t *out, size_t cap,
                     size_t *len)
{
    *len = 0;
    const mbedtls_ssl_session *saved = session->ssl.MBEDTLS_PRIVATE(session);
    size_t name_len = name != NULL ? strlen(name) : 0;
    if (session->config->endpoint != MST_CLIENT || name_len > 255)
        return MST_ERR_BAD_ARGUMENT;
    if (!session->handshake_done || session->error.code != 0 || saved == NULL)
        return MST_ERR_NO_SESSION;
    /* TLS 1.2 resumes with a ticket or a session ID. A TLS 1.3 session without a ticket is
     * saved all the same, as node's: it resumes nothing (see mst_session_resume). */
    size_t ticket_len;
    if (saved->MBEDTLS_PRIVATE(tls_version) == MBEDTLS_SSL_VERSION_TLS1_2 &&
        mst_session_ticket(session, &ticket_len) == NULL && saved->MBEDTLS_PRIVATE(id_len) == 0)
        return MST_ERR_NO_SESSION;

    /* The ticket being reported, or the connection's own session. */
    size_t state_len = 0;
    const uint8_t *reported = mst_tickets_session(&session->tickets, &state_len);
    int ret = reported != NULL ? 0 : mbedtls_ssl_session_save(saved, NULL, 0, &state_len);
    if (ret != 0 && ret != MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL)
        return ret;
    size_t total = 4 + 1 + 1 + name_len + 4 + 1 + 1 + 4 + state_len;
    size_t sent = 0, verified = 0, der_len;
    uint32_t flags;
    while (sent < MAX_CHAIN_DEPTH && mst_session_peer_certificate(session, sent, &der_len) != NULL) {
        total += 3 + der_len;
        sent++;
    }
    while (mst_session_verified_certificate(session, verified, &der_len, &flags) != NULL) {
        total += 4 + 3 + der_len;
        verified++;
    }
    *len = total;
    if (out == NULL)
        return 0;
    if (cap < total)
        return MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL;

    uint8_t *p = out;
    memcpy(p, SAVED_MAGIC, 4);
    p += 4;
    *p++ = SAVED_VERSION;
    *p++ = (uint8_t)name_len;
    if (name_len > 0)
        memcpy(p, name, name_len);
    p += name_len;
    p = put_number(p, mst_session_verify_flags(session), 4);
    *p++ = (uint8_t)sent;
    for (size_t i = 0; i < sent; i++) {
        const uint8_t *der = mst_session_peer_certificate(session, i, &der_len);
        p = put_number(p, der_len, 3);
        memcpy(p, der, der_len);
        p += der_len;
    }
    *p++ = (uint8_t)verified;
    for (size_t i = 0; i < verified; i++) {
        const uint8_t *der = mst_session_verified_certificate(session, i, &der_len, &flags);
        p = put_number(p, flags, 4);
        p = put_number(p, der_len, 3);
        memcpy(p, der, der_len);
        p += der_len;
    }
    p = put_number(p, state_len, 4);
    if (reported != NULL)
        memcpy(p, reported, state_len);
    else
        ret = mbedtls_ssl_session_save(saved, p, state_len, &state_len);
    if (ret != 0) {
        mbedtls_platform_zeroize(out, total);
        *len = 0;
    }
    return ret;
}

int mst_session_next_ticket(mst_session *session)
{
    return mst_tickets_next(&session->tickets) ? 1 : 0;
}

const uint8_t *mst_session_ticket(const mst_session *session, size_t *len)
{
    *len = 0;
    if (session->config->endpoint != MST_CLIENT || !session->handshake_done)
        return NULL;
    const uint8_t *ticket = mst_tickets_ticket(&session->tickets, len);
    if (ticket != NULL)
        return ticket;
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    const mbedtls_ssl_session *live = session->ssl.MBEDTLS_PRIVATE(session);
    if (live != NULL && live->MBEDTLS_PRIVATE(ticket) != NULL &&
        live->MBEDTLS_PRIVATE(ticket_len) > 0) {
        *len = live->MBEDTLS_PRIVATE(ticket_len);
        return live->MBEDTLS_PRIVATE(ticket);
    }
#endif
    return NULL;
}

/* Reads n bytes as a big-endian number; false past the end. */
static bool read_number(const uint8_t **p, const uint8_t *end, size_t n, size_t *value)
{
    if ((size_t)(end - *p) < n)
        return false;
    size_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | (*p)[i];
    *p += n;
    *value = v;
    return true;
}

/* Reads a certificate list of a saved session: with copies == NULL it only checks it. */
static bool read_chain(const uint8_t **p, const uint8_t *end, bool with_flags, mst_session *copies,
                       int list)
{
    size_t count, flags = 0, der_len;
    if (!read_number(p, end, 1, &count) || count > MAX_CHAIN_DEPTH)
        return false;
    for (size_t i = 0; i < count; i++) {
        if ((with_flags && !read_number(p, end, 4, &flags)) || !read_number(p, end, 3, &der_len) ||
            der_len == 0 || (size_t)(end - *p) < der_len)
            return false;
        if (copies != NULL && !chain_keep(&copies->restored[list], i, *p, der_len, (uint32_t)flags))
            return false;
        *p += der_len;
    }
    return true;
}

/* Mbed TLS binds a TLS 1.3 ticket to the SNI it was received with, and fails a handshake
 * that offers it with another: such a session is refused here instead. */
static bool same_server_name(const mbedtls_ssl_session *saved, const char *server_name)
{
#if defined(MBEDTLS_SSL_PROTO_TLS1_3) && defined(MBEDTLS_SSL_SESSION_TICKETS) && \
    defined(MBEDTLS_SSL_SERVER_NAME_INDICATION)
    if (saved->MBEDTLS_PRIVATE(tls_version) != MBEDTLS_SSL_VERSION_TLS1_3)
        return true;
    const char *bound = saved->MBEDTLS_PRIVATE(hostname);
    if (bound == NULL || server_name == NULL)
        return bound == server_name;
    return strcmp(bound, server_name) == 0;
#else
    (void)saved;
    (void)server_name;
    return true;
#endif
}

/* What a TLS 1.3 client saves before a ticket arrives holds none: there is nothing to offer. */
static bool resumable(const mbedtls_ssl_session *saved)
{
    if (saved->MBEDTLS_PRIVATE(tls_version) != MBEDTLS_SSL_VERSION_TLS1_3)
        return true;
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    return saved->MBEDTLS_PRIVATE(ticket) != NULL && saved->MBEDTLS_PRIVATE(ticket_len) > 0;
#else
    return false;
#endif
}

int mst_session_resume(mst_session *session, const uint8_t *data, size_t len, const char *name)
{
    if (session->config->endpoint != MST_CLIENT || data == NULL || name == NULL ||
        session->ssl.MBEDTLS_PRIVATE(state) != MBEDTLS_SSL_HELLO_REQUEST || session->offered_session)
        return MST_ERR_BAD_ARGUMENT;
    const uint8_t *p = data, *end = data + len;
    size_t version, name_len, flags, state_len;
    if (len < 4 || memcmp(p, SAVED_MAGIC, 4) != 0)
        return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
    p += 4;
    if (!read_number(&p, end, 1, &version) || version != SAVED_VERSION ||
        !read_number(&p, end, 1, &name_len) || (size_t)(end - p) < name_len)
        return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
    if (strlen(name) != name_len || memcmp(p, name, name_len) != 0)
        return MST_ERR_SESSION_MISMATCH;
    p += name_len;
    if (!read_number(&p, end, 4, &flags))
        return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
    const uint8_t *chains = p;
    if (!read_chain(&p, end, false, NULL, RESTORED_SENT) ||
        !read_chain(&p, end, true, NULL, RESTORED_VERIFIED) ||
        !read_number(&p, end, 4, &state_len) || (size_t)(end - p) != state_len)
        return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;

    int ret;
    bool offers = false;
    mbedtls_ssl_session saved;
    mbedtls_ssl_session_init(&saved);
    WITH_SESSION_MEMORY(session, {
        ret = mbedtls_ssl_session_load(&saved, p, state_len);
        offers = ret == 0 && resumable(&saved);
        if (offers && !same_server_name(&saved, session->server_name))
            ret = MST_ERR_SESSION_MISMATCH;
        if (ret == 0 && offers)
            ret = mbedtls_ssl_set_session(&session->ssl, &saved);
        mbedtls_ssl_session_free(&saved);
    });
    if (ret != 0 || !offers)
        return ret; /* a TLS 1.3 session without a ticket: a full handshake */

    forget_restored_chain(session);
    p = chains;
    if (!read_chain(&p, end, false, session, RESTORED_SENT) ||
        !read_chain(&p, end, true, session, RESTORED_VERIFIED)) {
        forget_restored_chain(session);
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    }
    session->restored_flags = (uint32_t)flags;
    session->offered_session = true;
    return 0;
}
