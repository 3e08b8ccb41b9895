/*
 * ECDSA P-256 signature verification: u1*G + u2*Q in one pass (Shamir's trick over wNAF
 * digits), for mbedtls_ecdsa_verify() (see p256_verify.h).
 *
 * Numbers are four 64-bit limbs, least significant first, multiplied with unsigned
 * __int128. Field elements (mod p) and the scalar arithmetic (mod n) use Montgomery
 * multiplication with R = 2^256. Modulo p = 2^256 - 2^224 + 2^192 + 2^96 - 1 the reduction
 * needs one multiplication per limb instead of four (fe_reduce), and squares have their own
 * routine; modulo n, used a few hundred times per verification, it is the generic one.
 * Points are Jacobian (X, Y, Z), affine x = X/Z^2, y = Y/Z^3, the point at infinity Z = 0.
 * The multiples of G come from a table of affine points built once; those of Q are built
 * for each call. All of it is variable time: a verification only sees public values.
 *
 * Curve constants: SEC 2 v2 section 2.4.2 (secp256r1), also FIPS 186-4 D.1.2.3.
 */
/* The coordinates of mbedtls_ecp_point and the limbs' sign of mbedtls_mpi are private
 * fields in Mbed TLS 3. */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS

#include "p256_verify.h"

#if defined(MBEDTLS_STREAM_P256_VERIFY)

#include <pthread.h>
#include <stdint.h>
#include <string.h>

typedef unsigned __int128 u128;

int mst_p256_fast_path = 1;
static unsigned long verify_count;

/* p, n, b, G: least significant limb first. */
static const uint64_t P[4] = {0xffffffffffffffffu, 0x00000000ffffffffu,
                              0x0000000000000000u, 0xffffffff00000001u};
static const uint64_t N[4] = {0xf3b9cac2fc632551u, 0xbce6faada7179e84u,
                              0xffffffffffffffffu, 0xffffffff00000000u};
static const uint64_t B[4] = {0x3bce3c3e27d2604bu, 0x651d06b0cc53b0f6u,
                              0xb3ebbd55769886bcu, 0x5ac635d8aa3a93e7u};
static const uint64_t GX[4] = {0xf4a13945d898c296u, 0x77037d812deb33a0u,
                               0xf8bce6e563a440f2u, 0x6b17d1f2e12c4247u};
static const uint64_t GY[4] = {0xcbb6406837bf51f5u, 0x2bce33576b315eceu,
                               0x8ee7eb4a7c0f9e16u, 0x4fe342e2fe1a7f9bu};
/* -m^-1 mod 2^64 for Montgomery reduction modulo p and modulo n. */
#define P_FACTOR 1u
#define N_FACTOR 0xccd1c8aaee00bc4fu

/* wNAF widths: G's digits index a table of 2^(G_WINDOW-1) odd multiples, built once;
 * Q's a table of 2^(Q_WINDOW-1), built for every verification. */
#define G_WINDOW 7
#define Q_WINDOW 5
#define G_TABLE_SIZE (1 << (G_WINDOW - 1))
#define Q_TABLE_SIZE (1 << (Q_WINDOW - 1))
/* A 256-bit scalar has at most 257 wNAF digits. */
#define WNAF_LENGTH 257

typedef struct {
    uint64_t x[4], y[4], z[4];
} jacobian_point;

typedef struct {
    uint64_t x[4], y[4];
} affine_point;

/* Filled once by build_tables(): R^2 mod p and mod n (to enter Montgomery form), R mod p
 * (one, in Montgomery form), b in Montgomery form, and 1G, 3G, ..., (2*G_TABLE_SIZE-1)G. */
static uint64_t p_r2[4], n_r2[4], p_one[4], n_one[4], b_mont[4];
static affine_point g_table[G_TABLE_SIZE];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* ---- 256-bit integers ---- */

static int is_zero(const uint64_t a[4])
{
    return (a[0] | a[1] | a[2] | a[3]) == 0;
}

