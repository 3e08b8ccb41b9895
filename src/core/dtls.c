/*
 * dtls.c: what DTLS 1.2 adds to the engine's datagram mode (engine.h, "DTLS 1.2"): RFC 9146
 * Connection IDs, the path MTU, the retransmission timer's bounds, cookies on or off, and
 * the authenticity check a server makes before it lets a session follow its peer to a new
 * address. Mbed TLS does the protocol; this file only sets it up and asks it.
 */
#include "internal.h"

#include <mbedtls/platform_util.h>

#include <string.h>

static int fail(mst_error *err, int code)
{
    mst_error_set(err, code);
    return code;
}

/* A DTLS config that no session uses yet, or the error. */
static int check_datagram_config(mst_config *config, mst_error *err)
{
    if (config == NULL || config->transport != MST_DATAGRAM)
        return fail(err, MST_ERR_BAD_ARGUMENT);
    if (atomic_load(&config->frozen))
        return fail(err, MST_ERR_CONFIG_FROZEN);
    return 0;
}

int mst_config_set_dtls_cid(mst_config *config, size_t own_length, mst_error *err)
{
    int ret = check_datagram_config(config, err);
    if (ret != 0)
        return ret;
    if (own_length > MST_DTLS_CID_MAX || own_length > MBEDTLS_SSL_CID_IN_LEN_MAX)
        return fail(err, MST_ERR_BAD_ARGUMENT);
    /* A record with a CID that is not ours is dropped as any other bad datagram, not fatal. */
    ret = mbedtls_ssl_conf_cid(&config->ssl, own_length, MBEDTLS_SSL_UNEXPECTED_CID_IGNORE);
    if (ret != 0)
        return fail(err, ret);
    config->dtls_cid_length = (int)own_length;
    return 0;
}

int mst_config_dtls_cid_length(const mst_config *config)
{
    return config != NULL ? config->dtls_cid_length : -1;
}

int mst_config_set_dtls_retransmit(mst_config *config, uint32_t min_ms, uint32_t max_ms,
                                   mst_error *err)
{
    int ret = check_datagram_config(config, err);
    if (ret != 0)
        return ret;
    if (min_ms == 0 || min_ms > max_ms)
        return fail(err, MST_ERR_BAD_ARGUMENT);
    mbedtls_ssl_conf_handshake_timeout(&config->ssl, min_ms, max_ms);
    return 0;
}

int mst_config_set_dtls_cookies(mst_config *config, bool enabled, mst_error *err)
{
    int ret = check_datagram_config(config, err);
    if (ret != 0)
        return ret;
    if (config->endpoint != MST_SERVER)
        return fail(err, MST_ERR_BAD_ARGUMENT);
    /* The cookie secret stays set up either way; has_cookies is what mst_dtls_check_hello reads. */
    if (enabled)
        mbedtls_ssl_conf_dtls_cookies(&config->ssl, mbedtls_ssl_cookie_write,
                                      mbedtls_ssl_cookie_check, mst_config_cookies(config));
    else
        mbedtls_ssl_conf_dtls_cookies(&config->ssl, NULL, NULL, NULL);
    config->has_cookies = enabled;
    return 0;
}

int mst_config_share_dtls_cookies(mst_config *config, mst_config *from, mst_error *err)
{
    if (from == NULL || from->transport != MST_DATAGRAM || from->endpoint != MST_SERVER)
        return fail(err, MST_ERR_BAD_ARGUMENT);
    if (from->cookies_from != NULL)
        from = from->cookies_from; /* the config that owns the secret */
    if (config == from || (config != NULL && config->cookies_from == from))
        return 0; /* already so, frozen or not */
    int ret = check_datagram_config(config, err);
    if (ret != 0)
        return ret;
    if (config->endpoint != MST_SERVER)
        return fail(err, MST_ERR_BAD_ARGUMENT);
    mst_config_ref(from);
    mst_config_unref(config->cookies_from);
    config->cookies_from = from;
    config->has_cookies = from->has_cookies;
    if (from->has_cookies)
        mbedtls_ssl_conf_dtls_cookies(&config->ssl, mbedtls_ssl_cookie_write,
                                      mbedtls_ssl_cookie_check, &from->cookies);
    else
        mbedtls_ssl_conf_dtls_cookies(&config->ssl, NULL, NULL, NULL);
    return 0;
}

static bool is_datagram_session(mst_session *session)
{
    return session != NULL && mst_session_config(session)->transport == MST_DATAGRAM;
}

int mst_session_set_mtu(mst_session *session, uint16_t mtu)
{
    if (!is_datagram_session(session) || (mtu != 0 && mtu < 64))
        return MST_ERR_BAD_ARGUMENT;
    mbedtls_ssl_set_mtu(mst_session_ssl(session), mtu);
    return 0;
}

int mst_session_use_cid(mst_session *session, const uint8_t *own, size_t own_len)
{
    if (!is_datagram_session(session) || (own == NULL && own_len > 0))
        return MST_ERR_BAD_ARGUMENT;
    int length = mst_session_config(session)->dtls_cid_length;
    if (length < 0 || (size_t)length != own_len)
        return MST_ERR_BAD_ARGUMENT;
    /* An empty CID (a client's usual) still needs a pointer: Mbed TLS copies from it. */
    static const uint8_t empty[1];
    return mbedtls_ssl_set_cid(mst_session_ssl(session), MBEDTLS_SSL_CID_ENABLED,
                               own_len > 0 ? own : empty, own_len);
}

