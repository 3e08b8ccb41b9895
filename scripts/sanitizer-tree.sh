# scripts/sanitizer-tree.sh: sourced by scripts/sanitize.sh and scripts/tsan.sh, which build
# the addon and the C test programs with a sanitizer in a tree of their own (build-asan/,
# build-tsan/), never touching build/: node-gyp always builds into ./build of the directory
# it runs in.
#
# prepare_tree ROOT TREE: makes TREE a build tree of ROOT. The .gyp files are copied (gyp
# resolves paths from a build file's own directory), and only when their content changed;
# everything else is a symlink, so sources keep their own mtimes and make's dependency
# tracking sees every edit. test/ and bench/ are there for binding.gyp's C test and bench
# targets (built when test/c/engine_test.c is there).
#
# nodedir_args ROOT: sets the array gyp_args to node-gyp's --nodedir from npm's config
# (~/.npmrc's nodedir=/usr builds offline), or to nothing.
prepare_tree() {
  local root=$1 tree=$2
  mkdir -p "$tree/deps"
  cmp -s "$root/binding.gyp" "$tree/binding.gyp" || cp "$root/binding.gyp" "$tree/binding.gyp"
  cmp -s "$root/deps/mbedtls.gyp" "$tree/deps/mbedtls.gyp" || cp "$root/deps/mbedtls.gyp" "$tree/deps/mbedtls.gyp"
  local link
  for link in src test bench node_modules deps/config deps/accel deps/mbedtls deps/list-sources.js \
      deps/build-profile.js; do
    ln -sfn "$root/$link" "$tree/$link"
  done
}

nodedir_args() {
  gyp_args=()
  local nodedir=${npm_config_nodedir:-$(cd "$1" && npm config get nodedir 2>/dev/null || true)}
  if [[ -n $nodedir && $nodedir != undefined && $nodedir != null ]]; then gyp_args+=(--nodedir="$nodedir"); fi
}
