/*
 * record_seeds.c: records the seed corpora of the fuzz targets from real handshakes.
 *
 *   record_seeds OUTDIR    writes OUTDIR/fuzz_client/, fuzz_server/, fuzz_dtls/, fuzz_dtls_demux/, fuzz_x509/
 *
 * A client engine and a server engine, both made from the very configs the targets use and
 * both driven by the targets' own driver (fuzz_service), run complete handshakes in
 * memory: TLS 1.2 and 1.3, ECDSA and RSA servers, with and without client certificates,
 * a greeting each way and close_notify, refused client certificates, and DTLS 1.2 with its
 * cookie exchange and a lost datagram. Every byte one engine receives is recorded; with
 * the targets' option bytes in front, that is a seed which replays the same handshake in
 * the target, because the RNG and the clock are deterministic (fuzz_common.c): the fuzzed
 * engine draws the same randomness and so sends the same messages as the recorded one.
 * fuzz_x509 seeds are the PEM and DER files of certs/, in each of the target's modes.
 *
 * Prints one line per recording; exits non-zero when a handshake that should complete did
 * not (the seeds would then not reach far).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "fuzz_common.h"

static const char *outdir;
static int failures;

/* ---- Byte tapes ---- */

typedef struct tape {
    uint8_t *data;
    size_t len, cap;
} tape;

static void tape_put(tape *t, const void *data, size_t len)
{
    if (t->len + len > t->cap) {
        t->cap = (t->len + len) * 2 + 256;
        t->data = realloc(t->data, t->cap);
        if (t->data == NULL)
            exit(2);
    }
    memcpy(t->data + t->len, data, len);
    t->len += len;
}

static void tape_byte(tape *t, uint8_t b) { tape_put(t, &b, 1); }

static void tape_free(tape *t)
{
    free(t->data);
    memset(t, 0, sizeof(*t));
}

static void write_seed(const char *target, const char *name, const tape *t)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", outdir, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(2);
    }
    snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
    FILE *fp = fopen(path, "wb");
    if (fp == NULL || fwrite(t->data, 1, t->len, fp) != t->len || fclose(fp) != 0) {
        perror(path);
        exit(2);
    }
}

/* ---- Two engines in memory ---- */

/* What one engine has been sent and not yet received: a queue of datagrams (or of stream
 * pieces), and everything it received, as the target's input encodes it. */
typedef struct inbox {
    tape pending;  /* 2-byte length + bytes, per piece */
    tape received; /* the seed body */
    int drop;      /* datagrams still to lose on the way (DTLS) */
} inbox;

static void to_inbox(void *context, const uint8_t *data, size_t len)
{
    inbox *box = context;
    if (box->drop > 0) {
        box->drop--;
        return;
    }
    uint8_t prefix[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    tape_put(&box->pending, prefix, 2);
    tape_put(&box->pending, data, len);
}

/* Delivers everything pending; returns whether there was anything. */
static bool deliver(fuzz_peer *peer, inbox *box)
{
    if (box->pending.len == 0)
        return false;
    tape pending = box->pending;
    memset(&box->pending, 0, sizeof(box->pending));
    for (size_t at = 0; at + 2 <= pending.len;) {
        size_t n = ((size_t)pending.data[at] << 8) | pending.data[at + 1];
        const uint8_t *bytes = pending.data + at + 2;
        at += 2 + n;
        if (peer->transport == MST_DATAGRAM) {
            uint8_t prefix[2] = {(uint8_t)(n >> 8), (uint8_t)n};
            tape_put(&box->received, prefix, 2);
        }
        tape_put(&box->received, bytes, n);
        fuzz_feed(peer, bytes, n);
        fuzz_service(peer);
    }
    tape_free(&pending);
    return true;
}

static void fire_timer(fuzz_peer *peer, inbox *box)
{
    static const uint8_t timer_event[2] = {0, 0};
    tape_put(&box->received, timer_event, 2);
    fuzz_timer(peer);
    fuzz_service(peer);
}

static bool handshake_done(const fuzz_peer *peer)
{
    return !(mst_session_state(peer->session) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED));
}

