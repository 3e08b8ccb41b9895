/*
 * threads_test.c: the engine on many threads at once (issue 13), as the addon runs it when
 * handshake steps go to libuv's thread pool: a session is used by one thread at a time, but
 * its consecutive calls may run on different threads, while other sessions made from the
 * same configs run on the others.
 *
 * Client/server connections in memory (the two sessions of each, with ciphertext moved
 * between them as engine_test.c does) run on T worker threads. Every connection is made from
 * the same configs, which all threads share: one server config (an ECDSA P-256 chain, the
 * session-ID cache and ticket key of one mst_resumption, PSKs asked of the embedder) and one
 * client config per kind of handshake below (versions, groups, a client certificate, a PSK
 * or a debug level are per config); clients and server verify with one shared trust store
 * (certs/ca.pem). A connection advances one step at a time (an engine call on one of its
 * sessions, or moving its ciphertext across), and after each step it is handed through a
 * queue to the next thread: no two consecutive steps of a session run on the same thread.
 * Connections start in waves of 4 per thread, all kinds mixed; the next wave starts when the
 * last connection of one is over.
 *
 * Checked: every handshake completes with what its kind expects (protocol, key exchange
 * group, resumed or not, verified certificates, debug lines), application data arrives
 * intact both ways, close_notify arrives, every step after a connection's first ran on
 * another thread than the step before, and once everything is freed the process's Mbed TLS
 * memory (mst_memory_totals) is back where it was before the first config was made.
 * scripts/tsan.sh builds this program with ThreadSanitizer and runs it.
 *
 *   threads_test [--threads T] [--connections N] CERTS [FILTER]
 * T (at least 2) defaults to 4, N to 16 connections of each kind; FILTER runs the kinds whose
 * names contain it, and the checks of the whole run with them (nothing when none does).
 * Prints one line per kind and per whole-run check, then "threads: N passed, N failed";
 * exits non-zero on failure.
 */
#define _POSIX_C_SOURCE 200809L /* pthread_barrier_t under -std=c11 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ssl.h>
#include <psa/crypto.h>

#include "engine.h"
#include "internal.h" /* the Mbed TLS settings of a client config: groups, no tickets */
#include "engine_helpers.h"

/* ---- What is run ---- */

enum client_config {
    CLIENT_DEFAULT,          /* TLS 1.2 to 1.3, Mbed TLS's groups (X25519 first) */
    CLIENT_P256,             /* offers secp256r1 only */
    CLIENT_TLS12,            /* TLS 1.2 only, with tickets */
    CLIENT_TLS12_P256,       /* TLS 1.2 only, secp256r1 only */
    CLIENT_TLS12_NO_TICKETS, /* TLS 1.2 only, takes no tickets: the server caches session IDs */
    CLIENT_MUTUAL,           /* with certs/client-chain.pem */
    CLIENT_TLS12_MUTUAL,     /* likewise, TLS 1.2 only */
    CLIENT_TLS13_PSK,        /* TLS 1.3 only, an external PSK */
    CLIENT_TLS12_PSK,        /* TLS 1.2 only, TLS_PSK_WITH_AES_128_GCM_SHA256 */
    CLIENT_DEBUG,            /* Mbed TLS's debug output at level 2 */
    CLIENT_CONFIGS
};

enum resumption { FULL, RESUME_TICKET, RESUME_SESSION_ID };

typedef struct kind {
    const char *name;
    enum client_config client;
    int version;        /* the protocol negotiated, MST_TLS1_2 or MST_TLS1_3 */
    uint16_t group;     /* the full handshake's key exchange group; 0: not checked */
    bool mutual;        /* the server requires the client's certificate */
    bool psk;           /* no certificate at all */
    bool debug;         /* the client records debug lines */
    enum resumption resumption; /* FULL, or a full handshake then a resumed one */
} kind;

#define X25519 MBEDTLS_SSL_IANA_TLS_GROUP_X25519
#define SECP256R1 MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1

