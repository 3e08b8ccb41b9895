/*
 * gcm_test.c: checks of our multi-block AES-GCM (deps/accel/, hooked into Mbed TLS's GCM by
 * deps/patches/0020-gcm-multi-block-aes-ni.patch), run by test/c/run.js.
 *
 *   gcm_test SUITES_DIR [NAME-FILTER]
 *
 * SUITES_DIR is deps/mbedtls/tests/suites of the fetched tree. Two kinds of check, each run
 * for every implementation the CPU has (Mbed TLS's stock code, AES-NI, VAES; chosen with
 * mbedtls_stream_gcm_accel_select(), and each context checked to really be on that path):
 *   - Mbed TLS's own GCM test data (test_suite_gcm.aes{128,192,256}_{en,de}.data), parsed
 *     here at run time: tags, ciphertexts, plaintexts, refusals of bad tags and parameters,
 *     in place, and split at every point of the data;
 *   - a differential test against the stock code: random keys (128/192/256 bits), IVs of 12
 *     bytes and of other lengths, AAD, lengths 0 to 70,000, updates split at random points,
 *     encryption and decryption, output in place or overlapping the input from before,
 *     flipped bits in the tag, the ciphertext or the AAD (both refuse alike), and counters
 *     that wrap modulo 2^32.
 * The random seed is printed; GCM_TEST_SEED=N repeats a run. The last line is
 * "gcm: N passed, N failed" (a path the CPU lacks is printed as skipped, not counted).
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include "mbedtls/gcm.h"
#include "gcm_accel.h"
#include "mbedtls/cipher.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *suites_dir;
static int passed, failed, skipped;
static bool current_failed;
static int failures_printed;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            current_failed = true;                                              \
            if (failures_printed++ < 20) {                                      \
                printf("  %s:%d: %s: ", __FILE__, __LINE__, #cond);             \
                printf(__VA_ARGS__);                                            \
                printf("\n");                                                   \
            }                                                                   \
        }                                                                       \
    } while (0)

static const char *impl_names[] = { "stock", "aesni", "vaes" };

/* Sets the path for keys set from now on; false when the CPU lacks it. */
static bool use_impl(int impl)
{
    return mbedtls_stream_gcm_accel_select(impl) == impl;
}

/* ---- Random numbers (splitmix64): deterministic per seed ---------------------------- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static size_t rng_below(size_t n)
{
    return n == 0 ? 0 : (size_t) (rng_next() % n);
}

static void rng_fill(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (unsigned char) rng_next();
    }
}

/* ---- Mbed TLS's test data ----------------------------------------------------------- */

typedef struct {
    unsigned char *x;
    size_t len;
} blob;

#define MAX_ARGS 12

typedef struct {
    char *function;
    int argc;
    char *args[MAX_ARGS];
} test_case;

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* A quoted hex argument ("00ff..") into bytes (never NULL: malloc(1) when empty). */
static blob parse_hex(const char *arg)
{
    blob b = { NULL, 0 };
    size_t n = strlen(arg);
    if (n >= 2 && arg[0] == '"' && arg[n - 1] == '"') {
        arg++;
        n -= 2;
    }
    b.x = malloc(n / 2 + 1);
    for (size_t i = 0; i + 1 < n; i += 2) {
        b.x[i / 2] = (unsigned char) (hex_value(arg[i]) << 4 | hex_value(arg[i + 1]));
    }
    b.len = n / 2;
    return b;
}

/* A string argument without its quotes ("FAIL", ""). */
static const char *parse_string(char *arg)
{
    size_t n = strlen(arg);
    if (n >= 2 && arg[0] == '"' && arg[n - 1] == '"') {
        arg[n - 1] = '\0';
        return arg + 1;
    }
    return arg;
}

/* The symbolic and numeric integer arguments the GCM suites use. */
static bool parse_int(const char *arg, int *value)
{
    static const struct { const char *name; int value; } names[] = {
        { "MBEDTLS_CIPHER_ID_AES", MBEDTLS_CIPHER_ID_AES },
        { "MBEDTLS_GCM_ENCRYPT", MBEDTLS_GCM_ENCRYPT },
        { "MBEDTLS_GCM_DECRYPT", MBEDTLS_GCM_DECRYPT },
        { "MBEDTLS_ERR_GCM_BAD_INPUT", MBEDTLS_ERR_GCM_BAD_INPUT },
        { "MBEDTLS_ERR_GCM_AUTH_FAILED", MBEDTLS_ERR_GCM_AUTH_FAILED },
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(arg, names[i].name) == 0) {
            *value = names[i].value;
            return true;
        }
    }
    char *end;
    long v = strtol(arg, &end, 0);
    if (*arg == '\0' || *end != '\0') {
        return false;
    }
    *value = (int) v;
    return true;
}

