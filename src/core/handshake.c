/*
 * handshake.c: what the engine reads and changes inside Mbed TLS's handshake, whose
 * structure is the library's own (library/ssl_misc.h). Kept to this file, next to each
 * step the engine runs (session.c's run_handshake):
 *
 * - the verify_data of both Finished messages (node's getFinished()/getPeerFinished()).
 *   Mbed TLS keeps them only when built for renegotiation (TLS 1.2), which this build is
 *   not, and never in TLS 1.3. Ours is taken as Mbed TLS computes it for the message it
 *   sends, the peer's from the message as received once Mbed TLS has verified it.
 * - no NewSessionTicket after a resumed TLS 1.3 handshake, as node's server: node's ticket
 *   callback accepts a ticket without asking OpenSSL to renew it; Mbed TLS would send one.
 *
 * The internal header is Mbed TLS 3.6's: a new Mbed TLS version must be checked here.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include "internal.h"

#include <string.h>

#include "ssl_misc.h"

/* The states in which an endpoint sends its Finished and reads the peer's, the same
 * numbers in TLS 1.2 and TLS 1.3. */
static int own_finished_state(const mbedtls_ssl_context *ssl)
{
    return ssl->conf->endpoint == MBEDTLS_SSL_IS_CLIENT ? MBEDTLS_SSL_CLIENT_FINISHED
                                                        : MBEDTLS_SSL_SERVER_FINISHED;
}

static int peer_finished_state(const mbedtls_ssl_context *ssl)
{
    return ssl->conf->endpoint == MBEDTLS_SSL_IS_CLIENT ? MBEDTLS_SSL_SERVER_FINISHED
                                                        : MBEDTLS_SSL_CLIENT_FINISHED;
}

void mst_handshake_before_step(mbedtls_ssl_context *ssl, mst_finished *finished)
{
    mbedtls_ssl_handshake_params *handshake = ssl->handshake;
    if (handshake == NULL)
        return;
    if (ssl->tls_version == MBEDTLS_SSL_VERSION_TLS1_2 && ssl->state == own_finished_state(ssl) &&
        handshake->calc_finished != NULL) {
        /* TLS 1.2 computes it into the record it then encrypts in place: compute it here the
         * same way (on a copy of the transcript, which this step does not change first). */
        finished->pending_len = 0;
        if (handshake->calc_finished(ssl, finished->pending, ssl->conf->endpoint) == 0)
            finished->pending_len = 12;
    }
}

static void keep(uint8_t *to, size_t *to_len, const uint8_t *from, size_t len)
{
    if (len > MST_FINISHED_MAX)
        len = 0;
    memcpy(to, from, len);
    *to_len = len;
}

void mst_handshake_after_step(mbedtls_ssl_context *ssl, int state_before, int ret,
                              mst_finished *finished)
{
    if (ret != 0 || ssl->state == state_before || ssl->handshake == NULL)
        return;
#if defined(MBEDTLS_SSL_PROTO_TLS1_3) && defined(MBEDTLS_SSL_SESSION_TICKETS) && \
    defined(MBEDTLS_SSL_SRV_C)
    /* The tickets are written after the handshake is over, by the next read or write. */
    if (ssl->state == MBEDTLS_SSL_TLS1_3_NEW_SESSION_TICKET && ssl->handshake->resume)
        ssl->handshake->new_session_tickets_count = 0;
#endif
    if (state_before == own_finished_state(ssl)) {
        if (ssl->tls_version == MBEDTLS_SSL_VERSION_TLS1_2) {
            keep(finished->own, &finished->own_len, finished->pending, finished->pending_len);
        }
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
        else {
            keep(finished->own, &finished->own_len,
                 ssl->handshake->state_local.finished_out.digest,
                 ssl->handshake->state_local.finished_out.digest_len);
        }
#endif
        mbedtls_platform_zeroize(finished->pending, sizeof(finished->pending));
        finished->pending_len = 0;
    } else if (state_before == peer_finished_state(ssl)) {
        /* The message this step read and verified is still in the input buffer. */
        size_t header = mbedtls_ssl_hs_hdr_len(ssl);
        if (ssl->in_msg != NULL && ssl->in_hslen > header && ssl->in_msg[0] == MBEDTLS_SSL_HS_FINISHED)
            keep(finished->peer, &finished->peer_len, ssl->in_msg + header, ssl->in_hslen - header);
    }
}
