/*
 * p256_verify_test.c: src/crypto/p256_verify.c against Mbed TLS's own ECDSA verification.
 *
 *   p256_verify_test CERTS_DIR ECDSA_DATA_FILE [NAME]
 *
 * Each check runs mbedtls_ecdsa_verify() twice, with our P-256 code (mst_p256_fast_path =
 * 1) and with Mbed TLS's stock code (0), and requires the same result, plus the expected
 * one where the test knows it: random keys, hashes and signatures, edge values of r, s, the
 * hash and the key, every byte of DER signatures changed, Mbed TLS's P-256 test vectors
 * (read from tests/suites/test_suite_ecdsa.data of the fetched tree), and that X.509 and pk
 * reach our code. Prints one line per test and "p256: N passed, N failed"; also the
 * verifications per second of both, for information.
 */
/* The coordinates of mbedtls_ecp_point and the limbs' sign of mbedtls_mpi are private
 * fields in Mbed TLS 3. */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "p256_verify.h"

/* The field arithmetic's own functions are static: this program compiles a second copy of
 * the file, its public names changed, to test them one by one. */
#define mst_p256_verify field_copy_p256_verify
#define mst_p256_fast_path field_copy_p256_fast_path
#define mst_p256_verify_count field_copy_p256_verify_count
#undef MST_P256_VERIFY_H
#include "../../src/crypto/p256_verify.c"

#include "harness.h"
#undef mst_p256_verify
#undef mst_p256_fast_path
#undef mst_p256_verify_count

static const char *certs_dir;
static const char *vectors_path;
static mbedtls_ecp_group grp;


/* A deterministic generator (xorshift64*), so that a failure reproduces. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t next_random(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

static int random_bytes(void *context, unsigned char *out, size_t len)
{
    (void) context;
    for (size_t i = 0; i < len; i++) {
        out[i] = (unsigned char) next_random();
    }
    return 0;
}

/* The result of mbedtls_ecdsa_verify() with our code and with the stock code; *stock gets
 * the latter. Returns ours. */
static int verify_both(const unsigned char *hash, size_t hlen, const mbedtls_ecp_point *Q,
                       const mbedtls_mpi *r, const mbedtls_mpi *s, int *stock)
{
    mst_p256_fast_path = 0;
    *stock = mbedtls_ecdsa_verify(&grp, hash, hlen, Q, r, s);
    mst_p256_fast_path = 1;
    return mbedtls_ecdsa_verify(&grp, hash, hlen, Q, r, s);
}

static bool report_difference(const char *what, int ours, int stock)
{
    if (ours != stock) {
        printf("    %s: ours -0x%04X, stock -0x%04X\n", what, (unsigned) -ours,
               (unsigned) -stock);
        return true;
    }
    return false;
}

