/*
 * fuzz_common.c: deterministic RNG and clock, certificates, configurations and the
 * embedder's driver shared by the fuzz targets and the seed recorder (see fuzz_common.h).
 */
#define _GNU_SOURCE /* timegm */
#include "fuzz_common.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/platform_time.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

/* ---- Sanitizer defaults: every UB report is fatal, except the known ones ---- */

const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
#ifdef MST_FUZZ_UBSAN_SUPPRESSIONS
    return "halt_on_error=1:print_stacktrace=1:suppressions=" MST_FUZZ_UBSAN_SUPPRESSIONS;
#else
    return "halt_on_error=1:print_stacktrace=1";
#endif
}

/* ---- Deterministic randomness: splitmix64 streams ---- */

static uint64_t streams[FUZZ_STREAMS];
static enum fuzz_stream current_stream = FUZZ_STREAM_CONFIG;

void fuzz_rng_reset(enum fuzz_stream stream)
{
    streams[stream] = 0x6d626564746c7300ull + (uint64_t)stream * 0x9e3779b97f4a7c15ull;
}

void fuzz_rng_select(enum fuzz_stream stream) { current_stream = stream; }

static void fill(unsigned char *output, size_t len)
{
    uint64_t *s = &streams[current_stream];
    while (len > 0) {
        uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        size_t n = len < 8 ? len : 8;
        memcpy(output, &z, n);
        output += n;
        len -= n;
    }
}

int fuzz_rng_random(void *unused, unsigned char *output, size_t len)
{
    (void)unused;
    fill(output, len);
    return 0;
}

/* MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG (fuzz_config.h) */
psa_status_t mbedtls_psa_external_get_random(mbedtls_psa_external_random_context_t *context,
                                             uint8_t *output, size_t output_size,
                                             size_t *output_length)
{
    (void)context;
    fill(output, output_size);
    *output_length = output_size;
    return PSA_SUCCESS;
}

/* ---- A fixed clock (MBEDTLS_PLATFORM_TIME_ALT, MBEDTLS_PLATFORM_MS_TIME_ALT) ---- */

static mbedtls_time_t fixed_time = 1800000000; /* replaced in fuzz_init from certs/ */

static mbedtls_time_t fixed_clock(mbedtls_time_t *out)
{
    if (out != NULL)
        *out = fixed_time;
    return fixed_time;
}

mbedtls_ms_time_t mbedtls_ms_time(void) { return (mbedtls_ms_time_t)fixed_time * 1000; }

/* ---- Certificates ---- */

#define MAX_FILES 32
static struct {
    char name[64];
    fuzz_file file;
} files[MAX_FILES];
static size_t file_count;
static char certs_dir[PATH_MAX];

const char *fuzz_certs_dir(void) { return certs_dir; }

static bool is_dir_with_ca(const char *dir)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/ca.pem", dir);
    return access(path, R_OK) == 0;
}

static void find_certs_dir(void)
{
    const char *env = getenv("MST_FUZZ_CERTS");
    if (env != NULL && *env != '\0') {
        snprintf(certs_dir, sizeof(certs_dir), "%s", env);
        return;
    }
#ifdef MST_FUZZ_CERTS_DIR
    if (is_dir_with_ca(MST_FUZZ_CERTS_DIR)) {
        snprintf(certs_dir, sizeof(certs_dir), "%s", MST_FUZZ_CERTS_DIR);
        return;
    }
#endif
    /* The binaries live in build-fuzz/, beside certs/. */
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0';
            snprintf(certs_dir, sizeof(certs_dir), "%s/../certs", exe);
            if (is_dir_with_ca(certs_dir))
                return;
        }
    }
    snprintf(certs_dir, sizeof(certs_dir), "certs");
}

