/*
 * fuzz_common.h: what the fuzz targets and the seed recorder share.
 *
 *   - a deterministic RNG in streams (fuzz_rng_*): every engine of a run draws from its own
 *     stream, reset before each input, so a recorded handshake replays byte for byte;
 *   - the certificates of certs/, loaded once;
 *   - the configurations the targets use, one per variant, built once;
 *   - the driver (fuzz_service) that does the embedder's part for an engine after every
 *     input: take the ciphertext, read the plaintext, write a greeting once the handshake is
 *     done, answer and send close_notify. The recorder drives both engines of a real
 *     handshake with the same function, which is why its byte streams replay as seeds.
 */
#ifndef MBEDTLS_STREAM_FUZZ_COMMON_H
#define MBEDTLS_STREAM_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

/* ---- Deterministic randomness ---- */

enum fuzz_stream {
    FUZZ_STREAM_CONFIG = 0, /* config creation (DTLS cookie key, key parsing) */
    FUZZ_STREAM_CLIENT = 1, /* every call on a client engine */
    FUZZ_STREAM_SERVER = 2, /* every call on a server engine */
    FUZZ_STREAMS
};
void fuzz_rng_reset(enum fuzz_stream stream);
void fuzz_rng_select(enum fuzz_stream stream);
/* The engine's RNG in this build (build.sh compiles src/core with
 * -Dmbedtls_ctr_drbg_random=fuzz_rng_random). */
int fuzz_rng_random(void *unused, unsigned char *output, size_t len);

/* ---- Process set-up ---- */

/* Starts the engine, loads certs/ ($MST_FUZZ_CERTS, the build's certs path, or
 * <binary>/../certs) and fixes the clock. Exits on failure. Idempotent. */
void fuzz_init(void);

typedef struct fuzz_file {
    uint8_t *data;
    size_t len;
} fuzz_file;
/* A file of certs/, loaded once and kept. */
const fuzz_file *fuzz_cert_file(const char *name);
const char *fuzz_certs_dir(void);

/* ---- Configurations (built on first use, kept for the process) ---- */

/* Client variants: bits 0-1 versions (0 and 3: TLS 1.2-1.3, 1: TLS 1.2, 2: TLS 1.3),
 * bit 2 with the client certificate (client-chain.pem). All trust ca.pem, offer ALPN
 * h2 and http/1.1. Datagram clients ignore the version bits (DTLS 1.2). */
#define FUZZ_CLIENT_VARIANTS 8
mst_config *fuzz_client_config(enum mst_transport transport, unsigned variant);
/* Server variants: bit 0 the RSA certificate instead of ECDSA. Both trust ca.pem for client
 * certificates and offer ALPN http/1.1. */
#define FUZZ_SERVER_VARIANTS 2
mst_config *fuzz_server_config(enum mst_transport transport, unsigned variant);
/* DTLS configs with RFC 9146 Connection IDs, as lib/dtls makes them: a server (variant bit
 * 0: RSA) whose sessions each take a FUZZ_CID_LENGTH-byte CID, and a client (no certificate)
 * whose own CID is empty (the server's is used). Otherwise as the configs above. */
#define FUZZ_CID_LENGTH 4
mst_config *fuzz_cid_server_config(unsigned variant);
mst_config *fuzz_cid_client_config(void);
/* The DTLS server config an SNICallback would choose for the sessions of server variant
 * `variant` (with `cids`: fuzz_cid_server_config's, else fuzz_server_config's): the other
 * certificate, the same CID length, and that config's cookie secret. */
mst_config *fuzz_dtls_chosen_config(unsigned variant, bool cids);
/* Stream server configs that resume sessions (fixed ticket keys) and ask the embedder for
 * PSK keys, for sessions that hold the ClientHello (the ECDSA or RSA certificate). */
mst_config *fuzz_choosing_server_config(unsigned variant);

/* ---- Driving an engine ---- */

typedef void (*fuzz_sink)(void *context, const uint8_t *data, size_t len);

typedef struct fuzz_peer {
    mst_session *session;
    enum mst_endpoint endpoint;
    enum mst_transport transport;
    uint64_t now_ms;  /* datagram clock */
    bool wrote, closed, got_data;
    unsigned pending_events; /* events taken before fuzz_service, which it still acts on */
    mst_config *chosen; /* a server holding its ClientHello: fuzz_service goes on with this
                           config once the hello is whole, as an SNICallback would */
    fuzz_sink sink;   /* where its ciphertext goes; NULL drops it */
    void *sink_context;
    /* Feeds go through mst_session_feed_in_place(), on a copy of exactly the chunk. */
    bool in_place;
    /* The plaintext read, in order: its length and FNV-1a hash. */
    size_t plaintext_len;
    uint64_t plaintext_hash;
} fuzz_peer;

/* The verify mode of options bits: 0 keeps the config's mode (no call), 1 OPTIONAL, 2 NONE
 * for a client and REQUIRED for a server, 3 the config's own mode set per session. */
enum mst_verify fuzz_verify_mode(unsigned bits, enum mst_verify config_default);

/* A new session (exits when that fails), with the datagram clock started and, for a
 * datagram server, a transport id. */
void fuzz_peer_start(fuzz_peer *peer, mst_config *config, unsigned verify_bits,
                     bool server_name);
void fuzz_peer_finish(fuzz_peer *peer); /* frees the session */

void fuzz_process(fuzz_peer *peer);
void fuzz_feed(fuzz_peer *peer, const uint8_t *data, size_t len);
void fuzz_eof(fuzz_peer *peer);
void fuzz_timer(fuzz_peer *peer); /* datagram: the clock jumps to the timer and process */
void fuzz_close(fuzz_peer *peer);
/* The embedder's part after an input (see the top of this file). */
void fuzz_service(fuzz_peer *peer);

/* fuzz_client's input (see fuzz_client.c: an options byte, a chunking byte, the server's
 * bytes; at least 2 bytes) run on `client`, a peer the caller has set up (endpoint
 * MST_CLIENT, transport MST_STREAM, and any sink or in_place): a client session from the
 * options' config, its ClientHello, the bytes in chunks with the embedder's part after
 * each, then feed_eof or close. The RNG stream is reset first, so a run replays. The
 * session is left open for the caller to read and free (fuzz_peer_finish). */
void fuzz_client_input(fuzz_peer *client, const uint8_t *data, size_t size);

/* ---- Inputs ---- */

/* Chunk sizes derived from one input byte: low 4 bits 0 = all at once, else chunks of
 * 1..2^bits bytes drawn from a small PRNG seeded by the high bits. */
typedef struct fuzz_chunker {
    unsigned shift;
    uint32_t state;
} fuzz_chunker;
void fuzz_chunker_init(fuzz_chunker *c, uint8_t byte);
size_t fuzz_chunker_next(fuzz_chunker *c, size_t remaining);

/* The separator of fuzz_x509's certificate mode (chain, key, passphrase). */
#define FUZZ_X509_SEPARATOR "\n@@\n"

/* ---- Leak checks beyond LeakSanitizer ---- */

/* PSA keys live in a global key store that LeakSanitizer sees as reachable: count the
 * occupied slots before an input and abort when an input leaves one behind. */
size_t fuzz_psa_slots_in_use(void);
void fuzz_check_psa_slots(size_t before, const char *where);

#endif /* MBEDTLS_STREAM_FUZZ_COMMON_H */