static const kind kinds[] = {
    {"tls13_x25519", CLIENT_DEFAULT, MST_TLS1_3, .group = X25519},
    {"tls13_p256", CLIENT_P256, MST_TLS1_3, .group = SECP256R1},
    {"tls12_x25519", CLIENT_TLS12, MST_TLS1_2, .group = X25519},
    {"tls12_p256", CLIENT_TLS12_P256, MST_TLS1_2, .group = SECP256R1},
    {"tls12_ticket_resumption", CLIENT_TLS12, MST_TLS1_2, .group = X25519,
     .resumption = RESUME_TICKET},
    {"tls12_session_id_resumption", CLIENT_TLS12_NO_TICKETS, MST_TLS1_2, .group = X25519,
     .resumption = RESUME_SESSION_ID},
    {"tls13_ticket_resumption", CLIENT_DEFAULT, MST_TLS1_3, .group = X25519,
     .resumption = RESUME_TICKET},
    {"tls13_mutual", CLIENT_MUTUAL, MST_TLS1_3, .group = X25519, .mutual = true},
    {"tls12_mutual", CLIENT_TLS12_MUTUAL, MST_TLS1_2, .group = X25519, .mutual = true},
    {"tls13_psk", CLIENT_TLS13_PSK, MST_TLS1_3, .psk = true},
    {"tls12_psk", CLIENT_TLS12_PSK, MST_TLS1_2, .psk = true},
    {"tls13_debug", CLIENT_DEBUG, MST_TLS1_3, .group = X25519, .debug = true},
};
#define KINDS (sizeof(kinds) / sizeof(kinds[0]))

#define SERVER_NAME "localhost"
static const uint8_t psk_key[16] = {0x74, 0x68, 0x72, 0x65, 0x61, 0x64, 0x73, 0x2d,
                                    0x74, 0x65, 0x73, 0x74, 0x2d, 0x70, 0x73, 0x6b};
#define PSK_IDENTITY "threads-test"

/* Application data: per connection, DATA_ROUNDS writes each way, of these lengths in turn
 * (one short record; more than one full record). */
#define DATA_ROUNDS 2
static const size_t data_lengths[DATA_ROUNDS] = {1000, 20000};

/* Connections of a wave, per thread. */
#define IN_FLIGHT_PER_THREAD 4

/* ---- Shared state ---- */

static mst_config *server_config;
static mst_config *client_configs[CLIENT_CONFIGS];

typedef struct connection connection;

/* The queues: one per thread, each under its own lock, which is what hands a connection
 * (and what its last step did) to the next thread. Nothing else of the harness orders the
 * threads: the counters are relaxed atomics, which ThreadSanitizer does not take for
 * synchronization, so that it hides as few races as it can between steps that run at the
 * same time. */
static int thread_count = 4;
static struct queue {
    pthread_mutex_t lock;
    pthread_cond_t ready;
    connection *head, *tail;
    bool closed; /* every connection is over */
} *queues;
static size_t connections;       /* in all */
static const kind **schedule;    /* the kind of each connection, by index */
static size_t wave_size;         /* connections started together */
static atomic_size_t started;    /* connections started: the index of the next one */
static atomic_size_t finished;   /* connections over */
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER; /* failures' lines */

/* Results. */
static atomic_size_t kind_passed[KINDS], kind_failed[KINDS];
static atomic_ulong total_steps, steps_on_same_thread;

/* ---- A connection ---- */

enum stage { OPEN, HANDSHAKE, DATA_WRITE, DATA_DELIVER, CLOSE };

