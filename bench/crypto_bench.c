/*
 * crypto_bench.c: the crypto of a TLS connection alone, for each implementation this build
 * and CPU have: Mbed TLS's stock code next to ours, each reached through the call Mbed TLS
 * makes for TLS, and switched as the C tests switch them (test/c/).
 *
 *   build/Release/crypto_bench [--json] [SECONDS-PER-FIGURE]     default 0.3
 *
 * Figures, each measured for SECONDS-PER-FIGURE of this process's CPU time (so other load
 * on the machine counts less), after one untimed call:
 *   AES-128-GCM, AES-256-GCM  encrypt and decrypt of 16 KiB records through
 *       mbedtls_cipher_auth_encrypt_ext() / _decrypt_ext() (12-byte IV, 13 bytes of AAD, the
 *       16-byte tag appended), as the record layer calls them; MB/s (10^6 bytes per second
 *       of plaintext). Implementations (deps/accel/gcm_accel.h, patch 0020): "stock" (Mbed
 *       TLS's GCM), "aesni" (AES-NI + PCLMULQDQ), "vaes" (VAES + VPCLMULQDQ), each only
 *       where the CPU has it and a key set with it lands on it.
 *   ECDSA P-256 verify  mbedtls_ecdsa_verify() of one valid signature of a 32-byte hash;
 *       "stock" (Mbed TLS's ECP code) and "ours" (src/crypto/p256_verify.c, patch 0021),
 *       chosen by mst_p256_fast_path; verifications/s.
 *   X25519  mbedtls_ecdh_compute_shared() on Curve25519 with a fixed peer key: one scalar
 *       multiplication, what one side of an ECDHE exchange costs for its shared secret (its
 *       key pair costs another); "stock" (Mbed TLS's Montgomery ladder) and "hacl"
 *       (Everest/HACL* through src/crypto/x25519.c, patch 0023), chosen by mst_x25519_hacl;
 *       multiplications/s.
 *   ECDSA P-256 sign  mbedtls_ecdsa_write_signature() of a 32-byte hash with SHA-256, as pk
 *       signs a TLS handshake (deterministic k, RFC 6979): Mbed TLS's constant-time code,
 *       the only one; signatures/s.
 * Each P-256 and X25519 figure is checked to have gone where its label says (the counters
 * of src/crypto/), and both X25519 implementations to agree on the secret.
 *
 * Output: a table, one line per figure, "*" marking the implementation TLS uses in this
 * process by default (for GCM, after the MBEDTLS_STREAM_GCM cap). With --json, one JSON
 * array instead: {"what", "implementation", "value", "unit", "in_use"} per figure, in the
 * same order. bench/run.js reads it. A benchmark, not a test: the figures depend on the
 * machine. Exits 0, or 1 with a message on stderr when a call fails.
 */
/* The GCM context of a cipher context, and which path its key took, are private fields. */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS

#include "mbedtls/cipher.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecdh.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/entropy.h"
#include "mbedtls/gcm.h"
#include "gcm_accel.h"
#include "p256_verify.h"
#include "x25519.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RECORD 16384
#define MAX_FIGURES 32

typedef struct {
    const char *what;
    const char *implementation;
    double value;
    const char *unit;
    bool in_use;
} figure;

static figure figures[MAX_FIGURES];
static size_t figure_count;
static bool json;
static double seconds_per_figure = 0.3;
static mbedtls_ctr_drbg_context drbg;

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void fail(const char *what, const char *implementation, int ret)
{
    fprintf(stderr, "crypto_bench: %s (%s): -0x%04x\n", what, implementation, (unsigned) -ret);
    exit(1);
}

static void record(const char *what, const char *implementation, double value, const char *unit,
                   bool in_use)
{
    if (figure_count == MAX_FIGURES) {
        fprintf(stderr, "crypto_bench: more than %d figures\n", MAX_FIGURES);
        exit(1);
    }
    figures[figure_count++] = (figure) { what, implementation, value, unit, in_use };
    if (!json) {
        printf("%-20s %c %-6s %12.0f  %s\n", what, in_use ? '*' : ' ', implementation, value, unit);
        fflush(stdout);
    }
}

/*
 * Calls `operation(context)` once untimed, then in batches of `batch` until
 * seconds_per_figure of CPU time have passed. Returns the calls per second; exits on the
 * first call that does not return 0.
 */