/* Both verifications agree, and give `expected` unless it is 1 (any result). */
#define CHECK_BOTH(hash, hlen, Q, r, s, expected)                                 \
    do {                                                                          \
        int stock_;                                                               \
        int ours_ = verify_both((hash), (hlen), (Q), (r), (s), &stock_);          \
        CHECK(!report_difference(#expected, ours_, stock_));                     \
        if ((expected) != 1 && ours_ != (expected)) {                            \
            printf("    got -0x%04X\n", (unsigned) -ours_);                      \
            CHECK(ours_ == (expected));                                           \
        }                                                                         \
    } while (0)

typedef struct {
    mbedtls_mpi d, r, s;
    mbedtls_ecp_point Q;
    unsigned char hash[64];
    size_t hlen;
} signed_hash;

static void signed_hash_init(signed_hash *v)
{
    mbedtls_mpi_init(&v->d);
    mbedtls_mpi_init(&v->r);
    mbedtls_mpi_init(&v->s);
    mbedtls_ecp_point_init(&v->Q);
}

static void signed_hash_free(signed_hash *v)
{
    mbedtls_mpi_free(&v->d);
    mbedtls_mpi_free(&v->r);
    mbedtls_mpi_free(&v->s);
    mbedtls_ecp_point_free(&v->Q);
}

/* A new key and a signature of a random hash of hlen bytes. */
static int make_signed_hash(signed_hash *v, size_t hlen)
{
    v->hlen = hlen;
    random_bytes(NULL, v->hash, hlen);
    int ret = mbedtls_ecp_gen_keypair(&grp, &v->d, &v->Q, random_bytes, NULL);
    if (ret == 0) {
        ret = mbedtls_ecdsa_sign(&grp, &v->r, &v->s, &v->d, v->hash, hlen, random_bytes, NULL);
    }
    return ret;
}

static void test_random_signatures_verify(void)
{
    static const size_t lengths[] = {32, 32, 32, 20, 28, 48, 64, 0, 1, 31, 33};
    signed_hash v;
    signed_hash_init(&v);
    mbedtls_mpi other;
    mbedtls_mpi_init(&other);
    for (int i = 0; i < 120; i++) {
        size_t hlen = lengths[i % (sizeof(lengths) / sizeof(lengths[0]))];
        CHECK(make_signed_hash(&v, hlen) == 0);
        CHECK_BOTH(v.hash, v.hlen, &v.Q, &v.r, &v.s, 0);
        /* (r, n - s) is valid too: it is the signature for -k, whose R has the same x. */
        CHECK(mbedtls_mpi_sub_mpi(&other, &grp.N, &v.s) == 0);
        CHECK_BOTH(v.hash, v.hlen, &v.Q, &v.r, &other, 0);
        /* A different hash (within the 32 bytes that count), r and s swapped: refused. */
        if (hlen > 0) {
            v.hash[next_random() % (hlen < 32 ? hlen : 32)] ^= (unsigned char) (1 + next_random() % 255);
            CHECK_BOTH(v.hash, v.hlen, &v.Q, &v.r, &v.s, MBEDTLS_ERR_ECP_VERIFY_FAILED);
        }
        CHECK_BOTH(v.hash, v.hlen, &v.Q, &v.s, &v.r, MBEDTLS_ERR_ECP_VERIFY_FAILED);
        /* Random r and s: almost surely refused, and the same way. */
        CHECK(mbedtls_mpi_fill_random(&other, 32, random_bytes, NULL) == 0);
        CHECK_BOTH(v.hash, v.hlen, &v.Q, &other, &v.s, 1);
        CHECK_BOTH(v.hash, v.hlen, &v.Q, &v.r, &other, 1);
    }
done:
    mbedtls_mpi_free(&other);
    signed_hash_free(&v);
}

/* r and s at and around 0, n and 2^256, and negative. */
static void test_out_of_range_r_and_s_are_refused(void)
{
    signed_hash v;
    signed_hash_init(&v);
    mbedtls_mpi bad, n_minus_1;
    mbedtls_mpi_init(&bad);
    mbedtls_mpi_init(&n_minus_1);
    CHECK(make_signed_hash(&v, 32) == 0);
    CHECK(mbedtls_mpi_sub_int(&n_minus_1, &grp.N, 1) == 0);
    const int fail = MBEDTLS_ERR_ECP_VERIFY_FAILED;

    CHECK(mbedtls_mpi_lset(&bad, 0) == 0);
    CHECK_BOTH(v.hash, 32, &v.Q, &bad, &v.s, fail);
    CHECK_BOTH(v.hash, 32, &v.Q, &v.r, &bad, fail);
    CHECK(mbedtls_mpi_copy(&bad, &grp.N) == 0);                    /* n */
    CHECK_BOTH(v.hash, 32, &v.Q, &bad, &v.s, fail);
    CHECK_BOTH(v.hash, 32, &v.Q, &v.r, &bad, fail);
    CHECK(mbedtls_mpi_add_int(&bad, &grp.N, 1) == 0);              /* n + 1 */
    CHECK_BOTH(v.hash, 32, &v.Q, &bad, &v.s, fail);
    CHECK_BOTH(v.hash, 32, &v.Q, &v.r, &bad, fail);
    /* r + n is r mod n; a verification that reduced r would accept it. */
    CHECK(mbedtls_mpi_add_mpi(&bad, &v.r, &grp.N) == 0);
    CHECK_BOTH(v.hash, 32, &v.Q, &bad, &v.s, fail);
    CHECK(mbedtls_mpi_add_mpi(&bad, &v.s, &grp.N) == 0);
    CHECK_BOTH(v.hash, 32, &v.Q, &v.r, &bad, fail);
    CHECK(mbedtls_mpi_lset(&bad, 1) == 0);                         /* 2^256 */
    CHECK(mbedtls_mpi_shift_l(&bad, 256) == 0);
    CHECK_BOTH(v.hash, 32, &v.Q, &bad, &v.s, fail);
    CHECK_BOTH(v.hash, 32, &v.Q, &v.r, &bad, fail);
    CHECK(mbedtls_mpi_sub_int(&bad, &bad, 1) == 0);                /* 2^256 - 1 */
    CHECK_BOTH(v.hash, 32, &v.Q, &bad, &v.s, fail);
    CHECK(mbedtls_mpi_copy(&bad, &v.r) == 0);                      /* -r */
    bad.s = -1;
    CHECK_BOTH(v.hash, 32, &v.Q, &bad, &v.s, fail);
    CHECK(mbedtls_mpi_copy(&bad, &v.s) == 0);                      /* -s */
    bad.s = -1;
    CHECK_BOTH(v.hash, 32, &v.Q, &v.r, &bad, fail);
    /* n - 1 is in range: refused only because the signature is wrong. */
    CHECK_BOTH(v.hash, 32, &v.Q, &n_minus_1, &v.s, fail);
    CHECK_BOTH(v.hash, 32, &v.Q, &v.r, &n_minus_1, fail);
    CHECK_BOTH(v.hash, 32, &v.Q, &n_minus_1, &n_minus_1, fail);
    CHECK(mbedtls_mpi_lset(&bad, 1) == 0);
    CHECK_BOTH(v.hash, 32, &v.Q, &bad, &bad, fail);
done:
    mbedtls_mpi_free(&bad);
    mbedtls_mpi_free(&n_minus_1);
    signed_hash_free(&v);
}

/* Valid signatures with s = n - 1, the largest s in range. */
static void test_s_of_n_minus_1_verifies(void)
{
    /* With Q = d G and any k: r = x(kG) mod n, s = (e + r d) / k. For s = n - 1, pick k
     * and r, then e = -k - r d mod n, given as the 32-byte hash. */
    mbedtls_mpi d, k, r, s, e, t;
    mbedtls_ecp_point Q, R;
    unsigned char hash[32];
    mbedtls_mpi_init(&d); mbedtls_mpi_init(&k); mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s); mbedtls_mpi_init(&e); mbedtls_mpi_init(&t);
    mbedtls_ecp_point_init(&Q); mbedtls_ecp_point_init(&R);
    for (int i = 0; i < 8; i++) {
        CHECK(mbedtls_ecp_gen_keypair(&grp, &d, &Q, random_bytes, NULL) == 0);
        CHECK(mbedtls_ecp_gen_privkey(&grp, &k, random_bytes, NULL) == 0);
        CHECK(mbedtls_ecp_mul(&grp, &R, &k, &grp.G, random_bytes, NULL) == 0);
        CHECK(mbedtls_mpi_mod_mpi(&r, &R.X, &grp.N) == 0);
        CHECK(mbedtls_mpi_sub_int(&s, &grp.N, 1) == 0);
        CHECK(mbedtls_mpi_mul_mpi(&t, &r, &d) == 0);
        CHECK(mbedtls_mpi_add_mpi(&t, &t, &k) == 0);
        CHECK(mbedtls_mpi_sub_mpi(&e, &grp.N, &t) == 0);
        CHECK(mbedtls_mpi_mod_mpi(&e, &e, &grp.N) == 0);
        CHECK(mbedtls_mpi_write_binary(&e, hash, 32) == 0);
        CHECK_BOTH(hash, 32, &Q, &r, &s, 0);
    }
done:
    mbedtls_mpi_free(&d); mbedtls_mpi_free(&k); mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s); mbedtls_mpi_free(&e); mbedtls_mpi_free(&t);
    mbedtls_ecp_point_free(&Q); mbedtls_ecp_point_free(&R);
}

