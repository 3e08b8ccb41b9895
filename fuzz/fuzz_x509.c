/*
 * fuzz_x509.c: the engine's certificate, key and CRL parsing entry points.
 *
 * Each input makes a fresh config (a server's: a config is what these calls fill) and
 * gives the input to one of
 *   mst_config_add_ca (strict), mst_config_add_ca (lenient: unparsable certificates
 *   skipped), mst_config_add_crl, mst_config_add_certificate (chain + private key +
 *   optional passphrase),
 * then, when the input asks, creates and frees a session on the config (which freezes it
 * and hands the parsed CA list and CRLs to Mbed TLS), and frees the config: LeakSanitizer
 * catches anything a parser left behind.
 *
 * Input: byte 0 options
 *          bits 0-1  0 add_ca strict, 1 add_ca lenient, 2 add_crl, 3 add_certificate
 *          bit  2    create a session from the config afterwards
 *          bit  3    before a CRL: trust ca.pem (a CRL with its CA, as configured in use)
 *        rest   the PEM or DER data; for add_certificate split at "\n@@\n" into chain, key
 *               and passphrase (a missing key is empty; a missing passphrase is NULL)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

static const uint8_t *find(const uint8_t *data, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(data + i, needle, n) == 0)
            return data + i;
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t options = data[0];
    data += 1;
    size -= 1;

    size_t slots = fuzz_psa_slots_in_use();
    fuzz_rng_reset(FUZZ_STREAM_CONFIG);
    fuzz_rng_select(FUZZ_STREAM_CONFIG);
    mst_error err;
    mst_config *config = mst_config_new(MST_SERVER, MST_STREAM, &err);
    if (config == NULL)
        return 0;
    /* The engine may keep pointers into the data only while parsing: give it a copy that
     * is freed right after the call, so ASan sees any later use. */
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    int ret = 0;
    size_t skipped = 0;
    switch (options & 3) {
    case 0:
        ret = mst_config_add_ca(config, copy, size, 1, NULL, &err);
        break;
    case 1:
        ret = mst_config_add_ca(config, copy, size, 0, &skipped, &err);
        break;
    case 2:
        if (options & 8) {
            const fuzz_file *ca = fuzz_cert_file("ca.pem");
            mst_config_add_ca(config, ca->data, ca->len, 1, NULL, &err);
        }
        ret = mst_config_add_crl(config, copy, size, &err);
        break;
    case 3: {
        const uint8_t *chain = copy, *key = copy + size, *pass = NULL;
        size_t chain_len = size, key_len = 0, pass_len = 0;
        const uint8_t *sep = find(copy, size, FUZZ_X509_SEPARATOR);
        size_t sep_len = strlen(FUZZ_X509_SEPARATOR);
        if (sep != NULL) {
            chain_len = (size_t)(sep - copy);
            key = sep + sep_len;
            key_len = size - chain_len - sep_len;
            const uint8_t *sep2 = find(key, key_len, FUZZ_X509_SEPARATOR);
            if (sep2 != NULL) {
                pass = sep2 + sep_len;
                pass_len = (size_t)(copy + size - pass);
                key_len = (size_t)(sep2 - key);
            }
        }
        ret = mst_config_add_certificate(config, chain, chain_len, key, key_len, pass, pass_len,
                                         &err);
        break;
    }
    }
    free(copy);
    (void)ret;
    (void)skipped;
    if (options & 4) {
        fuzz_rng_reset(FUZZ_STREAM_SERVER);
        fuzz_rng_select(FUZZ_STREAM_SERVER);
        mst_session *session = mst_session_new(config, &err);
        mst_session_free(session);
    }
    mst_config_unref(config);
    fuzz_check_psa_slots(slots, "fuzz_x509");
    return 0;
}
