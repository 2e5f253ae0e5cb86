#!/usr/bin/env bash
# Fails when a module reaches where ARCHITECTURE.md says it must not.
set -uo pipefail
cd "$(dirname "$0")/../src"
fail=0
# deny PATTERN WHY ALLOWED_PATH...
deny() {
  local pattern=$1 why=$2; shift 2
  local hits
  # Comments may name anything; code may not.
  hits=$(grep -rnE --include='*.rs' "$pattern" . | grep -vE '^[^:]+:[0-9]+:\s*//' \
         | grep -vE "^\./($(IFS='|'; echo "$*"))" || true)
  if [ -n "$hits" ]; then
    echo "layer violation: $why"; echo "$hits"; fail=1
  fi
}
deny '\b(egui|eframe|rfd|winit)::|use (egui|eframe|rfd|winit)\b' "egui/eframe/rfd only in ui/, app.rs and main.rs" 'ui/' 'app\.rs' 'main\.rs'
deny '\breqwest\b' "reqwest only in pyrus/" 'pyrus/'
deny '\bkeyring::' "keyring only in settings/credentials.rs" 'settings/credentials\.rs'
deny '\banyhow\b' "anyhow only in main.rs" 'main\.rs'
deny '\brusqlite\b' "SQLite only in outbox/store.rs" 'outbox/store\.rs'
deny '\baxum\b' "axum only in sandbox/" 'sandbox/'
deny 'tokio::spawn|runtime\.spawn|\.spawn\(' "spawning tasks only in service/, outbox/ and sandbox/" 'service/' 'outbox/' 'sandbox/' 'main\.rs'
deny 'crate::(pyrus|outbox|service|settings|platform|bus|cli|app|ui)\b' "domain depends on nothing" 'pyrus/' 'outbox/' 'service/' 'settings/' 'platform/' 'bus\.rs' 'cli/' 'app\.rs' 'ui/' 'sandbox/' 'lib\.rs' 'logging\.rs' 'runtime\.rs' 'main\.rs'
deny 'crate::(pyrus|outbox|service|settings|platform|bus|cli|app|ui|domain)\b' "sandbox shares no code with the rest" 'pyrus/' 'outbox/' 'service/' 'settings/' 'platform/' 'bus\.rs' 'cli/' 'app\.rs' 'ui/' 'domain/' 'lib\.rs' 'logging\.rs' 'runtime\.rs' 'main\.rs'
deny 'crate::(settings|outbox|service|bus|cli|app|ui|sandbox|platform)\b' "pyrus knows only domain" 'settings/' 'outbox/' 'service/' 'bus\.rs' 'cli/' 'app\.rs' 'ui/' 'sandbox/' 'platform/' 'domain/' 'lib\.rs' 'logging\.rs' 'runtime\.rs' 'main\.rs'
deny 'crate::(service|settings|cli|app|ui|sandbox|platform|bus)\b' "outbox knows only domain and pyrus" 'service/' 'settings/' 'cli/' 'app\.rs' 'ui/' 'sandbox/' 'platform/' 'bus\.rs' 'domain/' 'pyrus/' 'lib\.rs' 'logging\.rs' 'runtime\.rs' 'main\.rs'
deny 'crate::(outbox|pyrus|service|cli|sandbox|platform)\b|crate::settings::credentials|std::fs|std::net|Mutex' "ui is pure: no I/O, no effects, no locks (settings types only)" 'domain/' 'pyrus/' 'outbox/' 'service/' 'settings/' 'platform/' 'bus\.rs' 'cli/' 'app\.rs' 'sandbox/' 'lib\.rs' 'logging\.rs' 'runtime\.rs' 'main\.rs'
deny 'crate::(cli|app|ui|sandbox)\b' "service never reaches up to cli, app, ui or sandbox" 'cli/' 'app\.rs' 'ui/' 'sandbox/' 'domain/' 'pyrus/' 'outbox/' 'settings/' 'platform/' 'bus\.rs' 'lib\.rs' 'logging\.rs' 'runtime\.rs' 'main\.rs'
for f in $(find . -name '*.rs'); do
  head -n1 "$f" | grep -q '^//!' || { echo "missing //! module doc: $f"; fail=1; }
done
if [ "$fail" = 0 ]; then echo "layers: ok"; fi
exit "$fail"
