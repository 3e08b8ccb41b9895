/*
 * gcm_accel.c: multi-block AES-GCM with AES-NI/PCLMULQDQ and VAES/VPCLMULQDQ (see
 * gcm_accel.h for what it does and how Mbed TLS calls it).
 *
 * GHASH arithmetic (NIST SP 800-38D 6.3; the method of Gueron and Kounavis, "Intel
 * Carry-Less Multiplication Instruction and its Usage for Computing the GCM Mode"):
 * a block is loaded byte-reversed, so that the coefficient of x^0 is the integer's top bit.
 * In that reflected form the reduction modulo x^128 + x^7 + x^2 + x + 1 becomes a
 * Montgomery-style reduction that clears the low 128 bits of the 256-bit carry-less product
 * with two carry-less multiplications by 0xC2 << 56; the product comes out multiplied by x,
 * which is cancelled by keeping the powers of H divided by x (a shift left by one bit in the
 * reflected form).
 * Several blocks are hashed at once as X' = (X + C1) H^n + C2 H^(n-1) + ... + Cn H:
 * the n products are added unreduced (Karatsuba: three multiplications each) and reduced
 * once.
 *
 * The AES round keys are Mbed TLS's own (its AES context's key schedule, which AESENC takes
 * as it is), and the powers of H live in the GCM context's table, which Mbed TLS's own
 * AES-NI GHASH leaves unused: a key costs no memory beyond Mbed TLS's own.
 * Every loop bound and branch depends on lengths, the key size and the CPU only; the
 * tables indexed are the round keys and the powers of H, always read whole.
 */
#include "gcm_accel.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GCM_ACCEL_X86 1
#include <cpuid.h>
#include <immintrin.h>
/* The VAES and VPCLMULQDQ intrinsics came with GCC 8 and clang 6; older compilers get the
 * AES-NI path alone. */
#if (defined(__clang__) && __clang_major__ >= 6) || (!defined(__clang__) && __GNUC__ >= 8)
#define GCM_ACCEL_VAES 1
#endif
#endif

#if defined(GCM_ACCEL_X86)

/* Each function says which instructions it uses; the rest of the build stays generic. */
#define TARGET_AESNI __attribute__((target("aes,pclmul,ssse3,sse4.1")))
#define TARGET_VAES __attribute__((target("aes,pclmul,ssse3,sse4.1,avx,avx2,vaes,vpclmulqdq")))
#define INLINE_AESNI static inline __attribute__((always_inline)) TARGET_AESNI
#define INLINE_VAES static inline __attribute__((always_inline)) TARGET_VAES

/* ---- Choosing the implementation ---------------------------------------------------- */

/* -1 until first asked; then MBEDTLS_STREAM_GCM_*. Read and written atomically, as keys
 * may be set on several threads. */
static int supported_impl = -1;
static int impl_cap = -1;

static int xgetbv0(void)
{
    uint32_t eax, edx;
    __asm__ volatile ("xgetbv" : "=a" (eax), "=d" (edx) : "c" (0));
    return (int) eax;
}

static int detect_impl(void)
{
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
        return MBEDTLS_STREAM_GCM_STOCK;
    }
    const unsigned int pclmul = 1u << 1, ssse3 = 1u << 9, sse41 = 1u << 19, aes = 1u << 25;
    const unsigned int osxsave = 1u << 27, avx = 1u << 28;
    if ((ecx & (pclmul | ssse3 | sse41 | aes)) != (pclmul | ssse3 | sse41 | aes)) {
        return MBEDTLS_STREAM_GCM_STOCK;
    }
    /* 256-bit registers need AVX and an OS that saves their state (XCR0 bits 1 and 2). */
    if ((ecx & (osxsave | avx)) != (osxsave | avx) || (xgetbv0() & 6) != 6) {
        return MBEDTLS_STREAM_GCM_AESNI;
    }
