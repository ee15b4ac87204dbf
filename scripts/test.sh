#!/usr/bin/env bash
# Runs every test of Kessai. Installs what is missing first.
#   ./scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

need_component rustfmt
need_component clippy
need_target wasm32-unknown-unknown
need_command chromium chromium
need_command chromedriver chromium-driver

step() { printf '\n==> %s\n' "$*" >&2; }

step "format"
cargo fmt --all --check

step "lint"
cargo clippy --workspace --all-targets --all-features -- -D warnings

step "browser crates build for wasm32 (protocol, checkout widget)"
cargo build -p kessai-protocol -p kessai-checkout --target wasm32-unknown-unknown

step "checkout widget: build for the browser, within its size budget"
./scripts/build-widget.sh --enforce-budget

step "checkout widget: component tests in headless Chromium"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="$KESSAI_TOOLS/bin/wasm-bindgen-test-runner" \
    CHROMEDRIVER=$(command -v chromedriver) \
    cargo test -p kessai-checkout --target wasm32-unknown-unknown

step "web wallet: lint for wasm32, then build for the browser with Trunk"
cargo clippy -p kessai-wallet --target wasm32-unknown-unknown -- -D warnings
./scripts/build-wallet.sh

step "web wallet extension: package target/wallet-extension from the wallet just built"
./scripts/build-extension.sh

step "web wallet: component tests in headless Chromium"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="$KESSAI_TOOLS/bin/wasm-bindgen-test-runner" \
    CHROMEDRIVER=$(command -v chromedriver) \
    cargo test -p kessai-wallet --target wasm32-unknown-unknown

step "POS terminal: lint for wasm32, then build for the browser with Trunk"
cargo clippy -p kessai-pos --target wasm32-unknown-unknown -- -D warnings
./scripts/build-pos.sh

step "POS terminal: component tests in headless Chromium"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="$KESSAI_TOOLS/bin/wasm-bindgen-test-runner" \
    CHROMEDRIVER=$(command -v chromedriver) \
    cargo test -p kessai-pos --target wasm32-unknown-unknown

step "tests (unit, integration over HTTP, the real binary, end to end in Chromium)"
# After build-widget.sh, build-wallet.sh and build-pos.sh: this build embeds all three.
cargo build -p kessai-server
KESSAI_E2E=1 cargo test --workspace --all-features