struct connection {
    connection *next; /* in a queue */
    size_t index;
    const kind *kind;
    int phase; /* 0: the first handshake; 1: resuming it */
    enum stage stage;
    mst_session *client, *server;
    uint8_t *saved; /* the client's saved session, between the phases */
    size_t saved_len;
    int direction; /* the next handshake transfer: 0 client to server, 1 server to client */
    int quiet;     /* handshake transfers in a row that moved nothing */
    int round;     /* DATA_WRITE/DATA_DELIVER: rounds done; even: the client writes */
    size_t sent[2], received[2]; /* application data, [0] client to server, [1] back */
    size_t debug_bytes; /* the client's debug lines */
    int last_thread;
    unsigned long steps, same_thread;
    bool failed;
};

static void fail(connection *c, const char *format, ...)
{
    if (c->failed)
        return;
    c->failed = true;
    char text[256];
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof(text), format, args);
    va_end(args);
    const mst_error *client_error = c->client ? mst_session_error(c->client) : NULL;
    const mst_error *server_error = c->server ? mst_session_error(c->server) : NULL;
    pthread_mutex_lock(&print_lock);
    printf("    %s #%zu (phase %d): %s; client error -0x%04X %s, server error -0x%04X %s\n",
           c->kind->name, c->index, c->phase, text,
           client_error ? (unsigned)-client_error->code : 0u,
           client_error ? client_error->text : "",
           server_error ? (unsigned)-server_error->code : 0u,
           server_error ? server_error->text : "");
    pthread_mutex_unlock(&print_lock);
}

/* Byte `offset` of the data sent one way on a connection. */
static uint8_t pattern(const connection *c, int way, size_t offset)
{
    return (uint8_t)((offset * 131u + c->index * 7u + (size_t)way * 61u) ^ (offset >> 9));
}

/* Reads what `way`'s receiver has decrypted and checks it against what was sent. */
static void read_and_check(connection *c, int way)
{
    mst_session *to = way == 0 ? c->server : c->client;
    uint8_t got[4096];
    size_t n;
    while ((n = mst_session_read_plaintext(to, got, sizeof(got))) > 0) {
        for (size_t i = 0; i < n; i++) {
            if (got[i] != pattern(c, way, c->received[way] + i)) {
                fail(c, "byte %zu of the data %s differs", c->received[way] + i,
                     way == 0 ? "to the server" : "to the client");
                return;
            }
        }
        c->received[way] += n;
        if (c->received[way] > c->sent[way]) {
            fail(c, "more data arrived than was sent");
            return;
        }
    }
}

/* The server's questions: a held ClientHello (each server session holds it, as node's
 * SNICallback does) and the key of a PSK identity. Returns whether it had any. */
static bool answer_server(connection *c)
{
    unsigned events = mst_session_take_events(c->server);
    bool answered = false;
    if (events & MST_EVENT_PSK_IDENTITY) {
        size_t len;
        const uint8_t *identity = mst_session_psk_identity(c->server, &len);
        bool known = identity != NULL && len == strlen(PSK_IDENTITY) &&
                     memcmp(identity, PSK_IDENTITY, len) == 0;
        if (!known)
            fail(c, "the server was asked for an unknown PSK identity");
        mst_session_set_psk(c->server, known ? psk_key : NULL, known ? sizeof(psk_key) : 0);
        answered = true;
    }
    if (events & MST_EVENT_CLIENT_HELLO) {
        if (mst_session_continue_hello(c->server, NULL) != 0)
            fail(c, "continue_hello failed");
        answered = true;
    }
    if (answered)
        mst_session_process(c->server);
    return answered;
}

/* A client's TLS 1.3 tickets, each reported in turn, and its debug lines, taken, as the
 * addon does. */
static void take_client_events(connection *c)
{
    unsigned events = mst_session_take_events(c->client);
    if (events & MST_EVENT_NEW_SESSION_TICKET) {
        while (mst_session_next_ticket(c->client) == 1) {
        }
    }
    if (events & MST_EVENT_DEBUG) {
        size_t len;
        if (mst_session_peek_debug(c->client, &len) != NULL) {
            c->debug_bytes += len;
            mst_session_consume_debug(c->client, len);
        }
    }
}

