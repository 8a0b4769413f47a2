#!/usr/bin/env bash
# Builds Calendar Connector for Windows on this Linux machine: the desktop app and the CLI for
# x86_64-pc-windows-gnu, and the MSI. docs/windows.md says why each piece is here.
#
#   scripts/windows.sh                       release build and MSI (what ships)
#   scripts/windows.sh --profile wine-test   unoptimised build for the Wine tests (about 3x faster)
#   scripts/windows.sh --msi-version 0.1.1   also stamp the MSI with another version (upgrade test)
#
# Installs what is missing (apt): Debian's rustc-web/cargo-web/rust-web-src (a compiler with its own
# std sources, so std is built for the target with -Zbuild-std), the mingw-w64 linker and windres, and
# wixl/msitools. Idempotent; its own target dir (target/windows). Writes target/windows/dist/PROFILE/:
# calendar-connector.exe, calendar-connector-cli.exe, WebView2Loader.dll and
# calendar-connector-VERSION-x64.msi, and prints their sizes.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
msi_versions=()
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile=$2; shift 2 ;;
    --profile=*) profile=${1#*=}; shift ;;
    --msi-version) msi_versions+=("$2"); shift 2 ;;
    --msi-version=*) msi_versions+=("${1#*=}"); shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "windows.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

target=x86_64-pc-windows-gnu
export CARGO_TARGET_DIR="$PWD/target/windows"
out="$CARGO_TARGET_DIR/$target/$profile"
dist="$CARGO_TARGET_DIR/dist/$profile"

# 1. The toolchain, from Debian's archive only (rustup cannot add targets without its servers).
# shellcheck source=scripts/lib/cross-toolchain.sh
. scripts/lib/cross-toolchain.sh
cross_toolchain_install gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 wixl msitools

# 2. Both programs in one cargo run (they share every dependency). Debian's cargo and rustc, with
#    RUSTC set so that cargo does not pick rustup's compiler (which has no std sources for -Zbuild-std).
#    custom-protocol: what `tauri build` turns on for a shipped app.
echo "== cross-building for $target ($profile) with $(/usr/bin/rustc --version)" >&2
start=$SECONDS
cross_cargo build --locked \
  -Zbuild-std --target "$target" --profile "$profile" \
  -p calendar-connector -p calendar-connector-cli --features calendar-connector/custom-protocol
echo "   built in $((SECONDS - start)) s" >&2

# 3. What the MSI installs: the two programs and WebView2Loader.dll, which the app imports at load time
#    (it ships in the webview2-com-sys crate; the WebView2 runtime itself is part of Windows).
rm -rf "$dist"
mkdir -p "$dist"
cp "$out/calendar-connector.exe" "$out/calendar-connector-cli.exe" "$dist/"
loader=$(ls -t "$out"/build/webview2-com-sys-*/out/x64/WebView2Loader.dll | head -n1)
cp "$loader" "$dist/WebView2Loader.dll"
cp icons/icon.ico "$dist/icon.ico"

# 4. The MSI, from packaging/windows/calendar-connector.wxs with wixl, then the table rows wixl cannot
#    write (msibuild, SQL on the MSI database): the Start-menu shortcut's AppUserModelID (toasts need
#    it), a plain (not advertised) shortcut target, and the AUTOSTART condition and its secure property.
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
root=$PWD
build_msi() {
  local v=$1 msi="$dist/calendar-connector-$1-x64.msi"
  rm -f "$msi"
  (cd "$dist" && wixl -a x64 -D Version="$v" -D BinDir=. -D IconFile=icon.ico -o "$msi" \
    "$root/packaging/windows/calendar-connector.wxs" 2> >(grep -v -e 'no property named' -e 'builder.vala:[0-9]*: unimplemented' -e '^$' >&2))
  msibuild "$msi" -q "UPDATE \`Shortcut\` SET \`Target\` = '[#AppExe]' WHERE \`Shortcut\` = 'StartMenuShortcut'"
  # "OR REMOVE": Windows Installer re-evaluates the condition when removing (Wine does, and so does a
  # transitive component), and a false condition would leave the Run value behind.
  msibuild "$msi" -q "UPDATE \`Component\` SET \`Condition\` = 'AUTOSTART = \"1\" OR REMOVE ~= \"ALL\"' WHERE \`Component\` = 'Autostart'"
  msibuild "$msi" -q "UPDATE \`Property\` SET \`Value\` = 'AUTOSTART;WIX_DOWNGRADE_DETECTED;WIX_UPGRADE_DETECTED' WHERE \`Property\` = 'SecureCustomProperties'"
  msibuild "$msi" -q "CREATE TABLE \`MsiShortcutProperty\` (\`MsiShortcutProperty\` CHAR(72) NOT NULL, \`Shortcut_\` CHAR(72) NOT NULL, \`PropertyKey\` CHAR(0) NOT NULL, \`PropVariantValue\` CHAR(0) NOT NULL PRIMARY KEY \`MsiShortcutProperty\`)"
  # PKEY_AppUserModel_ID = {9F4C2855-9F79-4B39-A8D0-E1D42DE1D5F3}, 5; the value is
  # connector::notify::APP_USER_MODEL_ID.
  msibuild "$msi" -q "INSERT INTO \`MsiShortcutProperty\` (\`MsiShortcutProperty\`, \`Shortcut_\`, \`PropertyKey\`, \`PropVariantValue\`) VALUES ('AppUserModelId', 'StartMenuShortcut', '{9F4C2855-9F79-4B39-A8D0-E1D42DE1D5F3}, 5', 'com.calendarconnector.desktop')"
  # Check what was written rather than trusting it.
  msiinfo export "$msi" MsiShortcutProperty | grep -q 'com.calendarconnector.desktop'
  msiinfo export "$msi" Component | grep -q 'AUTOSTART = "1" OR REMOVE'

  msiinfo export "$msi" Shortcut | grep -qF '[#AppExe]'
  echo "$msi"
}
build_msi "$version" >/dev/null
for v in "${msi_versions[@]}"; do build_msi "$v" >/dev/null; done
rm -f "$dist/icon.ico"

echo "== Windows build ($profile):" >&2
for f in "$dist"/*; do
  awk -v n="$(basename "$f")" -v s="$(stat -c %s "$f")" 'BEGIN { printf "   %-48s %6.1f MB\n", n, s / 1e6 }' >&2
done