/* Builds a key Q for which (e, r, s) is a valid signature with u1 G + u2 Q = R:
 * Q = (R - u1 G) / u2. */
static int key_for(mbedtls_ecp_point *Q, const mbedtls_ecp_point *R, const mbedtls_mpi *e,
                   const mbedtls_mpi *r, const mbedtls_mpi *s)
{
    mbedtls_mpi s_inv, u1, u2, a, b;
    int ret;
    mbedtls_mpi_init(&s_inv); mbedtls_mpi_init(&u1); mbedtls_mpi_init(&u2);
    mbedtls_mpi_init(&a); mbedtls_mpi_init(&b);
    if ((ret = mbedtls_mpi_inv_mod(&s_inv, s, &grp.N)) != 0 ||
        (ret = mbedtls_mpi_mul_mpi(&u1, e, &s_inv)) != 0 ||
        (ret = mbedtls_mpi_mod_mpi(&u1, &u1, &grp.N)) != 0 ||
        (ret = mbedtls_mpi_mul_mpi(&u2, r, &s_inv)) != 0 ||
        (ret = mbedtls_mpi_mod_mpi(&u2, &u2, &grp.N)) != 0 ||
        (ret = mbedtls_mpi_inv_mod(&a, &u2, &grp.N)) != 0 ||          /* 1/u2 */
        (ret = mbedtls_mpi_mul_mpi(&b, &u1, &a)) != 0 ||
        (ret = mbedtls_mpi_mod_mpi(&b, &b, &grp.N)) != 0 ||
        (ret = mbedtls_mpi_sub_mpi(&b, &grp.N, &b)) != 0 ||           /* -u1/u2 */
        (ret = mbedtls_ecp_muladd(&grp, Q, &a, R, &b, &grp.G)) != 0) {
        /* ret says why */
    }
    mbedtls_mpi_free(&s_inv); mbedtls_mpi_free(&u1); mbedtls_mpi_free(&u2);
    mbedtls_mpi_free(&a); mbedtls_mpi_free(&b);
    return ret;
}

/* x(R) in [n, p): the signature's r is x(R) - n, and only a comparison that also tries
 * r + n accepts it (SEC1 4.1.4 step 7 reduces x(R) mod n). */
