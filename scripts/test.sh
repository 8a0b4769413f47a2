#!/usr/bin/env bash
# Runs every test of Calendar Connector on a fresh Debian/Ubuntu machine:
#   formatting and lints, unit tests, and end-to-end tests of the CLI against the iCloud simulator and
#   a real Radicale server, with the real OS keychain (gnome-keyring on a private D-Bus session) and a
#   real notification daemon (dunst under Xvfb). Starts everything it needs and stops it afterwards.
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
echo "== cargo build" >&2
cargo build --workspace --all-targets --locked
echo "== cargo test (inside a private desktop session: Xvfb, D-Bus, gnome-keyring, dunst)" >&2
timeout -k 10 2400 scripts/ci/desktop-session.sh cargo test --workspace --locked --no-fail-fast
echo "== all tests passed in $((SECONDS - start)) s" >&2
