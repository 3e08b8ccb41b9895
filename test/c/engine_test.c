/*
 * engine_test.c: tests of the sans-I/O engine. A client engine and a server engine in one
 * process exchange bytes in memory; the certificates are certs/ (argument 1).
 * Prints one line per test and a closing "N passed, N failed"; exits non-zero on failure.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509.h>
#include <mbedtls/x509_crt.h>

#include "dtls_hello.h"
#include "engine.h"
#include "internal.h" /* a client config's Mbed TLS settings: a client that takes no tickets */
#include "engine_helpers.h"
#include "harness.h"



#define CHECK_CODE(expression, expected)                                           \
    do {                                                                           \
        int got_ = (expression);                                                   \
        if (got_ != (expected)) {                                                  \
            printf("    %s:%d: %s returned -0x%04X, expected -0x%04X\n", __FILE__, __LINE__, \
                   #expression, (unsigned)-got_, (unsigned)-(expected));           \
            current_failed = true;                                                 \
            goto done;                                                             \
        }                                                                          \
    } while (0)

/* ---- Building configs and sessions ---- */

typedef struct options {
    enum mst_transport transport;
    int min_version, max_version;
    const char *server_chain, *server_key; /* default: ECDSA server */
    const char *client_chain, *client_key; /* mutual TLS when set */
    const char *client_trusts;             /* default: ca.pem */
    enum mst_verify client_verify;         /* default: REQUIRED */
    enum mst_verify server_verify;         /* default: NONE */
    const char *server_name;
    mst_resumption *resumption;            /* the server resumes sessions with it */
    int client_debug, server_debug;        /* Mbed TLS debug levels; default 0 */
    size_t client_max_fragment;            /* max_fragment_length the client asks for */
    int client_suite;                      /* the one cipher suite the client offers */
    mst_trust *client_trust;               /* in place of client_trusts */
    const char *server_trusts;             /* default: ca.pem */
} options;

typedef struct pair {
    mst_config *client_config, *server_config;
    mst_session *client, *server;
} pair;

static pair make_pair(options o)
{
    pair p = {0};
    mst_error err;
    int min = o.min_version ? o.min_version : MST_TLS1_2;
    int max = o.max_version ? o.max_version : (o.transport == MST_DATAGRAM ? MST_TLS1_2 : MST_TLS1_3);

    p.server_config = mst_config_new(MST_SERVER, o.transport, &err);
    p.client_config = mst_config_new(MST_CLIENT, o.transport, &err);
    if (p.server_config == NULL || p.client_config == NULL) {
        fprintf(stderr, "config_new: %s\n", err.text);
        exit(2);
    }
    mst_config_set_versions(p.server_config, min, max, NULL);
    mst_config_set_versions(p.client_config, min, max, NULL);
    add_file(p.server_config, o.server_chain ? o.server_chain : "server-ecdsa-chain.pem",
             o.server_key ? o.server_key : "server-ecdsa.key");
    if (o.client_trust != NULL)
        mst_config_set_trust(p.client_config, o.client_trust, NULL);
    else
        trust(p.client_config, o.client_trusts ? o.client_trusts : "ca.pem");
    if (o.client_suite != 0)
        mst_config_set_ciphersuites(p.client_config, &o.client_suite, 1, NULL);
    mst_config_set_verify(p.client_config, o.client_verify ? o.client_verify : MST_VERIFY_REQUIRED,
                          NULL);
    mst_config_set_verify(p.server_config, o.server_verify, NULL);
    trust(p.server_config, o.server_trusts ? o.server_trusts : "ca.pem");
    if (o.client_chain != NULL)
        add_file(p.client_config, o.client_chain, o.client_key);
    if (o.resumption != NULL)
        mst_config_set_resumption(p.server_config, o.resumption, NULL);
    if (mst_config_set_max_fragment_length(p.client_config, o.client_max_fragment, &err) != 0 ||
        mst_config_set_debug(p.client_config, o.client_debug, &err) != 0 ||
        mst_config_set_debug(p.server_config, o.server_debug, &err) != 0) {
        fprintf(stderr, "set_debug: %s\n", err.text);
        exit(2);
    }

    p.server = mst_session_new(p.server_config, &err);
    p.client = mst_session_new(p.client_config, &err);
    if (p.server == NULL || p.client == NULL) {
        fprintf(stderr, "session_new: %s\n", err.text);
        exit(2);
    }
    if (o.transport == MST_DATAGRAM)
        mst_session_set_transport_id(p.server, (const uint8_t *)"127.0.0.1:4433", 14);
    if (o.server_name != NULL)
        mst_session_set_server_name(p.client, o.server_name);
    return p;
}

static void free_pair(pair *p)
{
    mst_session_free(p->client);
    mst_session_free(p->server);
    mst_config_unref(p->client_config);
    mst_config_unref(p->server_config);
    memset(p, 0, sizeof(*p));
}

/* Exchanges flights until neither side has anything to send. */
static void pump(pair *p, size_t chunk)
{
    for (int round = 0; round < 1000; round++) {
        size_t moved = transfer(p->client, p->server, chunk, false) +
                       transfer(p->server, p->client, chunk, false);
        if (moved == 0)
            return;
    }
}

static bool handshake(pair *p, size_t chunk)
{
    mst_session_process(p->client);
    pump(p, chunk);
    return !(mst_session_state(p->client) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED)) &&
           !(mst_session_state(p->server) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED));
}

static int error_code(const mst_session *s)
{
    const mst_error *e = mst_session_error(s);
    return e ? e->code : 0;
}

/* Sends `len` pattern bytes from one side, delivered `chunk` bytes at a time, and checks
 * the other side reads exactly them. */
static bool send_and_check(pair *p, bool from_client, size_t len, size_t chunk)
{
    mst_session *from = from_client ? p->client : p->server;
    mst_session *to = from_client ? p->server : p->client;
    uint8_t *sent = malloc(len), *got = malloc(len);
    size_t received = 0;
    bool ok = false;
    for (size_t i = 0; i < len; i++)
        sent[i] = (uint8_t)(i * 31 + 7 + (i >> 11));
    if (mst_session_write_plaintext(from, sent, len) != 0)
        goto out;
    while (received < len) {
        size_t moved = transfer(from, to, chunk, false);
        received += mst_session_read_plaintext(to, got + received, len - received);
        if (moved == 0)
            break;
    }
    ok = received == len && memcmp(sent, got, len) == 0 &&
         !(mst_session_state(to) & MST_STATE_HAS_PLAINTEXT);
out:
    free(sent);
    free(got);
    return ok;
}

/* ---- Tests ---- */

static void test_handshake(int version, const char *chain, const char *key, const char *protocol)
{
    pair p = make_pair((options){.min_version = version, .max_version = version,
                                 .server_chain = chain, .server_key = key});
    CHECK(handshake(&p, 0));
    CHECK(strcmp(mst_session_protocol(p.client), protocol) == 0);
    CHECK(strcmp(mst_session_protocol(p.server), protocol) == 0);
    CHECK(mst_session_ciphersuite_id(p.client) == mst_session_ciphersuite_id(p.server));
    CHECK(mst_session_ciphersuite_name(p.client) != NULL);
    CHECK(mst_session_verify_flags(p.client) == 0);
    CHECK(mst_session_take_events(p.client) & MST_EVENT_HANDSHAKE_DONE);
    CHECK(mst_session_take_events(p.server) & MST_EVENT_HANDSHAKE_DONE);
    /* The server sent leaf + intermediate; the leaf is the one it was configured with. */
    size_t len0, len1, len2, own_len;
    uint32_t flags = 1;
    const uint8_t *leaf = mst_session_peer_certificate(p.client, 0, &len0);
    CHECK(leaf != NULL && mst_session_peer_certificate(p.client, 1, &len1) != NULL);
    CHECK(mst_session_peer_certificate(p.client, 2, &len2) == NULL);
    /* Verified path: leaf, intermediate, and the trusted root from the CA list. */
    CHECK(mst_session_verified_certificate(p.client, 2, &len2, &flags) != NULL && flags == 0);
    const uint8_t *own = mst_session_own_certificate(p.server, &own_len);
    CHECK(own != NULL && own_len == len0 && memcmp(own, leaf, len0) == 0);
done:
    free_pair(&p);
}

static void test_tls12_ecdsa(void) { test_handshake(MST_TLS1_2, "server-ecdsa-chain.pem", "server-ecdsa.key", "TLSv1.2"); }
static void test_tls13_ecdsa(void) { test_handshake(MST_TLS1_3, "server-ecdsa-chain.pem", "server-ecdsa.key", "TLSv1.3"); }
static void test_tls12_rsa(void) { test_handshake(MST_TLS1_2, "server-rsa-chain.pem", "server-rsa.key", "TLSv1.2"); }
static void test_tls13_rsa(void) { test_handshake(MST_TLS1_3, "server-rsa-chain.pem", "server-rsa.key", "TLSv1.3"); }

static void test_default_versions_negotiate_tls13(void)
{
    pair p = make_pair((options){0});
    CHECK(handshake(&p, 0));
    CHECK(strcmp(mst_session_protocol(p.client), "TLSv1.3") == 0);
done:
    free_pair(&p);
}

static void test_mutual(int version)
{
    pair p = make_pair((options){.min_version = version, .max_version = version,
                                 .client_chain = "client-chain.pem", .client_key = "client.key",
                                 .server_verify = MST_VERIFY_REQUIRED});
    CHECK(handshake(&p, 0));
    CHECK(mst_session_verify_flags(p.server) == 0);
    size_t len;
    CHECK(mst_session_peer_certificate(p.server, 0, &len) != NULL);
    CHECK(mst_session_peer_certificate(p.server, 1, &len) != NULL);
done:
    free_pair(&p);
}

static void test_tls12_client_certificate(void) { test_mutual(MST_TLS1_2); }
static void test_tls13_client_certificate(void) { test_mutual(MST_TLS1_3); }

static void test_missing_client_certificate(int version)
{
    pair p = make_pair((options){.min_version = version, .max_version = version,
                                 .server_verify = MST_VERIFY_REQUIRED});
    CHECK(!handshake(&p, 0));
    CHECK_CODE(error_code(p.server), MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE);
    /* The server's fatal alert reached the client and was read: in TLS 1.3 it goes out
     * after the server's Finished, under the application traffic keys the finished client
     * reads with (deps/patches/0004), and is certificate_required (0005). */
    CHECK_CODE(error_code(p.client), MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE);
    CHECK(mst_session_peer_alert(p.client) == (version == MST_TLS1_2
                                                   ? MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE
                                                   : MBEDTLS_SSL_ALERT_MSG_CERT_REQUIRED));
done:
    free_pair(&p);
}

static void test_tls12_missing_client_certificate(void) { test_missing_client_certificate(MST_TLS1_2); }
static void test_tls13_missing_client_certificate(void) { test_missing_client_certificate(MST_TLS1_3); }

static void test_client_certificate_from_unknown_ca(int version)
{
    pair p = make_pair((options){.min_version = version, .max_version = version,
                                 .client_chain = "other-client.pem", .client_key = "other-client.key",
                                 .server_verify = MST_VERIFY_REQUIRED});
    CHECK(!handshake(&p, 0));
    CHECK_CODE(error_code(p.server), MBEDTLS_ERR_X509_CERT_VERIFY_FAILED);
    CHECK(mst_session_verify_flags(p.server) & MBEDTLS_X509_BADCERT_NOT_TRUSTED);
    /* The client reads why, in TLS 1.3 too (deps/patches/0004). */
    CHECK_CODE(error_code(p.client), MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE);
    CHECK(mst_session_peer_alert(p.client) == MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA);
done:
    free_pair(&p);
}

static void test_tls12_client_certificate_from_unknown_ca(void) { test_client_certificate_from_unknown_ca(MST_TLS1_2); }
static void test_tls13_client_certificate_from_unknown_ca(void) { test_client_certificate_from_unknown_ca(MST_TLS1_3); }

static void test_data(int version, size_t len, size_t chunk)
{
    pair p = make_pair((options){.min_version = version, .max_version = version});
    CHECK(handshake(&p, chunk));
    CHECK(send_and_check(&p, true, len, chunk));
    CHECK(send_and_check(&p, false, len, chunk));
done:
    free_pair(&p);
}

static void test_tls12_one_byte(void) { test_data(MST_TLS1_2, 1, 0); }
static void test_tls13_one_byte(void) { test_data(MST_TLS1_3, 1, 0); }
static void test_tls12_16k(void) { test_data(MST_TLS1_2, 16384, 0); }
static void test_tls13_16k(void) { test_data(MST_TLS1_3, 16384, 0); }
static void test_tls12_1m_one_batch(void) { test_data(MST_TLS1_2, 1 << 20, 0); }
static void test_tls13_1m_one_batch(void) { test_data(MST_TLS1_3, 1 << 20, 0); }
static void test_tls12_byte_at_a_time(void) { test_data(MST_TLS1_2, 40000, 1); }
static void test_tls13_byte_at_a_time(void) { test_data(MST_TLS1_3, 40000, 1); }

/* One feed carrying many records yields all their plaintext at once. */
static void test_one_feed_many_records(void)
{
    pair p = make_pair((options){0});
    uint8_t block[1000];
    memset(block, 'x', sizeof(block));
    CHECK(handshake(&p, 0));
    for (int i = 0; i < 50; i++)
        CHECK(mst_session_write_plaintext(p.client, block, sizeof(block)) == 0);
    size_t len;
    const uint8_t *records = mst_session_peek_ciphertext(p.client, &len);
    CHECK(records != NULL && len > 50 * sizeof(block));
    CHECK(mst_session_feed_ciphertext(p.server, records, len) == 0);
    mst_session_consume_ciphertext(p.client, len);
    CHECK(mst_session_peek_plaintext(p.server, &len) != NULL && len == 50 * sizeof(block));
done:
    free_pair(&p);
}

static void test_close_notify(bool client_closes)
{
    pair p = make_pair((options){0});
    CHECK(handshake(&p, 0));
    mst_session *closer = client_closes ? p.client : p.server;
    mst_session *peer = client_closes ? p.server : p.client;
    mst_session_take_events(peer);
    CHECK(mst_session_close(closer) == 0);
    CHECK(mst_session_state(closer) & MST_STATE_CLOSE_SENT);
    CHECK(mst_session_write_plaintext(closer, (const uint8_t *)"x", 1) == MST_ERR_CLOSED);
    pump(&p, 0);
    CHECK(mst_session_state(peer) & MST_STATE_PEER_CLOSE_NOTIFY);
    CHECK(!(mst_session_state(peer) & (MST_STATE_PEER_EOF | MST_STATE_FAILED)));
    CHECK(mst_session_take_events(peer) & MST_EVENT_PEER_CLOSED);
    /* The peer answers with its own close_notify. */
    CHECK(mst_session_close(peer) == 0);
    pump(&p, 0);
    CHECK(mst_session_state(closer) & MST_STATE_PEER_CLOSE_NOTIFY);
done:
    free_pair(&p);
}

static void test_client_close_notify(void) { test_close_notify(true); }
static void test_server_close_notify(void) { test_close_notify(false); }

static void test_eof_without_close_notify(void)
{
    pair p = make_pair((options){0});
    CHECK(handshake(&p, 0));
    CHECK(mst_session_feed_eof(p.client) == 0);
    CHECK(mst_session_state(p.client) & MST_STATE_PEER_EOF);
    CHECK(!(mst_session_state(p.client) & (MST_STATE_PEER_CLOSE_NOTIFY | MST_STATE_FAILED)));
done:
    free_pair(&p);
}

static void test_eof_during_handshake_is_an_error(void)
{
    pair p = make_pair((options){0});
    mst_session_process(p.client);
    transfer(p.client, p.server, 0, false);
    CHECK_CODE(mst_session_feed_eof(p.client), MBEDTLS_ERR_SSL_CONN_EOF);
    CHECK(mst_session_state(p.client) & MST_STATE_FAILED);
done:
    free_pair(&p);
}

static void test_unknown_ca_rejected(int version)
{
    pair p = make_pair((options){.min_version = version, .max_version = version,
                                 .client_trusts = "other-ca.pem"});
    CHECK(!handshake(&p, 0));
    CHECK_CODE(error_code(p.client), MBEDTLS_ERR_X509_CERT_VERIFY_FAILED);
    CHECK(mst_session_verify_flags(p.client) & MBEDTLS_X509_BADCERT_NOT_TRUSTED);
    /* The refused chain stays readable, for the embedder's error report: the leaf and the
     * intermediate the server sent, whose issuer is not trusted. */
    size_t len;
    uint32_t flags;
    CHECK(mst_session_verified_certificate(p.client, 0, &len, &flags) != NULL);
    CHECK(mst_session_verified_certificate(p.client, 1, &len, &flags) != NULL);
    CHECK(flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED);
    CHECK(mst_session_verified_certificate(p.client, 2, &len, &flags) == NULL);
    /* And the chain as the server sent it. */
    CHECK(mst_session_peer_certificate(p.client, 0, &len) != NULL);
    CHECK(mst_session_peer_certificate(p.client, 1, &len) != NULL);
    CHECK(mst_session_peer_certificate(p.client, 2, &len) == NULL);
    /* The client's fatal alert was queued, sent, and failed the server too. (A TLS 1.3
     * client of Mbed TLS 3.6 sends it in the clear, which the server cannot decrypt.) */
    if (version == MST_TLS1_2) {
        CHECK_CODE(error_code(p.server), MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE);
        CHECK(mst_session_peer_alert(p.server) == MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA);
    } else {
        CHECK(mst_session_state(p.server) & MST_STATE_FAILED);
    }
done:
    free_pair(&p);
}

static void test_tls12_unknown_ca(void) { test_unknown_ca_rejected(MST_TLS1_2); }
static void test_tls13_unknown_ca(void) { test_unknown_ca_rejected(MST_TLS1_3); }

static void test_optional_verification_reports_and_continues(void)
{
    pair p = make_pair((options){.client_trusts = "other-ca.pem", .client_verify = MST_VERIFY_OPTIONAL});
    CHECK(handshake(&p, 0));
    CHECK(mst_session_verify_flags(p.client) & MBEDTLS_X509_BADCERT_NOT_TRUSTED);
done:
    free_pair(&p);
}

static void test_session_verify_overrides_config(void)
{
    /* A config that requires verification, a session that only reports it. */
    pair p = make_pair((options){.client_trusts = "other-ca.pem"});
    CHECK(mst_session_set_verify(p.client, MST_VERIFY_OPTIONAL) == 0);
    CHECK(handshake(&p, 0));
    CHECK(mst_session_verify_flags(p.client) & MBEDTLS_X509_BADCERT_NOT_TRUSTED);
    free_pair(&p);
    /* A server whose config asks nothing, a session that requires a client certificate. */
    p = make_pair((options){.server_verify = MST_VERIFY_NONE});
    CHECK(mst_session_set_verify(p.server, MST_VERIFY_REQUIRED) == 0);
    CHECK(!handshake(&p, 0));
    CHECK_CODE(error_code(p.server), MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE);
done:
    free_pair(&p);
}

static void test_server_name_sent_and_not_checked(void)
{
    /* SNI goes out; the name is the embedder's to check, so a mismatch passes here. */
    pair p = make_pair((options){.server_name = "example.com"});
    CHECK(handshake(&p, 0));
    CHECK(mst_session_verify_flags(p.client) == 0);
    CHECK(mst_session_server_name(p.server) != NULL);
    CHECK(strcmp(mst_session_server_name(p.server), "example.com") == 0);
done:
    free_pair(&p);
}

static void test_no_server_name_sends_no_sni(void)
{
    pair p = make_pair((options){0});
    CHECK(handshake(&p, 0));
    CHECK(mst_session_server_name(p.server) == NULL);
done:
    free_pair(&p);
}

static void test_alpn(void)
{
    pair p = make_pair((options){0});
    mst_session_free(p.client);
    mst_session_free(p.server);
    mst_config *client = mst_config_new(MST_CLIENT, MST_STREAM, NULL);
    mst_config *server = mst_config_new(MST_SERVER, MST_STREAM, NULL);
    const char *client_protocols[] = {"h2", "http/1.1"};
    const char *server_protocols[] = {"http/1.1"};
    trust(client, "ca.pem");
    add_file(server, "server-ecdsa-chain.pem", "server-ecdsa.key");
    CHECK(mst_config_set_alpn(client, client_protocols, 2, NULL) == 0);
    CHECK(mst_config_set_alpn(server, server_protocols, 1, NULL) == 0);
    mst_config_unref(p.client_config);
    mst_config_unref(p.server_config);
    p.client_config = client;
    p.server_config = server;
    p.client = mst_session_new(client, NULL);
    p.server = mst_session_new(server, NULL);
    CHECK(handshake(&p, 0));
    CHECK(mst_session_alpn(p.client) != NULL && strcmp(mst_session_alpn(p.client), "http/1.1") == 0);
    CHECK(mst_session_alpn(p.server) != NULL && strcmp(mst_session_alpn(p.server), "http/1.1") == 0);
done:
    free_pair(&p);
}