static int equal(const uint64_t a[4], const uint64_t b[4])
{
    return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])) == 0;
}

/* -1, 0 or 1 as a < b, a == b, a > b. */
static int compare(const uint64_t a[4], const uint64_t b[4])
{
    for (int i = 3; i >= 0; i--) {
        if (a[i] != b[i]) {
            return a[i] < b[i] ? -1 : 1;
        }
    }
    return 0;
}

/* r = a + b, returning the carry out. */
static uint64_t add(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    u128 c = 0;
    for (int i = 0; i < 4; i++) {
        c += (u128) a[i] + b[i];
        r[i] = (uint64_t) c;
        c >>= 64;
    }
    return (uint64_t) c;
}

/* r = a - b, returning the borrow out (1 when a < b). */
static uint64_t subtract(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t d = a[i] - b[i];
        uint64_t out = (a[i] < b[i]) | (d < borrow);
        r[i] = d - borrow;
        borrow = out;
    }
    return borrow;
}

/* Big-endian 32 bytes to limbs. */
static void from_bytes(uint64_t r[4], const unsigned char bytes[32])
{
    for (int i = 0; i < 4; i++) {
        uint64_t v = 0;
        for (int j = 0; j < 8; j++) {
            v = (v << 8) | bytes[(3 - i) * 8 + j];
        }
        r[i] = v;
    }
}

/* An MPI in [0, 2^256) to limbs; -1 when it is negative or larger. */
static int from_mpi(uint64_t r[4], const mbedtls_mpi *x)
{
    unsigned char bytes[32];
    if (mbedtls_mpi_cmp_int(x, 0) < 0 || mbedtls_mpi_write_binary(x, bytes, 32) != 0) {
        return -1;
    }
    from_bytes(r, bytes);
    return 0;
}

/* ---- Arithmetic modulo m (p or n), a and b in [0, m) ---- */

static void mod_add(uint64_t r[4], const uint64_t a[4], const uint64_t b[4],
                    const uint64_t m[4])
{
    if (add(r, a, b) || compare(r, m) >= 0) {
        subtract(r, r, m);
    }
}

static void mod_sub(uint64_t r[4], const uint64_t a[4], const uint64_t b[4],
                    const uint64_t m[4])
{
    if (subtract(r, a, b)) {
        add(r, r, m);
    }
}

/* r = a * b / 2^256 mod m (Montgomery multiplication, operand scanning), with factor =
 * -m^-1 mod 2^64; a, b in [0, m), r in [0, m). r may alias a or b. */
static inline void mont_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4],
                            const uint64_t m[4], uint64_t factor)
{
    uint64_t t[6] = {0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 4; i++) {
        u128 c = 0;
        for (int j = 0; j < 4; j++) {
            c += (u128) a[j] * b[i] + t[j];
            t[j] = (uint64_t) c;
            c >>= 64;
        }
        c += t[4];
        t[4] = (uint64_t) c;
        t[5] = (uint64_t) (c >> 64);

        /* Add q*m, q chosen so that the lowest limb becomes zero, and shift one limb. */
        uint64_t q = t[0] * factor;
        c = ((u128) q * m[0] + t[0]) >> 64;
        for (int j = 1; j < 4; j++) {
            c += (u128) q * m[j] + t[j];
            t[j - 1] = (uint64_t) c;
            c >>= 64;
        }
        c += t[4];
        t[3] = (uint64_t) c;
        t[4] = t[5] + (uint64_t) (c >> 64);
    }
    /* t < 2m here. */
    if (t[4] != 0 || compare(t, m) >= 0) {
        subtract(t, t, m);
    }
    memcpy(r, t, 4 * sizeof(uint64_t));
}

