# A private X server for the scripts that show a window; sourced, not run:
#   source tests/xvfb.sh; start_xvfb FIRST WIDTHxHEIGHT
# starts Xvfb (24-bit, no TCP) on a display between :FIRST and :FIRST+99 and waits until it
# answers, for 10 s at most. Sets `display` and `xvfb` (its process id); the caller stops it
# and decides whether DISPLAY is exported.
start_xvfb() {
  display=":$(($1 + RANDOM % 100))"
  Xvfb "$display" -screen 0 "${2}x24" -nolisten tcp >/dev/null 2>&1 &
  xvfb=$!
  for _ in $(seq 200); do
    DISPLAY=$display xdotool getmouselocation >/dev/null 2>&1 && break
    sleep 0.05
  done
}