static void open_sessions(connection *c)
{
    mst_error err;
    c->client = mst_session_new(client_configs[c->kind->client], &err);
    c->server = mst_session_new(server_config, &err);
    if (c->client == NULL || c->server == NULL) {
        fail(c, "session_new: %s", err.text);
        return;
    }
    mst_session_set_server_name(c->client, SERVER_NAME);
    if (c->phase == 1) {
        int ret = mst_session_resume(c->client, c->saved, c->saved_len, SERVER_NAME);
        if (ret != 0) {
            fail(c, "mst_session_resume: -0x%04X", (unsigned)-ret);
            return;
        }
    }
    if (c->kind->mutual)
        mst_session_set_verify(c->server, MST_VERIFY_REQUIRED);
    mst_session_hold_client_hello(c->server);
    mst_session_process(c->client);
    c->direction = 0;
    c->quiet = 0;
}

static void check_handshake(connection *c)
{
    const kind *k = c->kind;
    const unsigned busy = MST_STATE_HANDSHAKING | MST_STATE_FAILED;
    if ((mst_session_state(c->client) & busy) || (mst_session_state(c->server) & busy)) {
        fail(c, "the handshake did not complete");
        return;
    }
    const char *protocol = k->version == MST_TLS1_3 ? "TLSv1.3" : "TLSv1.2";
    if (strcmp(mst_session_protocol(c->client), protocol) != 0 ||
        strcmp(mst_session_protocol(c->server), protocol) != 0) {
        fail(c, "protocol %s / %s, expected %s", mst_session_protocol(c->client),
             mst_session_protocol(c->server), protocol);
        return;
    }
    /* A TLS 1.3 handshake on an external PSK counts as reused on both sides, as node's. */
    int reused = c->phase == 1 || (k->psk && k->version == MST_TLS1_3);
    if (mst_session_reused(c->client) != reused || mst_session_reused(c->server) != reused) {
        fail(c, "reused: client %d, server %d, expected %d", mst_session_reused(c->client),
             mst_session_reused(c->server), reused);
        return;
    }
    if (c->phase == 0 && k->group != 0 && mst_session_key_exchange_group(c->client) != k->group) {
        fail(c, "key exchange group 0x%04X, expected 0x%04X",
             mst_session_key_exchange_group(c->client), k->group);
        return;
    }
    if (k->debug != (c->debug_bytes > 0)) {
        fail(c, "%zu bytes of debug lines", c->debug_bytes);
        return;
    }
    size_t len;
    if (k->psk) {
        if (mst_session_peer_certificate(c->client, 0, &len) != NULL)
            fail(c, "a PSK handshake sent a certificate");
        return;
    }
    /* The server's chain verified up to certs/ca.pem (a resumed session reports the
     * first connection's verification). */
    if (mst_session_verify_flags(c->client) != 0 ||
        mst_session_peer_certificate(c->client, 1, &len) == NULL) {
        fail(c, "the client did not verify the server's chain (flags 0x%X)",
             (unsigned)mst_session_verify_flags(c->client));
        return;
    }
    if (k->mutual && c->phase == 0 &&
        (mst_session_verify_flags(c->server) != 0 ||
         mst_session_peer_certificate(c->server, 0, &len) == NULL)) {
        fail(c, "the server did not verify the client's certificate (flags 0x%X)",
             (unsigned)mst_session_verify_flags(c->server));
    }
}

/* Keeps the client's session for the second phase, once its data has flowed (TLS 1.3
 * tickets have arrived by then). */
static void save_session(connection *c)
{
    size_t len;
    const bool has_ticket = mst_session_ticket(c->client, &len) != NULL;
    if (has_ticket != (c->kind->resumption == RESUME_TICKET)) {
        fail(c, has_ticket ? "the client got a ticket it does not take"
                           : "the client got no ticket");
        return;
    }
    if (mst_session_save(c->client, SERVER_NAME, NULL, 0, &c->saved_len) != 0 ||
        (c->saved = malloc(c->saved_len)) == NULL ||
        mst_session_save(c->client, SERVER_NAME, c->saved, c->saved_len, &c->saved_len) != 0)
        fail(c, "mst_session_save failed");
}

