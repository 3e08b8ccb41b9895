// addon.cc: the N-API shim between lib/ and the engine (src/core/engine.h).
//
// Two classes, one per native object: SecureContext wraps an mst_config, Session an
// mst_session. No TLS logic lives here. Every call that drives a session (start, feed,
// feedEof, write, close) returns the session's state and events as one number and leaves
// the plaintext and ciphertext it produced in the caller's `out` array, so one received
// chunk crosses into native once and everything it produced comes back in that call.
// step(chunk, callback) is feed or process on libuv's thread pool (offload.h), for the
// handshake; every other method holds the session's engine lock, so it waits for a step
// in flight rather than touching the session under it.
//
// Lifetimes, in three layers: the finalizer frees native memory when JS drops the object;
// destroy() frees it early and is idempotent; an environment cleanup hook frees whatever
// is left when a worker thread's environment is torn down. Errors are returned to JS as
// { errno, message } objects; the error class itself is defined in JS (lib/errors.js).
#include <napi.h>

#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "addon.h"
#include "engine.h"
#include "offload.h"
#include "sink_pool.h"

namespace {

class TrustStore;
class Resumption;
class SecureContext;
class Session;

// What one environment (main thread or worker) holds: its live objects, for the cleanup hook.
struct AddonData {
  std::set<TrustStore*> trust_stores;
  std::set<Resumption*> resumptions;
  std::set<SecureContext*> contexts;
  std::set<Session*> sessions;
};

// Mbed TLS holds about this much per session (two record buffers plus the handshake); V8 is
// told, so garbage collection weighs dropped sockets properly.
constexpr int64_t kSessionExternalBytes = 48 * 1024;
// Feed decrypts into a Buffer of its own when the input can yield at least this much.
constexpr size_t kSinkMinimum = 4096;

Napi::Value ErrorInfo(Napi::Env env, int code, const char* text) {
  Napi::Object info = Napi::Object::New(env);
  info.Set("errno", Napi::Number::New(env, code));
  info.Set("message", Napi::String::New(env, text));
  return info;
}

Napi::Value ErrorInfo(Napi::Env env, const mst_error& error) {
  Napi::Value info = ErrorInfo(env, error.code, error.text);
  if (error.part != nullptr) info.As<Napi::Object>().Set("part", Napi::String::New(env, error.part));
  return info;
}

// undefined on success, { errno, message } on failure.
Napi::Value Result(Napi::Env env, int ret, const mst_error& error) {
  if (ret == 0) return env.Undefined();
  return ErrorInfo(env, error);
}

bool ThrowUnlessBuffer(const Napi::Env& env, const Napi::Value& value, const char* what) {
  if (value.IsBuffer()) return false;
  Napi::TypeError::New(env, std::string(what) + " must be a Buffer").ThrowAsJavaScriptException();
  return true;
}

// Trusted CAs and CRLs, parsed once and shared by any number of SecureContexts.
class TrustStore : public Napi::ObjectWrap<TrustStore> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TrustStore",
                       {
                           InstanceMethod<&TrustStore::AddCA>("addCA"),
                           InstanceMethod<&TrustStore::AddCRL>("addCRL"),
                           InstanceMethod<&TrustStore::Certificates>("certificates"),
                       });
  }

  explicit TrustStore(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TrustStore>(info) {
    mst_error error{};
    trust_ = mst_trust_new(&error);
    if (trust_ == nullptr) {
      Napi::Error::New(info.Env(), error.text).ThrowAsJavaScriptException();
      return;
    }
    data_ = info.Env().GetInstanceData<AddonData>();
    data_->trust_stores.insert(this);
  }

  ~TrustStore() override { Release(); }

  void Release() {
    if (trust_ == nullptr) return;
    mst_trust_unref(trust_);
    trust_ = nullptr;
    data_->trust_stores.erase(this);
  }

  mst_trust* trust() const { return trust_; }

 private:
  // addCA(buffer, strict) -> number of certificates skipped | { errno, message }
  Napi::Value AddCA(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (trust_ == nullptr || ThrowUnlessBuffer(env, info[0], "ca")) return env.Undefined();
    auto buffer = info[0].As<Napi::Buffer<uint8_t>>();
    mst_error error{};
    size_t skipped = 0;
    int ret = mst_trust_add_ca(trust_, buffer.Data(), buffer.Length(), info[1].ToBoolean(),
                               &skipped, &error);
    if (ret != 0) return ErrorInfo(env, error);
    return Napi::Number::New(env, static_cast<double>(skipped));
  }

  Napi::Value AddCRL(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (trust_ == nullptr || ThrowUnlessBuffer(env, info[0], "crl")) return env.Undefined();
    auto buffer = info[0].As<Napi::Buffer<uint8_t>>();
    mst_error error{};
    int ret = mst_trust_add_crl(trust_, buffer.Data(), buffer.Length(), &error);
    return Result(env, ret, error);
  }

  // certificates() -> [Buffer (DER), ...]: the trusted CAs, in the order added
  Napi::Value Certificates(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array result = Napi::Array::New(env);
    if (trust_ == nullptr) return result;
    size_t len;
    const uint8_t* der;
    for (uint32_t i = 0; (der = mst_trust_ca_certificate(trust_, i, &len)) != nullptr; i++)
      result.Set(i, Napi::Buffer<uint8_t>::Copy(env, der, len));
    return result;
  }

  mst_trust* trust_ = nullptr;
  AddonData* data_ = nullptr;
};

// A server's ticket keys and session-ID cache, shared by the configs of one SecureContext.
class Resumption : public Napi::ObjectWrap<Resumption> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Resumption",
                       {
                           InstanceMethod<&Resumption::SetKeys>("setTicketKeys"),
                           InstanceMethod<&Resumption::GetKeys>("getTicketKeys"),
                       });
  }

  // new Resumption(lifetimeSeconds, ticketKeys | undefined)
  explicit Resumption(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Resumption>(info) {
    Napi::Env env = info.Env();
    uint32_t lifetime = info[0].As<Napi::Number>().Uint32Value();
    const uint8_t* keys = nullptr;
    size_t keys_len = 0;
    if (info[1].IsBuffer()) {
      auto buffer = info[1].As<Napi::Buffer<uint8_t>>();
      keys = buffer.Data();
      keys_len = buffer.Length();
    }
    mst_error error{};
    store_ = mst_resumption_new(lifetime, keys, keys_len, &error);
    if (store_ == nullptr) {
      Napi::Error::New(env, error.text).ThrowAsJavaScriptException();
      return;
    }
    data_ = env.GetInstanceData<AddonData>();
    data_->resumptions.insert(this);
  }

  ~Resumption() override { Release(); }

  void Release() {
    if (store_ == nullptr) return;
    mst_resumption_unref(store_);
    store_ = nullptr;
    data_->resumptions.erase(this);
  }

  mst_resumption* store() const { return store_; }

 private:
  Napi::Value SetKeys(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (store_ == nullptr || ThrowUnlessBuffer(env, info[0], "keys")) return env.Undefined();
    auto keys = info[0].As<Napi::Buffer<uint8_t>>();
    int ret = mst_resumption_set_keys(store_, keys.Data(), keys.Length());
    if (ret == 0) return env.Undefined();
    mst_error error{};
    mst_error_set(&error, ret);
    return ErrorInfo(env, error);
  }

  Napi::Value GetKeys(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (store_ == nullptr) return env.Undefined();
    auto keys = Napi::Buffer<uint8_t>::New(env, MST_TICKET_KEYS_LEN);
    mst_resumption_get_keys(store_, keys.Data());
    return keys;
  }

  mst_resumption* store_ = nullptr;
  AddonData* data_ = nullptr;
};

