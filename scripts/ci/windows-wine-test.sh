#!/usr/bin/env bash
# The Windows package under Wine, end to end (part of scripts/test.sh; needs scripts/windows.sh run
# first with the same profile):
#   install the MSI silently → link through the installed CLI with --password-stdin (the password goes
#   to Wine's Credential Manager and into no file under drive_c) → sync → status --json counts the events
#   → the server starts rejecting the password → exit 3, then 0 requests on later syncs, and one log line
#   (not one per sync) for the toast Wine cannot show → relink → synced, nothing refetched → Group Policy
#   registry values in status --json, with their source, winning over the policy file; a bad one refused
#   → the desktop exe's subcommand mode → the desktop app without WebView2 says so → upgrade to a higher version with AUTOSTART=1 → uninstall
#   leaves no files.
# The server is the iCloud simulator (a Linux process on loopback; Wine's sockets are the host's).
#   scripts/ci/windows-wine-test.sh [PROFILE]     (default wine-test)
set -euo pipefail
cd "$(dirname "$0")/../.."
profile=${1:-wine-test}
dist="$PWD/target/windows/dist/$profile"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
next=$(echo "$version" | awk -F. '{ printf "%d.%d.%d", $1, $2, $3 + 1 }')
msi1="$dist/calendar-connector-$version-x64.msi"
msi2="$dist/calendar-connector-$next-x64.msi"
[ -f "$msi1" ] && [ -f "$msi2" ] || {
  echo "windows-wine-test: run scripts/windows.sh --profile $profile --msi-version $next first" >&2
  exit 1
}

pkg_ok() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
need=()
for p in wine64 gcc-mingw-w64-x86-64 msitools; do pkg_ok "$p" || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi
[ -x target/debug/icloud-sim ] || cargo build --locked -p icloud-sim --features testing >&2

work=$(mktemp -d)
sim_pid=""
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
  WINEPREFIX="$work/prefix" /usr/lib/wine/wineserver -k 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A private prefix: no display, no Mono/Gecko prompts, no menu entries on the host.
export WINEPREFIX="$work/prefix" WINEDEBUG=-all WINEARCH=win64
export WINEDLLOVERRIDES="winemenubuilder.exe=d;mscoree=d;mshtml=d"
unset DISPLAY WAYLAND_DISPLAY
wine() { /usr/lib/wine/wine64 "$@"; }
step() { echo "-- $*" >&2; }
fail() { echo "FAIL: $*" >&2; exit 1; }
passed=0
ok() { passed=$((passed + 1)); echo "   ok: $*" >&2; }

step "Wine prefix ($(/usr/lib/wine/wine64 --version))"
wine wineboot -i >/dev/null 2>&1
# Rust's std imports ProcessPrng from bcryptprimitives.dll, which Wine 8 lacks: a stand-in for this
# prefix only (scripts/ci/wine/bcryptprimitives.c). Never part of the MSI.
x86_64-w64-mingw32-gcc -shared -O2 -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
  scripts/ci/wine/bcryptprimitives.c -ladvapi32
drive_c="$WINEPREFIX/drive_c"
inst="$drive_c/Program Files/Calendar Connector"
cli='C:\Program Files\Calendar Connector\calendar-connector-cli.exe'
app='C:\Program Files\Calendar Connector\calendar-connector.exe'
uninstall_key='HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall'

step "msiexec /i $(basename "$msi1") /qn"
cp "$msi1" "$msi2" "$work/"
wine msiexec /i "Z:$work/$(basename "$msi1")" /qn /l*v "Z:$work/install1.log"
wine msiexec /i "Z:$work/$(basename "$msi1")" /qn >/dev/null 2>&1 || true  # a repeat is harmless
for f in calendar-connector.exe calendar-connector-cli.exe WebView2Loader.dll; do
  [ -f "$inst/$f" ] || fail "the MSI did not install $f"
done
! ls "$inst" | grep -qi bcryptprimitives || fail "the test's bcryptprimitives stand-in is in the install dir"
ok "installed into C:\\Program Files\\Calendar Connector: $(ls "$inst" | tr '\n' ' ')"
lnk=$(find "$drive_c" -name 'Calendar Connector.lnk' | head -n1)
[ -n "$lnk" ] || fail "no Start-menu shortcut"
ok "Start-menu shortcut: ${lnk#"$drive_c"/}"
wine reg query 'HKLM\SOFTWARE\Classes\calendar-connector\shell\open\command' 2>/dev/null | tr -d '\r' |
  grep -qF '"C:\Program Files\Calendar Connector\calendar-connector.exe" "%1"' ||
  fail "the calendar-connector: URI scheme (toast clicks) is not registered"