static void close_sessions(connection *c)
{
    mst_session_free(c->client);
    mst_session_free(c->server);
    c->client = c->server = NULL;
}

/* Runs one step of the connection. Returns true when it is over (passed or failed). */
static bool step(connection *c)
{
    switch (c->stage) {
    case OPEN:
        open_sessions(c);
        c->stage = HANDSHAKE;
        break;

    case HANDSHAKE: {
        /* One flight one way; two empty ones in a row: nothing more is coming. */
        size_t moved = c->direction == 0 ? transfer(c->client, c->server, 0, false)
                                         : transfer(c->server, c->client, 0, false);
        c->direction ^= 1;
        bool answered = answer_server(c);
        take_client_events(c);
        c->quiet = moved > 0 || answered ? 0 : c->quiet + 1;
        if (c->quiet < 2)
            break;
        check_handshake(c);
        c->stage = DATA_WRITE;
        c->round = 0;
        memset(c->sent, 0, sizeof(c->sent));
        memset(c->received, 0, sizeof(c->received));
        break;
    }

    case DATA_WRITE: {
        int way = c->round % 2;
        size_t len = data_lengths[(c->round / 2) % DATA_ROUNDS];
        uint8_t *data = malloc(len);
        for (size_t i = 0; i < len; i++)
            data[i] = pattern(c, way, c->sent[way] + i);
        int ret = mst_session_write_plaintext(way == 0 ? c->client : c->server, data, len);
        free(data);
        if (ret != 0)
            fail(c, "write_plaintext: -0x%04X", (unsigned)-ret);
        c->sent[way] += len;
        c->stage = DATA_DELIVER;
        break;
    }

    case DATA_DELIVER: {
        int way = c->round % 2;
        mst_session *from = way == 0 ? c->client : c->server;
        mst_session *to = way == 0 ? c->server : c->client;
        transfer(from, to, 0, false);
        read_and_check(c, way);
        take_client_events(c);
        if (c->received[way] != c->sent[way])
            fail(c, "%zu of %zu bytes arrived", c->received[way], c->sent[way]);
        c->round++;
        c->stage = c->round < 2 * DATA_ROUNDS ? DATA_WRITE : CLOSE;
        break;
    }

    case CLOSE:
        if (c->phase == 0 && c->kind->resumption != FULL)
            save_session(c);
        mst_session_close(c->client);
        transfer(c->client, c->server, 0, false);
        if (!(mst_session_state(c->server) & MST_STATE_PEER_CLOSE_NOTIFY) ||
            (mst_session_state(c->server) & MST_STATE_FAILED))
            fail(c, "close_notify did not arrive");
        close_sessions(c);
        if (c->failed || c->phase == 1 || c->kind->resumption == FULL)
            return true;
        c->phase = 1;
        c->stage = OPEN;
        return false;
    }
    return c->failed;
}

/* ---- Threads ---- */

static void push(int thread, connection *c);

/* Starts the next wave: up to wave_size connections, one queue after the other. */
static void start_wave(void)
{
    for (size_t n = 0; n < wave_size; n++) {
        size_t index = atomic_fetch_add_explicit(&started, 1, memory_order_relaxed);
        if (index >= connections)
            return;
        connection *c = calloc(1, sizeof(*c));
        c->index = index;
        c->kind = schedule[index];
        c->last_thread = -1;
        push((int)(n % (size_t)thread_count), c);
    }
}

static void push(int thread, connection *c)
{
    struct queue *q = &queues[thread];
    pthread_mutex_lock(&q->lock);
    c->next = NULL;
    if (q->tail != NULL)
        q->tail->next = c;
    else
        q->head = c;
    q->tail = c;
    pthread_cond_signal(&q->ready);
    pthread_mutex_unlock(&q->lock);
}