const fuzz_file *fuzz_cert_file(const char *name)
{
    for (size_t i = 0; i < file_count; i++)
        if (strcmp(files[i].name, name) == 0)
            return &files[i].file;
    if (file_count == MAX_FILES) {
        fprintf(stderr, "fuzz: too many certificate files\n");
        exit(2);
    }
    char path[PATH_MAX + 80];
    snprintf(path, sizeof(path), "%s/%s", certs_dir, name);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        fprintf(stderr, "fuzz: cannot open %s (set MST_FUZZ_CERTS to the certs/ folder)\n", path);
        exit(2);
    }
    fuzz_file f = {0};
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f.len = size > 0 ? (size_t)size : 0;
    f.data = malloc(f.len + 1);
    if (f.data == NULL || fread(f.data, 1, f.len, fp) != f.len) {
        fprintf(stderr, "fuzz: cannot read %s\n", path);
        exit(2);
    }
    f.data[f.len] = 0;
    fclose(fp);
    snprintf(files[file_count].name, sizeof(files[file_count].name), "%s", name);
    files[file_count].file = f;
    return &files[file_count++].file;
}

/* The clock stands one day after the newest notBefore of the certificates the configs use,
 * so every chain verifies, and the recorder and the targets agree on it. */
static void fix_clock(void)
{
    static const char *const names[] = {"ca.pem", "intermediate.pem", "server-ecdsa.pem",
                                        "server-rsa.pem", "client.pem"};
    time_t newest = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const fuzz_file *f = fuzz_cert_file(names[i]);
        mbedtls_x509_crt crt;
        mbedtls_x509_crt_init(&crt);
        if (mbedtls_x509_crt_parse(&crt, f->data, f->len + 1) != 0) {
            fprintf(stderr, "fuzz: cannot parse %s\n", names[i]);
            exit(2);
        }
        struct tm tm = {.tm_year = crt.valid_from.year - 1900, .tm_mon = crt.valid_from.mon - 1,
                        .tm_mday = crt.valid_from.day, .tm_hour = crt.valid_from.hour,
                        .tm_min = crt.valid_from.min, .tm_sec = crt.valid_from.sec};
        time_t t = timegm(&tm);
        if (t > newest)
            newest = t;
        mbedtls_x509_crt_free(&crt);
    }
    fixed_time = (mbedtls_time_t)newest + 86400;
    mbedtls_platform_set_time(fixed_clock);
}

void fuzz_init(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    mst_error err;
    /* First: it installs the allocator every Mbed TLS block must come from. */
    if (mst_global_init(&err) != 0) {
        fprintf(stderr, "fuzz: mst_global_init: %s\n", err.text);
        exit(2);
    }
    for (int s = 0; s < FUZZ_STREAMS; s++)
        fuzz_rng_reset((enum fuzz_stream)s);
    find_certs_dir();
    fix_clock();
}

/* ---- Configurations ---- */

static void must(int ret, const char *what, const mst_error *err)
{
    if (ret != 0) {
        fprintf(stderr, "fuzz: %s: %s\n", what, err->text);
        exit(2);
    }
}

static void add_pair(mst_config *config, const char *chain, const char *key)
{
    const fuzz_file *c = fuzz_cert_file(chain), *k = fuzz_cert_file(key);
    mst_error err;
    must(mst_config_add_certificate(config, c->data, c->len, k->data, k->len, NULL, 0, &err),
         chain, &err);
}

static void add_trust(mst_config *config)
{
    const fuzz_file *ca = fuzz_cert_file("ca.pem");
    mst_error err;
    must(mst_config_add_ca(config, ca->data, ca->len, 1, NULL, &err), "ca.pem", &err);
}

static mst_config *new_config(enum mst_endpoint endpoint, enum mst_transport transport)
{
    fuzz_init();
    /* Config creation draws (the DTLS cookie key) from a stream reset each time, so every
     * process builds the same keys. */
    fuzz_rng_reset(FUZZ_STREAM_CONFIG);
    fuzz_rng_select(FUZZ_STREAM_CONFIG);
    mst_error err;
    mst_config *config = mst_config_new(endpoint, transport, &err);
    if (config == NULL) {
        fprintf(stderr, "fuzz: mst_config_new: %s\n", err.text);
        exit(2);
    }
    return config;
}

