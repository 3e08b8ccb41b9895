/*
 * key_exchange.c: the group of the handshake's ephemeral key exchange (node's
 * getEphemeralKeyInfo()). Mbed TLS 3.6 has no accessor for it and frees the handshake state
 * when the handshake ends, so the session reads it here after each handshake step, from
 * Mbed TLS's private handshake structure (library/ssl_misc.h of the pinned release).
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include "internal.h"

#include <mbedtls/ecdh.h>

#include "ssl_misc.h"

#if defined(MBEDTLS_USE_PSA_CRYPTO)
/* With USE_PSA_CRYPTO a TLS 1.2 ECDHE group lives in handshake->xxdh_psa_type instead. */
#error "key_exchange.c reads the TLS 1.2 ECDHE group from ecdh_ctx: a build without MBEDTLS_USE_PSA_CRYPTO"
#endif

uint16_t mst_handshake_group(mbedtls_ssl_context *ssl)
{
    mbedtls_ssl_handshake_params *handshake = ssl->MBEDTLS_PRIVATE(handshake);
    if (handshake == NULL)
        return 0;
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
    if (ssl->MBEDTLS_PRIVATE(tls_version) == MBEDTLS_SSL_VERSION_TLS1_3) {
        /* The key exchange mode is known from the ServerHello on; the group offered is then
         * the one the server chose (a HelloRetryRequest replaces it). A psk_ke handshake
         * has none. */
        return mbedtls_ssl_tls13_key_exchange_mode_with_ephemeral(ssl)
                   ? handshake->offered_group_id : 0;
    }
#endif
    /* TLS 1.2: an ECDHE suite's group comes with the ServerKeyExchange; a static RSA suite
     * and an abbreviated (resumed) handshake have none. */
    const mbedtls_ssl_session *negotiated = ssl->MBEDTLS_PRIVATE(session_negotiate);
    const mbedtls_ssl_ciphersuite_t *suite =
        negotiated != NULL ? mbedtls_ssl_ciphersuite_from_id(negotiated->MBEDTLS_PRIVATE(ciphersuite))
                           : NULL;
    if (suite == NULL || !mbedtls_ssl_ciphersuite_uses_ecdhe(suite))
        return 0;
    mbedtls_ecp_group_id group = mbedtls_ecdh_get_grp_id(&handshake->ecdh_ctx);
    return group == MBEDTLS_ECP_DP_NONE ? 0 : mbedtls_ssl_get_tls_id_from_ecp_group_id(group);
}
