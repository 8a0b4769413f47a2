#!/usr/bin/env bash
# Runs every test of Calendar Connector on a fresh Debian/Ubuntu machine:
#   formatting and lints, unit tests, and end-to-end tests of the CLI against the iCloud simulator and
#   a real Radicale server, with the real OS keychain (gnome-keyring on a private D-Bus session) and a
#   real notification daemon (dunst under Xvfb); the desktop app over WebDriver (tauri-driver +
#   WebKitWebDriver) in the same kind of session; then its .deb (installed with apt and checked from
#   PATH, then removed) and .rpm (inspected); then the Windows build (cross-compiled, scripts/windows.sh)
#   and its MSI under Wine: install, link, sync, rejection, relink, Group Policy, upgrade, uninstall;
#   then a type-check of every package for macOS (Apple Silicon and Intel, scripts/macos-check.sh) and
#   the proof that it catches an error planted in macOS-only code.
#   Starts everything it needs and stops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

scripts/install-deps.sh

export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
export RADICALE_BIN="$PWD/.venv-radicale/bin/radicale"
export REQUIRE_KEYCHAIN=1

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings
# What ships, alone: without the test crates' features (the simulator's `testing` is off).
cargo clippy -p calendar-connector -p calendar-connector-cli --locked -- -D warnings
echo "== cargo build" >&2
cargo build --workspace --all-targets --locked
echo "== cargo test (inside a private desktop session: Xvfb, D-Bus, gnome-keyring, dunst)" >&2
# The workspace e2e tests are one binary (tests/e2e/main.rs) whose tests run in parallel threads; the
# ones that count notifications on the shared bus take the e2e lib's desktop lock, so no thread limit.
timeout -k 10 2400 scripts/ci/desktop-session.sh cargo test --workspace --locked --no-fail-fast

echo "== desktop app: WebDriver tests (tauri-driver + WebKitWebDriver under Xvfb, dunst, dbus-monitor)" >&2
# The debug binary the tests launch was built above (cargo build --workspace). REQUIRE_DESKTOP turns
# the tests' "skipped: no display" into a failure here.
mkdir -p target/ui-screenshots
REQUIRE_DESKTOP=1 NOTIFY_LOG="$PWD/target/ui-screenshots/notify.log" timeout -k 10 600 \
  scripts/ci/desktop-session.sh scripts/ci/with-tauri-driver.sh \
  cargo test -p calendar-connector --locked --test ui -- --test-threads=1
echo "   screenshots: target/ui-screenshots/" >&2

echo "== desktop app on Linux: the tray agent and the window process (a real WM, the tray over D-Bus, dunst, a revoked account)" >&2
timeout -k 10 300 scripts/ci/desktop-session.sh scripts/ci/tray-test.sh "$PWD/target/debug/calendar-connector"

echo "== desktop app: .deb and .rpm (tauri build, release)" >&2
scripts/package-linux.sh
deb=$(ls -t target/release/bundle/deb/*.deb | head -n1)
rpm_file=$(ls -t target/release/bundle/rpm/*.rpm | head -n1)
ls -l "$deb" "$rpm_file" >&2
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
pkg=$(dpkg-deb -f "$deb" Package)
remove_pkg() { $SUDO apt-get remove -y -qq "$pkg" >/dev/null 2>&1 || true; }
trap remove_pkg EXIT
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "./$deb" >&2
app=$(command -v calendar-connector)
echo "   installed $pkg: $app" >&2
pkg_data=$(mktemp -d)
CALENDAR_CONNECTOR_DATA_DIR="$pkg_data" env -u DISPLAY -u WAYLAND_DISPLAY calendar-connector status --json |
  python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["accounts"] == [], r; print("   status --json from PATH, no display: ok", file=sys.stderr)'
rm -rf "$pkg_data"
dpkg -L "$pkg" >target/deb-files.txt
desktop=$(grep '^/usr/share/applications/.*\.desktop$' target/deb-files.txt | head -n1 || true)
[ -n "$desktop" ] || { echo "no .desktop entry in $pkg" >&2; exit 1; }
grep -qx 'Exec=calendar-connector' "$desktop" || { echo "$desktop: Exec is not calendar-connector" >&2; cat "$desktop" >&2; exit 1; }
grep -q '^Icon=' "$desktop"
grep -q '^Categories=.*Calendar' "$desktop"
grep -q '^/usr/share/icons/hicolor/.*/apps/.*\.png$' target/deb-files.txt
grep -q '^/usr/share/metainfo/.*\.metainfo\.xml$' target/deb-files.txt
echo "   desktop entry: $desktop" >&2
# What people install carries none of the simulator's test machinery (the control API, the failure
# scenarios): the demo's server is the honest one.
agent_bin=$(command -v calendar-connector-agent) || { echo "the package has no calendar-connector-agent" >&2; exit 1; }
[ "$(dirname "$agent_bin")" = "$(dirname "$app")" ] || { echo "the agent is not beside the app: $agent_bin" >&2; exit 1; }
"$agent_bin" --version >&2
# The agent loads no GTK and no WebKit: its dynamic dependencies are the C library's alone.
! ldd "$agent_bin" | grep -Eq 'gtk|webkit|javascriptcore' || { echo "the agent links GTK or WebKit:" >&2; ldd "$agent_bin" >&2; exit 1; }
scripts/ci/no-test-machinery.sh "$app" "$agent_bin"
remove_pkg
trap - EXIT
! command -v calendar-connector >/dev/null || { echo "calendar-connector still on PATH after removal" >&2; exit 1; }
rpm -qlp "$rpm_file" >target/rpm-files.txt
for f in /usr/bin/calendar-connector /usr/bin/calendar-connector-agent '/usr/share/applications/.*\.desktop' '/usr/share/metainfo/.*\.metainfo\.xml' \
         '/usr/share/icons/hicolor/.*\.png'; do
  grep -q "^$f\$" target/rpm-files.txt || { echo "the rpm lacks $f" >&2; cat target/rpm-files.txt >&2; exit 1; }
done
rpm -qp --requires "$rpm_file" >target/rpm-requires.txt
grep -q webkit2gtk target/rpm-requires.txt || { echo "the rpm does not require webkit2gtk" >&2; exit 1; }
echo "   rpm: $(wc -l <target/rpm-files.txt) files, requires webkit2gtk" >&2

echo "== Windows: cross-build (wine-test profile) and MSI, then the MSI and the relink loop under Wine" >&2
wstart=$SECONDS
timeout -k 10 1800 scripts/windows.sh --profile wine-test --msi-version "$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1 | awk -F. '{ printf "%d.%d.%d", $1, $2, $3 + 1 }')"
timeout -k 10 600 scripts/ci/windows-wine-test.sh wine-test
scripts/ci/no-test-machinery.sh target/windows/dist/wine-test/calendar-connector.exe \
  target/windows/dist/wine-test/calendar-connector-cli.exe
echo "   Windows: $((SECONDS - wstart)) s" >&2

echo "== macOS: cargo check of every package for aarch64- and x86_64-apple-darwin, then a planted error must fail it" >&2
mstart=$SECONDS
timeout -k 10 1800 scripts/macos-check.sh
timeout -k 10 900 scripts/ci/macos-planted-error.sh
echo "   macOS: $((SECONDS - mstart)) s" >&2

echo "== all tests passed in $((SECONDS - start)) s" >&2