mst_config *fuzz_client_config(enum mst_transport transport, unsigned variant)
{
    static mst_config *configs[2][FUZZ_CLIENT_VARIANTS];
    variant %= FUZZ_CLIENT_VARIANTS;
    if (transport == MST_DATAGRAM)
        variant &= 4;
    if (configs[transport][variant] != NULL)
        return configs[transport][variant];
    mst_config *config = new_config(MST_CLIENT, transport);
    mst_error err;
    if (transport == MST_STREAM) {
        static const int versions[4][2] = {{MST_TLS1_2, MST_TLS1_3}, {MST_TLS1_2, MST_TLS1_2},
                                           {MST_TLS1_3, MST_TLS1_3}, {MST_TLS1_2, MST_TLS1_3}};
        must(mst_config_set_versions(config, versions[variant & 3][0], versions[variant & 3][1],
                                     &err), "versions", &err);
    }
    add_trust(config);
    if (variant & 4)
        add_pair(config, "client-chain.pem", "client.key");
    static const char *const alpn[] = {"h2", "http/1.1"};
    must(mst_config_set_alpn(config, alpn, 2, &err), "alpn", &err);
    fuzz_rng_select(FUZZ_STREAM_CLIENT);
    return configs[transport][variant] = config;
}

/* A server config with the certificate of the variant (bit 0: RSA, else ECDSA) and trust. */
static mst_config *new_server_config(enum mst_transport transport, unsigned variant)
{
    mst_config *config = new_config(MST_SERVER, transport);
    if (variant & 1)
        add_pair(config, "server-rsa-chain.pem", "server-rsa.key");
    else
        add_pair(config, "server-ecdsa-chain.pem", "server-ecdsa.key");
    add_trust(config);
    return config;
}

mst_config *fuzz_server_config(enum mst_transport transport, unsigned variant)
{
    static mst_config *configs[2][FUZZ_SERVER_VARIANTS];
    variant %= FUZZ_SERVER_VARIANTS;
    if (configs[transport][variant] != NULL)
        return configs[transport][variant];
    mst_config *config = new_server_config(transport, variant);
    mst_error err;
    static const char *const alpn[] = {"http/1.1"};
    must(mst_config_set_alpn(config, alpn, 1, &err), "alpn", &err);
    fuzz_rng_select(FUZZ_STREAM_SERVER);
    return configs[transport][variant] = config;
}

mst_config *fuzz_cid_server_config(unsigned variant)
{
    static mst_config *configs[FUZZ_SERVER_VARIANTS];
    variant %= FUZZ_SERVER_VARIANTS;
    if (configs[variant] != NULL)
        return configs[variant];
    mst_config *config = new_server_config(MST_DATAGRAM, variant);
    mst_error err;
    static const char *const alpn[] = {"http/1.1"};
    must(mst_config_set_alpn(config, alpn, 1, &err), "alpn", &err);
    must(mst_config_set_dtls_cid(config, FUZZ_CID_LENGTH, &err), "dtls_cid", &err);
    fuzz_rng_select(FUZZ_STREAM_SERVER);
    return configs[variant] = config;
}

mst_config *fuzz_cid_client_config(void)
{
    static mst_config *config;
    if (config != NULL)
        return config;
    config = new_config(MST_CLIENT, MST_DATAGRAM);
    add_trust(config);
    mst_error err;
    static const char *const alpn[] = {"h2", "http/1.1"};
    must(mst_config_set_alpn(config, alpn, 2, &err), "alpn", &err);
    must(mst_config_set_dtls_cid(config, 0, &err), "dtls_cid", &err);
    fuzz_rng_select(FUZZ_STREAM_CLIENT);
    return config;
}

mst_config *fuzz_dtls_chosen_config(unsigned variant, bool cids)
{
    static mst_config *configs[2][FUZZ_SERVER_VARIANTS];
    variant %= FUZZ_SERVER_VARIANTS;
    if (configs[cids][variant] != NULL)
        return configs[cids][variant];
    mst_config *base = cids ? fuzz_cid_server_config(variant) : fuzz_server_config(MST_DATAGRAM, variant);
    mst_config *config = new_server_config(MST_DATAGRAM, variant ^ 1);
    mst_error err;
    static const char *const alpn[] = {"http/1.1"};
    must(mst_config_set_alpn(config, alpn, 1, &err), "alpn", &err);
    if (cids)
        must(mst_config_set_dtls_cid(config, FUZZ_CID_LENGTH, &err), "dtls_cid", &err);
    must(mst_config_share_dtls_cookies(config, base, &err), "share_dtls_cookies", &err);
    fuzz_rng_select(FUZZ_STREAM_SERVER);
    return configs[cids][variant] = config;
}