/* Splits "function:arg:arg..." in place. Arguments are quoted hex or identifiers. */
static bool parse_case(char *line, test_case *tc)
{
    tc->argc = 0;
    tc->function = line;
    char *p = strchr(line, ':');
    if (p == NULL) {
        return false;
    }
    *p++ = '\0';
    while (*p != '\0' && tc->argc < MAX_ARGS) {
        tc->args[tc->argc++] = p;
        bool quoted = false;
        while (*p != '\0' && (quoted || *p != ':')) {
            if (*p == '"') {
                quoted = !quoted;
            }
            p++;
        }
        if (*p == ':') {
            *p++ = '\0';
        }
    }
    return true;
}

/* Sets the key and checks that the context is on the path being tested. */
static int setkey_on(mbedtls_gcm_context *ctx, int impl, int cipher, const blob *key)
{
    int ret = mbedtls_gcm_setkey(ctx, (mbedtls_cipher_id_t) cipher, key->x,
                                 (unsigned int) key->len * 8);
    if (ret == 0) {
        CHECK(ctx->stream_accel == impl, "context on path %d, wanted %s",
              ctx->stream_accel, impl_names[impl]);
    }
    return ret;
}

/* Encrypts or decrypts in two data updates split at `split` and AAD split at `ad_split`;
 * returns the tag in `tag`. */
static int crypt_split(mbedtls_gcm_context *ctx, int mode, const blob *iv, const blob *ad,
                       size_t ad_split, const unsigned char *in, size_t len, size_t split,
                       unsigned char *out, unsigned char *tag, size_t tag_len)
{
    size_t olen;
    int ret = mbedtls_gcm_starts(ctx, mode, iv->x, iv->len);
    if (ret == 0) {
        ret = mbedtls_gcm_update_ad(ctx, ad->x, ad_split);
    }
    if (ret == 0) {
        ret = mbedtls_gcm_update_ad(ctx, ad->x + ad_split, ad->len - ad_split);
    }
    if (ret == 0) {
        ret = mbedtls_gcm_update(ctx, in, split, out, split, &olen);
    }
    if (ret == 0) {
        ret = mbedtls_gcm_update(ctx, in + split, len - split, out + split, len - split, &olen);
    }
    if (ret == 0) {
        ret = mbedtls_gcm_finish(ctx, NULL, 0, &olen, tag, tag_len);
    }
    return ret;
}

typedef struct {
    int cases;
    int unknown;
} vector_counts;

