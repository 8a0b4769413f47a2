#!/usr/bin/env bash
# Close-to-tray and single-instance behaviour of the real desktop app, the way a person does it:
# a window manager (openbox) runs on the test display, the window's close button is pressed through
# the WM (wmctrl -c sends _NET_CLOSE_WINDOW → WM_DELETE_WINDOW, exactly like a click on ×), then a
# second launch is made. Run inside scripts/ci/desktop-session.sh. Needs: openbox wmctrl.
#   scripts/ci/tray-test.sh target/debug/calendar-connector
set -euo pipefail
app=${1:?usage: $0 PATH-TO-calendar-connector}
[ -n "${DISPLAY:-}" ] || { echo "tray-test: no DISPLAY (run inside desktop-session.sh)" >&2; exit 1; }
tmp=$(mktemp -d)
wm_pid="" app_pid=""
cleanup() {
  [ -z "$app_pid" ] || kill "$app_pid" 2>/dev/null || true
  [ -z "$wm_pid" ] || kill "$wm_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "tray-test: FAIL: $*" >&2; echo "--- app log:" >&2; cat "$tmp/app.log" >&2 || true; exit 1; }
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
webkit_children() { pgrep -f WebKitWebProcess -P "$app_pid" >/dev/null 2>&1 || pgrep -f WebKitWebProcess >/dev/null 2>&1; }
no_webkit() { ! pgrep -f WebKitWebProcess >/dev/null 2>&1; }

openbox >"$tmp/openbox.log" 2>&1 &
wm_pid=$!
wait_until 10 wmctrl -m >/dev/null 2>&1 || fail "openbox did not come up"

CALENDAR_CONNECTOR_DATA_DIR="$tmp/data" CALENDAR_CONNECTOR_KEYRING_NAMESPACE="tray-test-$$" \
  RUST_LOG=info "$app" >"$tmp/app.log" 2>&1 &
app_pid=$!
wait_until 60 window_shown || fail "the window never appeared"
wait_until 30 webkit_children || fail "no WebKit web process while the window is open"
echo "tray-test: window open (pid $app_pid), WebKit running" >&2

# Close the window like a person (the WM's close): the app keeps running, the webview is destroyed.
wmctrl -c "Calendar Connector"
wait_until 15 window_gone || fail "the window did not close"
sleep 2
kill -0 "$app_pid" 2>/dev/null || fail "closing the window quit the app (it must keep running in the tray)"
wait_until 15 no_webkit || fail "WebKit processes still running after the window was closed"
grep -q "keeps running in the tray" "$tmp/app.log" || fail "no 'keeps running in the tray' log line"
echo "tray-test: window closed, app still running, no WebKit process left" >&2

# A second launch does not start a second app: it brings the first one's window back.
CALENDAR_CONNECTOR_DATA_DIR="$tmp/data" CALENDAR_CONNECTOR_KEYRING_NAMESPACE="tray-test-$$" \
  timeout 30 "$app" >"$tmp/second.log" 2>&1 || fail "the second launch failed: $(cat "$tmp/second.log")"
wait_until 30 window_shown || fail "the second launch did not bring the window back"
kill -0 "$app_pid" 2>/dev/null || fail "the first instance died"
[ "$(pgrep -fc "^$app\$" || true)" -le 1 ] || fail "two app instances are running"
echo "tray-test: second launch focused the running instance" >&2
echo "tray-test: ok" >&2
