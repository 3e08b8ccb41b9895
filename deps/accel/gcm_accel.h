/*
 * gcm_accel.h: mbedtls-stream's multi-block AES-GCM for x86-64, called from Mbed TLS's own
 * GCM (library/gcm.c, through deps/patches/0020-gcm-multi-block-aes-ni.patch) when the
 * configuration defines MBEDTLS_STREAM_GCM_ACCEL.
 *
 * Mbed TLS 3.6 encrypts one 16-byte block per call through the cipher layer and reduces
 * GHASH after every block. This code does the whole blocks of one mbedtls_gcm_update() call
 * several at a time: 8 blocks per step with AES-NI and PCLMULQDQ, 16 blocks per step in
 * 256-bit registers with VAES and VPCLMULQDQ, and in both one GHASH reduction per 8 blocks
 * (Karatsuba multiplications by precomputed powers of H, summed, then reduced once).
 * Everything else (IV of any length, AAD, partial blocks, the tag) stays Mbed TLS's code,
 * which shares the counter and the GHASH state with this code through the GCM context.
 *
 * The implementation is chosen per key, at mbedtls_gcm_setkey() time, by CPUID (no code is
 * built with -march=native: each function carries its own target attribute). The
 * environment variable MBEDTLS_STREAM_GCM (read once, at the first key) caps it: "stock"
 * (Mbed TLS's code alone), "aesni", or "vaes" (the default: the best the CPU has).
 * Constant time: no branch and no memory access depends on the key, H or the data.
 */
#ifndef MBEDTLS_STREAM_GCM_ACCEL_H
#define MBEDTLS_STREAM_GCM_ACCEL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Implementations, in increasing order of speed. */
#define MBEDTLS_STREAM_GCM_STOCK 0 /* Mbed TLS's own code: other CPUs, other ciphers */
#define MBEDTLS_STREAM_GCM_AESNI 1 /* AES-NI, PCLMULQDQ, SSSE3, SSE4.1: 8 blocks per step */
#define MBEDTLS_STREAM_GCM_VAES  2 /* plus AVX2, VAES, VPCLMULQDQ: 16 blocks per step */

/* The powers of H kept per key: H^1 .. H^8. */
#define MBEDTLS_STREAM_GCM_POWERS 8

/*
 * Prepares the fast path for the key just set by mbedtls_gcm_setkey(). `round_keys` is the
 * AES encryption key schedule of Mbed TLS's AES context (FIPS 197 5.2: `rounds` + 1 round
 * keys of 16 bytes, as AESENC takes them), or NULL when the block cipher is not AES or the
 * GCM context does not use Mbed TLS's AES-NI GHASH; `rounds` is 10, 12 or 14. Sets *impl to
 * the implementation chosen (mbedtls_stream_gcm_accel_select()), MBEDTLS_STREAM_GCM_STOCK
 * when there is none for this key or CPU, and otherwise fills `h_powers`: h_powers[i] is
 * H^(8 - i), divided by x and byte-reflected as the carry-less multiplication uses it, so
 * that a run of n blocks multiplies by the n last. Never fails.
 */
void mbedtls_stream_gcm_accel_setkey(unsigned char *impl,
                                     unsigned char h_powers[MBEDTLS_STREAM_GCM_POWERS][16],
                                     const unsigned char *round_keys, int rounds);

/*
 * Encrypts or decrypts the whole 16-byte blocks at the start of `input` (`length` bytes
 * available) into `output`, as NIST SP 800-38D 6.5 and 7 do: for each block, increments the
 * last 32 bits of `counter` (big-endian, modulo 2^32), XORs the block with the encryption of
 * `counter`, and folds the ciphertext block (the output when encrypting, the input when
 * decrypting) into the GHASH state `ghash` (16 bytes, as mbedtls_gcm_context::buf holds it).
 * `counter` and `ghash` are updated in place. `impl`, `h_powers`, `round_keys` and `rounds`
 * are the key's, as mbedtls_stream_gcm_accel_setkey() had and left them. `output` may equal
 * `input`, or start before it. Returns the number of bytes done: a multiple of 16, and 0
 * when `impl` is MBEDTLS_STREAM_GCM_STOCK or round_keys is NULL, in which case nothing was
 * touched.
 */
size_t mbedtls_stream_gcm_accel_update(int impl,
                                       const unsigned char h_powers[MBEDTLS_STREAM_GCM_POWERS][16],
                                       const unsigned char *round_keys, int rounds, int decrypt,
                                       unsigned char counter[16], unsigned char ghash[16],
                                       const unsigned char *input, unsigned char *output,
                                       size_t length);

/*
 * The best implementation this CPU supports (MBEDTLS_STREAM_GCM_*), whatever the cap.
 */
int mbedtls_stream_gcm_accel_supported(void);

/*
 * Sets the cap on the implementation given to keys set from now on (MBEDTLS_STREAM_GCM_*;
 * a negative value restores the default of the environment) and returns the
 * implementation that new keys get: the cap, or less when the CPU lacks it. For tests and
 * benchmarks, which compare the implementations in one process; not thread-safe with
 * concurrent mbedtls_gcm_setkey() calls.
 */
int mbedtls_stream_gcm_accel_select(int impl);

#ifdef __cplusplus
}
#endif

#endif /* MBEDTLS_STREAM_GCM_ACCEL_H */
