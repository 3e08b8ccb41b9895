# Mbed TLS 3.6, compiled as a static library for mbedtls-stream.
#
# The sources come from deps/mbedtls/, put there and verified by deps/fetch-mbedtls.sh; gyp
# never downloads anything. The configuration is the project's own header,
# deps/config/mbedtls_stream_config.h, and it reaches every target that depends on this one
# (direct_dependent_settings), so the addon and the library agree on every struct layout.
#
# The variable mbedtls_profile picks the build profile ('default', or 'small' for 4 KiB
# records): `npm install --mbedtls_profile=small` or `node-gyp rebuild --mbedtls_profile=small`
# (node-gyp makes npm_config_* and unknown options gyp variables). build-profile.js turns it
# into the defines the configuration header reads, and fails configure for an unknown name.
{
  'variables': {
    'mbedtls_profile%': 'default',
  },
  'target_defaults': {
    'defines': ['<!@(node build-profile.js <(mbedtls_profile))'],
  },
  'targets': [
    {
      'target_name': 'mbedtls',
      'type': 'static_library',
      'sources': ['<!@(node list-sources.js)'],
      # ../src/crypto: the headers of our code that the patched ecdsa.c and ecp.c call;
      # accel: our multi-block AES-GCM, which library/gcm.c (patch 0020) calls.
      'include_dirs': ['mbedtls/include', 'mbedtls/library', 'config', '../src/crypto', 'accel'],
      'defines': ['MBEDTLS_CONFIG_FILE="mbedtls_stream_config.h"'],
      'dependencies': ['mbedtls_stream_crypto', 'everest_hacl', 'gcm_accel'],
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
        'defines': ['MBEDTLS_CONFIG_FILE="mbedtls_stream_config.h"',
                    '<!@(node build-profile.js <(mbedtls_profile))'],
      },
    },
    {
      # Our own crypto inside Mbed TLS (src/crypto/): the P-256 verification and the X25519
      # glue that deps/patches/0021-ecdsa-p256-verify-hook.patch and 0023-ecp-x25519-hacl-hook.patch route to. Built with our warnings.
      'target_name': 'mbedtls_stream_crypto',
      'type': 'static_library',
      'sources': ['../src/crypto/p256_verify.c', '../src/crypto/x25519.c'],
      'include_dirs': ['mbedtls/include', 'config', '../src/crypto'],
      'defines': ['MBEDTLS_CONFIG_FILE="mbedtls_stream_config.h"'],
      'cflags': ['-O2', '-fPIC', '-fvisibility=hidden', '-Wall', '-Wextra', '-std=c11'],
      'xcode_settings': {
        'GCC_OPTIMIZATION_LEVEL': '2',
        'GCC_SYMBOLS_PRIVATE_EXTERN': 'YES',
        'OTHER_CFLAGS': ['-std=c11', '-Wall', '-Wextra'],
      },
    },
    {
      # Everest/HACL*'s Curve25519 from Mbed TLS's tree, for src/crypto/x25519.c. Its file
      # compiles only under MBEDTLS_ECDH_VARIANT_EVEREST_ENABLED, defined here for this one
      # file: the rest of Mbed TLS keeps the legacy ECDH context (see
      # deps/patches/0023-ecp-x25519-hacl-hook.patch for why), and this file uses no Mbed TLS
      # structure. Third-party code: no warnings of ours.
      'target_name': 'everest_hacl',
      'type': 'static_library',
      'sources': ['mbedtls/3rdparty/everest/library/Hacl_Curve25519_joined.c'],
      'include_dirs': ['mbedtls/include', 'mbedtls/library', 'config',
                       'mbedtls/3rdparty/everest/include',
                       'mbedtls/3rdparty/everest/include/everest',
                       'mbedtls/3rdparty/everest/include/everest/kremlib'],
      'defines': ['MBEDTLS_CONFIG_FILE="mbedtls_stream_config.h"',
                  'MBEDTLS_ECDH_VARIANT_EVEREST_ENABLED'],
      'cflags': ['-O2', '-fPIC', '-fvisibility=hidden', '-w'],
      'cflags!': ['-Wall', '-Wextra'],
      'xcode_settings': {
        'GCC_OPTIMIZATION_LEVEL': '2',
        'GCC_SYMBOLS_PRIVATE_EXTERN': 'YES',
        'GCC_WARN_INHIBIT_ALL_WARNINGS': 'YES',
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