static void test_garbage(bool to_server)
{
    pair p = make_pair((options){0});
    uint8_t garbage[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(garbage); i++) {
        x = x * 1103515245u + 12345u;
        garbage[i] = (uint8_t)(x >> 16);
    }
    mst_session_process(p.client);
    if (!to_server)
        transfer(p.client, p.server, 0, false);
    mst_session *victim = to_server ? p.server : p.client;
    int code = mst_session_feed_ciphertext(victim, garbage, sizeof(garbage));
    CHECK(code != 0);
    CHECK(mst_session_state(victim) & MST_STATE_FAILED);
    /* Sticky: the same error again, and no new work. */
    CHECK(mst_session_feed_ciphertext(victim, garbage, 10) == code);
    CHECK(mst_session_process(victim) == code);
    CHECK(mst_session_write_plaintext(victim, garbage, 10) == code);
    CHECK(mst_session_error(victim)->text[0] != '\0');
done:
    free_pair(&p);
}

static void test_garbage_to_server(void) { test_garbage(true); }
static void test_garbage_to_client(void) { test_garbage(false); }

static void test_garbage_after_handshake(void)
{
    pair p = make_pair((options){0});
    CHECK(handshake(&p, 0));
    /* A well-formed header of an application_data record with a forged body. */
    uint8_t record[64] = {0x17, 0x03, 0x03, 0x00, 59};
    memset(record + 5, 0xAB, 59);
    CHECK_CODE(mst_session_feed_ciphertext(p.server, record, sizeof(record)), MBEDTLS_ERR_SSL_INVALID_MAC);
    /* A fatal alert is still queued for the peer. */
    CHECK(mst_session_state(p.server) & MST_STATE_HAS_CIPHERTEXT);
done:
    free_pair(&p);
}

/* A record Mbed TLS refuses still gets the peer the alert RFC 8446 5 asks for. */
static void test_refused_record_alerts(const uint8_t header[5], int code, uint8_t alert)
{
    pair p = make_pair((options){0});
    uint8_t record[5 + 64] = {0};
    memcpy(record, header, 5);
    CHECK_CODE(mst_session_feed_ciphertext(p.server, record, sizeof(record)), code);
    size_t len;
    const uint8_t *out = mst_session_peek_ciphertext(p.server, &len);
    /* A plaintext fatal alert: type 21, length 2, level 2, description. */
    CHECK(out != NULL && len == 7 && out[0] == 21 && out[4] == 2 && out[5] == 2 && out[6] == alert);
done:
    free_pair(&p);
}

static void test_oversized_record_is_record_overflow(void)
{
    static const uint8_t header[5] = {0x16, 0x03, 0x01, 0x48, 0x01};
    test_refused_record_alerts(header, MST_ERR_RECORD_OVERFLOW, MBEDTLS_SSL_ALERT_MSG_RECORD_OVERFLOW);
}

static void test_bad_content_type_is_unexpected_message(void)
{
    static const uint8_t header[5] = {0x63, 0x03, 0x01, 0x00, 0x40};
    test_refused_record_alerts(header, MBEDTLS_ERR_SSL_INVALID_RECORD,
                               MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE);
}

static void test_write_before_handshake(void)
{
    pair p = make_pair((options){0});
    CHECK_CODE(mst_session_write_plaintext(p.client, (const uint8_t *)"x", 1), MST_ERR_NOT_READY);
    CHECK(!(mst_session_state(p.client) & MST_STATE_FAILED));
done:
    free_pair(&p);
}

/* A session freed after each flight of the handshake frees everything it holds: the process
 * total of Mbed TLS memory returns to where it was (and valgrind sees no leak). */
static void test_free_at_every_stage(int version, bool mutual)
{
    for (int stage = 0; stage < 8; stage++) {
        size_t before, after, peak;
        mst_memory_totals(&before, &peak);
        options o = {.min_version = version, .max_version = version};
        if (mutual) {
            o.client_chain = "client-chain.pem";
            o.client_key = "client.key";
            o.server_verify = MST_VERIFY_REQUIRED;
        }
        pair p = make_pair(o);
        mst_session_process(p.client);
        for (int flight = 0; flight < stage; flight++) {
            transfer(p.client, p.server, 0, false);
            transfer(p.server, p.client, 0, false);
        }
        size_t session_now, session_peak;
        mst_session_memory(p.client, &session_now, &session_peak);
        CHECK(session_now > 0 && session_peak >= session_now);
        free_pair(&p);
        mst_memory_totals(&after, &peak);
        if (after != before)
            printf("    stage %d: %zu bytes before, %zu after\n", stage, before, after);
        CHECK(after == before);
    }
done:;
}

static void test_tls12_free_at_every_stage(void) { test_free_at_every_stage(MST_TLS1_2, true); }
static void test_tls13_free_at_every_stage(void) { test_free_at_every_stage(MST_TLS1_3, true); }

static void test_session_memory_accounting(void)
{
    pair p = make_pair((options){0});
    size_t before_now, before_peak, after_now, after_peak;
    mst_session_memory(p.client, &before_now, &before_peak);
    CHECK(handshake(&p, 0));
    mst_session_memory(p.client, &after_now, &after_peak);
    /* Mbed TLS holds its two record buffers from setup on; the handshake peaks above. */
    CHECK(before_now >= 2 * 16384);
    CHECK(after_peak > before_peak);
    CHECK(after_now < after_peak);
done:
    free_pair(&p);
}

/* ---- Memory while data flows and once idle ---- */

/* A stream of 64 KiB writes reuses the memory the first ones took, on both sides: the
 * session's allocation count stays put (each write used to allocate its windows again). */
static void test_bulk_writes_reuse_memory(int version)
{
    pair p = make_pair((options){.min_version = version, .max_version = version});
    CHECK(handshake(&p, 0));
    for (int i = 0; i < 2; i++) {
        CHECK(send_and_check(&p, true, 65536, 0));
        CHECK(send_and_check(&p, false, 65536, 0));
    }
    size_t client = mst_session_allocations(p.client);
    size_t server = mst_session_allocations(p.server);
    for (int i = 0; i < 8; i++) {
        CHECK(send_and_check(&p, true, 65536, 0));
        CHECK(send_and_check(&p, false, 65536, 0));
        CHECK(send_and_check(&p, true, 65536, 5000)); /* records cut across feeds */
    }
    if (mst_session_allocations(p.client) != client || mst_session_allocations(p.server) != server)
        printf("    allocations: client %zu -> %zu, server %zu -> %zu\n", client,
               mst_session_allocations(p.client), server, mst_session_allocations(p.server));
    CHECK(mst_session_allocations(p.client) == client);
    CHECK(mst_session_allocations(p.server) == server);
done:
    free_pair(&p);
}

static void test_tls12_bulk_writes_reuse_memory(void) { test_bulk_writes_reuse_memory(MST_TLS1_2); }
static void test_tls13_bulk_writes_reuse_memory(void) { test_bulk_writes_reuse_memory(MST_TLS1_3); }

/* The most an idle session holds after mst_session_trim(): Mbed TLS's context and its two
 * record buffers shrunk, the keys of both directions, the peer's certificate; no window. */
#define IDLE_SESSION_BOUND (12 * 1024)

/* After a burst, a trimmed session holds no more than IDLE_SESSION_BOUND and less than
 * what one record buffer alone takes; it then receives a full 16 KiB record, sends one,
 * and ends with close_notify, and trims back to exactly the same figure. */
static void test_idle_trim(int version)
{
    pair p = make_pair((options){.min_version = version, .max_version = version});
    CHECK(handshake(&p, 0));
    CHECK(send_and_check(&p, true, 65536, 0));
    CHECK(send_and_check(&p, false, 65536, 0));
    size_t busy, peak;
    mst_session_memory(p.client, &busy, &peak);
    size_t client_idle = mst_session_trim(p.client);
    size_t server_idle = mst_session_trim(p.server);
    if (busy <= 2 * 16384 + 65536 || client_idle > IDLE_SESSION_BOUND ||
        server_idle > IDLE_SESSION_BOUND)
        printf("    busy %zu, idle client %zu server %zu\n", busy, client_idle, server_idle);
    CHECK(busy > 2 * 16384 + 65536);
    CHECK(client_idle <= IDLE_SESSION_BOUND && server_idle <= IDLE_SESSION_BOUND);
    size_t now;
    mst_session_memory(p.client, &now, &peak);
    CHECK(now == client_idle);
    for (int round = 0; round < 3; round++) {
        CHECK(send_and_check(&p, false, 16384, 0)); /* one full record into a trimmed client */
        CHECK(send_and_check(&p, true, 16384, 0));
        CHECK(send_and_check(&p, true, 1, 0));
        CHECK(mst_session_trim(p.client) == client_idle);
        CHECK(mst_session_trim(p.server) == server_idle);
    }
    /* Trimmed twice in a row: nothing changes. */
    CHECK(mst_session_trim(p.client) == client_idle);
    CHECK(mst_session_close(p.client) == 0);
    transfer(p.client, p.server, 0, false);
    CHECK(mst_session_state(p.server) & MST_STATE_PEER_CLOSE_NOTIFY);
done:
    free_pair(&p);
}

static void test_tls12_idle_trim(void) { test_idle_trim(MST_TLS1_2); }
static void test_tls13_idle_trim(void) { test_idle_trim(MST_TLS1_3); }

/* A trim while a record is half received keeps what the record needs: the rest arrives and
 * the whole record is read. Likewise with plaintext not yet taken. */
static void test_trim_mid_record(void)
{
    pair p = make_pair((options){0});
    uint8_t sent[16384], got[16384];
    for (size_t i = 0; i < sizeof(sent); i++)
        sent[i] = (uint8_t)(i * 13 + 1);
    CHECK(handshake(&p, 0));
    mst_session_trim(p.client);
    CHECK(mst_session_write_plaintext(p.server, sent, sizeof(sent)) == 0);
    size_t len;
    const uint8_t *data = mst_session_peek_ciphertext(p.server, &len);
    CHECK(data != NULL && len > 1000);
    uint8_t *copy = malloc(len);
    memcpy(copy, data, len);
    mst_session_consume_ciphertext(p.server, len);
    CHECK(mst_session_feed_ciphertext(p.client, copy, 1000) == 0);
    mst_session_trim(p.client);
    CHECK(mst_session_feed_ciphertext(p.client, copy + 1000, len - 1000) == 0);
    free(copy);
    mst_session_trim(p.client); /* the plaintext waits: its window stays */
    CHECK(mst_session_read_plaintext(p.client, got, sizeof(got)) == sizeof(got));
    CHECK(memcmp(sent, got, sizeof(sent)) == 0);
    CHECK(send_and_check(&p, true, 20000, 0));
done:
    free_pair(&p);
}

/* Takes everything `from` has queued as one buffer (the caller frees it). */
static uint8_t *take_all(mst_session *from, size_t *len)
{
    const uint8_t *data = mst_session_peek_ciphertext(from, len);
    uint8_t *copy = malloc(*len ? *len : 1);
    if (data != NULL)
        memcpy(copy, data, *len);
    mst_session_consume_ciphertext(from, *len);
    return copy;
}

/* mst_session_feed_into() decrypts into the caller's buffer: all of it when the buffer is
 * as long as mst_session_plaintext_bound() says, the rest through the window (after, in
 * order) when it is shorter, and nothing when the window already holds plaintext. */
static void test_feed_into(int version)
{
    pair p = make_pair((options){.min_version = version, .max_version = version});
    enum { TOTAL = 3 * 16384 + 100 };
    uint8_t *sent = malloc(TOTAL), *got = malloc(TOTAL), *ciphertext = NULL;
    for (size_t i = 0; i < TOTAL; i++)
        sent[i] = (uint8_t)(i * 7 + (i >> 9));
    CHECK(handshake(&p, 0));
    for (int round = 0; round < 3; round++) {
        CHECK(mst_session_write_plaintext(p.server, sent, TOTAL) == 0);
        size_t len;
        ciphertext = take_all(p.server, &len);
        /* A first part with a cut record, then the rest. */
        size_t first = 20000, written = 0, cap;
        size_t bound = mst_session_plaintext_bound(p.client, first);
        CHECK(bound >= first);
        CHECK(mst_session_feed_into(p.client, ciphertext, first, got, bound, &written) == 0);
        /* One whole record (16384 bytes in TLS 1.2, 16383 from Mbed TLS in TLS 1.3). */
        CHECK(written >= 16383 && written <= 16384);
        size_t have = written;
        bound = mst_session_plaintext_bound(p.client, len - first);
        CHECK(bound >= TOTAL - have && bound <= len);
        cap = round == 0 ? bound : round == 1 ? 1000 : 0;
        CHECK(mst_session_feed_into(p.client, ciphertext + first, len - first, got + have, cap,
                                    &written) == 0);
        CHECK(written == (round == 0 ? TOTAL - have : cap));
        have += written;
        have += mst_session_read_plaintext(p.client, got + have, TOTAL - have);
        CHECK(have == TOTAL && memcmp(sent, got, TOTAL) == 0);
        CHECK(!(mst_session_state(p.client) & MST_STATE_HAS_PLAINTEXT));
        free(ciphertext);
        ciphertext = NULL;
    }
    /* Plaintext left in the window comes first: the next call writes nothing to out. */
    CHECK(mst_session_write_plaintext(p.server, sent, 100) == 0);
    transfer(p.server, p.client, 0, false);
    CHECK(mst_session_write_plaintext(p.server, sent + 100, 100) == 0);
    size_t len, written = 1;
    ciphertext = take_all(p.server, &len);
    CHECK(mst_session_feed_into(p.client, ciphertext, len, got, TOTAL, &written) == 0);
    CHECK(written == 0);
    CHECK(mst_session_read_plaintext(p.client, got, 200) == 200 && memcmp(got, sent, 200) == 0);
done:
    free(ciphertext);
    free(sent);
    free(got);
    free_pair(&p);
}

static void test_tls12_feed_into(void) { test_feed_into(MST_TLS1_2); }
static void test_tls13_feed_into(void) { test_feed_into(MST_TLS1_3); }

/* mst_session_feed_in_place() decrypts records over the bytes fed: for any cut of the
 * stream into chunks, the window's plaintext and then the chunk's first *in_place bytes are
 * the stream, in order; records wholly within a chunk land in place, the one completing a
 * record cut by the chunk before goes to the window. Writes of every size and chunks from
 * a byte to several records; then a close_notify after records in one chunk. */
static void test_feed_in_place(int version)
{
    pair p = make_pair((options){.min_version = version, .max_version = version});
    enum { TOTAL = 400000 };
    uint8_t *sent = malloc(TOTAL), *got = malloc(TOTAL), *ciphertext = NULL, *chunk = NULL;
    for (size_t i = 0; i < TOTAL; i++)
        sent[i] = (uint8_t)(i * 7 + (i >> 9));
    CHECK(handshake(&p, 0));
    srand(1234 + version);
    for (int round = 0; round < 20; round++) {
        /* The server writes TOTAL bytes in pieces of 1 byte to 3 records. */
        for (size_t at = 0; at < TOTAL;) {
            size_t n = round % 4 == 0 ? (size_t)rand() % 64 + 1 : (size_t)rand() % 50000 + 1;
            if (n > TOTAL - at)
                n = TOTAL - at;
            CHECK(mst_session_write_plaintext(p.server, sent + at, n) == 0);
            at += n;
        }
        size_t len;
        ciphertext = take_all(p.server, &len);
        size_t have = 0, in_place_total = 0, max_chunk = round < 10 ? 70000 : 20000;
        chunk = malloc(max_chunk);
        for (size_t at = 0; at < len;) {
            size_t n = (size_t)rand() % max_chunk + 1;
            if (n > len - at)
                n = len - at;
            memcpy(chunk, ciphertext + at, n);
            size_t in_place = 12345;
            CHECK(mst_session_feed_in_place(p.client, chunk, n, &in_place) == 0);
            CHECK(in_place <= n);
            size_t window = mst_session_read_plaintext(p.client, got + have, TOTAL - have);
            have += window;
            CHECK(have + in_place <= TOTAL);
            memcpy(got + have, chunk, in_place);
            have += in_place;
            in_place_total += in_place;
            at += n;
        }
        CHECK(have == TOTAL && memcmp(sent, got, TOTAL) == 0);
        /* Much of the stream went in place when chunks hold whole records: nearly all of it
         * with small records; with records of 2^14 bytes, less the longer they are. */
        if (round % 4 == 0)
            CHECK(in_place_total > TOTAL * 9 / 10);
        else if (round < 10)
            CHECK(in_place_total > TOTAL / 3);
        free(ciphertext);
        free(chunk);
        ciphertext = chunk = NULL;
    }
    /* The peer's close_notify after records in the same chunk: the records, then the close. */
    CHECK(mst_session_write_plaintext(p.server, sent, 30000) == 0);
    CHECK(mst_session_close(p.server) == 0);
    size_t len, in_place = 0;
    ciphertext = take_all(p.server, &len);
    CHECK(mst_session_feed_in_place(p.client, ciphertext, len, &in_place) == 0);
    size_t window = mst_session_read_plaintext(p.client, got, TOTAL);
    CHECK(window + in_place == 30000 && in_place > 0);
    memcpy(got + window, ciphertext, in_place);
    CHECK(memcmp(got, sent, 30000) == 0);
    CHECK(mst_session_state(p.client) & MST_STATE_PEER_CLOSE_NOTIFY);
done:
    free(ciphertext);
    free(chunk);
    free(sent);
    free(got);
    free_pair(&p);
}

static void test_tls12_feed_in_place(void) { test_feed_in_place(MST_TLS1_2); }
static void test_tls13_feed_in_place(void) { test_feed_in_place(MST_TLS1_3); }

/* mst_session_write_into() encrypts into the caller's buffer: all the records when the
 * bound's room is given, the first that fit when less is, and nothing when the window
 * already holds ciphertext; in every case the peer reads the bytes in order. */
static void test_write_into(int version)
{
    pair p = make_pair((options){.min_version = version, .max_version = version});
    enum { TOTAL = 3 * 16384 + 100 };
    uint8_t *sent = malloc(TOTAL), *got = malloc(TOTAL), *records = NULL, *rest = NULL;
    for (size_t i = 0; i < TOTAL; i++)
        sent[i] = (uint8_t)(i * 13 + (i >> 7));
    CHECK(handshake(&p, 0));
    for (int round = 0; round < 4; round++) {
        size_t bound = mst_session_ciphertext_bound(p.client, TOTAL);
        CHECK(bound > TOTAL && bound < TOTAL + 4 * 64);
        /* round 3: a record queued first keeps its place, so nothing goes to out. */
        size_t cap = round == 0 ? bound : round == 1 ? 20000 : 0, written = 1;
        if (round == 3) {
            CHECK(mst_session_write_plaintext(p.client, sent, 1) == 0);
            cap = bound;
        }
        records = malloc(bound);
        CHECK(mst_session_write_into(p.client, sent, TOTAL, records, cap, &written) == 0);
        size_t rest_len = 0;
        rest = take_all(p.client, &rest_len);
        if (round == 0)
            CHECK(written > TOTAL && written <= bound && rest_len == 0);
        else if (round == 1)
            CHECK(written > 16384 && written <= 20000 && rest_len > 0);
        else
            CHECK(written == 0 && rest_len > TOTAL);
        CHECK(mst_session_feed_ciphertext(p.server, records, written) == 0);
        CHECK(mst_session_feed_ciphertext(p.server, rest, rest_len) == 0);
        size_t have = 0, expect = round == 3 ? TOTAL + 1 : TOTAL;
        have = mst_session_read_plaintext(p.server, got, TOTAL);
        if (round == 3) {
            CHECK(have == TOTAL && got[0] == sent[0] && memcmp(got + 1, sent, TOTAL - 1) == 0);
            CHECK(mst_session_read_plaintext(p.server, got, 1) == 1 && got[0] == sent[TOTAL - 1]);
        } else {
            CHECK(have == expect && memcmp(sent, got, TOTAL) == 0);
        }
        free(records);
        free(rest);
        records = rest = NULL;
    }
    /* Before the handshake nothing is written. */
    size_t written = 1;
    uint8_t room[64];
    pair fresh = make_pair((options){.min_version = version, .max_version = version});
    CHECK(mst_session_write_into(fresh.client, sent, 10, room, sizeof(room), &written) == MST_ERR_NOT_READY);
    CHECK(written == 0);
    free_pair(&fresh);
done:
    free(records);
    free(rest);
    free(sent);
    free(got);
    free_pair(&p);
}

