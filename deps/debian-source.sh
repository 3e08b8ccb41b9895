# debian-source.sh: fetching one file of a Debian trixie source package, for
# deps/fetch-mbedtls.sh and scripts/fetch-node-tests.sh (sourced by both).
#
# debian_source_fetch PACKAGE FILE WORK_DIR
#   Downloads the source package PACKAGE with `apt-get source --download-only`, through a
#   private sources file whose mirror is the one this system's apt already uses (no host name
#   is written here) and a private list directory under WORK_DIR (nothing system-wide
#   changes). Only FILE matters to the caller, who verifies it: the .dsc or the Debian patches
#   may be missing from a mirror that has it, so apt-get's verdict is not taken as final.
#   On success sets DEBIAN_SOURCE_FILE to FILE's path (inside WORK_DIR); on failure appends
#   the reason to the caller's `tried` array and returns 1.
debian_source_fetch() {
  local package=$1 file=$2 apt_dir=$3 sources=/etc/apt/sources.list.d/debian.sources uri
  DEBIAN_SOURCE_FILE=
  if ! command -v apt-get >/dev/null 2>&1; then
    tried+=("Debian source package $package: apt-get is not installed"); return 1
  fi
  uri=$(awk '/^URIs:/ { print $2; exit }' "$sources" 2>/dev/null || true)
  if [[ -z $uri ]]; then
    uri=$(awk '$1 == "deb" { print ($2 ~ /^\[/ ? $3 : $2); exit }' /etc/apt/sources.list 2>/dev/null || true)
  fi
  if [[ -z $uri ]]; then
    tried+=("Debian source package $package: no mirror found in $sources or /etc/apt/sources.list"); return 1
  fi
  rm -rf "$apt_dir"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/download"
  cat > "$apt_dir/trixie-src.sources" <<SOURCES
Types: deb-src
URIs: $uri
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  local apt_opts=(-o "Dir::Etc::sourcelist=$apt_dir/trixie-src.sources" -o Dir::Etc::sourceparts=-
                  -o "Dir::State::Lists=$apt_dir/lists" -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
  if ! apt-get "${apt_opts[@]}" -qq update >"$apt_dir/update.log" 2>&1; then
    tried+=("Debian source package $package from $uri: apt-get update failed (see $apt_dir/update.log)"); return 1
  fi
  (cd "$apt_dir/download" && apt-get "${apt_opts[@]}" -qq source --download-only "$package" \
     >"$apt_dir/source.log" 2>&1) || true
  if [[ ! -f $apt_dir/download/$file ]]; then
    tried+=("Debian source package $package from $uri: no $file (see $apt_dir/source.log)"); return 1
  fi
  DEBIAN_SOURCE_FILE=$apt_dir/download/$file
}
