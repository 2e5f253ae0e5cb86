#!/usr/bin/env bash
# Builds the Linux packages from this checkout:
#   bash packaging/linux/build.sh
# gives target/debian/pyrus-phone_VERSION-1_ARCH.deb and
# target/generate-rpm/pyrus-phone-VERSION-1.ARCH.rpm.
#
# First it writes what the packages carry beside the binary: the man page and the shell
# completions (from the command line's own definition) and the hicolor icons (from
# assets/pyrus-phone.svg), all under target/packaging. Then `cargo deb` builds the release
# binary and the .deb, and `cargo generate-rpm` the RPM from the same binary; both read their
# metadata from Cargo.toml.
set -euo pipefail
cd "$(dirname "$0")/../.."

missing=()
command -v rsvg-convert >/dev/null || missing+=("rsvg-convert (Debian: librsvg2-bin)")
cargo deb --version >/dev/null 2>&1 || missing+=("cargo-deb (cargo install --locked cargo-deb)")
cargo generate-rpm --version >/dev/null 2>&1 || missing+=("cargo-generate-rpm (cargo install --locked cargo-generate-rpm)")
if ((${#missing[@]})); then
  printf 'error: the packages need these tools, which are not installed:\n' >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 2
fi

out=target/packaging
rm -rf "$out"
mkdir -p "$out"

echo "== man page and completions"
cargo run --locked --quiet --example package-docs -- "$out" >/dev/null
gzip -9n "$out/pyrus-phone.1"

echo "== icons"
for size in 16 24 32 48 64 128 256 512; do
  mkdir -p "$out/icons/${size}x${size}"
  rsvg-convert -w "$size" -h "$size" assets/pyrus-phone.svg -o "$out/icons/${size}x${size}/pyrus-phone.png"
done

echo "== .deb"
cargo deb --locked
echo "== .rpm"
cargo generate-rpm
ls -1 target/debian/*.deb target/generate-rpm/*.rpm