static void test_tls12_write_into(void) { test_write_into(MST_TLS1_2); }
static void test_tls13_write_into(void) { test_write_into(MST_TLS1_3); }

static void test_config_errors(void)
{
    mst_error err;
    mst_config *config = mst_config_new(MST_SERVER, MST_STREAM, &err);
    file chain = load("server-ecdsa-chain.pem"), key = load("server-ecdsa.key");
    file encrypted = load("server-ecdsa-encrypted.key"), other_key = load("other-server.key");
    const uint8_t pass[] = "mbedtls-stream", wrong[] = "wrong";
    CHECK(config != NULL);
    CHECK_CODE(mst_config_add_certificate(config, chain.data, chain.len, encrypted.data,
                                          encrypted.len, wrong, 5, &err),
               MBEDTLS_ERR_PK_PASSWORD_MISMATCH);
    CHECK(err.code == MBEDTLS_ERR_PK_PASSWORD_MISMATCH && strstr(err.text, "PK") != NULL);
    CHECK_CODE(mst_config_add_certificate(config, chain.data, chain.len, encrypted.data,
                                          encrypted.len, NULL, 0, &err),
               MBEDTLS_ERR_PK_PASSWORD_REQUIRED);
    CHECK_CODE(mst_config_add_certificate(config, chain.data, chain.len, other_key.data,
                                          other_key.len, NULL, 0, &err),
               MST_ERR_KEY_MISMATCH);
    CHECK_CODE(mst_config_add_certificate(config, (const uint8_t *)"garbage", 7, key.data, key.len,
                                          NULL, 0, &err),
               MBEDTLS_ERR_X509_INVALID_FORMAT);
    CHECK_CODE(mst_config_add_certificate(config, key.data, key.len, key.data, key.len, NULL, 0, &err),
               MST_ERR_NO_CERTIFICATE);
    CHECK_CODE(mst_config_add_certificate(config, chain.data, chain.len, encrypted.data,
                                          encrypted.len, pass, sizeof(pass) - 1, &err), 0);
    static const char bad_pem[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    CHECK(mst_config_add_ca(config, (const uint8_t *)bad_pem, sizeof(bad_pem) - 1, 1, NULL, &err) < 0);
    CHECK(err.code < 0 && err.code > -0x8000 && err.text[0] != '\0');
    CHECK_CODE(mst_config_add_ca(config, (const uint8_t *)"", 0, 1, NULL, &err), MST_ERR_NO_CERTIFICATE);
    CHECK_CODE(mst_config_set_versions(config, MST_TLS1_3, MST_TLS1_2, &err), MST_ERR_BAD_ARGUMENT);
    CHECK_CODE(mst_config_set_versions(config, 0x0301, MST_TLS1_3, &err), MST_ERR_BAD_ARGUMENT);
    mst_session *session = mst_session_new(config, &err);
    CHECK(session != NULL);
    CHECK_CODE(mst_config_set_verify(config, MST_VERIFY_REQUIRED, &err), MST_ERR_CONFIG_FROZEN);
    mst_session_free(session);
done:
    mst_config_unref(config);
    free(chain.data);
    free(key.data);
    free(encrypted.data);
    free(other_key.data);
}

static void test_lenient_ca_bundle_skips_unparsable(void)
{
    mst_error err;
    mst_config *config = mst_config_new(MST_CLIENT, MST_STREAM, &err);
    file ca = load("ca.pem");
    const char bad[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    size_t total = ca.len + sizeof(bad) - 1, skipped = 99;
    uint8_t *bundle = malloc(total);
    memcpy(bundle, bad, sizeof(bad) - 1);
    memcpy(bundle + sizeof(bad) - 1, ca.data, ca.len);
    CHECK(mst_config_add_ca(config, bundle, total, 1, NULL, &err) != 0);
    CHECK(mst_config_add_ca(config, bundle, total, 0, &skipped, &err) == 0);
    CHECK(skipped == 1);
done:
    free(bundle);
    free(ca.data);
    mst_config_unref(config);
}

static void test_one_config_many_sessions(void)
{
    pair p = make_pair((options){0});
    CHECK(handshake(&p, 0));
    for (int i = 0; i < 3; i++) {
        pair q = {0};
        q.client = mst_session_new(p.client_config, NULL);
        q.server = mst_session_new(p.server_config, NULL);
        bool ok = handshake(&q, 0) && send_and_check(&q, true, 100, 0);
        mst_session_free(q.client);
        mst_session_free(q.server);
        CHECK(ok);
    }
done:
    free_pair(&p);
}

static void test_dtls_handshake_and_data(void)
{
    pair p = make_pair((options){.transport = MST_DATAGRAM});
    mst_session_set_time(p.client, 1000);
    mst_session_set_time(p.server, 1000);
    /* Datagrams move whole; the first ClientHello is answered with a cookie request. */
    mst_session_process(p.client);
    CHECK(mst_session_timeout(p.client) > 0);
    for (int round = 0; round < 50; round++) {
        size_t moved = transfer(p.client, p.server, 0, true) + transfer(p.server, p.client, 0, true);
        if (moved == 0)
            break;
    }
    CHECK(!(mst_session_state(p.client) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED)));
    CHECK(!(mst_session_state(p.server) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED)));
    CHECK(strcmp(mst_session_protocol(p.client), "DTLSv1.2") == 0);
    CHECK(mst_session_write_plaintext(p.client, (const uint8_t *)"datagram", 8) == 0);
    transfer(p.client, p.server, 0, true);
    uint8_t got[16];
    CHECK(mst_session_read_plaintext(p.server, got, sizeof(got)) == 8 && memcmp(got, "datagram", 8) == 0);
done:
    free_pair(&p);
}

static void test_dtls_retransmits_on_timer(void)
{
    pair p = make_pair((options){.transport = MST_DATAGRAM});
    size_t first, second;
    mst_session_set_time(p.client, 5000);
    mst_session_process(p.client);
    CHECK(mst_session_peek_ciphertext(p.client, &first) != NULL);
    mst_session_consume_ciphertext(p.client, first); /* lost */
    int64_t wait = mst_session_timeout(p.client);
    CHECK(wait > 0);
    mst_session_set_time(p.client, 5000 + (uint64_t)wait);
    CHECK(mst_session_process(p.client) == 0);
    CHECK(mst_session_peek_ciphertext(p.client, &second) != NULL && second == first);
done:
    free_pair(&p);
}

/* ---- The stateless ClientHello check of DTLS servers (dtls_hello.c) ---- */

/* Takes the client's next datagram into buf; returns its length (0: none). */
static size_t take_datagram(mst_session *from, uint8_t *buf, size_t cap)
{
    size_t len;
    const uint8_t *data = mst_session_peek_ciphertext(from, &len);
    if (data == NULL || len > cap)
        return 0;
    memcpy(buf, data, len);
    mst_session_consume_ciphertext(from, len);
    return len;
}

/* ---- DTLS: Connection IDs, MTU, timers, record checks (dtls.c) ---- */

/* A DTLS pair on configs made here: the server's CIDs `server_cid` bytes long and the
 * client's `client_cid` (-1: no CID on that side); an RSA server, whose chain needs several
 * datagrams at a small MTU. The sessions are made by dtls_sessions(). */
static pair dtls_configs(int server_cid, int client_cid)
{
    pair p = {0};
    p.server_config = mst_config_new(MST_SERVER, MST_DATAGRAM, NULL);
    p.client_config = mst_config_new(MST_CLIENT, MST_DATAGRAM, NULL);
    mst_config_set_versions(p.server_config, MST_TLS1_2, MST_TLS1_2, NULL);
    mst_config_set_versions(p.client_config, MST_TLS1_2, MST_TLS1_2, NULL);
    add_file(p.server_config, "server-rsa-chain.pem", "server-rsa.key");
    trust(p.client_config, "ca.pem");
    if (server_cid >= 0)
        mst_config_set_dtls_cid(p.server_config, (size_t)server_cid, NULL);
    if (client_cid >= 0)
        mst_config_set_dtls_cid(p.client_config, (size_t)client_cid, NULL);
    return p;
}

static void dtls_sessions(pair *p)
{
    p->server = mst_session_new(p->server_config, NULL);
    p->client = mst_session_new(p->client_config, NULL);
    mst_session_set_transport_id(p->server, (const uint8_t *)"192.0.2.1:5684", 14);
    mst_session_set_time(p->client, 1000);
    mst_session_set_time(p->server, 1000);
}

/* Moves datagrams both ways until neither side sends; true when both finished handshaking.
 * `mtu` (0: none): every datagram must fit it, else *too_big is set. */
static bool dtls_handshake(pair *p, size_t mtu, bool *too_big)
{
    mst_session_process(p->client);
    for (int round = 0; round < 100; round++) {
        size_t moved = 0, len;
        mst_session *sides[2][2] = {{p->client, p->server}, {p->server, p->client}};
        for (int i = 0; i < 2; i++) {
            const uint8_t *data;
            while ((data = mst_session_peek_ciphertext(sides[i][0], &len)) != NULL) {
                if (mtu != 0 && len > mtu && too_big != NULL)
                    *too_big = true;
                uint8_t *copy = malloc(len);
                memcpy(copy, data, len);
                mst_session_consume_ciphertext(sides[i][0], len);
                mst_session_feed_ciphertext(sides[i][1], copy, len);
                free(copy);
                moved += len;
            }
        }
        if (moved == 0)
            break;
    }
    return !(mst_session_state(p->client) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED)) &&
           !(mst_session_state(p->server) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED));
}

static void test_dtls_cid_both_ways(void)
{
    static const uint8_t server_cid[4] = {0xC1, 0xD0, 0x00, 0x01}, client_cid[2] = {0xAB, 0xCD};
    pair p = dtls_configs(4, 2);
    dtls_sessions(&p);
    uint8_t own[MST_DTLS_CID_MAX], peer[MST_DTLS_CID_MAX];
    size_t own_len, peer_len, len;
    CHECK(mst_session_use_cid(p.server, server_cid, 3) == MST_ERR_BAD_ARGUMENT); /* not 4 */
    CHECK(mst_session_use_cid(p.server, server_cid, 4) == 0);
    CHECK(mst_session_use_cid(p.client, client_cid, 2) == 0);
    CHECK(dtls_handshake(&p, 0, NULL));
    CHECK(mst_session_cid(p.server, own, &own_len, peer, &peer_len) == 1);
    CHECK(own_len == 4 && memcmp(own, server_cid, 4) == 0);
    CHECK(peer_len == 2 && memcmp(peer, client_cid, 2) == 0);
    CHECK(mst_session_cid(p.client, own, &own_len, peer, &peer_len) == 1);
    CHECK(own_len == 2 && memcmp(own, client_cid, 2) == 0);
    CHECK(peer_len == 4 && memcmp(peer, server_cid, 4) == 0);
    /* The client's records name the server's CID right after 11 header bytes, and back. */
    CHECK(mst_session_write_datagram(p.client, (const uint8_t *)"ping", 4) == 0);
    const uint8_t *record = mst_session_peek_ciphertext(p.client, &len);
    CHECK(record != NULL && len > 15 && record[0] == MST_DTLS_CID_CONTENT_TYPE &&
          memcmp(record + 11, server_cid, 4) == 0);
    CHECK(mst_session_check_record(p.server, record, len) == 0);
    transfer(p.client, p.server, 0, true);
    uint8_t got[8];
    CHECK(mst_session_read_plaintext(p.server, got, sizeof(got)) == 4 && memcmp(got, "ping", 4) == 0);
    CHECK(mst_session_write_datagram(p.server, (const uint8_t *)"pong", 4) == 0);
    record = mst_session_peek_ciphertext(p.server, &len);
    CHECK(record != NULL && record[0] == MST_DTLS_CID_CONTENT_TYPE &&
          memcmp(record + 11, client_cid, 2) == 0);
    transfer(p.server, p.client, 0, true);
    CHECK(mst_session_read_plaintext(p.client, got, sizeof(got)) == 4 && memcmp(got, "pong", 4) == 0);
done:
    free_pair(&p);
}

static void test_dtls_cid_empty_on_client(void)
{
    /* The usual client: it lets the server use a CID and asks none for itself. */
    static const uint8_t server_cid[6] = {1, 2, 3, 4, 5, 6};
    pair p = dtls_configs(6, 0);
    dtls_sessions(&p);
    uint8_t own[MST_DTLS_CID_MAX], peer[MST_DTLS_CID_MAX];
    size_t own_len, peer_len, len;
    CHECK(mst_session_use_cid(p.server, server_cid, 6) == 0);
    CHECK(mst_session_use_cid(p.client, NULL, 0) == 0);
    CHECK(dtls_handshake(&p, 0, NULL));
    CHECK(mst_session_cid(p.client, own, &own_len, peer, &peer_len) == 1);
    CHECK(own_len == 0 && peer_len == 6 && memcmp(peer, server_cid, 6) == 0);
    CHECK(mst_session_write_datagram(p.client, (const uint8_t *)"x", 1) == 0);
    const uint8_t *record = mst_session_peek_ciphertext(p.client, &len);
    CHECK(record != NULL && record[0] == MST_DTLS_CID_CONTENT_TYPE &&
          memcmp(record + 11, server_cid, 6) == 0);
    /* The server's records carry no CID: the client's is empty. */
    transfer(p.client, p.server, 0, true);
    CHECK(mst_session_write_datagram(p.server, (const uint8_t *)"y", 1) == 0);
    record = mst_session_peek_ciphertext(p.server, &len);
    CHECK(record != NULL && record[0] == 23 /* application_data */);
done:
    free_pair(&p);
}

static void test_dtls_no_cid_when_one_side_has_none(void)
{
    static const uint8_t server_cid[4] = {9, 9, 9, 9};
    pair p = dtls_configs(4, -1);
    dtls_sessions(&p);
    uint8_t own[MST_DTLS_CID_MAX], peer[MST_DTLS_CID_MAX];
    size_t own_len, peer_len;
    CHECK(mst_session_use_cid(p.server, server_cid, 4) == 0);
    CHECK(mst_session_use_cid(p.client, NULL, 0) == MST_ERR_BAD_ARGUMENT); /* no CID config */
    CHECK(dtls_handshake(&p, 0, NULL));
    CHECK(mst_session_cid(p.server, own, &own_len, peer, &peer_len) == 0);
    CHECK(mst_session_cid(p.client, own, &own_len, peer, &peer_len) == 0);
done:
    free_pair(&p);
}

static void test_dtls_mtu_fragments_handshake(void)
{
    pair p = dtls_configs(-1, -1);
    dtls_sessions(&p);
    uint8_t *data = NULL;
    bool too_big = false;
    CHECK(mst_session_set_mtu(p.client, 300) == 0);
    CHECK(mst_session_set_mtu(p.server, 300) == 0);
    CHECK(dtls_handshake(&p, 300, &too_big));
    CHECK(!too_big);
    /* One record at most: what fits is sent whole, one byte more is refused, the session
     * going on. */
    size_t max = mst_session_max_payload(p.client), len;
    CHECK(max > 200 && max < 300);
    data = calloc(1, max + 1);
    CHECK_CODE(mst_session_write_datagram(p.client, data, max + 1), MST_ERR_MESSAGE_TOO_LARGE);
    CHECK(!(mst_session_state(p.client) & MST_STATE_FAILED));
    CHECK(mst_session_write_datagram(p.client, data, max) == 0);
    CHECK(mst_session_peek_ciphertext(p.client, &len) != NULL && len <= 300);
    transfer(p.client, p.server, 0, true);
    CHECK(mst_session_read_plaintext(p.server, data, max + 1) == max);
done:
    free(data);
    free_pair(&p);
}

/* A DTLS server session that holds its (fragmented) ClientHello, made as lib/dtls makes it:
 * the first datagram passed the stateless cookie check. Its datagrams are fed first datagram
 * first, the rest in reverse order. `server_config` is p->server_config. */
#define HELD_ID ((const uint8_t *)"192.0.2.7:5684")
#define HELD_ID_LEN 14
static const uint8_t held_cid[4] = {0xC1, 0xD0, 0x0D, 0x05};

static bool held_hello_session(pair *p, size_t client_mtu, uint8_t first_record_seq[6])
{
    enum { MAX = 8 };
    uint8_t datagrams[MAX][1500], reply[MST_DTLS_HELLO_REPLY_MAX];
    size_t lens[MAX], count = 0, reply_len = 0;
    p->client = mst_session_new(p->client_config, NULL);
    mst_session_set_time(p->client, 1000);
    mst_session_set_server_name(p->client, "chosen.test");
    mst_session_use_cid(p->client, NULL, 0);
    mst_session_set_mtu(p->client, (uint16_t)client_mtu);
    mst_session_process(p->client);
    /* The first ClientHello: a cookie, statelessly. */
    size_t n = take_datagram(p->client, datagrams[0], sizeof(datagrams[0]));
    if (mst_dtls_check_hello(p->server_config, datagrams[0], n, HELD_ID, HELD_ID_LEN, reply,
                             sizeof(reply), &reply_len) != MST_DTLS_HELLO_VERIFY)
        return false;
    while (take_datagram(p->client, datagrams[0], sizeof(datagrams[0])) != 0) {
    }
    mst_session_feed_ciphertext(p->client, reply, reply_len);
    /* The second, with the cookie, in fragments. */
    while (count < MAX && (lens[count] = take_datagram(p->client, datagrams[count], 1500)) != 0)
        count++;
    if (count < 2 || mst_dtls_check_hello(p->server_config, datagrams[0], lens[0], HELD_ID,
                                          HELD_ID_LEN, NULL, 0, NULL) != MST_DTLS_HELLO_ACCEPT)
        return false;
    memcpy(first_record_seq, datagrams[0] + 5, 6);
    p->server = mst_session_new(p->server_config, NULL);
    mst_session_set_time(p->server, 1000);
    mst_session_set_mtu(p->server, 150);
    mst_session_use_cid(p->server, held_cid, sizeof(held_cid));
    mst_session_set_transport_id(p->server, HELD_ID, HELD_ID_LEN);
    if (mst_session_hold_client_hello(p->server) != 0)
        return false;
    mst_session_feed_ciphertext(p->server, datagrams[0], lens[0]);
    /* Not whole yet: nothing to choose by. */
    if (mst_session_take_events(p->server) & MST_EVENT_CLIENT_HELLO)
        return false;
    for (size_t i = count - 1; i >= 1; i--)
        mst_session_feed_ciphertext(p->server, datagrams[i], lens[i]);
    return (mst_session_take_events(p->server) & MST_EVENT_CLIENT_HELLO) != 0 &&
           mst_session_peek_ciphertext(p->server, &n) == NULL;
}

/* A config chosen by SNI for the held hello's session: the ECDSA certificate, `cid` bytes
 * of CIDs, the cookie secret of `cookies_of` (NULL: its own). */
static mst_config *chosen_dtls_config(int cid, mst_config *cookies_of)
{
    mst_config *config = mst_config_new(MST_SERVER, MST_DATAGRAM, NULL);
    mst_config_set_versions(config, MST_TLS1_2, MST_TLS1_2, NULL);
    add_file(config, "server-ecdsa-chain.pem", "server-ecdsa.key");
    mst_config_set_dtls_cid(config, (size_t)cid, NULL);
    if (cookies_of != NULL)
        mst_config_share_dtls_cookies(config, cookies_of, NULL);
    return config;
}

