// The build profiles of mbedtls-stream (the gyp variable mbedtls_profile: `npm install
// --mbedtls_profile=small`, `node-gyp rebuild --mbedtls_profile=small`), and what each stands
// for. Run by deps/mbedtls.gyp as `node build-profile.js NAME`, it prints the profile's
// preprocessor defines, one a line, for deps/config/mbedtls_stream_config.h, and fails
// configure with a message for a name it does not know. deps/install.js reads PROFILES.
'use strict';

// default: 16 KiB records, as every TLS peer may send (RFC 8446 5.1).
// small:   4 KiB record buffers (MBEDTLS_SSL_{IN,OUT}_CONTENT_LEN 4096), and a client that
//          asks its peers for records that small (max_fragment_length, RFC 6066).
const PROFILES = {
  default: [],
  small: ['MBEDTLS_STREAM_PROFILE_SMALL'],
};

function definesOf(name) {
  if (!Object.hasOwn(PROFILES, name)) {
    throw new Error(`mbedtls-stream: unknown mbedtls_profile ${JSON.stringify(String(name))}: ` +
      `use one of ${Object.keys(PROFILES).join(', ')} (npm install --mbedtls_profile=small)`);
  }
  return PROFILES[name];
}

module.exports = { PROFILES, definesOf };

if (require.main === module) {
  try {
    for (const define of definesOf(process.argv[2])) console.log(define);
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
}
