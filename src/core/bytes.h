/*
 * bytes.h: the growable byte queue behind the engine's four windows (ciphertext in and
 * out, plaintext out, datagrams). Bytes are appended at the end and consumed from the
 * front; consumed space is reclaimed before the buffer grows. Memory is charged to the
 * window's owner (a session's account, see memory.h).
 */
#ifndef MBEDTLS_STREAM_BYTES_H
#define MBEDTLS_STREAM_BYTES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memory.h"

typedef struct mst_bytes {
    uint8_t *data;
    size_t start; /* first unconsumed byte */
    size_t end;   /* one past the last byte */
    size_t capacity;
    mst_memory_account *owner; /* charged for data; set once, kept by mst_bytes_free */
} mst_bytes;

static inline size_t mst_bytes_length(const mst_bytes *b) { return b->end - b->start; }
/* NULL for a buffer that never held anything (NULL + 0 is undefined in C). */
static inline const uint8_t *mst_bytes_front(const mst_bytes *b)
{
    return b->data != NULL ? b->data + b->start : NULL;
}

static inline void mst_bytes_free(mst_bytes *b)
{
    mst_memory_free(b->data);
    b->data = NULL;
    b->start = b->end = b->capacity = 0;
}

/* Makes room for `need` more bytes at the end; returns a pointer there or NULL. */
static inline uint8_t *mst_bytes_reserve(mst_bytes *b, size_t need)
{
    if (b->data != NULL && b->capacity - b->end >= need)
        return b->data + b->end;
    size_t length = b->end - b->start;
    if (b->start > 0 && b->capacity - length >= need) {
        memmove(b->data, b->data + b->start, length);
        b->start = 0;
        b->end = length;
        return b->data + b->end;
    }
    size_t capacity = b->capacity ? b->capacity : 4096;
    while (capacity - length < need) {
        if (capacity > SIZE_MAX / 2)
            return NULL;
        capacity *= 2;
    }
    uint8_t *data = mst_memory_alloc(b->owner, capacity);
    if (data == NULL)
        return NULL;
    if (length > 0)
        memcpy(data, b->data + b->start, length);
    mst_memory_free(b->data);
    b->data = data;
    b->start = 0;
    b->end = length;
    b->capacity = capacity;
    return b->data + b->end;
}

static inline int mst_bytes_append(mst_bytes *b, const uint8_t *src, size_t len)
{
    uint8_t *dst = mst_bytes_reserve(b, len);
    if (dst == NULL)
        return -1;
    if (len > 0)
        memcpy(dst, src, len);
    b->end += len;
    return 0;
}

static inline void mst_bytes_consume(mst_bytes *b, size_t len)
{
    if (len > b->end - b->start)
        len = b->end - b->start;
    b->start += len;
    if (b->start == b->end)
        b->start = b->end = 0;
}

/* Drops the buffer's memory once it is empty and larger than `keep` bytes, so an idle
 * connection does not hold on to the peak of a burst. */
static inline void mst_bytes_trim(mst_bytes *b, size_t keep)
{
    if (b->start == b->end && b->capacity > keep)
        mst_bytes_free(b);
}

#endif /* MBEDTLS_STREAM_BYTES_H */
