// sink_pool.h: the memory of the Buffers that received records are decrypted into (Feed),
// taken again once garbage collection has freed a Buffer.
//
// Used for transports whose reads are not decrypted in place (lib/socket.js: a Duplex of
// the application's, a socket someone else also reads). A connection receiving a stream
// over one gets one new Buffer of up to a read's size per read; made by malloc each time
// and freed in batches after garbage collection, they made glibc's heap grow and shrink,
// and every page of new heap is a page fault. Here the blocks come back
// through the Buffer's finalizer (on the JS thread that made it, after garbage collection)
// to a process-wide list of at most kKeptSinkBlocks, shared by every environment (main and
// workers); a finalizer run after the list is full frees its block.
#ifndef MBEDTLS_STREAM_SINK_POOL_H
#define MBEDTLS_STREAM_SINK_POOL_H

#include <napi.h>

#include <cstddef>
#include <cstdint>

// A Buffer of `size` bytes, uninitialized: a kept block when size fits one (kSinkBlockSize
// bytes), else an ordinary one.
Napi::Buffer<uint8_t> NewSinkBuffer(Napi::Env env, size_t size);

// Frees the kept blocks (nothing is flowing: lib/idle-trim.js). Returns how many bytes.
size_t ReleaseSinkBlocks();

#endif  // MBEDTLS_STREAM_SINK_POOL_H
