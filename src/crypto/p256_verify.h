/*
 * A fast ECDSA verification on NIST P-256 (secp256r1) for Mbed TLS.
 *
 * Mbed TLS's mbedtls_ecdsa_verify_restartable() hands P-256 verifications to
 * mst_p256_verify() (deps/patches/0021-ecdsa-p256-verify-hook.patch); every other curve,
 * and a restartable call, stays on the stock code. Only public data goes through here (the
 * key, the hash, the signature), so the code runs in variable time.
 */
#ifndef MST_P256_VERIFY_H
#define MST_P256_VERIFY_H

#include <stddef.h>

#include "mbedtls/ecp.h"
#include "mbedtls/bignum.h"

/*
 * Verifies the ECDSA signature (r, s) of the hash buf[0..blen) under the public key Q on
 * P-256, as SEC1 v2 section 4.1.4 says, with exactly the results of Mbed TLS's own
 * mbedtls_ecdsa_verify():
 *   - the hash: its first 32 bytes are read as a big-endian integer (shorter ones whole),
 *     then reduced once modulo n; buf may be NULL when blen is 0;
 *   - 0 when the signature is valid;
 *   - MBEDTLS_ERR_ECP_VERIFY_FAILED when r or s is outside [1, n-1] (checked first), when
 *     u1*G + u2*Q is the point at infinity, or when its x coordinate mod n is not r;
 *   - MBEDTLS_ERR_ECP_INVALID_KEY when Q is not an affine point of the curve (Z other than
 *     1, a negative coordinate or one >= p, or not on y^2 = x^3 - 3x + b).
 * Thread-safe: the table of multiples of G is built once, on first use (pthread_once).
 */
int mst_p256_verify(const unsigned char *buf, size_t blen, const mbedtls_ecp_point *Q,
                    const mbedtls_mpi *r, const mbedtls_mpi *s);

/*
 * 1 (the default): Mbed TLS's verify sends P-256 here. 0: it runs its stock code, so that
 * tests can compare the two. For tests only; not to be changed while verifications run.
 */
extern int mst_p256_fast_path;

/* How many verifications mst_p256_verify() has done in this process (tests read it to see
 * that TLS and X.509 reach it). */
unsigned long mst_p256_verify_count(void);

#endif /* MST_P256_VERIFY_H */
