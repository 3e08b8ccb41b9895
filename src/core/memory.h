/*
 * memory.h: accounting of the bytes Mbed TLS and the engine's byte windows allocate, per
 * session and per process.
 *
 * Mbed TLS allocates through one process-wide calloc/free pair. The engine installs a
 * counting pair and names an "owner" (a session's account) for the duration of each call
 * into Mbed TLS; every allocation remembers its owner, so a free made later, from any
 * call or thread, is charged back to the right account. The engine's own windows are
 * charged to their session's account directly (mst_memory_alloc).
 */
#ifndef MBEDTLS_STREAM_MEMORY_H
#define MBEDTLS_STREAM_MEMORY_H

#include <stddef.h>

typedef struct mst_memory_account mst_memory_account;

/* Installs the counting allocator into Mbed TLS. Call once, before anything else
 * allocates through Mbed TLS. */
int mst_memory_install(void);

/* A new account with one reference (the caller's). NULL on allocation failure. */
mst_memory_account *mst_memory_account_new(void);
/* Drops the caller's reference; the account is freed when its last allocation is. */
void mst_memory_account_release(mst_memory_account *account);
void mst_memory_account_read(const mst_memory_account *account, size_t *current, size_t *peak);
/* How many blocks were ever allocated for the account (Mbed TLS's and the engine's own). */
size_t mst_memory_account_allocations(const mst_memory_account *account);

/* The engine's own buffers, charged to `account` (which may be NULL: the totals only) like
 * Mbed TLS's allocations; not zeroed. Free with mst_memory_free(). */
void *mst_memory_alloc(mst_memory_account *account, size_t size);
void mst_memory_free(void *pointer);

/* Makes `account` the owner of allocations on this thread; returns the previous owner,
 * to be restored with mst_memory_leave(). Calls nest. */
mst_memory_account *mst_memory_enter(mst_memory_account *account);
void mst_memory_leave(mst_memory_account *previous);

void mst_memory_read_totals(size_t *current, size_t *peak);

#endif /* MBEDTLS_STREAM_MEMORY_H */
