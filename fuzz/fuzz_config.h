/*
 * fuzz_config.h: the Mbed TLS configuration of the fuzzing build (MBEDTLS_CONFIG_FILE).
 *
 * It is the project's own deps/config/mbedtls_stream_config.h plus three hooks that make a
 * run depend on its input only, so that a recorded handshake replays byte for byte against
 * a fuzzed engine and every finding reproduces:
 *   - PSA crypto draws its randomness from mbedtls_psa_external_get_random() in
 *     fuzz_common.c (a seeded stream reset before every input) instead of its own DRBG;
 *   - mbedtls_time() and mbedtls_ms_time() return a fixed instant (fuzz_common.c picks it
 *     inside the validity of certs/, so chains verify).
 * The engine's own RNG (mbedtls_ctr_drbg_random in src/core/config.c) is redirected to the
 * same stream by build.sh with -Dmbedtls_ctr_drbg_random=fuzz_rng_random, for src/core only.
 * Nothing else differs from the addon's build: same features, same struct layouts.
 */
#ifndef MBEDTLS_STREAM_FUZZ_CONFIG_H
#define MBEDTLS_STREAM_FUZZ_CONFIG_H

#include "mbedtls_stream_config.h"

#define MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG
#define MBEDTLS_PLATFORM_TIME_ALT
#define MBEDTLS_PLATFORM_MS_TIME_ALT

#endif /* MBEDTLS_STREAM_FUZZ_CONFIG_H */