/* r = a^e mod m, a and r in Montgomery form (one = R mod m), 4-bit fixed windows. */
static void mont_pow(uint64_t r[4], const uint64_t a[4], const uint64_t e[4],
                     const uint64_t m[4], uint64_t factor, const uint64_t one[4])
{
    uint64_t powers[16][4];
    uint64_t acc[4];
    memcpy(powers[0], one, sizeof(powers[0]));
    for (int i = 1; i < 16; i++) {
        mont_mul(powers[i], powers[i - 1], a, m, factor);
    }
    memcpy(acc, one, sizeof(acc));
    for (int i = 63; i >= 0; i--) {
        if (i != 63) {
            for (int k = 0; k < 4; k++) {
                mont_mul(acc, acc, acc, m, factor);
            }
        }
        unsigned nibble = (unsigned) (e[i / 16] >> ((i % 16) * 4)) & 15;
        if (nibble != 0) {
            mont_mul(acc, acc, powers[nibble], m, factor);
        }
    }
    memcpy(r, acc, sizeof(acc));
}

/* ---- The field GF(p), elements in Montgomery form ---- */

/* r = t / 2^256 mod p for t < 2^256 p (Montgomery reduction of a 512-bit product), with p's
 * form doing the work of the multiplications: each step's q = t[i] (the factor is 1), and
 * q p = q 2^256 - q 2^224 + q 2^192 + q 2^96 - q, so adding q p clears limb i, carries q
 * into limb i+1 together with q (2^32 - 1), that is q 2^32 in all, nothing into limb i+2,
 * and q p[3] into limb i+3. A carry out of limb i+4 waits for the next step's limb i+5. */
static void fe_reduce(uint64_t r[4], uint64_t t[8])
{
    uint64_t pending = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t q = t[i];
        u128 c = (u128) t[i + 1] + ((u128) q << 32);
        t[i + 1] = (uint64_t) c;
        c >>= 64;
        c += t[i + 2];
        t[i + 2] = (uint64_t) c;
        c >>= 64;
        c += (u128) q * P[3] + t[i + 3];
        t[i + 3] = (uint64_t) c;
        c >>= 64;
        c += (u128) t[i + 4] + pending;
        t[i + 4] = (uint64_t) c;
        pending = (uint64_t) (c >> 64);
    }
    /* t[4..7] + pending 2^256 < 2p */
    if (pending != 0 || compare(t + 4, P) >= 0) {
        subtract(t + 4, t + 4, P);
    }
    memcpy(r, t + 4, 4 * sizeof(uint64_t));
}

/* r = a b / 2^256 mod p; r may alias a or b. */
static void fe_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    uint64_t t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 4; i++) {
        u128 c = 0;
        for (int j = 0; j < 4; j++) {
            c += (u128) a[i] * b[j] + t[i + j];
            t[i + j] = (uint64_t) c;
            c >>= 64;
        }
        t[i + 4] = (uint64_t) c;
    }
    fe_reduce(r, t);
}

/* r = a^2 / 2^256 mod p: the products a[i] a[j] (i < j) once, doubled, plus the squares. */
static void fe_sqr(uint64_t r[4], const uint64_t a[4])
{
    uint64_t t[8];
    u128 c;
    c = (u128) a[0] * a[1];
    t[1] = (uint64_t) c;
    c >>= 64;
    c += (u128) a[0] * a[2];
    t[2] = (uint64_t) c;
    c >>= 64;
    c += (u128) a[0] * a[3];
    t[3] = (uint64_t) c;
    t[4] = (uint64_t) (c >> 64);
    c = (u128) a[1] * a[2] + t[3];
    t[3] = (uint64_t) c;
    c >>= 64;
    c += (u128) a[1] * a[3] + t[4];
    t[4] = (uint64_t) c;
    t[5] = (uint64_t) (c >> 64);
    c = (u128) a[2] * a[3] + t[5];
    t[5] = (uint64_t) c;
    t[6] = (uint64_t) (c >> 64);

    t[7] = t[6] >> 63;
    t[6] = (t[6] << 1) | (t[5] >> 63);
    t[5] = (t[5] << 1) | (t[4] >> 63);
    t[4] = (t[4] << 1) | (t[3] >> 63);
    t[3] = (t[3] << 1) | (t[2] >> 63);
    t[2] = (t[2] << 1) | (t[1] >> 63);
    t[1] <<= 1;

    c = (u128) a[0] * a[0];
    t[0] = (uint64_t) c;
    c >>= 64;
    c += t[1];
    t[1] = (uint64_t) c;
    c >>= 64;
    c += (u128) a[1] * a[1] + t[2];
    t[2] = (uint64_t) c;
    c >>= 64;
    c += t[3];
    t[3] = (uint64_t) c;
    c >>= 64;
    c += (u128) a[2] * a[2] + t[4];
    t[4] = (uint64_t) c;
    c >>= 64;
    c += t[5];
    t[5] = (uint64_t) c;
    c >>= 64;
    c += (u128) a[3] * a[3] + t[6];
    t[6] = (uint64_t) c;
    c >>= 64;
    t[7] += (uint64_t) c;
    fe_reduce(r, t);
}