/* One case of the suite data through the path `impl`. */
static void run_vector(int impl, test_case *tc, vector_counts *counts)
{
    const char *f = tc->function;
    mbedtls_gcm_context ctx;
    mbedtls_gcm_init(&ctx);
    blob b[MAX_ARGS] = { { NULL, 0 } };
    int iv_arg = 0;
    counts->cases++;

#define HEX(i) (b[i] = parse_hex(tc->args[i]), &b[i])
#define INT(i, v) CHECK(tc->argc > (i) && parse_int(tc->args[i], &(v)), "%s: bad argument %d", f, (i))

    bool encrypt_case = strcmp(f, "gcm_encrypt_and_tag") == 0 ||
                        strcmp(f, "gcm_encrypt_input_output_buffer_overlap") == 0;
    bool decrypt_case = strcmp(f, "gcm_decrypt_and_verify") == 0 ||
                        strcmp(f, "gcm_decrypt_input_output_buffer_overlap") == 0;
    if ((encrypt_case && tc->argc == 9) || (decrypt_case && tc->argc == 10)) {
        /* (cipher, key, src, iv, add, dst, tag_bits, tag, init_result) or
         * (cipher, key, src, iv, add, tag_bits, tag, result, pt, init_result) */
        int cipher = 0, tag_bits = 0, init_result = 0;
        INT(0, cipher);
        const blob *key = HEX(1), *src = HEX(2), *iv = HEX(3), *ad = HEX(4);
        const blob *expect, *tag;
        bool refuse = false;
        if (encrypt_case) {
            expect = HEX(5);
            INT(6, tag_bits);
            tag = HEX(7);
            INT(8, init_result);
        } else {
            INT(5, tag_bits);
            tag = HEX(6);
            refuse = strcmp(parse_string(tc->args[7]), "FAIL") == 0;
            expect = HEX(8);
            INT(9, init_result);
        }
        iv_arg = 3;
        size_t tag_len = (size_t) tag_bits / 8;
        bool in_place = strstr(f, "overlap") != NULL;
        int ret = setkey_on(&ctx, impl, cipher, key);
        CHECK(ret == init_result, "%s: setkey -0x%04x", f, (unsigned) -ret);
        if (ret != 0) {
            goto done;
        }
        unsigned char *out = malloc(src->len + 1);
        unsigned char got_tag[16];
        memcpy(out, src->x, src->len);
        const unsigned char *in = in_place ? out : src->x;
        if (encrypt_case) {
            ret = mbedtls_gcm_crypt_and_tag(&ctx, MBEDTLS_GCM_ENCRYPT, src->len, iv->x, iv->len,
                                            ad->x, ad->len, in, out, tag_len, got_tag);
            CHECK(ret == 0, "%s: encrypt -0x%04x", f, (unsigned) -ret);
            CHECK(memcmp(out, expect->x, expect->len) == 0 && expect->len == src->len,
                  "%s: ciphertext differs (%zu bytes)", f, src->len);
            CHECK(memcmp(got_tag, tag->x, tag_len) == 0, "%s: tag differs", f);
        } else {
            ret = mbedtls_gcm_auth_decrypt(&ctx, src->len, iv->x, iv->len, ad->x, ad->len,
                                           tag->x, tag_len, in, out);
            if (refuse) {
                CHECK(ret == MBEDTLS_ERR_GCM_AUTH_FAILED, "%s: bad tag accepted (%d)", f, ret);
            } else {
                CHECK(ret == 0, "%s: decrypt -0x%04x", f, (unsigned) -ret);
                CHECK(memcmp(out, expect->x, expect->len) == 0 && expect->len == src->len,
                      "%s: plaintext differs", f);
            }
        }
        /* Split at every point of the data (the AAD at its middle), as Mbed TLS's own
         * multipart check does. */
        if (!refuse && !in_place) {
            int mode = encrypt_case ? MBEDTLS_GCM_ENCRYPT : MBEDTLS_GCM_DECRYPT;
            for (size_t split = 0; split <= src->len; split++) {
                ret = crypt_split(&ctx, mode, iv, ad, ad->len / 2, src->x, src->len, split, out,
                                  got_tag, tag_len);
                CHECK(ret == 0 && memcmp(out, expect->x, src->len) == 0 &&
                      memcmp(got_tag, tag->x, tag_len) == 0,
                      "%s: split at %zu differs", f, split);
            }
        }
        free(out);
    } else if ((strcmp(f, "gcm_encrypt_and_tag_empty_cipher") == 0 ||
                strcmp(f, "gcm_decrypt_and_verify_empty_cipher") == 0) && tc->argc == 6) {
        /* (cipher, key, iv, add, tag, update_calls) */
        int cipher = 0, calls = 0;
        INT(0, cipher);
        INT(5, calls);
        const blob *key = HEX(1), *iv = HEX(2), *ad = HEX(3), *tag = HEX(4);
        iv_arg = 2;
        int mode = strstr(f, "encrypt") ? MBEDTLS_GCM_ENCRYPT : MBEDTLS_GCM_DECRYPT;
        unsigned char got_tag[16];
        size_t olen;
        CHECK(setkey_on(&ctx, impl, cipher, key) == 0, "%s: setkey", f);
        CHECK(mbedtls_gcm_starts(&ctx, mode, iv->x, iv->len) == 0, "%s: starts", f);
        CHECK(mbedtls_gcm_update_ad(&ctx, ad->x, ad->len) == 0, "%s: update_ad", f);
        for (int i = 0; i < calls; i++) {
            CHECK(mbedtls_gcm_update(&ctx, NULL, 0, NULL, 0, &olen) == 0, "%s: update", f);
        }
        CHECK(mbedtls_gcm_finish(&ctx, NULL, 0, &olen, got_tag, tag->len) == 0, "%s: finish", f);
        CHECK(memcmp(got_tag, tag->x, tag->len) == 0, "%s: tag differs", f);
    } else if ((strcmp(f, "gcm_encrypt_and_tag_empty_ad") == 0 ||
                strcmp(f, "gcm_decrypt_and_verify_empty_ad") == 0) && tc->argc == 7) {
        /* (cipher, key, iv, src, dst, tag, ad_update_calls) to encrypt,
         * (cipher, key, iv, src, tag, pt, ad_update_calls) to decrypt */
        int cipher = 0, calls = 0;
        INT(0, cipher);
        INT(6, calls);
        int mode = strstr(f, "encrypt") ? MBEDTLS_GCM_ENCRYPT : MBEDTLS_GCM_DECRYPT;
        bool enc = mode == MBEDTLS_GCM_ENCRYPT;
        const blob *key = HEX(1), *iv = HEX(2), *src = HEX(3);
        const blob *expect = HEX(enc ? 4 : 5), *tag = HEX(enc ? 5 : 4);
        iv_arg = 2;
        unsigned char got_tag[16];
        unsigned char *out = malloc(src->len + 1);
        size_t olen;
        CHECK(setkey_on(&ctx, impl, cipher, key) == 0, "%s: setkey", f);
        CHECK(mbedtls_gcm_starts(&ctx, mode, iv->x, iv->len) == 0, "%s: starts", f);
        for (int i = 0; i < calls; i++) {
            CHECK(mbedtls_gcm_update_ad(&ctx, NULL, 0) == 0, "%s: update_ad", f);
        }
        CHECK(mbedtls_gcm_update(&ctx, src->x, src->len, out, src->len, &olen) == 0, "%s: update", f);
        CHECK(mbedtls_gcm_finish(&ctx, NULL, 0, &olen, got_tag, tag->len) == 0, "%s: finish", f);
        CHECK(memcmp(out, expect->x, expect->len) == 0, "%s: output differs", f);
        CHECK(memcmp(got_tag, tag->x, tag->len) == 0, "%s: tag differs", f);
        free(out);
    } else if ((strcmp(f, "gcm_encrypt_and_verify_no_ad_no_cipher") == 0 ||
                strcmp(f, "gcm_decrypt_and_verify_no_ad_no_cipher") == 0) && tc->argc == 4) {
        /* (cipher, key, iv, tag) */
        int cipher = 0;
        INT(0, cipher);
        const blob *key = HEX(1), *iv = HEX(2), *tag = HEX(3);
        iv_arg = 2;
        int mode = strstr(f, "encrypt") ? MBEDTLS_GCM_ENCRYPT : MBEDTLS_GCM_DECRYPT;
        unsigned char got_tag[16];
        size_t olen;
        CHECK(setkey_on(&ctx, impl, cipher, key) == 0, "%s: setkey", f);
        CHECK(mbedtls_gcm_starts(&ctx, mode, iv->x, iv->len) == 0, "%s: starts", f);
        CHECK(mbedtls_gcm_finish(&ctx, NULL, 0, &olen, got_tag, tag->len) == 0, "%s: finish", f);
        CHECK(memcmp(got_tag, tag->x, tag->len) == 0, "%s: tag differs", f);
    } else if (strcmp(f, "gcm_bad_parameters") == 0 && tc->argc == 8) {
        /* (cipher, direction, key, src, iv, add, tag_bits, result) */
        int cipher = 0, direction = 0, tag_bits = 0, result = 0;
        INT(0, cipher);
        INT(1, direction);
        INT(6, tag_bits);
        INT(7, result);
        const blob *key = HEX(2), *src = HEX(3), *iv = HEX(4), *ad = HEX(5);
        unsigned char out[128], got_tag[16];
        CHECK(src->len <= sizeof(out), "%s: input too long", f);
        CHECK(setkey_on(&ctx, impl, cipher, key) == 0, "%s: setkey", f);
        int ret = mbedtls_gcm_crypt_and_tag(&ctx, direction, src->len, iv->x, iv->len, ad->x,
                                            ad->len, src->x, out, (size_t) tag_bits / 8, got_tag);
        CHECK(ret == result, "%s: got -0x%04x, want -0x%04x", f, (unsigned) -ret, (unsigned) -result);
    } else if (strcmp(f, "gcm_update_output_buffer_too_small") == 0 && tc->argc == 5) {
        /* (cipher, mode, key, input, iv) */
        int cipher = 0, mode = 0;
        INT(0, cipher);
        INT(1, mode);
        const blob *key = HEX(2), *src = HEX(3), *iv = HEX(4);
        unsigned char *out = malloc(src->len + 1);
        size_t olen;
        CHECK(setkey_on(&ctx, impl, cipher, key) == 0, "%s: setkey", f);
        CHECK(mbedtls_gcm_starts(&ctx, mode, iv->x, iv->len) == 0, "%s: starts", f);
        CHECK(mbedtls_gcm_update(&ctx, src->x, src->len, out, src->len - 1, &olen) ==
              MBEDTLS_ERR_GCM_BUFFER_TOO_SMALL, "%s: a too small output accepted", f);
        free(out);
    } else {
        /* gcm_selftest: Mbed TLS's self-test, not a vector (MBEDTLS_SELF_TEST is off). */
        counts->unknown++;
        counts->cases--;
    }
    (void) iv_arg;
done:
    for (int i = 0; i < MAX_ARGS; i++) {
        free(b[i].x);
    }
    mbedtls_gcm_free(&ctx);
#undef HEX
#undef INT
}

