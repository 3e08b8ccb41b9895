/*
 * mbedtls-stream's Mbed TLS 3.6 configuration (MBEDTLS_CONFIG_FILE).
 *
 * This header replaces Mbed TLS's default mbedtls_config.h. It enables exactly what
 * mbedtls-stream uses: TLS 1.2 and 1.3 client and server, DTLS 1.2, certificates and PSK,
 * and nothing that touches a socket or a file (no NET_C, no FS_IO): the engine works over
 * memory buffers only. Both Mbed TLS and the addon are compiled against this one file.
 */
#ifndef MBEDTLS_STREAM_CONFIG_H
#define MBEDTLS_STREAM_CONFIG_H

/* ---- System and platform ---- */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE                 /* certificate validity periods */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY                /* the engine counts each session's bytes */
#define MBEDTLS_THREADING_C                    /* crypto may later run on worker threads */
#define MBEDTLS_THREADING_PTHREAD
#define MBEDTLS_ERROR_C                        /* mbedtls_strerror() for error texts */
#define MBEDTLS_DEBUG_C                        /* the debug option; costs nothing at level 0 */
#define MBEDTLS_VERSION_C

/* ---- Randomness ---- */
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_HMAC_DRBG_C
#define MBEDTLS_ECDSA_DETERMINISTIC

/* ---- Symmetric crypto and hashes ---- */
#define MBEDTLS_AES_C
#define MBEDTLS_AESNI_C                        /* used only on x86-64; a no-op elsewhere */
#define MBEDTLS_GCM_C
#define MBEDTLS_STREAM_GCM_ACCEL               /* ours: multi-block AES-GCM, deps/accel/ (patch 0020) */
#define MBEDTLS_CCM_C                          /* AES-CCM suites used by embedded peers */
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_CIPHER_MODE_CBC                /* CBC suites and encrypted PEM/PKCS#8 keys */
#define MBEDTLS_CIPHER_PADDING_PKCS7
#define MBEDTLS_MD_C
#define MBEDTLS_MD5_C                          /* legacy encrypted PEM key derivation only */
#define MBEDTLS_SHA1_C                         /* HMAC-SHA1 suites; SHA-1 signatures stay refused */
#define MBEDTLS_SHA224_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C
#define MBEDTLS_HKDF_C                         /* TLS 1.3 key schedule (PSA HKDF parts) */

/* ---- Public-key crypto ---- */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_GENPRIME
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21                      /* RSA-PSS, required by TLS 1.3 */
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_SECP521R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED      /* X25519 key exchange */
/* Curve25519 multiplications (key shares and X25519 agreement, TLS 1.2 and 1.3) run on the
 * Everest/HACL* code of Mbed TLS's tree (3rdparty/everest) through src/crypto/x25519.c,
 * hooked into mbedtls_ecp_mul() by deps/patches/0023-ecp-x25519-hacl-hook.patch. */
#define MBEDTLS_STREAM_X25519_HACL
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
/* ECDSA verification on P-256 runs our variable-time code (src/crypto/p256_verify.c), hooked
 * into mbedtls_ecdsa_verify() by deps/patches/0021-ecdsa-p256-verify-hook.patch. It needs a
 * compiler with unsigned __int128 (64-bit GCC and Clang); elsewhere Mbed TLS's code runs. */
#if defined(__SIZEOF_INT128__)
#define MBEDTLS_STREAM_P256_VERIFY
#endif
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_PK_PARSE_EC_COMPRESSED
#define MBEDTLS_PSA_CRYPTO_C                   /* TLS 1.3 key schedule runs on PSA */
#define MBEDTLS_PSA_KEY_STORE_DYNAMIC          /* key slots grow with concurrent handshakes */

/* ---- Encodings and key containers ---- */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C
#define MBEDTLS_PKCS5_C                        /* encrypted PKCS#8 (PBES2) keys */

/* ---- X.509 ---- */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CRL_PARSE_C
#define MBEDTLS_X509_CSR_PARSE_C
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CRT_WRITE_C               /* self-signed development certificates */
/* Intermediates a verified chain may hold: OpenSSL's default verify depth of 100 (node's),
 * not Mbed TLS's 8, which fails longer chains even without verification (-0x3000). */
#define MBEDTLS_X509_MAX_INTERMEDIATE_CA 100

/* ---- TLS ---- */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ENABLED
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_RSA_ENABLED       /* static RSA: in node's default list (HIGH) */
#define MBEDTLS_KEY_EXCHANGE_PSK_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_PSK_ENABLED
/* Pre-shared keys of up to 512 bytes, OpenSSL's limit (PSK_MAX_PSK_LEN) and so node's; Mbed
 * TLS's default is 48. It sizes the TLS 1.2 premaster buffer of each handshake in progress. */
