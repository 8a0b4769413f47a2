#!/usr/bin/env bash
# Fails when a binary people install contains the iCloud simulator's test machinery: the paths of its
# unauthenticated control API (/__sim/...) or the canned answers of its failure scenarios. They exist
# only with icloud-sim's `testing` feature, which only the test crates enable. A control: the honest
# demo server must be there (its discovery answer), so a binary that is not the app fails too.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 BINARY..." >&2; exit 2; }
status=0
for bin in "$@"; do
  [ -f "$bin" ] || { echo "no such binary: $bin" >&2; exit 2; }
  if ! grep -aq 'calendar-home-set' "$bin"; then
    echo "$bin: not the app (no CalDAV code in it)" >&2
    status=1
  fi
  for needle in '/__sim/' 'Sign in with your Apple&nbsp;ID' 'after_requests'; do
    if grep -aqF "$needle" "$bin"; then
      echo "$bin contains the simulator's test machinery ($needle)" >&2
      status=1
    fi
  done
done
[ "$status" = 0 ] && echo "   no simulator test machinery in: $*" >&2
exit "$status"
