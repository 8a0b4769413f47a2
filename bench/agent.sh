#!/usr/bin/env bash
# The background agent's cost (issue 16), not part of the test command:
#   bench/agent.sh [--minutes 10] [--markdown]
# Builds the release desktop app, CLI and simulator, then runs bench/agent.py inside a private desktop
# session (Xvfb, D-Bus, gnome-keyring, dunst): PSS of every process of the app over the idle minutes
# with no window, wake-ups per minute, the window-open latency, PSS with the window open and after it
# closed, and the stripped binary sizes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh
cargo build --release --locked -p calendar-connector -p calendar-connector-cli -p icloud-sim \
  --features icloud-sim/testing >&2
exec scripts/ci/desktop-session.sh python3 bench/agent.py "$@"