static void test_dtls_held_hello_moves_to_chosen_config(void)
{
    pair p = dtls_configs(4, 0);
    mst_config *chosen = chosen_dtls_config(4, p.server_config);
    mst_config *other_length = chosen_dtls_config(6, p.server_config);
    mst_config *own_cookies = chosen_dtls_config(4, NULL);
    uint8_t seq[6], own[MST_DTLS_CID_MAX], peer[MST_DTLS_CID_MAX];
    size_t own_len, peer_len, len;
    bool too_big = false;
    CHECK(held_hello_session(&p, 150, seq));
    CHECK(mst_session_server_name(p.server) != NULL &&
          strcmp(mst_session_server_name(p.server), "chosen.test") == 0);
    /* The session's CID length and cookie secret, or it could not go on. */
    CHECK_CODE(mst_session_continue_hello(p.server, other_length), MST_ERR_BAD_ARGUMENT);
    CHECK_CODE(mst_session_continue_hello(p.server, own_cookies), MST_ERR_BAD_ARGUMENT);
    CHECK_CODE(mst_session_continue_hello(p.server, chosen), 0);
    mst_session_process(p.server);
    CHECK(dtls_handshake(&p, 150, &too_big));
    CHECK(!too_big); /* the server kept its MTU */
    const uint8_t *mine = mst_session_own_certificate(p.server, &len);
    const uint8_t *theirs = mst_session_peer_certificate(p.client, 0, &len);
    CHECK(mine != NULL && theirs != NULL && memcmp(mine, theirs, len) == 0);
    /* ... and its CID, and the cookie went through (no second HelloVerifyRequest). */
    CHECK(mst_session_cid(p.client, own, &own_len, peer, &peer_len) == 1);
    CHECK(peer_len == 4 && memcmp(peer, held_cid, 4) == 0);
    CHECK(mst_session_write_datagram(p.client, (const uint8_t *)"moved", 5) == 0);
    CHECK(dtls_handshake(&p, 0, NULL));
    uint8_t got[8];
    CHECK(mst_session_read_plaintext(p.server, got, sizeof(got)) == 5 && memcmp(got, "moved", 5) == 0);
done:
    mst_config_unref(chosen);
    mst_config_unref(other_length);
    mst_config_unref(own_cookies);
    free_pair(&p);
}

static void test_dtls_held_hello_refused(void)
{
    pair p = dtls_configs(4, 0);
    uint8_t seq[6];
    size_t len;
    CHECK(held_hello_session(&p, 150, seq));
    mst_session_refuse(p.server, 80 /* internal_error */);
    const uint8_t *alert = mst_session_peek_ciphertext(p.server, &len);
    /* In answer to the ClientHello: its record number, so the client takes it (4.2.1). */
    CHECK(alert != NULL && len == 15 && alert[0] == 21 && memcmp(alert + 5, seq, 6) == 0);
    uint8_t copy[15];
    memcpy(copy, alert, 15);
    mst_session_feed_ciphertext(p.client, copy, sizeof(copy));
    CHECK(mst_session_state(p.client) & MST_STATE_FAILED);
    CHECK(mst_session_peer_alert(p.client) == 80);
done:
    free_pair(&p);
}

static void test_dtls_mtu_bad_arguments(void)
{
    mst_config *stream = mst_config_new(MST_CLIENT, MST_STREAM, NULL);
    mst_session *session = mst_session_new(stream, NULL);
    pair p = dtls_configs(-1, -1);
    CHECK(mst_session_set_mtu(session, 1200) == MST_ERR_BAD_ARGUMENT);
    CHECK(mst_config_set_dtls_cid(stream, 4, NULL) == MST_ERR_BAD_ARGUMENT);
    CHECK(mst_config_set_dtls_cid(p.server_config, 33, NULL) == MST_ERR_BAD_ARGUMENT);
    CHECK(mst_config_set_dtls_retransmit(p.client_config, 0, 100, NULL) == MST_ERR_BAD_ARGUMENT);
    CHECK(mst_config_set_dtls_retransmit(p.client_config, 200, 100, NULL) == MST_ERR_BAD_ARGUMENT);
    CHECK(mst_config_set_dtls_cookies(p.client_config, false, NULL) == MST_ERR_BAD_ARGUMENT);
    dtls_sessions(&p);
    CHECK(mst_config_set_dtls_cid(p.server_config, 4, NULL) == MST_ERR_CONFIG_FROZEN);
    CHECK(mst_session_max_payload(p.client) == 0); /* no handshake yet */
    CHECK_CODE(mst_session_write_datagram(p.client, (const uint8_t *)"x", 1), MST_ERR_NOT_READY);
done:
    mst_session_free(session);
    mst_config_unref(stream);
    free_pair(&p);
}

static void test_dtls_check_record(void)
{
    pair p = dtls_configs(-1, -1);
    dtls_sessions(&p);
    size_t len;
    CHECK(dtls_handshake(&p, 0, NULL));
    CHECK(mst_session_write_datagram(p.client, (const uint8_t *)"moved", 5) == 0);
    const uint8_t *peeked = mst_session_peek_ciphertext(p.client, &len);
    CHECK(peeked != NULL);
    uint8_t record[256];
    CHECK(len <= sizeof(record));
    memcpy(record, peeked, len);
    mst_session_consume_ciphertext(p.client, len);
    /* Authentic, and left unchanged by the check. */
    CHECK(mst_session_check_record(p.server, record, len) == 0);
    CHECK(mst_session_check_record(p.server, record, len) == 0);
    /* A forged byte does not authenticate. */
    record[len - 1] ^= 1;
    CHECK_CODE(mst_session_check_record(p.server, record, len), MBEDTLS_ERR_SSL_INVALID_MAC);
    record[len - 1] ^= 1;
    /* Once received, the same record is a replay. */
    CHECK(mst_session_feed_ciphertext(p.server, record, len) == 0);
    uint8_t got[8];
    CHECK(mst_session_read_plaintext(p.server, got, sizeof(got)) == 5);
    CHECK_CODE(mst_session_check_record(p.server, record, len), MBEDTLS_ERR_SSL_UNEXPECTED_RECORD);
    /* And a replay fed anyway is dropped (anti-replay), not read twice. */
    CHECK(mst_session_feed_ciphertext(p.server, record, len) == 0);
    CHECK(!(mst_session_state(p.server) & (MST_STATE_HAS_PLAINTEXT | MST_STATE_FAILED)));
done:
    free_pair(&p);
}

static void test_dtls_records_keep_their_bounds(void)
{
    /* Two records in one datagram come out as two messages. */
    pair p = dtls_configs(-1, -1);
    dtls_sessions(&p);
    uint8_t datagram[512], got[16];
    size_t len, at = 0;
    CHECK(dtls_handshake(&p, 0, NULL));
    CHECK(mst_session_write_datagram(p.client, (const uint8_t *)"first", 5) == 0);
    CHECK(mst_session_write_datagram(p.client, (const uint8_t *)"second", 6) == 0);
    for (int i = 0; i < 2; i++) {
        const uint8_t *record = mst_session_peek_ciphertext(p.client, &len);
        CHECK(record != NULL && at + len <= sizeof(datagram));
        memcpy(datagram + at, record, len);
        at += len;
        mst_session_consume_ciphertext(p.client, len);
    }
    CHECK(mst_session_feed_ciphertext(p.server, datagram, at) == 0);
    const uint8_t *message = mst_session_peek_plaintext(p.server, &len);
    CHECK(message != NULL && len == 5 && memcmp(message, "first", 5) == 0);
    mst_session_consume_plaintext(p.server, len);
    CHECK(mst_session_read_plaintext(p.server, got, 3) == 3 && memcmp(got, "sec", 3) == 0);
    CHECK(mst_session_peek_plaintext(p.server, &len) == NULL); /* cut, as a datagram socket */
done:
    free_pair(&p);
}

static void test_dtls_export_after_last_flight(void)
{
    /* The server sent the last flight and keeps its keys aside for a resend until the
     * client's next record: the exporter works all the same, and agrees with the client. */
    pair p = dtls_configs(-1, -1);
    dtls_sessions(&p);
    uint8_t ours[32], theirs[32];
    CHECK(dtls_handshake(&p, 0, NULL));
    CHECK(mst_session_export_keying_material(p.server, ours, sizeof(ours), "EXPERIMENTAL-x", 14,
                                             NULL, 0) == 0);
    CHECK(mst_session_export_keying_material(p.client, theirs, sizeof(theirs), "EXPERIMENTAL-x", 14,
                                             NULL, 0) == 0);
    CHECK(memcmp(ours, theirs, sizeof(ours)) == 0);
done:
    free_pair(&p);
}

static void test_dtls_retransmit_bounds(void)
{
    /* 100 ms, doubling to 400 ms, then the handshake gives up. */
    pair p = dtls_configs(-1, -1);
    mst_config_set_dtls_retransmit(p.client_config, 100, 400, NULL);
    dtls_sessions(&p);
    size_t len;
    uint64_t now = 1000;
    mst_session_process(p.client);
    int64_t waits[3];
    for (int i = 0; i < 3; i++) {
        CHECK(mst_session_peek_ciphertext(p.client, &len) != NULL);
        mst_session_consume_ciphertext(p.client, len); /* lost */
        waits[i] = mst_session_timeout(p.client);
        now += (uint64_t)waits[i];
        mst_session_set_time(p.client, now);
        mst_session_process(p.client);
    }
    CHECK(waits[0] == 100 && waits[1] == 200 && waits[2] == 400);
    CHECK(mst_session_state(p.client) & MST_STATE_FAILED);
    CHECK_CODE(mst_session_error(p.client)->code, MBEDTLS_ERR_SSL_TIMEOUT);
done:
    free_pair(&p);
}

static void test_dtls_cookies_off(void)
{
    pair p = dtls_configs(-1, -1);
    uint8_t reply[MST_DTLS_HELLO_REPLY_MAX], hello[2048];
    size_t reply_len, hello_len;
    CHECK(mst_config_set_dtls_cookies(p.server_config, false, NULL) == 0);
    dtls_sessions(&p);
    mst_session_process(p.client);
    CHECK((hello_len = take_datagram(p.client, hello, sizeof(hello))) > 0);
    CHECK(mst_dtls_check_hello(p.server_config, hello, hello_len, (const uint8_t *)"a", 1, reply,
                               sizeof(reply), &reply_len) == MST_DTLS_HELLO_ACCEPT);
    /* The server answers the cookieless hello with its ServerHello flight at once. */
    mst_session_feed_ciphertext(p.server, hello, hello_len);
    const uint8_t *answer = mst_session_peek_ciphertext(p.server, &reply_len);
    CHECK(answer != NULL && answer[13] == 2 /* server_hello */);
    CHECK(dtls_handshake(&p, 0, NULL));
done:
    free_pair(&p);
}

static void test_dtls_psk_asked_both_sides(void)
{
    /* TLS_PSK_WITH_AES_128_CCM_8: the server asks for the key of the identity, the client for
     * its key and identity after the server's hint. */
    static const int suites[] = {0xC0A8};
    static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    pair p = {0};
    p.server_config = mst_config_new(MST_SERVER, MST_DATAGRAM, NULL);
    p.client_config = mst_config_new(MST_CLIENT, MST_DATAGRAM, NULL);
    mst_config_set_versions(p.client_config, MST_TLS1_2, MST_TLS1_2, NULL);
    mst_config_set_ciphersuites(p.client_config, suites, 1, NULL);
    mst_config_set_ciphersuites(p.server_config, suites, 1, NULL);
    CHECK(mst_config_ask_psk(p.client_config, NULL) == 0);
    CHECK(mst_config_ask_psk(p.server_config, NULL) == 0);
    mst_config_set_psk_hint(p.server_config, (const uint8_t *)"coap", 4, NULL);
    dtls_sessions(&p);
    bool asked_client = false, asked_server = false;
    mst_session_process(p.client);
    for (int round = 0; round < 20; round++) {
        transfer(p.client, p.server, 0, true);
        transfer(p.server, p.client, 0, true);
        if (mst_session_take_events(p.client) & MST_EVENT_PSK_HINT) {
            size_t hint_len;
            const uint8_t *hint = mst_session_psk_hint(p.client, &hint_len, NULL);
            asked_client = hint != NULL && hint_len == 4 && memcmp(hint, "coap", 4) == 0;
            mst_session_set_client_psk(p.client, key, sizeof(key), (const uint8_t *)"dev-7", 5);
            mst_session_process(p.client);
        }
        if (mst_session_take_events(p.server) & MST_EVENT_PSK_IDENTITY) {
            size_t id_len;
            const uint8_t *id = mst_session_psk_identity(p.server, &id_len);
            asked_server = id != NULL && id_len == 5 && memcmp(id, "dev-7", 5) == 0;
            mst_session_set_psk(p.server, key, sizeof(key));
            mst_session_process(p.server);
        }
    }
    CHECK(asked_client);
    CHECK(asked_server);
    CHECK(!(mst_session_state(p.client) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED)));
    CHECK(!(mst_session_state(p.server) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED)));
    CHECK(mst_session_ciphersuite_id(p.server) == 0xC0A8);
done:
    free_pair(&p);
}

static void test_dtls_hello_cookie_then_session(void)
{
    static const uint8_t id[] = "127.0.0.1:5684", other[] = "127.0.0.1:5685";
    pair p = make_pair((options){.transport = MST_DATAGRAM});
    uint8_t hello[2048], reply[MST_DTLS_HELLO_REPLY_MAX];
    size_t hello_len, reply_len;
    mst_session_free(p.server); /* nothing exists for the client until its cookie comes back */
    p.server = NULL;
    mst_session_set_time(p.client, 1000);
    mst_session_process(p.client);
    CHECK((hello_len = take_datagram(p.client, hello, sizeof(hello))) > 0);

    /* No cookie: a HelloVerifyRequest, shorter than the ClientHello, echoing its record
     * sequence number and message_seq, server_version DTLS 1.0. */
    CHECK(mst_dtls_check_hello(p.server_config, hello, hello_len, id, sizeof(id) - 1, reply,
                               sizeof(reply), &reply_len) == MST_DTLS_HELLO_VERIFY);
    CHECK(reply_len > 25 && reply_len <= hello_len);
    CHECK(reply[0] == MBEDTLS_SSL_MSG_HANDSHAKE && memcmp(reply + 1, hello + 1, 10) == 0);
    CHECK(reply[13] == MBEDTLS_SSL_HS_HELLO_VERIFY_REQUEST && memcmp(reply + 17, hello + 17, 2) == 0);
    CHECK(reply[25] == 0xFE && reply[26] == 0xFF && reply[27] == reply_len - 28);
    CHECK(((size_t)reply[11] << 8 | reply[12]) == reply_len - 13);

    /* The client answers with the cookie: valid for this client only. */
    mst_session_feed_ciphertext(p.client, reply, reply_len);
    CHECK((hello_len = take_datagram(p.client, hello, sizeof(hello))) > 0);
    size_t unused;
    CHECK(mst_dtls_check_hello(p.server_config, hello, hello_len, other, sizeof(other) - 1, reply,
                               sizeof(reply), &unused) == MST_DTLS_HELLO_VERIFY);
    CHECK(mst_dtls_check_hello(p.server_config, hello, hello_len, id, sizeof(id) - 1, reply,
                               sizeof(reply), &unused) == MST_DTLS_HELLO_ACCEPT);

    /* A session made now, fed that same datagram, takes the cookie and goes on. */
    mst_error err;
    CHECK((p.server = mst_session_new(p.server_config, &err)) != NULL);
    mst_session_set_transport_id(p.server, id, sizeof(id) - 1);
    mst_session_set_time(p.server, 1000);
    mst_session_feed_ciphertext(p.server, hello, hello_len);
    for (int round = 0; round < 50; round++) {
        if (transfer(p.server, p.client, 0, true) + transfer(p.client, p.server, 0, true) == 0)
            break;
    }
    CHECK(!(mst_session_state(p.client) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED)));
    CHECK(!(mst_session_state(p.server) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED)));
done:
    free_pair(&p);
}

static void test_dtls_hello_drops_what_is_not_a_client_hello(void)
{
    static const uint8_t id[] = "10.0.0.1:1";
    pair p = make_pair((options){.transport = MST_DATAGRAM});
    uint8_t hello[2048], bad[2048], reply[MST_DTLS_HELLO_REPLY_MAX];
    size_t hello_len, reply_len = 99;
    mst_session_set_time(p.client, 1000);
    mst_session_process(p.client);
    CHECK((hello_len = take_datagram(p.client, hello, sizeof(hello))) > 61);

    /* Every prefix: a cut record is dropped, never read past its end. */
    for (size_t n = 0; n < hello_len; n++) {
        uint8_t *copy = malloc(n ? n : 1); /* exactly n bytes, for the sanitizers */
        memcpy(copy, hello, n);
        enum mst_dtls_hello v = mst_dtls_check_hello(p.server_config, copy, n, id, sizeof(id) - 1,
                                                     reply, sizeof(reply), &reply_len);
        free(copy);
        CHECK(v == MST_DTLS_HELLO_DROP && reply_len == 0);
    }
    /* One field at a time made wrong. */
    static const struct { size_t at; uint8_t value; } wrong[] = {
        {0, MBEDTLS_SSL_MSG_APPLICATION_DATA}, {1, 0x03},  /* not DTLS */
        {4, 1},                                           /* epoch 1 */
        {13, MBEDTLS_SSL_HS_SERVER_HELLO},                /* not a ClientHello */
        {21, 1},                                          /* not the first fragment */
        {59, 33},                                         /* session_id longer than 32 */
    };
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        memcpy(bad, hello, hello_len);
        bad[wrong[i].at] = wrong[i].value;
        CHECK(mst_dtls_check_hello(p.server_config, bad, hello_len, id, sizeof(id) - 1, reply,
                                   sizeof(reply), &reply_len) == MST_DTLS_HELLO_DROP);
    }
    /* A record longer than the datagram. */
    memcpy(bad, hello, hello_len);
    bad[11] = 0xFF;
    CHECK(mst_dtls_check_hello(p.server_config, bad, hello_len, id, sizeof(id) - 1, reply,
                               sizeof(reply), &reply_len) == MST_DTLS_HELLO_DROP);
    /* A forged cookie: answered with a fresh one, not accepted. */
    memcpy(bad, hello, hello_len);
    CHECK(bad[60] == 0 && hello_len + 32 <= sizeof(bad)); /* sid empty, cookie empty */
    memmove(bad + 61 + 32, bad + 61, hello_len - 61);
    bad[60] = 32;
    memset(bad + 61, 0xA5, 32);
    CHECK(mst_dtls_check_hello(p.server_config, bad, hello_len + 32, id, sizeof(id) - 1, reply,
                               sizeof(reply), &reply_len) == MST_DTLS_HELLO_VERIFY);
    /* No room for the reply, or a client config: dropped. */
    CHECK(mst_dtls_check_hello(p.server_config, hello, hello_len, id, sizeof(id) - 1, reply, 20,
                               &reply_len) == MST_DTLS_HELLO_DROP);
    CHECK(mst_dtls_check_hello(p.client_config, hello, hello_len, id, sizeof(id) - 1, reply,
                               sizeof(reply), &reply_len) == MST_DTLS_HELLO_DROP);
done:
    free_pair(&p);
}

/* The longest record (its length field) in a run of whole TLS records, a ClientHello not
 * counted; SIZE_MAX when the bytes are not whole records. */
static size_t longest_record(const uint8_t *data, size_t len)
{
    size_t longest = 0;
    while (len > 0) {
        if (len < 5)
            return SIZE_MAX;
        size_t record = ((size_t)data[3] << 8) | data[4];
        if (record + 5 > len)
            return SIZE_MAX;
        bool client_hello = data[0] == MBEDTLS_SSL_MSG_HANDSHAKE && record > 0 &&
                            data[5] == MBEDTLS_SSL_HS_CLIENT_HELLO;
        if (!client_hello && record > longest)
            longest = record;
        data += record + 5;
        len -= record + 5;
    }
    return longest;
}

/* As pump(), and records the longest record each side sent. */
static void pump_measuring(pair *p, size_t *client_longest, size_t *server_longest)
{
    for (int round = 0; round < 1000; round++) {
        size_t len, moved = 0;
        const uint8_t *data;
        if ((data = mst_session_peek_ciphertext(p->client, &len)) != NULL) {
            size_t longest = longest_record(data, len);
            *client_longest = longest > *client_longest ? longest : *client_longest;
        }
        moved += transfer(p->client, p->server, 0, false);
        if ((data = mst_session_peek_ciphertext(p->server, &len)) != NULL) {
            size_t longest = longest_record(data, len);
            *server_longest = longest > *server_longest ? longest : *server_longest;
        }
        moved += transfer(p->server, p->client, 0, false);
        if (moved == 0)
            return;
    }
}

/* A client asking for 512-byte fragments in TLS 1.2 gets no longer record from the server,
 * handshake included (the server's certificate chain is longer: it is cut), and sends none
 * itself (its certificate chain, likewise). Data crosses intact both ways. */
