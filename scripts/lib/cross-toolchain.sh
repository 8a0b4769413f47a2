# Sourced by scripts/windows.sh and scripts/macos-check.sh: Debian's compiler with its own std sources
# (rustc-web, cargo-web, rust-web-src), which builds std for another target with -Zbuild-std because
# rustup cannot add targets without its servers. docs/windows.md and docs/macos.md say why.
#
#   cross_toolchain_install [PACKAGE…]   installs the trio and the extra Debian packages that are missing
#                                        (apt), then checks the versions; exits on a mismatch
#   cross_cargo ARGS…                    Debian's cargo with Debian's rustc and RUSTC_BOOTSTRAP=1
#
# The caller sets `set -euo pipefail` and runs from the repository root; `CROSS_WHO` names it in errors.

cross_pkg_ok() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

cross_toolchain_install() {
  local who=${CROSS_WHO:-$(basename "$0")} need=() p
  for p in rustc-web cargo-web rust-web-src "$@"; do
    cross_pkg_ok "$p" || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    local SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    echo "installing: ${need[*]}" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
  fi
  local want have
  want=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
  have=$(/usr/bin/rustc --version | awk '{print $2}')
  if [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1)" != "$want" ]; then
    cat >&2 <<MSG
$who: Debian's rustc-web is $have, older than the workspace's rust-version $want.
The cross build needs a compiler whose std sources are installed beside it (rust-web-src of the same
version). Either lower rust-version in Cargo.toml to $have if the code allows it, or install a newer
rustc-web/cargo-web/rust-web-src trio (all three must be the same version) from a newer Debian suite.
MSG
    exit 1
  fi
  local src_ver rustc_ver
  src_ver=$(dpkg-query -W -f='${Version}' rust-web-src)
  rustc_ver=$(dpkg-query -W -f='${Version}' rustc-web)
  if [ "$src_ver" != "$rustc_ver" ]; then
    echo "$who: rustc-web ($rustc_ver) and rust-web-src ($src_ver) differ; install both at the same version" >&2
    exit 1
  fi
}

# RUSTC is set so that cargo does not pick rustup's compiler, which has no std sources for -Zbuild-std.
cross_cargo() {
  PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 /usr/bin/cargo "$@"
}