static void test_x_of_r_above_n_verifies(void)
{
    mbedtls_mpi x, rhs, y, exponent, e, r, s, t;
    mbedtls_ecp_point R, Q;
    unsigned char hash[32];
    int found = 0;
    mbedtls_mpi_init(&x); mbedtls_mpi_init(&rhs); mbedtls_mpi_init(&y);
    mbedtls_mpi_init(&exponent); mbedtls_mpi_init(&e); mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s); mbedtls_mpi_init(&t);
    mbedtls_ecp_point_init(&R); mbedtls_ecp_point_init(&Q);
    /* (p + 1) / 4: square roots modulo p, as p = 3 mod 4. */
    CHECK(mbedtls_mpi_add_int(&exponent, &grp.P, 1) == 0);
    CHECK(mbedtls_mpi_shift_r(&exponent, 2) == 0);
    CHECK(mbedtls_mpi_copy(&x, &grp.N) == 0);
    for (int tries = 0; tries < 200 && found < 4; tries++) {
        CHECK(mbedtls_mpi_add_int(&x, &x, 1 + (int) (next_random() % 1000)) == 0);
        CHECK(mbedtls_mpi_cmp_mpi(&x, &grp.P) < 0);
        /* rhs = x^3 - 3x + b mod p */
        CHECK(mbedtls_mpi_mul_mpi(&rhs, &x, &x) == 0);
        CHECK(mbedtls_mpi_mul_mpi(&rhs, &rhs, &x) == 0);
        CHECK(mbedtls_mpi_mul_int(&t, &x, 3) == 0);
        CHECK(mbedtls_mpi_sub_mpi(&rhs, &rhs, &t) == 0);
        CHECK(mbedtls_mpi_add_mpi(&rhs, &rhs, &grp.B) == 0);
        CHECK(mbedtls_mpi_mod_mpi(&rhs, &rhs, &grp.P) == 0);
        CHECK(mbedtls_mpi_exp_mod(&y, &rhs, &exponent, &grp.P, NULL) == 0);
        CHECK(mbedtls_mpi_mul_mpi(&t, &y, &y) == 0);
        CHECK(mbedtls_mpi_mod_mpi(&t, &t, &grp.P) == 0);
        if (mbedtls_mpi_cmp_mpi(&t, &rhs) != 0) {
            continue;
        }
        CHECK(mbedtls_mpi_copy(&R.X, &x) == 0);
        CHECK(mbedtls_mpi_copy(&R.Y, &y) == 0);
        CHECK(mbedtls_mpi_lset(&R.Z, 1) == 0);
        CHECK(mbedtls_ecp_check_pubkey(&grp, &R) == 0);
        CHECK(mbedtls_mpi_sub_mpi(&r, &x, &grp.N) == 0);
        CHECK(mbedtls_ecp_gen_privkey(&grp, &s, random_bytes, NULL) == 0);
        CHECK(mbedtls_ecp_gen_privkey(&grp, &e, random_bytes, NULL) == 0);
        CHECK(mbedtls_mpi_write_binary(&e, hash, 32) == 0);
        CHECK(key_for(&Q, &R, &e, &r, &s) == 0);
        CHECK_BOTH(hash, 32, &Q, &r, &s, 0);
        /* r = x(R) itself is >= n: out of range. */
        CHECK_BOTH(hash, 32, &Q, &x, &s, MBEDTLS_ERR_ECP_VERIFY_FAILED);
        found++;
    }
    CHECK(found == 4);
done:
    mbedtls_mpi_free(&x); mbedtls_mpi_free(&rhs); mbedtls_mpi_free(&y);
    mbedtls_mpi_free(&exponent); mbedtls_mpi_free(&e); mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s); mbedtls_mpi_free(&t);
    mbedtls_ecp_point_free(&R); mbedtls_ecp_point_free(&Q);
}

/* u1 G + u2 Q at infinity: with Q = G, when e + r = 0 mod n. And keys G, -G, 2G. */
static void test_sum_at_infinity_is_refused(void)
{
    mbedtls_mpi r, s, e, two;
    mbedtls_ecp_point Q;
    unsigned char hash[32];
    mbedtls_mpi_init(&r); mbedtls_mpi_init(&s); mbedtls_mpi_init(&e); mbedtls_mpi_init(&two);
    mbedtls_ecp_point_init(&Q);
    for (int i = 0; i < 8; i++) {
        CHECK(mbedtls_ecp_copy(&Q, &grp.G) == 0);
        CHECK(mbedtls_ecp_gen_privkey(&grp, &r, random_bytes, NULL) == 0);
        CHECK(mbedtls_ecp_gen_privkey(&grp, &s, random_bytes, NULL) == 0);
        CHECK(mbedtls_mpi_sub_mpi(&e, &grp.N, &r) == 0);
        CHECK(mbedtls_mpi_write_binary(&e, hash, 32) == 0);
        CHECK_BOTH(hash, 32, &Q, &r, &s, MBEDTLS_ERR_ECP_VERIFY_FAILED);
        /* The same with Q = -G and e = r: (e - r)/s = 0. */
        CHECK(mbedtls_mpi_sub_mpi(&Q.Y, &grp.P, &grp.G.Y) == 0);
        CHECK(mbedtls_mpi_write_binary(&r, hash, 32) == 0);
        CHECK_BOTH(hash, 32, &Q, &r, &s, MBEDTLS_ERR_ECP_VERIFY_FAILED);
        /* Q = 2G, e = -2r: infinity again; and Q = G with a random hash. */
        CHECK(mbedtls_mpi_lset(&two, 2) == 0);
        CHECK(mbedtls_ecp_mul(&grp, &Q, &two, &grp.G, random_bytes, NULL) == 0);
        CHECK(mbedtls_mpi_mul_int(&e, &r, 2) == 0);
        CHECK(mbedtls_mpi_mod_mpi(&e, &e, &grp.N) == 0);
        CHECK(mbedtls_mpi_sub_mpi(&e, &grp.N, &e) == 0);
        CHECK(mbedtls_mpi_write_binary(&e, hash, 32) == 0);
        CHECK_BOTH(hash, 32, &Q, &r, &s, MBEDTLS_ERR_ECP_VERIFY_FAILED);
        random_bytes(NULL, hash, 32);
        CHECK_BOTH(hash, 32, &grp.G, &r, &s, 1);
    }
done:
    mbedtls_mpi_free(&r); mbedtls_mpi_free(&s); mbedtls_mpi_free(&e); mbedtls_mpi_free(&two);
    mbedtls_ecp_point_free(&Q);
}

