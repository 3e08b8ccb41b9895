/*
 * config.c: process-wide set-up (RNG, PSA, memory accounting) and mst_config, the parsed,
 * shared, reference-counted configuration every session is made from.
 */
#include "internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/platform_util.h>
#include <psa/crypto.h>

/* ---- Process-wide set-up ---- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_status;
static mbedtls_entropy_context global_entropy;
static mbedtls_ctr_drbg_context global_drbg;

static void global_init_once(void)
{
    /* The counting allocator goes in first: a block must be freed by the allocator that
     * made it. */
    global_status = mst_memory_install();
    if (global_status != 0)
        return;
    mbedtls_entropy_init(&global_entropy);
    mbedtls_ctr_drbg_init(&global_drbg);
    static const char personalization[] = "mbedtls-stream";
    global_status = mbedtls_ctr_drbg_seed(&global_drbg, mbedtls_entropy_func, &global_entropy,
                                          (const unsigned char *)personalization,
                                          sizeof(personalization) - 1);
    if (global_status != 0)
        return;
    if (psa_crypto_init() != PSA_SUCCESS)
        global_status = MBEDTLS_ERR_ERROR_GENERIC_ERROR;
}

int mst_global_init(mst_error *err)
{
    pthread_once(&global_once, global_init_once);
    if (global_status != 0 && err != NULL)
        mst_error_set(err, global_status);
    return global_status;
}

mbedtls_ctr_drbg_context *mst_global_rng(void) { return &global_drbg; }

void mst_memory_totals(size_t *current, size_t *peak) { mst_memory_read_totals(current, peak); }

_Static_assert(MBEDTLS_SSL_IN_CONTENT_LEN == MBEDTLS_SSL_OUT_CONTENT_LEN,
               "a profile's records have one length both ways (mst_record_content_length)");

const char *mst_build_profile(void) { return MBEDTLS_STREAM_PROFILE; }

size_t mst_record_content_length(void) { return MBEDTLS_SSL_IN_CONTENT_LEN; }

/* ---- Errors ---- */

_Static_assert(MBEDTLS_SSL_IN_HANDSHAKE_MAX_LEN == 100 * 1024 &&
               MBEDTLS_SSL_OUT_HANDSHAKE_MAX_LEN == 100 * 1024,
               "the texts of MST_ERR_HANDSHAKE_TOO_LONG and MST_ERR_CHAIN_TOO_LONG name the bounds");

static const char *engine_error_text(int code)
{
    switch (code) {
    case MST_ERR_CONFIG_FROZEN: return "the configuration is in use by a session and can no longer change";
    case MST_ERR_NOT_READY: return "application data cannot be sent before the handshake is done";
    case MST_ERR_CLOSED: return "the session was closed with close_notify";
    case MST_ERR_BAD_ARGUMENT: return "bad argument";
    case MST_ERR_NO_CERTIFICATE: return "no certificate was found in the data";
    case MST_ERR_KEY_MISMATCH: return "the private key does not match the certificate";
    case MST_ERR_TOO_MANY: return "too many certificate and key pairs";
#if defined(MBEDTLS_STREAM_PROFILE_SMALL)
    case MST_ERR_RECORD_OVERFLOW: return "the peer sent a record longer than this build takes (4096 bytes of content: the small profile; record_overflow)";
#else
    case MST_ERR_RECORD_OVERFLOW: return "the peer sent a record longer than TLS allows (record_overflow)";
#endif
    case MST_ERR_SESSION_MISMATCH: return "the saved session was made for another peer name";
    case MST_ERR_NO_SESSION: return "there is no resumable session yet";
    case MST_ERR_REFUSED: return "the session was ended by the application with a fatal alert";
    case MST_ERR_MESSAGE_TOO_LARGE: return "the message does not fit one DTLS record";
#if defined(MBEDTLS_STREAM_PROFILE_SMALL)
    case MST_ERR_CHAIN_TOO_LONG: return "the certificate chain makes a Certificate message longer than peers take (100 KiB; 4 KiB in DTLS: the small profile)";
#else
    case MST_ERR_CHAIN_TOO_LONG: return "the certificate chain makes a Certificate message longer than peers take (100 KiB; 16 KiB in DTLS)";
#endif
    case MST_ERR_HANDSHAKE_TOO_LONG: return "the peer sent a handshake message longer than 100 KiB (excessive message size)";
    default: return NULL;
    }
}

