// sink_pool.cc: see sink_pool.h.
#include "sink_pool.h"

#include <cstdlib>
#include <mutex>
#include <vector>

namespace {

// A 64 KiB read (net.Socket's read size) plus a record left over from the read before.
constexpr size_t kSinkBlockSize = 96 * 1024;
constexpr size_t kKeptSinkBlocks = 16;

std::mutex kept_mutex;
std::vector<void*>* kept = new std::vector<void*>();  // never destroyed: finalizers may run late

void* TakeBlock() {
  {
    std::lock_guard<std::mutex> lock(kept_mutex);
    if (!kept->empty()) {
      void* block = kept->back();
      kept->pop_back();
      return block;
    }
  }
  return std::malloc(kSinkBlockSize);
}

void GiveBack(void* block) {
  {
    std::lock_guard<std::mutex> lock(kept_mutex);
    if (kept->size() < kKeptSinkBlocks) {
      kept->push_back(block);
      return;
    }
  }
  std::free(block);
}

void FinalizeSink(napi_env /*env*/, void* data, void* /*hint*/) { GiveBack(data); }

}  // namespace

Napi::Buffer<uint8_t> NewSinkBuffer(Napi::Env env, size_t size) {
  void* block = size <= kSinkBlockSize ? TakeBlock() : nullptr;
  if (block == nullptr) return Napi::Buffer<uint8_t>::New(env, size);
  napi_value value;
  if (napi_create_external_buffer(env, size, block, FinalizeSink, nullptr, &value) != napi_ok) {
    // An environment that takes no external memory (a sandboxed V8): an ordinary Buffer.
    GiveBack(block);
    return Napi::Buffer<uint8_t>::New(env, size);
  }
  return Napi::Buffer<uint8_t>(env, value);
}

size_t ReleaseSinkBlocks() {
  std::vector<void*> blocks;
  {
    std::lock_guard<std::mutex> lock(kept_mutex);
    blocks.swap(*kept);
  }
  for (void* block : blocks) std::free(block);
  return blocks.size() * kSinkBlockSize;
}