/* The next connection of a thread's queue; NULL once every connection is over. */
static connection *pop(int thread)
{
    struct queue *q = &queues[thread];
    pthread_mutex_lock(&q->lock);
    while (q->head == NULL && !q->closed)
        pthread_cond_wait(&q->ready, &q->lock);
    connection *c = q->head;
    if (c != NULL) {
        q->head = c->next;
        if (q->head == NULL)
            q->tail = NULL;
    }
    pthread_mutex_unlock(&q->lock);
    return c;
}

static void finish(connection *c)
{
    size_t k = (size_t)(c->kind - kinds);
    atomic_fetch_add_explicit(c->failed ? &kind_failed[k] : &kind_passed[k], 1,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&total_steps, c->steps, memory_order_relaxed);
    atomic_fetch_add_explicit(&steps_on_same_thread, c->same_thread, memory_order_relaxed);
    close_sessions(c);
    free(c->saved);
    free(c);
    size_t done = atomic_fetch_add_explicit(&finished, 1, memory_order_relaxed) + 1;
    if (done < connections) {
        if (done % wave_size == 0)
            start_wave(); /* this one was the last of its wave */
        return;
    }
    for (int t = 0; t < thread_count; t++) {
        pthread_mutex_lock(&queues[t].lock);
        queues[t].closed = true;
        pthread_cond_signal(&queues[t].ready);
        pthread_mutex_unlock(&queues[t].lock);
    }
}

/* All threads begin at once: the first steps of the first connections (and with them the
 * first uses of what is set up lazily, like the P-256 tables) overlap as much as they can. */
static pthread_barrier_t start_line;

static void *worker(void *argument)
{
    int self = (int)(intptr_t)argument;
    connection *c;
    pthread_barrier_wait(&start_line);
    while ((c = pop(self)) != NULL) {
        if (c->last_thread == self)
            c->same_thread++;
        c->last_thread = self;
        c->steps++;
        if (step(c))
            finish(c);
        else
            push((self + 1) % thread_count, c);
    }
    return NULL;
}

/* ---- Set-up ---- */

static mst_config *new_config(enum mst_endpoint endpoint, int min, int max, mst_trust *trust)
{
    mst_error err;
    mst_config *config = mst_config_new(endpoint, MST_STREAM, &err);
    if (config == NULL || mst_config_set_versions(config, min, max, &err) != 0 ||
        mst_config_set_trust(config, trust, &err) != 0) {
        fprintf(stderr, "config: %s\n", err.text);
        exit(2);
    }
    return config;
}

