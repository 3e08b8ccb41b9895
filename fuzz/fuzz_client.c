/*
 * fuzz_client.c: a TLS client engine (stream mode) against bytes "from the server".
 *
 * Each input makes a fresh client session from one of the static client configs, lets it
 * write its ClientHello (mst_session_process), then feeds it the input as the server's
 * byte stream, in chunks whose sizes the input chooses, so records arrive fragmented and
 * coalesced. After every chunk the embedder's part runs (fuzz_service: take ciphertext,
 * read plaintext, write once the handshake is done, answer close_notify); the input ends
 * with feed_eof or close, and the session is freed: LeakSanitizer and the PSA key-slot
 * check catch anything left behind.
 *
 * Input: byte 0 options
 *          bits 0-1  client config: TLS 1.2-1.3 (0, 3), TLS 1.2 only (1), TLS 1.3 only (2)
 *          bit  2    the client has a certificate (client-chain.pem)
 *          bits 3-4  verify override (fuzz_verify_mode: keep, optional, none, explicit)
 *          bit  5    send SNI "localhost"
 *          bit  6    end with feed_eof (else close)
 *        byte 1 chunking (fuzz_chunker)
 *        rest   the server's bytes
 * The RNG is deterministic (fuzz_common.c), so the client's ClientHello is the same in
 * every run: seeds recorded from real handshakes (record_seeds.c) carry a real server's
 * answer to it, and the fuzzer starts from complete handshakes, application data and
 * close_notify.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    for (unsigned v = 0; v < FUZZ_CLIENT_VARIANTS; v++)
        fuzz_client_config(MST_STREAM, v);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t slots = fuzz_psa_slots_in_use();
    fuzz_peer client = {.endpoint = MST_CLIENT, .transport = MST_STREAM};
    fuzz_client_input(&client, data, size);
    fuzz_peer_finish(&client);
    fuzz_check_psa_slots(slots, "fuzz_client");
    return 0;
}
