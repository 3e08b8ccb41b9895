/*
 * dtls_hello.c: the stateless ClientHello check of DTLS servers (dtls_hello.h), and the
 * reassembly of the ClientHello a session holds for its embedder (internal.h,
 * mst_dtls_reassemble_client_hello).
 *
 * Wire layout read here (RFC 6347 sections 4.1 and 4.2.2, 4.2.1 for the reply):
 *
 *   record     type(1) = handshake(22), version(2) = 0xFE.., epoch(2) = 0,
 *              sequence_number(6), length(2)                                   13 bytes
 *   handshake  msg_type(1) = client_hello(1), length(3), message_seq(2),
 *              fragment_offset(3) = 0, fragment_length(3)                      12 bytes
 *   body       client_version(2), random(32), session_id<0..32>, cookie<0..2^8-1>, ...
 *
 * The HelloVerifyRequest answers in kind: the ClientHello's record version, epoch and
 * sequence number (4.2.1: "the server MUST use the record sequence number in the
 * ClientHello as the record sequence number in the HelloVerifyRequest") and its
 * message_seq, server_version DTLS 1.0 (0xFEFF, as 4.2.1 advises for every DTLS version),
 * and a fresh cookie.
 */
#include "dtls_hello.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cookie.h>

#include "internal.h"

#define RECORD_HEADER 13
#define HANDSHAKE_HEADER 12
#define RANDOM_LEN 32
#define MAX_SESSION_ID 32

