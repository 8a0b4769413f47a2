#!/usr/bin/env bash
# One command for the side-by-side benchmark (not part of the test command):
#   bench/run.sh [--sizes 1000,10000] [--repeats 3] [bench.py run options...]
# Builds the release CLI, installs Radicale, vdirsyncer and python-caldav into venvs on first use
# (~/.cache/caldav-bench), runs every peer interleaved against the same Radicale data inside a private
# keychain session, and prints the markdown table (also written to bench/last-results.json).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
scripts/install-deps.sh
cargo build --release --locked -p calendar-connector-cli >&2
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--sizes 1000,10000 --repeats 3)
out=$here/last-results.json
scripts/ci/with-secret-service.sh python3 "$here/bench.py" run \
  --peers "vdirsyncer,python-caldav,calendar-connector" --out "$out" "${args[@]}"
python3 "$here/bench.py" summarize "$out"
