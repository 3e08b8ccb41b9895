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
      'include_dirs': ['mbedtls/include', 'mbedtls/library', 'config'],
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
        'include_dirs': ['mbedtls/include', 'config'],
        'defines': ['MBEDTLS_CONFIG_FILE="mbedtls_stream_config.h"'],
      },
    },
  ],
}