#define DEMUX_CID 8
#define DEMUX_HOLD 0x10

typedef struct scenario {
    const char *name;
    uint8_t client_options; /* fuzz_client's byte 0, or fuzz_dtls's for the client */
    uint8_t server_options; /* fuzz_server's byte 0, or fuzz_dtls's for the server */
    uint8_t chunking;       /* byte 1 of the stream seeds */
    bool expect_done;       /* the handshake completes */
    int drop_to_client;     /* DTLS: datagrams lost on the way to the client */
    uint8_t demux;          /* DTLS: fuzz_dtls_demux byte-0 bits 3-4 (DEMUX_CID: Connection
                               IDs, the server's first CID, its CID records from address 1;
                               DEMUX_HOLD: the ClientHello held, the chosen config); such
                               scenarios make fuzz_dtls_demux seeds only */
} scenario;

static void run(enum mst_transport transport, const scenario *sc)
{
    bool dtls = transport == MST_DATAGRAM;
    bool cid = (sc->demux & DEMUX_CID) != 0;
    unsigned client_variant, client_verify, server_variant, server_verify;
    bool sni;
    if (!dtls) {
        client_variant = sc->client_options & 7;
        client_verify = (sc->client_options >> 3) & 3;
        sni = (sc->client_options & 0x20) != 0;
        server_variant = sc->server_options & 1;
        server_verify = (sc->server_options >> 1) & 3;
    } else {
        client_variant = (sc->client_options & 2) ? 4 : 0;
        client_verify = (sc->client_options >> 2) & 3;
        sni = (sc->client_options & 0x10) != 0;
        server_variant = (sc->server_options >> 1) & 1;
        server_verify = (sc->server_options >> 2) & 3;
    }

    fuzz_rng_reset(FUZZ_STREAM_CLIENT);
    fuzz_rng_reset(FUZZ_STREAM_SERVER);
    mst_config *client_config = cid ? fuzz_cid_client_config()
                                        : fuzz_client_config(transport, client_variant);
    mst_config *server_config = cid ? fuzz_cid_server_config(server_variant)
                                        : fuzz_server_config(transport, server_variant);
    size_t slots = fuzz_psa_slots_in_use();

    inbox to_client = {.drop = sc->drop_to_client}, to_server = {0};
    fuzz_peer client = {.endpoint = MST_CLIENT, .transport = transport, .sink = to_inbox,
                        .sink_context = &to_server};
    fuzz_peer server = {.endpoint = MST_SERVER, .transport = transport, .sink = to_inbox,
                        .sink_context = &to_client};
    /* The same calls, in the same order, as the targets make on their engine. */
    fuzz_peer_start(&server, server_config, server_verify, false);
    if (cid) {
        /* fuzz_dtls_demux's CID for the first session of an input: 1, big-endian. */
        uint8_t first[FUZZ_CID_LENGTH] = {0};
        first[FUZZ_CID_LENGTH - 1] = 1;
        mst_session_use_cid(server.session, first, sizeof(first));
    }
    if (sc->demux & DEMUX_HOLD) {
        server.chosen = fuzz_dtls_chosen_config(server_variant, cid);
        mst_session_hold_client_hello(server.session);
    }
    fuzz_peer_start(&client, client_config, client_verify, sni);
    if (cid)
        mst_session_use_cid(client.session, NULL, 0);
    fuzz_process(&client);
    fuzz_service(&client);
    for (int round = 0; round < 200; round++) {
        bool moved = deliver(&server, &to_server);
        moved |= deliver(&client, &to_client);
        if (moved)
            continue;
        /* Stalled: in DTLS a lost datagram is resent when a timer fires. */
        if (dtls && !handshake_done(&client) && mst_session_timeout(client.session) >= 0 &&
            !(mst_session_state(client.session) & MST_STATE_FAILED)) {
            fire_timer(&client, &to_client);
            continue;
        }
        break;
    }

    bool done = handshake_done(&client) && handshake_done(&server);
    bool closed = (mst_session_state(client.session) & MST_STATE_PEER_CLOSE_NOTIFY) &&
                  (mst_session_state(server.session) & MST_STATE_PEER_CLOSE_NOTIFY);
    const char *protocol = mst_session_protocol(client.session);
    const char *suite = mst_session_ciphersuite_name(client.session);
    const mst_error *ce = mst_session_error(client.session), *se = mst_session_error(server.session);
    printf("%-28s %-8s %-44s %s%s  client %zu B, server %zu B%s%s%s%s\n", sc->name,
           protocol ? protocol : "-", suite ? suite : "-", done ? "done" : "FAILED",
           closed ? ", closed" : "", to_client.received.len, to_server.received.len,
           ce ? "; client: " : "", ce ? ce->text : "", se ? "; server: " : "",
           se ? se->text : "");
    if (done != sc->expect_done || (done && !closed)) {
        printf("    ^ unexpected outcome\n");
        failures++;
    }

    char name[128];
    tape seed = {0};
    if (!dtls) {
        tape_byte(&seed, sc->client_options);
        tape_byte(&seed, sc->chunking);
        tape_put(&seed, to_client.received.data, to_client.received.len);
        snprintf(name, sizeof(name), "%s.bin", sc->name);
        write_seed("fuzz_client", name, &seed);
        tape_free(&seed);
        tape_byte(&seed, sc->server_options);
        tape_byte(&seed, sc->chunking);
        tape_put(&seed, to_server.received.data, to_server.received.len);
        write_seed("fuzz_server", name, &seed);
    } else if (!sc->demux) {
        tape_byte(&seed, sc->client_options & ~1u);
        tape_put(&seed, to_client.received.data, to_client.received.len);
        snprintf(name, sizeof(name), "%s-client.bin", sc->name);
        write_seed("fuzz_dtls", name, &seed);
        tape_free(&seed);
        tape_byte(&seed, sc->server_options | 1u);
        tape_put(&seed, to_server.received.data, to_server.received.len);
        snprintf(name, sizeof(name), "%s-server.bin", sc->name);
        write_seed("fuzz_dtls", name, &seed);
        tape_free(&seed);
    }
    if (dtls) {
        /* The same datagrams, all from address 0, for the demultiplexer (fuzz_dtls_demux.c):
         * byte 0 RSA and verify bits (and CIDs), then 0x80 per timer and 0 + length + bytes per
         * datagram; with CIDs, those starting with a CID record come from address 1. */
        tape_byte(&seed, ((sc->server_options >> 1) & 1u) |
                             (((sc->server_options >> 2) & 3u) << 1) | sc->demux);
        const tape *in = &to_server.received;
        for (size_t at = 0; at + 2 <= in->len;) {
            size_t n = ((size_t)in->data[at] << 8) | in->data[at + 1];
            if (n == 0) {
                tape_byte(&seed, 0x80);
            } else {
                bool moved = cid && in->data[at + 2] == MST_DTLS_CID_CONTENT_TYPE;
                tape_byte(&seed, moved ? 1 : 0);
                tape_put(&seed, in->data + at, 2 + n);
            }
            at += 2 + n;
        }
        snprintf(name, sizeof(name), "%s.bin", sc->name);
        write_seed("fuzz_dtls_demux", name, &seed);
    }
    tape_free(&seed);
    fuzz_peer_finish(&client);
    fuzz_peer_finish(&server);
    fuzz_check_psa_slots(slots, sc->name);
    tape_free(&to_client.pending);
    tape_free(&to_client.received);
    tape_free(&to_server.pending);
    tape_free(&to_server.received);
}

