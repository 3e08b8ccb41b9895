// dtls.cc: the DTLS part of the shim (exports.dtls), module functions on the SecureContext
// and Session objects of addon.cc. Driving a DTLS session goes through Session's own
// methods (feed, process, write, close), which in datagram mode hand back every datagram a
// call produced and the retransmission timer's next deadline (see Session::Collect).
#include <napi.h>

#include "addon.h"
#include "dtls_hello.h"
#include "engine.h"

namespace {

Napi::Value ErrorNumber(Napi::Env env, int code) { return Napi::Number::New(env, code); }

// configure(context, { cidLength, retransmitMin, retransmitMax, cookies, cookiesOf }) -> 0 |
// errno. cookiesOf: a server context whose cookie secret this one uses (a config chosen by
// SNI for that server's sessions). Keys left undefined keep the engine's defaults.
Napi::Value Configure(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  mst_config* config = UnwrapConfig(info[0]);
  if (config == nullptr || !info[1].IsObject()) return ErrorNumber(env, MST_ERR_BAD_ARGUMENT);
  Napi::Object options = info[1].As<Napi::Object>();
  mst_error error{};
  int ret = 0;
  Napi::Value cid = options.Get("cidLength");
  if (ret == 0 && cid.IsNumber())
    ret = mst_config_set_dtls_cid(config, cid.As<Napi::Number>().Uint32Value(), &error);
  Napi::Value min = options.Get("retransmitMin"), max = options.Get("retransmitMax");
  if (ret == 0 && min.IsNumber() && max.IsNumber())
    ret = mst_config_set_dtls_retransmit(config, min.As<Napi::Number>().Uint32Value(),
                                         max.As<Napi::Number>().Uint32Value(), &error);
  Napi::Value cookies = options.Get("cookies");
  if (ret == 0 && cookies.IsBoolean())
    ret = mst_config_set_dtls_cookies(config, cookies.As<Napi::Boolean>().Value(), &error);
  Napi::Value cookiesOf = options.Get("cookiesOf");
  if (ret == 0 && cookiesOf.IsObject()) {
    mst_config* from = UnwrapConfig(cookiesOf);
    ret = from != nullptr ? mst_config_share_dtls_cookies(config, from, &error) : MST_ERR_BAD_ARGUMENT;
  }
  return ErrorNumber(env, ret);
}

// checkHello(context, datagram, clientId) -> { verdict, reply }: mst_dtls_check_hello for a
// datagram from a client without a session; reply is the HelloVerifyRequest to send back
// (verdict 1), else undefined.
Napi::Value CheckHello(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  mst_config* config = UnwrapConfig(info[0]);
  Napi::Object result = Napi::Object::New(env);
  if (config == nullptr || !info[1].IsBuffer() || !info[2].IsBuffer()) {
    result.Set("verdict", Napi::Number::New(env, MST_DTLS_HELLO_DROP));
    return result;
  }
  auto datagram = info[1].As<Napi::Buffer<uint8_t>>();
  auto client = info[2].As<Napi::Buffer<uint8_t>>();
  uint8_t reply[MST_DTLS_HELLO_REPLY_MAX];
  size_t reply_len = 0;
  enum mst_dtls_hello verdict =
      mst_dtls_check_hello(config, datagram.Data(), datagram.Length(), client.Data(),
                           client.Length(), reply, sizeof(reply), &reply_len);
  result.Set("verdict", Napi::Number::New(env, verdict));
  if (verdict == MST_DTLS_HELLO_VERIFY)
    result.Set("reply", Napi::Buffer<uint8_t>::Copy(env, reply, reply_len));
  return result;
}

// setTransportId(session, clientId) -> 0 | errno: a server session's client address, which
// the cookie of its ClientHello must be bound to (the bytes given to checkHello)
Napi::Value SetTransportId(const Napi::CallbackInfo& info) {
  mst_session* session = UnwrapSession(info[0]);
  if (session == nullptr || !info[1].IsBuffer()) return ErrorNumber(info.Env(), MST_ERR_BAD_ARGUMENT);
  auto id = info[1].As<Napi::Buffer<uint8_t>>();
  return ErrorNumber(info.Env(), mst_session_set_transport_id(session, id.Data(), id.Length()));
}

// setMTU(session, bytes) -> 0 | errno
Napi::Value SetMTU(const Napi::CallbackInfo& info) {
  mst_session* session = UnwrapSession(info[0]);
  if (session == nullptr || !info[1].IsNumber()) return ErrorNumber(info.Env(), MST_ERR_BAD_ARGUMENT);
  uint32_t mtu = info[1].As<Napi::Number>().Uint32Value();
  if (mtu > 0xFFFF) return ErrorNumber(info.Env(), MST_ERR_BAD_ARGUMENT);
  return ErrorNumber(info.Env(), mst_session_set_mtu(session, static_cast<uint16_t>(mtu)));
}

// useConnectionId(session, ownCid) -> 0 | errno
Napi::Value UseConnectionId(const Napi::CallbackInfo& info) {
  mst_session* session = UnwrapSession(info[0]);
  if (session == nullptr || !info[1].IsBuffer()) return ErrorNumber(info.Env(), MST_ERR_BAD_ARGUMENT);
  auto own = info[1].As<Napi::Buffer<uint8_t>>();
  return ErrorNumber(info.Env(), mst_session_use_cid(session, own.Length() ? own.Data() : nullptr,
                                                     own.Length()));
}

// connectionId(session) -> { own, peer } (Buffers, either may be empty) | null: none in use
Napi::Value ConnectionId(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  mst_session* session = UnwrapSession(info[0]);
  if (session == nullptr) return env.Null();
  uint8_t own[MST_DTLS_CID_MAX], peer[MST_DTLS_CID_MAX];
  size_t own_len = 0, peer_len = 0;
  if (mst_session_cid(session, own, &own_len, peer, &peer_len) != 1) return env.Null();
  Napi::Object result = Napi::Object::New(env);
  result.Set("own", Napi::Buffer<uint8_t>::Copy(env, own, own_len));
  result.Set("peer", Napi::Buffer<uint8_t>::Copy(env, peer, peer_len));
  return result;
}

// checkRecord(session, datagram) -> 0 when its first record is authentic and new, else errno
Napi::Value CheckRecord(const Napi::CallbackInfo& info) {
  mst_session* session = UnwrapSession(info[0]);
  if (session == nullptr || !info[1].IsBuffer()) return ErrorNumber(info.Env(), MST_ERR_BAD_ARGUMENT);
  auto datagram = info[1].As<Napi::Buffer<uint8_t>>();
  return ErrorNumber(info.Env(),
                     mst_session_check_record(session, datagram.Data(), datagram.Length()));
}

// maxPayload(session) -> bytes one record can carry now (0 before the handshake)
Napi::Value MaxPayload(const Napi::CallbackInfo& info) {
  mst_session* session = UnwrapSession(info[0]);
  return Napi::Number::New(info.Env(), session != nullptr
                                           ? static_cast<double>(mst_session_max_payload(session))
                                           : 0);
}

// cidLength(context) -> the length of the CIDs a config's sessions use, or -1
Napi::Value CidLength(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), mst_config_dtls_cid_length(UnwrapConfig(info[0])));
}

}  // namespace