static void make_configs(mst_resumption *resumption)
{
    static const uint16_t p256_only[] = {SECP256R1, 0};
    static const int tls12_psk[] = {0x00A8 /* TLS_PSK_WITH_AES_128_GCM_SHA256 */};
    mst_error err;
    mst_trust *ca = mst_trust_new(&err);
    file pem = load("ca.pem");
    if (ca == NULL || mst_trust_add_ca(ca, pem.data, pem.len, 1, NULL, &err) != 0) {
        fprintf(stderr, "trust: %s\n", err.text);
        exit(2);
    }
    free(pem.data);

    server_config = new_config(MST_SERVER, MST_TLS1_2, MST_TLS1_3, ca);
    add_file(server_config, "server-ecdsa-chain.pem", "server-ecdsa.key");
    if (mst_config_set_resumption(server_config, resumption, &err) != 0 ||
        mst_config_ask_psk(server_config, &err) != 0) {
        fprintf(stderr, "server config: %s\n", err.text);
        exit(2);
    }

    for (int i = 0; i < CLIENT_CONFIGS; i++) {
        bool tls12 = i == CLIENT_TLS12 || i == CLIENT_TLS12_P256 || i == CLIENT_TLS12_NO_TICKETS ||
                     i == CLIENT_TLS12_MUTUAL || i == CLIENT_TLS12_PSK;
        client_configs[i] = new_config(MST_CLIENT, i == CLIENT_TLS13_PSK ? MST_TLS1_3 : MST_TLS1_2,
                                       tls12 ? MST_TLS1_2 : MST_TLS1_3, ca);
    }
    mbedtls_ssl_conf_groups(&client_configs[CLIENT_P256]->ssl, p256_only);
    mbedtls_ssl_conf_groups(&client_configs[CLIENT_TLS12_P256]->ssl, p256_only);
    mbedtls_ssl_conf_session_tickets(&client_configs[CLIENT_TLS12_NO_TICKETS]->ssl,
                                     MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
    add_file(client_configs[CLIENT_MUTUAL], "client-chain.pem", "client.key");
    add_file(client_configs[CLIENT_TLS12_MUTUAL], "client-chain.pem", "client.key");
    for (int i = CLIENT_TLS13_PSK; i <= CLIENT_TLS12_PSK; i++) {
        if (mst_config_set_psk(client_configs[i], psk_key, sizeof(psk_key),
                               (const uint8_t *)PSK_IDENTITY, strlen(PSK_IDENTITY), &err) != 0) {
            fprintf(stderr, "psk: %s\n", err.text);
            exit(2);
        }
    }
    mst_config_set_ciphersuites(client_configs[CLIENT_TLS12_PSK], tls12_psk, 1, NULL);
    if (mst_config_set_debug(client_configs[CLIENT_DEBUG], 2, &err) != 0) {
        fprintf(stderr, "debug: %s\n", err.text);
        exit(2);
    }
    mst_trust_unref(ca); /* the configs hold it */

    /* engine.h: configs may be shared across threads once frozen, and the first session
     * made from one freezes it. */
    mst_session_free(mst_session_new(server_config, NULL));
    for (int i = 0; i < CLIENT_CONFIGS; i++)
        mst_session_free(mst_session_new(client_configs[i], NULL));
}

/* PSA keeps the slices of its key store once allocated (MBEDTLS_PSA_KEY_STORE_DYNAMIC), and
 * how many the run makes depends on how its handshakes overlap. Allocating more slots than
 * the run can ever hold at once, before the baseline is read, keeps the comparison of the
 * totals exact: 64 keys per connection in progress, far above a handshake's few. */
static void grow_psa_key_store(size_t slots)
{
    psa_key_id_t *ids = calloc(slots, sizeof(*ids));
    static const uint8_t key[16] = {0};
    psa_key_attributes_t attributes = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_usage_flags(&attributes, PSA_KEY_USAGE_ENCRYPT);
    psa_set_key_algorithm(&attributes, PSA_ALG_GCM);
    psa_set_key_type(&attributes, PSA_KEY_TYPE_AES);
    for (size_t i = 0; i < slots; i++) {
        if (psa_import_key(&attributes, key, sizeof(key), &ids[i]) != PSA_SUCCESS) {
            fprintf(stderr, "psa_import_key failed\n");
            exit(2);
        }
    }
    for (size_t i = 0; i < slots; i++)
        psa_destroy_key(ids[i]);
    free(ids);
}

int main(int argc, char **argv)
{
    size_t per_kind = 16;
    int arg = 1;
    for (; arg + 1 < argc && strncmp(argv[arg], "--", 2) == 0; arg += 2) {
        if (strcmp(argv[arg], "--threads") == 0)
            thread_count = atoi(argv[arg + 1]);
        else if (strcmp(argv[arg], "--connections") == 0)
            per_kind = (size_t)atoi(argv[arg + 1]);
        else
            break;
    }
    if (thread_count < 2 || per_kind < 1 || arg >= argc) {
        fprintf(stderr,
                "usage: threads_test [--threads T>=2] [--connections N>=1] CERTS [FILTER]\n");
        return 2;
    }
    certs_dir = argv[arg];
    const char *only = arg + 1 < argc ? argv[arg + 1] : NULL;

    bool run[KINDS];
    size_t kinds_run = 0;
    for (size_t k = 0; k < KINDS; k++) {
        run[k] = only == NULL || strstr(kinds[k].name, only) != NULL;
        kinds_run += run[k];
    }
    if (kinds_run == 0) {
        printf("threads: 0 passed, 0 failed\n");
        return 0;
    }

    mst_error err;
    if (mst_global_init(&err) != 0) {
        fprintf(stderr, "global init: %s\n", err.text);
        return 2;
    }
    grow_psa_key_store((size_t)64 * IN_FLIGHT_PER_THREAD * (size_t)thread_count);
    size_t baseline, peak;
    mst_memory_totals(&baseline, &peak);

    mst_resumption *resumption = mst_resumption_new(300, NULL, 0, &err);
    if (resumption == NULL) {
        fprintf(stderr, "resumption: %s\n", err.text);
        return 2;
    }
    make_configs(resumption);

    /* The kinds interleaved: connection i is of the (i mod kinds)th kind run. */
    connections = per_kind * kinds_run;
    schedule = calloc(connections + 1, sizeof(*schedule));
    for (size_t i = 0, k = 0; i < connections; k = (k + 1) % KINDS) {
        if (run[k])
            schedule[i++] = &kinds[k];
    }

    queues = calloc((size_t)thread_count, sizeof(*queues));
    pthread_t *threads = calloc((size_t)thread_count, sizeof(*threads));
    for (int t = 0; t < thread_count; t++) {
        pthread_mutex_init(&queues[t].lock, NULL);
        pthread_cond_init(&queues[t].ready, NULL);
    }
    wave_size = (size_t)IN_FLIGHT_PER_THREAD * (size_t)thread_count;
    start_wave();
    pthread_barrier_init(&start_line, NULL, (unsigned)thread_count);
    for (int t = 0; t < thread_count; t++)
        pthread_create(&threads[t], NULL, worker, (void *)(intptr_t)t);
    for (int t = 0; t < thread_count; t++)
        pthread_join(threads[t], NULL);
    pthread_barrier_destroy(&start_line);

    int passed = 0, failed = 0;
    for (size_t k = 0; k < KINDS; k++) {
        if (!run[k])
            continue;
        size_t kind_ok = atomic_load(&kind_passed[k]), kind_not = atomic_load(&kind_failed[k]);
        bool ok = kind_not == 0 && kind_ok == per_kind;
        printf("%s %s (%zu connections, %zu failed)\n", ok ? "ok" : "not ok", kinds[k].name,
               kind_ok + kind_not, kind_not);
        ok ? passed++ : failed++;
    }
    /* Each connection's first step is its own; every other one followed a hand-over. */
    unsigned long steps = atomic_load(&total_steps), same = atomic_load(&steps_on_same_thread);
    bool moved = same == 0 && steps > connections;
    printf("%s steps_move_between_threads (%lu steps on %d threads, %lu on the thread of the "
           "step before)\n", moved ? "ok" : "not ok", steps, thread_count, same);
    moved ? passed++ : failed++;

    for (int i = 0; i < CLIENT_CONFIGS; i++)
        mst_config_unref(client_configs[i]);
    mst_config_unref(server_config);
    mst_resumption_unref(resumption);
    size_t after;
    mst_memory_totals(&after, &peak);
    bool back = after == baseline;
    printf("%s memory_back_to_baseline (%zu bytes before, %zu after, peak %zu)\n",
           back ? "ok" : "not ok", baseline, after, peak);
    back ? passed++ : failed++;

    for (int t = 0; t < thread_count; t++) {
        pthread_mutex_destroy(&queues[t].lock);
        pthread_cond_destroy(&queues[t].ready);
    }
    free(queues);
    free(threads);
    free(schedule);
    printf("threads: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