static double calls_per_second(int (*operation)(void *), void *context, int batch,
                               const char *what, const char *implementation)
{
    int ret = operation(context);
    if (ret != 0) {
        fail(what, implementation, ret);
    }
    unsigned long calls = 0;
    double start = cpu_seconds(), elapsed;
    do {
        for (int i = 0; i < batch; i++) {
            if ((ret = operation(context)) != 0) {
                fail(what, implementation, ret);
            }
        }
        calls += (unsigned long) batch;
        elapsed = cpu_seconds() - start;
    } while (elapsed < seconds_per_figure);
    return (double) calls / elapsed;
}

/* ---- AES-GCM on 16 KiB records -------------------------------------------------------- */

typedef struct {
    mbedtls_cipher_context_t cipher;
    bool decrypt;
    unsigned char iv[12], ad[13];
    unsigned char input[RECORD + 16], output[RECORD + 16];
} gcm_record;

static int gcm_record_once(void *context)
{
    gcm_record *g = context;
    size_t olen = 0;
    return g->decrypt
        ? mbedtls_cipher_auth_decrypt_ext(&g->cipher, g->iv, sizeof(g->iv), g->ad, sizeof(g->ad),
                                          g->input, RECORD + 16, g->output, sizeof(g->output),
                                          &olen, 16)
        : mbedtls_cipher_auth_encrypt_ext(&g->cipher, g->iv, sizeof(g->iv), g->ad, sizeof(g->ad),
                                          g->input, RECORD, g->output, sizeof(g->output),
                                          &olen, 16);
}

/* The path (MBEDTLS_STREAM_GCM_*) the key of a GCM cipher context took. */
static int gcm_path(const mbedtls_cipher_context_t *cipher)
{
#if defined(MBEDTLS_STREAM_GCM_ACCEL)
    return ((const mbedtls_gcm_context *) cipher->cipher_ctx)->stream_accel;
#else
    (void) cipher;
    return MBEDTLS_STREAM_GCM_STOCK;
#endif
}

static int gcm_key(mbedtls_cipher_context_t *cipher, const mbedtls_cipher_info_t *info,
                   mbedtls_operation_t operation)
{
    unsigned char key[32];
    memset(key, 0x42, sizeof(key));
    mbedtls_cipher_init(cipher);
    int ret = mbedtls_cipher_setup(cipher, info);
    if (ret == 0) {
        ret = mbedtls_cipher_setkey(cipher, key, (int) mbedtls_cipher_info_get_key_bitlen(info),
                                    operation);
    }
    return ret;
}

static void measure_gcm(void)
{
    static const char *names[] = { "stock", "aesni", "vaes" };
    static const struct {
        mbedtls_cipher_type_t type;
        const char *encrypt, *decrypt;
    } ciphers[] = {
        { MBEDTLS_CIPHER_AES_128_GCM, "AES-128-GCM encrypt", "AES-128-GCM decrypt" },
        { MBEDTLS_CIPHER_AES_256_GCM, "AES-256-GCM encrypt", "AES-256-GCM decrypt" },
    };
    static gcm_record g;
    /* What keys get by default: the CPU's best, or less under MBEDTLS_STREAM_GCM. */
    const int in_use = mbedtls_stream_gcm_accel_select(-1);
    for (size_t c = 0; c < sizeof(ciphers) / sizeof(ciphers[0]); c++) {
        const mbedtls_cipher_info_t *info = mbedtls_cipher_info_from_type(ciphers[c].type);
        for (int decrypt = 0; decrypt <= 1; decrypt++) {
            const char *what = decrypt ? ciphers[c].decrypt : ciphers[c].encrypt;
            for (int impl = MBEDTLS_STREAM_GCM_STOCK; impl <= MBEDTLS_STREAM_GCM_VAES; impl++) {
                if (mbedtls_stream_gcm_accel_select(impl) != impl) {
                    continue; /* not on this CPU or build */
                }
                int ret;
                memset(&g, 0, sizeof(g));
                memset(g.input, 0x17, sizeof(g.input));
                g.decrypt = decrypt;
                if (decrypt) {
                    /* A valid record to decrypt, its tag appended as TLS sends it. */
                    mbedtls_cipher_context_t encrypt;
                    size_t olen = 0;
                    unsigned char plaintext[RECORD];
                    memset(plaintext, 0x17, sizeof(plaintext));
                    if ((ret = gcm_key(&encrypt, info, MBEDTLS_ENCRYPT)) != 0 ||
                        (ret = mbedtls_cipher_auth_encrypt_ext(&encrypt, g.iv, sizeof(g.iv), g.ad,
                                                               sizeof(g.ad), plaintext, RECORD,
                                                               g.input, sizeof(g.input), &olen,
                                                               16)) != 0) {
                        fail(what, names[impl], ret);
                    }
                    mbedtls_cipher_free(&encrypt);
                }
                if ((ret = gcm_key(&g.cipher, info, decrypt ? MBEDTLS_DECRYPT : MBEDTLS_ENCRYPT)) != 0) {
                    fail(what, names[impl], ret);
                }
                if (gcm_path(&g.cipher) != impl) {
                    /* The CPU has it but this key did not get it: no figure under its name. */
                    fprintf(stderr, "crypto_bench: %s: a key asked for %s got path %d; skipped\n",
                            what, names[impl], gcm_path(&g.cipher));
                    mbedtls_cipher_free(&g.cipher);
                    continue;
                }
                double records = calls_per_second(gcm_record_once, &g, 16, what, names[impl]);
                mbedtls_cipher_free(&g.cipher);
                record(what, names[impl], records * RECORD / 1e6, "MB/s", impl == in_use);
            }
        }
    }
    mbedtls_stream_gcm_accel_select(-1);
}

