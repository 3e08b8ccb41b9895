/*
 * X25519 (RFC 7748) through the Everest/HACL* Curve25519 code that ships in Mbed TLS's tree
 * (3rdparty/everest), for every Curve25519 scalar multiplication Mbed TLS does.
 *
 * Mbed TLS's mbedtls_ecp_mul() on Curve25519 (key generation, TLS 1.2's ECDH context and
 * TLS 1.3's PSA key agreement all end there) hands the multiplication to mst_x25519_mul()
 * (deps/patches/0023-ecp-x25519-hacl-hook.patch) after its own checks of the scalar and the
 * point. HACL's code is constant time, as Mbed TLS's Montgomery ladder is.
 */
#ifndef MST_X25519_H
#define MST_X25519_H

#include "mbedtls/ecp.h"

/*
 * R = m * P on Curve25519, x-only: R's X gets the u coordinate (in [0, p)), Z gets 1, Y is
 * freed, as Mbed TLS's own ecp_mul_mxz() leaves R. m is a private scalar that
 * mbedtls_ecp_check_privkey() accepted (clamped, 255 bits); P an affine point that
 * mbedtls_ecp_check_pubkey() accepted (u < 2^256, not one of the low-order points), and
 * used modulo p. R may be P. Returns 0, or an MBEDTLS_ERR_MPI_* error (allocation).
 */
int mst_x25519_mul(mbedtls_ecp_point *R, const mbedtls_mpi *m, const mbedtls_ecp_point *P);

/* 1 (the default): Mbed TLS's Curve25519 multiplications go to HACL. 0: Mbed TLS's own
 * Montgomery ladder, so that tests can compare the two. For tests only. */
extern int mst_x25519_hacl;

/* How many multiplications mst_x25519_mul() has done in this process (for tests). */
unsigned long mst_x25519_count(void);

#endif /* MST_X25519_H */
