# What the benchmarks share; sourced by them, after `cd` to the checkout's root.
#   bench_start BINARY NAME: the binary (built when missing), curl checked, a work folder
#     `$work` removed at exit with every process in `pids` (kept with KEEP=1), no display.
#   bench_sandbox [ARGS…]: the built-in sandbox on a free port (ARGS: `--customers N`…);
#     sets `auth` and `base`.

bench_start() {
  bin=$(realpath "$1")
  [ -x "$bin" ] || cargo build --release --locked
  command -v curl >/dev/null || { echo "$2 needs curl: apt-get install curl" >&2; exit 1; }
  work=$(mktemp -d)
  pids=()
  trap bench_cleanup EXIT
  unset DISPLAY WAYLAND_DISPLAY
}

bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "${KEEP:-}" ]; then echo "kept: $work"; else rm -rf "$work"; fi
}

bench_sandbox() {
  PYRUS_PHONE_HOME="$work/sandbox-home" "$bin" sandbox --port 0 "$@" >"$work/sandbox.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 600); do grep -q "auth URL" "$work/sandbox.out" 2>/dev/null && break; sleep 0.05; done
  auth=$(awk '/auth URL:/ {print $3}' "$work/sandbox.out")
  base=$(awk '/sandbox running at/ {print $NF}' "$work/sandbox.out")
}
