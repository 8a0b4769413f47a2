#!/usr/bin/env bash
# Shows that scripts/macos-check.sh really checks macOS code: in a temporary copy of the repository, a
# type error planted in a `#[cfg(target_os = "macos")]` item must make the check fail — once in the
# engine (connector) and once in the desktop app (src-tauri) — with that very error. A Linux build
# never compiles those items, so only a check for macOS can catch them.
#
# One target (aarch64-apple-darwin) is enough: the planted items depend on target_os alone, which both
# Apple targets share. The copy uses target/macos (CARGO_TARGET_DIR) and checks the whole workspace,
# exactly the units scripts/macos-check.sh checked, so only the copy's own packages (new paths) are
# checked again, not their dependencies (`-p PACKAGE` alone would unify other features and re-check
# many of them).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target/macos}
copy=$(mktemp -d "${TMPDIR:-/tmp}/macos-planted.XXXXXX")
trap 'rm -rf "$copy"' EXIT

# The repository as it is (tracked and new files as in the working tree), without ignored ones (target/).
git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$copy"

marker=planted_macos_type_error
plant() { # FILE WHAT: append a macOS-only function whose body has the wrong type, check, restore
  local file=$1 package=$2 log t0=$SECONDS
  log=$(mktemp)
  cp "$copy/$file" "$copy/$file.orig"
  cat >>"$copy/$file" <<RUST

#[cfg(target_os = "macos")]
#[allow(dead_code)]
fn $marker() -> u32 {
    "a string is not a u32"
}
RUST
  echo "== planted a type error in a macOS-only item of $file; the macOS check of $package must fail" >&2
  if "$copy/scripts/macos-check.sh" --target aarch64-apple-darwin >"$log" 2>&1; then
    cat "$log" >&2
    echo "FAIL: the macOS check passed with a type error planted in $file" >&2
    exit 1
  fi
  if ! grep -q 'error\[E0308\]: mismatched types' "$log" || ! grep -q "$file" "$log"; then
    cat "$log" >&2
    echo "FAIL: the macOS check failed, but not on the error planted in $file" >&2
    exit 1
  fi
  grep -m1 -A3 'error\[E0308\]' "$log" | sed 's/^/   /' >&2
  echo "   ok: the planted error in $file fails the check ($((SECONDS - t0)) s)" >&2
  mv "$copy/$file.orig" "$copy/$file"
  rm -f "$log"
}

plant crates/connector/src/notify.rs connector
plant src-tauri/src/lib.rs calendar-connector
