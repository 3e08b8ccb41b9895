/*
 * fuzz_gcm.c: our multi-block AES-GCM (deps/accel/, in Mbed TLS's GCM through patch 0020)
 * against Mbed TLS's stock GCM code on fuzzer-chosen keys, IVs, AAD, data and update splits.
 *
 * Each input is encrypted by every implementation the CPU has (stock, AES-NI, VAES), with
 * the data fed in pieces the input chooses; the ciphertexts and tags must be equal. The
 * stock ciphertext is then decrypted by each (same pieces): the plaintext and tag must come
 * back. Last, one-call authenticated decryption: the right tag accepted by all, a tag with
 * one bit flipped refused by all, with the output wiped. Any difference aborts.
 *
 * Input: byte 0 options
 *          bits 0-1  key size: 0 AES-128, 1 AES-192, 2 and 3 AES-256
 *          bit  2    IV of byte 1 % 64 + 1 bytes (else 12 bytes, as TLS uses)
 *          bit  3    counter set to 2^32 - 1 - byte 5 after starts(): it wraps
 *          bit  4    output starts byte 5 % 33 bytes before the input, in one buffer
 *        byte 1 IV length (with bit 2)
 *        byte 2 AAD length (at most what is left)
 *        byte 3 tag length: 4 + byte % 13
 *        byte 4 seed of the update piece sizes
 *        byte 5 parameter of bits 3 and 4; the flipped tag bit
 *        then 32 bytes of key (as many as the key size takes), the IV, the AAD, the data.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/gcm.h>

#include "gcm_accel.h"

#include "fuzz_common.h"

#define HEADER 6
#define KEY_BYTES 32

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

typedef struct {
    unsigned keybits;
    const uint8_t *key, *iv, *ad, *data;
    size_t iv_len, ad_len, len, tag_len;
    uint8_t split_seed;
    int wrap;
    uint32_t counter;
} gcm_input;

static const char *const names[] = { "stock", "aesni", "vaes" };

static void fail(const gcm_input *in, int impl, const char *what)
{
    fprintf(stderr, "fuzz_gcm: %s: %s (AES-%u, IV %zu, AAD %zu, data %zu, tag %zu)\n",
            names[impl], what, in->keybits, in->iv_len, in->ad_len, in->len, in->tag_len);
    abort();
}

/* The next update piece: sizes from a small generator seeded by the input, 0 included. */
static size_t next_piece(uint32_t *state, size_t remaining)
{
    *state = *state * 1103515245u + 12345u;
    size_t sizes[] = { 0, 1, 15, 16, 17, 127, 128, 255, 256, 300, 4096, (size_t)-1 };
    size_t n = sizes[(*state >> 16) % (sizeof(sizes) / sizeof(sizes[0]))];
    return n < remaining ? n : remaining;
}

static int setkey(mbedtls_gcm_context *ctx, const gcm_input *in, int impl)
{
    mbedtls_stream_gcm_accel_select(impl);
    int ret = mbedtls_gcm_setkey(ctx, MBEDTLS_CIPHER_ID_AES, in->key, in->keybits);
    if (ret != 0 || ctx->stream_accel != impl)
        fail(in, impl, "setkey");
    return ret;
}

/* Multi-part encryption or decryption of `src` to `dst` (which may overlap it from before). */
static void crypt(const gcm_input *in, int impl, int mode, const uint8_t *src, uint8_t *dst,
                  uint8_t tag[16])
{
    mbedtls_gcm_context ctx;
    mbedtls_gcm_init(&ctx);
    size_t olen;
    setkey(&ctx, in, impl);
    if (mbedtls_gcm_starts(&ctx, mode, in->iv, in->iv_len) != 0)
        fail(in, impl, "starts");
    if (in->wrap) {
        ctx.y[12] = (uint8_t)(in->counter >> 24);
        ctx.y[13] = (uint8_t)(in->counter >> 16);
        ctx.y[14] = (uint8_t)(in->counter >> 8);
        ctx.y[15] = (uint8_t)in->counter;
    }
    uint32_t state = in->split_seed;
    size_t done = 0;
    while (done < in->ad_len) {
        size_t n = next_piece(&state, in->ad_len - done);
        if (mbedtls_gcm_update_ad(&ctx, in->ad + done, n) != 0)
            fail(in, impl, "update_ad");
        done += n;
        if (n == 0 && done < in->ad_len) {
            /* An empty piece, then the rest at once: the loop always ends. */
            if (mbedtls_gcm_update_ad(&ctx, in->ad + done, in->ad_len - done) != 0)
                fail(in, impl, "update_ad");
            done = in->ad_len;
        }
    }
    done = 0;
    do {
        size_t n = next_piece(&state, in->len - done);
        if (n == 0)
            n = in->len - done;
        if (mbedtls_gcm_update(&ctx, src + done, n, dst + done, n, &olen) != 0 || olen != n)
            fail(in, impl, "update");
        done += n;
    } while (done < in->len);
    if (mbedtls_gcm_finish(&ctx, NULL, 0, &olen, tag, in->tag_len) != 0)
        fail(in, impl, "finish");
    mbedtls_gcm_free(&ctx);
}