static void test_tls12_max_fragment_length_binds_every_record(void)
{
    pair p = make_pair((options){.min_version = MST_TLS1_2, .max_version = MST_TLS1_2,
                                 .client_max_fragment = 512,
                                 .client_chain = "client-chain.pem", .client_key = "client.key",
                                 .server_verify = MST_VERIFY_REQUIRED});
    /* AES-GCM in TLS 1.2 adds an 8-byte explicit nonce and a 16-byte tag. */
    const size_t expansion = 24;
    size_t client_longest = 0, server_longest = 0;
    uint8_t *data = malloc(20000), *got = malloc(20000);
    for (size_t i = 0; i < 20000; i++)
        data[i] = (uint8_t)(i * 7 + (i >> 8));
    mst_session_process(p.client);
    pump_measuring(&p, &client_longest, &server_longest);
    CHECK(!(mst_session_state(p.client) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED)));
    CHECK(!(mst_session_state(p.server) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED)));
    CHECK(mst_session_verify_flags(p.server) == 0);
    CHECK(server_longest <= 512 && client_longest <= 512); /* handshake records, in the clear */
    CHECK(mst_session_write_plaintext(p.server, data, 20000) == 0);
    CHECK(mst_session_write_plaintext(p.client, data, 20000) == 0);
    pump_measuring(&p, &client_longest, &server_longest);
    CHECK(server_longest <= 512 + expansion && server_longest > 512);
    CHECK(client_longest <= 512 + expansion && client_longest > 512);
    CHECK(mst_session_read_plaintext(p.client, got, 20000) == 20000 && memcmp(got, data, 20000) == 0);
    CHECK(mst_session_read_plaintext(p.server, got, 20000) == 20000 && memcmp(got, data, 20000) == 0);
done:
    free(data);
    free(got);
    free_pair(&p);
}

/* Without the request, the same server sends its whole certificate chain in one record. */
static void test_tls12_no_max_fragment_length_no_cut(void)
{
    pair p = make_pair((options){.min_version = MST_TLS1_2, .max_version = MST_TLS1_2});
    size_t client_longest = 0, server_longest = 0;
    mst_session_process(p.client);
    pump_measuring(&p, &client_longest, &server_longest);
    CHECK(!(mst_session_state(p.client) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED)));
    CHECK(server_longest > 512);
done:
    free_pair(&p);
}

/* ---- Handshake messages longer than one record (deps/patches/0007) ---- */

/* A server whose Certificate message is about 45 KB (certs/large/, 1,500 names) sends it as
 * records of at most 16 KiB, or of max_fragment if the client asks, and the client, fed 1,000
 * bytes at a time (cutting records), takes it whole. Once done, the server holds what it
 * holds after a short chain: its output buffer grew for the message and shrank back. */
static void test_large_certificate(int version, size_t max_fragment)
{
    const options base = {.min_version = version, .max_version = version,
                          .client_max_fragment = max_fragment};
    options large = base;
    large.server_chain = "large/leaf-many-names.pem";
    large.server_key = "large/leaf.key";
    large.client_trusts = "large/root.pem";
    pair small = make_pair(base), p = make_pair(large);
    size_t small_now, small_peak, large_now, large_peak, len, own_len;
    size_t client_longest = 0, server_longest = 0;
    CHECK(handshake(&small, 0));
    mst_session_process(p.client);
    pump_measuring(&p, &client_longest, &server_longest);
    CHECK(!(mst_session_state(p.client) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED)));
    CHECK(!(mst_session_state(p.server) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED)));
    CHECK(mst_session_verify_flags(p.client) == 0);
    const uint8_t *leaf = mst_session_peer_certificate(p.client, 0, &len);
    const uint8_t *own = mst_session_own_certificate(p.server, &own_len);
    CHECK(leaf != NULL && own != NULL && len == own_len && len > 40000 && memcmp(leaf, own, len) == 0);
    /* Records: a TLS record header and at most 2^14 bytes (or max_fragment) of content,
     * plus the protection's expansion (at most 256 bytes in TLS 1.3, 2048 in TLS 1.2). */
    CHECK(server_longest <= 5 + (max_fragment ? max_fragment : 16384) + 256);
    mst_session_memory(small.server, &small_now, &small_peak);
    mst_session_memory(p.server, &large_now, &large_peak);
    CHECK(large_peak > small_peak + 40000);
    CHECK(large_now == small_now);
    CHECK(send_and_check(&p, true, 20000, 1000));
    CHECK(send_and_check(&p, false, 20000, 1000));
done:
    free_pair(&small);
    free_pair(&p);
}

static void test_tls12_large_certificate(void) { test_large_certificate(MST_TLS1_2, 0); }
static void test_tls13_large_certificate(void) { test_large_certificate(MST_TLS1_3, 0); }
static void test_tls12_large_certificate_in_512_byte_records(void) { test_large_certificate(MST_TLS1_2, 512); }

/* A client certificate of about 80 KB (a certificate list over 64 KiB) crosses the other way:
 * the client grows its output buffer to send it, the server its input buffer to take it. */
static void test_large_client_certificate(int version)
{
    pair p = make_pair((options){.min_version = version, .max_version = version,
                                 .client_chain = "large/leaf-80k.pem", .client_key = "large/leaf.key",
                                 .server_verify = MST_VERIFY_REQUIRED, .server_trusts = "large/root.pem"});
    size_t len, own_len;
    CHECK(handshake(&p, 1000));
    CHECK(mst_session_verify_flags(p.server) == 0);
    const uint8_t *leaf = mst_session_peer_certificate(p.server, 0, &len);
    const uint8_t *own = mst_session_own_certificate(p.client, &own_len);
    CHECK(leaf != NULL && own != NULL && len == own_len && len > 65536 && memcmp(leaf, own, len) == 0);
done:
    free_pair(&p);
}

static void test_tls12_large_client_certificate(void) { test_large_client_certificate(MST_TLS1_2); }
static void test_tls13_large_client_certificate(void) { test_large_client_certificate(MST_TLS1_3); }

/* A chain is taken while its Certificate message has at most 100 KiB of body in TLS, 16 KiB
 * in DTLS (whose handshake messages are still built whole in one record's buffer). */
static void test_large_chain_limits(void)
{
    static const struct {
        enum mst_transport transport;
        const char *chain;
        int expected;
    } cases[] = {
        {MST_STREAM, "large/leaf-many-names.pem", 0},
        {MST_STREAM, "large/leaf-80k.pem", 0},
        {MST_STREAM, "large/leaf-120k.pem", MST_ERR_CHAIN_TOO_LONG},
        {MST_DATAGRAM, "server-ecdsa-chain.pem", 0},
        {MST_DATAGRAM, "large/leaf-many-names.pem", MST_ERR_CHAIN_TOO_LONG},
    };
    file key = load("large/leaf.key"), ecdsa_key = load("server-ecdsa.key");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mst_error err;
        mst_config *config = mst_config_new(MST_SERVER, cases[i].transport, &err);
        file chain = load(cases[i].chain);
        const file *k = strncmp(cases[i].chain, "large/", 6) == 0 ? &key : &ecdsa_key;
        int got = mst_config_add_certificate(config, chain.data, chain.len, k->data, k->len, NULL, 0, &err);
        free(chain.data);
        mst_config_unref(config);
        if (got != cases[i].expected)
            printf("    %s: -0x%X\n", cases[i].chain, (unsigned)-got);
        CHECK(got == cases[i].expected);
    }
done:
    free(key.data);
    free(ecdsa_key.data);
}

static void test_max_fragment_length_values(void)
{
    mst_error err;
    mst_config *config = mst_config_new(MST_CLIENT, MST_STREAM, &err);
    CHECK(config != NULL);
    CHECK_CODE(mst_config_set_max_fragment_length(config, 1000, &err), MST_ERR_BAD_ARGUMENT);
    CHECK_CODE(mst_config_set_max_fragment_length(config, 16384, &err), MST_ERR_BAD_ARGUMENT);
    CHECK_CODE(mst_config_set_max_fragment_length(config, 4096, &err), 0);
    CHECK_CODE(mst_config_set_max_fragment_length(config, 0, &err), 0);
done:
    mst_config_unref(config);
}

/* Whether the session's debug window holds a line containing `needle`; each line must have
 * the documented form "file:line: |level| text" with level <= max_level. */
static bool debug_lines_ok(const mst_session *s, const char *needle, int max_level, bool *found)
{
    size_t len;
    const uint8_t *data = mst_session_peek_debug(s, &len);
    *found = false;
    for (size_t start = 0; data != NULL && start < len;) {
        const uint8_t *nl = memchr(data + start, '\n', len - start);
        if (nl == NULL)
            return false; /* every line ends with a newline */
        size_t n = (size_t)(nl - (data + start));
        char line[1024];
        if (n >= sizeof(line))
            return false;
        memcpy(line, data + start, n);
        line[n] = '\0';
        char file[128];
        int number, level;
        if (sscanf(line, "%127[^:]:%d: |%d| ", file, &number, &level) != 3 || level < 1 ||
            level > max_level)
            return false;
        if (strstr(line, needle) != NULL)
            *found = true;
        start += n + 1;
    }
    return true;
}

static void test_debug_level_2_records_state_changes(void)
{
    pair p = make_pair((options){.client_debug = 2});
    bool found = false;
    CHECK(handshake(&p, 0));
    CHECK(mst_session_take_events(p.client) & MST_EVENT_DEBUG);
    CHECK(debug_lines_ok(p.client, "client state: MBEDTLS_SSL_CLIENT_HELLO", 2, &found) && found);
    CHECK(debug_lines_ok(p.client, "<= write client hello", 2, &found) && found);
    /* Only the client's config has a level: the server records nothing. */
    size_t len;
    CHECK(!(mst_session_take_events(p.server) & MST_EVENT_DEBUG));
    CHECK(mst_session_peek_debug(p.server, &len) == NULL && len == 0);
    /* Taken lines are gone; new calls record new ones. */
    mst_session_peek_debug(p.client, &len);
    mst_session_consume_debug(p.client, len);
    CHECK(mst_session_peek_debug(p.client, &len) == NULL);
    CHECK(send_and_check(&p, true, 100, 0));
    CHECK(debug_lines_ok(p.client, "=> write", 2, &found) && found);
done:
    free_pair(&p);
}

static void test_debug_level_0_records_nothing(void)
{
    pair p = make_pair((options){0});
    size_t len;
    CHECK(handshake(&p, 0));
    CHECK(send_and_check(&p, true, 100, 0));
    CHECK(!(mst_session_take_events(p.client) & MST_EVENT_DEBUG));
    CHECK(mst_session_peek_debug(p.client, &len) == NULL && len == 0);
    CHECK(mst_session_peek_debug(p.server, &len) == NULL && len == 0);
done:
    free_pair(&p);
}

/* Level 3 and level 1 sessions side by side: the process-wide threshold is 3, and each
 * session keeps its own level only. */
static void test_debug_levels_are_per_session(void)
{
    pair p = make_pair((options){.client_debug = 3, .server_debug = 1});
    bool found = false;
    CHECK(handshake(&p, 0));
    CHECK(debug_lines_ok(p.client, "|3|", 3, &found) && found);
    CHECK(debug_lines_ok(p.server, "|1|", 1, &found) && found);
done:
    free_pair(&p);
}

/* A level-4 dump of a large write stops at the window's limit, with a line saying so. */
static void test_debug_window_is_capped(void)
{
    pair p = make_pair((options){.server_debug = 4});
    size_t len;
    bool found = false;
    CHECK(handshake(&p, 0));
    mst_session_peek_debug(p.server, &len);
    mst_session_consume_debug(p.server, len);
    CHECK(send_and_check(&p, false, 1 << 20, 0));
    const uint8_t *lines = mst_session_peek_debug(p.server, &len);
    CHECK(lines != NULL && len <= 256 * 1024 + 200 && len > 200 * 1024);
    CHECK(debug_lines_ok(p.server, "lines dropped until they are read", 4, &found) && found);
    mst_session_consume_debug(p.server, len);
    CHECK(send_and_check(&p, false, 10, 0));
    CHECK(debug_lines_ok(p.server, "=> write", 4, &found) && found);
    CHECK(debug_lines_ok(p.server, "lines dropped", 4, &found) && !found);
done:
    free_pair(&p);
}

/* Randomness for key-pair checks (blinding only): any bytes will do. */
static int test_random(void *context, unsigned char *out, size_t len)
{
    (void)context;
    for (size_t i = 0; i < len; i++)
        out[i] = (unsigned char)rand();
    return 0;
}

static const uint8_t loopback4[4] = {127, 0, 0, 1};
static const uint8_t loopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const mst_alt_name localhost_names[3] = {
    {MST_NAME_DNS, (const uint8_t *)"localhost", 9},
    {MST_NAME_IP, loopback4, 4},
    {MST_NAME_IP, loopback6, 16},
};

/* A generated certificate parses, carries what was asked and matches its key. */
static void test_self_signed_certificate(void)
{
    char *cert = NULL, *key = NULL;
    size_t cert_len = 0, key_len = 0;
    mst_error err;
    mbedtls_x509_crt crt;
    mbedtls_pk_context pk;
    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&pk);
    /* 2026-01-01T00:00:00Z to 2026-01-31T00:00:00Z */
    CHECK_CODE(mst_generate_self_signed("CN=localhost,O=mbedtls-stream test", localhost_names, 3,
                                        1767225600, 1767225600 + 30 * 86400, &cert, &cert_len,
                                        &key, &key_len, &err), 0);
    CHECK(cert != NULL && strlen(cert) == cert_len && strstr(cert, "-----BEGIN CERTIFICATE-----") == cert);
    CHECK(key != NULL && strlen(key) == key_len && strstr(key, "-----BEGIN EC PRIVATE KEY-----") == key);
    CHECK_CODE(mbedtls_x509_crt_parse(&crt, (const unsigned char *)cert, cert_len + 1), 0);
    CHECK_CODE(mbedtls_pk_parse_key(&pk, (const unsigned char *)key, key_len + 1, NULL, 0,
                                    test_random, NULL), 0);
    CHECK_CODE(mbedtls_pk_check_pair(&crt.pk, &pk, test_random, NULL), 0);
    CHECK(mbedtls_pk_get_type(&crt.pk) == MBEDTLS_PK_ECKEY && mbedtls_pk_get_bitlen(&crt.pk) == 256);
    CHECK(crt.version == 3);
    CHECK(MBEDTLS_OID_CMP(MBEDTLS_OID_ECDSA_SHA256, &crt.sig_oid) == 0);
    char info[2048];
    CHECK(mbedtls_x509_crt_info(info, sizeof(info), "", &crt) > 0);
    CHECK(strstr(info, "basic constraints : CA=false") != NULL);
    CHECK(strstr(info, "ext key usage     : TLS Web Server Authentication") != NULL);
    CHECK(crt.valid_from.year == 2026 && crt.valid_from.mon == 1 && crt.valid_from.day == 1 &&
          crt.valid_from.hour == 0);
    CHECK(crt.valid_to.year == 2026 && crt.valid_to.mon == 1 && crt.valid_to.day == 31);
    CHECK(crt.serial.len >= 16);
    char dn[128];
    CHECK(mbedtls_x509_dn_gets(dn, sizeof(dn), &crt.subject) > 0 &&
          strcmp(dn, "CN=localhost, O=mbedtls-stream test") == 0);
    CHECK(mbedtls_x509_dn_gets(dn, sizeof(dn), &crt.issuer) > 0 &&
          strcmp(dn, "CN=localhost, O=mbedtls-stream test") == 0);
    /* The names, in order: DNS localhost, then the two loopback addresses. */
    const mbedtls_x509_sequence *san = &crt.subject_alt_names;
    CHECK(san->buf.len == 9 && memcmp(san->buf.p, "localhost", 9) == 0);
    CHECK((san = san->next) != NULL && san->buf.len == 4 && memcmp(san->buf.p, loopback4, 4) == 0);
    CHECK((san = san->next) != NULL && san->buf.len == 16 && memcmp(san->buf.p, loopback6, 16) == 0);
    CHECK(san->next == NULL);
done:
    mbedtls_x509_crt_free(&crt);
    mbedtls_pk_free(&pk);
    mst_free_pem(cert, cert_len);
    mst_free_pem(key, key_len);
}

/* Generating frees whatever Mbed TLS allocated for it: the process total returns to where
 * it was (the first round may leave PSA's key slots, kept for reuse, and first-use state). */
static void test_self_signed_frees_everything(void)
{
    for (int round = 0; round < 2; round++) {
        size_t before, after, peak;
        char *cert = NULL, *key = NULL;
        size_t cert_len = 0, key_len = 0;
        mst_memory_totals(&before, &peak);
        int ret = mst_generate_self_signed("CN=localhost", localhost_names, 3, 1767225600,
                                           1767225600 + 86400, &cert, &cert_len, &key, &key_len, NULL);
        mst_free_pem(cert, cert_len);
        mst_free_pem(key, key_len);
        mst_memory_totals(&after, &peak);
        CHECK_CODE(ret, 0);
        if (round == 1 && after != before)
            printf("    %zu bytes before, %zu after\n", before, after);
        CHECK(round == 0 || after == before);
    }
done:;
}

/* Served by a server, verified outright by a client that trusts exactly it. */
static void test_self_signed_certificate_verifies(void)
{
    char *cert = NULL, *key = NULL;
    size_t cert_len = 0, key_len = 0;
    mst_error err;
    pair p = {0};
    int64_t now = (int64_t)time(NULL);
    CHECK_CODE(mst_generate_self_signed("CN=localhost", localhost_names, 3, now - 3600, now + 86400,
                                        &cert, &cert_len, &key, &key_len, &err), 0);
    p.server_config = mst_config_new(MST_SERVER, MST_STREAM, &err);
    p.client_config = mst_config_new(MST_CLIENT, MST_STREAM, &err);
    CHECK_CODE(mst_config_add_certificate(p.server_config, (const uint8_t *)cert, cert_len,
                                          (const uint8_t *)key, key_len, NULL, 0, &err), 0);
    CHECK_CODE(mst_config_add_ca(p.client_config, (const uint8_t *)cert, cert_len, 1, NULL, &err), 0);
    p.server = mst_session_new(p.server_config, &err);
    p.client = mst_session_new(p.client_config, &err);
    CHECK(handshake(&p, 0));
    CHECK(mst_session_verify_flags(p.client) == 0);
    CHECK(send_and_check(&p, false, 1000, 0));
done:
    free_pair(&p);
    mst_free_pem(cert, cert_len);
    mst_free_pem(key, key_len);
}

static void test_self_signed_bad_arguments(void)
{
    char *cert = NULL, *key = NULL;
    size_t cert_len = 0, key_len = 0;
    mst_error err;
    const mst_alt_name bad_ip = {MST_NAME_IP, loopback4, 3};
    const mst_alt_name empty_dns = {MST_NAME_DNS, (const uint8_t *)"", 0};
    CHECK_CODE(mst_generate_self_signed("CN=x", NULL, 0, 2000, 1000, &cert, &cert_len, &key,
                                        &key_len, &err), MST_ERR_BAD_ARGUMENT);
    CHECK_CODE(mst_generate_self_signed("CN=x", &bad_ip, 1, 1000, 2000, &cert, &cert_len, &key,
                                        &key_len, &err), MST_ERR_BAD_ARGUMENT);
    CHECK_CODE(mst_generate_self_signed("CN=x", &empty_dns, 1, 1000, 2000, &cert, &cert_len, &key,
                                        &key_len, &err), MST_ERR_BAD_ARGUMENT);
    CHECK_CODE(mst_generate_self_signed("CN=x", NULL, 0, -5, 2000, &cert, &cert_len, &key,
                                        &key_len, &err), MST_ERR_BAD_ARGUMENT);
    CHECK(mst_generate_self_signed("nonsense", NULL, 0, 1000, 2000, &cert, &cert_len, &key,
                                   &key_len, &err) != 0);
    CHECK(err.code != 0 && err.text[0] != '\0' && cert == NULL && key == NULL);
done:
    mst_free_pem(cert, cert_len);
    mst_free_pem(key, key_len);
}

#define TEST(name) {#name, test_##name}


/* ---- Resumption ---- */

/* A full handshake on p; returns the client's saved session (malloc'd) or NULL. TLS 1.3
 * tickets arrive after the handshake. */
static uint8_t *full_handshake_and_save(pair *p, size_t *len)
{
    uint8_t *saved = NULL;
    *len = 0;
    CHECK(handshake(p, 0));
    CHECK(mst_session_reused(p->client) == 0 && mst_session_reused(p->server) == 0);
    pump(p, 0);
    CHECK(mst_session_save(p->client, "localhost", NULL, 0, len) == 0 && *len > 0);
    saved = malloc(*len);
    CHECK(mst_session_save(p->client, "localhost", saved, *len, len) == 0);
    return saved;
done:
    free(saved);
    return NULL;
}

/* New sessions on the pair's configs (the first ones are freed), the client sending SNI
 * "localhost" as before. */
