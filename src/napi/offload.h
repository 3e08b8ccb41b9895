// offload.h: one call on libuv's thread pool, for the Session's handshake steps.
//
// RunOnThreadPool(receiver, callback, work, done) queues `work` on libuv's thread pool (a
// Napi::AsyncWorker: UV_THREADPOOL_SIZE threads, 4 by default, shared with fs, dns and
// crypto), then, back on the JS thread, calls callback.call(receiver, done(env)). `work`
// runs without V8 (no Napi calls); `done` runs on the JS thread after `work` has returned.
// The receiver is referenced until then, so its native object outlives the call. A
// callback that throws is an uncaught exception, as a throw from an event handler is.
//
// When the environment is torn down (a worker thread exits), node waits for queued work
// before it runs cleanup hooks; the callback is then not called.
#ifndef MBEDTLS_STREAM_OFFLOAD_H
#define MBEDTLS_STREAM_OFFLOAD_H

#include <napi.h>

#include <functional>

void RunOnThreadPool(const Napi::Object& receiver, const Napi::Function& callback,
                     std::function<void()> work, std::function<Napi::Value(Napi::Env)> done);

#endif  // MBEDTLS_STREAM_OFFLOAD_H
