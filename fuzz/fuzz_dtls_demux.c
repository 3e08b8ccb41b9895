/*
 * fuzz_dtls_demux.c: a DTLS 1.2 server as lib/dtls/server.js runs it, one socket and many
 * peers, against datagrams from several addresses.
 *
 * The embedder's demultiplexer is modelled here over the engine: a datagram from an address
 * with a session goes to that session; one from an address without a session, or a new
 * ClientHello (epoch 0) from the address of an established session (a rebooted client),
 * goes first to the stateless check (mst_dtls_check_hello): a HelloVerifyRequest and no
 * state, or, with a valid cookie, a new session fed that datagram, which replaces the old
 * one. A session that fails is freed and its address forgotten. Every session is freed at
 * the end, so LeakSanitizer and the PSA key-slot check see anything left behind.
 *
 * Input: byte 0 options
 *          bit  0    RSA certificate instead of ECDSA
 *          bits 1-2  verify override (fuzz_verify_mode)
 *        then events, each starting with a byte e:
 *          e & 0x80  the clock jumps to the earliest retransmission timer and every session
 *                    processes (retransmissions, handshakes timing out)
 *          else      a datagram from address e & 3: a 2-byte big-endian length n and n
 *                    bytes (cut at the end of the input)
 * Address 0 is the transport id fuzz_dtls's server uses, so fuzz_dtls's recorded server
 * seeds, with a 0 before each datagram, replay here in full: cookie exchange, handshake,
 * data and close_notify (fuzz/record.sh converts them).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dtls_hello.h"
#include "fuzz_common.h"

#define ADDRESSES 4

static const char *const transport_ids[ADDRESSES] = {
    "127.0.0.1:4433", "127.0.0.1:4434", "10.1.2.3:4433", "[::1]:5684",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    for (unsigned v = 0; v < FUZZ_SERVER_VARIANTS; v++)
        fuzz_server_config(MST_DATAGRAM, v);
    return 0;
}

typedef struct demux {
    mst_config *config;
    unsigned verify_bits;
    fuzz_peer peers[ADDRESSES];
    bool live[ADDRESSES];
    size_t hello_verify_requests, dropped;
} demux;

static void forget(demux *d, unsigned a)
{
    if (d->live[a]) {
        fuzz_peer_finish(&d->peers[a]);
        d->live[a] = false;
    }
}

/* A datagram that opens a handshake: a handshake record of epoch 0 holding a ClientHello. */
static bool is_initial_client_hello(const uint8_t *data, size_t len)
{
    return len > 13 && data[0] == 22 && data[3] == 0 && data[4] == 0 && data[13] == 1;
}

static void receive(demux *d, unsigned a, const uint8_t *data, size_t len)
{
    fuzz_peer *peer = &d->peers[a];
    if (d->live[a] && ((mst_session_state(peer->session) & MST_STATE_HANDSHAKING) ||
                       !is_initial_client_hello(data, len))) {
        fuzz_feed(peer, data, len);
        fuzz_service(peer);
    } else {
        const char *id = transport_ids[a];
        uint8_t reply[MST_DTLS_HELLO_REPLY_MAX];
        size_t reply_len;
        switch (mst_dtls_check_hello(d->config, data, len, (const uint8_t *)id, strlen(id), reply,
                                     sizeof(reply), &reply_len)) {
        case MST_DTLS_HELLO_VERIFY:
            if (reply_len == 0 || reply_len > len)
                __builtin_trap(); /* a reply larger than the ClientHello: amplification */
            d->hello_verify_requests++;
            return;
        case MST_DTLS_HELLO_DROP:
            d->dropped++;
            return;
        case MST_DTLS_HELLO_ACCEPT:
            forget(d, a);
            *peer = (fuzz_peer){.endpoint = MST_SERVER, .transport = MST_DATAGRAM};
            fuzz_peer_start(peer, d->config, d->verify_bits, false);
            mst_session_set_transport_id(peer->session, (const uint8_t *)id, strlen(id));
            d->live[a] = true;
            fuzz_feed(peer, data, len);
            fuzz_service(peer);
            break;
        }
    }
    if (mst_session_state(peer->session) & MST_STATE_FAILED)
        forget(d, a);
}

static void timers(demux *d)
{
    for (unsigned a = 0; a < ADDRESSES; a++) {
        if (!d->live[a] || mst_session_timeout(d->peers[a].session) < 0)
            continue;
        fuzz_timer(&d->peers[a]);
        fuzz_service(&d->peers[a]);
        if (mst_session_state(d->peers[a].session) & MST_STATE_FAILED)
            forget(d, a);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t slots = fuzz_psa_slots_in_use();
    demux d = {.verify_bits = (data[0] >> 1) & 3};
    fuzz_rng_reset(FUZZ_STREAM_SERVER);
    d.config = fuzz_server_config(MST_DATAGRAM, data[0] & 1);
    data += 1;
    size -= 1;
    while (size >= 1) {
        uint8_t event = data[0];
        data += 1;
        size -= 1;
        if (event & 0x80) {
            timers(&d);
            continue;
        }
        if (size < 2)
            break;
        size_t n = ((size_t)data[0] << 8) | data[1];
        data += 2;
        size -= 2;
        if (n > size)
            n = size;
        if (n == 0)
            continue;
        receive(&d, event & 3, data, n);
        data += n;
        size -= n;
    }
    for (unsigned a = 0; a < ADDRESSES; a++) {
        if (d.live[a]) {
            fuzz_close(&d.peers[a]);
            fuzz_service(&d.peers[a]);
        }
        forget(&d, a);
    }
    fuzz_check_psa_slots(slots, "fuzz_dtls_demux");
    return 0;
}