static void renew_sessions(pair *p)
{
    mst_session_free(p->client);
    mst_session_free(p->server);
    p->client = mst_session_new(p->client_config, NULL);
    p->server = mst_session_new(p->server_config, NULL);
    mst_session_set_server_name(p->client, "localhost");
}

static void test_resumption(int version)
{
    mst_resumption *store = mst_resumption_new(300, NULL, 0, NULL);
    pair p = make_pair((options){.min_version = version, .max_version = version,
                                 .server_name = "localhost", .resumption = store});
    size_t len, peer_len;
    uint8_t *saved = full_handshake_and_save(&p, &len);
    CHECK(saved != NULL);
    renew_sessions(&p);
    CHECK_CODE(mst_session_resume(p.client, saved, len, "localhost"), 0);
    CHECK(handshake(&p, 0));
    CHECK(mst_session_reused(p.client) == 1);
    CHECK(mst_session_reused(p.server) == 1);
    CHECK(mst_session_verify_flags(p.client) == 0);
    /* The peer's chain is reported as on the first connection: the leaf and the
     * intermediate it sent (Mbed TLS itself keeps only the leaf of a TLS 1.2 session). */
    CHECK(mst_session_peer_certificate(p.client, 0, &peer_len) != NULL && peer_len > 0);
    CHECK(mst_session_peer_certificate(p.client, 1, &peer_len) != NULL && peer_len > 0);
    CHECK(mst_session_peer_certificate(p.client, 2, &peer_len) == NULL);
    CHECK(mst_session_verified_certificate(p.client, 0, &peer_len, NULL) != NULL);
    CHECK(send_and_check(&p, true, 1000, 0));
    CHECK(send_and_check(&p, false, 1000, 0));
done:
    free(saved);
    free_pair(&p);
    mst_resumption_unref(store);
}
static void test_tls12_resumption(void) { test_resumption(MST_TLS1_2); }
static void test_tls13_resumption(void) { test_resumption(MST_TLS1_3); }

/* certs/long-chain/chain-24.pem: the leaf and 24 intermediates, above Mbed TLS's default
 * of 8 (MBEDTLS_X509_MAX_INTERMEDIATE_CA) and the engine's former 8 recorded depths. */
#define LONG_CHAIN_SENT 25

/* The client's view of the long chain: every certificate the server sent, and the
 * verified path up to the root, each depth without flags. */
static bool reports_long_chain(const mst_session *client)
{
    size_t len;
    uint32_t flags;
    for (size_t i = 0; i < LONG_CHAIN_SENT; i++) {
        if (mst_session_peer_certificate(client, i, &len) == NULL)
            return false;
    }
    if (mst_session_peer_certificate(client, LONG_CHAIN_SENT, &len) != NULL)
        return false;
    for (size_t depth = 0; depth <= LONG_CHAIN_SENT; depth++) {
        flags = 1;
        if (mst_session_verified_certificate(client, depth, &len, &flags) == NULL || flags != 0)
            return false;
    }
    return mst_session_verified_certificate(client, LONG_CHAIN_SENT + 1, &len, &flags) == NULL;
}

static void test_long_chain(int version)
{
    mst_resumption *store = mst_resumption_new(300, NULL, 0, NULL);
    pair p = make_pair((options){.min_version = version, .max_version = version,
                                 .server_chain = "long-chain/chain-24.pem",
                                 .server_key = "long-chain/leaf.key",
                                 .client_trusts = "long-chain/root.pem",
                                 .server_name = "localhost", .resumption = store});
    size_t len;
    uint8_t *saved = full_handshake_and_save(&p, &len);
    CHECK(saved != NULL);
    CHECK(mst_session_verify_flags(p.client) == 0);
    CHECK(reports_long_chain(p.client));
    /* A resumed session reports the same, from the saved session. */
    renew_sessions(&p);
    CHECK_CODE(mst_session_resume(p.client, saved, len, "localhost"), 0);
    CHECK(handshake(&p, 0));
    CHECK(mst_session_reused(p.client) == 1);
    CHECK(reports_long_chain(p.client));
done:
    free(saved);
    free_pair(&p);
    mst_resumption_unref(store);
}
static void test_tls12_long_chain(void) { test_long_chain(MST_TLS1_2); }
static void test_tls13_long_chain(void) { test_long_chain(MST_TLS1_3); }

/* A long chain the client does not trust: what the server sent stays readable, all of it. */
static void test_long_chain_refused(void)
{
    pair p = make_pair((options){.server_chain = "long-chain/chain-24.pem",
                                 .server_key = "long-chain/leaf.key"});
    size_t len;
    uint32_t flags = 0;
    CHECK(!handshake(&p, 0));
    CHECK_CODE(error_code(p.client), MBEDTLS_ERR_X509_CERT_VERIFY_FAILED);
    for (size_t i = 0; i < LONG_CHAIN_SENT; i++)
        CHECK(mst_session_peer_certificate(p.client, i, &len) != NULL);
    CHECK(mst_session_peer_certificate(p.client, LONG_CHAIN_SENT, &len) == NULL);
    for (size_t depth = 0; depth < LONG_CHAIN_SENT; depth++)
        CHECK(mst_session_verified_certificate(p.client, depth, &len, &flags) != NULL);
    CHECK(flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED);
    CHECK(mst_session_verified_certificate(p.client, LONG_CHAIN_SENT, &len, &flags) == NULL);
done:
    free_pair(&p);
}

static void test_resumption_bound_to_name(void)
{
    mst_resumption *store = mst_resumption_new(300, NULL, 0, NULL);
    pair p = make_pair((options){.server_name = "localhost", .resumption = store});
    size_t len;
    uint8_t *saved = full_handshake_and_save(&p, &len);
    CHECK(saved != NULL);
    renew_sessions(&p);
    CHECK_CODE(mst_session_resume(p.client, saved, len, "localhost.example"), MST_ERR_SESSION_MISMATCH);
    CHECK_CODE(mst_session_resume(p.client, saved, len, "localhos"), MST_ERR_SESSION_MISMATCH);
    /* The same peer name, but no SNI this time: a TLS 1.3 ticket is refused too. */
    mst_session_set_server_name(p.client, NULL);
    CHECK_CODE(mst_session_resume(p.client, saved, len, "localhost"), MST_ERR_SESSION_MISMATCH);
    CHECK(handshake(&p, 0));
    CHECK(mst_session_reused(p.client) == 0 && mst_session_reused(p.server) == 0);
done:
    free(saved);
    free_pair(&p);
    mst_resumption_unref(store);
}

static void test_resumption_needs_the_ticket_keys(void)
{
    uint8_t keys[MST_TICKET_KEYS_LEN], other[MST_TICKET_KEYS_LEN], got[MST_TICKET_KEYS_LEN];
    memset(keys, 7, sizeof(keys));
    memset(other, 8, sizeof(other));
    mst_resumption *store = mst_resumption_new(300, keys, sizeof(keys), NULL);
    pair p = make_pair((options){.server_name = "localhost", .resumption = store});
    size_t len;
    uint8_t *saved = full_handshake_and_save(&p, &len);
    CHECK(saved != NULL);
    mst_resumption_get_keys(store, got);
    CHECK(memcmp(got, keys, sizeof(keys)) == 0);
    CHECK_CODE(mst_resumption_set_keys(store, other, 47), MST_ERR_BAD_ARGUMENT);
    CHECK_CODE(mst_resumption_set_keys(store, other, sizeof(other)), 0);
    renew_sessions(&p);
    CHECK_CODE(mst_session_resume(p.client, saved, len, "localhost"), 0);
    CHECK(handshake(&p, 0));
    CHECK(mst_session_reused(p.client) == 0 && mst_session_reused(p.server) == 0);
    /* The keys back: the ticket resumes again. */
    CHECK_CODE(mst_resumption_set_keys(store, keys, sizeof(keys)), 0);
    renew_sessions(&p);
    CHECK_CODE(mst_session_resume(p.client, saved, len, "localhost"), 0);
    CHECK(handshake(&p, 0));
    CHECK(mst_session_reused(p.client) == 1 && mst_session_reused(p.server) == 1);
done:
    free(saved);
    free_pair(&p);
    mst_resumption_unref(store);
}

/* Every truncation and a flipped byte at every offset of a saved session: refused or
 * loaded, never read out of bounds (valgrind and ASan runs check that). */
static void test_resumption_malformed_saved_session(void)
{
    mst_resumption *store = mst_resumption_new(300, NULL, 0, NULL);
    pair p = make_pair((options){.server_name = "localhost", .resumption = store});
    size_t len;
    uint8_t *saved = full_handshake_and_save(&p, &len);
    CHECK(saved != NULL);
    for (size_t cut = 0; cut < len; cut++) {
        renew_sessions(&p);
        CHECK(mst_session_resume(p.client, saved, cut, "localhost") != 0);
    }
    for (size_t at = 0; at < len; at += 7) {
        renew_sessions(&p);
        saved[at] ^= 0x5A;
        (void)mst_session_resume(p.client, saved, len, "localhost");
        saved[at] ^= 0x5A;
        mst_session_process(p.client);
    }
done:
    free(saved);
    free_pair(&p);
    mst_resumption_unref(store);
}

/* ---- Finished messages ---- */

/* The client's saved session (malloc'd), or NULL. */
static uint8_t *save(const mst_session *client, size_t *len)
{
    *len = 0;
    if (mst_session_save(client, "localhost", NULL, 0, len) != 0)
        return NULL;
    uint8_t *saved = malloc(*len);
    if (mst_session_save(client, "localhost", saved, *len, len) != 0) {
        free(saved);
        return NULL;
    }
    return saved;
}

static uint8_t *copy_of(const uint8_t *data, size_t len)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);
    if (data != NULL)
        memcpy(copy, data, len);
    return copy;
}

/* Resumes `saved` on fresh sessions; returns what the client reported as reused, or -1. */
static int resume_with(pair *p, const uint8_t *saved, size_t len)
{
    renew_sessions(p);
    if (mst_session_resume(p->client, saved, len, "localhost") != 0 || !handshake(p, 0))
        return -1;
    if (mst_session_reused(p->client) != mst_session_reused(p->server))
        return -1;
    return mst_session_reused(p->client);
}

static bool same_bytes(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    return a != NULL && b != NULL && a_len == b_len && memcmp(a, b, a_len) == 0;
}

/* TLS 1.2: 12 bytes; TLS 1.3: the length of the suite's hash. */
static size_t finished_length(const pair *p)
{
    if (strcmp(mst_session_protocol(p->client), "TLSv1.3") != 0)
        return 12;
    return strstr(mst_session_ciphersuite_name(p->client), "SHA384") != NULL ? 48 : 32;
}

/* Each end's own Finished is the other's peer Finished; the two differ; the length is the
 * version's. Returns false otherwise. */
static bool finished_agree(const pair *p, size_t expected_len)
{
    size_t client_own, client_peer, server_own, server_peer;
    const uint8_t *co = mst_session_own_finished(p->client, &client_own);
    const uint8_t *cp = mst_session_peer_finished(p->client, &client_peer);
    const uint8_t *so = mst_session_own_finished(p->server, &server_own);
    const uint8_t *sp = mst_session_peer_finished(p->server, &server_peer);
    return client_own == expected_len && same_bytes(co, client_own, sp, server_peer) &&
           same_bytes(so, server_own, cp, client_peer) && memcmp(co, so, client_own) != 0;
}

static void test_finished(int version, enum mst_transport transport)
{
    mst_resumption *store = mst_resumption_new(300, NULL, 0, NULL);
    pair p = make_pair((options){.min_version = version, .max_version = version,
                                 .transport = transport, .server_name = "localhost",
                                 .resumption = transport == MST_STREAM ? store : NULL});
    size_t len, saved_len = 0;
    uint8_t *first = NULL, *saved = NULL;
    CHECK(mst_session_own_finished(p.client, &len) == NULL && len == 0);
    CHECK(mst_session_peer_finished(p.server, &len) == NULL && len == 0);
    CHECK(handshake(&p, 0));
    size_t expected = finished_length(&p);
    CHECK(finished_agree(&p, expected));
    if (transport == MST_DATAGRAM)
        goto done;
    const uint8_t *own = mst_session_own_finished(p.client, &len);
    first = copy_of(own, len);
    pump(&p, 0);
    CHECK((saved = save(p.client, &saved_len)) != NULL);
    /* A resumed handshake has Finished messages of its own. */
    CHECK(resume_with(&p, saved, saved_len) == 1);
    CHECK(finished_agree(&p, expected));
    CHECK(memcmp(mst_session_own_finished(p.client, &len), first, expected) != 0);
done:
    free(first);
    free(saved);
    free_pair(&p);
    mst_resumption_unref(store);
}
static void test_tls12_finished(void) { test_finished(MST_TLS1_2, MST_STREAM); }
static void test_tls13_finished(void) { test_finished(MST_TLS1_3, MST_STREAM); }
static void test_dtls12_finished(void) { test_finished(MST_TLS1_2, MST_DATAGRAM); }

static void test_finished_with_client_certificate(int version)
{
    pair p = make_pair((options){.min_version = version, .max_version = version,
                                 .client_chain = "client-chain.pem", .client_key = "client.key",
                                 .server_verify = MST_VERIFY_REQUIRED});
    CHECK(handshake(&p, 0));
    CHECK(finished_agree(&p, finished_length(&p)));
done:
    free_pair(&p);
}
static void test_tls12_finished_mutual(void) { test_finished_with_client_certificate(MST_TLS1_2); }
static void test_tls13_finished_mutual(void) { test_finished_with_client_certificate(MST_TLS1_3); }

/* ---- TLS 1.3 tickets, one session each ---- */

/* The handshake alone: the client is done once its Finished is queued, before the server
 * has read it and sent tickets. */
static bool handshake_before_tickets(pair *p)
{
    mst_session_process(p->client);
    for (int round = 0; round < 10 && (mst_session_state(p->client) & MST_STATE_HANDSHAKING); round++) {
        transfer(p->client, p->server, 0, false);
        transfer(p->server, p->client, 0, false);
    }
    return !(mst_session_state(p->client) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED));
}

static void test_tls13_two_tickets_one_session_each(void)
{
    mst_resumption *store = mst_resumption_new(300, NULL, 0, NULL);
    pair p = make_pair((options){.min_version = MST_TLS1_3, .max_version = MST_TLS1_3,
                                 .server_name = "localhost", .resumption = store});
    uint8_t *before = NULL, *first = NULL, *second = NULL, *ticket1 = NULL;
    size_t before_len, first_len, second_len, ticket1_len, len;
    const uint8_t *ticket;

    CHECK(handshake_before_tickets(&p));
    CHECK(mst_session_ticket(p.client, &len) == NULL);
    /* As node: a session before any ticket, which resumes nothing. */
    CHECK((before = save(p.client, &before_len)) != NULL);
    CHECK(mst_session_next_ticket(p.client) == 0);

    /* Both tickets arrive in one feed; each is reported in turn. */
    pump(&p, 0);
    CHECK(mst_session_take_events(p.client) & MST_EVENT_NEW_SESSION_TICKET);
    CHECK(mst_session_next_ticket(p.client) == 1);
    CHECK((ticket = mst_session_ticket(p.client, &ticket1_len)) != NULL && ticket1_len > 0);
    ticket1 = copy_of(ticket, ticket1_len);
    CHECK((first = save(p.client, &first_len)) != NULL);
    CHECK(mst_session_next_ticket(p.client) == 1);
    CHECK((ticket = mst_session_ticket(p.client, &len)) != NULL);
    CHECK(len != ticket1_len || memcmp(ticket, ticket1, len) != 0);
    CHECK((second = save(p.client, &second_len)) != NULL);
    CHECK(first_len != second_len || memcmp(first, second, first_len) != 0);
    CHECK(mst_session_next_ticket(p.client) == 0);
    /* None reported: the latest, which the connection holds. */
    const uint8_t *latest = mst_session_ticket(p.client, &len);
    CHECK(latest != NULL && latest != ticket);
    CHECK(mst_session_ticket(p.server, &len) == NULL);

    CHECK(resume_with(&p, before, before_len) == 0);
    CHECK(resume_with(&p, second, second_len) == 1);
    CHECK(resume_with(&p, first, first_len) == 1);
    /* The resumed client holds the ticket it offered, and the server sends no new one. */
    CHECK((ticket = mst_session_ticket(p.client, &len)) != NULL);
    CHECK(len == ticket1_len && memcmp(ticket, ticket1, len) == 0);
    CHECK(send_and_check(&p, false, 100, 0));
    pump(&p, 0);
    CHECK(!(mst_session_take_events(p.client) & MST_EVENT_NEW_SESSION_TICKET));
    CHECK(mst_session_next_ticket(p.client) == 0);
done:
    free(before);
    free(first);
    free(second);
    free(ticket1);
    free_pair(&p);
    mst_resumption_unref(store);
}

/* Tickets waiting when the session is freed are freed with it (valgrind checks). */
static void test_tls13_tickets_freed_unreported(void)
{
    mst_resumption *store = mst_resumption_new(300, NULL, 0, NULL);
    pair p = make_pair((options){.min_version = MST_TLS1_3, .max_version = MST_TLS1_3,
                                 .server_name = "localhost", .resumption = store});
    CHECK(handshake(&p, 0));
    pump(&p, 0);
    CHECK(mst_session_take_events(p.client) & MST_EVENT_NEW_SESSION_TICKET);
    CHECK(mst_session_next_ticket(p.client) == 1);
done:
    free_pair(&p);
    mst_resumption_unref(store);
}

/* ---- Session IDs kept by the embedder (servers) ---- */

/* As a client that takes no tickets (OpenSSL's with -no_ticket, node's with SSL_OP_NO_TICKET):
 * a TLS 1.2 server then gives it a session ID. */
static void take_no_tickets(pair *p)
{
    mbedtls_ssl_conf_session_tickets(&p->client_config->ssl, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
}

/* A copy of a byte window (malloc'd), or NULL. */
static uint8_t *copy_window(const uint8_t *data, size_t len)
{
    if (data == NULL)
        return NULL;
    uint8_t *copy = malloc(len);
    memcpy(copy, data, len);
    return copy;
}

/* Runs a TLS 1.2 handshake whose server keeps session IDs in the embedder's store: the
 * server's held hello is answered with `stored` (NULL: none found), and a new session is
 * "stored" into *made (malloc'd; its ID into made_id). Returns false on a failed handshake. */
static bool store_handshake(pair *p, const uint8_t *stored, size_t stored_len,
                            uint8_t **made, size_t *made_len, uint8_t made_id[32],
                            uint8_t offered_id[32], size_t *offered_len)
{
    *made = NULL;
    *made_len = 0;
    *offered_len = 0;
    if (mst_session_use_session_store(p->server) != 0)
        return false;
    mst_session_process(p->client);
    pump(p, 0);
    if (!(mst_session_take_events(p->server) & MST_EVENT_CLIENT_HELLO))
        return false;
    size_t len;
    const uint8_t *id = mst_session_hello_session_id(p->server, &len);
    if (id != NULL) {
        memcpy(offered_id, id, len);
        *offered_len = len;
        if (stored != NULL && mst_session_set_stored_session(p->server, stored, stored_len) != 0)
            return false;
    }
    if (mst_session_continue_hello(p->server, NULL) != 0)
        return false;
    mst_session_process(p->server);
    pump(p, 0);
    if (mst_session_take_events(p->server) & MST_EVENT_NEW_SESSION) {
        /* The server's Finished waits: the client is not done. */
        if (!(mst_session_state(p->client) & MST_STATE_HANDSHAKING))
            return false;
        const uint8_t *new_id = mst_session_new_session_id(p->server, &len);
        if (new_id == NULL || len != 32)
            return false;
        memcpy(made_id, new_id, 32);
        const uint8_t *data = mst_session_new_session_data(p->server, made_len);
        *made = copy_window(data, *made_len);
        if (*made == NULL || mst_session_new_session_stored(p->server) != 0 ||
            mst_session_new_session_id(p->server, &len) != NULL)
            return false;
        mst_session_process(p->server);
        pump(p, 0);
    }
    return !(mst_session_state(p->client) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED)) &&
           !(mst_session_state(p->server) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED));
}