mst_config *fuzz_choosing_server_config(unsigned variant)
{
    static mst_config *configs[FUZZ_SERVER_VARIANTS];
    static mst_resumption *store;
    variant %= FUZZ_SERVER_VARIANTS;
    if (configs[variant] != NULL)
        return configs[variant];
    mst_config *config = new_server_config(MST_STREAM, variant);
    mst_error err;
    if (store == NULL) {
        uint8_t keys[MST_TICKET_KEYS_LEN];
        memset(keys, 0x42, sizeof(keys));
        store = mst_resumption_new(300, keys, sizeof(keys), &err);
        if (store == NULL) {
            fprintf(stderr, "fuzz: mst_resumption_new: %s\n", err.text);
            exit(2);
        }
    }
    must(mst_config_set_resumption(config, store, &err), "resumption", &err);
    must(mst_config_ask_psk(config, &err), "ask_psk", &err);
    fuzz_rng_select(FUZZ_STREAM_SERVER);
    return configs[variant] = config;
}

/* ---- Driving an engine ---- */

enum mst_verify fuzz_verify_mode(unsigned bits, enum mst_verify config_default)
{
    switch (bits & 3) {
    case 1: return MST_VERIFY_OPTIONAL;
    case 2: return config_default == MST_VERIFY_NONE ? MST_VERIFY_REQUIRED : MST_VERIFY_NONE;
    case 3: return config_default;
    default: return config_default;
    }
}

static void select_stream(const fuzz_peer *peer)
{
    fuzz_rng_select(peer->endpoint == MST_CLIENT ? FUZZ_STREAM_CLIENT : FUZZ_STREAM_SERVER);
}

void fuzz_peer_start(fuzz_peer *peer, mst_config *config, unsigned verify_bits,
                     bool server_name)
{
    select_stream(peer);
    mst_error err;
    peer->session = mst_session_new(config, &err);
    if (peer->session == NULL) {
        fprintf(stderr, "fuzz: mst_session_new: %s\n", err.text);
        exit(2);
    }
    peer->now_ms = 1000;
    mst_session_set_time(peer->session, peer->now_ms);
    enum mst_verify dflt = peer->endpoint == MST_CLIENT ? MST_VERIFY_REQUIRED : MST_VERIFY_NONE;
    /* bits 3: set the config's own mode explicitly (the per-session path) */
    if ((verify_bits & 3) != 0)
        mst_session_set_verify(peer->session, fuzz_verify_mode(verify_bits, dflt));
    if (peer->endpoint == MST_CLIENT && server_name)
        mst_session_set_server_name(peer->session, "localhost");
    if (peer->endpoint == MST_SERVER && peer->transport == MST_DATAGRAM)
        mst_session_set_transport_id(peer->session, (const uint8_t *)"127.0.0.1:4433", 14);
}

static int verbose = -1;

void fuzz_peer_finish(fuzz_peer *peer)
{
    select_stream(peer);
    if (verbose < 0)
        verbose = getenv("MST_FUZZ_VERBOSE") != NULL;
    if (verbose) {
        /* One line per session: how far the input took it (checks that seeds replay). */
        unsigned state = mst_session_state(peer->session);
        const mst_error *err = mst_session_error(peer->session);
        const char *protocol = mst_session_protocol(peer->session);
        fprintf(stderr, "fuzz: %s %s: %s%s%s%s\n",
                peer->endpoint == MST_CLIENT ? "client" : "server",
                protocol != NULL ? protocol : "-",
                (state & MST_STATE_FAILED)        ? "failed"
                : (state & MST_STATE_HANDSHAKING) ? "handshaking"
                                                  : "handshake done",
                peer->got_data ? ", got data" : "",
                (state & MST_STATE_PEER_CLOSE_NOTIFY) ? ", peer closed" : "",
                (state & MST_STATE_CLOSE_SENT) ? ", closed" : "");
        if (err != NULL)
            fprintf(stderr, "fuzz:   error -0x%04X %s\n", (unsigned)-err->code, err->text);
    }
    mst_session_free(peer->session);
    peer->session = NULL;
}

