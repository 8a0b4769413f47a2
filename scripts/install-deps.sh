#!/usr/bin/env bash
# Installs what Calendar Connector needs on a Debian/Ubuntu machine, skipping what is there.
#   scripts/install-deps.sh          run + test dependencies
# System packages via apt (as root, or with sudo), Radicale (the real CalDAV server the tests use) in
# a venv at .venv-radicale. The Rust toolchain must already be installed (rustup; Rust >= 1.89).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have cc || need+=(build-essential)
have pkg-config || need+=(pkg-config)
have curl || need+=(curl)
have openssl || need+=(openssl)
have Xvfb || need+=(xvfb xauth)
have dbus-run-session || need+=(dbus)
have dbus-monitor || need+=(dbus-bin)
have gnome-keyring-daemon || need+=(gnome-keyring)
have secret-tool || need+=(libsecret-tools)
have dunst || need+=(dunst)
have notify-send || need+=(libnotify-bin)
have python3 || need+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
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

if [ ! -x .venv-radicale/bin/radicale ]; then
  echo "installing Radicale into .venv-radicale" >&2
  python3 -m venv .venv-radicale
  .venv-radicale/bin/pip install -q 'radicale>=3.9,<4' >&2
fi
