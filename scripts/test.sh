#!/usr/bin/env bash
# Runs every test of Kessai. Installs what is missing first.
#   ./scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

need_component rustfmt
need_component clippy
need_target wasm32-unknown-unknown

step() { printf '\n==> %s\n' "$*" >&2; }

step "format"
cargo fmt --all --check

step "lint"
cargo clippy --workspace --all-targets --all-features -- -D warnings

step "browser crates build for wasm32 (protocol, checkout widget)"
cargo build -p kessai-protocol -p kessai-checkout --target wasm32-unknown-unknown

step "tests"
cargo test --workspace --all-features
