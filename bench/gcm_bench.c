/*
 * gcm_bench.c: AES-GCM throughput of each implementation this CPU has (Mbed TLS's stock
 * code, our AES-NI and VAES paths of deps/accel/), through the call the TLS record layer
 * makes: mbedtls_cipher_auth_encrypt_ext() / _decrypt_ext() on whole 16 KiB records with a
 * 12-byte IV and 13 bytes of AAD, as TLS 1.2 does.
 *
 *   build/Release/gcm_bench [SECONDS-PER-FIGURE]     default 0.5
 *
 * Prints one line per cipher, direction and implementation, in MB/s (10^6 bytes per
 * second). A benchmark, not a test: the figures depend on the machine and its load.
 */
#include "mbedtls/cipher.h"
#include "mbedtls/gcm.h"
#include "gcm_accel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RECORD 16384

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double measure(mbedtls_cipher_type_t type, int decrypt, double seconds)
{
    static unsigned char key[32], iv[12], ad[13], record[RECORD + 16], out[RECORD + 16];
    const mbedtls_cipher_info_t *info = mbedtls_cipher_info_from_type(type);
    mbedtls_cipher_context_t ctx;
    mbedtls_cipher_init(&ctx);
    memset(key, 0x42, sizeof(key));
    memset(record, 0x17, sizeof(record));
    size_t olen = 0;
    if (mbedtls_cipher_setup(&ctx, info) != 0 ||
        mbedtls_cipher_setkey(&ctx, key, (int) mbedtls_cipher_info_get_key_bitlen(info),
                              decrypt ? MBEDTLS_DECRYPT : MBEDTLS_ENCRYPT) != 0) {
        fprintf(stderr, "gcm_bench: cipher setup failed\n");
        exit(1);
    }
    if (decrypt) {
        /* A valid record to decrypt, tag appended as TLS sends it. */
        mbedtls_cipher_context_t enc;
        mbedtls_cipher_init(&enc);
        mbedtls_cipher_setup(&enc, info);
        mbedtls_cipher_setkey(&enc, key, (int) mbedtls_cipher_info_get_key_bitlen(info), MBEDTLS_ENCRYPT);
        mbedtls_cipher_auth_encrypt_ext(&enc, iv, sizeof(iv), ad, sizeof(ad), out, RECORD,
                                        record, sizeof(record), &olen, 16);
        mbedtls_cipher_free(&enc);
    }
    size_t bytes = 0;
    double start = now(), elapsed;
    do {
        for (int i = 0; i < 16; i++) {
            int ret = decrypt
                ? mbedtls_cipher_auth_decrypt_ext(&ctx, iv, sizeof(iv), ad, sizeof(ad), record,
                                                  RECORD + 16, out, sizeof(out), &olen, 16)
                : mbedtls_cipher_auth_encrypt_ext(&ctx, iv, sizeof(iv), ad, sizeof(ad), out,
                                                  RECORD, record, sizeof(record), &olen, 16);
            if (ret != 0) {
                fprintf(stderr, "gcm_bench: -0x%04x\n", (unsigned) -ret);
                exit(1);
            }
            bytes += RECORD;
        }
        elapsed = now() - start;
    } while (elapsed < seconds);
    mbedtls_cipher_free(&ctx);
    return (double) bytes / elapsed / 1e6;
}

int main(int argc, char **argv)
{
    static const char *names[] = { "stock", "aesni", "vaes" };
    double seconds = argc > 1 ? atof(argv[1]) : 0.5;
    static const struct { mbedtls_cipher_type_t type; const char *name; } ciphers[] = {
        { MBEDTLS_CIPHER_AES_128_GCM, "AES-128-GCM" },
        { MBEDTLS_CIPHER_AES_256_GCM, "AES-256-GCM" },
    };
    printf("%-12s %-8s %-6s %10s\n", "cipher", "dir", "impl", "MB/s");
    for (size_t c = 0; c < 2; c++) {
        for (int decrypt = 0; decrypt < 2; decrypt++) {
            for (int impl = MBEDTLS_STREAM_GCM_STOCK; impl <= MBEDTLS_STREAM_GCM_VAES; impl++) {
                if (mbedtls_stream_gcm_accel_select(impl) != impl) {
                    continue;
                }
                printf("%-12s %-8s %-6s %10.0f\n", ciphers[c].name, decrypt ? "decrypt" : "encrypt",
                       names[impl], measure(ciphers[c].type, decrypt, seconds));
                fflush(stdout);
            }
        }
    }
    mbedtls_stream_gcm_accel_select(-1);
    return 0;
}