/* ---- ECDSA P-256 ---------------------------------------------------------------------- */

typedef struct {
    mbedtls_ecdsa_context key;
    unsigned char hash[32];
    mbedtls_mpi r, s;
} p256_signature;

static int p256_verify_once(void *context)
{
    p256_signature *v = context;
    return mbedtls_ecdsa_verify(&v->key.grp, v->hash, sizeof(v->hash), &v->key.Q, &v->r, &v->s);
}

static int p256_sign_once(void *context)
{
    p256_signature *v = context;
    unsigned char signature[MBEDTLS_ECDSA_MAX_LEN];
    size_t length = 0;
    return mbedtls_ecdsa_write_signature(&v->key, MBEDTLS_MD_SHA256, v->hash, sizeof(v->hash),
                                         signature, sizeof(signature), &length,
                                         mbedtls_ctr_drbg_random, &drbg);
}

/* A P-256 key and its signature of a random 32-byte hash. */
static void p256_signature_make(p256_signature *v)
{
    int ret;
    mbedtls_ecdsa_init(&v->key);
    mbedtls_mpi_init(&v->r);
    mbedtls_mpi_init(&v->s);
    if ((ret = mbedtls_ecdsa_genkey(&v->key, MBEDTLS_ECP_DP_SECP256R1, mbedtls_ctr_drbg_random,
                                    &drbg)) != 0 ||
        (ret = mbedtls_ctr_drbg_random(&drbg, v->hash, sizeof(v->hash))) != 0 ||
        (ret = mbedtls_ecdsa_sign(&v->key.grp, &v->r, &v->s, &v->key.d, v->hash, sizeof(v->hash),
                                  mbedtls_ctr_drbg_random, &drbg)) != 0) {
        fail("ECDSA P-256", "setup", ret);
    }
}

static void p256_signature_free(p256_signature *v)
{
    mbedtls_mpi_free(&v->r);
    mbedtls_mpi_free(&v->s);
    mbedtls_ecdsa_free(&v->key);
}

static void measure_p256_verify(void)
{
    static const char *what = "ECDSA P-256 verify";
    p256_signature v;
    p256_signature_make(&v);
    for (int fast = 0; fast <= 1; fast++) {
        const char *implementation = fast ? "ours" : "stock";
        mst_p256_fast_path = fast;
        unsigned long before = mst_p256_verify_count();
        double rate = calls_per_second(p256_verify_once, &v, 1, what, implementation);
        /* Ours counts every verification it does; the stock path none. */
        if ((mst_p256_verify_count() != before) != fast) {
            fprintf(stderr, "crypto_bench: %s: the %s path was not the one taken\n", what,
                    implementation);
            exit(1);
        }
        record(what, implementation, rate, "verifications/s", fast);
    }
    mst_p256_fast_path = 1;
    p256_signature_free(&v);
}

static void measure_p256_sign(void)
{
    static const char *what = "ECDSA P-256 sign";
    p256_signature v;
    p256_signature_make(&v);
    record(what, "stock", calls_per_second(p256_sign_once, &v, 1, what, "stock"),
           "signatures/s", true);
    p256_signature_free(&v);
}

/* ---- X25519 ---------------------------------------------------------------------------- */

