/*
 * Curve25519 scalar multiplication for Mbed TLS through HACL* (see x25519.h): converts Mbed
 * TLS's numbers to RFC 7748's 32-byte little-endian strings and back.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS /* the coordinates of mbedtls_ecp_point */

#include "x25519.h"

#include <stdint.h>

#include "mbedtls/bignum.h"
#include "mbedtls/platform_util.h"

/* From 3rdparty/everest/library/Hacl_Curve25519.c (compiled by deps/mbedtls.gyp's
 * everest_hacl target): mypublic = X25519(secret, basepoint), RFC 7748 section 5. */
void Hacl_Curve25519_crypto_scalarmult(uint8_t *mypublic, uint8_t *secret, uint8_t *basepoint);

int mst_x25519_hacl = 1;
static unsigned long multiplication_count;

unsigned long mst_x25519_count(void)
{
    return __atomic_load_n(&multiplication_count, __ATOMIC_RELAXED);
}

int mst_x25519_mul(mbedtls_ecp_point *R, const mbedtls_mpi *m, const mbedtls_ecp_point *P)
{
    /* 2^255 - 19 */
    static const unsigned char prime_le[32] = {
        0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
    };
    unsigned char scalar[32], u[32], result[32];
    mbedtls_mpi reduced, prime;
    int ret;

    __atomic_fetch_add(&multiplication_count, 1, __ATOMIC_RELAXED);
    mbedtls_mpi_init(&reduced);
    mbedtls_mpi_init(&prime);
    /* u is used modulo p. An X of 2^255 or more never comes from Mbed TLS's decoding of a
     * key, which clears bit 255 as RFC 7748 says, only from a caller that sets the number
     * itself: Mbed TLS's check of the point reduces such an X modulo p, and so do we,
     * rather than drop bit 255 as HACL would (Mbed TLS's own ladder then fails with
     * MBEDTLS_ERR_ECP_BAD_INPUT_DATA in its fast reduction). */
    if ((ret = mbedtls_mpi_read_binary_le(&prime, prime_le, 32)) != 0 ||
        (ret = mbedtls_mpi_copy(&reduced, &P->X)) != 0) {
        goto cleanup;
    }
    while (mbedtls_mpi_cmp_mpi(&reduced, &prime) >= 0) {
        if ((ret = mbedtls_mpi_sub_mpi(&reduced, &reduced, &prime)) != 0) {
            goto cleanup;
        }
    }
    if ((ret = mbedtls_mpi_write_binary_le(m, scalar, 32)) != 0 ||
        (ret = mbedtls_mpi_write_binary_le(&reduced, u, 32)) != 0) {
        goto cleanup;
    }
    Hacl_Curve25519_crypto_scalarmult(result, scalar, u);
    if ((ret = mbedtls_mpi_read_binary_le(&R->X, result, 32)) != 0 ||
        (ret = mbedtls_mpi_lset(&R->Z, 1)) != 0) {
        goto cleanup;
    }
    mbedtls_mpi_free(&R->Y);

cleanup:
    mbedtls_platform_zeroize(scalar, sizeof(scalar));
    mbedtls_platform_zeroize(result, sizeof(result));
    mbedtls_mpi_free(&reduced);
    mbedtls_mpi_free(&prime);
    return ret;
}