/* Keys that are not affine points of the curve. */
static void test_invalid_keys_are_refused(void)
{
    signed_hash v;
    mbedtls_ecp_point bad;
    signed_hash_init(&v);
    mbedtls_ecp_point_init(&bad);
    const int invalid = MBEDTLS_ERR_ECP_INVALID_KEY;
    CHECK(make_signed_hash(&v, 32) == 0);

    CHECK(mbedtls_ecp_copy(&bad, &v.Q) == 0);                      /* off the curve */
    CHECK(mbedtls_mpi_add_int(&bad.Y, &bad.Y, 1) == 0);
    CHECK(mbedtls_mpi_mod_mpi(&bad.Y, &bad.Y, &grp.P) == 0);
    CHECK_BOTH(v.hash, 32, &bad, &v.r, &v.s, invalid);
    CHECK(mbedtls_ecp_copy(&bad, &v.Q) == 0);                      /* x + p */
    CHECK(mbedtls_mpi_add_mpi(&bad.X, &bad.X, &grp.P) == 0);
    CHECK_BOTH(v.hash, 32, &bad, &v.r, &v.s, invalid);
    CHECK(mbedtls_ecp_copy(&bad, &v.Q) == 0);                      /* y + p */
    CHECK(mbedtls_mpi_add_mpi(&bad.Y, &bad.Y, &grp.P) == 0);
    CHECK_BOTH(v.hash, 32, &bad, &v.r, &v.s, invalid);
    CHECK(mbedtls_ecp_copy(&bad, &v.Q) == 0);                      /* x = p */
    CHECK(mbedtls_mpi_copy(&bad.X, &grp.P) == 0);
    CHECK_BOTH(v.hash, 32, &bad, &v.r, &v.s, invalid);
    CHECK(mbedtls_ecp_copy(&bad, &v.Q) == 0);                      /* y = p - 1 + ... */
    CHECK(mbedtls_mpi_copy(&bad.Y, &grp.P) == 0);
    CHECK_BOTH(v.hash, 32, &bad, &v.r, &v.s, invalid);
    CHECK(mbedtls_ecp_copy(&bad, &v.Q) == 0);                      /* -x */
    bad.X.s = -1;
    CHECK_BOTH(v.hash, 32, &bad, &v.r, &v.s, invalid);
    CHECK(mbedtls_ecp_copy(&bad, &v.Q) == 0);                      /* -y */
    bad.Y.s = -1;
    CHECK_BOTH(v.hash, 32, &bad, &v.r, &v.s, invalid);
    CHECK(mbedtls_ecp_copy(&bad, &v.Q) == 0);                      /* y -> p - y: valid */
    CHECK(mbedtls_mpi_sub_mpi(&bad.Y, &grp.P, &bad.Y) == 0);
    CHECK_BOTH(v.hash, 32, &bad, &v.r, &v.s, MBEDTLS_ERR_ECP_VERIFY_FAILED);
    CHECK(mbedtls_ecp_set_zero(&bad) == 0);                        /* infinity */
    CHECK_BOTH(v.hash, 32, &bad, &v.r, &v.s, invalid);
    CHECK(mbedtls_ecp_copy(&bad, &v.Q) == 0);                      /* Z = 2, Z = 0 */
    CHECK(mbedtls_mpi_lset(&bad.Z, 2) == 0);
    CHECK_BOTH(v.hash, 32, &bad, &v.r, &v.s, invalid);
    CHECK(mbedtls_mpi_lset(&bad.Z, 0) == 0);
    CHECK_BOTH(v.hash, 32, &bad, &v.r, &v.s, invalid);
    CHECK(mbedtls_mpi_lset(&bad.X, 0) == 0);                       /* (0, 0), (0, sqrt b)? */
    CHECK(mbedtls_mpi_lset(&bad.Y, 0) == 0);
    CHECK(mbedtls_mpi_lset(&bad.Z, 1) == 0);
    CHECK_BOTH(v.hash, 32, &bad, &v.r, &v.s, invalid);
    /* Random coordinates: off the curve. */
    for (int i = 0; i < 20; i++) {
        CHECK(mbedtls_mpi_fill_random(&bad.X, 32, random_bytes, NULL) == 0);
        CHECK(mbedtls_mpi_fill_random(&bad.Y, 32, random_bytes, NULL) == 0);
        CHECK_BOTH(v.hash, 32, &bad, &v.r, &v.s, 1);
    }
    /* An out-of-range signature is refused before the key is looked at. */
    CHECK(mbedtls_mpi_lset(&v.r, 0) == 0);
    CHECK_BOTH(v.hash, 32, &bad, &v.r, &v.s, MBEDTLS_ERR_ECP_VERIFY_FAILED);
done:
    mbedtls_ecp_point_free(&bad);
    signed_hash_free(&v);
}

/* Hashes longer than 32 bytes count by their first 32; shorter ones whole; hashes >= n
 * are reduced. */
