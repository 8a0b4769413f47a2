#!/usr/bin/env bash
# Installs what is missing, builds the desktop app and opens it. With no account linked it shows the
# welcome screen, whose "Try the demo" runs the built-in iCloud simulator (no Apple ID needed).
# With no display (an SSH session, a headless machine) it says so and runs the CLI demo instead; the
# demo password then goes into a throwaway keychain on a private D-Bus session, never to a file.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --run
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display (DISPLAY and WAYLAND_DISPLAY are unset): the desktop app needs one." >&2
  echo "Running the command-line demo instead." >&2
  cargo build --release --locked -p calendar-connector-cli >&2
  bin=target/release/calendar-connector-cli
  if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
    exec "$bin" demo "$@"
  else
    exec scripts/ci/with-secret-service.sh "$bin" demo "$@"
  fi
fi
# The tray agent beside the app (Linux): the app starts it, and it keeps syncing after the window
# closes. Its own cargo run, so its features do not leak into the app's build.
cargo build --release --locked -p calendar-connector-agent >&2
cargo build --release --locked -p calendar-connector >&2
exec target/release/calendar-connector "$@"