/* fuzz_client byte 0: bits 0-1 versions (1: TLS 1.2, 2: TLS 1.3), bit 2 client certificate,
 * bits 3-4 verify, bit 5 SNI, bit 6 EOF. fuzz_server byte 0: bit 0 RSA, bits 1-2 verify
 * (1 optional, 2 required), bit 3 EOF. */
#define C_TLS12 1
#define C_TLS13 2
#define C_CERT 4
#define C_OPTIONAL (1 << 3)
#define C_NONE (2 << 3)
#define C_SNI 0x20
#define C_EOF 0x40
#define S_RSA 1
#define S_OPTIONAL (1 << 1)
#define S_REQUIRED (2 << 1)
#define S_EOF 8

static const scenario stream_scenarios[] = {
    {"tls13-ecdsa", C_SNI, 0, 0x00, true, 0, 0},
    {"tls12-ecdsa", C_TLS12 | C_SNI, 0, 0x00, true, 0, 0},
    {"tls13-rsa", C_TLS13, S_RSA, 0x00, true, 0, 0},
    {"tls12-rsa", C_TLS12, S_RSA, 0x00, true, 0, 0},
    {"tls13-mutual", C_CERT, S_REQUIRED, 0x00, true, 0, 0},
    {"tls12-mutual", C_TLS12 | C_CERT, S_REQUIRED, 0x00, true, 0, 0},
    {"tls13-mutual-rsa", C_TLS13 | C_CERT | C_SNI, S_RSA | S_REQUIRED, 0x00, true, 0, 0},
    {"tls12-mutual-rsa", C_TLS12 | C_CERT, S_RSA | S_REQUIRED | S_EOF, 0x00, true, 0, 0},
    {"tls13-optional-nocert", 0, S_OPTIONAL, 0x00, true, 0, 0},
    {"tls12-optional-nocert", C_TLS12, S_OPTIONAL, 0x00, true, 0, 0},
    {"tls13-required-nocert", 0, S_REQUIRED, 0x00, false, 0, 0},
    {"tls12-required-nocert", C_TLS12, S_REQUIRED, 0x00, false, 0, 0},
    {"tls13-client-verify-none", C_NONE | C_EOF, S_EOF, 0x00, true, 0, 0},
    {"tls12-client-optional", C_TLS12 | C_OPTIONAL, S_RSA, 0x00, true, 0, 0},
    {"tls13-chunked", C_SNI, 0, 0x37, true, 0, 0},
    {"tls12-chunked", C_TLS12 | C_CERT, S_OPTIONAL, 0x44, true, 0, 0},
};

