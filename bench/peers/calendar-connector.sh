#!/usr/bin/env bash
# Peer script for ../shared/bench (bench.py --peers calendar-connector=$PWD/bench/calendar-connector.sh).
# Needs the release CLI (cargo build --release -p calendar-connector-cli) and an unlocked keychain:
# run the whole bench inside scripts/ci/with-secret-service.sh.
set -euo pipefail
: "${BENCH_STATE:?}" "${BENCH_URL:?}"
here=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CALENDAR_CONNECTOR_CLI:-$here/target/release/calendar-connector-cli}
DATA=$BENCH_STATE/data
export CALENDAR_CONNECTOR_KEYRING_NAMESPACE=bench
case "${1:-}" in
  setup)  [ -x "$BIN" ] || { echo "build $BIN first: cargo build --release -p calendar-connector-cli" >&2; exit 1; } ;;
  first)  printf '%s' "${BENCH_PASSWORD:-bench}" |
            "$BIN" --data-dir "$DATA" --server-url "$BENCH_URL" link --apple-id "${BENCH_USER:-bench}" --password-stdin --no-sync >/dev/null 2>&1
          "$BIN" --data-dir "$DATA" sync ;;
  resync) "$BIN" --data-dir "$DATA" sync ;;
  count)  "$BIN" --data-dir "$DATA" --json status |
            python3 -c 'import json, sys; j = json.load(sys.stdin); print(sum(c["event_count"] for a in j["accounts"] for c in a["calendars"]))' ;;
  *)      echo "usage: $0 setup|first|resync|count" >&2; exit 2 ;;
esac