#define MBEDTLS_PSK_MAX_LEN 512
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE      /* getPeerCertificate() after the handshake */
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_ALPN
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
#define MBEDTLS_SSL_RECORD_SIZE_LIMIT
/* No zero padding in TLS 1.3 (and DTLS 1.2 CID) records, as OpenSSL pads none by default:
 * a record can then carry the full 2^14 bytes of content (patch 0024), and a record of
 * 2^14 bytes keeps within RFC 8446 5.4's 2^14 + 1 (Mbed-TLS/mbedtls#10873). */
#define MBEDTLS_SSL_CID_TLS1_3_PADDING_GRANULARITY 1
/* TLS handshake messages longer than one 16 KiB record (certificate chains with many names,
 * CertificateRequests naming many CAs) go both ways up to 100 KiB of body, OpenSSL's default
 * max_cert_list, so node's limit. Longer ones received are refused with illegal_parameter,
 * as OpenSSL refuses them; a chain we could only send in a longer one is refused by
 * createSecureContext. The input buffer grows for such a message, record by record as it
 * arrives, and shrinks back once it is read; the output buffer grows to build our
 * Certificate and shrinks back once its records are sent (deps/patches/0007). Records stay
 * within 16 KiB of content. (The patch keeps VARIABLE_BUFFER_LENGTH from shrinking the
 * buffers after the handshake to a negotiated max_fragment_length.) */
#define MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH
#define MBEDTLS_SSL_IN_HANDSHAKE_MAX_LEN (100 * 1024)
#define MBEDTLS_SSL_OUT_HANDSHAKE_MAX_LEN (100 * 1024)
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_ENCRYPT_THEN_MAC
#define MBEDTLS_SSL_KEYING_MATERIAL_EXPORT
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_TICKET_C
#define MBEDTLS_SSL_CACHE_C
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES
/* No MBEDTLS_SSL_RENEGOTIATION: renegotiation is refused, as node refuses it by default. */

/* ---- DTLS 1.2 (datagram mode of the engine) ---- */
#define MBEDTLS_SSL_PROTO_DTLS
#define MBEDTLS_SSL_DTLS_ANTI_REPLAY
#define MBEDTLS_SSL_DTLS_HELLO_VERIFY
#define MBEDTLS_SSL_DTLS_CLIENT_PORT_REUSE
#define MBEDTLS_SSL_COOKIE_C
#define MBEDTLS_SSL_DTLS_CONNECTION_ID         /* RFC 9146: peers that change address (NAT) */
#define MBEDTLS_SSL_DTLS_CONNECTION_ID_COMPAT 0 /* the RFC's extension number and MAC, not the draft's */
#define MBEDTLS_SSL_RECORD_CHECKING            /* a record authenticates before its peer moves */

/* ---- Build profile (deps/build-profile.js; the gyp variable mbedtls_profile) ----
 * default: records of up to 16 KiB of content, as every TLS peer may send (RFC 8446 5.1).
 * small (`npm install --mbedtls_profile=small`): record buffers for 4 KiB of content each way
 * (about 4.4 KB each instead of 16.7 KB, MBEDTLS_SSL_{IN,OUT}_BUFFER_LEN). Our records carry
 * 4 KiB at most; our client asks its server for records as small (max_fragment_length, RFC
 * 6066, in TLS 1.2 and 1.3: lib/context.js and deps/patches/0011; as a TLS 1.3 client Mbed
 * TLS's record_size_limit, RFC 8449, says 4096 too), and our server honours a client's
 * max_fragment_length in TLS 1.2 and record_size_limit in TLS 1.3. A peer that sends a
 * longer record anyway is refused with record_overflow. DTLS
 * handshake messages, which Mbed TLS reassembles in the input buffer, must fit 4 KiB; its
 * buffering of early ones stays at twice a record, as by default. Handshake messages in TLS
 * keep their 100 KiB bound above (patch 0007 grows the buffers for them). */
#if defined(MBEDTLS_STREAM_PROFILE_SMALL)
#define MBEDTLS_STREAM_PROFILE "small"
#define MBEDTLS_SSL_IN_CONTENT_LEN 4096
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096
#define MBEDTLS_SSL_DTLS_MAX_BUFFERING (2 * 4096)
#else
#define MBEDTLS_STREAM_PROFILE "default"
#endif

/* Deliberately absent: MBEDTLS_NET_C, MBEDTLS_FS_IO, MBEDTLS_TIMING_C. The engine never
 * opens a socket or a file, and its DTLS timers run on a clock supplied by the embedder. */

#endif /* MBEDTLS_STREAM_CONFIG_H */
