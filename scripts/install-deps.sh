#!/usr/bin/env bash
# Installs what Calendar Connector needs on a Debian/Ubuntu machine, skipping what is there.
#   scripts/install-deps.sh          run + test dependencies (scripts/test.sh)
#   scripts/install-deps.sh --run    only what building and running the app needs (scripts/run.sh):
#                                    the compiler, WebKitGTK and the tray library, and D-Bus with
#                                    gnome-keyring for the headless demo. No test tools.
# System packages via apt (as root, or with sudo), Radicale (the real CalDAV server the tests use) in
# a venv at .venv-radicale, the Tauri CLI pinned in package-lock.json (npm ci), and tauri-driver for
# the desktop app's WebDriver tests. The Rust toolchain must already be installed (Rust >= 1.89).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
case "$mode" in all|--run) ;; *) echo "usage: $0 [--run]" >&2; exit 2 ;; esac

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have cc || need+=(build-essential)
have pkg-config || need+=(pkg-config)
have dbus-run-session || need+=(dbus)
have gnome-keyring-daemon || need+=(gnome-keyring)
# The desktop app (Tauri 2 on WebKitGTK) and its tray icon.
pkg_ok() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for p in libwebkit2gtk-4.1-dev libayatana-appindicator3-dev libssl-dev; do
  pkg_ok "$p" || need+=("$p")
done
if [ "$mode" = all ]; then
  # Tests: the simulator's and Radicale's clients, a display, a notification daemon, the WebDriver,
  # packaging tools, a window manager and a pseudo-terminal (script, for the CLI's colour test).
  have script || need+=(bsdutils)
  have curl || need+=(curl)
  have openssl || need+=(openssl)
  have Xvfb || need+=(xvfb xauth)
  have dbus-monitor || need+=(dbus-bin)
  have secret-tool || need+=(libsecret-tools)
  have dunst || need+=(dunst)
  have notify-send || need+=(libnotify-bin)
  have python3 || need+=(python3)
  have dbus-send || need+=(dbus-bin)
  have gdbus || need+=(libglib2.0-bin)
  pkg_ok webkit2gtk-driver || need+=(webkit2gtk-driver)
  pkg_ok imagemagick || need+=(imagemagick)
  have rpm || need+=(rpm)
  have openbox || need+=(openbox)
  have wmctrl || need+=(wmctrl)
  # The system file chooser in the WebDriver tests is answered with xdotool; emoji and CJK fonts so
  # screenshots show what people see, not boxes.
  have xdotool || need+=(xdotool)
  pkg_ok fonts-noto-color-emoji || need+=(fonts-noto-color-emoji)
  pkg_ok fonts-noto-cjk || need+=(fonts-noto-cjk)
  have node || need+=(nodejs)
  have npm || need+=(npm)
  python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
fi
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "installing system packages: ${need[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

if ! have cargo; then
  echo "cargo is missing: install Rust (https://rustup.rs) first" >&2
  exit 1
fi

if [ "$mode" = --run ]; then
  exit 0
fi

if [ ! -x .venv-radicale/bin/radicale ]; then
  echo "installing Radicale into .venv-radicale" >&2
  python3 -m venv .venv-radicale
  .venv-radicale/bin/pip install -q 'radicale>=3.9,<4' >&2
fi

# The Tauri CLI, exactly as package-lock.json pins it (^2; no 3.0 pre-releases).
if [ ! -x node_modules/.bin/tauri ]; then
  echo "installing the Tauri CLI (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

# WebDriver server for the desktop app's UI tests (^2: the newest on crates.io is a 3.0 alpha).
if ! have tauri-driver; then
  echo "installing tauri-driver" >&2
  cargo install tauri-driver --version '^2' --locked >&2
fi
