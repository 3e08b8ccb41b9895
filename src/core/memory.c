/*
 * memory.c: the counting allocator installed into Mbed TLS (see memory.h).
 *
 * Each block carries a header with its size and owning account. An account stays alive
 * while it has live blocks, so a block freed after its session was destroyed (a saved
 * session ticket, say) never touches freed memory.
 *
 * Blocks of MAPPED_THRESHOLD bytes or more (Mbed TLS's two record buffers, the windows of a
 * connection moving data) are mapped straight from the OS. Freed, they leave the process's
 * resident memory at once; from malloc they would stay as holes in its heap, resident,
 * when an idle connection shrinks its buffers. And a page of one is resident only once
 * touched: a record buffer that only ever holds short records costs a page or two.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS under -std=c11 */
#include "memory.h"

#include <stdatomic.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>

#include <mbedtls/platform.h>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#define HAVE_MMAP 1
#endif

#define MAPPED_THRESHOLD (16 * 1024)
/* At most this many blocks are mappings at a time: each may take one of the process's
 * memory map areas (vm.max_map_count, 65530 by default), which V8 and malloc need too. */
#define MAPPED_LIMIT 16384
/* In a header's size: the block is a mapping of its own. */
#define MAPPED_FLAG ((size_t)1 << (sizeof(size_t) * 8 - 1))

struct mst_memory_account {
    atomic_size_t current;
    atomic_size_t peak;
    atomic_size_t references; /* the session's own, plus one per live block */
    atomic_size_t allocations; /* blocks ever allocated for the account */
};

typedef union block_header {
    struct {
        mst_memory_account *owner;
        size_t size;
    } fields;
    max_align_t alignment; /* keeps the block after the header aligned for any type */
} block_header;

static atomic_size_t total_current;
static atomic_size_t mapped_blocks;
static atomic_size_t total_peak;
static _Thread_local mst_memory_account *current_owner;

static void raise_peak(atomic_size_t *peak, size_t value)
{
    size_t seen = atomic_load_explicit(peak, memory_order_relaxed);
    while (value > seen &&
           !atomic_compare_exchange_weak_explicit(peak, &seen, value, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

static void account_release(mst_memory_account *account)
{
    if (atomic_fetch_sub_explicit(&account->references, 1, memory_order_acq_rel) == 1)
        free(account);
}

/* A block with room for its header and `bytes`, zeroed when asked (mappings always are);
 * *mapped says whether it is a mapping. NULL when out of memory. */
static block_header *allocate(size_t bytes, int zeroed, int *mapped)
{
    size_t total = sizeof(block_header) + bytes;
    *mapped = 0;
#if defined(HAVE_MMAP)
    if (bytes >= MAPPED_THRESHOLD) {
        /* Counted before the call, so concurrent callers never pass the limit together. */
        if (atomic_fetch_add_explicit(&mapped_blocks, 1, memory_order_relaxed) < MAPPED_LIMIT) {
            void *block =
                mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (block != MAP_FAILED) {
                *mapped = 1;
                return block;
            }
        }
        /* Past the limit or out of mappings: the heap serves. */
        atomic_fetch_sub_explicit(&mapped_blocks, 1, memory_order_relaxed);
    }
#endif
    return zeroed ? calloc(1, total) : malloc(total);
}

/* Charges a block of `bytes` (its header already allocated) to `owner` and the totals. */
static void *charge(block_header *header, mst_memory_account *owner, size_t bytes, int mapped)
{
    header->fields.owner = owner;
    header->fields.size = bytes | (mapped ? MAPPED_FLAG : 0);
    size_t now = atomic_fetch_add_explicit(&total_current, bytes, memory_order_relaxed) + bytes;
    raise_peak(&total_peak, now);
    if (owner != NULL) {
        atomic_fetch_add_explicit(&owner->references, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&owner->allocations, 1, memory_order_relaxed);
        now = atomic_fetch_add_explicit(&owner->current, bytes, memory_order_relaxed) + bytes;
        raise_peak(&owner->peak, now);
    }
    return header + 1;
}

static void *counting_calloc(size_t count, size_t size)
{
    if (size != 0 && count > (SIZE_MAX / 2 - sizeof(block_header)) / size)
        return NULL;
    size_t bytes = count * size;
    int mapped;
    block_header *header = allocate(bytes, 1, &mapped);
    return header != NULL ? charge(header, current_owner, bytes, mapped) : NULL;
}

static void counting_free(void *pointer)
{
    if (pointer == NULL)
        return;
    block_header *header = (block_header *)pointer - 1;
    mst_memory_account *owner = header->fields.owner;
    size_t bytes = header->fields.size & ~MAPPED_FLAG;
    int mapped = (header->fields.size & MAPPED_FLAG) != 0;
    atomic_fetch_sub_explicit(&total_current, bytes, memory_order_relaxed);
    if (owner != NULL) {
        atomic_fetch_sub_explicit(&owner->current, bytes, memory_order_relaxed);
        account_release(owner);
    }
#if defined(HAVE_MMAP)
    if (mapped) {
        munmap(header, sizeof(block_header) + bytes);
        atomic_fetch_sub_explicit(&mapped_blocks, 1, memory_order_relaxed);
        return;
    }
#endif
    (void)mapped;
    free(header);
}

void *mst_memory_alloc(mst_memory_account *account, size_t size)
{
    if (size > SIZE_MAX / 2 - sizeof(block_header))
        return NULL;
    int mapped;
    block_header *header = allocate(size, 0, &mapped);
    return header != NULL ? charge(header, account, size, mapped) : NULL;
}

void mst_memory_free(void *pointer) { counting_free(pointer); }

int mst_memory_install(void)
{
    return mbedtls_platform_set_calloc_free(counting_calloc, counting_free);
}

mst_memory_account *mst_memory_account_new(void)
{
    mst_memory_account *account = calloc(1, sizeof(*account));
    if (account != NULL)
        atomic_init(&account->references, 1);
    return account;
}

void mst_memory_account_release(mst_memory_account *account)
{
    if (account != NULL)
        account_release(account);
}

void mst_memory_account_read(const mst_memory_account *account, size_t *current, size_t *peak)
{
    *current = atomic_load_explicit(&account->current, memory_order_relaxed);
    *peak = atomic_load_explicit(&account->peak, memory_order_relaxed);
}

size_t mst_memory_account_allocations(const mst_memory_account *account)
{
    return atomic_load_explicit(&account->allocations, memory_order_relaxed);
}

mst_memory_account *mst_memory_enter(mst_memory_account *account)
{
    mst_memory_account *previous = current_owner;
    current_owner = account;
    return previous;
}

void mst_memory_leave(mst_memory_account *previous)
{
    current_owner = previous;
}

void mst_memory_read_totals(size_t *current, size_t *peak)
{
    *current = atomic_load_explicit(&total_current, memory_order_relaxed);
    *peak = atomic_load_explicit(&total_peak, memory_order_relaxed);
}
