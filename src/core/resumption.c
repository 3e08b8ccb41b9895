/*
 * resumption.c: what a server keeps to resume sessions (mst_resumption): a session-ID
 * cache (Mbed TLS's ssl_cache) for TLS 1.2 clients that send no ticket, and the key that
 * seals session tickets for TLS 1.2 and TLS 1.3.
 *
 * Tickets are sealed here rather than with Mbed TLS's ssl_ticket module because node's
 * ticket keys are fixed until the application changes them (48 bytes, shared by the
 * servers of a cluster through getTicketKeys()/setTicketKeys()), while ssl_ticket replaces
 * its keys with random ones when their lifetime ends.
 *
 * A ticket is:  key name (16) | nonce (12) | AES-256-GCM( created (8) | session ) | tag (16)
 * with the key name as additional data. The 48 key bytes are node's layout: a 16-byte name,
 * then 32 bytes of secret, used here as the AES-256 key. `created` is the server's clock in
 * seconds when the ticket was sealed; a ticket older than the lifetime is refused.
 */
#include "internal.h"

#include <string.h>

#include <mbedtls/platform_time.h>
#include <mbedtls/platform_util.h>
#include <psa/crypto.h>

#define NAME_BYTES 16
#define NONCE_BYTES 12
#define TAG_BYTES 16
#define CREATED_BYTES 8
#define CACHE_ENTRIES 1024

static int import_key(mst_resumption *store, const uint8_t keys[MST_TICKET_KEYS_LEN])
{
    psa_key_attributes_t attributes = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_usage_flags(&attributes, PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT);
    psa_set_key_algorithm(&attributes, PSA_ALG_GCM);
    psa_set_key_type(&attributes, PSA_KEY_TYPE_AES);
    psa_set_key_bits(&attributes, 256);
    mbedtls_svc_key_id_t key;
    if (psa_import_key(&attributes, keys + NAME_BYTES, MST_TICKET_KEYS_LEN - NAME_BYTES, &key) !=
        PSA_SUCCESS)
        return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    pthread_mutex_lock(&store->lock);
    mbedtls_svc_key_id_t old = store->key;
    store->key = key;
    memcpy(store->keys, keys, MST_TICKET_KEYS_LEN);
    pthread_mutex_unlock(&store->lock);
    psa_destroy_key(old);
    return 0;
}

mst_resumption *mst_resumption_new(uint32_t lifetime_s, const uint8_t *keys, size_t keys_len,
                                   mst_error *err)
{
    if (mst_global_init(err) != 0)
        return NULL;
    if ((keys != NULL && keys_len != MST_TICKET_KEYS_LEN) || lifetime_s == 0) {
        mst_error_set(err, MST_ERR_BAD_ARGUMENT);
        return NULL;
    }
    mst_resumption *store = calloc(1, sizeof(*store));
    if (store == NULL) {
        mst_error_set(err, MBEDTLS_ERR_SSL_ALLOC_FAILED);
        return NULL;
    }
    atomic_init(&store->references, 1);
    pthread_mutex_init(&store->lock, NULL);
    store->lifetime_s = lifetime_s;
    store->key = MBEDTLS_SVC_KEY_ID_INIT;
    mbedtls_ssl_cache_init(&store->cache);
    mbedtls_ssl_cache_set_timeout(&store->cache, (int)(lifetime_s > 0x7FFFFFFF ? 0x7FFFFFFF : lifetime_s));
    mbedtls_ssl_cache_set_max_entries(&store->cache, CACHE_ENTRIES);

    uint8_t fresh[MST_TICKET_KEYS_LEN];
    int ret = 0;
    if (keys == NULL) {
        ret = mbedtls_ctr_drbg_random(mst_global_rng(), fresh, sizeof(fresh));
        keys = fresh;
    }
    if (ret == 0)
        ret = import_key(store, keys);
    mbedtls_platform_zeroize(fresh, sizeof(fresh));
    if (ret != 0) {
        mst_error_set(err, ret);
        mst_resumption_unref(store);
        return NULL;
    }
    return store;
}

void mst_resumption_ref(mst_resumption *store)
{
    atomic_fetch_add_explicit(&store->references, 1, memory_order_relaxed);
}

void mst_resumption_unref(mst_resumption *store)
{
    if (store == NULL ||
        atomic_fetch_sub_explicit(&store->references, 1, memory_order_acq_rel) != 1)
        return;
    psa_destroy_key(store->key);
    mbedtls_ssl_cache_free(&store->cache);
    pthread_mutex_destroy(&store->lock);
    mbedtls_platform_zeroize(store->keys, sizeof(store->keys));
    free(store);
}

int mst_resumption_set_keys(mst_resumption *store, const uint8_t *keys, size_t len)
{
    if (store == NULL || keys == NULL || len != MST_TICKET_KEYS_LEN)
        return MST_ERR_BAD_ARGUMENT;
    return import_key(store, keys);
}

