# Mbed TLS 3.6, compiled as a static library for mbedtls-stream.
#
# The sources come from deps/mbedtls/, put there and verified by deps/fetch-mbedtls.sh; gyp
# never downloads anything. The configuration is the project's own header,
# deps/config/mbedtls_stream_config.h, and it reaches every target that depends on this one
# (direct_dependent_settings), so the addon and the library agree on every struct layout.
{
  'targets': [
    {
      'target_name': 'mbedtls',
      'type': 'static_library',
      'sources': ['<!@(node list-sources.js)'],
      'include_dirs': ['mbedtls/include', 'mbedtls/library', 'config', 'accel'],
      # library/gcm.c (patch 0020) calls our multi-block AES-GCM.
      'dependencies': ['gcm_accel'],
      'defines': ['MBEDTLS_CONFIG_FILE="mbedtls_stream_config.h"'],
      # Third-party code: built optimised, position-independent, hidden, and without our
      # warnings, which are for our own code.
      'cflags': ['-O2', '-fPIC', '-fvisibility=hidden', '-w'],
      'cflags!': ['-Wall', '-Wextra'],
      'xcode_settings': {
        'GCC_OPTIMIZATION_LEVEL': '2',
        'GCC_SYMBOLS_PRIVATE_EXTERN': 'YES',
        'GCC_WARN_INHIBIT_ALL_WARNINGS': 'YES',
      },
      'direct_dependent_settings': {
        # accel/: gcm_accel.h, for the C tests and the benchmark that choose the AES-GCM
        # implementation.
        'include_dirs': ['mbedtls/include', 'config', 'accel'],
        'defines': ['MBEDTLS_CONFIG_FILE="mbedtls_stream_config.h"'],
      },
    },
    {
      # Our own multi-block AES-GCM (accel/gcm_accel.c), which Mbed TLS's GCM calls: our
      # code, so built with warnings on. No -march: each function names the instructions
      # it uses, and CPUID picks the function at run time.
      'target_name': 'gcm_accel',
      'type': 'static_library',
      'sources': ['accel/gcm_accel.c'],
      'include_dirs': ['accel'],
      'cflags': ['-O2', '-fPIC', '-fvisibility=hidden', '-Wall', '-Wextra'],
      'xcode_settings': {
        'GCC_OPTIMIZATION_LEVEL': '2',
        'GCC_SYMBOLS_PRIVATE_EXTERN': 'YES',
      },
    },
  ],
}
