/*
 * fuzz_dtls.c: the engine in datagram mode (DTLS 1.2), as client or server, against
 * datagrams "from the peer".
 *
 * Each input makes a fresh session from a static datagram config, in the role the first
 * byte chooses (a client first writes its ClientHello), then delivers the input as a
 * sequence of datagrams, one mst_session_feed_ciphertext each, and lets retransmission
 * timers fire where the input says so. After every event the embedder's part runs
 * (fuzz_service); the session is freed at the end, so LeakSanitizer and the PSA key-slot
 * check catch anything left behind.
 *
 * Input: byte 0 options
 *          bit  0    role: 0 client, 1 server
 *          bit  1    client: has a certificate; server: RSA certificate instead of ECDSA
 *          bits 2-3  verify override (fuzz_verify_mode)
 *          bit  4    client: send SNI "localhost"
 *          bit  5    end with feed_eof (else close)
 *        then events: a 2-byte big-endian length n and n bytes, one datagram (cut at the
 *        end of the input); n == 0: the clock jumps to the retransmission timer and the
 *        engine processes (a retransmission, or the handshake timing out)
 * The randomness and the clock are deterministic (fuzz_common.c): seeds recorded from real
 * DTLS handshakes (record_seeds.c), cookie exchange included, replay in full.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    fuzz_client_config(MST_DATAGRAM, 0);
    fuzz_client_config(MST_DATAGRAM, 4);
    for (unsigned v = 0; v < FUZZ_SERVER_VARIANTS; v++)
        fuzz_server_config(MST_DATAGRAM, v);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t options = data[0];
    data += 1;
    size -= 1;

    size_t slots = fuzz_psa_slots_in_use();
    bool server = (options & 1) != 0;
    fuzz_peer peer = {.endpoint = server ? MST_SERVER : MST_CLIENT, .transport = MST_DATAGRAM};
    mst_config *config;
    if (server) {
        fuzz_rng_reset(FUZZ_STREAM_SERVER);
        config = fuzz_server_config(MST_DATAGRAM, (options >> 1) & 1);
    } else {
        fuzz_rng_reset(FUZZ_STREAM_CLIENT);
        config = fuzz_client_config(MST_DATAGRAM, (options & 2) ? 4 : 0);
    }
    fuzz_peer_start(&peer, config, (options >> 2) & 3, (options & 0x10) != 0);
    if (!server) {
        fuzz_process(&peer);
        fuzz_service(&peer);
    }
    while (size >= 2) {
        size_t n = ((size_t)data[0] << 8) | data[1];
        data += 2;
        size -= 2;
        if (n == 0) {
            fuzz_timer(&peer);
        } else {
            if (n > size)
                n = size;
            if (n == 0)
                break;
            fuzz_feed(&peer, data, n);
            data += n;
            size -= n;
        }
        fuzz_service(&peer);
    }
    if (options & 0x20)
        fuzz_eof(&peer);
    else
        fuzz_close(&peer);
    fuzz_service(&peer);
    fuzz_peer_finish(&peer);
    fuzz_check_psa_slots(slots, "fuzz_dtls");
    return 0;
}