static void test_hash_lengths_and_reduction(void)
{
    signed_hash v;
    signed_hash_init(&v);
    unsigned char longer[64];
    CHECK(make_signed_hash(&v, 32) == 0);
    memcpy(longer, v.hash, 32);
    for (size_t extra = 1; extra <= 32; extra += 7) {
        random_bytes(NULL, longer + 32, 32);
        CHECK_BOTH(longer, 32 + extra, &v.Q, &v.r, &v.s, 0);
    }
    /* A hash of 31 bytes is not the same number as its 32-byte zero-extended form. */
    CHECK_BOTH(v.hash, 31, &v.Q, &v.r, &v.s, MBEDTLS_ERR_ECP_VERIFY_FAILED);
    CHECK_BOTH(NULL, 0, &v.Q, &v.r, &v.s, MBEDTLS_ERR_ECP_VERIFY_FAILED);
    /* Hashes >= n: all 0xff, n itself (e = 0), n + 1. */
    for (int i = 0; i < 6; i++) {
        unsigned char big[32];
        mbedtls_mpi e;
        mbedtls_mpi_init(&e);
        if (i == 0) {
            memset(big, 0xff, 32);
        } else {
            mbedtls_mpi_add_int(&e, &grp.N, i - 1);
            mbedtls_mpi_write_binary(&e, big, 32);
        }
        mbedtls_mpi_free(&e);
        CHECK(mbedtls_ecp_gen_keypair(&grp, &v.d, &v.Q, random_bytes, NULL) == 0);
        CHECK(mbedtls_ecdsa_sign(&grp, &v.r, &v.s, &v.d, big, 32, random_bytes, NULL) == 0);
        CHECK_BOTH(big, 32, &v.Q, &v.r, &v.s, 0);
        big[31] ^= 1;
        CHECK_BOTH(big, 32, &v.Q, &v.r, &v.s, MBEDTLS_ERR_ECP_VERIFY_FAILED);
    }
done:
    signed_hash_free(&v);
}

/* Through pk: the DER signature with every byte changed, one at a time. */
static void test_every_der_byte_changed(void)
{
    mbedtls_pk_context pk;
    unsigned char hash[32], sig[MBEDTLS_ECDSA_MAX_LEN], changed[MBEDTLS_ECDSA_MAX_LEN];
    size_t sig_len;
    mbedtls_pk_init(&pk);
    CHECK(mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) == 0);
    CHECK(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk),
                              random_bytes, NULL) == 0);
    for (int round = 0; round < 3; round++) {
        random_bytes(NULL, hash, 32);
        CHECK(mbedtls_pk_sign(&pk, MBEDTLS_MD_SHA256, hash, 32, sig, sizeof(sig), &sig_len,
                              random_bytes, NULL) == 0);
        mst_p256_fast_path = 1;
        CHECK(mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, hash, 32, sig, sig_len) == 0);
        for (size_t i = 0; i < sig_len; i++) {
            for (int k = 0; k < 3; k++) {
                unsigned char flip = k == 0 ? 0x01 : k == 1 ? 0x80 : (unsigned char) (1 + next_random() % 255);
                memcpy(changed, sig, sig_len);
                changed[i] ^= flip;
                mst_p256_fast_path = 0;
                int stock = mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, hash, 32, changed, sig_len);
                mst_p256_fast_path = 1;
                int ours = mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, hash, 32, changed, sig_len);
                CHECK(!report_difference("changed DER byte", ours, stock));
                CHECK(ours != 0);
            }
        }
    }
done:
    mst_p256_fast_path = 1;
    mbedtls_pk_free(&pk);
}

/* The next "quoted" field of a .data line, into out (NUL-terminated); NULL at the end. */
static const char *next_quoted(const char *p, char *out, size_t size)
{
    const char *start = strchr(p, '"');
    if (start == NULL) {
        return NULL;
    }
    const char *end = strchr(start + 1, '"');
    if (end == NULL || (size_t) (end - start - 1) >= size) {
        return NULL;
    }
    memcpy(out, start + 1, (size_t) (end - start - 1));
    out[end - start - 1] = '\0';
    return end + 1;
}

static size_t hex_to_bytes(const char *hex, unsigned char *out, size_t size)
{
    size_t n = strlen(hex) / 2;
    if (n > size) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (unsigned char) v;
    }
    return n;
}

/* Mbed TLS's own P-256 vectors: ecdsa_prim_test_vectors (key, hash, r, s; expected result
 * 0) and ecdsa_det_test_vectors (private key, hash, r, s: the key is d G). Each verifies,
 * and fails with one bit of s changed. */
