/*
 * names.c: the names of a certificate that node's tls.checkServerIdentity reads (its
 * subject's common names and its subjectAltNames), read with Mbed TLS's parser, so the
 * default name check needs no detailed certificate object (lib/name-check.js).
 */
#include "internal.h"

#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>

static void put(mst_certificate_name *names, size_t cap, size_t *n, int kind, int tag,
                const mbedtls_x509_buf *value)
{
    if (*n < cap)
        names[*n] = (mst_certificate_name){kind, tag, value->p, value->len};
    (*n)++;
}

int mst_certificate_names(const uint8_t *der, size_t len, mst_certificate_name *names, size_t cap,
                          size_t *count)
{
    *count = 0;
    if (der == NULL || (cap > 0 && names == NULL))
        return MST_ERR_BAD_ARGUMENT;
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    /* Without a copy: the names point into `der`, which outlives the parsed form. */
    int ret = mbedtls_x509_crt_parse_der_nocopy(&crt, der, len);
    if (ret == 0) {
        size_t n = 0;
        for (const mbedtls_x509_name *name = &crt.subject; name != NULL; name = name->next) {
            if (name->oid.p != NULL && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &name->oid) == 0)
                put(names, cap, &n, MST_CERTIFICATE_NAME_CN, name->val.tag, &name->val);
        }
        for (const mbedtls_x509_sequence *san = &crt.subject_alt_names; san != NULL;
             san = san->next) {
            if (san->buf.p == NULL)
                continue;
            int type = san->buf.tag & MBEDTLS_ASN1_TAG_VALUE_MASK;
            int kind = type == MBEDTLS_X509_SAN_DNS_NAME     ? MST_CERTIFICATE_NAME_DNS
                       : type == MBEDTLS_X509_SAN_IP_ADDRESS ? MST_CERTIFICATE_NAME_IP
                                                             : MST_CERTIFICATE_NAME_OTHER;
            put(names, cap, &n, kind, san->buf.tag, &san->buf);
        }
        *count = n;
    }
    mbedtls_x509_crt_free(&crt);
    return ret;
}