void InitDtls(Napi::Env env, Napi::Object exports) {
  Napi::Object dtls = Napi::Object::New(env);
  dtls.Set("configure", Napi::Function::New(env, Configure));
  dtls.Set("checkHello", Napi::Function::New(env, CheckHello));
  dtls.Set("setTransportId", Napi::Function::New(env, SetTransportId));
  dtls.Set("setMTU", Napi::Function::New(env, SetMTU));
  dtls.Set("useConnectionId", Napi::Function::New(env, UseConnectionId));
  dtls.Set("connectionId", Napi::Function::New(env, ConnectionId));
  dtls.Set("checkRecord", Napi::Function::New(env, CheckRecord));
  dtls.Set("maxPayload", Napi::Function::New(env, MaxPayload));
  dtls.Set("cidLength", Napi::Function::New(env, CidLength));
  dtls.Set("HELLO_DROP", static_cast<int>(MST_DTLS_HELLO_DROP));
  dtls.Set("HELLO_VERIFY", static_cast<int>(MST_DTLS_HELLO_VERIFY));
  dtls.Set("HELLO_ACCEPT", static_cast<int>(MST_DTLS_HELLO_ACCEPT));
  dtls.Set("ERR_MESSAGE_TOO_LARGE", MST_ERR_MESSAGE_TOO_LARGE);
  dtls.Set("CID_CONTENT_TYPE", MST_DTLS_CID_CONTENT_TYPE);
  exports.Set("dtls", dtls);
}