void fuzz_process(fuzz_peer *peer)
{
    select_stream(peer);
    mst_session_set_time(peer->session, peer->now_ms);
    mst_session_process(peer->session);
}

static void got_plaintext(fuzz_peer *peer, const uint8_t *data, size_t len)
{
    if (len == 0)
        return;
    if (peer->plaintext_len == 0)
        peer->plaintext_hash = 0xcbf29ce484222325u;
    for (size_t i = 0; i < len; i++)
        peer->plaintext_hash = (peer->plaintext_hash ^ data[i]) * 0x100000001b3u;
    peer->plaintext_len += len;
    peer->got_data = true;
}

static void read_plaintext(fuzz_peer *peer)
{
    uint8_t buffer[4096];
    size_t n;
    while ((n = mst_session_read_plaintext(peer->session, buffer, sizeof(buffer))) > 0)
        got_plaintext(peer, buffer, n);
}

void fuzz_feed(fuzz_peer *peer, const uint8_t *data, size_t len)
{
    select_stream(peer);
    mst_session_set_time(peer->session, peer->now_ms);
    if (!peer->in_place) {
        mst_session_feed_ciphertext(peer->session, data, len);
        return;
    }
    /* A copy of exactly the chunk, so AddressSanitizer sees a write past it. The window's
     * plaintext comes first, then the chunk's first bytes. */
    uint8_t *chunk = malloc(len ? len : 1);
    if (chunk == NULL)
        abort();
    memcpy(chunk, data, len);
    size_t in_place = 0;
    mst_session_feed_in_place(peer->session, chunk, len, &in_place);
    if (in_place > len)
        abort();
    read_plaintext(peer);
    got_plaintext(peer, chunk, in_place);
    free(chunk);
}

void fuzz_eof(fuzz_peer *peer)
{
    select_stream(peer);
    mst_session_feed_eof(peer->session);
}

void fuzz_timer(fuzz_peer *peer)
{
    int64_t wait = mst_session_timeout(peer->session);
    peer->now_ms += wait > 0 ? (uint64_t)wait : 1;
    fuzz_process(peer);
}

void fuzz_close(fuzz_peer *peer)
{
    select_stream(peer);
    mst_session_close(peer->session);
}

static void drain(fuzz_peer *peer)
{
    size_t len;
    const uint8_t *data;
    while ((data = mst_session_peek_ciphertext(peer->session, &len)) != NULL) {
        if (peer->sink != NULL)
            peer->sink(peer->sink_context, data, len);
        mst_session_consume_ciphertext(peer->session, len);
    }
}

/* Every getter once the handshake is done (or failed): they read what Mbed TLS parsed. */
static volatile size_t sink_hole;

static void read_getters(const fuzz_peer *peer)
{
    const mst_session *s = peer->session;
    size_t n = 0, len;
    uint32_t flags;
    const char *text;
    if ((text = mst_session_protocol(s)) != NULL)
        n += strlen(text);
    if ((text = mst_session_ciphersuite_name(s)) != NULL)
        n += strlen(text);
    if ((text = mst_session_alpn(s)) != NULL)
        n += strlen(text);
    if ((text = mst_session_server_name(s)) != NULL)
        n += strlen(text);
    n += (size_t)mst_session_ciphersuite_id(s) + mst_session_verify_flags(s);
    for (size_t i = 0; mst_session_peer_certificate(s, i, &len) != NULL; i++)
        n += len;
    for (size_t i = 0; mst_session_verified_certificate(s, i, &len, &flags) != NULL; i++)
        n += len + flags;
    if (mst_session_own_certificate(s, &len) != NULL)
        n += len;
    const mst_error *err = mst_session_error(s);
    if (err != NULL)
        n += strlen(err->text) + (size_t)mst_session_peer_alert(s);
    size_t current, peak;
    mst_session_memory(s, &current, &peak);
    n += current + peak + (size_t)mst_session_timeout(s);
    sink_hole += n;
}

