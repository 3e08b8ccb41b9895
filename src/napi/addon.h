// addon.h: what the shim's other files (dtls.cc) need from addon.cc: the engine objects
// behind its SecureContext and Session wrappers, and their own module initializers.
#ifndef MBEDTLS_STREAM_ADDON_H
#define MBEDTLS_STREAM_ADDON_H

#include <napi.h>

#include "engine.h"

// The config of a live SecureContext, or nullptr (not one, or destroyed). Only lib/ passes
// these objects, and it passes the right kind.
mst_config* UnwrapConfig(const Napi::Value& value);
// The session of a live Session, or nullptr.
mst_session* UnwrapSession(const Napi::Value& value);

// dtls.cc: adds exports.dtls, the DTLS functions lib/dtls uses.
void InitDtls(Napi::Env env, Napi::Object exports);

#endif  // MBEDTLS_STREAM_ADDON_H
