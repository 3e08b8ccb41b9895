/*
 * tickets.c: a client's TLS 1.3 session tickets, one resumable session each.
 *
 * A TLS 1.3 server may send several NewSessionTickets, and several can arrive in one call.
 * Mbed TLS keeps only the latest in the connection's session, while node reports each one
 * (a 'session' event per ticket, with getSession() and getTLSTicket() saying that ticket's
 * session while it is reported). So each is kept as it arrives, as Mbed TLS's serialized
 * session and the ticket itself, until the embedder has moved past it. The copies hold
 * resumption secrets and are wiped when freed.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS /* the session's ticket */
#include "internal.h"

#include <string.h>

#include <mbedtls/platform_util.h>

struct mst_ticket {
    mst_ticket *next;
    uint8_t *session; /* mbedtls_ssl_session_save() */
    size_t session_len;
    uint8_t *ticket;
    size_t ticket_len;
};

static void free_ticket(mst_ticket *ticket)
{
    if (ticket == NULL)
        return;
    if (ticket->session != NULL) {
        mbedtls_platform_zeroize(ticket->session, ticket->session_len);
        free(ticket->session);
    }
    free(ticket->ticket);
    free(ticket);
}

int mst_tickets_keep(mst_tickets *tickets, const mbedtls_ssl_session *live)
{
#if defined(MBEDTLS_SSL_SESSION_TICKETS) && defined(MBEDTLS_SSL_CLI_C)
    mst_ticket *kept = calloc(1, sizeof(*kept));
    if (kept == NULL)
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    int ret = mbedtls_ssl_session_save(live, NULL, 0, &kept->session_len);
    if (ret == MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL || ret == 0) {
        kept->session = malloc(kept->session_len);
        kept->ticket = malloc(live->ticket_len > 0 ? live->ticket_len : 1);
        ret = kept->session != NULL && kept->ticket != NULL
                  ? mbedtls_ssl_session_save(live, kept->session, kept->session_len,
                                             &kept->session_len)
                  : MBEDTLS_ERR_SSL_ALLOC_FAILED;
    }
    if (ret != 0) {
        free_ticket(kept);
        return ret;
    }
    if (live->ticket_len > 0)
        memcpy(kept->ticket, live->ticket, live->ticket_len);
    kept->ticket_len = live->ticket_len;
    mst_ticket **end = &tickets->waiting;
    while (*end != NULL)
        end = &(*end)->next;
    *end = kept;
    return 0;
#else
    (void)tickets;
    (void)live;
    return 0;
#endif
}

bool mst_tickets_next(mst_tickets *tickets)
{
    free_ticket(tickets->reported);
    tickets->reported = tickets->waiting;
    if (tickets->reported == NULL)
        return false;
    tickets->waiting = tickets->reported->next;
    tickets->reported->next = NULL;
    return true;
}

const uint8_t *mst_tickets_session(const mst_tickets *tickets, size_t *len)
{
    *len = tickets->reported != NULL ? tickets->reported->session_len : 0;
    return tickets->reported != NULL ? tickets->reported->session : NULL;
}

const uint8_t *mst_tickets_ticket(const mst_tickets *tickets, size_t *len)
{
    *len = tickets->reported != NULL ? tickets->reported->ticket_len : 0;
    return tickets->reported != NULL ? tickets->reported->ticket : NULL;
}

void mst_tickets_free(mst_tickets *tickets)
{
    while (mst_tickets_next(tickets))
        ;
}
