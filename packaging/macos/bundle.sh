#!/usr/bin/env bash
# Builds pyrus-phone.app on a Mac, from the checkout:
#   bash packaging/macos/bundle.sh
# gives target/macos/pyrus-phone.app: the release binary, Info.plist (with the tel:,
# callto: and sip: URL types) and the icon made from assets/pyrus-phone.svg (rsvg-convert
# from librsvg, then the system's iconutil). Sign and notarise it as your organisation does.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v rsvg-convert >/dev/null || { echo "error: rsvg-convert is missing (brew install librsvg)" >&2; exit 2; }
cargo build --release --locked
app=target/macos/pyrus-phone.app
rm -rf "$app" target/macos/pyrus-phone.iconset
mkdir -p "$app/Contents/MacOS" "$app/Contents/Resources" target/macos/pyrus-phone.iconset
cp target/release/pyrus-phone "$app/Contents/MacOS/pyrus-phone"
cp packaging/macos/Info.plist "$app/Contents/Info.plist"
for size in 16 32 128 256 512; do
  rsvg-convert -w "$size" -h "$size" assets/pyrus-phone.svg -o "target/macos/pyrus-phone.iconset/icon_${size}x${size}.png"
  rsvg-convert -w $((size * 2)) -h $((size * 2)) assets/pyrus-phone.svg -o "target/macos/pyrus-phone.iconset/icon_${size}x${size}@2x.png"
done
iconutil -c icns target/macos/pyrus-phone.iconset -o "$app/Contents/Resources/pyrus-phone.icns"
plutil -lint "$app/Contents/Info.plist"
echo "$app"
