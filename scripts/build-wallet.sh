#!/usr/bin/env bash
# Builds the web wallet (PROTOCOL section 12) for the browser with Trunk
# into target/wallet/, which the next `cargo build -p kessai-server` embeds
# in the binary (server/build.rs) and `kessai serve` serves at /wallet/:
#   index.html, style.css            the page (Trunk's inline boot script)
#   kessai-wallet.js                 wasm-bindgen's JS glue
#   kessai-wallet_bg.wasm            the wallet, size-optimized (wasm-opt -Oz)
# and prints raw and gzip -9 sizes.
#   ./scripts/build-wallet.sh
# Installs what is missing into $KESSAI_TOOLS (see setup.sh): the wasm32
# target, wasm-bindgen-cli at the Cargo.lock version, npm binaryen and
# trunk 0.21.14 (0.22 needs a newer rustc). Trunk.toml keeps it offline.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

build_trunk_app build-wallet Trunk.toml "$PWD/target/wallet" \
    kessai-wallet_bg.wasm kessai-wallet.js index.html tokens.css terminal-receipt.css style.css
