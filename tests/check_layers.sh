#!/usr/bin/env bash
# Fails when a module reaches where ARCHITECTURE.md says it must not: the layer check
# (tests/integration/layers.rs) reads every `use` whole — groups, nested groups, `super::` —
# and every `crate::` path, keeps outside crates in their places and wants a `//!` doc on
# every file; its own tests break a copy of src/ in each of those ways and expect it to say so.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked --quiet --test integration layers:: -- --test-threads 2
