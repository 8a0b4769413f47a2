#!/usr/bin/env bash
# Type-checks the whole workspace — every package, the desktop app included — for macOS on this Linux
# machine: `cargo check` for Apple Silicon (aarch64-apple-darwin) and Intel (x86_64-apple-darwin), with
# Debian's compiler and std sources (-Zbuild-std), as scripts/windows.sh builds for Windows. Nothing is
# linked or run: no macOS linker or SDK exists here. docs/macos.md says what that covers and what not.
#
#   scripts/macos-check.sh                         both targets, every package
#   scripts/macos-check.sh --target aarch64-apple-darwin -p connector
#                                                  one target, some packages
#   scripts/macos-check.sh --clippy                `cargo clippy -- -D warnings` instead: also lints the
#                                                  macOS-only code (installs Debian's rust-web-clippy)
#
# Build scripts that compile C or Objective-C get stand-ins for the compiler and archiver
# (scripts/macos/stand-in-cc, stand-in-ar) that compile nothing: their C code is not checked, and the
# script lists which packages that was. Its own target dir: target/macos (CARGO_TARGET_DIR wins).
# Prints each target's time.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=() packages=() cmd=check lints=()
while [ $# -gt 0 ]; do
  case "$1" in
    --target) targets+=("$2"); shift 2 ;;
    --target=*) targets+=("${1#*=}"); shift ;;
    -p|--package) packages+=("$2"); shift 2 ;;
    --clippy) cmd=clippy; lints=(-- -D warnings); shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "macos-check.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(aarch64-apple-darwin x86_64-apple-darwin)

# shellcheck source=scripts/lib/cross-toolchain.sh
. scripts/lib/cross-toolchain.sh
if [ "$cmd" = clippy ]; then
  CROSS_WHO=macos-check.sh cross_toolchain_install rust-web-clippy
else
  CROSS_WHO=macos-check.sh cross_toolchain_install
fi

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/macos}
mkdir -p "$CARGO_TARGET_DIR"
standin="$PWD/scripts/macos"
# The deployment target of the bundle (tauri.conf.json's minimumSystemVersion); cc-rs and rustc read it.
export MACOSX_DEPLOYMENT_TARGET=11.0
# cc-rs asks `xcrun` for the SDK unless SDKROOT is set; there is no SDK, and the stand-in needs none.
export SDKROOT=/nonexistent-macos-sdk

# custom-protocol: what `tauri build` turns on for the shipped app (scripts/windows.sh does the same).
app_features=(--features calendar-connector/custom-protocol)
if [ ${#packages[@]} -gt 0 ]; then
  what=(); for p in "${packages[@]}"; do what+=(-p "$p"); done
  [[ " ${packages[*]} " == *" calendar-connector "* ]] || app_features=()
else
  what=(--workspace)
fi

for target in "${targets[@]}"; do
  t=${target//-/_}
  # Each call of the stand-in compiler (kept across runs: a warm check reruns no build script).
  export MACOS_STANDIN_LOG="$CARGO_TARGET_DIR/stand-in-calls-$target.log"
  echo "== cargo $cmd for $target (${packages[*]:-every package}) with $(/usr/bin/rustc --version)" >&2
  start=$SECONDS
  env "CC_$t=$standin/stand-in-cc" "CXX_$t=$standin/stand-in-cc" "AR_$t=$standin/stand-in-ar" \
    bash -c '. scripts/lib/cross-toolchain.sh; cross_cargo "$@"' cross_cargo \
    "$cmd" --locked -Zbuild-std --target "$target" "${what[@]}" "${app_features[@]}" "${lints[@]}"
  echo "   $target: checked in $((SECONDS - start)) s" >&2
  if [ -s "$MACOS_STANDIN_LOG" ]; then
    echo "   C/Objective-C given to the stand-in, so not checked: $(cut -f1 "$MACOS_STANDIN_LOG" | sed 's/-[0-9][0-9.]*$//' | sort -u | paste -sd' ')" >&2
  fi
done
