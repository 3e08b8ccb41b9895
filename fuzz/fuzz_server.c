/*
 * fuzz_server.c: a TLS server engine (stream mode) against bytes "from the client".
 *
 * Each input makes a fresh server session from a static server config (the ECDSA server
 * certificate, or the RSA one), feeds it the input as the client's byte stream in chunks
 * whose sizes the input chooses, and after every chunk does the embedder's part
 * (fuzz_service). The input ends with feed_eof or close; the session is freed, so
 * LeakSanitizer and the PSA key-slot check catch anything left behind.
 *
 * Input: byte 0 options
 *          bit  0    RSA server certificate (server-rsa-chain.pem) instead of ECDSA
 *          bits 1-2  verify override (fuzz_verify_mode: keep (none), optional, required,
 *                    explicit none): whether the server asks for a client certificate
 *          bit  3    end with feed_eof (else close)
 *        byte 1 chunking (fuzz_chunker)
 *        rest   the client's bytes
 * The server's randomness is deterministic (fuzz_common.c), so a client's stream recorded
 * against it (record_seeds.c) replays as a complete handshake: the fuzzer starts from
 * ClientHellos, client certificates, Finished, application data and close_notify that the
 * server accepts.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    for (unsigned v = 0; v < FUZZ_SERVER_VARIANTS; v++)
        fuzz_server_config(MST_STREAM, v);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t options = data[0];
    fuzz_chunker chunker;
    fuzz_chunker_init(&chunker, data[1]);
    data += 2;
    size -= 2;

    size_t slots = fuzz_psa_slots_in_use();
    fuzz_rng_reset(FUZZ_STREAM_SERVER);
    fuzz_peer server = {.endpoint = MST_SERVER, .transport = MST_STREAM};
    fuzz_peer_start(&server, fuzz_server_config(MST_STREAM, options & 1), (options >> 1) & 3,
                    false);
    while (size > 0) {
        size_t n = fuzz_chunker_next(&chunker, size);
        fuzz_feed(&server, data, n);
        fuzz_service(&server);
        data += n;
        size -= n;
    }
    if (options & 0x08)
        fuzz_eof(&server);
    else
        fuzz_close(&server);
    fuzz_service(&server);
    fuzz_peer_finish(&server);
    fuzz_check_psa_slots(slots, "fuzz_server");
    return 0;
}