typedef struct {
    mbedtls_ecp_group grp;
    mbedtls_mpi d, z;     /* our private key, the shared secret */
    mbedtls_ecp_point Q;  /* the peer's public key */
} x25519_exchange;

static int x25519_once(void *context)
{
    x25519_exchange *x = context;
    return mbedtls_ecdh_compute_shared(&x->grp, &x->z, &x->Q, &x->d, mbedtls_ctr_drbg_random,
                                       &drbg);
}

static void measure_x25519(void)
{
    static const char *what = "X25519";
    x25519_exchange x;
    mbedtls_mpi peer_d, secret[2];
    int ret;
    mbedtls_ecp_group_init(&x.grp);
    mbedtls_mpi_init(&x.d);
    mbedtls_mpi_init(&x.z);
    mbedtls_ecp_point_init(&x.Q);
    mbedtls_mpi_init(&peer_d);
    mbedtls_mpi_init(&secret[0]);
    mbedtls_mpi_init(&secret[1]);
    mbedtls_ecp_point my_public;
    mbedtls_ecp_point_init(&my_public);
    if ((ret = mbedtls_ecp_group_load(&x.grp, MBEDTLS_ECP_DP_CURVE25519)) != 0 ||
        (ret = mbedtls_ecdh_gen_public(&x.grp, &x.d, &my_public, mbedtls_ctr_drbg_random,
                                       &drbg)) != 0 ||
        (ret = mbedtls_ecdh_gen_public(&x.grp, &peer_d, &x.Q, mbedtls_ctr_drbg_random,
                                       &drbg)) != 0) {
        fail(what, "setup", ret);
    }
    for (int hacl = 0; hacl <= 1; hacl++) {
        const char *implementation = hacl ? "hacl" : "stock";
        mst_x25519_hacl = hacl;
        unsigned long before = mst_x25519_count();
        double rate = calls_per_second(x25519_once, &x, 1, what, implementation);
        if ((mst_x25519_count() != before) != hacl) {
            fprintf(stderr, "crypto_bench: %s: the %s path was not the one taken\n", what,
                    implementation);
            exit(1);
        }
        if ((ret = mbedtls_mpi_copy(&secret[hacl], &x.z)) != 0) {
            fail(what, implementation, ret);
        }
        record(what, implementation, rate, "multiplications/s", hacl);
    }
    mst_x25519_hacl = 1;
    if (mbedtls_mpi_cmp_mpi(&secret[0], &secret[1]) != 0) {
        fprintf(stderr, "crypto_bench: %s: the two implementations disagree\n", what);
        exit(1);
    }
    mbedtls_ecp_point_free(&my_public);
    mbedtls_mpi_free(&secret[0]);
    mbedtls_mpi_free(&secret[1]);
    mbedtls_mpi_free(&peer_d);
    mbedtls_ecp_point_free(&x.Q);
    mbedtls_mpi_free(&x.z);
    mbedtls_mpi_free(&x.d);
    mbedtls_ecp_group_free(&x.grp);
}

/* ---- Output ------------------------------------------------------------------------------ */

static void print_json(void)
{
    printf("[\n");
    for (size_t i = 0; i < figure_count; i++) {
        const figure *f = &figures[i];
        printf("  {\"what\": \"%s\", \"implementation\": \"%s\", \"value\": %.1f, "
               "\"unit\": \"%s\", \"in_use\": %s}%s\n",
               f->what, f->implementation, f->value, f->unit, f->in_use ? "true" : "false",
               i + 1 < figure_count ? "," : "");
    }
    printf("]\n");
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        char *end;
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if ((seconds_per_figure = strtod(argv[i], &end)) <= 0 || *end != '\0') {
            fprintf(stderr, "usage: crypto_bench [--json] [SECONDS-PER-FIGURE]\n");
            return 2;
        }
    }
    mbedtls_entropy_context entropy;
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    int ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                                    (const unsigned char *) "crypto_bench", 12);
    if (ret != 0) {
        fail("random generator", "setup", ret);
    }
    if (!json) {
        printf("crypto_bench: %.2f s of CPU time per figure; * = what TLS uses here by default\n",
               seconds_per_figure);
        printf("%-20s   %-6s %12s  %s\n", "what", "impl", "value", "unit");
    }
    measure_gcm();
    measure_p256_verify();
    measure_x25519();
    measure_p256_sign();
    if (json) {
        print_json();
    }
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    return 0;
}
