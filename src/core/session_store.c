/*
 * session_store.c: a server's TLS 1.2 session IDs kept by the embedder rather than in the
 * config's own cache (node's 'newSession' and 'resumeSession' events): one store, say a
 * database, shared by many servers, so that a session made on one resumes on another.
 *
 * Mbed TLS asks its session cache from inside the handshake, synchronously, and the
 * embedder may take as long as it likes to answer. So both questions are asked before Mbed
 * TLS needs the answer, with the handshake held:
 *  - a session ID to resume is read from the held ClientHello (session.c); the embedder
 *    gives the saved session it found before the hello is released, and the cache hook
 *    below hands it to Mbed TLS when it looks the ID up;
 *  - a full handshake that made a session ID stops before the server's ChangeCipherSpec,
 *    when the session is complete but the client cannot resume it yet; the session is
 *    reported, and the handshake goes on once the embedder says it is stored.
 * The saved session is mbedtls_ssl_session_save()'s (the master secret included, as
 * OpenSSL's session data in node): opaque bytes to the embedder, refused by another Mbed
 * TLS build or configuration (a full handshake then).
 *
 * Mbed TLS's internal handshake structure (library/ssl_misc.h) is read for `resume`: a new
 * Mbed TLS version must be checked here.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include "internal.h"

#include <string.h>

#include <mbedtls/platform_time.h>
#include <mbedtls/platform_util.h>

#include "ssl_misc.h"

static void wipe(uint8_t **data, size_t *len)
{
    if (*data != NULL) {
        mbedtls_platform_zeroize(*data, *len);
        free(*data);
    }
    *data = NULL;
    *len = 0;
}

void mst_store_note_hello(mst_session_store *store, const mbedtls_ssl_config *conf,
                          const uint8_t *id, size_t id_len, bool offers_ticket, bool offers_tls13)
{
    store->offered_id_len = 0;
    /* As node's server, which asks only for an ID that comes without a ticket. */
    if (!store->enabled || id_len == 0 || id_len > MST_SESSION_ID_MAX || offers_ticket ||
        conf->f_get_cache == NULL)
        return;
    /* Mbed TLS chooses TLS 1.3 whenever both ends allow it. */
    if (offers_tls13 && conf->max_tls_version >= MBEDTLS_SSL_VERSION_TLS1_3)
        return;
    memcpy(store->offered_id, id, id_len);
    store->offered_id_len = id_len;
}

int mst_store_set_found(mst_session_store *store, const uint8_t *data, size_t len)
{
    uint8_t *copy = malloc(len);
    if (copy == NULL)
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    memcpy(copy, data, len);
    wipe(&store->found, &store->found_len);
    store->found = copy;
    store->found_len = len;
    return 0;
}

/* A session the store gave is used only for the ID it was asked for, and no longer than
 * the server's lifetime for sessions (OpenSSL likewise checks the timeout of a session its
 * get-session callback returns). A start in the future is another server's clock. */
static bool usable(const mbedtls_ssl_session *session, const unsigned char *id, size_t id_len,
                   uint32_t lifetime_s)
{
    if (session->tls_version != MBEDTLS_SSL_VERSION_TLS1_2 || session->id_len != id_len ||
        memcmp(session->id, id, id_len) != 0)
        return false;
    mbedtls_time_t now = mbedtls_time(NULL);
    return now <= session->start || (uint64_t)(now - session->start) <= lifetime_s;
}

int mst_store_get(void *context, const unsigned char *id, size_t id_len,
                  mbedtls_ssl_session *session)
{
    mst_resumption *resumption = context;
    mst_session_store *store = mst_running_session_store();
    if (store == NULL || !store->enabled)
        return mbedtls_ssl_cache_get(&resumption->cache, id, id_len, session);
    if (store->found == NULL || id_len != store->offered_id_len ||
        memcmp(id, store->offered_id, id_len) != 0)
        return MBEDTLS_ERR_SSL_CACHE_ENTRY_NOT_FOUND;
    int ret = mbedtls_ssl_session_load(session, store->found, store->found_len);
    if (ret == 0 && !usable(session, id, id_len, resumption->lifetime_s))
        ret = MBEDTLS_ERR_SSL_CACHE_ENTRY_NOT_FOUND;
    wipe(&store->found, &store->found_len);
    return ret;
}

int mst_store_set(void *context, const unsigned char *id, size_t id_len,
                  const mbedtls_ssl_session *session)
{
    mst_resumption *resumption = context;
    mst_session_store *store = mst_running_session_store();
    if (store != NULL && store->enabled)
        return 0; /* reported to the embedder before the server's ChangeCipherSpec */
    return mbedtls_ssl_cache_set(&resumption->cache, id, id_len, session);
}

int mst_store_hold_new_session(mst_session_store *store, mbedtls_ssl_context *ssl)
{
    if (!store->enabled || store->new_session == NEW_SESSION_STORED)
        return 0;
    if (store->new_session == NEW_SESSION_ASKED)
        return 1;
    const mbedtls_ssl_session *made = ssl->session_negotiate;
    /* A full TLS 1.2 handshake has read the client's Finished; an abbreviated one reaches
     * this state after its ServerHello, with `resume` set. A session given a ticket has no
     * ID. */
    if (ssl->state != MBEDTLS_SSL_SERVER_CHANGE_CIPHER_SPEC ||
        ssl->tls_version != MBEDTLS_SSL_VERSION_TLS1_2 || ssl->handshake == NULL ||
        ssl->handshake->resume || made == NULL || made->id_len == 0 ||
        made->id_len > MST_SESSION_ID_MAX || ssl->conf->f_set_cache == NULL)
        return 0;
    size_t len = 0;
    int ret = mbedtls_ssl_session_save(made, NULL, 0, &len);
    if (ret != MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL && ret != 0)
        return ret;
    uint8_t *data = malloc(len > 0 ? len : 1);
    if (data == NULL)
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    ret = mbedtls_ssl_session_save(made, data, len, &len);
    if (ret != 0) {
        wipe(&data, &len);
        return ret;
    }
    memcpy(store->new_id, made->id, made->id_len);
    store->new_id_len = made->id_len;
    store->new_data = data;
    store->new_data_len = len;
    store->new_session = NEW_SESSION_ASKED;
    return 2;
}

void mst_store_new_session_stored(mst_session_store *store)
{
    wipe(&store->new_data, &store->new_data_len);
    store->new_session = NEW_SESSION_STORED;
}

void mst_store_free(mst_session_store *store)
{
    wipe(&store->found, &store->found_len);
    wipe(&store->new_data, &store->new_data_len);
}
