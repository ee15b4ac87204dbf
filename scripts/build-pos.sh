#!/usr/bin/env bash
# Builds the POS terminal (PROTOCOL section 13) for the browser with Trunk
# into target/pos/, which the next `cargo build -p kessai-server` embeds in
# the binary (server/build.rs) and `kessai serve` serves at /pos/:
#   index.html, tokens.css, style.css   the page (Trunk's inline boot script)
#   kessai-pos.js                       wasm-bindgen's JS glue
#   kessai-pos_bg.wasm                  the terminal, size-optimized
# and prints raw and gzip -9 sizes. The second Trunk target of the
# workspace: its config is pos/Trunk.toml (the root Trunk.toml is the
# wallet's).
#   ./scripts/build-pos.sh
# Installs what is missing into $KESSAI_TOOLS (see build_trunk_app in
# setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

build_trunk_app build-pos pos/Trunk.toml "$PWD/target/pos" \
    kessai-pos_bg.wasm kessai-pos.js index.html tokens.css terminal-receipt.css style.css