static void fe_add(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    mod_add(r, a, b, P);
}

static void fe_sub(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    mod_sub(r, a, b, P);
}

static void fe_neg(uint64_t r[4], const uint64_t a[4])
{
    static const uint64_t zero[4] = {0, 0, 0, 0};
    mod_sub(r, zero, a, P);
}

static void fe_from_int(uint64_t r[4], const uint64_t a[4])
{
    fe_mul(r, a, p_r2);
}

static void fe_invert(uint64_t r[4], const uint64_t a[4])
{
    static const uint64_t p_minus_2[4] = {0xfffffffffffffffdu, 0x00000000ffffffffu,
                                          0x0000000000000000u, 0xffffffff00000001u};
    mont_pow(r, a, p_minus_2, P, P_FACTOR, p_one);
}

/* ---- Points (a = -3) ---- */

static int is_infinity(const jacobian_point *a)
{
    return is_zero(a->z);
}

static void set_infinity(jacobian_point *r)
{
    memset(r, 0, sizeof(*r));
}

/* r = 2a ("dbl-2001-b", Bernstein-Lange Explicit-Formulas Database); r may alias a. The
 * point at infinity doubles to itself (Z stays 0); P-256 has no point of order 2. */
static void point_double(jacobian_point *r, const jacobian_point *a)
{
    uint64_t delta[4], gamma[4], beta[4], alpha[4], t[4], u[4];
    if (is_infinity(a)) {
        *r = *a;
        return;
    }
    fe_sqr(delta, a->z);
    fe_sqr(gamma, a->y);
    fe_mul(beta, a->x, gamma);
    fe_sub(t, a->x, delta);
    fe_add(u, a->x, delta);
    fe_mul(alpha, t, u);
    fe_add(t, alpha, alpha);
    fe_add(alpha, t, alpha);                 /* alpha = 3 (x - delta)(x + delta) */
    /* Z3 = (Y + Z)^2 - gamma - delta, before Y and Z are overwritten. */
    fe_add(t, a->y, a->z);
    fe_sqr(t, t);
    fe_sub(t, t, gamma);
    fe_sub(r->z, t, delta);
    /* X3 = alpha^2 - 8 beta */
    fe_add(beta, beta, beta);
    fe_add(beta, beta, beta);                /* beta = 4 beta */
    fe_sqr(t, alpha);
    fe_sub(t, t, beta);
    fe_sub(r->x, t, beta);
    /* Y3 = alpha (4 beta - X3) - 8 gamma^2 */
    fe_sub(u, beta, r->x);
    fe_mul(u, alpha, u);
    fe_sqr(gamma, gamma);
    fe_add(gamma, gamma, gamma);
    fe_add(gamma, gamma, gamma);
    fe_add(gamma, gamma, gamma);
    fe_sub(r->y, u, gamma);
}

/* The common end of both additions: from U1, S1 (the first point's coordinates scaled to
 * the second's Z), H = U2 - U1 != 0 and R = S2 - S1, X3 and Y3; Z3 is the caller's. */