ok "calendar-connector: URI scheme → calendar-connector.exe \"%1\""
arp=$(wine reg query "$uninstall_key" /s 2>/dev/null | tr -d '\r')
echo "$arp" | grep -A20 'DisplayName.*Calendar Connector' >"$work/arp.txt" || fail "no Add/Remove Programs entry"
for want in "DisplayVersion.*$version" 'Publisher.*Calendar Connector' 'HelpLink.*http' 'URLInfoAbout.*http'; do
  grep -q "$want" "$work/arp.txt" || fail "Add/Remove Programs lacks $want: $(cat "$work/arp.txt")"
done
# ARPPRODUCTICON: Windows Installer registers the icon as the product's ProductIcon, which Add/Remove
# Programs shows.
wine reg query 'HKLM\Software\Classes\Installer\Products' /s 2>/dev/null | tr -d '\r' |
  grep -q 'ProductIcon.*AppIcon.ico' || fail "no ProductIcon registered for Add/Remove Programs"
ok "Add/Remove Programs: Calendar Connector $version, publisher, help link, icon"
! wine reg query 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run' /v 'Calendar Connector' >/dev/null 2>&1 ||
  fail "start at login for every user was set without AUTOSTART=1"
ok "no machine-wide start at login without AUTOSTART=1"

step "the iCloud simulator (Linux, loopback)"
password="wine-pass-word-abcd"
mkfifo "$work/sim.out"
printf '%s\n' "$password" | target/debug/icloud-sim --apple-id wine@example.com --password-stdin \
  --events-per-calendar 25 >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
read -r ready <"$work/sim.out" || fail "the simulator did not start: $(cat "$work/sim.err")"
front=$(echo "$ready" | sed -n 's/.*front=\([^ ]*\).*/\1/p')
[ -n "$front" ] || fail "simulator: $ready"
stats() { curl -fsS "${front%/}/__sim/stats"; }
requests() { stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])'; }
stat_of() { stats | python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
echo "   $ready" >&2

ns="wine-test-$$"
export CALENDAR_CONNECTOR_KEYRING_NAMESPACE=$ns
export WINEPATH=""
run_cli() { wine "$cli" --server-url "$front" "$@"; }

step "link --password-stdin"
before=$(requests)
printf '%s\n' "$password" | run_cli link --apple-id wine@example.com --password-stdin >"$work/link.out" 2>"$work/link.err" ||
  fail "link: $(cat "$work/link.err")"
ok "link exit 0 ($(($(requests) - before)) requests): $(tail -n1 "$work/link.out")"
grep -rlF "$password" "$drive_c" >"$work/leaks.txt" 2>/dev/null || true
[ ! -s "$work/leaks.txt" ] || fail "the password is in files under drive_c: $(cat "$work/leaks.txt")"
ok "the password is in no file under drive_c ($(find "$drive_c" -type f | wc -l) files searched)"
# Wine's Credential Manager keeps generic credentials in the registry (user.reg), RC4-obscured.
wine reg query 'HKCU\Software\Wine\Credential Manager' /s 2>/dev/null | tr -d '\r' >"$work/creds.txt" || true
grep -q "calendar-connector-$ns" "$work/creds.txt" ||
  fail "no Credential Manager entry for calendar-connector-$ns: $(cat "$work/creds.txt")"
ok "Credential Manager holds it: $(grep -m1 "calendar-connector-$ns" "$work/creds.txt" | sed 's/^ *//')"

step "sync, status --json"
before=$(requests)
run_cli sync >"$work/sync.out" 2>&1 || fail "sync: $(cat "$work/sync.out")"
ok "sync exit 0 ($(($(requests) - before)) requests)"
set +e
run_cli --json status >"$work/status.json" 2>"$work/status.err"; rc=$?
set -e
[ "$rc" = 0 ] || fail "status exit $rc: $(cat "$work/status.err")"
events=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); a=r["accounts"][0]; print(sum(c["event_count"] for c in a["calendars"]))' "$work/status.json")
[ "$events" -ge 50 ] || fail "status counts $events events"
ok "status --json: $events events, exit 0"
data_dir=$(find "$drive_c/users" -maxdepth 5 -type d -path '*AppData/Local/Calendar Connector' | head -n1)
[ -n "$data_dir" ] && [ -f "$data_dir/cache.sqlite3" -o -n "$(ls "$data_dir")" ] || fail "no data under %LOCALAPPDATA%\\Calendar Connector"
ok "data under ${data_dir#"$drive_c"/}: $(ls "$data_dir" | tr '\n' ' ')"

