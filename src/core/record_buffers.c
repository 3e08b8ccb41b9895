/*
 * record_buffers.c: Mbed TLS's two record buffers of an idle TLS session, released and
 * taken again.
 *
 * With MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH each session's input and output buffers are
 * heap blocks of MBEDTLS_SSL_{IN,OUT}_BUFFER_LEN bytes (16.7 KB each with 16 KiB records)
 * that Mbed TLS keeps for the whole connection, busy or idle. Between two records nothing
 * lives in them but the input sequence number (TLS keeps it in the first 8 bytes of the
 * input buffer) and the record pointers, which point a few bytes in. So an idle session's
 * buffers shrink to IDLE_LENGTH bytes, keeping those, and grow back to their usual length
 * before Mbed TLS is next asked to read or write: a peer may always send a full 16 KiB
 * record, and every read of a record's body comes after the grow. Patch 0007's resize
 * helpers move each buffer and its pointers.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include "internal.h"

#include "ssl_misc.h"

/* Room for the sequence number, the record header and an explicit IV, which the record
 * pointers of an idle TLS session point past (in_msg and out_msg are at most 21 bytes in). */
#define IDLE_LENGTH 64

bool mst_record_buffers_release(mbedtls_ssl_context *ssl)
{
#if defined(MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH)
    /* TLS 1.3 keeps its handshake structure after the handshake, for NewSessionTicket; the
     * state is HANDSHAKE_OVER between two such messages. */
    if (ssl->conf->transport != MBEDTLS_SSL_TRANSPORT_STREAM ||
        ssl->state != MBEDTLS_SSL_HANDSHAKE_OVER || ssl->in_buf == NULL || ssl->out_buf == NULL)
        return false;
    /* Nothing may be partly received, waiting to be read or waiting to be sent. */
    if (ssl->in_left != 0 || ssl->in_offt != NULL || ssl->in_hslen != 0 ||
        ssl->keep_current_message != 0 || ssl->out_left != 0)
        return false;
    if (ssl->in_hdr != ssl->in_buf + MBEDTLS_SSL_SEQUENCE_NUMBER_LEN ||
        ssl->out_hdr != ssl->out_buf + MBEDTLS_SSL_SEQUENCE_NUMBER_LEN ||
        (size_t) (ssl->in_msg - ssl->in_buf) > IDLE_LENGTH ||
        (size_t) (ssl->out_msg - ssl->out_buf) > IDLE_LENGTH)
        return false;
    if (ssl->in_buf_len > IDLE_LENGTH && mbedtls_ssl_resize_in_buffer(ssl, IDLE_LENGTH) != 0)
        return false;
    if (ssl->out_buf_len > IDLE_LENGTH && mbedtls_ssl_resize_out_buffer(ssl, IDLE_LENGTH) != 0) {
        /* Out of memory: the output buffer keeps its length; the input one is small. */
    }
    return true;
#else
    (void) ssl;
    return false;
#endif
}

int mst_record_buffers_restore(mbedtls_ssl_context *ssl)
{
#if defined(MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH)
    if (ssl->in_buf != NULL && ssl->in_buf_len < MBEDTLS_SSL_IN_BUFFER_LEN) {
        int ret = mbedtls_ssl_resize_in_buffer(ssl, MBEDTLS_SSL_IN_BUFFER_LEN);
        if (ret != 0)
            return ret;
    }
    if (ssl->out_buf != NULL && ssl->out_buf_len < MBEDTLS_SSL_OUT_BUFFER_LEN) {
        int ret = mbedtls_ssl_resize_out_buffer(ssl, MBEDTLS_SSL_OUT_BUFFER_LEN);
        if (ret != 0)
            return ret;
    }
#else
    (void) ssl;
#endif
    return 0;
}
