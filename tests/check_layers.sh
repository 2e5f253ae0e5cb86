#!/usr/bin/env bash
# Fails when a module reaches where ARCHITECTURE.md says it must not. Comments may name
# anything; code may not.
set -uo pipefail
cd "$(dirname "$0")/../src"
fail=0

hits() { # PATTERN FILES...
  local pattern=$1; shift
  [ "$#" -gt 0 ] || return 0
  grep -nE "$pattern" "$@" /dev/null | grep -vE '^[^:]+:[0-9]+:\s*//' || true
}

# only PATTERN WHY ALLOWED_PATH_REGEX: PATTERN may appear only in files matching the regex.
only() {
  local pattern=$1 why=$2 allowed=$3 found
  mapfile -t files < <(find . -name '*.rs' | grep -vE "^\./($allowed)")
  found=$(hits "$pattern" "${files[@]}")
  if [ -n "$found" ]; then echo "layer violation: $why"; echo "$found"; fail=1; fi
}

# within DIR PATTERN WHY: files under DIR must not match PATTERN.
within() {
  local dir=$1 pattern=$2 why=$3 found
  mapfile -t files < <(find "./$dir" -name '*.rs' 2>/dev/null; [ -f "./$dir.rs" ] && echo "./$dir.rs")
  found=$(hits "$pattern" "${files[@]}")
  if [ -n "$found" ]; then echo "layer violation: $why"; echo "$found"; fail=1; fi
}

only '\b(egui|eframe|egui_file|rfd|winit)::|use (egui|eframe|egui_file|rfd|winit)\b' "egui, eframe, egui_file and rfd only in ui/, app/ and main.rs" 'ui/|app/|main\.rs'
only '\breqwest\b' "reqwest only in pyrus/" 'pyrus/'
only '\bkeyring::' "keyring only in settings/credentials.rs" 'settings/credentials\.rs'
only '\brusqlite\b' "SQLite only in outbox/store/" 'outbox/store/'
only '\baxum\b' "axum only in sandbox/ and sources/" 'sandbox/|sources/'
only '\bunsafe\b|libloading' "unsafe code and dynamic loading only in platform/gl_warmup.rs and platform/console.rs" 'platform/(gl_warmup|console)\.rs'
only 'tokio::spawn|runtime\.spawn|task::spawn' "tasks are spawned only in service/, outbox/, sources/, sandbox/, instance.rs and main.rs" 'service/|outbox/|sources/|sandbox/|instance\.rs|main\.rs'

within domain 'crate::(pyrus|outbox|service|settings|platform|bus|cli|app|ui|sandbox|sources)\b|std::fs|std::net|tokio' "domain depends on nothing and does no I/O"
within sandbox 'crate::(pyrus|outbox|service|settings|platform|bus|cli|app|ui|domain|sources)\b' "the sandbox shares no code with the rest"
within pyrus 'crate::(settings|outbox|service|bus|cli|app|ui|sandbox|platform|sources)\b' "pyrus knows only domain"
within outbox 'crate::(pyrus|service|settings|cli|app|ui|sandbox|platform|bus|sources)\b' "outbox knows only domain"
within sources 'crate::(pyrus|outbox|service|settings|cli|app|ui|sandbox)\b' "sources know only domain"
within ui 'crate::(outbox|pyrus|service|cli|sandbox|platform|sources)\b|crate::settings::credentials|std::fs|std::net|Mutex' "ui is pure: no I/O, no effects, no locks (settings types only)"
within service 'crate::(cli|app|ui|sandbox)\b' "service never reaches up to cli, app, ui or the sandbox"
within instance 'crate::(app|ui)\b|\begui\b|\beframe\b' "the instance builder knows nothing of the window"

for f in $(find . -name '*.rs'); do
  head -n1 "$f" | grep -q '^//!' || { echo "missing //! module doc: $f"; fail=1; }
done
if [ "$fail" = 0 ]; then echo "layers: ok"; fi
exit "$fail"