static void test_tls12_session_store(void)
{
    mst_resumption *resumption = mst_resumption_new(300, NULL, 0, NULL);
    pair p = make_pair((options){.max_version = MST_TLS1_2, .server_name = "localhost",
                                 .resumption = resumption});
    take_no_tickets(&p);
    uint8_t *made = NULL, *again = NULL, *saved = NULL;
    size_t made_len, again_len, offered_len, saved_len;
    uint8_t made_id[32], again_id[32], offered[32];
    CHECK(store_handshake(&p, NULL, 0, &made, &made_len, made_id, offered, &offered_len));
    CHECK(made != NULL && offered_len == 0);
    CHECK(mst_session_reused(p.server) == 0);
    CHECK((saved = save(p.client, &saved_len)) != NULL);

    /* The client offers the ID; the store's session resumes it. */
    renew_sessions(&p);
    CHECK_CODE(mst_session_resume(p.client, saved, saved_len, "localhost"), 0);
    CHECK(store_handshake(&p, made, made_len, &again, &again_len, again_id, offered, &offered_len));
    CHECK(offered_len == 32 && memcmp(offered, made_id, 32) == 0);
    CHECK(again == NULL); /* no new session after a resumed handshake */
    CHECK(mst_session_reused(p.client) == 1 && mst_session_reused(p.server) == 1);
    CHECK(send_and_check(&p, true, 1000, 0));
    CHECK(send_and_check(&p, false, 1000, 0));

    /* Nothing found: a full handshake, and a new session to store. */
    renew_sessions(&p);
    CHECK_CODE(mst_session_resume(p.client, saved, saved_len, "localhost"), 0);
    CHECK(store_handshake(&p, NULL, 0, &again, &again_len, again_id, offered, &offered_len));
    CHECK(offered_len == 32 && again != NULL && memcmp(again_id, made_id, 32) != 0);
    CHECK(mst_session_reused(p.client) == 0 && mst_session_reused(p.server) == 0);

    /* The session of another ID, or bytes that are no session: a full handshake. */
    const uint8_t garbage[] = "not a session";
    const uint8_t *wrong[] = {again, garbage};
    size_t wrong_len[] = {again_len, sizeof(garbage)};
    for (int i = 0; i < 2; i++) {
        uint8_t *other = NULL;
        size_t other_len;
        uint8_t other_id[32];
        renew_sessions(&p);
        CHECK_CODE(mst_session_resume(p.client, saved, saved_len, "localhost"), 0);
        bool ok = store_handshake(&p, wrong[i], wrong_len[i], &other, &other_len, other_id, offered,
                                  &offered_len);
        free(other);
        CHECK(ok && mst_session_reused(p.server) == 0 && mst_session_reused(p.client) == 0);
    }
done:
    free(made);
    free(again);
    free(saved);
    free_pair(&p);
    mst_resumption_unref(resumption);
}

/* The config's own cache is not used by a session that uses the store, and still serves
 * the others. */
static void test_tls12_session_store_bypasses_cache(void)
{
    mst_resumption *resumption = mst_resumption_new(300, NULL, 0, NULL);
    pair p = make_pair((options){.max_version = MST_TLS1_2, .server_name = "localhost",
                                 .resumption = resumption});
    take_no_tickets(&p);
    uint8_t *made = NULL, *saved = NULL;
    size_t made_len, offered_len, saved_len;
    uint8_t made_id[32], offered[32];
    /* Made in the cache; offered to a session with the store, which finds nothing. */
    CHECK(handshake(&p, 0));
    CHECK((saved = save(p.client, &saved_len)) != NULL);
    renew_sessions(&p);
    CHECK_CODE(mst_session_resume(p.client, saved, saved_len, "localhost"), 0);
    CHECK(store_handshake(&p, NULL, 0, &made, &made_len, made_id, offered, &offered_len));
    CHECK(offered_len == 32 && made != NULL && mst_session_reused(p.server) == 0);
    /* Without the store the cache resumes it. */
    renew_sessions(&p);
    CHECK_CODE(mst_session_resume(p.client, saved, saved_len, "localhost"), 0);
    CHECK(handshake(&p, 0));
    CHECK(mst_session_reused(p.client) == 1 && mst_session_reused(p.server) == 1);
done:
    free(made);
    free(saved);
    free_pair(&p);
    mst_resumption_unref(resumption);
}

/* A TLS 1.3 ClientHello's legacy session ID is not asked about, and TLS 1.3 makes no
 * session ID to store; a ticket offered in TLS 1.2 is not either. */
static void test_session_store_leaves_tickets_alone(int version)
{
    mst_resumption *resumption = mst_resumption_new(300, NULL, 0, NULL);
    pair p = make_pair((options){.min_version = version, .max_version = version,
                                 .server_name = "localhost", .resumption = resumption});
    uint8_t *made = NULL, *saved = NULL;
    size_t made_len, offered_len, saved_len;
    uint8_t made_id[32], offered[32];
    CHECK(store_handshake(&p, NULL, 0, &made, &made_len, made_id, offered, &offered_len));
    CHECK(made == NULL && offered_len == 0);
    pump(&p, 0);
    CHECK((saved = save(p.client, &saved_len)) != NULL);
    renew_sessions(&p);
    CHECK_CODE(mst_session_resume(p.client, saved, saved_len, "localhost"), 0);
    CHECK(store_handshake(&p, NULL, 0, &made, &made_len, made_id, offered, &offered_len));
    CHECK(made == NULL && offered_len == 0);
    CHECK(mst_session_reused(p.client) == 1 && mst_session_reused(p.server) == 1);
done:
    free(made);
    free(saved);
    free_pair(&p);
    mst_resumption_unref(resumption);
}
static void test_tls12_session_store_leaves_tickets_alone(void) { test_session_store_leaves_tickets_alone(MST_TLS1_2); }
static void test_tls13_session_store_leaves_tickets_alone(void) { test_session_store_leaves_tickets_alone(MST_TLS1_3); }

/* Sessions freed while the store is asked (a found session given, a new one waiting) free
 * what they hold; misuse is refused. */
static void test_session_store_free_while_asked(void)
{
    mst_resumption *resumption = mst_resumption_new(300, NULL, 0, NULL);
    pair p = make_pair((options){.max_version = MST_TLS1_2, .server_name = "localhost",
                                 .resumption = resumption});
    take_no_tickets(&p);
    uint8_t *saved = NULL, *made = NULL;
    size_t len, saved_len, made_len = 0;
    CHECK(mst_session_use_session_store(p.client) == MST_ERR_BAD_ARGUMENT);
    CHECK(mst_session_new_session_stored(p.server) == MST_ERR_BAD_ARGUMENT);
    CHECK_CODE(mst_session_use_session_store(p.server), 0);
    mst_session_process(p.client);
    pump(&p, 0);
    CHECK(mst_session_hello_session_id(p.server, &len) == NULL && len == 0);
    CHECK(mst_session_set_stored_session(p.server, (const uint8_t *)"x", 1) == MST_ERR_BAD_ARGUMENT);
    CHECK_CODE(mst_session_continue_hello(p.server, NULL), 0);
    mst_session_process(p.server);
    pump(&p, 0);
    CHECK(mst_session_take_events(p.server) & MST_EVENT_NEW_SESSION);
    const uint8_t *data = mst_session_new_session_data(p.server, &made_len);
    made = copy_window(data, made_len);
    CHECK(made != NULL);
    CHECK(mst_session_new_session_stored(p.server) == 0);
    mst_session_process(p.server);
    pump(&p, 0);
    CHECK((saved = save(p.client, &saved_len)) != NULL);
    renew_sessions(&p); /* frees the sessions */

    /* Freed with a new session waiting to be stored. */
    CHECK_CODE(mst_session_use_session_store(p.server), 0);
    CHECK(handshake(&p, 0) == false);
    CHECK_CODE(mst_session_continue_hello(p.server, NULL), 0);
    mst_session_process(p.server);
    pump(&p, 0);
    CHECK(mst_session_new_session_data(p.server, &len) != NULL);
    renew_sessions(&p);

    /* Freed with a found session given, before it was used. */
    CHECK_CODE(mst_session_resume(p.client, saved, saved_len, "localhost"), 0);
    CHECK_CODE(mst_session_use_session_store(p.server), 0);
    mst_session_process(p.client);
    pump(&p, 0);
    CHECK(mst_session_hello_session_id(p.server, &len) != NULL && len == 32);
    CHECK_CODE(mst_session_set_stored_session(p.server, made, made_len), 0);
    CHECK_CODE(mst_session_set_stored_session(p.server, made, made_len), 0); /* replaced */
done:
    free(saved);
    free(made);
    free_pair(&p);
    mst_resumption_unref(resumption);
}

/* ---- Holding the ClientHello ---- */

static void test_hold_client_hello(int version, bool switch_config)
{
    pair p = make_pair((options){.min_version = version, .max_version = version, .server_name = "sni.test"});
    mst_config *rsa = mst_config_new(MST_SERVER, MST_STREAM, NULL);
    add_file(rsa, "server-rsa-chain.pem", "server-rsa.key");
    mst_config_set_versions(rsa, version, version, NULL);
    const char *protocols[] = {"h2", "http/1.1"};
    mst_session_free(p.client);
    mst_config_unref(p.client_config);
    p.client_config = mst_config_new(MST_CLIENT, MST_STREAM, NULL);
    trust(p.client_config, "ca.pem");
    mst_config_set_versions(p.client_config, version, version, NULL);
    CHECK(mst_config_set_alpn(p.client_config, protocols, 2, NULL) == 0);
    p.client = mst_session_new(p.client_config, NULL);
    mst_session_set_server_name(p.client, "sni.test");
    CHECK_CODE(mst_session_hold_client_hello(p.server), 0);
    mst_session_process(p.client);
    pump(&p, 7); /* the hello in small pieces */
    CHECK(mst_session_take_events(p.server) & MST_EVENT_CLIENT_HELLO);
    CHECK(mst_session_state(p.server) & MST_STATE_HANDSHAKING);
    CHECK(mst_session_server_name(p.server) != NULL && strcmp(mst_session_server_name(p.server), "sni.test") == 0);
    CHECK(mst_session_hello_alpn(p.server, 0) != NULL && strcmp(mst_session_hello_alpn(p.server, 0), "h2") == 0);
    CHECK(mst_session_hello_alpn(p.server, 1) != NULL && strcmp(mst_session_hello_alpn(p.server, 1), "http/1.1") == 0);
    CHECK(mst_session_hello_alpn(p.server, 2) == NULL);
    CHECK_CODE(mst_session_continue_hello(p.server, switch_config ? rsa : NULL), 0);
    mst_session_process(p.server);
    pump(&p, 0);
    CHECK(!(mst_session_state(p.client) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED)));
    CHECK(!(mst_session_state(p.server) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED)));
    size_t len;
    const uint8_t *own = mst_session_own_certificate(p.server, &len);
    const uint8_t *peer = mst_session_peer_certificate(p.client, 0, &len);
    CHECK(own != NULL && peer != NULL && memcmp(own, peer, len) == 0);
    CHECK(send_and_check(&p, true, 5000, 0));
    CHECK(send_and_check(&p, false, 5000, 0));
done:
    mst_config_unref(rsa);
    free_pair(&p);
}
static void test_tls12_hold_hello(void) { test_hold_client_hello(MST_TLS1_2, false); }
static void test_tls13_hold_hello(void) { test_hold_client_hello(MST_TLS1_3, false); }
static void test_tls12_hold_hello_switch_config(void) { test_hold_client_hello(MST_TLS1_2, true); }
static void test_tls13_hold_hello_switch_config(void) { test_hold_client_hello(MST_TLS1_3, true); }

static void test_refuse_held_hello(void)
{
    pair p = make_pair((options){0});
    CHECK_CODE(mst_session_hold_client_hello(p.server), 0);
    mst_session_process(p.client);
    pump(&p, 0);
    CHECK(mst_session_take_events(p.server) & MST_EVENT_CLIENT_HELLO);
    mst_session_refuse(p.server, MBEDTLS_SSL_ALERT_MSG_NO_APPLICATION_PROTOCOL);
    CHECK_CODE(error_code(p.server), MST_ERR_REFUSED);
    pump(&p, 0);
    CHECK_CODE(error_code(p.client), MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE);
    CHECK(mst_session_peer_alert(p.client) == MBEDTLS_SSL_ALERT_MSG_NO_APPLICATION_PROTOCOL);
done:
    free_pair(&p);
}

/* ---- Pre-shared keys ---- */

/* A PSK client and a certificate-less server that asks for the key: pumps, answering the
 * server's question with `answer` (NULL: unknown identity). */
static void test_psk(int version, const uint8_t *answer)
{
    static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static const int tls12_psk[] = {0x00A8 /* TLS_PSK_WITH_AES_128_GCM_SHA256 */};
    mst_config *client = mst_config_new(MST_CLIENT, MST_STREAM, NULL);
    mst_config *server = mst_config_new(MST_SERVER, MST_STREAM, NULL);
    pair p = {.client_config = client, .server_config = server};
    mst_config_set_versions(client, version, version, NULL);
    mst_config_set_versions(server, version, version, NULL);
    if (version == MST_TLS1_2) {
        mst_config_set_ciphersuites(client, tls12_psk, 1, NULL);
        mst_config_set_ciphersuites(server, tls12_psk, 1, NULL);
    }
    CHECK_CODE(mst_config_set_psk(client, key, sizeof(key), (const uint8_t *)"dev-1", 5, NULL), 0);
    CHECK_CODE(mst_config_set_psk(server, key, sizeof(key), (const uint8_t *)"dev-1", 5, NULL),
               MST_ERR_BAD_ARGUMENT);
    CHECK_CODE(mst_config_ask_psk(server, NULL), 0);
    p.client = mst_session_new(client, NULL);
    p.server = mst_session_new(server, NULL);
    CHECK_CODE(mst_session_hold_client_hello(p.server), 0);
    mst_session_process(p.client);
    int asked = 0;
    for (int round = 0; round < 20; round++) {
        pump(&p, 0);
        unsigned events = mst_session_take_events(p.server);
        size_t len;
        const uint8_t *identity = mst_session_psk_identity(p.server, &len);
        if (events & MST_EVENT_PSK_IDENTITY) {
            CHECK(identity != NULL && len == 5 && memcmp(identity, "dev-1", 5) == 0);
            CHECK_CODE(mst_session_set_psk(p.server, answer, answer ? sizeof(key) : 0), 0);
            asked++;
        }
        if (events & MST_EVENT_CLIENT_HELLO)
            CHECK_CODE(mst_session_continue_hello(p.server, NULL), 0);
        if (events & (MST_EVENT_PSK_IDENTITY | MST_EVENT_CLIENT_HELLO))
            mst_session_process(p.server);
    }
    CHECK(asked == 1);
    if (answer != NULL) {
        CHECK(!(mst_session_state(p.client) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED)));
        CHECK(!(mst_session_state(p.server) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED)));
        size_t len;
        CHECK(mst_session_peer_certificate(p.client, 0, &len) == NULL);
        CHECK(send_and_check(&p, true, 3000, 0));
        CHECK(send_and_check(&p, false, 3000, 0));
    } else {
        CHECK(mst_session_state(p.server) & MST_STATE_FAILED);
        CHECK(mst_session_state(p.client) & MST_STATE_FAILED);
    }
done:
    free_pair(&p);
}
static const uint8_t right_key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t wrong_key[16] = {9};
static void test_tls12_psk(void) { test_psk(MST_TLS1_2, right_key); }
static void test_tls13_psk(void) { test_psk(MST_TLS1_3, right_key); }
static void test_tls12_psk_unknown_identity(void) { test_psk(MST_TLS1_2, NULL); }
static void test_tls13_psk_unknown_identity(void) { test_psk(MST_TLS1_3, NULL); }
static void test_tls12_psk_wrong_key(void)
{
    /* The server answers with another key: the Finished messages cannot agree. */
    static const int tls12_psk[] = {0x00A8};
    static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    mst_config *client = mst_config_new(MST_CLIENT, MST_STREAM, NULL);
    mst_config *server = mst_config_new(MST_SERVER, MST_STREAM, NULL);
    pair p = {.client_config = client, .server_config = server};
    mst_config_set_versions(client, MST_TLS1_2, MST_TLS1_2, NULL);
    mst_config_set_ciphersuites(client, tls12_psk, 1, NULL);
    mst_config_set_ciphersuites(server, tls12_psk, 1, NULL);
    mst_config_set_psk(client, key, sizeof(key), (const uint8_t *)"dev-1", 5, NULL);
    mst_config_ask_psk(server, NULL);
    p.client = mst_session_new(client, NULL);
    p.server = mst_session_new(server, NULL);
    mst_session_process(p.client);
    for (int round = 0; round < 10; round++) {
        pump(&p, 0);
        if (mst_session_take_events(p.server) & MST_EVENT_PSK_IDENTITY) {
            mst_session_set_psk(p.server, wrong_key, sizeof(wrong_key));
            mst_session_process(p.server);
        }
    }
    CHECK(mst_session_state(p.server) & MST_STATE_FAILED);
    CHECK(mst_session_state(p.client) & MST_STATE_FAILED);
done:
    free_pair(&p);
}

/* A TLS 1.2 PSK client that asks for its key once it has the server's identity hint, with a
 * server sending `hint` (NULL: none) on `suite`. `refuse`: the client ends the session when
 * asked. `static_key`: the client also holds a PSK of its config (what it offers in TLS 1.3),
 * and is asked all the same. */
static void test_psk_hint(int suite, const char *hint, bool refuse, bool static_key)
{
    static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    int suites[] = {suite};
    mst_config *client = mst_config_new(MST_CLIENT, MST_STREAM, NULL);
    mst_config *server = mst_config_new(MST_SERVER, MST_STREAM, NULL);
    pair p = {.client_config = client, .server_config = server};
    mst_config_set_versions(client, MST_TLS1_2, static_key ? MST_TLS1_3 : MST_TLS1_2, NULL);
    mst_config_set_versions(server, MST_TLS1_2, MST_TLS1_2, NULL);
    mst_config_set_ciphersuites(client, suites, 1, NULL);
    mst_config_set_ciphersuites(server, suites, 1, NULL);
    if (static_key)
        CHECK_CODE(mst_config_set_psk(client, wrong_key, sizeof(wrong_key), (const uint8_t *)"old", 3, NULL), 0);
    CHECK_CODE(mst_config_ask_psk(client, NULL), 0);
    CHECK_CODE(mst_config_ask_psk(server, NULL), 0);
    CHECK_CODE(mst_config_set_psk_hint(client, (const uint8_t *)"x", 1, NULL), MST_ERR_BAD_ARGUMENT);
    if (hint != NULL)
        CHECK_CODE(mst_config_set_psk_hint(server, (const uint8_t *)hint, strlen(hint), NULL), 0);
    p.client = mst_session_new(client, NULL);
    p.server = mst_session_new(server, NULL);
    CHECK_CODE(mst_session_set_client_psk(p.client, key, sizeof(key), (const uint8_t *)"dev-1", 5),
               MST_ERR_BAD_ARGUMENT); /* nothing asked yet */
    mst_session_process(p.client);
    int client_asked = 0, server_asked = 0;
    for (int round = 0; round < 20; round++) {
        pump(&p, 0);
        if (mst_session_take_events(p.client) & MST_EVENT_PSK_HINT) {
            size_t len;
            int waiting = 0;
            const uint8_t *received = mst_session_psk_hint(p.client, &len, &waiting);
            CHECK(waiting == 1);
            if (hint == NULL)
                CHECK(received == NULL && len == 0);
            else
                CHECK(received != NULL && len == strlen(hint) && memcmp(received, hint, len) == 0);
            if (refuse) {
                CHECK_CODE(mst_session_refuse(p.client, 40 /* handshake_failure */), 0);
            } else {
                CHECK_CODE(mst_session_set_client_psk(p.client, key, sizeof(key), (const uint8_t *)"dev-1", 5), 0);
                CHECK_CODE(mst_session_process(p.client), 0);
            }
            client_asked++;
        }
        if (mst_session_take_events(p.server) & MST_EVENT_PSK_IDENTITY) {
            size_t len;
            const uint8_t *identity = mst_session_psk_identity(p.server, &len);
            CHECK(identity != NULL && len == 5 && memcmp(identity, "dev-1", 5) == 0);
            CHECK_CODE(mst_session_set_psk(p.server, key, sizeof(key)), 0);
            mst_session_process(p.server);
            server_asked++;
        }
    }
    CHECK(client_asked == 1);
    if (refuse) {
        CHECK(server_asked == 0);
        CHECK(mst_session_state(p.client) & MST_STATE_FAILED);
        CHECK(mst_session_state(p.server) & MST_STATE_FAILED);
        CHECK(mst_session_peer_alert(p.server) == 40);
    } else {
        CHECK(server_asked == 1);
        CHECK(!(mst_session_state(p.client) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED)));
        CHECK(!(mst_session_state(p.server) & (MST_STATE_HANDSHAKING | MST_STATE_FAILED)));
        CHECK(mst_session_ciphersuite_id(p.client) == suite);
        CHECK(send_and_check(&p, true, 3000, 0));
        CHECK(send_and_check(&p, false, 3000, 0));
    }