static void run_suite_file(int impl, const char *file)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", suites_dir, file);
    FILE *fp = fopen(path, "r");
    CHECK(fp != NULL, "cannot open %s (run deps/fetch-mbedtls.sh)", path);
    if (fp == NULL) {
        return;
    }
    vector_counts counts = { 0, 0 };
    static char line[1 << 16];
    while (fgets(line, sizeof(line), fp) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        /* A case is: description, optional depends_on line, the call. */
        if (strncmp(line, "gcm_", 4) != 0) {
            continue;
        }
        test_case tc;
        if (parse_case(line, &tc)) {
            run_vector(impl, &tc, &counts);
        }
    }
    fclose(fp);
    /* The suites hold hundreds of cases: a parse that finds few means a format change. */
    CHECK(counts.cases >= 300, "%s: only %d cases run", file, counts.cases);
    printf("  %s: %d cases through %s (%d not vectors)\n", file, counts.cases,
           impl_names[impl], counts.unknown);
}

/* ---- Differential test against the stock code -------------------------------------- */

/* A length from 0 to 70,000 that favours the edges: around block and step multiples, and
 * TLS record sizes. */
static size_t random_length(void)
{
    switch (rng_below(6)) {
        case 0:
            return rng_below(48);
        case 1:
            return 16 * rng_below(40) + rng_below(3) - (rng_below(2) ? 1 : 0) + 1;
        case 2:
            return rng_below(1024);
        case 3:
            return 16384 + rng_below(300) - 150;
        case 4:
            return rng_below(70001);
        default:
            return 256 * (1 + rng_below(8)) + rng_below(32);
    }
}

