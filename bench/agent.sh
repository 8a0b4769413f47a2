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
# The app and CLI as they ship; the simulator's testing feature in a build of its own (one cargo run
# would give it to the app too).
cargo build --release --locked -p calendar-connector -p calendar-connector-cli --features calendar-connector/custom-protocol >&2
cargo build --release --locked -p calendar-connector-agent >&2
cargo build --release --locked -p icloud-sim --features testing >&2
exec scripts/ci/desktop-session.sh python3 bench/agent.py "$@"