#if defined(GCM_ACCEL_VAES)
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, eax, ebx, ecx, edx);
        const unsigned int avx2 = 1u << 5;                     /* EBX */
        const unsigned int vaes = 1u << 9, vpclmul = 1u << 10; /* ECX */
        if ((ebx & avx2) && (ecx & vaes) && (ecx & vpclmul)) {
            return MBEDTLS_STREAM_GCM_VAES;
        }
    }
#endif
    return MBEDTLS_STREAM_GCM_AESNI;
}

static int cap_from_environment(void)
{
    const char *value = getenv("MBEDTLS_STREAM_GCM");
    if (value != NULL) {
        if (strcmp(value, "stock") == 0) {
            return MBEDTLS_STREAM_GCM_STOCK;
        }
        if (strcmp(value, "aesni") == 0) {
            return MBEDTLS_STREAM_GCM_AESNI;
        }
    }
    return MBEDTLS_STREAM_GCM_VAES;
}

int mbedtls_stream_gcm_accel_supported(void)
{
    int impl = __atomic_load_n(&supported_impl, __ATOMIC_RELAXED);
    if (impl < 0) {
        impl = detect_impl();
        __atomic_store_n(&supported_impl, impl, __ATOMIC_RELAXED);
    }
    return impl;
}

static int current_impl(void)
{
    int cap = __atomic_load_n(&impl_cap, __ATOMIC_RELAXED);
    if (cap < 0) {
        cap = cap_from_environment();
        __atomic_store_n(&impl_cap, cap, __ATOMIC_RELAXED);
    }
    int supported = mbedtls_stream_gcm_accel_supported();
    return cap < supported ? cap : supported;
}

int mbedtls_stream_gcm_accel_select(int impl)
{
    if (impl > MBEDTLS_STREAM_GCM_VAES) {
        impl = MBEDTLS_STREAM_GCM_VAES;
    }
    __atomic_store_n(&impl_cap, impl < 0 ? cap_from_environment() : impl, __ATOMIC_RELAXED);
    return current_impl();
}

/* ---- 128-bit helpers (AES-NI, PCLMULQDQ) --------------------------------------------- */

/* What one update works with: Mbed TLS's round keys and the key's powers of H. */
typedef struct {
    const unsigned char (*round_keys)[16];
    unsigned int rounds;
    const unsigned char (*h_powers)[16];
} gcm_state;

