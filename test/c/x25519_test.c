/*
 * x25519_test.c: Curve25519 through Everest/HACL* (src/crypto/x25519.c) inside Mbed TLS.
 *
 *   x25519_test [NAME]
 *
 * RFC 7748's test vectors (section 5.2: two single multiplications and the iterated one,
 * 1 and 1000 times; section 6.1: the Diffie-Hellman example) through mbedtls_ecp_mul(), with
 * HACL (mst_x25519_hacl = 1) and with Mbed TLS's own ladder (0); random scalars and points
 * compared between the two; the low-order points that would give the all-zero shared secret
 * refused (RFC 7748 section 6.1); and the paths TLS takes reaching HACL: the ECDH context
 * (TLS 1.2) and PSA key generation and key agreement (TLS 1.3). Prints one line per test
 * and "x25519: N passed, N failed"; also X25519 multiplications per second of both.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS /* the coordinates of mbedtls_ecp_point */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mbedtls/ecdh.h>
#include <mbedtls/ecp.h>
#include <psa/crypto.h>

#include "x25519.h"

#include "harness.h"

static mbedtls_ecp_group grp;


static uint64_t rng_state = 0x853c49e6748fea9bu;

static int random_bytes(void *context, unsigned char *out, size_t len)
{
    (void) context;
    for (size_t i = 0; i < len; i++) {
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        out[i] = (unsigned char) ((rng_state * 0x2545f4914f6cdd1du) >> 56);
    }
    return 0;
}

static void from_hex(unsigned char out[32], const char *hex)
{
    for (int i = 0; i < 32; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (unsigned char) v;
    }
}

/* X25519(k, u) as RFC 7748 section 5 defines it on byte strings, through mbedtls_ecp_mul()
 * with HACL (hacl = 1) or Mbed TLS's ladder (0): k clamped (decodeScalar25519), u's bit
 * 255 masked (decodeUCoordinate, done by mbedtls_ecp_point_read_binary). */
static int x25519(unsigned char out[32], const unsigned char k[32], const unsigned char u[32],
                  int hacl)
{
    unsigned char clamped[32];
    mbedtls_mpi m;
    mbedtls_ecp_point P, R;
    size_t len;
    int ret;
    memcpy(clamped, k, 32);
    clamped[0] &= 248;
    clamped[31] &= 127;
    clamped[31] |= 64;
    mbedtls_mpi_init(&m);
    mbedtls_ecp_point_init(&P);
    mbedtls_ecp_point_init(&R);
    mst_x25519_hacl = hacl;
    if ((ret = mbedtls_mpi_read_binary_le(&m, clamped, 32)) == 0 &&
        (ret = mbedtls_ecp_point_read_binary(&grp, &P, u, 32)) == 0 &&
        (ret = mbedtls_ecp_mul(&grp, &R, &m, &P, random_bytes, NULL)) == 0) {
        ret = mbedtls_ecp_point_write_binary(&grp, &R, MBEDTLS_ECP_PF_UNCOMPRESSED, &len, out, 32);
    }
    mst_x25519_hacl = 1;
    mbedtls_mpi_free(&m);
    mbedtls_ecp_point_free(&P);
    mbedtls_ecp_point_free(&R);
    return ret;
}

static bool same_bytes(const unsigned char *a, const unsigned char *b, size_t n, const char *what)
{
    if (memcmp(a, b, n) != 0) {
        printf("    %s: ", what);
        for (size_t i = 0; i < n; i++) {
            printf("%02x", a[i]);
        }
        printf("\n");
        return false;
    }
    return true;
}

