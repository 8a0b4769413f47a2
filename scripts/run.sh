#!/usr/bin/env bash
# Installs what is missing and runs Calendar Connector. With no Apple account linked it runs the demo:
# the built-in iCloud simulator, a demo account, a first sync and today's agenda — no Apple ID needed.
# The demo password goes into a throwaway keychain on a private D-Bus session when no desktop keychain
# is running (a headless machine), never to a file.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release --locked -p calendar-connector-cli >&2
bin=target/release/calendar-connector-cli
if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  exec "$bin" demo "$@"
else
  exec scripts/ci/with-secret-service.sh "$bin" demo "$@"
fi