static int auth_decrypt(const gcm_input *in, int impl, const uint8_t *tag, const uint8_t *src,
                        uint8_t *dst)
{
    mbedtls_gcm_context ctx;
    mbedtls_gcm_init(&ctx);
    setkey(&ctx, in, impl);
    int ret = mbedtls_gcm_auth_decrypt(&ctx, in->len, in->iv, in->iv_len, in->ad, in->ad_len,
                                       tag, in->tag_len, src, dst);
    mbedtls_gcm_free(&ctx);
    return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HEADER + KEY_BYTES)
        return 0;
    static const unsigned keybits[] = { 128, 192, 256, 256 };
    uint8_t options = data[0], param = data[5];
    gcm_input in;
    in.keybits = keybits[options & 3];
    in.key = data + HEADER;
    const uint8_t *p = data + HEADER + KEY_BYTES;
    size_t left = size - HEADER - KEY_BYTES;
    in.iv_len = (options & 4) ? (size_t)data[1] % 64 + 1 : 12;
    if (in.iv_len > left)
        return 0;
    in.iv = p;
    p += in.iv_len;
    left -= in.iv_len;
    in.ad_len = data[2] < left ? data[2] : left;
    in.ad = p;
    p += in.ad_len;
    left -= in.ad_len;
    in.data = p;
    in.len = left;
    in.tag_len = 4 + (size_t)data[3] % 13;
    in.split_seed = data[4];
    in.wrap = (options & 8) != 0;
    in.counter = 0xFFFFFFFFu - param;
    size_t shift = (options & 16) ? (size_t)param % 33 : 0;

    int best = mbedtls_stream_gcm_accel_supported();
    size_t room = in.len + 33;
    uint8_t *ref_ct = malloc(room), *buffer = malloc(room), *out = malloc(room);
    uint8_t ref_tag[16], tag[16];

    crypt(&in, MBEDTLS_STREAM_GCM_STOCK, MBEDTLS_GCM_ENCRYPT, in.data, ref_ct, ref_tag);
    for (int impl = MBEDTLS_STREAM_GCM_AESNI; impl <= best; impl++) {
        memcpy(buffer + shift, in.data, in.len);
        crypt(&in, impl, MBEDTLS_GCM_ENCRYPT, buffer + shift, buffer, tag);
        if (memcmp(buffer, ref_ct, in.len) != 0)
            fail(&in, impl, "ciphertext differs from the stock code's");
        if (memcmp(tag, ref_tag, in.tag_len) != 0)
            fail(&in, impl, "tag differs from the stock code's");
    }
    for (int impl = MBEDTLS_STREAM_GCM_STOCK; impl <= best; impl++) {
        memcpy(buffer + shift, ref_ct, in.len);
        crypt(&in, impl, MBEDTLS_GCM_DECRYPT, buffer + shift, buffer, tag);
        if (memcmp(buffer, in.data, in.len) != 0)
            fail(&in, impl, "decryption does not give the plaintext back");
        if (memcmp(tag, ref_tag, in.tag_len) != 0)
            fail(&in, impl, "decryption's tag differs");
    }
    if (!in.wrap) {
        uint8_t bad_tag[16];
        memcpy(bad_tag, ref_tag, sizeof(bad_tag));
        bad_tag[(param >> 3) % in.tag_len] ^= (uint8_t)(1u << (param & 7));
        for (int impl = MBEDTLS_STREAM_GCM_STOCK; impl <= best; impl++) {
            if (auth_decrypt(&in, impl, ref_tag, ref_ct, out) != 0 || memcmp(out, in.data, in.len) != 0)
                fail(&in, impl, "the right tag refused");
            memset(out, 0xA5, in.len);
            if (auth_decrypt(&in, impl, bad_tag, ref_ct, out) != MBEDTLS_ERR_GCM_AUTH_FAILED)
                fail(&in, impl, "a flipped tag bit accepted");
            for (size_t i = 0; i < in.len; i++)
                if (out[i] != 0)
                    fail(&in, impl, "a refused decryption left output");
        }
    }
    mbedtls_stream_gcm_accel_select(-1);
    free(ref_ct);
    free(buffer);
    free(out);
    return 0;
}