/* Cuts [0, len) at up to `max_pieces - 1` random points, in increasing order. */
static size_t random_cuts(size_t len, size_t *cuts, size_t max_pieces)
{
    size_t n = 1 + rng_below(max_pieces);
    for (size_t i = 0; i + 1 < n; i++) {
        cuts[i] = rng_below(len + 1);
    }
    /* Insertion sort: n is small. */
    for (size_t i = 1; i + 1 < n; i++) {
        for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
            size_t t = cuts[j];
            cuts[j] = cuts[j - 1];
            cuts[j - 1] = t;
        }
    }
    cuts[n - 1] = len;
    return n;
}

typedef struct {
    unsigned int keybits;
    unsigned char key[32];
    unsigned char iv[80];
    size_t iv_len;
    unsigned char *ad;
    size_t ad_len;
    unsigned char *in;
    size_t len;
    size_t tag_len;
    /* When non-zero: the counter's last 32 bits are set to this after starts(). */
    uint32_t counter_start;
} gcm_case;

/*
 * Runs one operation of `gc` on a fresh context on path `impl`, the data and the AAD fed in
 * random pieces; the output goes at `out` (which may be, or overlap, the input). Returns
 * Mbed TLS's result; the tag goes to `tag`.
 */
static int run_case(int impl, const gcm_case *gc, int mode, const unsigned char *in,
                    unsigned char *out, unsigned char *tag, bool split)
{
    mbedtls_gcm_context ctx;
    mbedtls_gcm_init(&ctx);
    size_t olen, cuts[8];
    use_impl(impl);
    int ret = mbedtls_gcm_setkey(&ctx, MBEDTLS_CIPHER_ID_AES, gc->key, gc->keybits);
    if (ret == 0) {
        CHECK(ctx.stream_accel == impl, "context on path %d, wanted %s",
              ctx.stream_accel, impl_names[impl]);
        ret = mbedtls_gcm_starts(&ctx, mode, gc->iv, gc->iv_len);
    }
    if (ret == 0 && gc->counter_start != 0) {
        ctx.y[12] = (unsigned char) (gc->counter_start >> 24);
        ctx.y[13] = (unsigned char) (gc->counter_start >> 16);
        ctx.y[14] = (unsigned char) (gc->counter_start >> 8);
        ctx.y[15] = (unsigned char) gc->counter_start;
    }
    size_t n = split ? random_cuts(gc->ad_len, cuts, 4) : (cuts[0] = gc->ad_len, 1);
    for (size_t i = 0, from = 0; ret == 0 && i < n; from = cuts[i], i++) {
        ret = mbedtls_gcm_update_ad(&ctx, gc->ad + from, cuts[i] - from);
    }
    n = split ? random_cuts(gc->len, cuts, 8) : (cuts[0] = gc->len, 1);
    for (size_t i = 0, from = 0; ret == 0 && i < n; from = cuts[i], i++) {
        ret = mbedtls_gcm_update(&ctx, in + from, cuts[i] - from, out + from,
                                 cuts[i] - from, &olen);
        if (ret == 0) {
            CHECK(olen == cuts[i] - from, "update wrote %zu of %zu", olen, cuts[i] - from);
        }
    }
    if (ret == 0) {
        ret = mbedtls_gcm_finish(&ctx, NULL, 0, &olen, tag, gc->tag_len);
    }
    mbedtls_gcm_free(&ctx);
    return ret;
}

