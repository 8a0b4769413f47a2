#!/usr/bin/env bash
# One command for the side-by-side benchmark (not part of the test command):
#   bench/run.sh [--sizes 1000,10000,50000] [--repeats 3] [bench.py run options...]
# Builds the release CLI and icloud-sim, installs Radicale, vdirsyncer and python-caldav into venvs on
# first use (~/.cache/caldav-bench), runs every peer interleaved against the same Radicale data inside
# a private keychain session, then our CLI alone against icloud-sim (a fast server: what is left is the
# client's own cost), and prints one markdown table (results in bench/last-results*.json).
# The 50,000-event size takes about 25 minutes on 2 cores (Radicale's own warm-up is 6 of them).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
scripts/install-deps.sh
cargo build --release --locked -p calendar-connector-cli >&2
cargo build --release --locked -p icloud-sim --features testing >&2
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--sizes 1000,10000,50000 --repeats 3)
out=$here/last-results.json
sim_out=$here/last-results-sim.json
rc=0
scripts/ci/with-secret-service.sh python3 "$here/bench.py" run --mutate-via storage \
  --peers "vdirsyncer,python-caldav,calendar-connector" --out "$out" "${args[@]}" >/dev/null || rc=$?
scripts/ci/with-secret-service.sh python3 "$here/bench.py" run --server icloud-sim \
  --peers calendar-connector --out "$sim_out" "${args[@]}" >/dev/null || rc=$?
python3 "$here/bench.py" summarize "$out" "$sim_out" || rc=$?
exit "$rc"
