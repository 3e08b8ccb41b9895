# mbedtls-stream: the addon (engine + N-API shim) and the engine's own C test program.
# Mbed TLS itself comes from deps/mbedtls.gyp, which also carries our configuration header.
{
  'variables': {
    # The engine's C tests are built in a checkout, not from the published package.
    'engine_tests%': '<!(node -p "+require(\'fs\').existsSync(\'test/c/engine_test.c\')")',

    # The engine (src/core), for the C test programs that link it without N-API.
    'engine_sources': [
      'src/core/certificate.c',
      'src/core/config.c',
      'src/core/dtls.c',
      'src/core/dtls_hello.c',
      'src/core/key_exchange.c',
      'src/core/memory.c',
      'src/core/names.c',
      'src/core/record_buffers.c',
      'src/core/handshake.c',
      'src/core/resumption.c',
      'src/core/session.c',
      'src/core/session_store.c',
      'src/core/tickets.c',
    ],
  },
  'target_defaults': {
    # Mbed TLS's private headers after ours (deps/mbedtls/library), for src/core/handshake.c
    # and src/core/key_exchange.c, which read the library's handshake structure (ssl_misc.h).
    'include_dirs': ['src/core', 'deps/mbedtls/library'],
    'dependencies': ['deps/mbedtls.gyp:mbedtls'],
    'cflags': ['-Wall', '-Wextra', '-fvisibility=hidden'],
    'cflags_c': ['-std=c11'],
    'xcode_settings': {
      'GCC_SYMBOLS_PRIVATE_EXTERN': 'YES',
      'OTHER_CFLAGS': ['-std=c11', '-Wall', '-Wextra'],
    },
    'conditions': [
      ['OS=="linux"', {'ldflags': ['-Wl,--exclude-libs,ALL']}],
    ],
  },
  'targets': [
    {
      'target_name': 'mbedtls_stream',
      'sources': [
        'src/core/certificate.c',
        'src/core/config.c',
        'src/core/dtls.c',
        'src/core/dtls_hello.c',
        'src/core/key_exchange.c',
        'src/core/memory.c',
        'src/core/names.c',
        'src/core/record_buffers.c',
        'src/core/handshake.c',
        'src/core/resumption.c',
        'src/core/session.c',
        'src/core/session_store.c',
        'src/core/tickets.c',
        'src/napi/addon.cc',
        'src/napi/dtls.cc',
        'src/napi/offload.cc',
        'src/napi/sink_pool.cc',
      ],
      'dependencies': ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api"],
      # A call that cannot throw because a worker's environment is stopping is dropped,
      # not turned into a fatal error of the whole process.
      'defines': ['NAPI_VERSION=8', 'NODE_ADDON_API_DISABLE_DEPRECATED',
                  'NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS'],
    },
  ],
  'conditions': [
    ['engine_tests==1', {
      'targets': [
        {
          'target_name': 'engine_test',
          'type': 'executable',
          'sources': ['<@(engine_sources)', 'test/c/engine_test.c'],
          'libraries': ['-lpthread'],
        },
        {
          # The engine on several threads at once, sharing configs (scripts/tsan.sh runs it
          # under ThreadSanitizer).
          'target_name': 'threads_test',
          'type': 'executable',
          'sources': ['<@(engine_sources)', 'test/c/threads_test.c'],
          'libraries': ['-lpthread'],
        },
        {
          # src/crypto/p256_verify.c against Mbed TLS's stock verification.
          'target_name': 'p256_verify_test',
          'type': 'executable',
          'sources': ['test/c/p256_verify_test.c'],
          'include_dirs': ['src/crypto'],
          'libraries': ['-lpthread'],
        },
        {
          # Curve25519 through HACL (src/crypto/x25519.c): RFC 7748 and Mbed TLS's ladder.
          'target_name': 'x25519_test',
          'type': 'executable',
          'sources': ['test/c/x25519_test.c'],
          'include_dirs': ['src/crypto'],
          'libraries': ['-lpthread'],
        },
        {
          # Our multi-block AES-GCM against Mbed TLS's GCM vectors and its stock code.
          'target_name': 'gcm_test',
          'type': 'executable',
          'sources': ['test/c/gcm_test.c'],
          'libraries': ['-lpthread'],
        },
        {
          # The crypto alone, Mbed TLS's stock code next to ours: AES-GCM MB/s on the record
          # path, P-256 verifications/s, X25519/s, P-256 signatures/s (a benchmark, which
          # bench/run.js runs).
          'target_name': 'crypto_bench',
          'type': 'executable',
          'sources': ['bench/crypto_bench.c'],
          'include_dirs': ['src/crypto'],
          'libraries': ['-lpthread'],
        },
      ],
    }],
  ],
}
