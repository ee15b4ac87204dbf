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
# Installs what is missing into $KESSAI_TOOLS (see setup.sh and
# build-wallet.sh, which installs trunk).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

TOOLS="$KESSAI_TOOLS"
OUT="$PWD/target/pos"
TRUNK_VERSION=0.21.14

need_wasm_tools build-pos
if ! grep -q "^wasm_bindgen = \"$WBG_VERSION\"" pos/Trunk.toml; then
    echo "build-pos: pos/Trunk.toml's wasm_bindgen differs from Cargo.lock's $WBG_VERSION" >&2
    exit 1
fi
if ! "$TOOLS/bin/trunk" --version 2>/dev/null | grep -qx "trunk $TRUNK_VERSION"; then
    echo "build-pos: installing trunk $TRUNK_VERSION into $TOOLS (about 6 minutes)" >&2
    cargo install --locked --quiet --root "$TOOLS" "trunk@$TRUNK_VERSION"
fi

"$TOOLS/bin/trunk" build --config pos/Trunk.toml --dist "$OUT"
# As build-wallet.sh: a first build is embedded by the next server build.
touch server/build.rs

printf '%-24s %10s %10s\n' file raw gzip-9
total_gzip=0
for file in kessai-pos_bg.wasm kessai-pos.js index.html tokens.css terminal-receipt.css style.css; do
    [ -f "$OUT/$file" ] || { echo "build-pos: $file missing from $OUT" >&2; exit 1; }
    raw=$(wc -c <"$OUT/$file")
    gz=$(gzip -9 -c "$OUT/$file" | wc -c)
    total_gzip=$((total_gzip + gz))
    printf '%-24s %10d %10d\n' "$file" "$raw" "$gz"
done
printf '%-24s %10s %10d\n' total "" "$total_gzip"