/* fuzz_dtls byte 0: bit 0 role, bit 1 client certificate / RSA server, bits 2-3 verify,
 * bit 4 SNI, bit 5 EOF. */
#define D_CERT 2
#define D_RSA 2
#define D_REQUIRED (2 << 2)
#define D_SNI 0x10

static const scenario dtls_scenarios[] = {
    {"dtls-ecdsa", D_SNI, 0, 0, true, 0, 0},
    {"dtls-rsa", 0, D_RSA, 0, true, 0, 0},
    {"dtls-mutual", D_CERT, D_REQUIRED, 0, true, 0, 0},
    {"dtls-lost-datagram", D_SNI, 0, 0, true, 1, 0},
    {"dtls-cid", D_SNI, 0, 0, true, 0, DEMUX_CID},
    {"dtls-cid-sni", D_SNI, 0, 0, true, 0, DEMUX_CID | DEMUX_HOLD},
};

/* ---- fuzz_x509 seeds ---- */

static void x509_seed(const char *name, uint8_t options, const uint8_t *a, size_t a_len,
                      const uint8_t *b, size_t b_len, const char *pass)
{
    tape seed = {0};
    tape_byte(&seed, options);
    tape_put(&seed, a, a_len);
    if (b != NULL) {
        tape_put(&seed, FUZZ_X509_SEPARATOR, strlen(FUZZ_X509_SEPARATOR));
        tape_put(&seed, b, b_len);
    }
    if (pass != NULL) {
        tape_put(&seed, FUZZ_X509_SEPARATOR, strlen(FUZZ_X509_SEPARATOR));
        tape_put(&seed, pass, strlen(pass));
    }
    write_seed("fuzz_x509", name, &seed);
    tape_free(&seed);
    printf("%-28s x509 seed, %zu B\n", name, a_len + b_len);
}