/* Authenticated decryption in one call, as the TLS record layer does it. */
static int auth_decrypt(int impl, const gcm_case *gc, const unsigned char *tag,
                        const unsigned char *in, unsigned char *out)
{
    mbedtls_gcm_context ctx;
    mbedtls_gcm_init(&ctx);
    use_impl(impl);
    int ret = mbedtls_gcm_setkey(&ctx, MBEDTLS_CIPHER_ID_AES, gc->key, gc->keybits);
    if (ret == 0) {
        CHECK(ctx.stream_accel == impl, "context on path %d, wanted %s",
              ctx.stream_accel, impl_names[impl]);
        ret = mbedtls_gcm_auth_decrypt(&ctx, gc->len, gc->iv, gc->iv_len, gc->ad, gc->ad_len,
                                       tag, gc->tag_len, in, out);
    }
    mbedtls_gcm_free(&ctx);
    return ret;
}

static void describe(const gcm_case *gc, const char *what)
{
    printf("    case: AES-%u, IV %zu bytes, AAD %zu, data %zu, tag %zu, counter %08" PRIx32 ": %s\n",
           gc->keybits, gc->iv_len, gc->ad_len, gc->len, gc->tag_len, gc->counter_start, what);
}

/* Compares path `impl` with the stock code on one random case; false on a difference. */
static bool differential_case(int impl, gcm_case *gc)
{
    bool ok = true;
    size_t len = gc->len;
    /* Room for an output placed before the input in the same buffer. */
    unsigned char *ref_ct = malloc(len + 1), *ref_pt = malloc(len + 1);
    unsigned char *buffer = malloc(len + 64), *ct = malloc(len + 1);
    unsigned char ref_tag[16], tag[16];

#define DIFF(cond, what)            \
    do {                            \
        if (!(cond)) {              \
            CHECK(cond, "%s", what); \
            describe(gc, what);     \
            ok = false;             \
            goto out;               \
        }                           \
    } while (0)

    int ret = run_case(MBEDTLS_STREAM_GCM_STOCK, gc, MBEDTLS_GCM_ENCRYPT, gc->in, ref_ct, ref_tag, false);
    DIFF(ret == 0, "stock encryption failed");

    /* Encryption, split at random points, into a separate buffer. */
    ret = run_case(impl, gc, MBEDTLS_GCM_ENCRYPT, gc->in, ct, tag, true);
    DIFF(ret == 0, "encryption failed");
    DIFF(memcmp(ct, ref_ct, len) == 0, "ciphertext differs");
    DIFF(memcmp(tag, ref_tag, gc->tag_len) == 0, "tag differs");

    /* Encryption in place, or with the output starting up to 40 bytes before the input. */
    size_t shift = rng_below(2) ? 0 : 1 + rng_below(40);
    memcpy(buffer + shift, gc->in, len);
    ret = run_case(impl, gc, MBEDTLS_GCM_ENCRYPT, buffer + shift, buffer, tag, true);
    DIFF(ret == 0, "overlapping encryption failed");
    DIFF(memcmp(buffer, ref_ct, len) == 0, "overlapping ciphertext differs");
    DIFF(memcmp(tag, ref_tag, gc->tag_len) == 0, "overlapping tag differs");

    /* Decryption, split, back to the plaintext and the same tag. */
    ret = run_case(impl, gc, MBEDTLS_GCM_DECRYPT, ref_ct, ref_pt, tag, true);
    DIFF(ret == 0, "decryption failed");
    DIFF(memcmp(ref_pt, gc->in, len) == 0, "decryption does not give the plaintext back");
    DIFF(memcmp(tag, ref_tag, gc->tag_len) == 0, "decryption's tag differs");

    if (gc->counter_start == 0) {
        /* One-call authenticated decryption, in place or overlapping. */
        shift = rng_below(2) ? 0 : 1 + rng_below(40);
        memcpy(buffer + shift, ref_ct, len);
        ret = auth_decrypt(impl, gc, ref_tag, buffer + shift, buffer);
        DIFF(ret == 0, "authenticated decryption refused a good tag");
        DIFF(memcmp(buffer, gc->in, len) == 0, "authenticated decryption's plaintext differs");

        /* A flipped bit in the tag, the ciphertext or the AAD: both paths refuse, and both
         * wipe the output. */
        int where = (int) rng_below(3);
        if (where == 1 && len == 0) {
            where = 0;
        }
        if (where == 2 && gc->ad_len == 0) {
            where = 0;
        }
        unsigned char bad_tag[16];
        memcpy(bad_tag, ref_tag, sizeof(bad_tag));
        memcpy(ct, ref_ct, len);
        size_t at = 0;
        unsigned char bit = (unsigned char) (1u << rng_below(8));
        if (where == 0) {
            bad_tag[at = rng_below(gc->tag_len)] ^= bit;
        } else if (where == 1) {
            ct[at = rng_below(len)] ^= bit;
        } else {
            gc->ad[at = rng_below(gc->ad_len)] ^= bit;
        }
        int results[2];
        for (int k = 0; k < 2; k++) {
            int path = k == 0 ? MBEDTLS_STREAM_GCM_STOCK : impl;
            memset(buffer, 0xA5, len);
            results[k] = auth_decrypt(path, gc, bad_tag, ct, buffer);
            bool wiped = true;
            for (size_t i = 0; i < len; i++) {
                wiped = wiped && buffer[i] == 0;
            }
            DIFF(wiped, "a refused decryption left output");
        }
        if (where == 2) {
            gc->ad[at] ^= bit;
        }
        DIFF(results[0] == MBEDTLS_ERR_GCM_AUTH_FAILED, "stock code accepted a flipped bit");
        DIFF(results[1] == MBEDTLS_ERR_GCM_AUTH_FAILED, "a flipped bit accepted");
    }
out:
    free(ref_ct);
    free(ref_pt);
    free(buffer);
    free(ct);
    return ok;
#undef DIFF
}

