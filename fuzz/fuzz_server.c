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
 *          bit  4    a server that chooses (fuzz_choosing_server_config): it holds the
 *                    ClientHello, reads SNI, ALPN and PSK identities, answers PSK identities
 *                    with a key (bit 6: none), and goes on with the other certificate's
 *                    config when bit 5 is set; it also resumes sessions
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
    for (unsigned v = 0; v < FUZZ_SERVER_VARIANTS; v++) {
        fuzz_server_config(MST_STREAM, v);
        fuzz_choosing_server_config(v);
    }
    return 0;
}

static const uint8_t fuzz_psk[16] = "fuzz-psk-key-16b";

/* The embedder's choices for a server that holds its ClientHello and asks for PSKs. */
static void choose(fuzz_peer *server, uint8_t options)
{
    mst_session *s = server->session;
    unsigned events = mst_session_take_events(s);
    size_t len;
    if (mst_session_psk_identity(s, &len) != NULL)
        mst_session_set_psk(s, (options & 0x40) ? NULL : fuzz_psk, sizeof(fuzz_psk));
    if (events & MST_EVENT_CLIENT_HELLO) {
        for (size_t i = 0; mst_session_hello_alpn(s, i) != NULL; i++)
            ;
        (void)mst_session_server_name(s);
        mst_session_continue_hello(s, fuzz_choosing_server_config((options & 0x20) ? 1 : 0));
    }
    if (events & (MST_EVENT_CLIENT_HELLO | MST_EVENT_PSK_IDENTITY))
        mst_session_process(s);
    server->pending_events |= events & ~(MST_EVENT_CLIENT_HELLO | MST_EVENT_PSK_IDENTITY);
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
    bool choosing = options & 0x10;
    fuzz_peer_start(&server,
                    choosing ? fuzz_choosing_server_config(options & 1)
                             : fuzz_server_config(MST_STREAM, options & 1),
                    (options >> 1) & 3, false);
    if (choosing)
        mst_session_hold_client_hello(server.session);
    while (size > 0) {
        size_t n = fuzz_chunker_next(&chunker, size);
        fuzz_feed(&server, data, n);
        if (choosing)
            choose(&server, options);
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
