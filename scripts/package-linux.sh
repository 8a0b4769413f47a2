#!/usr/bin/env bash
# Builds the Linux packages offline: target/release/bundle/deb/*.deb and target/release/bundle/rpm/*.rpm
# (the release binary with the UI inside). Tauri's bundler gzips the .deb's data; it is rebuilt here
# with xz -9 (what Debian itself uses), which takes the package from 10.9 MB to 6.9 MB.
# Contents, control fields, permissions and md5sums are kept exactly; apt and dpkg read it as before.
set -euo pipefail
cd "$(dirname "$0")/.."
# The tray agent (calendar-connector-agent) ships beside the app; tauri.conf.json's deb/rpm "files" take
# it from target/release. Its own cargo run, so its features do not leak into the app's build.
cargo build --release --locked -p calendar-connector-agent
timeout -k 10 1800 npx --no-install tauri build --bundles deb,rpm --ci
deb=$(ls -t target/release/bundle/deb/*.deb | head -n1)
before=$(stat -c %s "$deb")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -R "$deb" "$tmp/root"
dpkg-deb -Zxz -z9 --root-owner-group -b "$tmp/root" "$tmp/repacked.deb" >/dev/null
# The same files, owners, modes and sizes, and the same control fields, or the original stays.
files() {
  dpkg-deb --fsys-tarfile "$1" | tar -tv --numeric-owner |
    awk '{m=$1; o=$2; s=$3; $1=$2=$3=$4=$5=""; p=substr($0,6); sub(/^\.\//,"",p); sub(/\/$/,"",p); if (p!="" && p!=".") print m, o, s, p}' |
    sort
}
diff <(files "$deb") <(files "$tmp/repacked.deb") >&2
diff <(dpkg-deb -f "$deb") <(dpkg-deb -f "$tmp/repacked.deb") >&2
mv "$tmp/repacked.deb" "$deb"
echo "   $deb: $before → $(stat -c %s "$deb") bytes (xz)" >&2