void fuzz_service(fuzz_peer *peer)
{
    mst_session *s = peer->session;
    select_stream(peer);
    drain(peer);
    read_plaintext(peer);
    unsigned events = mst_session_take_events(s) | peer->pending_events;
    peer->pending_events = 0;
    if ((events & MST_EVENT_CLIENT_HELLO) && peer->chosen != NULL) {
        for (size_t i = 0; mst_session_hello_alpn(s, i) != NULL; i++)
            ;
        (void)mst_session_server_name(s);
        mst_session_continue_hello(s, peer->chosen);
        mst_session_process(s);
        drain(peer);
        read_plaintext(peer);
        events |= mst_session_take_events(s);
    }
    unsigned state = mst_session_state(s);
    if ((events & MST_EVENT_HANDSHAKE_DONE) || (state & MST_STATE_FAILED))
        read_getters(peer);
    if (!(state & (MST_STATE_HANDSHAKING | MST_STATE_FAILED)) && !peer->wrote) {
        static const char client_hello[] = "hello from the client";
        static const char server_hello[] = "hello from the server";
        const char *greeting = peer->endpoint == MST_CLIENT ? client_hello : server_hello;
        mst_session_write_plaintext(s, (const uint8_t *)greeting, strlen(greeting));
        peer->wrote = true;
    }
    if (peer->wrote && !peer->closed &&
        (peer->got_data || (mst_session_state(s) & MST_STATE_PEER_CLOSE_NOTIFY))) {
        mst_session_close(s);
        peer->closed = true;
    }
    drain(peer);
}

void fuzz_client_input(fuzz_peer *client, const uint8_t *data, size_t size)
{
    uint8_t options = data[0];
    fuzz_chunker chunker;
    fuzz_chunker_init(&chunker, data[1]);
    data += 2;
    size -= 2;
    fuzz_rng_reset(FUZZ_STREAM_CLIENT);
    fuzz_peer_start(client, fuzz_client_config(MST_STREAM, options & 7), (options >> 3) & 3,
                    (options & 0x20) != 0);
    fuzz_process(client);
    fuzz_service(client);
    while (size > 0) {
        size_t n = fuzz_chunker_next(&chunker, size);
        fuzz_feed(client, data, n);
        fuzz_service(client);
        data += n;
        size -= n;
    }
    if (options & 0x40)
        fuzz_eof(client);
    else
        fuzz_close(client);
    fuzz_service(client);
}

/* ---- Inputs ---- */

void fuzz_chunker_init(fuzz_chunker *c, uint8_t byte)
{
    c->shift = byte & 0x0F;
    c->state = 0x9E3779B9u ^ ((uint32_t)(byte >> 4) * 0x85EBCA6Bu);
}

size_t fuzz_chunker_next(fuzz_chunker *c, size_t remaining)
{
    if (c->shift == 0 || remaining == 0)
        return remaining;
    /* xorshift32 */
    uint32_t x = c->state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c->state = x;
    size_t n = 1 + (size_t)(x % (1u << c->shift));
    return n < remaining ? n : remaining;
}

/* ---- PSA key slots ---- */

size_t fuzz_psa_slots_in_use(void)
{
    mbedtls_psa_stats_t stats;
    mbedtls_psa_get_stats(&stats);
    return stats.MBEDTLS_PRIVATE(volatile_slots) + stats.MBEDTLS_PRIVATE(persistent_slots) +
           stats.MBEDTLS_PRIVATE(locked_slots);
}

void fuzz_check_psa_slots(size_t before, const char *where)
{
    size_t after = fuzz_psa_slots_in_use();
    if (after != before) {
        fprintf(stderr, "==fuzz== %s: PSA key slots in use went from %zu to %zu: a key leaked\n",
                where, before, after);
        abort();
    }
}