static void finish_addition(jacobian_point *r, const uint64_t u1[4], const uint64_t s1[4],
                            const uint64_t h[4], const uint64_t rr[4])
{
    uint64_t hh[4], hhh[4], v[4], t[4];
    fe_sqr(hh, h);
    fe_mul(hhh, hh, h);
    fe_mul(v, u1, hh);
    /* X3 = R^2 - H^3 - 2 U1 H^2 */
    fe_sqr(t, rr);
    fe_sub(t, t, hhh);
    fe_sub(t, t, v);
    fe_sub(r->x, t, v);
    /* Y3 = R (U1 H^2 - X3) - S1 H^3 */
    fe_sub(t, v, r->x);
    fe_mul(t, rr, t);
    fe_mul(v, s1, hhh);
    fe_sub(r->y, t, v);
}

/* r = a + b, both Jacobian; r may alias a. Equal points double, opposite ones give the
 * point at infinity. */
static void point_add(jacobian_point *r, const jacobian_point *a, const jacobian_point *b)
{
    uint64_t z1z1[4], z2z2[4], u1[4], u2[4], s1[4], s2[4], h[4], rr[4], z3[4];
    if (is_infinity(a)) {
        *r = *b;
        return;
    }
    if (is_infinity(b)) {
        *r = *a;
        return;
    }
    fe_sqr(z1z1, a->z);
    fe_sqr(z2z2, b->z);
    fe_mul(u1, a->x, z2z2);
    fe_mul(u2, b->x, z1z1);
    fe_mul(s1, a->y, b->z);
    fe_mul(s1, s1, z2z2);
    fe_mul(s2, b->y, a->z);
    fe_mul(s2, s2, z1z1);
    fe_sub(h, u2, u1);
    fe_sub(rr, s2, s1);
    if (is_zero(h)) {
        if (is_zero(rr)) {
            point_double(r, a);
        } else {
            set_infinity(r);
        }
        return;
    }
    fe_mul(z3, a->z, b->z);
    fe_mul(r->z, z3, h);
    finish_addition(r, u1, s1, h, rr);
}

/* r = a + b (or a - b when negate), b affine and not the point at infinity; r may alias
 * a. */
static void point_add_affine(jacobian_point *r, const jacobian_point *a,
                             const affine_point *b, int negate)
{
    uint64_t y2[4], z1z1[4], u2[4], s2[4], h[4], rr[4], u1[4], s1[4];
    if (negate) {
        fe_neg(y2, b->y);
    } else {
        memcpy(y2, b->y, sizeof(y2));
    }
    if (is_infinity(a)) {
        memcpy(r->x, b->x, sizeof(r->x));
        memcpy(r->y, y2, sizeof(r->y));
        memcpy(r->z, p_one, sizeof(r->z));
        return;
    }
    fe_sqr(z1z1, a->z);
    fe_mul(u2, b->x, z1z1);
    fe_mul(s2, y2, a->z);
    fe_mul(s2, s2, z1z1);
    fe_sub(h, u2, a->x);
    fe_sub(rr, s2, a->y);
    if (is_zero(h)) {
        if (is_zero(rr)) {
            point_double(r, a);
        } else {
            set_infinity(r);
        }
        return;
    }
    memcpy(u1, a->x, sizeof(u1));
    memcpy(s1, a->y, sizeof(s1));
    fe_mul(r->z, a->z, h);
    finish_addition(r, u1, s1, h, rr);
}

/* table[i] = (2i + 1) * a, for i < count, Jacobian. */
static void odd_multiples(jacobian_point *table, const jacobian_point *a, int count)
{
    jacobian_point twice;
    point_double(&twice, a);
    table[0] = *a;
    for (int i = 1; i < count; i++) {
        point_add(&table[i], &table[i - 1], &twice);
    }
}