static void random_case(gcm_case *gc, unsigned char *ad_buf, unsigned char *data_buf)
{
    static const unsigned int keybits[] = { 128, 192, 256 };
    gc->keybits = keybits[rng_below(3)];
    rng_fill(gc->key, sizeof(gc->key));
    /* 12 bytes (TLS) most often; else 1 to 80 bytes (GHASH-derived counters). */
    gc->iv_len = rng_below(3) ? 12 : 1 + rng_below(80);
    rng_fill(gc->iv, sizeof(gc->iv));
    gc->ad_len = rng_below(4) == 0 ? rng_below(600) : rng_below(30);
    gc->ad = ad_buf;
    rng_fill(gc->ad, gc->ad_len);
    gc->len = random_length();
    gc->in = data_buf;
    rng_fill(gc->in, gc->len);
    gc->tag_len = rng_below(3) ? 16 : 4 + rng_below(13);
    gc->counter_start = 0;
}

static void differential(int impl)
{
    unsigned char *ad_buf = malloc(600), *data_buf = malloc(70001);
    gcm_case gc;
    int cases = 0, bytes = 0;
    for (int i = 0; i < 300 && !current_failed; i++) {
        random_case(&gc, ad_buf, data_buf);
        differential_case(impl, &gc);
        cases++;
        bytes += (int) gc.len;
    }
    /* Every length around the step sizes (8 and 16 blocks) and 0 to 3 steps. */
    for (size_t len = 0; len <= 16 * 50 && !current_failed; len++) {
        random_case(&gc, ad_buf, data_buf);
        gc.len = len;
        rng_fill(data_buf, gc.len); /* random_case filled only its own, maybe shorter, length */
        differential_case(impl, &gc);
        cases++;
    }
    printf("  %d random cases (%d bytes of long data) through %s\n", cases, bytes, impl_names[impl]);
    free(ad_buf);
    free(data_buf);
}

/* Counters that wrap modulo 2^32 (possible with IVs of other lengths than 12 bytes). */
static void counter_wrap(int impl)
{
    unsigned char *ad_buf = malloc(600), *data_buf = malloc(70001);
    gcm_case gc;
    for (int i = 0; i < 200 && !current_failed; i++) {
        random_case(&gc, ad_buf, data_buf);
        gc.len = rng_below(16 * 40);
        rng_fill(data_buf, gc.len); /* random_case filled only its own, maybe shorter, length */
        gc.counter_start = 0xFFFFFFFFu - (uint32_t) rng_below(40);
        differential_case(impl, &gc);
    }
    free(ad_buf);
    free(data_buf);
}

/* The configuration must reach the library: otherwise every check above compares the
 * stock code with itself. */
