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
 * With Connection IDs (RFC 9146; option bit 3), each session takes a FUZZ_CID_LENGTH-byte
 * CID (a counter, 1 for the first session of an input, big-endian), and a tls12_cid record
 * (content type 25) goes to the session owning its CID, whatever its address: from a new
 * address only once mst_session_check_record() says it authenticates for that session, and
 * then the session moves there (one at that address is closed), as a client behind a NAT
 * that rebinds. A CID no session owns, or a record that does not authenticate, is dropped.
 *
 * Input: byte 0 options
 *          bit  0    RSA certificate instead of ECDSA
 *          bits 1-2  verify override (fuzz_verify_mode)
 *          bit  3    Connection IDs
 *          bit  4    sessions hold their ClientHello (as with lib/dtls's SNICallback) and
 *                    go on with fuzz_dtls_chosen_config() once it is whole
 *        then events, each starting with a byte e:
 *          e & 0x80  the clock jumps to the earliest retransmission timer and every session
 *                    processes (retransmissions, handshakes timing out)
 *          else      a datagram from address e & 3: a 2-byte big-endian length n and n
 *                    bytes (cut at the end of the input)
 * Address 0 is the transport id fuzz_dtls's server uses, so fuzz_dtls's recorded server
 * seeds, with a 0 before each datagram, replay here in full: cookie exchange, handshake,
 * data and close_notify (fuzz/record.sh converts them). The dtls-cid seed is a handshake
 * with CIDs from address 0 whose CID records then come from address 1; dtls-cid-sni is the
 * same with the ClientHello held and the chosen config's certificate.
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
    for (unsigned v = 0; v < FUZZ_SERVER_VARIANTS; v++) {
        fuzz_server_config(MST_DATAGRAM, v);
        fuzz_cid_server_config(v);
        fuzz_dtls_chosen_config(v, false);
        fuzz_dtls_chosen_config(v, true);
    }
    return 0;
}

typedef struct demux {
    mst_config *config;
    bool cids, hold;
    unsigned variant, verify_bits;
    fuzz_peer peers[ADDRESSES]; /* the session of each address */
    bool live[ADDRESSES];
    uint8_t cid[ADDRESSES][FUZZ_CID_LENGTH]; /* with CIDs: the CID of peers[a] */
    uint32_t sessions_made;
    size_t hello_verify_requests, dropped;
} demux;

static void forget(demux *d, unsigned a)
{
    if (d->live[a]) {
        fuzz_peer_finish(&d->peers[a]);
        d->live[a] = false;
    }
}

/* With CIDs: the address whose session owns the CID of a tls12_cid record; -1 for a CID
 * nobody owns; -2 when the datagram is not such a record. */
static int cid_owner(const demux *d, const uint8_t *data, size_t len)
{
    if (!d->cids || data[0] != MST_DTLS_CID_CONTENT_TYPE || len < 11 + FUZZ_CID_LENGTH + 2)
        return -2;
    for (unsigned a = 0; a < ADDRESSES; a++) {
        if (d->live[a] && memcmp(d->cid[a], data + 11, FUZZ_CID_LENGTH) == 0)
            return (int)a;
    }
    return -1;
}

/* The session at `from` follows its peer to `to`; a session there is closed. */
static void move(demux *d, unsigned from, unsigned to)
{
    if (d->live[to]) {
        fuzz_close(&d->peers[to]);
        fuzz_service(&d->peers[to]);
        forget(d, to);
    }
    d->peers[to] = d->peers[from];
    memcpy(d->cid[to], d->cid[from], FUZZ_CID_LENGTH);
    d->live[to] = true;
    d->live[from] = false;
}

/* A datagram that opens a handshake: a handshake record of epoch 0 holding a ClientHello. */
static bool is_initial_client_hello(const uint8_t *data, size_t len)
{
    return len > 13 && data[0] == 22 && data[3] == 0 && data[4] == 0 && data[13] == 1;
}

static void receive(demux *d, unsigned a, const uint8_t *data, size_t len)
{
    fuzz_peer *peer = &d->peers[a];
    int owner = cid_owner(d, data, len);
    if (owner == -1) {
        d->dropped++;
        return;
    }
    if (owner >= 0) {
        if ((unsigned)owner != a) {
            if (mst_session_check_record(d->peers[owner].session, data, len) != 0) {
                d->dropped++;
                return;
            }
            move(d, (unsigned)owner, a);
        }
        fuzz_feed(peer, data, len);
        fuzz_service(peer);
    } else if (d->live[a] && ((mst_session_state(peer->session) & MST_STATE_HANDSHAKING) ||
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
            d->sessions_made++;
            if (d->cids) {
                for (unsigned i = 0; i < FUZZ_CID_LENGTH; i++)
                    d->cid[a][i] = (uint8_t)(d->sessions_made >> (8 * (FUZZ_CID_LENGTH - 1 - i)));
                mst_session_use_cid(peer->session, d->cid[a], FUZZ_CID_LENGTH);
            }
            mst_session_set_transport_id(peer->session, (const uint8_t *)id, strlen(id));
            if (d->hold) {
                peer->chosen = fuzz_dtls_chosen_config(d->variant, d->cids);
                mst_session_hold_client_hello(peer->session);
            }
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
    demux d = {.verify_bits = (data[0] >> 1) & 3, .cids = (data[0] & 8) != 0,
               .hold = (data[0] & 0x10) != 0, .variant = data[0] & 1};
    fuzz_rng_reset(FUZZ_STREAM_SERVER);
    d.config = d.cids ? fuzz_cid_server_config(data[0] & 1) : fuzz_server_config(MST_DATAGRAM, data[0] & 1);
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