static void build_tables(void)
{
    static const uint64_t one[4] = {1, 0, 0, 0};
    jacobian_point g, multiples[G_TABLE_SIZE];

    /* R mod m = 2^256 - m (m > 2^255), then doubled 256 times: R^2 mod m. */
    subtract(p_one, one, one);
    subtract(p_one, p_one, P);
    subtract(n_one, one, one);
    subtract(n_one, n_one, N);
    memcpy(p_r2, p_one, sizeof(p_r2));
    memcpy(n_r2, n_one, sizeof(n_r2));
    for (int i = 0; i < 256; i++) {
        mod_add(p_r2, p_r2, p_r2, P);
        mod_add(n_r2, n_r2, n_r2, N);
    }
    fe_from_int(b_mont, B);

    fe_from_int(g.x, GX);
    fe_from_int(g.y, GY);
    memcpy(g.z, p_one, sizeof(g.z));
    odd_multiples(multiples, &g, G_TABLE_SIZE);
    for (int i = 0; i < G_TABLE_SIZE; i++) {
        uint64_t zinv[4], zinv2[4];
        fe_invert(zinv, multiples[i].z);
        fe_sqr(zinv2, zinv);
        fe_mul(g_table[i].x, multiples[i].x, zinv2);
        fe_mul(zinv2, zinv2, zinv);
        fe_mul(g_table[i].y, multiples[i].y, zinv2);
    }
}

/* The width-w NAF of k < 2^256: digits[i] odd in (-2^(w-1), 2^(w-1)) or 0, k = sum
 * digits[i] 2^i, and no two nonzero digits within w places. */
static void wnaf(signed char digits[WNAF_LENGTH], const uint64_t k_in[4], int w)
{
    uint64_t k[5] = {k_in[0], k_in[1], k_in[2], k_in[3], 0};
    const uint64_t mask = ((uint64_t) 1 << w) - 1;
    memset(digits, 0, WNAF_LENGTH);
    for (int i = 0; i < WNAF_LENGTH && (k[0] | k[1] | k[2] | k[3] | k[4]) != 0; i++) {
        if (k[0] & 1) {
            int64_t d = (int64_t) (k[0] & mask);
            if (d >= (int64_t) 1 << (w - 1)) {
                d -= (int64_t) 1 << w;
            }
            digits[i] = (signed char) d;
            if (d > 0) {
                k[0] -= (uint64_t) d;           /* the low bits are d: no borrow */
            } else {
                u128 c = (u128) k[0] + (uint64_t) -d;
                k[0] = (uint64_t) c;
                for (int j = 1; j < 5 && (c >> 64) != 0; j++) {
                    c = (u128) k[j] + 1;
                    k[j] = (uint64_t) c;
                }
            }
        }
        for (int j = 0; j < 4; j++) {
            k[j] = (k[j] >> 1) | (k[j + 1] << 63);
        }
        k[4] >>= 1;
    }
}

unsigned long mst_p256_verify_count(void)
{
    return __atomic_load_n(&verify_count, __ATOMIC_RELAXED);
}

