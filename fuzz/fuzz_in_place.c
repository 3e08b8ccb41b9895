/*
 * fuzz_in_place.c: mst_session_feed_in_place() against mst_session_feed_ciphertext(), on
 * the same bytes "from the server".
 *
 * Each input runs fuzz_client's scenario twice, from the same RNG stream: once feeding the
 * client's chunks as they are, once through feed_in_place on a copy of exactly each chunk
 * (decrypting records over it). Both runs must read the same plaintext (length and hash,
 * window first, then the chunk's in-place bytes), send the same ciphertext, and end in the
 * same state with the same error; anything else aborts. AddressSanitizer sees a write past
 * a chunk; a write over bytes not yet read shows as a record that fails or a different
 * plaintext. The input format is fuzz_client's, so its seeds (recorded handshakes with
 * application data after them, fuzz/corpus/fuzz_client) are this target's too.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_common.h"

typedef struct outcome {
    size_t plaintext_len;
    uint64_t plaintext_hash;
    size_t ciphertext_len;
    uint64_t ciphertext_hash;
    unsigned state;
    int error;
} outcome;

static void hash_ciphertext(void *context, const uint8_t *data, size_t len)
{
    outcome *o = context;
    if (o->ciphertext_len == 0)
        o->ciphertext_hash = 0xcbf29ce484222325u;
    for (size_t i = 0; i < len; i++)
        o->ciphertext_hash = (o->ciphertext_hash ^ data[i]) * 0x100000001b3u;
    o->ciphertext_len += len;
}

static void run(const uint8_t *data, size_t size, bool in_place, outcome *o)
{
    fuzz_peer client = {.endpoint = MST_CLIENT, .transport = MST_STREAM, .in_place = in_place,
                        .sink = hash_ciphertext, .sink_context = o};
    fuzz_client_input(&client, data, size);
    o->plaintext_len = client.plaintext_len;
    o->plaintext_hash = client.plaintext_hash;
    o->state = mst_session_state(client.session);
    const mst_error *err = mst_session_error(client.session);
    o->error = err != NULL ? err->code : 0;
    fuzz_peer_finish(&client);
}

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
    outcome plain = {0}, in_place = {0};
    run(data, size, false, &plain);
    run(data, size, true, &in_place);
    if (plain.plaintext_len != in_place.plaintext_len ||
        plain.plaintext_hash != in_place.plaintext_hash ||
        plain.ciphertext_len != in_place.ciphertext_len ||
        plain.ciphertext_hash != in_place.ciphertext_hash || plain.state != in_place.state ||
        plain.error != in_place.error) {
        fprintf(stderr,
                "==fuzz== fuzz_in_place: the runs differ: plaintext %zu/%zu bytes, ciphertext "
                "%zu/%zu bytes, state 0x%x/0x%x, error %d/%d (fed as is / in place)\n",
                plain.plaintext_len, in_place.plaintext_len, plain.ciphertext_len,
                in_place.ciphertext_len, plain.state, in_place.state, plain.error,
                in_place.error);
        abort();
    }
    fuzz_check_psa_slots(slots, "fuzz_in_place");
    return 0;
}
