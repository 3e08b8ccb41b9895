/*
 * certificate.c: self-signed certificates made on the spot (a development server's), with
 * Mbed TLS's key generation and X.509 writer.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#define MAX_ALT_NAMES 16
/* An ECDSA P-256 certificate with a few names is well under 1 KiB of PEM. */
#define CERTIFICATE_PEM_ROOM 4096
#define KEY_PEM_ROOM 1024

static bool is_leap_year(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/* Seconds since 1970-01-01T00:00:00Z -> "YYYYMMDDhhmmss" (UTC), as Mbed TLS's writer takes
 * validity times. Up to the end of 9999, which X.509 can still express. */
static int format_time(int64_t seconds, char out[32])
{
    if (seconds < 0 || seconds > INT64_C(253402300799))
        return MST_ERR_BAD_ARGUMENT;
    int64_t days = seconds / 86400;
    int rest = (int)(seconds % 86400);
    int year = 1970;
    while (days >= (is_leap_year(year) ? 366 : 365))
        days -= is_leap_year(year) ? 366 : 365, year++;
    static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int month = 0;
    while (days >= month_days[month] + (month == 1 && is_leap_year(year)))
        days -= month_days[month] + (month == 1 && is_leap_year(year)), month++;
    snprintf(out, 32, "%04d%02d%02d%02d%02d%02d", year, month + 1, (int)days + 1, rest / 3600,
             rest / 60 % 60, rest % 60);
    return 0;
}

static int check_alt_names(const mst_alt_name *names, size_t count)
{
    if (count > MAX_ALT_NAMES || (count > 0 && names == NULL))
        return MST_ERR_BAD_ARGUMENT;
    for (size_t i = 0; i < count; i++) {
        const mst_alt_name *name = &names[i];
        if (name->value == NULL)
            return MST_ERR_BAD_ARGUMENT;
        if (name->type == MST_NAME_DNS) {
            if (name->len == 0 || name->len > 253 || memchr(name->value, '\0', name->len) != NULL)
                return MST_ERR_BAD_ARGUMENT;
        } else if (name->type == MST_NAME_IP) {
            if (name->len != 4 && name->len != 16)
                return MST_ERR_BAD_ARGUMENT;
        } else {
            return MST_ERR_BAD_ARGUMENT;
        }
    }
    return 0;
}

static int fail(mst_error *err, int code)
{
    mst_error_set(err, code);
    return code;
}

int mst_generate_self_signed(const char *subject, const mst_alt_name *alt_names, size_t alt_count,
                             int64_t not_before, int64_t not_after, char **cert_pem,
                             size_t *cert_len, char **key_pem, size_t *key_len, mst_error *err)
{
    char from[32], to[32];
    if (subject == NULL || cert_pem == NULL || cert_len == NULL || key_pem == NULL ||
        key_len == NULL || not_after <= not_before || format_time(not_before, from) != 0 ||
        format_time(not_after, to) != 0 || check_alt_names(alt_names, alt_count) != 0)
        return fail(err, MST_ERR_BAD_ARGUMENT);
    *cert_pem = *key_pem = NULL;
    *cert_len = *key_len = 0;
    int ret = mst_global_init(err);
    if (ret != 0)
        return ret;

    mbedtls_ctr_drbg_context *rng = mst_global_rng();
    mbedtls_pk_context key;
    mbedtls_x509write_cert crt;
    mbedtls_x509_san_list names[MAX_ALT_NAMES];
    unsigned char *cert_out = calloc(1, CERTIFICATE_PEM_ROOM);
    unsigned char *key_out = calloc(1, KEY_PEM_ROOM);
    mbedtls_pk_init(&key);
    mbedtls_x509write_crt_init(&crt);
    if (cert_out == NULL || key_out == NULL) {
        ret = MBEDTLS_ERR_X509_ALLOC_FAILED;
        goto cleanup;
    }

    ret = mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (ret == 0)
        ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key),
                                  mbedtls_ctr_drbg_random, rng);
    if (ret != 0)
        goto cleanup;

    /* A random positive serial number of 16 bytes (RFC 5280 4.1.2.2: unique per issuer). */
    unsigned char serial[16];
    ret = mbedtls_ctr_drbg_random(rng, serial, sizeof(serial));
    if (ret != 0)
        goto cleanup;
    serial[0] = (unsigned char)((serial[0] & 0x7F) | 0x40);

    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&crt, &key);
    mbedtls_x509write_crt_set_issuer_key(&crt, &key);
    /* Not a CA, and no keyUsage: OpenSSL takes a self-signed certificate as its own trust
     * anchor (a client's `ca`) only if its keyUsage, when present, allows signing
     * certificates, which a server's certificate should not claim. */
    static const mbedtls_asn1_sequence server_auth = {
        .buf = {.tag = MBEDTLS_ASN1_OID, .len = MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH),
                .p = (unsigned char *)MBEDTLS_OID_SERVER_AUTH},
        .next = NULL,
    };
    if ((ret = mbedtls_x509write_crt_set_subject_name(&crt, subject)) != 0 ||
        (ret = mbedtls_x509write_crt_set_issuer_name(&crt, subject)) != 0 ||
        (ret = mbedtls_x509write_crt_set_serial_raw(&crt, serial, sizeof(serial))) != 0 ||
        (ret = mbedtls_x509write_crt_set_validity(&crt, from, to)) != 0 ||
        (ret = mbedtls_x509write_crt_set_basic_constraints(&crt, 0, -1)) != 0 ||
        (ret = mbedtls_x509write_crt_set_subject_key_identifier(&crt)) != 0 ||
        (ret = mbedtls_x509write_crt_set_authority_key_identifier(&crt)) != 0 ||
        (ret = mbedtls_x509write_crt_set_ext_key_usage(&crt, &server_auth)) != 0)
        goto cleanup;
    if (alt_count > 0) {
        /* Mbed TLS writes the list back to front: link it so the names keep their order. */
        for (size_t i = 0; i < alt_count; i++) {
            mbedtls_x509_san_list *node = &names[alt_count - 1 - i];
            memset(node, 0, sizeof(*node));
            node->node.type = alt_names[i].type == MST_NAME_DNS ? MBEDTLS_X509_SAN_DNS_NAME
                                                                : MBEDTLS_X509_SAN_IP_ADDRESS;
            node->node.san.unstructured_name.p = (unsigned char *)alt_names[i].value;
            node->node.san.unstructured_name.len = alt_names[i].len;
            node->next = i == 0 ? NULL : &names[alt_count - i];
        }
        ret = mbedtls_x509write_crt_set_subject_alternative_name(&crt, &names[0]);
        if (ret != 0)
            goto cleanup;
    }

    ret = mbedtls_x509write_crt_pem(&crt, cert_out, CERTIFICATE_PEM_ROOM, mbedtls_ctr_drbg_random, rng);
    if (ret == 0)
        ret = mbedtls_pk_write_key_pem(&key, key_out, KEY_PEM_ROOM);
    if (ret != 0)
        goto cleanup;
    /* Exact copies, so that mst_free_pem() knows every byte it must wipe. */
    size_t cert_length = strlen((const char *)cert_out), key_length = strlen((const char *)key_out);
    *cert_pem = malloc(cert_length + 1);
    *key_pem = malloc(key_length + 1);
    if (*cert_pem == NULL || *key_pem == NULL) {
        free(*cert_pem);
        free(*key_pem);
        *cert_pem = *key_pem = NULL;
        ret = MBEDTLS_ERR_X509_ALLOC_FAILED;
        goto cleanup;
    }
    memcpy(*cert_pem, cert_out, cert_length + 1);
    memcpy(*key_pem, key_out, key_length + 1);
    *cert_len = cert_length;
    *key_len = key_length;

cleanup:
    mbedtls_x509write_crt_free(&crt);
    mbedtls_pk_free(&key);
    free(cert_out);
    if (key_out != NULL) {
        mbedtls_platform_zeroize(key_out, KEY_PEM_ROOM);
        free(key_out);
    }
    return ret != 0 ? fail(err, ret) : 0;
}

void mst_free_pem(char *pem, size_t len)
{
    if (pem == NULL)
        return;
    mbedtls_platform_zeroize(pem, len + 1);
    free(pem);
}