/* Reverses the 16 bytes: GCM's bit order to the reflected integer and back. */
INLINE_AESNI __m128i byte_reverse(__m128i x)
{
    return _mm_shuffle_epi8(x, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}

/* Swaps the counter block's last 4 bytes (big-endian) into a native 32-bit lane 3 and
 * back, so that _mm_add_epi32 increments the counter modulo 2^32 as inc32 does. */
INLINE_AESNI __m128i counter_swap(__m128i x)
{
    return _mm_shuffle_epi8(x, _mm_set_epi8(12, 13, 14, 15, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
}

INLINE_AESNI __m128i load_block(const unsigned char *p)
{
    return _mm_loadu_si128((const __m128i *) p);
}

/* Montgomery-style reduction of the 256-bit reflected product hi:lo (see the header
 * comment): two folds of 64 bits, each a multiplication by 0xC2 << 56. */
INLINE_AESNI __m128i ghash_reduce(__m128i hi, __m128i lo)
{
    const __m128i poly = _mm_set_epi64x((long long) 0xC200000000000000ULL, 0);
    __m128i t = _mm_clmulepi64_si128(lo, poly, 0x10);
    lo = _mm_xor_si128(_mm_shuffle_epi32(lo, 0x4e), t);
    t = _mm_clmulepi64_si128(lo, poly, 0x10);
    lo = _mm_xor_si128(_mm_shuffle_epi32(lo, 0x4e), t);
    return _mm_xor_si128(lo, hi);
}

/* Karatsuba: accumulates the three partial products of a * b. */
INLINE_AESNI void clmul_accumulate(__m128i a, __m128i b, __m128i *lo, __m128i *hi, __m128i *mid)
{
    __m128i a_sum = _mm_xor_si128(a, _mm_shuffle_epi32(a, 0x4e));
    __m128i b_sum = _mm_xor_si128(b, _mm_shuffle_epi32(b, 0x4e));
    *lo = _mm_xor_si128(*lo, _mm_clmulepi64_si128(a, b, 0x00));
    *hi = _mm_xor_si128(*hi, _mm_clmulepi64_si128(a, b, 0x11));
    *mid = _mm_xor_si128(*mid, _mm_clmulepi64_si128(a_sum, b_sum, 0x00));
}

/* Combines the Karatsuba sums into hi:lo and reduces them. */
INLINE_AESNI __m128i karatsuba_reduce(__m128i lo, __m128i hi, __m128i mid)
{
    mid = _mm_xor_si128(mid, _mm_xor_si128(lo, hi));
    lo = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
    hi = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
    return ghash_reduce(hi, lo);
}

INLINE_AESNI __m128i field_multiply(__m128i a, __m128i b)
{
    __m128i lo = _mm_setzero_si128(), hi = _mm_setzero_si128(), mid = _mm_setzero_si128();
    clmul_accumulate(a, b, &lo, &hi, &mid);
    return karatsuba_reduce(lo, hi, mid);
}

INLINE_AESNI __m128i aes_encrypt_block(const gcm_state *st, __m128i b)
{
    b = _mm_xor_si128(b, load_block(st->round_keys[0]));
    for (unsigned int r = 1; r < st->rounds; r++) {
        b = _mm_aesenc_si128(b, load_block(st->round_keys[r]));
    }
    return _mm_aesenclast_si128(b, load_block(st->round_keys[st->rounds]));
}

/* H = E(K, 0^128), then H / x in reflected form (a shift left by one bit, plus
 * x^-1 = x^127 + x^6 + x + 1, 0xC2...01 reflected, when the top bit falls out), then the
 * powers H^k / x, each the reduced product of the one before and H / x. */
static TARGET_AESNI void compute_h_powers(const gcm_state *st, unsigned char (*h_powers)[16])
{
    __m128i h = byte_reverse(aes_encrypt_block(st, _mm_setzero_si128()));
    __m128i top = _mm_shuffle_epi32(_mm_srai_epi32(h, 31), 0xff);
    __m128i shifted = _mm_or_si128(_mm_slli_epi64(h, 1), _mm_slli_si128(_mm_srli_epi64(h, 63), 8));
    __m128i h1 = _mm_xor_si128(shifted,
                               _mm_and_si128(top, _mm_set_epi64x((long long) 0xC200000000000000ULL, 1)));
    __m128i power = h1;
    for (int k = MBEDTLS_STREAM_GCM_POWERS - 1; k >= 0; k--) {
        _mm_storeu_si128((__m128i *) h_powers[k], power);
        power = field_multiply(power, h1);
    }
}

/*
 * n (1 to 8) blocks: counters, AES, XOR, then GHASH of the n ciphertext blocks with one
 * reduction. Forward, each input block read before its output is written, so output may
 * start before input. For the tail of an update.
 */
INLINE_AESNI void blocks_aesni(const gcm_state *st, int decrypt,
                               __m128i *counter, __m128i *x,
                               const unsigned char *in, unsigned char *out, unsigned int n)
{
    __m128i b[8], c[8];
    /* Zeros for the blocks past n, which the compiler cannot tell are never read. */
#pragma GCC unroll 8
    for (unsigned int i = 0; i < 8; i++) {
        b[i] = c[i] = _mm_setzero_si128();
    }
    __m128i key = load_block(st->round_keys[0]);
    for (unsigned int i = 0; i < n; i++) {
        *counter = _mm_add_epi32(*counter, _mm_set_epi32(1, 0, 0, 0));
        b[i] = _mm_xor_si128(counter_swap(*counter), key);
    }
    for (unsigned int r = 1; r < st->rounds; r++) {
        key = load_block(st->round_keys[r]);
        for (unsigned int i = 0; i < n; i++) {
            b[i] = _mm_aesenc_si128(b[i], key);
        }
    }
    key = load_block(st->round_keys[st->rounds]);
    for (unsigned int i = 0; i < n; i++) {
        __m128i input = load_block(in + 16 * i);
        __m128i output = _mm_xor_si128(_mm_aesenclast_si128(b[i], key), input);
        _mm_storeu_si128((__m128i *) (out + 16 * i), output);
        c[i] = byte_reverse(decrypt ? input : output);
    }
    c[0] = _mm_xor_si128(c[0], *x);
    __m128i lo = _mm_setzero_si128(), hi = _mm_setzero_si128(), mid = _mm_setzero_si128();
    const unsigned char(*powers)[16] = st->h_powers + (MBEDTLS_STREAM_GCM_POWERS - n);
    for (unsigned int i = 0; i < n; i++) {
        clmul_accumulate(c[i], load_block(powers[i]), &lo, &hi, &mid);
    }
    *x = karatsuba_reduce(lo, hi, mid);
}

/* GHASH of block i of 8 at `src`, into the Karatsuba sums (X is added to block 0). */
INLINE_AESNI void hash_one_of_8(const gcm_state *st, const unsigned char *src,
                                unsigned int i, __m128i x, __m128i *lo, __m128i *hi, __m128i *mid)
{
    __m128i c = byte_reverse(load_block(src + 16 * i));
    if (i == 0) {
        c = _mm_xor_si128(c, x);
    }
    clmul_accumulate(c, load_block(st->h_powers[MBEDTLS_STREAM_GCM_POWERS - 8 + i]), lo, hi, mid);
}

/*
 * 8 blocks of counter mode from in to out, and, when `hash` is set, GHASH of the 8
 * ciphertext blocks at `hash` (this step's input when decrypting, the previous step's
 * output when encrypting), one block between each of the first 8 AES rounds, so that the
 * carry-less multiplications run while the AES instructions wait on each other. All of
 * `hash` is read before anything is written.
 */
INLINE_AESNI void step8_aesni(const gcm_state *st, __m128i *counter, __m128i *x,
                              const unsigned char *in, unsigned char *out,
                              const unsigned char *hash)
{
    __m128i b[8];
    __m128i lo = _mm_setzero_si128(), hi = _mm_setzero_si128(), mid = _mm_setzero_si128();
    __m128i key = load_block(st->round_keys[0]);
#pragma GCC unroll 8
    for (unsigned int i = 0; i < 8; i++) {
        *counter = _mm_add_epi32(*counter, _mm_set_epi32(1, 0, 0, 0));
        b[i] = _mm_xor_si128(counter_swap(*counter), key);
    }
    /* Rounds 1 to 8 exist for every key size (10, 12 or 14 rounds). */
#pragma GCC unroll 8
    for (unsigned int r = 1; r <= 8; r++) {
        key = load_block(st->round_keys[r]);
#pragma GCC unroll 8
        for (unsigned int i = 0; i < 8; i++) {
            b[i] = _mm_aesenc_si128(b[i], key);
        }
        if (hash != NULL) {
            hash_one_of_8(st, hash, r - 1, *x, &lo, &hi, &mid);
        }
    }
    for (unsigned int r = 9; r < st->rounds; r++) {
        key = load_block(st->round_keys[r]);
#pragma GCC unroll 8
        for (unsigned int i = 0; i < 8; i++) {
            b[i] = _mm_aesenc_si128(b[i], key);
        }
    }
    if (hash != NULL) {
        *x = karatsuba_reduce(lo, hi, mid);
    }
    key = load_block(st->round_keys[st->rounds]);
#pragma GCC unroll 8
    for (unsigned int i = 0; i < 8; i++) {
        __m128i output = _mm_xor_si128(_mm_aesenclast_si128(b[i], key), load_block(in + 16 * i));
        _mm_storeu_si128((__m128i *) (out + 16 * i), output);
    }
}

/* GHASH of 8 blocks at src. */
INLINE_AESNI void hash8_aesni(const gcm_state *st, __m128i *x,
                              const unsigned char *src)
{
    __m128i lo = _mm_setzero_si128(), hi = _mm_setzero_si128(), mid = _mm_setzero_si128();
#pragma GCC unroll 8
    for (unsigned int i = 0; i < 8; i++) {
        hash_one_of_8(st, src, i, *x, &lo, &hi, &mid);
    }
    *x = karatsuba_reduce(lo, hi, mid);
}

/*
 * All `blocks` blocks, 8 per step. Decrypting, each step hashes its own input; encrypting,
 * each step hashes the output of the step before, and the last step's output is hashed
 * after the loop. Output may start before input: a step reads its input and the previous
 * step's output before it writes, and writes only after both.
 */
INLINE_AESNI void blocks_all_aesni(const gcm_state *st, int decrypt,
                                   __m128i *counter, __m128i *x,
                                   const unsigned char *in, unsigned char *out, size_t blocks)
{
    if (decrypt) {
        for (; blocks >= 8; blocks -= 8, in += 128, out += 128) {
            step8_aesni(st, counter, x, in, out, in);
        }
    } else if (blocks >= 8) {
        step8_aesni(st, counter, x, in, out, NULL);
        for (blocks -= 8, in += 128, out += 128; blocks >= 8; blocks -= 8, in += 128, out += 128) {
            step8_aesni(st, counter, x, in, out, out - 128);
        }
        hash8_aesni(st, x, out - 128);
    }
    if (blocks > 0) {
        blocks_aesni(st, decrypt, counter, x, in, out, (unsigned int) blocks);
    }
}

static TARGET_AESNI void update_aesni(const gcm_state *st, int decrypt,
                                      unsigned char counter_bytes[16], unsigned char ghash[16],
                                      const unsigned char *in, unsigned char *out, size_t blocks)
{
    __m128i counter = counter_swap(load_block(counter_bytes));
    __m128i x = byte_reverse(load_block(ghash));
    blocks_all_aesni(st, decrypt, &counter, &x, in, out, blocks);
    _mm_storeu_si128((__m128i *) counter_bytes, counter_swap(counter));
    _mm_storeu_si128((__m128i *) ghash, byte_reverse(x));
}

/* ---- 256-bit path (VAES, VPCLMULQDQ): two blocks per register ------------------------ */
#if defined(GCM_ACCEL_VAES)

INLINE_VAES __m256i load_pair(const unsigned char *p)
{
    return _mm256_loadu_si256((const __m256i *) p);
}

/* GHASH of blocks 2i and 2i+1 of 16 at `src`, into the Karatsuba sums (per 128-bit half).
 * The 16 blocks are hashed as two runs of 8 (H^8 .. H^1 each), X added to blocks 0 and 8. */
INLINE_VAES void hash_two_of_16(const gcm_state *st, const unsigned char *src,
                                unsigned int i, __m128i x, __m256i *lo, __m256i *hi, __m256i *mid)
{
    const __m256i reverse = _mm256_broadcastsi128_si256(
        _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    __m256i c = _mm256_shuffle_epi8(load_pair(src + 32 * i), reverse);
    if (i % 4 == 0) {
        c = _mm256_xor_si256(c, _mm256_inserti128_si256(_mm256_setzero_si256(), x, 0));
    }
    __m256i h = load_pair(st->h_powers[2 * (i % 4)]);
    __m256i h_sum = _mm256_xor_si256(h, _mm256_shuffle_epi32(h, 0x4e));
    __m256i c_sum = _mm256_xor_si256(c, _mm256_shuffle_epi32(c, 0x4e));
    *lo = _mm256_xor_si256(*lo, _mm256_clmulepi64_epi128(c, h, 0x00));
    *hi = _mm256_xor_si256(*hi, _mm256_clmulepi64_epi128(c, h, 0x11));
    *mid = _mm256_xor_si256(*mid, _mm256_clmulepi64_epi128(c_sum, h_sum, 0x00));
}

/* The two halves' sums add up (the reduction is linear), then one reduction. */
INLINE_VAES __m128i reduce_halves(__m256i lo, __m256i hi, __m256i mid)
{
    __m128i lo128 = _mm_xor_si128(_mm256_castsi256_si128(lo), _mm256_extracti128_si256(lo, 1));
    __m128i hi128 = _mm_xor_si128(_mm256_castsi256_si128(hi), _mm256_extracti128_si256(hi, 1));
    __m128i mid128 = _mm_xor_si128(_mm256_castsi256_si128(mid), _mm256_extracti128_si256(mid, 1));
    return karatsuba_reduce(lo128, hi128, mid128);
}

/* As step8_aesni, for 16 blocks in 8 registers of 2 (AES has 8 independent registers to
 * work on between rounds), GHASH in two runs of 8 with a reduction each. */
INLINE_VAES void step16_vaes(const gcm_state *st, __m128i *counter, __m128i *x,
                             const unsigned char *in, unsigned char *out,
                             const unsigned char *hash)
{
    const __m256i swap = _mm256_broadcastsi128_si256(
        _mm_set_epi8(12, 13, 14, 15, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
    __m256i b[8];
    __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256(), mid = _mm256_setzero_si256();
    __m256i base = _mm256_broadcastsi128_si256(*counter);
    __m256i key = _mm256_broadcastsi128_si256(load_block(st->round_keys[0]));
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        __m256i n = _mm256_add_epi32(base, _mm256_set_epi32(2 * i + 2, 0, 0, 0, 2 * i + 1, 0, 0, 0));
        b[i] = _mm256_xor_si256(_mm256_shuffle_epi8(n, swap), key);
    }
    *counter = _mm_add_epi32(*counter, _mm_set_epi32(16, 0, 0, 0));
#pragma GCC unroll 8
    for (unsigned int r = 1; r <= 8; r++) {
        key = _mm256_broadcastsi128_si256(load_block(st->round_keys[r]));
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++) {
            b[i] = _mm256_aesenc_epi128(b[i], key);
        }
        if (hash != NULL) {
            hash_two_of_16(st, hash, r - 1, *x, &lo, &hi, &mid);
            if (r == 4) {
                *x = reduce_halves(lo, hi, mid);
                lo = hi = mid = _mm256_setzero_si256();
            }
        }
    }
    for (unsigned int r = 9; r < st->rounds; r++) {
        key = _mm256_broadcastsi128_si256(load_block(st->round_keys[r]));
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++) {
            b[i] = _mm256_aesenc_epi128(b[i], key);
        }
    }
    if (hash != NULL) {
        *x = reduce_halves(lo, hi, mid);
    }
    key = _mm256_broadcastsi128_si256(load_block(st->round_keys[st->rounds]));
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        __m256i output = _mm256_xor_si256(_mm256_aesenclast_epi128(b[i], key), load_pair(in + 32 * i));
        _mm256_storeu_si256((__m256i *) (out + 32 * i), output);
    }
}

INLINE_VAES void hash16_vaes(const gcm_state *st, __m128i *x,
                             const unsigned char *src)
{
    __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256(), mid = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (unsigned int i = 0; i < 8; i++) {
        hash_two_of_16(st, src, i, *x, &lo, &hi, &mid);
        if (i == 3) {
            *x = reduce_halves(lo, hi, mid);
            lo = hi = mid = _mm256_setzero_si256();
        }
    }
    *x = reduce_halves(lo, hi, mid);
}

static TARGET_VAES void update_vaes(const gcm_state *st, int decrypt,
                                    unsigned char counter_bytes[16], unsigned char ghash[16],
                                    const unsigned char *in, unsigned char *out, size_t blocks)
{
    __m128i counter = counter_swap(load_block(counter_bytes));
    __m128i x = byte_reverse(load_block(ghash));
    /* As blocks_all_aesni, 16 blocks per step; the rest 8 per step and one by one. */
    if (decrypt) {
        for (; blocks >= 16; blocks -= 16, in += 256, out += 256) {
            step16_vaes(st, &counter, &x, in, out, in);
        }
    } else if (blocks >= 16) {
        step16_vaes(st, &counter, &x, in, out, NULL);
        for (blocks -= 16, in += 256, out += 256; blocks >= 16; blocks -= 16, in += 256, out += 256) {
            step16_vaes(st, &counter, &x, in, out, out - 256);
        }
        hash16_vaes(st, &x, out - 256);
    }
    blocks_all_aesni(st, decrypt, &counter, &x, in, out, blocks);
    _mm_storeu_si128((__m128i *) counter_bytes, counter_swap(counter));
    _mm_storeu_si128((__m128i *) ghash, byte_reverse(x));
}

#endif /* GCM_ACCEL_VAES */

/* ---- Entry points ------------------------------------------------------------------ */

static bool rounds_valid(const unsigned char *round_keys, int rounds)
{
    return round_keys != NULL && (rounds == 10 || rounds == 12 || rounds == 14);
}

void mbedtls_stream_gcm_accel_setkey(unsigned char *impl,
                                     unsigned char h_powers[MBEDTLS_STREAM_GCM_POWERS][16],
                                     const unsigned char *round_keys, int rounds)
{
    *impl = MBEDTLS_STREAM_GCM_STOCK;
    if (!rounds_valid(round_keys, rounds)) {
        return;
    }
    int chosen = current_impl();
    if (chosen == MBEDTLS_STREAM_GCM_STOCK) {
        return;
    }
    const gcm_state st = { (const unsigned char (*)[16]) round_keys, (unsigned int) rounds, NULL };
    compute_h_powers(&st, h_powers);
    *impl = (unsigned char) chosen;
}

size_t mbedtls_stream_gcm_accel_update(int impl,
                                       const unsigned char h_powers[MBEDTLS_STREAM_GCM_POWERS][16],
                                       const unsigned char *round_keys, int rounds, int decrypt,
                                       unsigned char counter[16], unsigned char ghash[16],
                                       const unsigned char *input, unsigned char *output,
                                       size_t length)
{
    size_t blocks = length / 16;
    if (blocks == 0 || !rounds_valid(round_keys, rounds)) {
        return 0;
    }
    const gcm_state st = { (const unsigned char (*)[16]) round_keys, (unsigned int) rounds,
                           h_powers };
    switch (impl) {
#if defined(GCM_ACCEL_VAES)
        case MBEDTLS_STREAM_GCM_VAES:
            update_vaes(&st, decrypt, counter, ghash, input, output, blocks);
            return blocks * 16;
#endif
        case MBEDTLS_STREAM_GCM_AESNI:
            update_aesni(&st, decrypt, counter, ghash, input, output, blocks);
            return blocks * 16;
        default:
            return 0;
    }
}

#else /* !GCM_ACCEL_X86: Mbed TLS's own code everywhere. */

void mbedtls_stream_gcm_accel_setkey(unsigned char *impl,
                                     unsigned char h_powers[MBEDTLS_STREAM_GCM_POWERS][16],
                                     const unsigned char *round_keys, int rounds)
{
    (void) h_powers;
    (void) round_keys;
    (void) rounds;
    *impl = MBEDTLS_STREAM_GCM_STOCK;
}

size_t mbedtls_stream_gcm_accel_update(int impl,
                                       const unsigned char h_powers[MBEDTLS_STREAM_GCM_POWERS][16],
                                       const unsigned char *round_keys, int rounds, int decrypt,
                                       unsigned char counter[16], unsigned char ghash[16],
                                       const unsigned char *input, unsigned char *output,
                                       size_t length)
{
    (void) impl;
    (void) h_powers;
    (void) round_keys;
    (void) rounds;
    (void) decrypt;
    (void) counter;
    (void) ghash;
    (void) input;
    (void) output;
    (void) length;
    return 0;
}

int mbedtls_stream_gcm_accel_supported(void)
{
    return MBEDTLS_STREAM_GCM_STOCK;
}

int mbedtls_stream_gcm_accel_select(int impl)
{
    (void) impl;
    return MBEDTLS_STREAM_GCM_STOCK;
}

#endif /* GCM_ACCEL_X86 */
