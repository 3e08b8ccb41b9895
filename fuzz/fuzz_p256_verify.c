/*
 * fuzz_p256_verify.c: our P-256 ECDSA verification (src/crypto/p256_verify.c) against Mbed
 * TLS's stock code. Each input becomes one (hash, key, r, s); mbedtls_ecdsa_verify() runs
 * with mst_p256_fast_path 1 and 0, and any difference in the result aborts.
 *
 * Valid signatures are made once at start-up (four keys, one of them G itself), so that the
 * fuzzer starts from inputs that verify and alters them from there.
 *
 * Input: byte 0 options
 *          bits 0-1  which prepared signature (key, 32-byte hash, r, s)
 *          bit  2    the key is bytes 130-193 (x, y) of the input, not the prepared one
 *          bit  3    s becomes n - s (still valid)
 *          bit  4    the key becomes -Q (y becomes p - y)
 *          bit  5    r becomes r + n; bit 6: s becomes s + n (out of range)
 *        byte 1       hash length, mod 65 (the prepared hash, zero-extended to 64 bytes)
 *        bytes 2-33   XORed into r (big-endian, 32 bytes); bytes 34-65 into s
 *        bytes 66-129 XORed into the hash (64 bytes)
 *        bytes 130-193 the key's x and y when bit 2 is set
 *        Missing bytes count as zero.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>

#include "fuzz_common.h"
#include "p256_verify.h"

#define PREPARED 4

static mbedtls_ecp_group grp;
static struct {
    mbedtls_ecp_point Q;
    mbedtls_mpi r, s;
    unsigned char hash[64];
} prepared[PREPARED];

static uint64_t seed = 0x243f6a8885a308d3u;

static int deterministic_random(void *unused, unsigned char *out, size_t len)
{
    (void)unused;
    for (size_t i = 0; i < len; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        out[i] = (unsigned char)(seed >> 56);
    }
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mbedtls_mpi d;
    mbedtls_mpi_init(&d);
    mbedtls_ecp_group_init(&grp);
    if (mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1) != 0) {
        abort();
    }
    for (int i = 0; i < PREPARED; i++) {
        mbedtls_ecp_point_init(&prepared[i].Q);
        mbedtls_mpi_init(&prepared[i].r);
        mbedtls_mpi_init(&prepared[i].s);
        deterministic_random(NULL, prepared[i].hash, 32);
        int ret = i == 0 ? mbedtls_mpi_lset(&d, 1)
                         : mbedtls_ecp_gen_privkey(&grp, &d, deterministic_random, NULL);
        if (ret != 0 ||
            mbedtls_ecp_mul(&grp, &prepared[i].Q, &d, &grp.G, deterministic_random, NULL) != 0 ||
            mbedtls_ecdsa_sign(&grp, &prepared[i].r, &prepared[i].s, &d, prepared[i].hash, 32,
                               deterministic_random, NULL) != 0) {
            abort();
        }
    }
    mbedtls_mpi_free(&d);
    return 0;
}

/* x XOR mask (32 big-endian bytes) into out. */
static int xor_mpi(mbedtls_mpi *out, const mbedtls_mpi *x, const uint8_t mask[32])
{
    unsigned char bytes[32];
    int ret = mbedtls_mpi_write_binary(x, bytes, 32);
    if (ret != 0) {
        return ret;
    }
    for (int i = 0; i < 32; i++) {
        bytes[i] ^= mask[i];
    }
    return mbedtls_mpi_read_binary(out, bytes, 32);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t in[194];
    memset(in, 0, sizeof(in));
    memcpy(in, data, size < sizeof(in) ? size : sizeof(in));
    unsigned options = in[0];
    size_t hlen = in[1] % 65;
    int which = options & 3;

    mbedtls_ecp_point Q;
    mbedtls_mpi r, s;
    unsigned char hash[64];
    mbedtls_ecp_point_init(&Q);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    memset(hash, 0, sizeof(hash));
    memcpy(hash, prepared[which].hash, 32);
    for (int i = 0; i < 64; i++) {
        hash[i] ^= in[66 + i];
    }

    if (xor_mpi(&r, &prepared[which].r, in + 2) != 0 ||
        xor_mpi(&s, &prepared[which].s, in + 34) != 0) {
        abort();
    }
    if (options & 4) {
        if (mbedtls_mpi_read_binary(&Q.X, in + 130, 32) != 0 ||
            mbedtls_mpi_read_binary(&Q.Y, in + 162, 32) != 0 || mbedtls_mpi_lset(&Q.Z, 1) != 0) {
            abort();
        }
    } else if (mbedtls_ecp_copy(&Q, &prepared[which].Q) != 0) {
        abort();
    }
    if ((options & 8) && mbedtls_mpi_sub_mpi(&s, &grp.N, &s) != 0) {
        abort();
    }
    if ((options & 16) && mbedtls_mpi_cmp_int(&Q.Y, 0) != 0 &&
        mbedtls_mpi_sub_mpi(&Q.Y, &grp.P, &Q.Y) != 0) {
        abort();
    }
    if ((options & 32) && mbedtls_mpi_add_mpi(&r, &r, &grp.N) != 0) {
        abort();
    }
    if ((options & 64) && mbedtls_mpi_add_mpi(&s, &s, &grp.N) != 0) {
        abort();
    }

    mst_p256_fast_path = 0;
    int stock = mbedtls_ecdsa_verify(&grp, hash, hlen, &Q, &r, &s);
    mst_p256_fast_path = 1;
    int ours = mbedtls_ecdsa_verify(&grp, hash, hlen, &Q, &r, &s);
    if (ours != stock) {
        fprintf(stderr, "fuzz_p256_verify: ours -0x%04X, Mbed TLS -0x%04X\n", (unsigned)-ours,
                (unsigned)-stock);
        abort();
    }

    mbedtls_ecp_point_free(&Q);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    return 0;
}
