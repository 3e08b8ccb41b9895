/*
 * dtls_hello.h: a DTLS 1.2 server's stateless answer to a ClientHello from a client it holds
 * no session for (RFC 6347 section 4.2.1, denial-of-service countermeasures).
 *
 * A server that allocated a session for every ClientHello would let anyone with a spoofed
 * source address make it hold state and send replies to a victim. Here a datagram from an
 * unknown client is classified before anything is allocated:
 *
 *   - not a well-formed first fragment of a ClientHello in epoch 0: MST_DTLS_HELLO_DROP;
 *   - a ClientHello without a cookie, or with one that is not valid for this client
 *     (forged, expired, made for another address): MST_DTLS_HELLO_VERIFY and a
 *     HelloVerifyRequest in `reply`, never longer than the ClientHello;
 *   - a ClientHello with a valid cookie (or any ClientHello when the config has cookies
 *     off): MST_DTLS_HELLO_ACCEPT. The embedder then creates a session, gives it the same
 *     client id with mst_session_set_transport_id() and feeds it this same datagram; Mbed
 *     TLS checks the cookie again and goes on with the handshake.
 *
 * Cookies are Mbed TLS's (mbedtls_ssl_cookie_write/check on the config's secret, bound to the
 * client id, valid for MBEDTLS_SSL_COOKIE_TIMEOUT seconds), so the session accepts exactly the
 * cookies made here. The call changes nothing in the config but the cookie context's HMAC
 * state, under its own lock: it may run on a frozen config, from any thread, while sessions
 * of the config run.
 */
#ifndef MBEDTLS_STREAM_DTLS_HELLO_H
#define MBEDTLS_STREAM_DTLS_HELLO_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#ifdef __cplusplus
extern "C" {
#endif

enum mst_dtls_hello {
    MST_DTLS_HELLO_DROP = 0,   /* not an initial ClientHello worth an answer: drop it */
    MST_DTLS_HELLO_VERIFY = 1, /* send `reply` (a HelloVerifyRequest); keep no state */
    MST_DTLS_HELLO_ACCEPT = 2, /* create a session for this client and feed it the datagram */
};

/* Room enough for any HelloVerifyRequest this writes (record, handshake header, cookie). */
#define MST_DTLS_HELLO_REPLY_MAX 128

/* Classifies one datagram from a client the server has no session for.
 *   config     a DTLS server config (MST_SERVER, MST_DATAGRAM), else MST_DTLS_HELLO_DROP
 *   datagram   the whole datagram as received, len bytes
 *   client_id  the client's transport id (e.g. its address and port), id_len bytes: the
 *              same bytes later given to mst_session_set_transport_id()
 *   reply      cap bytes of room (MST_DTLS_HELLO_REPLY_MAX is enough); on
 *              MST_DTLS_HELLO_VERIFY it holds *reply_len bytes to send back as one datagram
 * Only the first record of the datagram is looked at, and only up to the cookie: the rest
 * of the ClientHello is the session's to parse. */
enum mst_dtls_hello mst_dtls_check_hello(mst_config *config, const uint8_t *datagram, size_t len,
                                         const uint8_t *client_id, size_t id_len,
                                         uint8_t *reply, size_t cap, size_t *reply_len);

#ifdef __cplusplus
}
#endif

#endif /* MBEDTLS_STREAM_DTLS_HELLO_H */