static void test_mbedtls_test_vectors(void)
{
    FILE *fp = fopen(vectors_path, "r");
    char line[4096], d[200], xq[200], yq[200], skip[400], hash_hex[300], r_hex[200], s_hex[200];
    unsigned char hash[150];
    int vectors = 0;
    mbedtls_mpi dv, r, s;
    mbedtls_ecp_point Q;
    mbedtls_mpi_init(&dv); mbedtls_mpi_init(&r); mbedtls_mpi_init(&s);
    mbedtls_ecp_point_init(&Q);
    if (fp == NULL) {
        printf("    cannot open %s\n", vectors_path);
    }
    CHECK(fp != NULL);
    while (fgets(line, sizeof(line), fp) != NULL) {
        const char *p = line;
        bool prim = strncmp(line, "ecdsa_prim_test_vectors:MBEDTLS_ECP_DP_SECP256R1:", 49) == 0;
        bool det = strncmp(line, "ecdsa_det_test_vectors:MBEDTLS_ECP_DP_SECP256R1:", 48) == 0;
        if (!prim && !det) {
            continue;
        }
        if (prim) {
            /* "d":"xQ":"yQ":"random k":"hash":"r":"s":result */
            const char *last = strrchr(line, ':');
            if (last == NULL || atoi(last + 1) != 0) {
                continue;                    /* signing failures: nothing to verify */
            }
            CHECK((p = next_quoted(p, d, sizeof(d))) != NULL);
            CHECK((p = next_quoted(p, xq, sizeof(xq))) != NULL);
            CHECK((p = next_quoted(p, yq, sizeof(yq))) != NULL);
            CHECK((p = next_quoted(p, skip, sizeof(skip))) != NULL);
            CHECK((p = next_quoted(p, hash_hex, sizeof(hash_hex))) != NULL);
            CHECK(mbedtls_ecp_point_read_string(&Q, 16, xq, yq) == 0);
        } else {
            /* "d":MD:"hash":"r":"s" */
            CHECK((p = next_quoted(p, d, sizeof(d))) != NULL);
            CHECK((p = next_quoted(p, hash_hex, sizeof(hash_hex))) != NULL);
            CHECK(mbedtls_mpi_read_string(&dv, 16, d) == 0);
            CHECK(mbedtls_ecp_mul(&grp, &Q, &dv, &grp.G, random_bytes, NULL) == 0);
        }
        CHECK((p = next_quoted(p, r_hex, sizeof(r_hex))) != NULL);
        CHECK((p = next_quoted(p, s_hex, sizeof(s_hex))) != NULL);
        CHECK(mbedtls_mpi_read_string(&r, 16, r_hex) == 0);
        CHECK(mbedtls_mpi_read_string(&s, 16, s_hex) == 0);
        size_t hlen = hex_to_bytes(hash_hex, hash, sizeof(hash));
        CHECK(hlen > 0);
        CHECK_BOTH(hash, hlen, &Q, &r, &s, 0);
        CHECK(mbedtls_mpi_set_bit(&s, 7, !mbedtls_mpi_get_bit(&s, 7)) == 0);
        CHECK_BOTH(hash, hlen, &Q, &r, &s, MBEDTLS_ERR_ECP_VERIFY_FAILED);
        vectors++;
    }
    printf("    %d P-256 vectors from %s\n", vectors, vectors_path);
    /* 3.6.6 has 1 + 10 of them with a result of 0; fewer means the parsing broke. */
    CHECK(vectors >= 11);
done:
    if (fp != NULL) {
        fclose(fp);
    }
    mbedtls_mpi_free(&dv); mbedtls_mpi_free(&r); mbedtls_mpi_free(&s);
    mbedtls_ecp_point_free(&Q);
}

/* Parses a PEM file of certs/ (no MBEDTLS_FS_IO in our configuration). */
static int parse_certificates(mbedtls_x509_crt *chain, const char *name)
{
    char path[1024];
    static unsigned char data[65536];
    snprintf(path, sizeof(path), "%s/%s", certs_dir, name);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        return -1;
    }
    size_t len = fread(data, 1, sizeof(data) - 1, fp);
    fclose(fp);
    data[len] = '\0';
    return mbedtls_x509_crt_parse(chain, data, len + 1);
}

/* X.509 chain verification reaches mst_p256_verify(): certs/ca.pem (P-256) signed
 * certs/server-ecdsa-chain.pem. */
static void test_x509_verification_uses_fast_path(void)
{
    mbedtls_x509_crt chain, ca;
    uint32_t flags = 0;
    mbedtls_x509_crt_init(&chain);
    mbedtls_x509_crt_init(&ca);
    CHECK(parse_certificates(&chain, "server-ecdsa-chain.pem") == 0);
    CHECK(parse_certificates(&ca, "ca.pem") == 0);
    CHECK(mbedtls_pk_get_type(&ca.pk) == MBEDTLS_PK_ECKEY);
    unsigned long before = mst_p256_verify_count();
    CHECK(mbedtls_x509_crt_verify(&chain, &ca, NULL, NULL, &flags, NULL, NULL) == 0);
    CHECK(flags == 0);
    CHECK(mst_p256_verify_count() > before);
    /* With the stock code the result is the same, and our code is not called. */
    mst_p256_fast_path = 0;
    before = mst_p256_verify_count();
    CHECK(mbedtls_x509_crt_verify(&chain, &ca, NULL, NULL, &flags, NULL, NULL) == 0);
    CHECK(mst_p256_verify_count() == before);
done:
    mst_p256_fast_path = 1;
    mbedtls_x509_crt_free(&chain);
    mbedtls_x509_crt_free(&ca);
}

/* Other curves keep Mbed TLS's code. */
static void test_other_curves_use_stock_code(void)
{
    mbedtls_ecp_group p384;
    mbedtls_mpi d, r, s;
    mbedtls_ecp_point Q;
    unsigned char hash[48];
    mbedtls_ecp_group_init(&p384);
    mbedtls_mpi_init(&d); mbedtls_mpi_init(&r); mbedtls_mpi_init(&s);
    mbedtls_ecp_point_init(&Q);
    CHECK(mbedtls_ecp_group_load(&p384, MBEDTLS_ECP_DP_SECP384R1) == 0);
    CHECK(mbedtls_ecp_gen_keypair(&p384, &d, &Q, random_bytes, NULL) == 0);
    random_bytes(NULL, hash, sizeof(hash));
    CHECK(mbedtls_ecdsa_sign(&p384, &r, &s, &d, hash, 48, random_bytes, NULL) == 0);
    unsigned long before = mst_p256_verify_count();
    CHECK(mbedtls_ecdsa_verify(&p384, hash, 48, &Q, &r, &s) == 0);
    hash[0] ^= 1;
    CHECK(mbedtls_ecdsa_verify(&p384, hash, 48, &Q, &r, &s) == MBEDTLS_ERR_ECP_VERIFY_FAILED);
    CHECK(mst_p256_verify_count() == before);
done:
    mbedtls_ecp_group_free(&p384);
    mbedtls_mpi_free(&d); mbedtls_mpi_free(&r); mbedtls_mpi_free(&s);
    mbedtls_ecp_point_free(&Q);
}