step "Apple stops accepting the password"
curl -fsS -X POST --data 'new1-pass-word-wxyz' "${front%/}/__sim/password" >/dev/null
before=$(requests)
set +e
run_cli sync >"$work/sync2.out" 2>&1; rc=$?
set -e
first=$(($(requests) - before))
[ "$rc" = 3 ] || fail "sync after the rejection exited $rc, not 3: $(cat "$work/sync2.out")"
[ "$(stat_of unauthorized)" -ge 1 ] || fail "no 401 was sent"
ok "sync exit 3 after $first request(s): $(grep -m1 -i 'password' "$work/sync2.out" || true)"
before=$(requests)
set +e
run_cli sync >/dev/null 2>&1; rc1=$?
run_cli sync >/dev/null 2>&1; rc2=$?
run_cli --json status >"$work/status2.json" 2>/dev/null; rc3=$?
set -e
[ "$rc1" = 3 ] && [ "$rc2" = 3 ] || fail "later syncs exited $rc1 $rc2"
[ "$(($(requests) - before))" = 0 ] || fail "later syncs sent $(($(requests) - before)) requests"
[ "$rc3" = 3 ] || fail "status exited $rc3 while an account needs a relink"
python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["accounts"][0]; assert a["icloud_app_specific_password_required"] and a["state"]=="needs_relink", a' "$work/status2.json"
ok "two more syncs: exit 3, 0 requests; status --json: needs_relink, exit 3"

step "the daemon on Wine: no toast (no WinRT), one log line, no crash"
RUST_LOG=warn timeout 8 /usr/lib/wine/wine64 "$cli" --server-url "$front" daemon --interval 1 >"$work/daemon.out" 2>"$work/daemon.err" || true
n=$(grep -c 'could not show a Windows notification' "$work/daemon.err" || true)
[ "$n" = 1 ] || fail "the daemon logged $n notification failures (want 1): $(cat "$work/daemon.err")"
! grep -qi 'panicked' "$work/daemon.err" || fail "the daemon panicked: $(cat "$work/daemon.err")"
ok "daemon ran ~8 s at 1 s intervals: 1 log line ($(grep -m1 'could not show' "$work/daemon.err" | cut -c1-110)…)"

step "relink with the new password"
multiget=$(stat_of multiget_hrefs); gets=$(stat_of get)
before=$(requests)
printf '%s\n' 'new1-pass-word-wxyz' | run_cli relink --apple-id wine@example.com --password-stdin >"$work/relink.out" 2>&1 ||
  fail "relink: $(cat "$work/relink.out")"
run_cli sync >/dev/null 2>&1 || fail "sync after relink"
[ "$(stat_of multiget_hrefs)" = "$multiget" ] && [ "$(stat_of get)" = "$gets" ] ||
  fail "the relink refetched objects ($multiget → $(stat_of multiget_hrefs) hrefs, $gets → $(stat_of get) GETs)"
run_cli --json status >"$work/status3.json" 2>/dev/null || fail "status after relink exited $?"
python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["accounts"][0]; assert a["state"]=="active" and not a["icloud_app_specific_password_required"], a; assert sum(c["event_count"] for c in a["calendars"])==int(sys.argv[2])' "$work/status3.json" "$events"
ok "relink + sync: exit 0, $(($(requests) - before)) requests, 0 objects refetched, $events events kept"

step "Group Policy (registry) over the policy file"
mkdir -p "$drive_c/ProgramData/Calendar Connector"
printf 'sync_interval_minutes = 60\nallow_demo = false\n' >"$drive_c/ProgramData/Calendar Connector/policy.toml"
wine reg add 'HKLM\SOFTWARE\Policies\Calendar Connector' /v sync_interval_minutes /t REG_DWORD /d 30 /f >/dev/null 2>&1
wine reg add 'HKLM\SOFTWARE\Policies\Calendar Connector' /v server_url /t REG_SZ /d 'https://caldav.example.com/' /f >/dev/null 2>&1
run_cli --json status >"$work/status4.json" 2>/dev/null || fail "status with a policy exited $?"
python3 - "$work/status4.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["policy"]
assert p["error"] is None, p
k = p["keys"]
assert k["sync_interval_minutes"] == {"value": 30, "source": "registry",
    "location": "HKLM\\SOFTWARE\\Policies\\Calendar Connector\\sync_interval_minutes"}, k
assert k["server_url"]["value"] == "https://caldav.example.com/" and k["server_url"]["source"] == "registry", k
assert k["allow_demo"]["value"] is False and k["allow_demo"]["source"] == "file", k
assert k["allow_demo"]["location"] == "C:\\ProgramData\\Calendar Connector\\policy.toml", k
assert k["notifications"] == {"value": None, "source": None, "location": None}, k
PY
ok "status --json: sync_interval_minutes 30 from the registry (the file's 60 loses), allow_demo from the file"
wine reg add 'HKLM\SOFTWARE\Policies\Calendar Connector' /v sync_interval_minutes /t REG_DWORD /d 0 /f >/dev/null 2>&1
run_cli --json status >"$work/status5.json" 2>/dev/null || true
err=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["policy"]["error"])' "$work/status5.json")
echo "$err" | grep -q 'Group Policy key HKLM\\SOFTWARE\\Policies\\Calendar Connector sets sync_interval_minutes = 0; it must be 1 to 1440' ||
  fail "a bad registry value was not refused: $err"
