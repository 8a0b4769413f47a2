#!/usr/bin/env bash
# The tray agent and the window process on Linux, the way a person meets them, with real parts: a
# window manager (openbox) closes the window exactly like a click on ×, the tray is driven over D-Bus
# the way a panel's tray host drives it (StatusNotifierItem + com.canonical.dbusmenu), notifications go
# to a real dunst, and the account is a real simulator account revoked mid-run.
#
#  1. A launch from the menu opens the window and starts one tray agent; the agent is a small process
#     without WebKit or GTK.
#  2. Closing the window ends the window process and its WebKit processes; the agent stays.
#  3. The tray's "Open" starts the window again; a second launch brings it to the front instead of
#     opening another; `--hidden` (start at login) becomes a second agent that leaves at once.
#  4. Apple revokes the password: the agent notices, the tray asks for attention, the notification's
#     "Fix now" opens the window on the relink wizard of that account.
#  5. The tray's "Quit" ends the agent and the windows it opened.
#
# Run inside scripts/ci/desktop-session.sh. Needs: openbox wmctrl dunst gdbus (libglib2.0-bin) curl,
# and the agent and the simulator built beside the app (cargo build --workspace).
#   scripts/ci/tray-test.sh target/debug/calendar-connector
set -euo pipefail
app=${1:?usage: $0 PATH-TO-calendar-connector}
bindir=$(dirname "$app")
agent_bin="$bindir/calendar-connector-agent"
[ -n "${DISPLAY:-}" ] || { echo "tray-test: no DISPLAY (run inside desktop-session.sh)" >&2; exit 1; }
[ -x "$agent_bin" ] || { echo "tray-test: no $agent_bin (cargo build --workspace)" >&2; exit 1; }
tmp=$(mktemp -d)
wm_pid="" app_pid="" sim_pid=""
export CALENDAR_CONNECTOR_DATA_DIR="$tmp/data" CALENDAR_CONNECTOR_KEYRING_NAMESPACE="tray-test-$$" RUST_LOG=info
cleanup() {
  # shellcheck disable=SC2046  # one pid per word
  kill $(agents) $(windows) 2>/dev/null || true
  local i; for i in $(seq 50); do [ -z "$(agents)$(windows)" ] && break; sleep 0.1; done
  [ -z "$sim_pid" ] || kill "$sim_pid" 2>/dev/null || true
  [ -z "$wm_pid" ] || kill "$wm_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "tray-test: FAIL: $*" >&2
  for f in "$tmp"/*.log "$tmp"/data/logs/*.log; do [ -f "$f" ] && { echo "--- $f:" >&2; tail -n 40 "$f" >&2; }; done
  exit 1
}
wait_until() { # SECONDS CMD... : poll CMD until it succeeds
  local limit=$1; shift
  local deadline=$((SECONDS + limit))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}
window_shown() { wmctrl -l 2>/dev/null | grep -q "Calendar Connector"; }
window_gone() { ! window_shown; }
# Processes of this test's data dir only (other tests' agents may still be running on the machine).
ours() { local p; for p in $(pgrep -f "$1" || true); do
  { tr '\0' '\n' <"/proc/$p/environ"; } 2>/dev/null | grep -qx "CALENDAR_CONNECTOR_DATA_DIR=$tmp/data" && echo "$p"; done; }
agents() { ours "^$agent_bin"; }
windows() { ours "^$app( |$)"; }
one_agent() { [ "$(agents | wc -l)" -eq 1 ]; }
no_agent() { [ -z "$(agents)" ]; }
no_window_process() { [ -z "$(windows)" ]; }
# WebKit processes of the window process $1 (other WebKit users on the machine do not count).
webkit_of() { pgrep -f WebKitWebProcess -P "$1" || true; }
has_webkit_of() { [ -n "$(webkit_of "$1")" ]; }
all_gone() { local p; for p in "$@"; do ! kill -0 "$p" 2>/dev/null || return 1; done; }
# The agent's StatusNotifierItem name on the session bus (org.kde.StatusNotifierItem-PID-N).
sni_name() { gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
  --method org.freedesktop.DBus.ListNames | grep -o "org\.kde\.StatusNotifierItem-$(agents | head -1)-[0-9]*" | head -1; }
has_sni() { [ -n "$(sni_name)" ]; }
sni_prop() { gdbus call --session --dest "$(sni_name)" --object-path /StatusNotifierItem \
  --method org.freedesktop.DBus.Properties.Get org.kde.StatusNotifierItem "$1"; }
# Clicks the tray menu item labelled $1, as a tray host does (dbusmenu Event "clicked").
tray_click() {
  local layout id
  layout=$(gdbus call --session --dest "$(sni_name)" --object-path /MenuBar \
    --method com.canonical.dbusmenu.GetLayout -- 0 -1 '@as []')
  id=$(python3 -c 'import re,sys; m=re.search(r"\((\d+), \{[^}]*'"'"'label'"'"': <'"'"'"+re.escape(sys.argv[2])+"'"'"'>", sys.argv[1]); print(m.group(1) if m else "")' "$layout" "$1")
  [ -n "$id" ] || fail "no tray menu item \"$1\" in: $layout"
  gdbus call --session --dest "$(sni_name)" --object-path /MenuBar \
    --method com.canonical.dbusmenu.Event "$id" clicked '<int32 0>' 0 >/dev/null
}

openbox >"$tmp/openbox.log" 2>&1 &
wm_pid=$!
wait_until 10 wmctrl -m >/dev/null 2>&1 || fail "openbox did not come up"

# 1. A launch from the menu: the window, and one agent beside it.
"$app" >"$tmp/window1.log" 2>&1 &
app_pid=$!
wait_until 60 window_shown || fail "the window never appeared"
wait_until 30 one_agent || fail "no tray agent started with the window (agents: $(agents | tr '\n' ' '))"
agent_pid=$(agents)
wait_until 15 has_sni || fail "the agent's tray item is not on the session bus"
grep -q "webkit\|gtk" "/proc/$agent_pid/maps" && fail "the agent loaded GTK or WebKit"
wait_until 30 has_webkit_of "$app_pid" || fail "no WebKit web process under the window process"
webkit_pids=$(webkit_of "$app_pid")
echo "tray-test: window open (pid $app_pid), agent $agent_pid with tray item $(sni_name), no GTK/WebKit in it" >&2
sni_prop ToolTip | grep -q "calendars up to date" || fail "tray tooltip: $(sni_prop ToolTip)"

# 2. Close the window like a person: the window process ends, WebKit with it; the agent stays.
wmctrl -c "Calendar Connector"
wait_until 15 window_gone || fail "the window did not close"
wait_until 15 no_window_process || fail "the window process still runs after its window closed"
# shellcheck disable=SC2086  # one pid per word
wait_until 15 all_gone $webkit_pids || fail "WebKit processes $webkit_pids still running after the window was closed"
kill -0 "$agent_pid" 2>/dev/null || fail "closing the window stopped the tray agent"
echo "tray-test: window closed → window process and WebKit gone, agent still running" >&2

# 3. The tray's Open brings a window back; a second launch focuses it; start at login adds no agent.
tray_click "Open Calendar Connector"
wait_until 60 window_shown || fail "the tray's Open did not open the window"
"$app" >"$tmp/window2.log" 2>&1 || fail "the second launch failed: $(cat "$tmp/window2.log")"
sleep 1
[ "$(windows | wc -l)" -eq 1 ] || fail "two window processes: $(windows | tr '\n' ' ')"
"$app" --hidden >"$tmp/hidden.log" 2>&1 || fail "--hidden failed: $(cat "$tmp/hidden.log")"
one_agent || fail "a second agent is running: $(agents | tr '\n' ' ')"
grep -q "leaves it to that one" "$tmp/hidden.log" || fail "--hidden did not hand over to the agent: $(cat "$tmp/hidden.log")"
echo "tray-test: tray Open → window; second launch → same window; --hidden → no second agent" >&2
wmctrl -c "Calendar Connector"
wait_until 15 no_window_process || fail "the window process did not end"
no_zombie() { ! ps -o stat= --ppid "$agent_pid" | grep -q Z; }
wait_until 5 no_zombie || fail "the window process the agent started is left as a zombie"

# 4. An account whose password Apple revokes: the agent pauses it, the tray asks for attention and
#    the notification's "Fix now" opens the relink wizard of that account.
sim_bin="$bindir/icloud-sim"
[ -x "$sim_bin" ] || fail "no $sim_bin"
"$sim_bin" --port 0 --apple-id tray@example.com --events-per-calendar 3 --password-stdin <<<"qwzx-plmk-trvb-ynhu" >"$tmp/sim.out" 2>"$tmp/sim.log" &
sim_pid=$!
sim_ready() { grep -q "front=" "$tmp/sim.out"; }
wait_until 30 sim_ready || fail "the simulator did not start"
front=$(tr ' ' '\n' <"$tmp/sim.out" | sed -n 's/^front=//p' | head -1)
[ -n "$front" ] || fail "no front URL in: $(cat "$tmp/sim.out")"
printf 'qwzx-plmk-trvb-ynhu' | "$app" --server-url "$front" link --apple-id tray@example.com --password-stdin \
  >"$tmp/link.log" 2>&1 || fail "link failed: $(cat "$tmp/link.log")"
curl -fsS -X POST --data-binary "jgfe-wsxc-okmi-bhuv" "${front}__sim/password" >/dev/null || fail "could not revoke"
# The agent syncs (linking changed the cache, which wakes it), gets Apple's 401 and pauses the account.
tray_click "Sync now"
needs_attention() { sni_prop Status | grep -q NeedsAttention; }
wait_until 60 needs_attention || fail "the tray never asked for attention (Status: $(sni_prop Status))"
notified() { dunstctl count displayed 2>/dev/null | grep -qv '^0$'; }
wait_until 30 notified || fail "no notification on screen"
dunstctl action 0
wait_until 60 window_shown || fail "Fix now did not open the window"
pgrep -af "^$app" | grep -q -- "--open-relink tray@example.com" || fail "the window was not opened on the relink wizard: $(pgrep -af "^$app")"
echo "tray-test: revoked → tray NeedsAttention → notification → Fix now → relink window" >&2

# 5. Quit: the agent ends, and the window it opened goes with it.
tray_click "Quit"
wait_until 15 no_agent || fail "Quit did not end the agent"
wait_until 15 no_window_process || fail "the window the agent opened outlived Quit"
echo "tray-test: Quit → agent and its window gone" >&2
echo "tray-test: ok" >&2