done:
    free_pair(&p);
}
#define PSK_AES128_GCM 0x00A8
#define ECDHE_PSK_CHACHA20 0xCCAC
static void test_tls12_psk_hint(void) { test_psk_hint(PSK_AES128_GCM, "hint-17", false, false); }
static void test_tls12_psk_no_hint(void) { test_psk_hint(PSK_AES128_GCM, NULL, false, false); }
static void test_tls12_ecdhe_psk_hint(void) { test_psk_hint(ECDHE_PSK_CHACHA20, "hint-17", false, false); }
static void test_tls12_ecdhe_psk_no_hint(void) { test_psk_hint(ECDHE_PSK_CHACHA20, NULL, false, false); }
static void test_tls12_psk_hint_refused(void) { test_psk_hint(PSK_AES128_GCM, "hint-17", true, false); }
static void test_tls12_psk_hint_asked_despite_config_key(void) { test_psk_hint(PSK_AES128_GCM, "hint-17", false, true); }

static void test_psk_ask_bad_arguments(void)
{
    mst_config *dtls_client = mst_config_new(MST_CLIENT, MST_DATAGRAM, NULL);
    mst_config *server = mst_config_new(MST_SERVER, MST_STREAM, NULL);
    static uint8_t long_hint[MST_PSK_HINT_MAX + 1];
    CHECK_CODE(mst_config_ask_psk(NULL, NULL), MST_ERR_BAD_ARGUMENT);
    /* DTLS clients ask too (see dtls_psk_asked_both_sides). */
    CHECK_CODE(mst_config_ask_psk(dtls_client, NULL), 0);
    CHECK_CODE(mst_config_set_psk_hint(server, long_hint, sizeof(long_hint), NULL), MST_ERR_BAD_ARGUMENT);
    CHECK_CODE(mst_config_set_psk_hint(server, NULL, 1, NULL), MST_ERR_BAD_ARGUMENT);
    CHECK_CODE(mst_config_set_psk_hint(server, long_hint, MST_PSK_HINT_MAX, NULL), 0);
    CHECK_CODE(mst_config_set_psk_hint(server, NULL, 0, NULL), 0);
done:
    mst_config_unref(dtls_client);
    mst_config_unref(server);
}

/* ---- Key log ---- */

/* Takes the key log lines of a session as "LABEL secret" strings, in order; returns the count. */
static size_t take_keylog(mst_session *s, char lines[][160], size_t cap)
{
    size_t len, count = 0;
    const uint8_t *data = mst_session_peek_keylog(s, &len);
    for (size_t at = 0; data != NULL && at < len && count < cap;) {
        const uint8_t *end = memchr(data + at, '\n', len - at);
        if (end == NULL)
            break;
        size_t line_len = (size_t)(end - (data + at));
        const uint8_t *label_end = memchr(data + at, ' ', line_len);
        if (label_end == NULL || line_len - (size_t)(label_end - (data + at)) < 66)
            break;
        /* label, then the secret after the 64 hex digits of the client random */
        size_t label_len = (size_t)(label_end - (data + at));
        size_t secret_len = line_len - label_len - 66;
        if (label_len + 1 + secret_len >= 160)
            break;
        memcpy(lines[count], data + at, label_len);
        lines[count][label_len] = ' ';
        memcpy(lines[count] + label_len + 1, label_end + 66, secret_len);
        lines[count][label_len + 1 + secret_len] = '\0';
        count++;
        at += line_len + 1;
    }
    mst_session_consume_keylog(s, len);
    return count;
}

static void test_tls13_keylog_has_exporter_secret(void)
{
    static const char *labels[] = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                                   "EXPORTER_SECRET", "CLIENT_TRAFFIC_SECRET_0",
                                   "SERVER_TRAFFIC_SECRET_0"};
    char client_lines[8][160], server_lines[8][160];
    pair p = make_pair((options){.min_version = MST_TLS1_3, .server_name = "localhost"});
    mst_session_enable_keylog(p.client);
    mst_session_enable_keylog(p.server);
    CHECK(handshake(&p, 0));
    size_t client_count = take_keylog(p.client, client_lines, 8);
    size_t server_count = take_keylog(p.server, server_lines, 8);
    /* Both sides log the same five secrets, in Mbed TLS's order of derivation. */
    CHECK(client_count == 5 && server_count == 5);
    for (size_t i = 0; i < 5; i++) {
        CHECK(strncmp(client_lines[i], labels[i], strlen(labels[i])) == 0);
        CHECK(client_lines[i][strlen(labels[i])] == ' ');
        CHECK(strlen(client_lines[i]) == strlen(labels[i]) + 1 + 64); /* SHA-256 suites */
        CHECK(strcmp(client_lines[i], server_lines[i]) == 0);
    }
done:
    free_pair(&p);
}

/* ---- Certificates: labels, empty trust, what a server serves, the key exchange ---- */

/* `der` wrapped as PEM under `label`; free() the result. */
static char *pem_of(const char *label, const uint8_t *der, size_t len)
{
    char header[64], footer[64];
    snprintf(header, sizeof(header), "-----BEGIN %s-----\n", label);
    snprintf(footer, sizeof(footer), "-----END %s-----\n", label);
    size_t room = len * 2 + 200, written = 0;
    char *out = malloc(room);
    if (mbedtls_pem_write_buffer(header, footer, der, len, (unsigned char *)out, room, &written) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* ca.pem as DER, followed by `aux` (OpenSSL's X509_CERT_AUX of a TRUSTED CERTIFICATE). */
static uint8_t *ca_der_with(const uint8_t *aux, size_t aux_len, size_t *len)
{
    file ca = load("ca.pem");
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    uint8_t *der = NULL;
    ca.data[ca.len] = '\0';
    if (mbedtls_x509_crt_parse(&crt, ca.data, ca.len + 1) == 0) {
        der = malloc(crt.raw.len + aux_len);
        memcpy(der, crt.raw.p, crt.raw.len);
        if (aux_len > 0)
            memcpy(der + crt.raw.len, aux, aux_len);
        *len = crt.raw.len + aux_len;
    }
    mbedtls_x509_crt_free(&crt);
    free(ca.data);
    return der;
}

/* Trust stores read certificates under OpenSSL's three PEM labels, pass over other blocks,
 * and list what they hold. */
static void test_ca_labels(void)
{
    mst_error err;
    mst_trust *trust = NULL;
    char *trusted = NULL, *x509 = NULL, *restricted = NULL, *alias_only = NULL;
    uint8_t *plain = NULL, *with_trust = NULL, *with_alias = NULL;
    size_t plain_len = 0, trust_len = 0, alias_len = 0, len = 0;
    /* X509_CERT_AUX { trust SEQUENCE { serverAuth } } and { alias UTF8String "a" } */
    static const uint8_t trust_aux[] = {0x30, 0x0C, 0x30, 0x0A, 0x06, 0x08, 0x2B, 0x06, 0x01,
                                        0x05, 0x05, 0x07, 0x03, 0x01};
    static const uint8_t alias_aux[] = {0x30, 0x03, 0x0C, 0x01, 'a'};
    plain = ca_der_with(NULL, 0, &plain_len);
    with_trust = ca_der_with(trust_aux, sizeof(trust_aux), &trust_len);
    with_alias = ca_der_with(alias_aux, sizeof(alias_aux), &alias_len);
    CHECK(plain != NULL && with_trust != NULL && with_alias != NULL);
    trusted = pem_of("TRUSTED CERTIFICATE", plain, plain_len);
    x509 = pem_of("X509 CERTIFICATE", plain, plain_len);
    restricted = pem_of("TRUSTED CERTIFICATE", with_trust, trust_len);
    alias_only = pem_of("TRUSTED CERTIFICATE", with_alias, alias_len);
    CHECK(trusted != NULL && x509 != NULL && restricted != NULL && alias_only != NULL);

    trust = mst_trust_new(&err);
    CHECK(trust != NULL);
    CHECK(mst_trust_ca_certificate(trust, 0, &len) == NULL);
    CHECK_CODE(mst_trust_add_ca(trust, (const uint8_t *)trusted, strlen(trusted), 1, NULL, &err), 0);
    CHECK_CODE(mst_trust_add_ca(trust, (const uint8_t *)x509, strlen(x509), 1, NULL, &err), 0);
    CHECK_CODE(mst_trust_add_ca(trust, (const uint8_t *)alias_only, strlen(alias_only), 1, NULL, &err), 0);
    /* Purposes it cannot honour: refused, not trusted for everything. */
    CHECK_CODE(mst_trust_add_ca(trust, (const uint8_t *)restricted, strlen(restricted), 1, NULL, &err),
               MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE);
    /* Text, a key, nothing: no certificate, and nothing added. */
    file key = load("server-ecdsa.key");
    int from_key = mst_trust_add_ca(trust, key.data, key.len, 1, NULL, &err);
    free(key.data);
    CHECK_CODE(from_key, MST_ERR_NO_CERTIFICATE);
    CHECK_CODE(mst_trust_add_ca(trust, (const uint8_t *)"garbage", 7, 1, NULL, &err), MST_ERR_NO_CERTIFICATE);
    CHECK_CODE(mst_trust_add_ca(trust, (const uint8_t *)"", 0, 1, NULL, &err), MST_ERR_NO_CERTIFICATE);
    for (size_t i = 0; i < 3; i++) {
        const uint8_t *der = mst_trust_ca_certificate(trust, i, &len);
        CHECK(der != NULL && len == plain_len && memcmp(der, plain, len) == 0);
    }
    CHECK(mst_trust_ca_certificate(trust, 3, &len) == NULL);

    /* And they verify a server as the usual label does. */
    pair p = make_pair((options){.client_trust = trust});
    bool ok = handshake(&p, 0);
    free_pair(&p);
    CHECK(ok);
done:
    mst_trust_unref(trust);
    free(trusted);
    free(x509);
    free(restricted);
    free(alias_only);
    free(plain);
    free(with_trust);
    free(with_alias);
}

/* A trust store given nothing to trust (node's `ca` that held no certificate) trusts nothing:
 * verification fails as with an unknown CA, not for want of a CA list. */
static void test_empty_trust_trusts_nothing(int version)
{
    mst_error err;
    mst_trust *empty = mst_trust_new(&err);
    pair p = make_pair((options){.min_version = version, .max_version = version, .client_trust = empty});
    CHECK(!handshake(&p, 0));
    CHECK_CODE(error_code(p.client), MBEDTLS_ERR_X509_CERT_VERIFY_FAILED);
    CHECK(mst_session_verify_flags(p.client) & MBEDTLS_X509_BADCERT_NOT_TRUSTED);
    free_pair(&p);
    p = make_pair((options){.min_version = version, .max_version = version, .client_trust = empty,
                            .client_verify = MST_VERIFY_OPTIONAL});
    CHECK(handshake(&p, 0));
    CHECK(mst_session_verify_flags(p.client) & MBEDTLS_X509_BADCERT_NOT_TRUSTED);
done:
    free_pair(&p);
    mst_trust_unref(empty);
}
static void test_tls12_empty_trust(void) { test_empty_trust_trusts_nothing(MST_TLS1_2); }
static void test_tls13_empty_trust(void) { test_empty_trust_trusts_nothing(MST_TLS1_3); }

/* A server serves a certificate whose extended key usage lacks serverAuth, as OpenSSL does;
 * the client judges it. */
static void test_server_certificate_without_server_auth(int version)
{
    pair p = make_pair((options){.min_version = version, .max_version = version,
                                 .server_chain = "verify/client-auth-only.pem",
                                 .server_key = "verify/leaf.key", .client_trusts = "verify/root.pem"});
    CHECK(!handshake(&p, 0));
    /* Mbed TLS's code for a chain refused by the usage checks after path validation */
    CHECK_CODE(error_code(p.client), MBEDTLS_ERR_SSL_BAD_CERTIFICATE);
    CHECK(mst_session_verify_flags(p.client) & MBEDTLS_X509_BADCERT_EXT_KEY_USAGE);
    free_pair(&p);
    p = make_pair((options){.min_version = version, .max_version = version,
                            .server_chain = "verify/client-auth-only.pem",
                            .server_key = "verify/leaf.key", .client_trusts = "verify/root.pem",
                            .client_verify = MST_VERIFY_OPTIONAL});
    CHECK(handshake(&p, 0));
    CHECK(mst_session_verify_flags(p.client) == MBEDTLS_X509_BADCERT_EXT_KEY_USAGE);
done:
    free_pair(&p);
}
static void test_tls12_server_certificate_without_server_auth(void) { test_server_certificate_without_server_auth(MST_TLS1_2); }
static void test_tls13_server_certificate_without_server_auth(void) { test_server_certificate_without_server_auth(MST_TLS1_3); }

/* The client learns the group of the ephemeral key exchange; none for static RSA, a resumed
 * TLS 1.2 session, or on a server. */
static void test_key_exchange_group(void)
{
    mst_resumption *store = NULL;
    uint8_t *saved = NULL;
    pair p = make_pair((options){.max_version = MST_TLS1_3});
    CHECK(mst_session_key_exchange_group(p.client) == 0);
    CHECK(handshake(&p, 0));
    CHECK(mst_session_key_exchange_group(p.client) == 0x001D); /* X25519, offered first */
    CHECK(mst_session_key_exchange_group(p.server) == 0);
    free_pair(&p);

    p = make_pair((options){.min_version = MST_TLS1_2, .max_version = MST_TLS1_2});
    CHECK(handshake(&p, 0));
    CHECK(mst_session_key_exchange_group(p.client) == 0x001D);
    free_pair(&p);

    /* TLS_RSA_WITH_AES_128_GCM_SHA256: static RSA, no ephemeral key. */
    p = make_pair((options){.max_version = MST_TLS1_2, .server_chain = "server-rsa-chain.pem",
                            .server_key = "server-rsa.key", .client_suite = 0x009C});
    CHECK(handshake(&p, 0));
    CHECK(mst_session_ciphersuite_id(p.client) == 0x009C);
    CHECK(mst_session_key_exchange_group(p.client) == 0);
    free_pair(&p);

    store = mst_resumption_new(300, NULL, 0, NULL);
    p = make_pair((options){.min_version = MST_TLS1_2, .max_version = MST_TLS1_2,
                            .server_name = "localhost", .resumption = store});
    size_t len;
    saved = full_handshake_and_save(&p, &len);
    CHECK(saved != NULL);
    renew_sessions(&p);
    CHECK_CODE(mst_session_resume(p.client, saved, len, "localhost"), 0);
    CHECK(handshake(&p, 0));
    CHECK(mst_session_reused(p.client) == 1);
    CHECK(mst_session_key_exchange_group(p.client) == 0);
done:
    free(saved);
    free_pair(&p);
    mst_resumption_unref(store);
}

static const test tests[] = {
    TEST(tls12_ecdsa), TEST(tls13_ecdsa), TEST(tls12_rsa), TEST(tls13_rsa),
    TEST(default_versions_negotiate_tls13),
    TEST(tls12_client_certificate), TEST(tls13_client_certificate),
    TEST(tls12_missing_client_certificate), TEST(tls13_missing_client_certificate),
    TEST(tls12_client_certificate_from_unknown_ca), TEST(tls13_client_certificate_from_unknown_ca),
    TEST(tls12_one_byte), TEST(tls13_one_byte), TEST(tls12_16k), TEST(tls13_16k),
    TEST(tls12_1m_one_batch), TEST(tls13_1m_one_batch),
    TEST(tls12_byte_at_a_time), TEST(tls13_byte_at_a_time),
    TEST(one_feed_many_records),
    TEST(client_close_notify), TEST(server_close_notify),
    TEST(eof_without_close_notify), TEST(eof_during_handshake_is_an_error),
    TEST(tls12_unknown_ca), TEST(tls13_unknown_ca),
    TEST(optional_verification_reports_and_continues),
    TEST(session_verify_overrides_config), TEST(server_name_sent_and_not_checked), TEST(no_server_name_sends_no_sni),
    TEST(alpn),
    TEST(garbage_to_server), TEST(garbage_to_client), TEST(garbage_after_handshake),
    TEST(oversized_record_is_record_overflow), TEST(bad_content_type_is_unexpected_message),
    TEST(write_before_handshake),
    TEST(tls12_free_at_every_stage), TEST(tls13_free_at_every_stage),
    TEST(session_memory_accounting), TEST(tls12_bulk_writes_reuse_memory),
    TEST(tls13_bulk_writes_reuse_memory), TEST(tls12_idle_trim), TEST(tls13_idle_trim),
    TEST(trim_mid_record), TEST(tls12_feed_into), TEST(tls13_feed_into),
    TEST(tls12_feed_in_place), TEST(tls13_feed_in_place),
    TEST(tls12_write_into), TEST(tls13_write_into),
    TEST(config_errors), TEST(lenient_ca_bundle_skips_unparsable),
    TEST(one_config_many_sessions),
    TEST(dtls_hello_cookie_then_session), TEST(dtls_hello_drops_what_is_not_a_client_hello),
    TEST(dtls_handshake_and_data), TEST(dtls_retransmits_on_timer),
    TEST(dtls_cid_both_ways), TEST(dtls_cid_empty_on_client),
    TEST(dtls_no_cid_when_one_side_has_none), TEST(dtls_mtu_fragments_handshake),
    TEST(dtls_mtu_bad_arguments), TEST(dtls_check_record), TEST(dtls_retransmit_bounds),
    TEST(dtls_records_keep_their_bounds), TEST(dtls_export_after_last_flight),
    TEST(dtls_cookies_off), TEST(dtls_psk_asked_both_sides),
    TEST(dtls_held_hello_moves_to_chosen_config), TEST(dtls_held_hello_refused),
    TEST(tls12_resumption), TEST(tls13_resumption), TEST(resumption_bound_to_name),
    TEST(tls12_long_chain), TEST(tls13_long_chain), TEST(long_chain_refused),
    TEST(resumption_needs_the_ticket_keys), TEST(resumption_malformed_saved_session),
    TEST(tls12_finished), TEST(tls13_finished), TEST(dtls12_finished),
    TEST(tls12_finished_mutual), TEST(tls13_finished_mutual),
    TEST(tls13_two_tickets_one_session_each), TEST(tls13_tickets_freed_unreported),
    TEST(tls12_hold_hello), TEST(tls13_hold_hello), TEST(tls12_hold_hello_switch_config),
    TEST(tls13_hold_hello_switch_config), TEST(refuse_held_hello),
    TEST(tls12_session_store), TEST(tls12_session_store_bypasses_cache),
    TEST(tls12_session_store_leaves_tickets_alone), TEST(tls13_session_store_leaves_tickets_alone),
    TEST(session_store_free_while_asked),
    TEST(tls12_psk), TEST(tls13_psk), TEST(tls12_psk_unknown_identity),
    TEST(tls13_psk_unknown_identity), TEST(tls12_psk_wrong_key),
    TEST(tls12_psk_hint), TEST(tls12_psk_no_hint), TEST(tls12_ecdhe_psk_hint),
    TEST(tls12_ecdhe_psk_no_hint), TEST(tls12_psk_hint_refused),
    TEST(tls12_psk_hint_asked_despite_config_key), TEST(psk_ask_bad_arguments),
    TEST(tls13_keylog_has_exporter_secret),
    TEST(debug_level_2_records_state_changes), TEST(debug_level_0_records_nothing),
    TEST(debug_levels_are_per_session), TEST(debug_window_is_capped),
    TEST(tls12_max_fragment_length_binds_every_record), TEST(tls12_no_max_fragment_length_no_cut),
    TEST(max_fragment_length_values),
    TEST(tls12_large_certificate), TEST(tls13_large_certificate),
    TEST(tls12_large_certificate_in_512_byte_records),
    TEST(tls12_large_client_certificate), TEST(tls13_large_client_certificate),
    TEST(large_chain_limits),
    TEST(self_signed_certificate), TEST(self_signed_frees_everything),
    TEST(self_signed_certificate_verifies),
    TEST(self_signed_bad_arguments),
    TEST(ca_labels), TEST(tls12_empty_trust), TEST(tls13_empty_trust),
    TEST(tls12_server_certificate_without_server_auth),
    TEST(tls13_server_certificate_without_server_auth),
    TEST(key_exchange_group),
};

int main(int argc, char **argv)
{
    certs_dir = argc > 1 ? argv[1] : "certs";
    const char *only = argc > 2 ? argv[2] : NULL;
    run_tests(tests, sizeof(tests) / sizeof(tests[0]), only);
    printf("engine: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