/* RFC 7748 section 5.2: input scalar, input u-coordinate, output u-coordinate. */
static void test_rfc7748_section_5_2_vectors(void)
{
    static const char *vectors[][3] = {
        {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
         "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
         "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
        /* The u-coordinate has bit 255 set, which decoding masks. */
        {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
         "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
         "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
    };
    for (int hacl = 1; hacl >= 0; hacl--) {
        for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
            unsigned char k[32], u[32], expected[32], out[32];
            from_hex(k, vectors[i][0]);
            from_hex(u, vectors[i][1]);
            from_hex(expected, vectors[i][2]);
            unsigned long before = mst_x25519_count();
            CHECK(x25519(out, k, u, hacl) == 0);
            CHECK(same_bytes(out, expected, 32, hacl ? "HACL" : "Mbed TLS"));
            CHECK(mst_x25519_count() == before + (hacl ? 1 : 0));
        }
    }
done:
    mst_x25519_hacl = 1;
}

/* RFC 7748 section 5.2, iterated: k = u = 9; then k, u = X25519(k, u), k. */
static void test_rfc7748_iterated_vectors(void)
{
    unsigned char after_1[32], after_1000[32];
    from_hex(after_1, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
    from_hex(after_1000, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
    for (int hacl = 1; hacl >= 0; hacl--) {
        unsigned char k[32] = {9}, u[32] = {9}, out[32];
        for (int i = 1; i <= 1000; i++) {
            CHECK(x25519(out, k, u, hacl) == 0);
            memcpy(u, k, 32);
            memcpy(k, out, 32);
            if (i == 1) {
                CHECK(same_bytes(k, after_1, 32, "after 1"));
            }
        }
        CHECK(same_bytes(k, after_1000, 32, "after 1000"));
    }
done:
    mst_x25519_hacl = 1;
}

/* RFC 7748 section 6.1: both public keys from the private ones, and the shared secret from
 * both sides, through Mbed TLS's ECDH (mbedtls_ecdh_compute_shared). */
static void test_rfc7748_section_6_1_key_agreement(void)
{
    unsigned char alice_private[32], alice_public[32], bob_private[32], bob_public[32];
    unsigned char shared[32], nine[32] = {9}, out[32];
    mbedtls_mpi d, z;
    mbedtls_ecp_point Q;
    from_hex(alice_private, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    from_hex(alice_public, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    from_hex(bob_private, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    from_hex(bob_public, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    from_hex(shared, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    mbedtls_mpi_init(&d);
    mbedtls_mpi_init(&z);
    mbedtls_ecp_point_init(&Q);
    for (int hacl = 1; hacl >= 0; hacl--) {
        CHECK(x25519(out, alice_private, nine, hacl) == 0);
        CHECK(same_bytes(out, alice_public, 32, "Alice's public key"));
        CHECK(x25519(out, bob_private, nine, hacl) == 0);
        CHECK(same_bytes(out, bob_public, 32, "Bob's public key"));
        CHECK(x25519(out, alice_private, bob_public, hacl) == 0);
        CHECK(same_bytes(out, shared, 32, "Alice's K"));
        CHECK(x25519(out, bob_private, alice_public, hacl) == 0);
        CHECK(same_bytes(out, shared, 32, "Bob's K"));
        /* The ECDH primitive, with the private key as Mbed TLS stores it (clamped). */
        alice_private[0] &= 248;
        alice_private[31] = (unsigned char) ((alice_private[31] & 127) | 64);
        CHECK(mbedtls_mpi_read_binary_le(&d, alice_private, 32) == 0);
        CHECK(mbedtls_ecp_point_read_binary(&grp, &Q, bob_public, 32) == 0);
        mst_x25519_hacl = hacl;
        CHECK(mbedtls_ecdh_compute_shared(&grp, &z, &Q, &d, random_bytes, NULL) == 0);
        mst_x25519_hacl = 1;
        CHECK(mbedtls_mpi_write_binary_le(&z, out, 32) == 0);
        CHECK(same_bytes(out, shared, 32, "mbedtls_ecdh_compute_shared"));
    }
done:
    mst_x25519_hacl = 1;
    mbedtls_mpi_free(&d);
    mbedtls_mpi_free(&z);
    mbedtls_ecp_point_free(&Q);
}

/* Random scalars against random u-coordinates (points of the curve and of its twist, and
 * u >= p): HACL and Mbed TLS agree, result and error alike. */
static void test_random_multiplications_agree(void)
{
    for (int i = 0; i < 300; i++) {
        unsigned char k[32], u[32], ours[32], stock[32];
        random_bytes(NULL, k, 32);
        random_bytes(NULL, u, 32);
        if (i % 10 == 1) {
            /* u in [p, 2^255): 2^255 - 19 + small */
            memset(u, 0xff, 32);
            u[31] = 0x7f;
            u[0] = (unsigned char) (0xed + (i / 10) % 19);
        }
        int r1 = x25519(ours, k, u, 1);
        int r2 = x25519(stock, k, u, 0);
        if (r1 != r2) {
            printf("    HACL -0x%04X, Mbed TLS -0x%04X\n", (unsigned) -r1, (unsigned) -r2);
        }
        CHECK(r1 == r2);
        if (r1 == 0) {
            CHECK(same_bytes(ours, stock, 32, "HACL"));
        }
    }
    /* An X with bit 255 set, given as a number (Mbed TLS's decoding clears the bit): we
     * use it modulo p, as Mbed TLS's check of the point does (its ladder fails on it). */
    for (int i = 0; i < 20; i++) {
        unsigned char k[32], u[32];
        mbedtls_mpi m, prime;
        mbedtls_ecp_point P, R1, R2;
        mbedtls_mpi_init(&m);
        mbedtls_mpi_init(&prime);
        mbedtls_ecp_point_init(&P);
        mbedtls_ecp_point_init(&R1);
        mbedtls_ecp_point_init(&R2);
        random_bytes(NULL, k, 32);
        random_bytes(NULL, u, 32);
        k[0] &= 248;
        k[31] = (unsigned char) ((k[31] & 127) | 64);
        u[31] |= 0x80;
        int ok = mbedtls_mpi_read_binary_le(&m, k, 32) == 0 &&
                 mbedtls_mpi_read_binary_le(&P.X, u, 32) == 0 && mbedtls_mpi_lset(&P.Z, 1) == 0;
        mst_x25519_hacl = 1;
        int r1 = mbedtls_ecp_mul(&grp, &R1, &m, &P, random_bytes, NULL);
        /* Mbed TLS's ladder on X mod p (X - p, or X - 2p). */
        ok = ok && mbedtls_mpi_copy(&prime, &grp.P) == 0;
        while (ok && mbedtls_mpi_cmp_mpi(&P.X, &prime) >= 0) {
            ok = mbedtls_mpi_sub_mpi(&P.X, &P.X, &prime) == 0;
        }
        mst_x25519_hacl = 0;
        int r2 = mbedtls_ecp_mul(&grp, &R2, &m, &P, random_bytes, NULL);
        mst_x25519_hacl = 1;
        bool same = ok && r1 == r2 && (r1 != 0 || mbedtls_mpi_cmp_mpi(&R1.X, &R2.X) == 0);
        if (!same) {
            printf("    X with bit 255: HACL -0x%04X, Mbed TLS on X mod p -0x%04X\n",
                   (unsigned) -r1, (unsigned) -r2);
        }
        mbedtls_mpi_free(&m);
        mbedtls_mpi_free(&prime);
        mbedtls_ecp_point_free(&P);
        mbedtls_ecp_point_free(&R1);
        mbedtls_ecp_point_free(&R2);
        CHECK(same);
    }
done:
    mst_x25519_hacl = 1;
}

/* The points of small order (RFC 7748 section 6.1: their shared secret is all zeros), and
 * their encodings plus p, are refused by both, before any multiplication. */
static void test_low_order_points_are_refused(void)
{
    static const char *low_order[] = {
        "0000000000000000000000000000000000000000000000000000000000000000", /* 0 */
        "0100000000000000000000000000000000000000000000000000000000000000", /* 1 */
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p - 1 */
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", /* order 8 */
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", /* order 8 */
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p (0) */
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p + 1 (1) */
    };
    unsigned char k[32], u[32], out[32];
    random_bytes(NULL, k, 32);
    for (size_t i = 0; i < sizeof(low_order) / sizeof(low_order[0]); i++) {
        from_hex(u, low_order[i]);
        unsigned long before = mst_x25519_count();
        CHECK(x25519(out, k, u, 1) == MBEDTLS_ERR_ECP_INVALID_KEY);
        CHECK(x25519(out, k, u, 0) == MBEDTLS_ERR_ECP_INVALID_KEY);
        CHECK(mst_x25519_count() == before);
    }
done:
    mst_x25519_hacl = 1;
}

/* TLS 1.2's key exchange (an ECDH context) and TLS 1.3's (PSA) reach HACL. */
static void test_tls_paths_reach_hacl(void)
{
    mbedtls_ecdh_context client, server;
    unsigned char buf[100], secret1[32], secret2[32];
    size_t len, len1, len2;
    psa_key_id_t key1 = 0, key2 = 0;
    psa_key_attributes_t attributes = PSA_KEY_ATTRIBUTES_INIT;
    mbedtls_ecdh_init(&client);
    mbedtls_ecdh_init(&server);

    /* TLS 1.2: ServerKeyExchange params, the client's public value, both secrets. */
    unsigned long before = mst_x25519_count();
    CHECK(mbedtls_ecdh_setup(&server, MBEDTLS_ECP_DP_CURVE25519) == 0);
    CHECK(mbedtls_ecdh_make_params(&server, &len, buf, sizeof(buf), random_bytes, NULL) == 0);
    const unsigned char *p = buf;
    CHECK(mbedtls_ecdh_read_params(&client, &p, buf + len) == 0);
    CHECK(mbedtls_ecdh_make_public(&client, &len, buf, sizeof(buf), random_bytes, NULL) == 0);
    CHECK(mbedtls_ecdh_read_public(&server, buf, len) == 0);
    CHECK(mbedtls_ecdh_calc_secret(&client, &len1, secret1, 32, random_bytes, NULL) == 0);
    CHECK(mbedtls_ecdh_calc_secret(&server, &len2, secret2, 32, random_bytes, NULL) == 0);
    CHECK(len1 == 32 && len2 == 32 && memcmp(secret1, secret2, 32) == 0);
    CHECK(mst_x25519_count() == before + 4);

    /* TLS 1.3: a key share generated and exported, and the agreement (PSA). */
    CHECK(psa_crypto_init() == PSA_SUCCESS);
    psa_set_key_type(&attributes, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_MONTGOMERY));
    psa_set_key_bits(&attributes, 255);
    psa_set_key_usage_flags(&attributes, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&attributes, PSA_ALG_ECDH);
    before = mst_x25519_count();
    CHECK(psa_generate_key(&attributes, &key1) == PSA_SUCCESS);
    CHECK(psa_generate_key(&attributes, &key2) == PSA_SUCCESS);
    unsigned char public1[32], public2[32];
    CHECK(psa_export_public_key(key1, public1, 32, &len1) == PSA_SUCCESS);
    CHECK(psa_export_public_key(key2, public2, 32, &len2) == PSA_SUCCESS);
    CHECK(psa_raw_key_agreement(PSA_ALG_ECDH, key1, public2, 32, secret1, 32, &len1) == PSA_SUCCESS);
    CHECK(psa_raw_key_agreement(PSA_ALG_ECDH, key2, public1, 32, secret2, 32, &len2) == PSA_SUCCESS);
    CHECK(len1 == 32 && len2 == 32 && memcmp(secret1, secret2, 32) == 0);
    CHECK(mst_x25519_count() >= before + 4);
    /* An all-zero peer key share is refused by PSA's agreement too. */
    memset(public2, 0, 32);
    CHECK(psa_raw_key_agreement(PSA_ALG_ECDH, key1, public2, 32, secret1, 32, &len1) != PSA_SUCCESS);
done:
    psa_destroy_key(key1);
    psa_destroy_key(key2);
    mbedtls_ecdh_free(&client);
    mbedtls_ecdh_free(&server);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: other load on the machine counts less */
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Not a test: multiplications per second of both, for the record. */
static void measure_speed(void)
{
    for (int hacl = 0; hacl <= 1; hacl++) {
        unsigned char k[32] = {9}, u[32] = {9}, out[32];
        int count = 0;
        double start = now_seconds(), elapsed = 0;
        do {
            if (x25519(out, k, u, hacl) != 0) {
                break;
            }
            memcpy(u, k, 32);
            memcpy(k, out, 32);
            count++;
        } while ((elapsed = now_seconds() - start) < 0.3);
        printf("    %s: %.0f X25519/s\n", hacl ? "HACL" : "Mbed TLS", count / elapsed);
    }
}

static const test tests[] = {
    {"x25519: RFC 7748 section 5.2 vectors", test_rfc7748_section_5_2_vectors},
    {"x25519: RFC 7748 section 5.2 iterated vectors (1 and 1000)", test_rfc7748_iterated_vectors},
    {"x25519: RFC 7748 section 6.1 key agreement", test_rfc7748_section_6_1_key_agreement},
    {"x25519: random multiplications agree with Mbed TLS's ladder", test_random_multiplications_agree},
    {"x25519: low-order points (all-zero secret) are refused", test_low_order_points_are_refused},
    {"x25519: TLS 1.2 ECDH and TLS 1.3 PSA paths reach HACL", test_tls_paths_reach_hacl},
};

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    mbedtls_ecp_group_init(&grp);
    if (mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_CURVE25519) != 0) {
        printf("cannot load Curve25519\n");
        return 1;
    }
    run_tests(tests, sizeof(tests) / sizeof(tests[0]), only);
    if (only == NULL) {
        measure_speed();
    }
    mbedtls_ecp_group_free(&grp);
    mbedtls_psa_crypto_free();
    printf("x25519: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
