// offload.cc: see offload.h.
#include "offload.h"

#include <utility>

namespace {

class ThreadPoolCall : public Napi::AsyncWorker {
 public:
  ThreadPoolCall(const Napi::Object& receiver, const Napi::Function& callback,
                 std::function<void()> work, std::function<Napi::Value(Napi::Env)> done)
      : Napi::AsyncWorker(receiver, callback, "mbedtls-stream:handshake"),
        work_(std::move(work)),
        done_(std::move(done)) {}

  // On a thread of libuv's pool.
  void Execute() override { work_(); }

  // Back on the JS thread.
  void OnOK() override {
    Napi::Value result = done_(Env());
    Callback().Call(Receiver().Value(), {result});
  }

 private:
  std::function<void()> work_;
  std::function<Napi::Value(Napi::Env)> done_;
};

}  // namespace

void RunOnThreadPool(const Napi::Object& receiver, const Napi::Function& callback,
                     std::function<void()> work, std::function<Napi::Value(Napi::Env)> done) {
  (new ThreadPoolCall(receiver, callback, std::move(work), std::move(done)))->Queue();
}