static void fast_path_in_build(int impl)
{
    mbedtls_gcm_context ctx;
    unsigned char key[16] = { 0 };
    mbedtls_gcm_init(&ctx);
    CHECK(mbedtls_gcm_setkey(&ctx, MBEDTLS_CIPHER_ID_AES, key, 128) == 0, "setkey");
    CHECK(ctx.stream_accel == impl, "AES key on path %d, wanted %s",
          ctx.stream_accel, impl_names[impl]);
    if (impl != MBEDTLS_STREAM_GCM_STOCK) {
        /* Whole blocks are hashed with this key's fast-path state: spoilt, it spoils the tag. */
        unsigned char iv[12] = { 0 }, data[64] = { 0 }, out[64], stock_out[64];
        unsigned char tag[16], stock_tag[16];
        /* The powers of H are in H[0] .. H[7] (patch 0020). */
        for (int i = 0; i < MBEDTLS_STREAM_GCM_POWERS; i++) {
            ctx.H[i][0] ^= 1;
        }
        CHECK(mbedtls_gcm_crypt_and_tag(&ctx, MBEDTLS_GCM_ENCRYPT, sizeof(data), iv, sizeof(iv),
                                        NULL, 0, data, out, sizeof(tag), tag) == 0, "encrypt");
        mbedtls_gcm_context stock;
        mbedtls_gcm_init(&stock);
        use_impl(MBEDTLS_STREAM_GCM_STOCK);
        CHECK(mbedtls_gcm_setkey(&stock, MBEDTLS_CIPHER_ID_AES, key, 128) == 0, "setkey");
        CHECK(mbedtls_gcm_crypt_and_tag(&stock, MBEDTLS_GCM_ENCRYPT, sizeof(data), iv, sizeof(iv),
                                        NULL, 0, data, stock_out, sizeof(stock_tag), stock_tag) == 0,
              "encrypt");
        CHECK(memcmp(out, stock_out, sizeof(out)) == 0, "the round keys are not Mbed TLS's");
        CHECK(memcmp(tag, stock_tag, sizeof(tag)) != 0,
              "mbedtls_gcm_update() does not call the fast path");
        mbedtls_gcm_free(&stock);
        use_impl(impl);
    }
    /* Another cipher stays on the stock code. */
    CHECK(mbedtls_gcm_setkey(&ctx, MBEDTLS_CIPHER_ID_CAMELLIA, key, 128) != 0 ||
          ctx.stream_accel == MBEDTLS_STREAM_GCM_STOCK, "Camellia key on the AES path");
    mbedtls_gcm_free(&ctx);
}

static void vectors(int impl)
{
    static const char *files[] = {
        "test_suite_gcm.aes128_en.data", "test_suite_gcm.aes128_de.data",
        "test_suite_gcm.aes192_en.data", "test_suite_gcm.aes192_de.data",
        "test_suite_gcm.aes256_en.data", "test_suite_gcm.aes256_de.data",
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        run_suite_file(impl, files[i]);
    }
}

typedef struct {
    const char *name;
    void (*run)(int impl);
} gcm_test;

static const gcm_test tests[] = {
    { "fast_path_in_build", fast_path_in_build },
    { "mbedtls_vectors", vectors },
    { "differential_vs_stock", differential },
    { "counter_wraps_mod_2_32", counter_wrap },
};

int main(int argc, char **argv)
{
    suites_dir = argc > 1 ? argv[1] : "deps/mbedtls/tests/suites";
    const char *only = argc > 2 ? argv[2] : NULL;
    const char *seed_env = getenv("GCM_TEST_SEED");
    uint64_t seed = seed_env ? strtoull(seed_env, NULL, 0) : (uint64_t) time(NULL);
    printf("gcm: seed %" PRIu64 " (GCM_TEST_SEED), CPU has %s\n", seed,
           impl_names[mbedtls_stream_gcm_accel_supported()]);
    for (size_t t = 0; t < sizeof(tests) / sizeof(tests[0]); t++) {
        for (int impl = MBEDTLS_STREAM_GCM_STOCK; impl <= MBEDTLS_STREAM_GCM_VAES; impl++) {
            char name[128];
            snprintf(name, sizeof(name), "%s_%s", tests[t].name, impl_names[impl]);
            if (only != NULL && strstr(name, only) == NULL) {
                continue;
            }
            /* The stock code against itself proves nothing in the differential tests. */
            if (impl == MBEDTLS_STREAM_GCM_STOCK && tests[t].run != vectors &&
                tests[t].run != fast_path_in_build) {
                continue;
            }
            if (!use_impl(impl)) {
                printf("skip %s: the CPU lacks it\n", name);
                skipped++;
                continue;
            }
            rng_state = seed ^ (uint64_t) (t * 16 + (size_t) impl);
            current_failed = false;
            failures_printed = 0;
            tests[t].run(impl);
            printf("%s %s\n", current_failed ? "not ok" : "ok", name);
            if (current_failed) {
                failed++;
            } else {
                passed++;
            }
            fflush(stdout);
        }
    }
    mbedtls_stream_gcm_accel_select(-1);
    printf("gcm: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