ok "a bad registry value is refused: $err"
set +e
CALENDAR_CONNECTOR_DATA_DIR='C:\cc-policy-check' wine "$app" --hidden >"$work/app-bad.out" 2>&1; rc=$?
set -e
[ "$rc" = 2 ] || fail "the desktop app started with a bad policy (exit $rc): $(cat "$work/app-bad.out")"
ok "the desktop app refuses to start with it (exit 2)"
wine reg delete 'HKLM\SOFTWARE\Policies\Calendar Connector' /f >/dev/null 2>&1
rm -f "$drive_c/ProgramData/Calendar Connector/policy.toml"

step "the desktop exe's subcommand mode"
set +e
wine "$app" --server-url "$front" --json status >"$work/status6.json" 2>"$work/status6.err"; rc=$?
set -e
[ "$rc" = 0 ] || fail "calendar-connector.exe status --json exited $rc: $(cat "$work/status6.err")"
python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["accounts"]; assert a[0]["apple_id"]=="wine@example.com", a' "$work/status6.json"
ok "calendar-connector.exe --json status: the same account, exit 0"

step "the desktop app where the WebView2 runtime is missing (Wine has none)"
set +e
CALENDAR_CONNECTOR_DATA_DIR='C:\cc-webview2' wine "$app" --hidden >"$work/app-wv.out" 2>&1; rc=$?
set -e
[ "$rc" = 1 ] || fail "the desktop app without WebView2 exited $rc: $(cat "$work/app-wv.out")"
grep -q 'the WebView2 runtime is missing' "$drive_c/cc-webview2/logs/desktop.log" ||
  fail "no log line about WebView2: $(cat "$drive_c/cc-webview2/logs/desktop.log" 2>&1)"
ok "exit 1, a message box in plain words, and in logs\\desktop.log: $(cut -c29-100 "$drive_c/cc-webview2/logs/desktop.log" | head -n1)…"

step "upgrade: msiexec /i $(basename "$msi2") /qn AUTOSTART=1"
wine msiexec /i "Z:$work/$(basename "$msi2")" /qn AUTOSTART=1 /l*v "Z:$work/install2.log"
arp=$(wine reg query "$uninstall_key" /s 2>/dev/null | tr -d '\r')
count=$(echo "$arp" | grep -c 'DisplayName.*Calendar Connector' || true)
[ "$count" = 1 ] || fail "$count Add/Remove Programs entries after the upgrade"
echo "$arp" | grep -A20 'DisplayName.*Calendar Connector' | grep -q "DisplayVersion.*$next" ||
  fail "the upgrade did not replace $version with $next"
wine reg query 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run' /v 'Calendar Connector' 2>/dev/null | tr -d '\r' |
  grep -qF '"C:\Program Files\Calendar Connector\calendar-connector.exe" --hidden' ||
  fail "AUTOSTART=1 did not set start at login for every user"
run_cli --json status >"$work/status7.json" 2>/dev/null || fail "status after the upgrade"
python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["accounts"][0]; assert sum(c["event_count"] for c in a["calendars"])==int(sys.argv[2])' "$work/status7.json" "$events"
ok "$version → $next: one product, HKLM Run → calendar-connector.exe --hidden, cache and account kept"

step "uninstall: msiexec /x /qn"
wine msiexec /x "Z:$work/$(basename "$msi2")" /qn
[ ! -e "$inst" ] || fail "files left behind: $(find "$inst")"
[ -z "$(find "$drive_c" -name 'Calendar Connector.lnk')" ] || fail "the shortcut was left behind"
! wine reg query 'HKLM\SOFTWARE\Classes\calendar-connector' >/dev/null 2>&1 || fail "the URI scheme was left behind"
! wine reg query 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run' /v 'Calendar Connector' >/dev/null 2>&1 ||
  fail "start at login was left behind"
! wine reg query "$uninstall_key" /s 2>/dev/null | grep -q 'DisplayName.*Calendar Connector' || fail "still in Add/Remove Programs"
ok "no files, shortcut, URI scheme, Run value or Add/Remove Programs entry left"

step "no plaintext password anywhere in the prefix, the registry hives included"
/usr/lib/wine/wineserver -w
for pw in "$password" new1-pass-word-wxyz; do
  ! grep -rlF "$pw" "$WINEPREFIX" >"$work/leaks2.txt" 2>/dev/null || fail "plaintext password in $(cat "$work/leaks2.txt")"
done
ok "neither password is in plain text in any file of the prefix (user.reg holds them RC4-obscured, as Wine does)"

echo "windows (wine): $passed passed, 0 failed" >&2