static void file_seed(const char *name, uint8_t options, const char *file)
{
    const fuzz_file *f = fuzz_cert_file(file);
    x509_seed(name, options, f->data, f->len, NULL, 0, NULL);
}

static void pair_seed(const char *name, uint8_t options, const char *chain, const char *key,
                      const char *pass)
{
    const fuzz_file *c = fuzz_cert_file(chain), *k = fuzz_cert_file(key);
    x509_seed(name, options, c->data, c->len, k->data, k->len, pass);
}

static void record_x509(void)
{
    file_seed("ca-strict.pem", 0, "ca.pem");
    file_seed("intermediate-strict.pem", 4, "intermediate.pem");
    file_seed("ca-all-lenient.pem", 1, "ca-all.pem");
    file_seed("server-chain-lenient.pem", 5, "server-ecdsa-chain.pem");
    file_seed("other-ca-strict.pem", 0, "other-ca.pem");
    pair_seed("pair-ecdsa.pem", 7, "server-ecdsa-chain.pem", "server-ecdsa.key", NULL);
    pair_seed("pair-rsa.pem", 3, "server-rsa-chain.pem", "server-rsa.key", NULL);
    pair_seed("pair-client.pem", 3, "client-chain.pem", "client.key", NULL);
    pair_seed("pair-encrypted.pem", 3, "server-ecdsa.pem", "server-ecdsa-encrypted.key",
              "mbedtls-stream");
    pair_seed("pair-mismatch.pem", 3, "server-ecdsa.pem", "client.key", NULL);

    /* DER: a certificate to trust, and a certificate with its key. */
    const fuzz_file *ca = fuzz_cert_file("ca.pem"), *leaf = fuzz_cert_file("server-ecdsa.pem"),
                    *key = fuzz_cert_file("server-ecdsa.key");
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    if (mbedtls_x509_crt_parse(&crt, ca->data, ca->len + 1) == 0)
        x509_seed("ca-strict.der", 0, crt.raw.p, crt.raw.len, NULL, 0, NULL);
    mbedtls_x509_crt_free(&crt);
    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    unsigned char der[4096];
    if (mbedtls_x509_crt_parse(&crt, leaf->data, leaf->len + 1) == 0 &&
        mbedtls_pk_parse_key(&pk, key->data, key->len + 1, NULL, 0, fuzz_rng_random, NULL) == 0) {
        int n = mbedtls_pk_write_key_der(&pk, der, sizeof(der));
        if (n > 0)
            x509_seed("pair-ecdsa.der", 7, crt.raw.p, crt.raw.len, der + sizeof(der) - n,
                      (size_t)n, NULL);
    }
    mbedtls_pk_free(&pk);
    mbedtls_x509_crt_free(&crt);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    if (mkdir(outdir, 0755) != 0 && errno != EEXIST) {
        perror(outdir);
        return 2;
    }
    fuzz_init();
    for (size_t i = 0; i < sizeof(stream_scenarios) / sizeof(stream_scenarios[0]); i++)
        run(MST_STREAM, &stream_scenarios[i]);
    for (size_t i = 0; i < sizeof(dtls_scenarios) / sizeof(dtls_scenarios[0]); i++)
        run(MST_DATAGRAM, &dtls_scenarios[i]);
    record_x509();
    if (failures != 0)
        printf("record_seeds: %d recording(s) had an unexpected outcome\n", failures);
    return failures != 0;
}