/* The multiplication and squaring modulo p (p's own reduction) against the generic
 * Montgomery multiplication, on limbs biased towards carries: 0, 1, 2^32 - 1, 2^32, 2^63,
 * 2^64 - 1, p's and random ones. */
static uint64_t edge_limb(void)
{
    static const uint64_t edges[] = {0, 1, 0xffffffffu, 0x100000000u, 0x8000000000000000u,
                                     0xffffffffffffffffu, 0xffffffff00000001u,
                                     0xfffffffffffffffeu, 0x00000000fffffffeu};
    uint64_t pick = next_random() % 12;
    return pick < 9 ? edges[pick] : next_random();
}

static void test_field_arithmetic_matches_generic(void)
{
    uint64_t a[4], b[4], fast[4], generic[4];
    long mismatches = 0;
    for (long i = 0; i < 300000; i++) {
        for (int j = 0; j < 4; j++) {
            a[j] = edge_limb();
            b[j] = edge_limb();
        }
        /* Operands below p: p - 1 - x for the ones at or above it. */
        static const uint64_t p_minus_1[4] = {0xfffffffffffffffeu, 0x00000000ffffffffu, 0,
                                              0xffffffff00000001u};
        if (compare(a, P) >= 0) {
            subtract(a, a, P);
        }
        if (compare(b, P) >= 0) {
            subtract(b, p_minus_1, b);
            if (compare(b, P) >= 0) {
                memset(b, 0, sizeof(b));
            }
        }
        fe_mul(fast, a, b);
        mont_mul(generic, a, b, P, P_FACTOR);
        mismatches += !equal(fast, generic);
        fe_sqr(fast, a);
        mont_mul(generic, a, a, P, P_FACTOR);
        mismatches += !equal(fast, generic);
        fe_sqr(fast, b);
        mont_mul(generic, b, b, P, P_FACTOR);
        mismatches += !equal(fast, generic);
    }
    if (mismatches != 0) {
        printf("    %ld mismatches\n", mismatches);
    }
    CHECK(mismatches == 0);
done:
    return;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: other load on the machine counts less */
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Not a test: verifications per second of both, for the record. */
static void measure_speed(void)
{
    signed_hash v;
    signed_hash_init(&v);
    if (make_signed_hash(&v, 32) != 0) {
        signed_hash_free(&v);
        return;
    }
    for (int fast = 0; fast <= 1; fast++) {
        mst_p256_fast_path = fast;
        int count = 0;
        double start = now_seconds(), elapsed = 0;
        do {
            if (mbedtls_ecdsa_verify(&grp, v.hash, 32, &v.Q, &v.r, &v.s) != 0) {
                count = -1;
                break;
            }
            count++;
        } while ((elapsed = now_seconds() - start) < 0.3);
        printf("    %s: %.0f P-256 verifications/s\n", fast ? "ours" : "Mbed TLS",
               count / elapsed);
    }
    mst_p256_fast_path = 1;
    signed_hash_free(&v);
}

static const test tests[] = {
    {"p256: random signatures verify, altered ones do not, as with Mbed TLS", test_random_signatures_verify},
    {"p256: r and s outside [1, n-1] are refused", test_out_of_range_r_and_s_are_refused},
    {"p256: s = n - 1 verifies", test_s_of_n_minus_1_verifies},
    {"p256: x(R) in [n, p) verifies through r + n", test_x_of_r_above_n_verifies},
    {"p256: u1 G + u2 Q at infinity is refused", test_sum_at_infinity_is_refused},
    {"p256: keys off the curve, >= p, negative or at infinity are refused", test_invalid_keys_are_refused},
    {"p256: hash truncation to 32 bytes and reduction mod n", test_hash_lengths_and_reduction},
    {"p256: every byte of a DER signature changed, through pk", test_every_der_byte_changed},
    {"p256: Mbed TLS's P-256 test vectors", test_mbedtls_test_vectors},
    {"p256: X.509 chain verification reaches our code", test_x509_verification_uses_fast_path},
    {"p256: other curves keep Mbed TLS's code", test_other_curves_use_stock_code},
    {"p256: multiplication and squaring mod p agree with generic Montgomery", test_field_arithmetic_matches_generic},
};

int main(int argc, char **argv)
{
    certs_dir = argc > 1 ? argv[1] : "certs";
    vectors_path = argc > 2 ? argv[2] : "deps/mbedtls/tests/suites/test_suite_ecdsa.data";
    const char *only = argc > 3 ? argv[3] : NULL;
    mbedtls_ecp_group_init(&grp);
    if (mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1) != 0) {
        printf("cannot load P-256\n");
        return 1;
    }
    run_tests(tests, sizeof(tests) / sizeof(tests[0]), only);
    if (only == NULL) {
        measure_speed();
    }
    mbedtls_ecp_group_free(&grp);
    printf("p256: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