class SecureContext : public Napi::ObjectWrap<SecureContext> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "SecureContext",
                       {
                           InstanceMethod<&SecureContext::SetVersions>("setVersions"),
                           InstanceMethod<&SecureContext::SetVerify>("setVerify"),
                           InstanceMethod<&SecureContext::SetTrust>("setTrust"),
                           InstanceMethod<&SecureContext::AddCertificate>("addCertificate"),
                           InstanceMethod<&SecureContext::SetALPN>("setALPN"),
                           InstanceMethod<&SecureContext::SetCiphersuites>("setCiphersuites"),
                           InstanceMethod<&SecureContext::SetCipherOrder>("setCipherOrder"),
                           InstanceMethod<&SecureContext::SetResumption>("setResumption"),
                           InstanceMethod<&SecureContext::SetPSK>("setPSK"),
                           InstanceMethod<&SecureContext::AskPSK>("askPSK"),
                           InstanceMethod<&SecureContext::SetPSKHint>("setPSKHint"),
                           InstanceMethod<&SecureContext::SetDebug>("setDebug"),
                           InstanceMethod<&SecureContext::SetMaxFragmentLength>("setMaxFragmentLength"),
                           InstanceMethod<&SecureContext::Destroy>("destroy"),
                       });
  }

  // new SecureContext(isServer, isDatagram)
  explicit SecureContext(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SecureContext>(info) {
    Napi::Env env = info.Env();
    bool is_server = info[0].ToBoolean();
    bool is_datagram = info[1].ToBoolean();
    mst_error error{};
    config_ = mst_config_new(is_server ? MST_SERVER : MST_CLIENT,
                             is_datagram ? MST_DATAGRAM : MST_STREAM, &error);
    if (config_ == nullptr) {
      Napi::Error::New(env, error.text).ThrowAsJavaScriptException();
      return;
    }
    datagram_ = is_datagram;
    data_ = env.GetInstanceData<AddonData>();
    data_->contexts.insert(this);
  }

  ~SecureContext() override { Release(); }

  void Release() {
    if (config_ == nullptr) return;
    mst_config_unref(config_);
    config_ = nullptr;
    data_->contexts.erase(this);
  }

  mst_config* config() const { return config_; }
  bool datagram() const { return datagram_; }

 private:
  bool ThrowIfReleased(const Napi::Env& env) {
    if (config_ != nullptr) return false;
    Napi::Error::New(env, "the secure context was destroyed").ThrowAsJavaScriptException();
    return true;
  }

  Napi::Value SetVersions(const Napi::CallbackInfo& info) {
    if (ThrowIfReleased(info.Env())) return info.Env().Undefined();
    mst_error error{};
    int ret = mst_config_set_versions(config_, info[0].As<Napi::Number>().Int32Value(),
                                      info[1].As<Napi::Number>().Int32Value(), &error);
    return Result(info.Env(), ret, error);
  }

  Napi::Value SetVerify(const Napi::CallbackInfo& info) {
    if (ThrowIfReleased(info.Env())) return info.Env().Undefined();
    mst_error error{};
    int mode = info[0].As<Napi::Number>().Int32Value();
    int ret = mst_config_set_verify(config_, static_cast<mst_verify>(mode), &error);
    return Result(info.Env(), ret, error);
  }

  // setTrust(trustStore): verify peers against this shared store of CAs and CRLs
  Napi::Value SetTrust(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (ThrowIfReleased(env)) return env.Undefined();
    TrustStore* store = info[0].IsObject() ? TrustStore::Unwrap(info[0].As<Napi::Object>()) : nullptr;
    if (store == nullptr || store->trust() == nullptr) {
      Napi::TypeError::New(env, "setTrust(trustStore)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    mst_error error{};
    return Result(env, mst_config_set_trust(config_, store->trust(), &error), error);
  }

  // addCertificate(chain, key, passphrase | undefined)
  Napi::Value AddCertificate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (ThrowIfReleased(env) || ThrowUnlessBuffer(env, info[0], "cert") ||
        ThrowUnlessBuffer(env, info[1], "key"))
      return env.Undefined();
    auto chain = info[0].As<Napi::Buffer<uint8_t>>();
    auto key = info[1].As<Napi::Buffer<uint8_t>>();
    const uint8_t* passphrase = nullptr;
    size_t passphrase_len = 0;
    if (info[2].IsBuffer()) {
      auto p = info[2].As<Napi::Buffer<uint8_t>>();
      passphrase = p.Data();
      passphrase_len = p.Length();
    }
    mst_error error{};
    int ret = mst_config_add_certificate(config_, chain.Data(), chain.Length(), key.Data(),
                                         key.Length(), passphrase, passphrase_len, &error);
    return Result(env, ret, error);
  }

  // setALPN([protocol, ...])
  Napi::Value SetALPN(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (ThrowIfReleased(env)) return env.Undefined();
    Napi::Array list = info[0].As<Napi::Array>();
    std::vector<std::string> names;
    for (uint32_t i = 0; i < list.Length(); i++)
      names.push_back(list.Get(i).As<Napi::String>().Utf8Value());
    std::vector<const char*> pointers;
    for (const auto& name : names) pointers.push_back(name.c_str());
    mst_error error{};
    int ret = mst_config_set_alpn(config_, pointers.data(), pointers.size(), &error);
    return Result(env, ret, error);
  }

  // setCiphersuites([ianaId, ...])
  Napi::Value SetCiphersuites(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (ThrowIfReleased(env)) return env.Undefined();
    Napi::Array list = info[0].As<Napi::Array>();
    std::vector<int> ids;
    for (uint32_t i = 0; i < list.Length(); i++)
      ids.push_back(list.Get(i).As<Napi::Number>().Int32Value());
    mst_error error{};
    int ret = mst_config_set_ciphersuites(config_, ids.data(), ids.size(), &error);
    return Result(env, ret, error);
  }

  // setCipherOrder(serverOrder): node's honorCipherOrder
  Napi::Value SetCipherOrder(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (ThrowIfReleased(env)) return env.Undefined();
    mst_error error{};
    int ret = mst_config_set_cipher_order(config_, info[0].ToBoolean().Value(), &error);
    return Result(env, ret, error);
  }

  // setPSK(key, identity): a client's pre-shared key and its identity (Buffers)
  Napi::Value SetPSK(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (ThrowIfReleased(env) || ThrowUnlessBuffer(env, info[0], "psk") ||
        ThrowUnlessBuffer(env, info[1], "identity"))
      return env.Undefined();
    auto key = info[0].As<Napi::Buffer<uint8_t>>();
    auto identity = info[1].As<Napi::Buffer<uint8_t>>();
    mst_error error{};
    int ret = mst_config_set_psk(config_, key.Data(), key.Length(), identity.Data(), identity.Length(), &error);
    return Result(env, ret, error);
  }

  // askPSK(): a server asks for the key of each PSK identity offered, a client for its TLS 1.2
  // key and identity once it knows the server's hint
  Napi::Value AskPSK(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (ThrowIfReleased(env)) return env.Undefined();
    mst_error error{};
    return Result(env, mst_config_ask_psk(config_, &error), error);
  }

  // setPSKHint(hint): the identity hint (a Buffer) a server sends in TLS 1.2
  Napi::Value SetPSKHint(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (ThrowIfReleased(env) || ThrowUnlessBuffer(env, info[0], "hint")) return env.Undefined();
    auto hint = info[0].As<Napi::Buffer<uint8_t>>();
    mst_error error{};
    return Result(env, mst_config_set_psk_hint(config_, hint.Data(), hint.Length(), &error), error);
  }

  // setResumption(resumption): a server issues tickets and caches session IDs with it
  Napi::Value SetResumption(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (ThrowIfReleased(env)) return env.Undefined();
    Resumption* store = info[0].IsObject() ? Resumption::Unwrap(info[0].As<Napi::Object>()) : nullptr;
    if (store == nullptr || store->store() == nullptr) {
      Napi::TypeError::New(env, "setResumption(resumption)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    mst_error error{};
    return Result(env, mst_config_set_resumption(config_, store->store(), &error), error);
  }

  // setMaxFragmentLength(length): 0 (none), 512, 1024, 2048 or 4096
  Napi::Value SetMaxFragmentLength(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (ThrowIfReleased(env)) return env.Undefined();
    mst_error error{};
    int ret = mst_config_set_max_fragment_length(config_, info[0].As<Napi::Number>().Uint32Value(),
                                                 &error);
    return Result(env, ret, error);
  }

  // setDebug(level): Mbed TLS's debug level, 0 to 4, for sessions made from this config
  Napi::Value SetDebug(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (ThrowIfReleased(env)) return env.Undefined();
    mst_error error{};
    int ret = mst_config_set_debug(config_, info[0].As<Napi::Number>().Int32Value(), &error);
    return Result(env, ret, error);
  }

  Napi::Value Destroy(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  mst_config* config_ = nullptr;
  bool datagram_ = false;
  AddonData* data_ = nullptr;
};

class Session : public Napi::ObjectWrap<Session> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "Session",
        {
            InstanceMethod<&Session::Locked<&Session::Start>>("start"),
            InstanceMethod<&Session::Locked<&Session::Feed>>("feed"),
            InstanceMethod<&Session::Locked<&Session::FeedInPlace>>("feedInPlace"),
            InstanceMethod<&Session::Locked<&Session::Step>>("step"),
            InstanceMethod<&Session::Locked<&Session::Process>>("process"),
            InstanceMethod<&Session::Locked<&Session::FeedEof>>("feedEof"),
            InstanceMethod<&Session::Locked<&Session::Write>>("write"),
            InstanceMethod<&Session::Locked<&Session::Close>>("close"),
            InstanceMethod<&Session::Destroy>("destroy"),
            InstanceMethod<&Session::Locked<&Session::SetServerName>>("setServerName"),
            InstanceMethod<&Session::Locked<&Session::SetVerify>>("setVerify"),
            InstanceMethod<&Session::Locked<&Session::AllowPartialChain>>("allowPartialChain"),
            InstanceMethod<&Session::Locked<&Session::EnableKeylog>>("enableKeylog"),
            InstanceMethod<&Session::Locked<&Session::SetMaxSendFragment>>("setMaxSendFragment"),
            InstanceMethod<&Session::Locked<&Session::ExportKeyingMaterial>>("exportKeyingMaterial"),
            InstanceMethod<&Session::Locked<&Session::Resume>>("resume"),
            InstanceMethod<&Session::Locked<&Session::Save>>("save"),
            InstanceMethod<&Session::Locked<&Session::NextTicket>>("nextTicket"),
            InstanceMethod<&Session::Locked<&Session::Ticket>>("ticket"),
            InstanceMethod<&Session::Locked<&Session::Finished>>("finished"),
            InstanceMethod<&Session::Locked<&Session::Reused>>("reused"),
            InstanceMethod<&Session::Locked<&Session::HoldClientHello>>("holdClientHello"),
            InstanceMethod<&Session::Locked<&Session::PSKIdentity>>("pskIdentity"),
            InstanceMethod<&Session::Locked<&Session::SetPSK>>("setPSK"),
            InstanceMethod<&Session::Locked<&Session::PSKHint>>("pskHint"),
            InstanceMethod<&Session::Locked<&Session::SetClientPSK>>("setClientPSK"),
            InstanceMethod<&Session::Locked<&Session::HelloALPN>>("helloALPN"),
            InstanceMethod<&Session::Locked<&Session::ContinueHello>>("continueHello"),
            InstanceMethod<&Session::Locked<&Session::UseSessionStore>>("useSessionStore"),
            InstanceMethod<&Session::Locked<&Session::HelloSessionId>>("helloSessionId"),
            InstanceMethod<&Session::Locked<&Session::SetStoredSession>>("setStoredSession"),
            InstanceMethod<&Session::Locked<&Session::NewSession>>("newSession"),
            InstanceMethod<&Session::Locked<&Session::NewSessionStored>>("newSessionStored"),
            InstanceMethod<&Session::Locked<&Session::Refuse>>("refuse"),
            InstanceMethod<&Session::Locked<&Session::Error>>("error"),
            InstanceMethod<&Session::Locked<&Session::Protocol>>("protocol"),
            InstanceMethod<&Session::Locked<&Session::Cipher>>("cipher"),
            InstanceMethod<&Session::Locked<&Session::ALPN>>("alpn"),
            InstanceMethod<&Session::Locked<&Session::KeyExchangeGroup>>("keyExchangeGroup"),
            InstanceMethod<&Session::Locked<&Session::ServerName>>("servername"),
            InstanceMethod<&Session::Locked<&Session::VerifyFlags>>("verifyFlags"),
            InstanceMethod<&Session::Locked<&Session::PeerCertificates>>("peerCertificates"),
            InstanceMethod<&Session::Locked<&Session::OwnCertificate>>("ownCertificate"),
            InstanceMethod<&Session::Locked<&Session::VerifiedChain>>("verifiedChain"),
            InstanceMethod<&Session::Locked<&Session::Memory>>("memory"),
            InstanceMethod<&Session::Locked<&Session::Trim>>("trim"),
        });
  }

  // new Session(secureContext, out): out[0] receives plaintext, out[1] ciphertext.
  explicit Session(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Session>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject() || !info[1].IsArray()) {
      Napi::TypeError::New(env, "new Session(secureContext, out)").ThrowAsJavaScriptException();
      return;
    }
    SecureContext* context = SecureContext::Unwrap(info[0].As<Napi::Object>());
    if (context == nullptr || context->config() == nullptr) {
      Napi::Error::New(env, "the secure context was destroyed").ThrowAsJavaScriptException();
      return;
    }
    mst_error error{};
    session_ = mst_session_new(context->config(), &error);
    if (session_ == nullptr) {
      Napi::Error::New(env, error.text).ThrowAsJavaScriptException();
      return;
    }
    out_ = Napi::Persistent(info[1].As<Napi::Array>());
    datagram_ = context->datagram();
    data_ = env.GetInstanceData<AddonData>();
    data_->sessions.insert(this);
    Napi::MemoryManagement::AdjustExternalMemory(env, kSessionExternalBytes);
  }

  ~Session() override { Free(false); }

  mst_session* session() const { return session_; }

  // Frees the engine session (after a step running on the thread pool, if any). From the
  // cleanup hook V8 may no longer be told anything.
  void Free(bool environment_teardown) {
    std::lock_guard<std::mutex> lock(engine_mutex_);
    if (session_ == nullptr) return;
    mst_session_free(session_);
    session_ = nullptr;
    data_->sessions.erase(this);
    if (!environment_teardown)
      Napi::MemoryManagement::AdjustExternalMemory(Env(), -kSessionExternalBytes);
  }

 private:
  // Every method but destroy() holds the engine lock: a step on the thread pool (Step) has
  // the session meanwhile, and a call from JS then waits for it.
  template <Napi::Value (Session::*method)(const Napi::CallbackInfo&)>
  Napi::Value Locked(const Napi::CallbackInfo& info) {
    std::lock_guard<std::mutex> lock(engine_mutex_);
    return (this->*method)(info);
  }

  // Hands what the last call produced to JS: out[0] plaintext, out[1] ciphertext, out[3]
  // key log lines, out[4] debug lines. Returns state | events << 8. `sink`, when given,
  // holds `written` bytes of plaintext decrypted straight into it (Feed); out[0] is then the
  // sink itself, and out[6] its length in use when that is shorter. Likewise `records`
  // holds `records_len` bytes of records encrypted straight into it (Write): out[1] is then
  // that Buffer, whole, and out[7] its length in use.
  Napi::Value Collect(Napi::Env env, Napi::Buffer<uint8_t>* sink = nullptr, size_t written = 0,
                      Napi::Buffer<uint8_t>* records = nullptr, size_t records_len = 0) {
    Napi::Array out = out_.Value();
    size_t len = 0;
    const uint8_t* plaintext = mst_session_peek_plaintext(session_, &len);
    if (sink != nullptr && written > 0) {
      if (plaintext != nullptr) {
        // More than the sink held (it is sized to hold everything): one buffer, in order.
        auto all = Napi::Buffer<uint8_t>::New(env, written + len);
        memcpy(all.Data(), sink->Data(), written);
        memcpy(all.Data() + written, plaintext, len);
        mst_session_consume_plaintext(session_, len);
        out.Set(0u, all);
      } else {
        out.Set(0u, *sink);
        if (written < sink->Length()) out.Set(6u, Napi::Number::New(env, static_cast<double>(written)));
      }
    } else if (datagram_) {
      // DTLS: one Buffer per record received.
      Napi::Array records = Napi::Array::New(env);
      for (uint32_t i = 0; plaintext != nullptr; i++) {
        records.Set(i, Napi::Buffer<uint8_t>::Copy(env, plaintext, len));
        mst_session_consume_plaintext(session_, len);
        plaintext = mst_session_peek_plaintext(session_, &len);
      }
      out.Set(0u, records.Length() > 0 ? records.As<Napi::Value>() : env.Undefined());
    } else if (plaintext != nullptr) {
      out.Set(0u, Napi::Buffer<uint8_t>::Copy(env, plaintext, len));
      mst_session_consume_plaintext(session_, len);
    } else {
      out.Set(0u, env.Undefined());
    }
    const uint8_t* ciphertext = mst_session_peek_ciphertext(session_, &len);
    if (datagram_) {
      // DTLS: every datagram the call produced, each a Buffer of its own; out[5] the ms
      // until the retransmission timer wants process(), or -1.
      Napi::Array datagrams = Napi::Array::New(env);
      for (uint32_t i = 0; ciphertext != nullptr; i++) {
        datagrams.Set(i, Napi::Buffer<uint8_t>::Copy(env, ciphertext, len));
        mst_session_consume_ciphertext(session_, len);
        ciphertext = mst_session_peek_ciphertext(session_, &len);
      }
      out.Set(1u, datagrams.Length() > 0 ? datagrams.As<Napi::Value>() : env.Undefined());
      out.Set(5u, Napi::Number::New(env, static_cast<double>(mst_session_timeout(session_))));
    } else if (records != nullptr && records_len > 0) {
      if (ciphertext != nullptr) {
        // More than the bound foresaw (it is sized to hold everything): one buffer, in order.
        auto all = Napi::Buffer<uint8_t>::New(env, records_len + len);
        memcpy(all.Data(), records->Data(), records_len);
        memcpy(all.Data() + records_len, ciphertext, len);
        mst_session_consume_ciphertext(session_, len);
        out.Set(1u, all);
      } else {
        out.Set(1u, *records);
        out.Set(7u, Napi::Number::New(env, static_cast<double>(records_len)));
      }
    } else if (ciphertext != nullptr) {
      out.Set(1u, Napi::Buffer<uint8_t>::Copy(env, ciphertext, len));
      mst_session_consume_ciphertext(session_, len);
    } else {
      out.Set(1u, env.Undefined());
    }
    unsigned events = mst_session_take_events(session_);
    if (events & MST_EVENT_KEYLOG) {
      const uint8_t* lines = mst_session_peek_keylog(session_, &len);
      if (lines != nullptr) {
        out.Set(3u, Napi::Buffer<uint8_t>::Copy(env, lines, len));
        mst_session_consume_keylog(session_, len);
      }
    }
    if (events & MST_EVENT_DEBUG) {
      const uint8_t* lines = mst_session_peek_debug(session_, &len);
      if (lines != nullptr) {
        out.Set(4u, Napi::Buffer<uint8_t>::Copy(env, lines, len));
        mst_session_consume_debug(session_, len);
      }
    }
    return Napi::Number::New(env, mst_session_state(session_) | (events << 8));
  }

  // Also gives a DTLS session the time, in ms on a monotonic clock, before it is driven.
  bool Destroyed(const Napi::Env& env, Napi::Value* result) {
    if (session_ != nullptr) {
      if (datagram_) {
        auto now = std::chrono::steady_clock::now().time_since_epoch();
        mst_session_set_time(session_, static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(now).count()));
      }
      return false;
    }
    *result = Napi::Number::New(env, MST_STATE_FAILED);
    return true;
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Value result;
    if (Destroyed(info.Env(), &result)) return result;
    mst_session_process(session_);
    return Collect(info.Env());
  }

  Napi::Value Feed(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Value result;
    if (Destroyed(env, &result) || ThrowUnlessBuffer(env, info[0], "data")) return result;
    auto chunk = info[0].As<Napi::Buffer<uint8_t>>();
    // After the handshake the plaintext is decrypted straight into the Buffer handed to JS:
    // one allocation per call, sized by what the input can yield, and no copy after Mbed
    // TLS's own. (Short input goes the usual way: a copy of little is cheaper.)
    if (!datagram_ && !(mst_session_state(session_) & MST_STATE_HANDSHAKING)) {
      size_t bound = mst_session_plaintext_bound(session_, chunk.Length());
      if (bound >= kSinkMinimum) {
        auto sink = NewSinkBuffer(env, bound);
        size_t written = 0;
        mst_session_feed_into(session_, chunk.Data(), chunk.Length(), sink.Data(), bound, &written);
        return Collect(env, &sink, written);
      }
    }
    mst_session_feed_ciphertext(session_, chunk.Data(), chunk.Length());
    return Collect(env);
  }

  // feedInPlace(chunk): as feed(), with the plaintext of records wholly within the chunk
  // decrypted over the chunk itself (mst_session_feed_in_place): out[0] is then what came
  // first, if anything, and out[8] how many bytes at the chunk's start follow it. For a
  // chunk nobody else holds: lib/ passes only what its own net.Socket read.
  Napi::Value FeedInPlace(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Value result;
    if (Destroyed(env, &result) || ThrowUnlessBuffer(env, info[0], "data")) return result;
    auto chunk = info[0].As<Napi::Buffer<uint8_t>>();
    size_t in_place = 0;
    mst_session_feed_in_place(session_, chunk.Data(), chunk.Length(), &in_place);
    result = Collect(env);
    if (in_place > 0) out_.Value().Set(8u, Napi::Number::New(env, static_cast<double>(in_place)));
    return result;
  }

  // step(chunk | null, callback): feed(chunk), or process() without a chunk, on libuv's
  // thread pool (offload.h); then callback(state) on the JS thread, with out[] filled as
  // the synchronous call fills it. For the handshake, whose public-key operations are the
  // costly part: lib/ runs one step at a time per session, in order (TLSSocket#_drive). Not
  // for datagram sessions, whose timers read the clock Destroyed() sets.
  Napi::Value Step(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[1].IsFunction() || datagram_) {
      Napi::TypeError::New(env, "step(chunk, callback), for a stream session").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    std::vector<uint8_t> chunk;
    bool feed = !info[0].IsNull();
    if (feed) {
      if (ThrowUnlessBuffer(env, info[0], "data")) return env.Undefined();
      auto buffer = info[0].As<Napi::Buffer<uint8_t>>();
      chunk.assign(buffer.Data(), buffer.Data() + buffer.Length());
    }
    RunOnThreadPool(
        Value(), info[1].As<Napi::Function>(),
        [this, feed, chunk = std::move(chunk)]() {
          std::lock_guard<std::mutex> lock(engine_mutex_);
          if (session_ == nullptr) return;
          if (feed) mst_session_feed_ciphertext(session_, chunk.data(), chunk.size());
          else mst_session_process(session_);
        },
        [this](Napi::Env env) -> Napi::Value {
          std::lock_guard<std::mutex> lock(engine_mutex_);
          if (session_ == nullptr) return Napi::Number::New(env, MST_STATE_FAILED);
          return Collect(env);
        });
    return env.Undefined();
  }

  Napi::Value FeedEof(const Napi::CallbackInfo& info) {
    Napi::Value result;
    if (Destroyed(info.Env(), &result)) return result;
    mst_session_feed_eof(session_);
    return Collect(info.Env());
  }

  // write(buffer | [buffer, ...], spare?) -> state; a refused write leaves its code in out[2].
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Value result;
    if (Destroyed(env, &result)) return result;
    int ret = 0;
    if (info[0].IsArray()) {
      Napi::Array chunks = info[0].As<Napi::Array>();
      for (uint32_t i = 0; i < chunks.Length() && ret == 0; i++) {
        Napi::Value chunk = chunks.Get(i);
        if (ThrowUnlessBuffer(env, chunk, "data")) return env.Undefined();
        auto buffer = chunk.As<Napi::Buffer<uint8_t>>();
        ret = WritePlaintext(buffer);
      }
    } else {
      if (ThrowUnlessBuffer(env, info[0], "data")) return env.Undefined();
      auto data = info[0].As<Napi::Buffer<uint8_t>>();
      // The records are encrypted straight into the Buffer handed to JS for the transport:
      // no copy after Mbed TLS's own (short writes go the usual way, as in Feed). `spare`,
      // a Buffer an earlier write returned whose transport write is done, is used again
      // when it has the room: a connection sending a stream allocates nothing per write.
      size_t bound = datagram_ || data.Length() < kSinkMinimum
                         ? 0 : mst_session_ciphertext_bound(session_, data.Length());
      if (bound > 0) {
        bool reuse = info[1].IsBuffer() && info[1].As<Napi::Buffer<uint8_t>>().Length() >= bound;
        auto records = reuse ? info[1].As<Napi::Buffer<uint8_t>>() : Napi::Buffer<uint8_t>::New(env, bound);
        bound = records.Length();
        size_t written = 0;
        ret = mst_session_write_into(session_, data.Data(), data.Length(), records.Data(), bound, &written);
        out_.Value().Set(2u, Napi::Number::New(env, ret));
        return Collect(env, nullptr, 0, &records, written);
      }
      ret = WritePlaintext(data);
    }
    out_.Value().Set(2u, Napi::Number::New(env, ret));
    return Collect(env);
  }

  // DTLS: one buffer is one record, never split (MST_ERR_MESSAGE_TOO_LARGE otherwise).
  int WritePlaintext(const Napi::Buffer<uint8_t>& buffer) {
    return datagram_ ? mst_session_write_datagram(session_, buffer.Data(), buffer.Length())
                     : mst_session_write_plaintext(session_, buffer.Data(), buffer.Length());
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Value result;
    if (Destroyed(info.Env(), &result)) return result;
    mst_session_close(session_);
    return Collect(info.Env());
  }

  Napi::Value Destroy(const Napi::CallbackInfo& info) {
    Free(false);
    return info.Env().Undefined();
  }

  Napi::Value SetServerName(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (session_ == nullptr) return env.Undefined();
    int ret;
    if (info[0].IsString()) {
      std::string name = info[0].As<Napi::String>().Utf8Value();
      ret = mst_session_set_server_name(session_, name.c_str());
    } else {
      ret = mst_session_set_server_name(session_, nullptr);
    }
    if (ret == 0) return env.Undefined();
    mst_error error{};
    mst_error_set(&error, ret);
    return ErrorInfo(env, error);
  }

  // setMaxSendFragment(size) -> true when set
  Napi::Value SetMaxSendFragment(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    bool ok = session_ != nullptr &&
              mst_session_set_max_send_fragment(session_, info[0].As<Napi::Number>().Uint32Value()) == 0;
    return Napi::Boolean::New(env, ok);
  }

  Napi::Value EnableKeylog(const Napi::CallbackInfo& info) {
    if (session_ != nullptr) mst_session_enable_keylog(session_);
    return info.Env().Undefined();
  }

  // exportKeyingMaterial(length, label, context | undefined) -> Buffer | { errno, message }
  Napi::Value ExportKeyingMaterial(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (session_ == nullptr) return ErrorInfo(env, MST_ERR_NOT_READY, "the socket is destroyed");
    size_t length = info[0].As<Napi::Number>().Uint32Value();
    std::string label = info[1].As<Napi::String>().Utf8Value();
    const uint8_t* context = nullptr;
    size_t context_len = 0;
    if (info[2].IsBuffer()) {
      auto buffer = info[2].As<Napi::Buffer<uint8_t>>();
      context = buffer.Data();
      context_len = buffer.Length();
    }
    auto out = Napi::Buffer<uint8_t>::New(env, length);
    int ret = mst_session_export_keying_material(session_, out.Data(), length, label.data(),
                                                 label.size(), context, context_len);
    if (ret == 0) return out;
    mst_error error{};
    mst_error_set(&error, ret);
    return ErrorInfo(env, error);
  }

  // resume(savedSession, peerName) -> 0 | errno (then the handshake is a full one)
  Napi::Value Resume(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (session_ == nullptr || ThrowUnlessBuffer(env, info[0], "session")) return env.Undefined();
    auto saved = info[0].As<Napi::Buffer<uint8_t>>();
    std::string name = info[1].As<Napi::String>().Utf8Value();
    return Napi::Number::New(env, mst_session_resume(session_, saved.Data(), saved.Length(), name.c_str()));
  }

  // save(peerName) -> Buffer | undefined when there is nothing to resume
  Napi::Value Save(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (session_ == nullptr) return env.Undefined();
    std::string name = info[0].As<Napi::String>().Utf8Value();
    size_t len = 0;
    if (mst_session_save(session_, name.c_str(), nullptr, 0, &len) != 0) return env.Undefined();
    auto out = Napi::Buffer<uint8_t>::New(env, len);
    if (mst_session_save(session_, name.c_str(), out.Data(), len, &len) != 0) return env.Undefined();
    return out;
  }

  // nextTicket() -> true while a received TLS 1.3 ticket is reported (save(), ticket())
  Napi::Value NextTicket(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), session_ != nullptr && mst_session_next_ticket(session_));
  }

  // ticket() -> Buffer | undefined: the session ticket a client holds
  Napi::Value Ticket(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    size_t len = 0;
    const uint8_t* ticket = session_ ? mst_session_ticket(session_, &len) : nullptr;
    return ticket != nullptr ? Napi::Buffer<uint8_t>::Copy(env, ticket, len).As<Napi::Value>() : env.Undefined();
  }

  // finished(peer) -> Buffer | undefined: the verify_data of our Finished or the peer's
  Napi::Value Finished(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (session_ == nullptr) return env.Undefined();
    size_t len = 0;
    const uint8_t* data = info[0].ToBoolean() ? mst_session_peer_finished(session_, &len)
                                              : mst_session_own_finished(session_, &len);
    return data != nullptr ? Napi::Buffer<uint8_t>::Copy(env, data, len).As<Napi::Value>() : env.Undefined();
  }

  // pskIdentity() -> Buffer | null: the identity waiting for its key
  Napi::Value PSKIdentity(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    size_t len = 0;
    const uint8_t* identity = session_ ? mst_session_psk_identity(session_, &len) : nullptr;
    return identity != nullptr ? Napi::Buffer<uint8_t>::Copy(env, identity, len).As<Napi::Value>() : env.Null();
  }

  // setPSK(key | null) -> 0 | errno; the caller then processes
  Napi::Value SetPSK(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (session_ == nullptr) return Napi::Number::New(env, MST_ERR_BAD_ARGUMENT);
    if (info[0].IsBuffer()) {
      auto key = info[0].As<Napi::Buffer<uint8_t>>();
      return Napi::Number::New(env, mst_session_set_psk(session_, key.Data(), key.Length()));
    }
    return Napi::Number::New(env, mst_session_set_psk(session_, nullptr, 0));
  }

  // pskHint() -> Buffer | null: the hint of the server a client's PSK is asked for
  Napi::Value PSKHint(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    size_t len = 0;
    const uint8_t* hint = session_ ? mst_session_psk_hint(session_, &len, nullptr) : nullptr;
    return hint != nullptr ? Napi::Buffer<uint8_t>::Copy(env, hint, len).As<Napi::Value>() : env.Null();
  }

  // setClientPSK(key, identity) -> 0 | errno: a client's TLS 1.2 PSK; the caller then processes
  Napi::Value SetClientPSK(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (session_ == nullptr || !info[0].IsBuffer() || !info[1].IsBuffer())
      return Napi::Number::New(env, MST_ERR_BAD_ARGUMENT);
    auto key = info[0].As<Napi::Buffer<uint8_t>>();
    auto identity = info[1].As<Napi::Buffer<uint8_t>>();
    return Napi::Number::New(env, mst_session_set_client_psk(session_, key.Data(), key.Length(),
                                                             identity.Data(), identity.Length()));
  }

  // process() -> state: runs what can run without new input
  Napi::Value Process(const Napi::CallbackInfo& info) {
    Napi::Value result;
    if (Destroyed(info.Env(), &result)) return result;
    mst_session_process(session_);
    return Collect(info.Env());
  }

  Napi::Value HoldClientHello(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return Napi::Number::New(env, session_ != nullptr ? mst_session_hold_client_hello(session_) : 0);
  }

  // helloALPN() -> [protocol, ...] offered in the held ClientHello, or null when none
  Napi::Value HelloALPN(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (session_ == nullptr || mst_session_hello_alpn(session_, 0) == nullptr) return env.Null();
    Napi::Array list = Napi::Array::New(env);
    const char* name;
    for (uint32_t i = 0; (name = mst_session_hello_alpn(session_, i)) != nullptr; i++)
      list.Set(i, Napi::String::New(env, name));
    return list;
  }

  // continueHello(secureContext | undefined) -> state, after processing the hello
  Napi::Value ContinueHello(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Value result;
    if (Destroyed(env, &result)) return result;
    mst_config* config = nullptr;
    if (info[0].IsObject()) {
      SecureContext* context = SecureContext::Unwrap(info[0].As<Napi::Object>());
      if (context == nullptr || context->config() == nullptr) {
        Napi::Error::New(env, "the secure context was destroyed").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      config = context->config();
    }
    int ret = mst_session_continue_hello(session_, config);
    // continueHello(context, false) -> undefined: the hello's processing is left to a step
    // on the thread pool (Step); a refusal is reported at once, as without `false`.
    if (ret == 0 && info[1].IsBoolean() && !info[1].As<Napi::Boolean>().Value()) return env.Undefined();
    if (ret == 0) mst_session_process(session_);
    return Collect(env);
  }

  // useSessionStore() -> 0 | errno: TLS 1.2 session IDs are the embedder's to keep
  Napi::Value UseSessionStore(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return Napi::Number::New(env, session_ != nullptr ? mst_session_use_session_store(session_) : 0);
  }

  // helloSessionId() -> Buffer | null: the session ID the held ClientHello offers to resume
  Napi::Value HelloSessionId(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    size_t len = 0;
    const uint8_t* id = session_ ? mst_session_hello_session_id(session_, &len) : nullptr;
    return id != nullptr ? Napi::Buffer<uint8_t>::Copy(env, id, len).As<Napi::Value>() : env.Null();
  }

  // setStoredSession(Buffer) -> 0 | errno: the saved session the store has for that ID
  Napi::Value SetStoredSession(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (session_ == nullptr || !info[0].IsBuffer()) return Napi::Number::New(env, MST_ERR_BAD_ARGUMENT);
    auto data = info[0].As<Napi::Buffer<uint8_t>>();
    return Napi::Number::New(env, mst_session_set_stored_session(session_, data.Data(), data.Length()));
  }

  // newSession() -> [id, data] | null: the session a full TLS 1.2 handshake made, to be stored
  Napi::Value NewSession(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    size_t id_len = 0, data_len = 0;
    const uint8_t* id = session_ ? mst_session_new_session_id(session_, &id_len) : nullptr;
    const uint8_t* data = session_ ? mst_session_new_session_data(session_, &data_len) : nullptr;
    if (id == nullptr || data == nullptr) return env.Null();
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, Napi::Buffer<uint8_t>::Copy(env, id, id_len));
    pair.Set(1u, Napi::Buffer<uint8_t>::Copy(env, data, data_len));
    return pair;
  }

  // newSessionStored() -> state: the handshake goes on
  Napi::Value NewSessionStored(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Value result;
    if (Destroyed(env, &result)) return result;
    if (mst_session_new_session_stored(session_) == 0) mst_session_process(session_);
    return Collect(env);
  }

  // refuse(alert) -> state; the fatal alert is in out[1]
  Napi::Value Refuse(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Value result;
    if (Destroyed(env, &result)) return result;
    mst_session_refuse(session_, static_cast<unsigned char>(info[0].As<Napi::Number>().Uint32Value()));
    return Collect(env);
  }

  Napi::Value Reused(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), session_ != nullptr && mst_session_reused(session_));
  }

  Napi::Value SetVerify(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (session_ == nullptr) return env.Undefined();
    int ret = mst_session_set_verify(session_,
                                     static_cast<mst_verify>(info[0].As<Napi::Number>().Int32Value()));
    if (ret == 0) return env.Undefined();
    mst_error error{};
    mst_error_set(&error, ret);
    return ErrorInfo(env, error);
  }

  Napi::Value AllowPartialChain(const Napi::CallbackInfo& info) {
    if (session_ != nullptr) mst_session_allow_partial_chain(session_, info[0].ToBoolean().Value());
    return info.Env().Undefined();
  }

  Napi::Value Error(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (session_ == nullptr) return env.Undefined();
    const mst_error* error = mst_session_error(session_);
    if (error == nullptr) return env.Undefined();
    Napi::Object details = ErrorInfo(env, *error).As<Napi::Object>();
    int alert = mst_session_peer_alert(session_);
    if (alert >= 0) details.Set("alert", Napi::Number::New(env, alert));
    return details;
  }

  static Napi::Value StringOrNull(Napi::Env env, const char* text) {
    return text != nullptr ? Napi::String::New(env, text) : env.Null();
  }

  Napi::Value Protocol(const Napi::CallbackInfo& info) {
    if (session_ == nullptr) return info.Env().Null();
    return StringOrNull(info.Env(), mst_session_protocol(session_));
  }

  // cipher() -> [ianaId, mbedtlsName] | null
  Napi::Value Cipher(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (session_ == nullptr || mst_session_ciphersuite_name(session_) == nullptr) return env.Null();
    Napi::Array result = Napi::Array::New(env, 2);
    result.Set(0u, Napi::Number::New(env, mst_session_ciphersuite_id(session_)));
    result.Set(1u, Napi::String::New(env, mst_session_ciphersuite_name(session_)));
    return result;
  }

  Napi::Value KeyExchangeGroup(const Napi::CallbackInfo& info) {
    if (session_ == nullptr) return info.Env().Null();
    return Napi::Number::New(info.Env(), mst_session_key_exchange_group(session_));
  }

  Napi::Value ALPN(const Napi::CallbackInfo& info) {
    if (session_ == nullptr) return info.Env().Null();
    return StringOrNull(info.Env(), mst_session_alpn(session_));
  }

  Napi::Value ServerName(const Napi::CallbackInfo& info) {
    if (session_ == nullptr) return info.Env().Null();
    return StringOrNull(info.Env(), mst_session_server_name(session_));
  }

  Napi::Value VerifyFlags(const Napi::CallbackInfo& info) {
    if (session_ == nullptr) return info.Env().Null();
    return Napi::Number::New(info.Env(), mst_session_verify_flags(session_));
  }

  // peerCertificates() -> [Buffer (DER), ...], leaf first
  Napi::Value PeerCertificates(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array result = Napi::Array::New(env);
    if (session_ == nullptr) return result;
    size_t len;
    const uint8_t* der;
    for (uint32_t i = 0; (der = mst_session_peer_certificate(session_, i, &len)) != nullptr; i++)
      result.Set(i, Napi::Buffer<uint8_t>::Copy(env, der, len));
    return result;
  }

  // verifiedChain() -> [[Buffer (DER), flags], ...], leaf first, up to the trust anchor
  Napi::Value VerifiedChain(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array result = Napi::Array::New(env);
    if (session_ == nullptr) return result;
    size_t len;
    uint32_t flags;
    const uint8_t* der;
    for (uint32_t i = 0;
         (der = mst_session_verified_certificate(session_, i, &len, &flags)) != nullptr; i++) {
      Napi::Array entry = Napi::Array::New(env, 2);
      entry.Set(0u, Napi::Buffer<uint8_t>::Copy(env, der, len));
      entry.Set(1u, Napi::Number::New(env, flags));
      result.Set(i, entry);
    }
    return result;
  }

  Napi::Value OwnCertificate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    size_t len;
    const uint8_t* der = session_ ? mst_session_own_certificate(session_, &len) : nullptr;
    return der != nullptr ? Napi::Buffer<uint8_t>::Copy(env, der, len) : env.Null();
  }

  // memory() -> [current, peak, allocations]: bytes held for this session (Mbed TLS's and
  // the engine's windows) and how many blocks were ever allocated for it
  Napi::Value Memory(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    size_t current = 0, peak = 0, allocations = 0;
    if (session_ != nullptr) {
      mst_session_memory(session_, &current, &peak);
      allocations = mst_session_allocations(session_);
    }
    Napi::Array result = Napi::Array::New(env, 3);
    result.Set(0u, Napi::Number::New(env, static_cast<double>(current)));
    result.Set(1u, Napi::Number::New(env, static_cast<double>(peak)));
    result.Set(2u, Napi::Number::New(env, static_cast<double>(allocations)));
    return result;
  }

  // trim() -> bytes held afterwards: gives back what an idle session need not hold
  Napi::Value Trim(const Napi::CallbackInfo& info) {
    size_t current = session_ != nullptr ? mst_session_trim(session_) : 0;
    return Napi::Number::New(info.Env(), static_cast<double>(current));
  }

  mst_session* session_ = nullptr;
  std::mutex engine_mutex_;
  Napi::Reference<Napi::Array> out_;
  bool datagram_ = false;
  AddonData* data_ = nullptr;
};

