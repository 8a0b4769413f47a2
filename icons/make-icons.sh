#!/usr/bin/env bash
# Regenerates every icon from one RGBA source drawn with ImageMagick (no binary design files needed):
#   icons/icon-source.png   1024x1024 app icon (PNG32 = RGBA; Tauri refuses RGB icons)
#   icons/tray-{ok,syncing,relink}.png   64x64 tray icons (the app icon with a state badge)
#   icons/*.png, icon.ico, icon.icns      every bundle target, via `npx tauri icon`
set -euo pipefail
cd "$(dirname "$0")"
C=${CONVERT:-/usr/bin/convert}
$C -size 1024x1024 xc:none \
  -fill '#1d6fe0' -draw 'roundrectangle 64,64 960,960 200,200' \
  -fill white -draw 'roundrectangle 224,256 800,832 56,56' \
  -fill '#e5413a' -draw 'roundrectangle 224,256 800,420 56,56' -draw 'rectangle 224,360 800,420' \
  -fill '#ffffff' -draw 'roundrectangle 330,196 378,320 24,24' -draw 'roundrectangle 646,196 694,320 24,24' \
  -fill '#c9d3e0' \
  -draw 'roundrectangle 290,480 390,560 16,16' -draw 'roundrectangle 462,480 562,560 16,16' \
  -draw 'roundrectangle 634,480 734,560 16,16' -draw 'roundrectangle 290,620 390,700 16,16' \
  -draw 'roundrectangle 634,620 734,700 16,16' \
  -fill '#1d6fe0' -draw 'roundrectangle 462,620 562,700 16,16' \
  PNG32:icon-source.png
badge() { # NAME COLOR [MARK]
  $C icon-source.png -resize 64x64 \
    -fill "$2" -stroke white -strokewidth 3 -draw 'circle 48,48 48,33' \
    ${3:+-stroke none -fill white -draw "$3"} \
    PNG32:"tray-$1.png"
}
badge ok '#1f9d55' 'polygon 41,48 46,53 56,43 53,40 46,47 44,45'
badge syncing '#1d6fe0' 'circle 48,48 48,44'
badge relink '#d97706' 'rectangle 46,39 50,51 rectangle 46,54 50,57'
cd ..
npx --no-install tauri icon icons/icon-source.png -o icons >/dev/null 2>&1
rm -rf icons/android icons/ios  # no mobile targets
