#!/usr/bin/env bash
# The Linux packages, built and installed as an administrator would:
#   bash tests/package.sh
# Builds the .deb and the RPM (packaging/linux/build.sh), checks what they carry (the desktop
# entry, the AppStream metainfo, the man page rendered by man, icons, completions), then
# installs the .deb into a clean Debian root made by mmdebstrap, letting apt resolve its
# Depends, and there runs `pyrus-phone --version`, asks xdg-mime for the tel: handler, and
# opens the window on this machine's Xvfb: the Depends are enough for the window to draw.
# Needs root (chroot), network access to the Debian mirror, and Xvfb/xdotool on the host.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
passed=0
fail() { echo "package test: $passed passed, 1 failed ($1)" >&2; exit 1; }
ok() { passed=$((passed + 1)); echo "package test: ok: $1"; }

bash packaging/linux/build.sh
deb=$(ls -1 target/debian/pyrus-phone_*.deb | tail -n1)
rpm=$(ls -1 target/generate-rpm/pyrus-phone-*.rpm | tail -n1)

work=$(mktemp -d /tmp/pyrus-phone-package.XXXXXX)
root=$work/root
display=":$((200 + RANDOM % 100))"
xvfb=""
app=""
cleanup() {
  [ -n "$app" ] && kill "$app" 2>/dev/null
  [ -n "$xvfb" ] && kill "$xvfb" 2>/dev/null
  for m in tmp/.X11-unix dev/pts dev proc; do
    mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"
  done
  rm -rf "$work"
}
trap cleanup EXIT

# What the .deb carries.
dpkg-deb -x "$deb" "$work/files"
f=$work/files
for path in usr/bin/pyrus-phone usr/share/applications/pyrus-phone.desktop \
            usr/share/metainfo/com.pyrus.pyrus-phone.metainfo.xml \
            usr/share/icons/hicolor/scalable/apps/pyrus-phone.svg \
            usr/share/icons/hicolor/48x48/apps/pyrus-phone.png \
            usr/share/icons/hicolor/256x256/apps/pyrus-phone.png \
            usr/share/man/man1/pyrus-phone.1.gz \
            usr/share/bash-completion/completions/pyrus-phone \
            usr/share/zsh/vendor-completions/_pyrus-phone \
            usr/share/fish/vendor_completions.d/pyrus-phone.fish \
            usr/share/doc/pyrus-phone/copyright; do
  [ -s "$f/$path" ] || fail "the .deb has no $path"
done
ok "the .deb carries the binary, desktop entry, metainfo, icons, man page and completions"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libgl1 libegl1 libx11-6 libxkbcommon0 libwayland-client0 libdbus-1-3 libc6; do
  grep -qw "$lib" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
ok "Depends: $depends"

desktop-file-validate "$f/usr/share/applications/pyrus-phone.desktop" || fail "desktop-file-validate"
appstreamcli validate --no-net "$f/usr/share/metainfo/com.pyrus.pyrus-phone.metainfo.xml" || fail "appstreamcli validate"
ok "desktop-file-validate and appstreamcli validate pass"

man_err=$work/man.err
MANWIDTH=80 man -l "$f/usr/share/man/man1/pyrus-phone.1.gz" >"$work/man.txt" 2>"$man_err" || fail "man -l: $(cat "$man_err")"
[ ! -s "$man_err" ] || fail "man -l warns: $(cat "$man_err")"
for text in 'pyrus-phone' 'SYNOPSIS' '--headless' 'event' 'attach'; do
  grep -q -- "$text" "$work/man.txt" || fail "the rendered man page lacks '$text'"
done
ok "the packaged man page renders with man -l ($(wc -l <"$work/man.txt") lines)"

rpm -qpl "$rpm" >"$work/rpm.files" 2>/dev/null || fail "rpm cannot read $rpm"
for path in /usr/bin/pyrus-phone /usr/share/applications/pyrus-phone.desktop /usr/share/man/man1/pyrus-phone.1.gz; do
  grep -qx "$path" "$work/rpm.files" || fail "the RPM has no $path"
done
rpm -qp --requires "$rpm" 2>/dev/null | grep -q 'libGL.so.1()(64bit)' || fail "the RPM does not require libGL.so.1"
ok "the RPM carries the same files and requires the libraries by soname"

# A clean Debian root with the package installed by apt, which resolves the Depends.
echo "== a clean Debian root (mmdebstrap), the .deb installed by apt"
# (The .deb goes in by a hook: a file path in --include is not seen from the chroot.)
mmdebstrap --variant=apt --include="xdg-utils,desktop-file-utils" \
  --customize-hook="copy-in $deb /tmp" \
  --customize-hook='chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/'"$(basename "$deb")" \
  bookworm "$root" http://deb.debian.org/debian >"$work/mmdebstrap.log" 2>&1 \
  || { tail -30 "$work/mmdebstrap.log" >&2; fail "mmdebstrap could not make the root or install the .deb"; }
version=$(chroot "$root" pyrus-phone --version) || fail "pyrus-phone --version in the root failed"
[ "$version" = "pyrus-phone $(dpkg-deb -f "$deb" Version | sed 's/-[0-9]*$//')" ] || fail "--version said '$version'"
ok "installed in a clean Debian root: $version"
handler=$(chroot "$root" env HOME=/root XDG_DATA_DIRS=/usr/local/share:/usr/share xdg-mime query default x-scheme-handler/tel)
[ "$handler" = "pyrus-phone.desktop" ] || fail "the tel: handler in the root is '$handler'"
ok "xdg-mime names pyrus-phone.desktop as the tel: handler there"

# The window, from the root, on this machine's X server: nothing the binary loads is missing.
Xvfb "$display" -screen 0 1024x768x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
for _ in $(seq 100); do DISPLAY=$display xdotool getmouselocation >/dev/null 2>&1 && break; sleep 0.05; done
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mkdir -p "$root/tmp/.X11-unix"
mount --bind /tmp/.X11-unix "$root/tmp/.X11-unix"
chroot "$root" env -i HOME=/tmp/agent PYRUS_PHONE_HOME=/tmp/agent DISPLAY="$display" \
  LIBGL_ALWAYS_SOFTWARE=1 pyrus-phone --demo >"$work/window.log" 2>&1 &
app=$!
if ! wid=$(DISPLAY=$display timeout 60 xdotool search --sync --onlyvisible --name '^pyrus-phone$' | head -n1); then
  cat "$work/window.log" >&2
  fail "the packaged binary opened no window in the root"
fi
ok "the packaged binary opens its window from the root (window $wid)"

echo "package test: $passed passed, 0 failed in $(( $(date +%s) - started )) s"