int mst_session_cid(mst_session *session, uint8_t own[MST_DTLS_CID_MAX], size_t *own_len,
                    uint8_t peer[MST_DTLS_CID_MAX], size_t *peer_len)
{
    *own_len = 0;
    *peer_len = 0;
    if (!is_datagram_session(session) || !mst_session_handshake_done(session))
        return 0;
    mbedtls_ssl_context *ssl = mst_session_ssl(session);
    int enabled = MBEDTLS_SSL_CID_DISABLED;
    /* The peer's CID says whether CIDs are in use at all (disabled when both are empty). */
    unsigned char peer_cid[MBEDTLS_SSL_CID_OUT_LEN_MAX];
    int ret = mbedtls_ssl_get_peer_cid(ssl, &enabled, peer_cid, peer_len);
    if (ret != 0)
        return ret;
    if (enabled != MBEDTLS_SSL_CID_ENABLED) {
        *peer_len = 0;
        return 0;
    }
    memcpy(peer, peer_cid, *peer_len);
    unsigned char own_cid[MBEDTLS_SSL_CID_IN_LEN_MAX];
    int own_enabled = MBEDTLS_SSL_CID_DISABLED;
    ret = mbedtls_ssl_get_own_cid(ssl, &own_enabled, own_cid, own_len);
    if (ret != 0)
        return ret;
    if (own_enabled != MBEDTLS_SSL_CID_ENABLED)
        *own_len = 0; /* an empty CID of ours is reported as disabled */
    memcpy(own, own_cid, *own_len);
    return 1;
}

void mst_dtls_carry_from(const mbedtls_ssl_context *ssl, mst_dtls_carried *carried)
{
    carried->mtu = ssl->MBEDTLS_PRIVATE(mtu);
    carried->cid_enabled = ssl->MBEDTLS_PRIVATE(negotiate_cid) == MBEDTLS_SSL_CID_ENABLED;
    carried->own_cid_len = ssl->MBEDTLS_PRIVATE(own_cid_len);
    memcpy(carried->own_cid, ssl->MBEDTLS_PRIVATE(own_cid), carried->own_cid_len);
}

int mst_dtls_carry_to(mbedtls_ssl_context *ssl, const mst_dtls_carried *carried,
                      const uint8_t *transport_id, size_t transport_id_len)
{
    mbedtls_ssl_set_mtu(ssl, carried->mtu);
    int ret = 0;
    if (carried->cid_enabled)
        ret = mbedtls_ssl_set_cid(ssl, MBEDTLS_SSL_CID_ENABLED, carried->own_cid,
                                  carried->own_cid_len);
    if (ret == 0 && transport_id != NULL)
        ret = mbedtls_ssl_set_client_transport_id(ssl, transport_id, transport_id_len);
    return ret;
}

void mst_dtls_answer_sequence(mbedtls_ssl_context *ssl, const uint8_t *queue, size_t len)
{
    /* A client that had our HelloVerifyRequest (sent with its first ClientHello's number)
     * would drop a record numbered below its second ClientHello's as a replay. */
    if (len >= 2 + 13 && (((size_t)queue[0] << 8) | queue[1]) >= 13)
        memcpy(&ssl->MBEDTLS_PRIVATE(cur_out_ctr)[2], queue + 2 + 5, 6);
}

struct record_check {
    uint8_t *copy;
    size_t len;
};

static int check_record(mbedtls_ssl_context *ssl, void *argument)
{
    struct record_check *check = argument;
    return mbedtls_ssl_check_record(ssl, check->copy, check->len);
}

int mst_session_check_record(mst_session *session, const uint8_t *datagram, size_t len)
{
    if (!is_datagram_session(session) || datagram == NULL || len == 0)
        return MST_ERR_BAD_ARGUMENT;
    /* Mbed TLS decrypts in place; the embedder's datagram is fed on unchanged. */
    struct record_check check = {malloc(len), len};
    if (check.copy == NULL)
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    memcpy(check.copy, datagram, len);
    int ret = mst_session_run(session, check_record, &check);
    mbedtls_platform_zeroize(check.copy, len);
    free(check.copy);
    return ret;
}

size_t mst_session_max_payload(mst_session *session)
{
    if (!is_datagram_session(session) || !mst_session_handshake_done(session))
        return 0;
    int max = mbedtls_ssl_get_max_out_record_payload(mst_session_ssl(session));
    return max > 0 ? (size_t)max : 0;
}

int mst_session_write_datagram(mst_session *session, const uint8_t *data, size_t len)
{
    if (!is_datagram_session(session))
        return MST_ERR_BAD_ARGUMENT;
    const mst_error *error = mst_session_error(session);
    if (error != NULL)
        return error->code;
    if (!mst_session_handshake_done(session))
        return MST_ERR_NOT_READY;
    if (len > mst_session_max_payload(session))
        return MST_ERR_MESSAGE_TOO_LARGE;
    return mst_session_write_plaintext(session, data, len);
}