static size_t get16(const uint8_t *p) { return ((size_t)p[0] << 8) | p[1]; }
static size_t get24(const uint8_t *p) { return ((size_t)p[0] << 16) | ((size_t)p[1] << 8) | p[2]; }
static void put16(uint8_t *p, size_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put24(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
}

/* Writes the HelloVerifyRequest for `hello` (the first RECORD_HEADER + HANDSHAKE_HEADER bytes
 * of the ClientHello's datagram) into reply; returns its length, or 0 when it cannot. */
static size_t write_hello_verify_request(mst_config *config, const uint8_t *hello,
                                         const uint8_t *client_id, size_t id_len,
                                         uint8_t *reply, size_t cap)
{
    const size_t body = RECORD_HEADER + HANDSHAKE_HEADER;
    if (cap < body + 3)
        return 0;
    memcpy(reply, hello, RECORD_HEADER);                      /* type, version, epoch, sequence */
    reply[RECORD_HEADER] = MBEDTLS_SSL_HS_HELLO_VERIFY_REQUEST;
    memcpy(reply + RECORD_HEADER + 4, hello + RECORD_HEADER + 4, 2); /* message_seq */
    put24(reply + RECORD_HEADER + 6, 0);                      /* fragment_offset */
    reply[body] = 0xFE;                                       /* server_version: DTLS 1.0 */
    reply[body + 1] = 0xFF;
    unsigned char *cookie = reply + body + 3, *p = cookie;
    if (mbedtls_ssl_cookie_write(mst_config_cookies(config), &p, reply + cap, client_id, id_len) != 0 ||
        p - cookie > 255)
        return 0;
    size_t cookie_len = (size_t)(p - cookie);
    size_t message = 3 + cookie_len;
    reply[body + 2] = (uint8_t)cookie_len;
    put24(reply + RECORD_HEADER + 1, message);                /* length */
    put24(reply + RECORD_HEADER + 9, message);                /* fragment_length */
    put16(reply + 11, HANDSHAKE_HEADER + message);            /* record length */
    return body + message;
}

enum mst_dtls_hello mst_dtls_check_hello(mst_config *config, const uint8_t *datagram, size_t len,
                                         const uint8_t *client_id, size_t id_len,
                                         uint8_t *reply, size_t cap, size_t *reply_len)
{
    if (reply_len != NULL)
        *reply_len = 0;
    if (config == NULL || datagram == NULL || config->endpoint != MST_SERVER ||
        config->transport != MST_DATAGRAM || (id_len > 0 && client_id == NULL))
        return MST_DTLS_HELLO_DROP;

    /* The record: a handshake record of epoch 0 wholly inside the datagram. */
    if (len < RECORD_HEADER + HANDSHAKE_HEADER || datagram[0] != MBEDTLS_SSL_MSG_HANDSHAKE ||
        datagram[1] != 0xFE || get16(datagram + 3) != 0)
        return MST_DTLS_HELLO_DROP;
    size_t record = get16(datagram + 11);
    if (record < HANDSHAKE_HEADER || record > len - RECORD_HEADER)
        return MST_DTLS_HELLO_DROP;

    /* The handshake header: the first fragment of a ClientHello, inside the record. */
    const uint8_t *hs = datagram + RECORD_HEADER;
    size_t message = get24(hs + 1), fragment = get24(hs + 9);
    if (hs[0] != MBEDTLS_SSL_HS_CLIENT_HELLO || get24(hs + 6) != 0 || fragment > message ||
        fragment > record - HANDSHAKE_HEADER)
        return MST_DTLS_HELLO_DROP;

    /* The body up to the cookie, inside the fragment. */
    const uint8_t *body = hs + HANDSHAKE_HEADER;
    size_t at = 2 + RANDOM_LEN;
    if (body[0] != 0xFE || fragment < at + 1)
        return MST_DTLS_HELLO_DROP;
    size_t session_id = body[at];
    if (session_id > MAX_SESSION_ID || fragment < at + 1 + session_id + 1)
        return MST_DTLS_HELLO_DROP;
    at += 1 + session_id;
    size_t cookie = body[at];
    if (fragment < at + 1 + cookie)
        return MST_DTLS_HELLO_DROP;

    if (!config->has_cookies)
        return MST_DTLS_HELLO_ACCEPT;
    if (cookie > 0 &&
        mbedtls_ssl_cookie_check(mst_config_cookies(config), body + at + 1, cookie, client_id, id_len) == 0)
        return MST_DTLS_HELLO_ACCEPT;

    if (reply == NULL || reply_len == NULL)
        return MST_DTLS_HELLO_DROP;
    size_t n = write_hello_verify_request(config, datagram, client_id, id_len, reply, cap);
    /* Never a reply larger than what came in: no amplification for a spoofed source. */
    if (n == 0 || n > len)
        return MST_DTLS_HELLO_DROP;
    *reply_len = n;
    return MST_DTLS_HELLO_VERIFY;
}

/* ---- The first ClientHello of a session, reassembled for the engine's hold ----
 *
 * A session created for an accepted ClientHello may hold it (mst_session_hold_client_hello)
 * so that the embedder chooses the config by its SNI name and ALPN list. In DTLS the hello
 * may come in fragments, in several datagrams, out of order and duplicated (RFC 6347
 * 4.2.3); here they are put together without consuming anything: the queue stays Mbed TLS's
 * to read once the hello is released. */

/* A bit per byte of the message: which bytes some fragment has given. */
static size_t mark(uint8_t *seen, size_t from, size_t count)
{
    size_t fresh = 0;
    for (size_t i = from; i < from + count; i++) {
        if (!(seen[i / 8] & (1u << (i % 8)))) {
            seen[i / 8] |= (uint8_t)(1u << (i % 8));
            fresh++;
        }
    }
    return fresh;
}

/* The ClientHello body in TLS's layout (DTLS adds a cookie after the session ID: it is taken
 * out) into a fresh buffer; 0, or -1 when out of memory or malformed. */
static int without_cookie(const uint8_t *message, size_t len, uint8_t **body, size_t *body_len)
{
    size_t at = 2 + RANDOM_LEN;
    if (len < at + 1 || len < at + 1 + message[at] + 1)
        return -1;
    at += 1 + message[at];
    size_t cookie = message[at];
    if (len < at + 1 + cookie)
        return -1;
    *body_len = len - 1 - cookie;
    if ((*body = malloc(*body_len > 0 ? *body_len : 1)) == NULL)
        return -1;
    memcpy(*body, message, at);
    memcpy(*body + at, message + at + 1 + cookie, len - at - 1 - cookie);
    return 0;
}

int mst_dtls_reassemble_client_hello(const uint8_t *queue, size_t len, size_t max_message,
                                     uint8_t **body, size_t *body_len)
{
    *body = NULL;
    *body_len = 0;
    uint8_t *message = NULL, *seen = NULL;
    size_t need = 0, have = 0, message_seq = 0;
    bool first_datagram = true;
    int result = 0;
    /* Datagrams: a 2-byte length, then records. */
    for (size_t at = 0; at + 2 <= len && result == 0; first_datagram = false) {
        size_t datagram_len = get16(queue + at);
        const uint8_t *record = queue + at + 2;
        const uint8_t *end = record + (datagram_len < len - at - 2 ? datagram_len : len - at - 2);
        at += 2 + datagram_len;
        for (; end - record >= RECORD_HEADER && result == 0;) {
            size_t record_len = get16(record + 11);
            const uint8_t *fragment = record + RECORD_HEADER;
            if ((size_t)(end - fragment) < record_len)
                break;
            record = fragment + record_len;
            if (fragment[-RECORD_HEADER] != MBEDTLS_SSL_MSG_HANDSHAKE ||
                get16(fragment - RECORD_HEADER + 3) != 0)
                continue; /* not epoch 0 handshake: Mbed TLS's to judge later */
            /* Handshake fragments, one after the other in the record. */
            while ((size_t)(record - fragment) >= HANDSHAKE_HEADER) {
                size_t length = get24(fragment + 1), seq = get16(fragment + 4);
                size_t offset = get24(fragment + 6), count = get24(fragment + 9);
                const uint8_t *data = fragment + HANDSHAKE_HEADER;
                if ((size_t)(record - data) < count)
                    break;
                fragment = data + count;
                if (data[-HANDSHAKE_HEADER] != MBEDTLS_SSL_HS_CLIENT_HELLO)
                    continue;
                if (message == NULL) {
                    if (length == 0 || length > max_message) {
                        result = 2;
                        break;
                    }
                    message = malloc(length);
                    seen = calloc((length + 7) / 8, 1);
                    if (message == NULL || seen == NULL) {
                        result = -1;
                        break;
                    }
                    need = length;
                    message_seq = seq;
                }
                if (seq != message_seq || length != need || offset > need || count > need - offset)
                    continue; /* another hello, or a fragment that does not fit: ignored */
                memcpy(message + offset, data, count);
                have += mark(seen, offset, count);
                if (have == need) {
                    result = without_cookie(message, need, body, body_len) == 0 ? 1 : 2;
                    break;
                }
            }
        }
        /* The session was made for a ClientHello: a first datagram without one is not. */
        if (result == 0 && first_datagram && message == NULL)
            result = 2;
    }
    /* Much more than a hello's worth queued, and still no whole one: let Mbed TLS decide. */
    if (result == 0 && len > 2 * max_message + 2 * RECORD_HEADER)
        result = 2;
    free(message);
    free(seen);
    return result;
}
