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

TOOLS="$KESSAI_TOOLS"
OUT="$PWD/target/wallet"
TRUNK_VERSION=0.21.14

need_wasm_tools build-wallet
# Trunk checks that Trunk.toml's `wasm_bindgen` equals the CLI it finds.
if ! grep -q "^wasm_bindgen = \"$WBG_VERSION\"" Trunk.toml; then
    echo "build-wallet: Trunk.toml's wasm_bindgen differs from Cargo.lock's $WBG_VERSION" >&2
    exit 1
fi
if ! "$TOOLS/bin/trunk" --version 2>/dev/null | grep -qx "trunk $TRUNK_VERSION"; then
    echo "build-wallet: installing trunk $TRUNK_VERSION into $TOOLS (about 6 minutes)" >&2
    cargo install --locked --quiet --root "$TOOLS" "trunk@$TRUNK_VERSION"
fi

"$TOOLS/bin/trunk" build --config Trunk.toml --dist "$OUT"
# The server embeds $OUT when built (server/build.rs). Cargo watches the
# folder once it exists, but not before; touching the build script makes
# the next `cargo build -p kessai-server` embed a first build too.
touch server/build.rs

printf '%-24s %10s %10s\n' file raw gzip-9
total_gzip=0
for file in kessai-wallet_bg.wasm kessai-wallet.js index.html tokens.css terminal-receipt.css style.css; do
    [ -f "$OUT/$file" ] || { echo "build-wallet: $file missing from $OUT" >&2; exit 1; }
    raw=$(wc -c <"$OUT/$file")
    gz=$(gzip -9 -c "$OUT/$file" | wc -c)
    total_gzip=$((total_gzip + gz))
    printf '%-24s %10d %10d\n' "$file" "$raw" "$gz"
done
printf '%-24s %10s %10d\n' total "" "$total_gzip"