// A worker's environment is going away: free every native object it still holds.
void CleanupEnvironment(AddonData* data) {
  std::vector<Session*> sessions(data->sessions.begin(), data->sessions.end());
  for (Session* session : sessions) session->Free(true);
  std::vector<SecureContext*> contexts(data->contexts.begin(), data->contexts.end());
  for (SecureContext* context : contexts) context->Release();
  std::vector<TrustStore*> stores(data->trust_stores.begin(), data->trust_stores.end());
  for (TrustStore* store : stores) store->Release();
  std::vector<Resumption*> resumptions(data->resumptions.begin(), data->resumptions.end());
  for (Resumption* store : resumptions) store->Release();
}

Napi::Value MemoryTotals(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t current = 0, peak = 0;
  mst_memory_totals(&current, &peak);
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, static_cast<double>(current)));
  result.Set(1u, Napi::Number::New(env, static_cast<double>(peak)));
  return result;
}

// certificateNames(der) -> [kind, tag, Buffer, kind, tag, Buffer, ...] (mst_certificate_names),
// or null when Mbed TLS cannot parse the certificate
Napi::Value CertificateNames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (ThrowUnlessBuffer(env, info[0], "der")) return env.Undefined();
  auto der = info[0].As<Napi::Buffer<uint8_t>>();
  std::vector<mst_certificate_name> names(8);
  size_t count = 0;
  for (;;) {
    if (mst_certificate_names(der.Data(), der.Length(), names.data(), names.size(), &count) != 0)
      return env.Null();
    if (count <= names.size()) break;
    names.resize(count);
  }
  Napi::Array result = Napi::Array::New(env, 3 * count);
  for (size_t i = 0; i < count; i++) {
    uint32_t at = static_cast<uint32_t>(3 * i);
    result.Set(at, Napi::Number::New(env, names[i].kind));
    result.Set(at + 1, Napi::Number::New(env, names[i].tag));
    result.Set(at + 2, Napi::Buffer<uint8_t>::Copy(env, names[i].value, names[i].len));
  }
  return result;
}