void mst_error_set(mst_error *err, int code)
{
    if (err == NULL)
        return;
    err->code = code;
    err->part = NULL;
    const char *text = engine_error_text(code);
    if (text != NULL)
        snprintf(err->text, sizeof(err->text), "%s", text);
    else
        mbedtls_strerror(code, err->text, sizeof(err->text));
}

static int fail(mst_error *err, int code)
{
    mst_error_set(err, code);
    return code;
}

/* ---- Configuration ---- */


mst_config *mst_config_new(enum mst_endpoint endpoint, enum mst_transport transport, mst_error *err)
{
    if ((endpoint != MST_CLIENT && endpoint != MST_SERVER) ||
        (transport != MST_STREAM && transport != MST_DATAGRAM)) {
        fail(err, MST_ERR_BAD_ARGUMENT);
        return NULL;
    }
    if (mst_global_init(err) != 0)
        return NULL;
    mst_config *config = calloc(1, sizeof(*config));
    if (config == NULL) {
        fail(err, MBEDTLS_ERR_SSL_ALLOC_FAILED);
        return NULL;
    }
    atomic_init(&config->references, 1);
    atomic_init(&config->frozen, false);
    config->endpoint = endpoint;
    config->transport = transport;
    config->dtls_cid_length = -1;
    mbedtls_ssl_config_init(&config->ssl);
    for (size_t i = 0; i < MST_MAX_OWN_CERTIFICATES; i++) {
        mbedtls_x509_crt_init(&config->own[i].chain);
        mbedtls_pk_init(&config->own[i].key);
    }
    mbedtls_ssl_cookie_init(&config->cookies);

    int ret = mbedtls_ssl_config_defaults(
        &config->ssl, endpoint == MST_CLIENT ? MBEDTLS_SSL_IS_CLIENT : MBEDTLS_SSL_IS_SERVER,
        transport == MST_STREAM ? MBEDTLS_SSL_TRANSPORT_STREAM : MBEDTLS_SSL_TRANSPORT_DATAGRAM,
        MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) {
        fail(err, ret);
        mst_config_unref(config);
        return NULL;
    }
    mbedtls_ssl_conf_rng(&config->ssl, mbedtls_ctr_drbg_random, &global_drbg);
    /* node's defaults: TLS 1.2 minimum, clients verify servers, servers ask for nothing. */
    mbedtls_ssl_conf_min_tls_version(&config->ssl, MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_max_tls_version(&config->ssl,
                                     transport == MST_STREAM ? MBEDTLS_SSL_VERSION_TLS1_3
                                                             : MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_authmode(&config->ssl, endpoint == MST_CLIENT ? MBEDTLS_SSL_VERIFY_REQUIRED
                                                                   : MBEDTLS_SSL_VERIFY_NONE);
    /* node's default (honorCipherOrder false): a TLS 1.2 server takes the client's order. */
    mbedtls_ssl_conf_preference_order(&config->ssl, MBEDTLS_SSL_SRV_CIPHERSUITE_ORDER_CLIENT);
#if defined(MBEDTLS_SSL_SESSION_TICKETS) && defined(MBEDTLS_SSL_PROTO_TLS1_3)
    /* Report TLS 1.3 tickets to the session so the embedder can learn of them. */
    if (endpoint == MST_CLIENT)
        mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
            &config->ssl, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
#endif
    if (endpoint == MST_SERVER)
        mbedtls_ssl_conf_sni(&config->ssl, mst_record_server_name, NULL);
    if (endpoint == MST_SERVER && transport == MST_DATAGRAM) {
        ret = mbedtls_ssl_cookie_setup(&config->cookies, mbedtls_ctr_drbg_random, &global_drbg);
        if (ret != 0) {
            fail(err, ret);
            mst_config_unref(config);
            return NULL;
        }
        config->has_cookies = true;
        mbedtls_ssl_conf_dtls_cookies(&config->ssl, mbedtls_ssl_cookie_write,
                                      mbedtls_ssl_cookie_check, &config->cookies);
    }
    return config;
}

void mst_config_ref(mst_config *config)
{
    atomic_fetch_add_explicit(&config->references, 1, memory_order_relaxed);
}

void mst_config_unref(mst_config *config)
{
    if (config == NULL ||
        atomic_fetch_sub_explicit(&config->references, 1, memory_order_acq_rel) != 1)
        return;
    mbedtls_ssl_config_free(&config->ssl);
    mst_trust_unref(config->trust);
    mst_resumption_unref(config->resumption);
    for (size_t i = 0; i < MST_MAX_OWN_CERTIFICATES; i++) {
        mbedtls_x509_crt_free(&config->own[i].chain);
        mbedtls_pk_free(&config->own[i].key);
    }
    mbedtls_ssl_cookie_free(&config->cookies);
    mst_config_unref(config->cookies_from);
    if (config->alpn != NULL) {
        for (char **p = config->alpn; *p != NULL; p++)
            free(*p);
        free(config->alpn);
    }
    free(config->ciphersuites);
    free(config->psk_hint);
    free(config);
}

int mst_config_freeze(mst_config *config)
{
    bool expected = false;
    if (!atomic_compare_exchange_strong(&config->frozen, &expected, true))
        return 0;
    mst_trust *trust = config->trust;
    if (trust != NULL) {
        atomic_store(&trust->frozen, true);
        /* A trust store without CAs (node's `ca` that held none) trusts nothing; Mbed TLS
         * finds no parent in the empty list, as OpenSSL in an empty store. */
        mbedtls_ssl_conf_ca_chain(&config->ssl, &trust->ca, trust->has_crl ? &trust->crl : NULL);
    }
    return 0;
}

static int check_mutable(mst_config *config, mst_error *err)
{
    if (config == NULL)
        return fail(err, MST_ERR_BAD_ARGUMENT);
    if (atomic_load(&config->frozen))
        return fail(err, MST_ERR_CONFIG_FROZEN);
    return 0;
}

static int wire_to_mbedtls_version(int version, mbedtls_ssl_protocol_version *out)
{
    switch (version) {
    case MST_TLS1_2: *out = MBEDTLS_SSL_VERSION_TLS1_2; return 0;
    case MST_TLS1_3: *out = MBEDTLS_SSL_VERSION_TLS1_3; return 0;
    default: return MST_ERR_BAD_ARGUMENT;
    }
}

int mst_config_set_versions(mst_config *config, int min_version, int max_version, mst_error *err)
{
    int ret = check_mutable(config, err);
    if (ret != 0)
        return ret;
    mbedtls_ssl_protocol_version min, max;
    if (wire_to_mbedtls_version(min_version, &min) != 0 ||
        wire_to_mbedtls_version(max_version, &max) != 0 || min > max ||
        (config->transport == MST_DATAGRAM && max != MBEDTLS_SSL_VERSION_TLS1_2))
        return fail(err, MST_ERR_BAD_ARGUMENT);
    mbedtls_ssl_conf_min_tls_version(&config->ssl, min);
    mbedtls_ssl_conf_max_tls_version(&config->ssl, max);
    return 0;
}

int mst_config_set_verify(mst_config *config, enum mst_verify mode, mst_error *err)
{
    int ret = check_mutable(config, err);
    if (ret != 0)
        return ret;
    static const int modes[] = {MBEDTLS_SSL_VERIFY_NONE, MBEDTLS_SSL_VERIFY_OPTIONAL,
                                MBEDTLS_SSL_VERIFY_REQUIRED};
    if ((unsigned)mode > MST_VERIFY_REQUIRED)
        return fail(err, MST_ERR_BAD_ARGUMENT);
    mbedtls_ssl_conf_authmode(&config->ssl, modes[mode]);
    return 0;
}

/* Finds `needle` in the first `len` bytes of `data` (which need not be NUL-terminated). */
static const uint8_t *find(const uint8_t *data, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= len && i <= len - n; i++) {
        if (data[i] == (uint8_t)needle[0] && memcmp(data + i, needle, n) == 0)
            return data + i;
    }
    return NULL;
}

/* Mbed TLS wants PEM NUL-terminated, with the NUL counted in the length. */
typedef int (*pem_parser)(void *object, const unsigned char *buf, size_t len);

static int parse_pem_block(void *object, pem_parser parse, const uint8_t *begin, size_t len)
{
    unsigned char *copy = malloc(len + 1);
    if (copy == NULL)
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    memcpy(copy, begin, len);
    copy[len] = '\0';
    int ret = parse(object, copy, len + 1);
    free(copy);
    return ret;
}

static int parse_crt(void *crt, const unsigned char *buf, size_t len)
{
    return mbedtls_x509_crt_parse(crt, buf, len);
}

/* The PEM labels OpenSSL reads certificates under (PEM_read_bio_X509_AUX): node's `ca` and
 * `cert` take all three. */
static const char *const certificate_labels[] = {"CERTIFICATE", "TRUSTED CERTIFICATE",
                                                 "X509 CERTIFICATE"};

/* A TRUSTED CERTIFICATE is a certificate followed by OpenSSL's X509_CERT_AUX: trust and
 * reject lists of purposes, an alias, a key id. Mbed TLS has no such per-anchor purposes, so
 * a block that restricts them is refused rather than trusted for every purpose. */
static int check_certificate_aux(const unsigned char *der, size_t len)
{
    unsigned char *p = (unsigned char *)der;
    const unsigned char *end = der + len;
    size_t inner;
    if (mbedtls_asn1_get_tag(&p, end, &inner, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
        return MBEDTLS_ERR_X509_INVALID_FORMAT;
    p += inner; /* the certificate */
    if (p == end)
        return 0;
    if (mbedtls_asn1_get_tag(&p, end, &inner, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
        p + inner != end)
        return MBEDTLS_ERR_X509_INVALID_FORMAT;
    /* trust: SEQUENCE OF OBJECT IDENTIFIER; reject: [0] IMPLICIT SEQUENCE OF ... */
    if (inner > 0 && (p[0] == (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) ||
                      p[0] == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0)))
        return MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE;
    return 0;
}

/* One PEM block (NUL-terminated, from its BEGIN line to its END line) under `label`. */
static int parse_labelled_block(mbedtls_x509_crt *crt, const char *label, const unsigned char *block)
{
    char header[48], footer[48];
    snprintf(header, sizeof(header), "-----BEGIN %s-----", label);
    snprintf(footer, sizeof(footer), "-----END %s-----", label);
    mbedtls_pem_context pem;
    mbedtls_pem_init(&pem);
    size_t used, der_len;
    int ret = mbedtls_pem_read_buffer(&pem, header, footer, block, NULL, 0, &used);
    if (ret == 0) {
        const unsigned char *der = mbedtls_pem_get_buffer(&pem, &der_len);
        ret = check_certificate_aux(der, der_len);
        if (ret == 0)
            ret = mbedtls_x509_crt_parse_der(crt, der, der_len);
    }
    mbedtls_pem_free(&pem);
    return ret;
}

static int parse_certificate_block(mbedtls_x509_crt *crt, const char *label, const uint8_t *begin,
                                   size_t len)
{
    if (strcmp(label, "CERTIFICATE") == 0)
        return parse_pem_block(crt, parse_crt, begin, len);
    unsigned char *copy = malloc(len + 1);
    if (copy == NULL)
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    memcpy(copy, begin, len);
    copy[len] = '\0';
    int ret = parse_labelled_block(crt, label, copy);
    free(copy);
    return ret;
}

/* The certificate label of a "-----BEGIN " line at `begin`, or NULL for another label. */
static const char *certificate_label(const uint8_t *begin, const uint8_t *limit)
{
    static const char prefix[] = "-----BEGIN ";
    const uint8_t *name = begin + sizeof(prefix) - 1;
    for (size_t i = 0; i < sizeof(certificate_labels) / sizeof(certificate_labels[0]); i++) {
        size_t n = strlen(certificate_labels[i]);
        if ((size_t)(limit - name) >= n + 5 && memcmp(name, certificate_labels[i], n) == 0 &&
            memcmp(name + n, "-----", 5) == 0)
            return certificate_labels[i];
    }
    return NULL;
}

/* Parses every PEM certificate in data (other PEM blocks, such as keys, are passed over), or
 * data as one DER certificate. Each PEM block is parsed on its own so that a failure has its
 * own error code, not just a count. */
static int parse_certificates(mbedtls_x509_crt *crt, const uint8_t *data, size_t len,
                              int strict, size_t *skipped)
{
    size_t parsed = 0, failed = 0;
    int first_error = 0;

    if (skipped != NULL)
        *skipped = 0;
    if (find(data, len, "-----BEGIN") == NULL)
        return mbedtls_x509_crt_parse_der(crt, data, len);

    const uint8_t *cursor = data, *limit = data + len;
    for (;;) {
        const uint8_t *begin = find(cursor, (size_t)(limit - cursor), "-----BEGIN ");
        if (begin == NULL)
            break;
        const char *label = certificate_label(begin, limit);
        if (label == NULL) {
            cursor = begin + 1;
            continue;
        }
        char end_label[48];
        snprintf(end_label, sizeof(end_label), "-----END %s-----", label);
        const uint8_t *end = find(begin, (size_t)(limit - begin), end_label);
        if (end == NULL) {
            first_error = first_error ? first_error : MBEDTLS_ERR_PEM_INVALID_DATA;
            failed++;
            break;
        }
        end += strlen(end_label);
        int ret = parse_certificate_block(crt, label, begin, (size_t)(end - begin));
        if (ret == MBEDTLS_ERR_SSL_ALLOC_FAILED || ret == MBEDTLS_ERR_X509_ALLOC_FAILED)
            return ret;
        if (ret != 0) {
            if (strict)
                return ret;
            first_error = first_error ? first_error : ret;
            failed++;
        } else {
            parsed++;
        }
        cursor = end;
    }
    if (skipped != NULL)
        *skipped = failed;
    if (parsed == 0)
        return first_error ? first_error : MST_ERR_NO_CERTIFICATE;
    return 0;
}

/* ---- Trust ---- */

mst_trust *mst_trust_new(mst_error *err)
{
    if (mst_global_init(err) != 0)
        return NULL;
    mst_trust *trust = calloc(1, sizeof(*trust));
    if (trust == NULL) {
        fail(err, MBEDTLS_ERR_SSL_ALLOC_FAILED);
        return NULL;
    }
    atomic_init(&trust->references, 1);
    atomic_init(&trust->frozen, false);
    mbedtls_x509_crt_init(&trust->ca);
    mbedtls_x509_crl_init(&trust->crl);
    return trust;
}

void mst_trust_ref(mst_trust *trust)
{
    atomic_fetch_add_explicit(&trust->references, 1, memory_order_relaxed);
}

void mst_trust_unref(mst_trust *trust)
{
    if (trust == NULL ||
        atomic_fetch_sub_explicit(&trust->references, 1, memory_order_acq_rel) != 1)
        return;
    mbedtls_x509_crt_free(&trust->ca);
    mbedtls_x509_crl_free(&trust->crl);
    free(trust);
}

static int check_trust_mutable(mst_trust *trust, mst_error *err)
{
    if (trust == NULL)
        return fail(err, MST_ERR_BAD_ARGUMENT);
    if (atomic_load(&trust->frozen))
        return fail(err, MST_ERR_CONFIG_FROZEN);
    return 0;
}

int mst_trust_add_ca(mst_trust *trust, const uint8_t *data, size_t len, int strict,
                     size_t *skipped, mst_error *err)
{
    int ret = check_trust_mutable(trust, err);
    if (ret != 0)
        return ret;
    /* Neither PEM nor DER (an ASN.1 SEQUENCE): text that holds no certificate. */
    if (data == NULL || len == 0 || (find(data, len, "-----BEGIN") == NULL && data[0] != 0x30))
        return fail(err, MST_ERR_NO_CERTIFICATE);
    ret = parse_certificates(&trust->ca, data, len, strict, skipped);
    if (ret != 0)
        return fail(err, ret);
    return 0;
}

const uint8_t *mst_trust_ca_certificate(const mst_trust *trust, size_t index, size_t *len)
{
    /* An empty list is one initialised entry without data. */
    const mbedtls_x509_crt *c = trust != NULL ? &trust->ca : NULL;
    for (; c != NULL && index > 0; index--)
        c = c->next;
    if (c == NULL || c->raw.p == NULL)
        return NULL;
    if (len != NULL)
        *len = c->raw.len;
    return c->raw.p;
}

int mst_config_set_trust(mst_config *config, mst_trust *trust, mst_error *err)
{
    int ret = check_mutable(config, err);
    if (ret != 0)
        return ret;
    if (trust != NULL)
        mst_trust_ref(trust);
    mst_trust_unref(config->trust);
    config->trust = trust;
    return 0;
}

/* The config's own trust store, created on first use. */
static mst_trust *own_trust(mst_config *config, mst_error *err)
{
    if (config->trust == NULL)
        config->trust = mst_trust_new(err);
    return config->trust;
}

int mst_config_add_ca(mst_config *config, const uint8_t *data, size_t len, int strict,
                      size_t *skipped, mst_error *err)
{
    int ret = check_mutable(config, err);
    if (ret != 0)
        return ret;
    mst_trust *trust = own_trust(config, err);
    return trust ? mst_trust_add_ca(trust, data, len, strict, skipped, err)
                 : fail(err, MBEDTLS_ERR_SSL_ALLOC_FAILED);
}

static int parse_crl(void *crl, const unsigned char *buf, size_t len)
{
    return mbedtls_x509_crl_parse(crl, buf, len);
}

int mst_trust_add_crl(mst_trust *trust, const uint8_t *data, size_t len, mst_error *err)
{
    int ret = check_trust_mutable(trust, err);
    if (ret != 0)
        return ret;
    if (data == NULL || len == 0)
        return fail(err, MBEDTLS_ERR_X509_INVALID_FORMAT);
    if (find(data, len, "-----BEGIN") != NULL)
        ret = parse_pem_block(&trust->crl, parse_crl, data, len);
    else
        ret = mbedtls_x509_crl_parse_der(&trust->crl, data, len);
    if (ret != 0)
        return fail(err, ret);
    trust->has_crl = true;
    return 0;
}

int mst_config_add_crl(mst_config *config, const uint8_t *data, size_t len, mst_error *err)
{
    int ret = check_mutable(config, err);
    if (ret != 0)
        return ret;
    mst_trust *trust = own_trust(config, err);
    return trust ? mst_trust_add_crl(trust, data, len, err) : fail(err, MBEDTLS_ERR_SSL_ALLOC_FAILED);
}

/* Mbed TLS 3.6 builds a handshake message whole in its output buffer, so a Certificate
 * message longer than it fails every handshake (Mbed-TLS/mbedtls#3296, #10863). In TLS the
 * buffer grows for one of up to MBEDTLS_SSL_OUT_HANDSHAKE_MAX_LEN bytes of body, as long as
 * node's peers take (deps/patches/0007); in DTLS it stays MBEDTLS_SSL_OUT_CONTENT_LEN.
 * Measured as TLS 1.3 frames it, the larger form: handshake header, context, list length,
 * and per certificate its length and an empty extension list. */
static bool chain_fits_certificate_message(const mbedtls_x509_crt *chain,
                                           enum mst_transport transport)
{
    size_t length = 4 + 1 + 3;
    for (const mbedtls_x509_crt *crt = chain; crt != NULL && crt->raw.len > 0; crt = crt->next)
        length += 3 + crt->raw.len + 2;
    if (transport == MST_DATAGRAM)
        return length <= MBEDTLS_SSL_OUT_CONTENT_LEN;
    return length - 4 <= MBEDTLS_SSL_OUT_HANDSHAKE_MAX_LEN;
}

int mst_config_add_certificate(mst_config *config, const uint8_t *chain, size_t chain_len,
                               const uint8_t *key, size_t key_len,
                               const uint8_t *passphrase, size_t passphrase_len, mst_error *err)
{
    int ret = check_mutable(config, err);
    if (ret != 0)
        return ret;
    if (chain == NULL || chain_len == 0 || key == NULL || key_len == 0)
        return fail(err, MST_ERR_BAD_ARGUMENT);
    if (config->own_count == MST_MAX_OWN_CERTIFICATES)
        return fail(err, MST_ERR_TOO_MANY);

    mbedtls_x509_crt *crt = &config->own[config->own_count].chain;
    mbedtls_pk_context *pk = &config->own[config->own_count].key;
    const char *part = "certificate";
    ret = parse_certificates(crt, chain, chain_len, 1, NULL);
    if (ret == 0 && !chain_fits_certificate_message(crt, config->transport))
        ret = MST_ERR_CHAIN_TOO_LONG;
    if (ret == 0) {
        part = "private key";
        bool pem = find(key, key_len, "-----BEGIN") != NULL && key[key_len - 1] != '\0';
        unsigned char *copy = NULL;
        const unsigned char *input = key;
        size_t input_len = key_len;
        if (pem) {
            copy = malloc(key_len + 1);
            if (copy == NULL)
                return fail(err, MBEDTLS_ERR_SSL_ALLOC_FAILED);
            memcpy(copy, key, key_len);
            copy[key_len] = '\0';
            input = copy;
            input_len = key_len + 1;
        }
        ret = mbedtls_pk_parse_key(pk, input, input_len, passphrase, passphrase_len,
                                   mbedtls_ctr_drbg_random, &global_drbg);
        if (copy != NULL) {
            mbedtls_platform_zeroize(copy, key_len);
            free(copy);
        }
    }
    if (ret == 0 && mbedtls_pk_check_pair(&crt->pk, pk, mbedtls_ctr_drbg_random, &global_drbg) != 0) {
        part = NULL;
        ret = MST_ERR_KEY_MISMATCH;
    }
    /* OpenSSL sends a certificate whatever its extended key usage says and lets the peer
     * judge; Mbed TLS's server passes over one without serverAuth. Forgetting the extension
     * on this parsed copy (the DER sent is untouched) keeps it eligible. */
    if (ret == 0)
        crt->MBEDTLS_PRIVATE(ext_types) &= ~MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE;
    if (ret == 0)
        ret = mbedtls_ssl_conf_own_cert(&config->ssl, crt, pk);
    if (ret != 0) {
        mbedtls_x509_crt_free(crt);
        mbedtls_pk_free(pk);
        mbedtls_x509_crt_init(crt);
        mbedtls_pk_init(pk);
        fail(err, ret);
        if (err != NULL)
            err->part = part;
        return ret;
    }
    config->own_count++;
    return 0;
}

int mst_config_set_alpn(mst_config *config, const char *const *protocols, size_t count,
                        mst_error *err)
{
    int ret = check_mutable(config, err);
    if (ret != 0)
        return ret;
    if (count > 0 && protocols == NULL)
        return fail(err, MST_ERR_BAD_ARGUMENT);
    char **copy = calloc(count + 1, sizeof(char *));
    if (copy == NULL)
        return fail(err, MBEDTLS_ERR_SSL_ALLOC_FAILED);
    for (size_t i = 0; i < count; i++) {
        size_t n = protocols[i] ? strlen(protocols[i]) : 0;
        copy[i] = (n > 0 && n <= 255) ? malloc(n + 1) : NULL;
        if (copy[i] == NULL) {
            for (size_t j = 0; j < i; j++)
                free(copy[j]);
            free(copy);
            return fail(err, (n == 0 || n > 255) ? MST_ERR_BAD_ARGUMENT : MBEDTLS_ERR_SSL_ALLOC_FAILED);
        }
        memcpy(copy[i], protocols[i], n + 1);
    }
    ret = mbedtls_ssl_conf_alpn_protocols(&config->ssl, (const char **)copy);
    if (ret != 0) {
        for (size_t i = 0; i < count; i++)
            free(copy[i]);
        free(copy);
        return fail(err, ret);
    }
    if (config->alpn != NULL) {
        for (char **p = config->alpn; *p != NULL; p++)
            free(*p);
        free(config->alpn);
    }
    config->alpn = copy;
    return 0;
}

int mst_config_set_ciphersuites(mst_config *config, const int *ids, size_t count, mst_error *err)
{
    int ret = check_mutable(config, err);
    if (ret != 0)
        return ret;
    if (count == 0 || ids == NULL)
        return fail(err, MST_ERR_BAD_ARGUMENT);
    int *copy = calloc(count + 1, sizeof(int));
    if (copy == NULL)
        return fail(err, MBEDTLS_ERR_SSL_ALLOC_FAILED);
    memcpy(copy, ids, count * sizeof(int));
    mbedtls_ssl_conf_ciphersuites(&config->ssl, copy);
    free(config->ciphersuites);
    config->ciphersuites = copy;
    return 0;
}

int mst_config_set_cipher_order(mst_config *config, bool server_order, mst_error *err)
{
    int ret = check_mutable(config, err);
    if (ret != 0)
        return ret;
    mbedtls_ssl_conf_preference_order(&config->ssl, server_order
                                                        ? MBEDTLS_SSL_SRV_CIPHERSUITE_ORDER_SERVER
                                                        : MBEDTLS_SSL_SRV_CIPHERSUITE_ORDER_CLIENT);
    return 0;
}

int mst_config_set_resumption(mst_config *config, mst_resumption *store, mst_error *err)
{
    int ret = check_mutable(config, err);
    if (ret != 0)
        return ret;
    if (config->endpoint != MST_SERVER || store == NULL)
        return fail(err, MST_ERR_BAD_ARGUMENT);
    mst_resumption_ref(store);
    mst_resumption_unref(config->resumption);
    config->resumption = store;
    mbedtls_ssl_conf_session_tickets_cb(&config->ssl, mst_resumption_seal, mst_resumption_open,
                                        store);
#if defined(MBEDTLS_SSL_PROTO_TLS1_3) && defined(MBEDTLS_SSL_SESSION_TICKETS)
    /* Two TLS 1.3 tickets per full handshake, as OpenSSL (node) sends; none after a resumed
     * one, as node (handshake.c). */
    mbedtls_ssl_conf_new_session_tickets(&config->ssl, 2);
#endif
    /* The store's session-ID cache, or the embedder's store for sessions that use one
     * (session_store.c). */
    mbedtls_ssl_conf_session_cache(&config->ssl, store, mst_store_get, mst_store_set);
    return 0;
}

int mst_config_set_debug(mst_config *config, int level, mst_error *err)
{
    int ret = check_mutable(config, err);
    if (ret != 0)
        return ret;
    if (level < 0 || level > 4)
        return fail(err, MST_ERR_BAD_ARGUMENT);
    config->debug_level = level;
    /* Without a callback Mbed TLS returns from each debug statement at once. */
    mbedtls_ssl_conf_dbg(&config->ssl, level > 0 ? mst_record_debug : NULL, NULL);
    return 0;
}

int mst_config_set_max_fragment_length(mst_config *config, size_t length, mst_error *err)
{
    int ret = check_mutable(config, err);
    if (ret != 0)
        return ret;
    unsigned char code;
    switch (length) {
    case 0: code = MBEDTLS_SSL_MAX_FRAG_LEN_NONE; break;
    case 512: code = MBEDTLS_SSL_MAX_FRAG_LEN_512; break;
    case 1024: code = MBEDTLS_SSL_MAX_FRAG_LEN_1024; break;
    case 2048: code = MBEDTLS_SSL_MAX_FRAG_LEN_2048; break;
    case 4096: code = MBEDTLS_SSL_MAX_FRAG_LEN_4096; break;
    default: return fail(err, MST_ERR_BAD_ARGUMENT);
    }
    ret = mbedtls_ssl_conf_max_frag_len(&config->ssl, code);
    return ret != 0 ? fail(err, ret) : 0;
}

int mst_config_set_psk(mst_config *config, const uint8_t *key, size_t key_len,
                       const uint8_t *identity, size_t identity_len, mst_error *err)
{
    int ret = check_mutable(config, err);
    if (ret != 0)
        return ret;
    if (config->endpoint != MST_CLIENT || key == NULL || key_len == 0 || identity == NULL ||
        identity_len == 0)
        return fail(err, MST_ERR_BAD_ARGUMENT);
    /* Mbed TLS copies both. */
    ret = mbedtls_ssl_conf_psk(&config->ssl, key, key_len, identity, identity_len);
    return ret != 0 ? fail(err, ret) : 0;
}

int mst_config_ask_psk(mst_config *config, mst_error *err)
{
    int ret = check_mutable(config, err);
    if (ret != 0)
        return ret;
    if (config->endpoint == MST_SERVER) {
        mbedtls_ssl_conf_psk_cb(&config->ssl, mst_lookup_psk, NULL);
    } else {
        /* The client's answer waits for the server's hint, read from the ServerKeyExchange
         * Mbed TLS has just parsed (in DTLS the whole flight is in by then). */
        mbedtls_ssl_conf_psk_per_handshake(&config->ssl, 1); /* deps/patches/0002 */
    }
    config->asks_psk = true;
    return 0;
}

int mst_config_set_psk_hint(mst_config *config, const uint8_t *hint, size_t len, mst_error *err)
{
    int ret = check_mutable(config, err);
    if (ret != 0)
        return ret;
    if (config->endpoint != MST_SERVER || (hint == NULL && len != 0) || len > MST_PSK_HINT_MAX)
        return fail(err, MST_ERR_BAD_ARGUMENT);
    uint8_t *copy = NULL;
    if (len > 0) {
        if ((copy = malloc(len)) == NULL)
            return fail(err, MBEDTLS_ERR_SSL_ALLOC_FAILED);
        memcpy(copy, hint, len);
    }
    free(config->psk_hint);
    config->psk_hint = copy;
    /* Mbed TLS keeps the pointer (deps/patches/0002). */
    mbedtls_ssl_conf_psk_identity_hint(&config->ssl, copy, len);
    return 0;
}