int mst_p256_verify(const unsigned char *buf, size_t blen, const mbedtls_ecp_point *Q,
                    const mbedtls_mpi *r, const mbedtls_mpi *s)
{
    static const uint64_t n_minus_2[4] = {0xf3b9cac2fc63254fu, 0xbce6faada7179e84u,
                                          0xffffffffffffffffu, 0xffffffff00000000u};
    uint64_t rv[4], sv[4], e[4], qx[4], qy[4], t[4], u[4], u1[4], u2[4];
    unsigned char hash[32];
    signed char digits1[WNAF_LENGTH], digits2[WNAF_LENGTH];
    jacobian_point q, q_table[Q_TABLE_SIZE], acc;

    __atomic_fetch_add(&verify_count, 1, __ATOMIC_RELAXED);
    pthread_once(&tables_once, build_tables);

    /* SEC1 4.1.4 step 1: r and s in [1, n-1]. */
    if (from_mpi(rv, r) != 0 || is_zero(rv) || compare(rv, N) >= 0 ||
        from_mpi(sv, s) != 0 || is_zero(sv) || compare(sv, N) >= 0) {
        return MBEDTLS_ERR_ECP_VERIFY_FAILED;
    }

    /* Step 3: the leftmost 256 bits of the hash (all of a shorter one), reduced once. */
    size_t used = blen > 32 ? 32 : blen;
    memset(hash, 0, sizeof(hash));
    if (used > 0) {
        memcpy(hash + 32 - used, buf, used);
    }
    from_bytes(e, hash);
    if (compare(e, N) >= 0) {
        subtract(e, e, N);
    }

    /* The key: affine, coordinates in [0, p), on the curve (SEC1 3.2.2.1). */
    if (mbedtls_mpi_cmp_int(&Q->Z, 1) != 0 || from_mpi(qx, &Q->X) != 0 ||
        from_mpi(qy, &Q->Y) != 0 || compare(qx, P) >= 0 || compare(qy, P) >= 0) {
        return MBEDTLS_ERR_ECP_INVALID_KEY;
    }
    fe_from_int(q.x, qx);
    fe_from_int(q.y, qy);
    memcpy(q.z, p_one, sizeof(q.z));
    fe_sqr(t, q.x);
    fe_mul(t, t, q.x);
    fe_sub(t, t, q.x);
    fe_sub(t, t, q.x);
    fe_sub(t, t, q.x);
    fe_add(t, t, b_mont);                    /* x^3 - 3x + b */
    fe_sqr(u, q.y);
    if (!equal(t, u)) {
        return MBEDTLS_ERR_ECP_INVALID_KEY;
    }

    /* Step 4: u1 = e/s, u2 = r/s mod n. With s^-1 in Montgomery form, a Montgomery
     * product with a plain number gives a plain number. */
    mont_mul(t, sv, n_r2, N, N_FACTOR);
    mont_pow(t, t, n_minus_2, N, N_FACTOR, n_one);
    mont_mul(u1, e, t, N, N_FACTOR);
    mont_mul(u2, rv, t, N, N_FACTOR);

    /* Step 5: u1 G + u2 Q, one doubling per bit for both. */
    wnaf(digits1, u1, G_WINDOW);
    wnaf(digits2, u2, Q_WINDOW);
    odd_multiples(q_table, &q, Q_TABLE_SIZE);
    set_infinity(&acc);
    int top = WNAF_LENGTH - 1;
    while (top >= 0 && digits1[top] == 0 && digits2[top] == 0) {
        top--;
    }
    for (int i = top; i >= 0; i--) {
        point_double(&acc, &acc);
        int d = digits1[i];
        if (d > 0) {
            point_add_affine(&acc, &acc, &g_table[d / 2], 0);
        } else if (d < 0) {
            point_add_affine(&acc, &acc, &g_table[-d / 2], 1);
        }
        d = digits2[i];
        if (d > 0) {
            point_add(&acc, &acc, &q_table[d / 2]);
        } else if (d < 0) {
            jacobian_point negated = q_table[-d / 2];
            fe_neg(negated.y, negated.y);
            point_add(&acc, &acc, &negated);
        }
    }
    if (is_infinity(&acc)) {
        return MBEDTLS_ERR_ECP_VERIFY_FAILED;
    }

    /* Steps 6-8: x(R) mod n == r, where x(R) = X/Z^2 in [0, p) and n < p, so x(R) is r or
     * r + n. Compared as X == r Z^2 (mod p), without an inversion. */
    fe_sqr(u, acc.z);
    fe_from_int(t, rv);
    fe_mul(t, t, u);
    if (equal(t, acc.x)) {
        return 0;
    }
    if (add(t, rv, N) == 0 && compare(t, P) < 0) {
        fe_from_int(t, t);
        fe_mul(t, t, u);
        if (equal(t, acc.x)) {
            return 0;
        }
    }
    return MBEDTLS_ERR_ECP_VERIFY_FAILED;
}

#endif /* MBEDTLS_STREAM_P256_VERIFY */