// ciphersuites() -> [[ianaId, mbedtlsName], ...] in Mbed TLS's preference order
Napi::Value Ciphersuites(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<int> ids(mst_ciphersuites(nullptr, 0));
  mst_ciphersuites(ids.data(), ids.size());
  Napi::Array result = Napi::Array::New(env, ids.size());
  for (uint32_t i = 0; i < ids.size(); i++) {
    Napi::Array entry = Napi::Array::New(env, 2);
    entry.Set(0u, Napi::Number::New(env, ids[i]));
    const char* name = mst_ciphersuite_name(ids[i]);
    entry.Set(1u, Napi::String::New(env, name != nullptr ? name : ""));
    result.Set(i, entry);
  }
  return result;
}

// generateSelfSigned(subject, [[isIP, Buffer], ...], notBefore, notAfter) -> { cert, key }
// (PEM Buffers) | { errno, message }. Times in seconds since 1970 UTC.
Napi::Value GenerateSelfSigned(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsArray() || !info[2].IsNumber() || !info[3].IsNumber()) {
    Napi::TypeError::New(env, "generateSelfSigned(subject, altNames, notBefore, notAfter)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string subject = info[0].As<Napi::String>().Utf8Value();
  Napi::Array list = info[1].As<Napi::Array>();
  std::vector<mst_alt_name> names;
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value entry = list.Get(i);
    if (!entry.IsArray() || ThrowUnlessBuffer(env, entry.As<Napi::Array>().Get(1u), "altName"))
      return env.Undefined();
    auto value = entry.As<Napi::Array>().Get(1u).As<Napi::Buffer<uint8_t>>();
    bool is_ip = entry.As<Napi::Array>().Get(0u).ToBoolean();
    names.push_back({is_ip ? MST_NAME_IP : MST_NAME_DNS, value.Data(), value.Length()});
  }
  char *cert = nullptr, *key = nullptr;
  size_t cert_len = 0, key_len = 0;
  mst_error error{};
  int ret = mst_generate_self_signed(
      subject.c_str(), names.data(), names.size(), info[2].As<Napi::Number>().Int64Value(),
      info[3].As<Napi::Number>().Int64Value(), &cert, &cert_len, &key, &key_len, &error);
  if (ret != 0) return ErrorInfo(env, error);
  Napi::Object result = Napi::Object::New(env);
  result.Set("cert", Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<uint8_t*>(cert), cert_len));
  result.Set("key", Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<uint8_t*>(key), key_len));
  mst_free_pem(cert, cert_len);
  mst_free_pem(key, key_len);
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  env.AddCleanupHook(CleanupEnvironment, data);
  exports.Set("TrustStore", TrustStore::Define(env));
  exports.Set("Resumption", Resumption::Define(env));
  exports.Set("SecureContext", SecureContext::Define(env));
  exports.Set("Session", Session::Define(env));
  exports.Set("memoryTotals", Napi::Function::New(env, MemoryTotals));
  // releaseSinkBlocks() -> bytes freed: the kept memory of plaintext Buffers (sink_pool.h)
  exports.Set("releaseSinkBlocks", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(ReleaseSinkBlocks()));
  }));
  exports.Set("certificateNames", Napi::Function::New(env, CertificateNames));
  exports.Set("ciphersuites", Napi::Function::New(env, Ciphersuites));
  exports.Set("generateSelfSigned", Napi::Function::New(env, GenerateSelfSigned));
  Napi::Object constants = Napi::Object::New(env);
  constants.Set("STATE_HANDSHAKING", MST_STATE_HANDSHAKING);
  constants.Set("STATE_HAS_CIPHERTEXT", MST_STATE_HAS_CIPHERTEXT);
  constants.Set("STATE_HAS_PLAINTEXT", MST_STATE_HAS_PLAINTEXT);
  constants.Set("STATE_PEER_CLOSE_NOTIFY", MST_STATE_PEER_CLOSE_NOTIFY);
  constants.Set("STATE_PEER_EOF", MST_STATE_PEER_EOF);
  constants.Set("STATE_FAILED", MST_STATE_FAILED);
  constants.Set("STATE_CLOSE_SENT", MST_STATE_CLOSE_SENT);
  constants.Set("EVENT_HANDSHAKE_DONE", MST_EVENT_HANDSHAKE_DONE << 8);
  constants.Set("EVENT_NEW_SESSION_TICKET", MST_EVENT_NEW_SESSION_TICKET << 8);
  constants.Set("EVENT_PEER_CLOSED", MST_EVENT_PEER_CLOSED << 8);
  constants.Set("EVENT_KEYLOG", MST_EVENT_KEYLOG << 8);
  constants.Set("EVENT_CLIENT_HELLO", MST_EVENT_CLIENT_HELLO << 8);
  constants.Set("ERR_REFUSED", MST_ERR_REFUSED);
  constants.Set("EVENT_PSK_IDENTITY", MST_EVENT_PSK_IDENTITY << 8);
  constants.Set("EVENT_PSK_HINT", MST_EVENT_PSK_HINT << 8);
  constants.Set("EVENT_DEBUG", MST_EVENT_DEBUG << 8);
  constants.Set("EVENT_NEW_SESSION", MST_EVENT_NEW_SESSION << 8);
  constants.Set("VERIFY_NONE", static_cast<int>(MST_VERIFY_NONE));
  constants.Set("VERIFY_OPTIONAL", static_cast<int>(MST_VERIFY_OPTIONAL));
  constants.Set("VERIFY_REQUIRED", static_cast<int>(MST_VERIFY_REQUIRED));
  constants.Set("TLS1_2", MST_TLS1_2);
  constants.Set("TLS1_3", MST_TLS1_3);
  constants.Set("ERR_NOT_READY", MST_ERR_NOT_READY);
  constants.Set("ERR_CLOSED", MST_ERR_CLOSED);
  constants.Set("ERR_KEY_MISMATCH", MST_ERR_KEY_MISMATCH);
  constants.Set("ERR_NO_CERTIFICATE", MST_ERR_NO_CERTIFICATE);
  constants.Set("ERR_SESSION_MISMATCH", MST_ERR_SESSION_MISMATCH);
  constants.Set("TICKET_KEYS_LEN", MST_TICKET_KEYS_LEN);
  // The build profile ("default" or "small") and its record length (mst_build_profile).
  constants.Set("PROFILE", mst_build_profile());
  constants.Set("RECORD_CONTENT_LENGTH", static_cast<double>(mst_record_content_length()));
  exports.Set("constants", constants);
  InitDtls(env, exports);
  return exports;
}

}  // namespace

mst_config* UnwrapConfig(const Napi::Value& value) {
  if (!value.IsObject()) return nullptr;
  SecureContext* context = SecureContext::Unwrap(value.As<Napi::Object>());
  return context != nullptr ? context->config() : nullptr;
}

mst_session* UnwrapSession(const Napi::Value& value) {
  if (!value.IsObject()) return nullptr;
  Session* session = Session::Unwrap(value.As<Napi::Object>());
  return session != nullptr ? session->session() : nullptr;
}

NODE_API_MODULE(mbedtls_stream, Init)