void mst_resumption_get_keys(mst_resumption *store, uint8_t out[MST_TICKET_KEYS_LEN])
{
    pthread_mutex_lock(&store->lock);
    memcpy(out, store->keys, MST_TICKET_KEYS_LEN);
    pthread_mutex_unlock(&store->lock);
}

/* The key in use and its name, referenced under the lock (setting new keys destroys the
 * old one only after this copy is taken, but a concurrent seal may then fail: it is
 * reported as an error and the handshake goes on without a ticket). */
static mbedtls_svc_key_id_t current_key(mst_resumption *store, uint8_t name[NAME_BYTES])
{
    pthread_mutex_lock(&store->lock);
    mbedtls_svc_key_id_t key = store->key;
    memcpy(name, store->keys, NAME_BYTES);
    pthread_mutex_unlock(&store->lock);
    return key;
}

/* mbedtls_ssl_ticket_write_t */
int mst_resumption_seal(void *context, const mbedtls_ssl_session *session, unsigned char *start,
                        const unsigned char *end, size_t *ticket_len, uint32_t *lifetime)
{
    mst_resumption *store = context;
    *ticket_len = 0;
    size_t room = (size_t)(end - start);
    size_t overhead = NAME_BYTES + NONCE_BYTES + CREATED_BYTES + TAG_BYTES;
    if (room < overhead)
        return MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL;

    size_t state_len = 0;
    int ret = mbedtls_ssl_session_save(session, NULL, 0, &state_len);
    if (ret != MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL && ret != 0)
        return ret;
    if (state_len > room - overhead)
        return MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL;
    uint8_t *plain = malloc(CREATED_BYTES + state_len);
    if (plain == NULL)
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    uint64_t created = (uint64_t)mbedtls_time(NULL);
    for (int i = 0; i < CREATED_BYTES; i++)
        plain[i] = (uint8_t)(created >> (56 - 8 * i));
    ret = mbedtls_ssl_session_save(session, plain + CREATED_BYTES, state_len, &state_len);

    uint8_t *name = start, *nonce = start + NAME_BYTES, *sealed = nonce + NONCE_BYTES;
    mbedtls_svc_key_id_t key = current_key(store, name);
    if (ret == 0)
        ret = mbedtls_ctr_drbg_random(mst_global_rng(), nonce, NONCE_BYTES);
    size_t sealed_len = 0;
    if (ret == 0 &&
        psa_aead_encrypt(key, PSA_ALG_GCM, nonce, NONCE_BYTES, name, NAME_BYTES, plain,
                         CREATED_BYTES + state_len, sealed, (size_t)(end - sealed),
                         &sealed_len) != PSA_SUCCESS)
        ret = MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    mbedtls_platform_zeroize(plain, CREATED_BYTES + state_len);
    free(plain);
    if (ret != 0)
        return ret;
    *ticket_len = NAME_BYTES + NONCE_BYTES + sealed_len;
    *lifetime = store->lifetime_s;
    return 0;
}

/* mbedtls_ssl_ticket_parse_t: the ticket is decrypted in place. A ticket under another
 * key name, forged or damaged is "not authentic"; Mbed TLS then ignores it and runs a
 * full handshake. */
int mst_resumption_open(void *context, mbedtls_ssl_session *session, unsigned char *buf,
                        size_t len)
{
    mst_resumption *store = context;
    if (len < NAME_BYTES + NONCE_BYTES + CREATED_BYTES + TAG_BYTES)
        return MBEDTLS_ERR_SSL_INVALID_MAC;
    uint8_t name[NAME_BYTES];
    mbedtls_svc_key_id_t key = current_key(store, name);
    if (memcmp(name, buf, NAME_BYTES) != 0)
        return MBEDTLS_ERR_SSL_INVALID_MAC;
    unsigned char *nonce = buf + NAME_BYTES, *sealed = nonce + NONCE_BYTES;
    size_t sealed_len = len - NAME_BYTES - NONCE_BYTES, plain_len = 0;
    if (psa_aead_decrypt(key, PSA_ALG_GCM, nonce, NONCE_BYTES, buf, NAME_BYTES, sealed,
                         sealed_len, sealed, sealed_len, &plain_len) != PSA_SUCCESS ||
        plain_len < CREATED_BYTES)
        return MBEDTLS_ERR_SSL_INVALID_MAC;
    uint64_t created = 0;
    for (int i = 0; i < CREATED_BYTES; i++)
        created = (created << 8) | sealed[i];
    uint64_t now = (uint64_t)mbedtls_time(NULL);
    int ret = MBEDTLS_ERR_SSL_SESSION_TICKET_EXPIRED;
    if (now >= created && now - created <= store->lifetime_s)
        ret = mbedtls_ssl_session_load(session, sealed + CREATED_BYTES, plain_len - CREATED_BYTES);
    mbedtls_platform_zeroize(sealed, plain_len);
    return ret;
}
