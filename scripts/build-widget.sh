#!/usr/bin/env bash
# Builds the checkout widget for the browser into target/widget/, which the
# next `cargo build -p kessai-server` embeds in the binary (server/build.rs):
#   kessai-checkout.js       the loader shops embed (PROTOCOL section 10)
#   kessai_checkout.js       wasm-bindgen's JS glue
#   kessai_checkout_bg.wasm  the widget, size-optimized with wasm-opt -Oz
# and prints raw, gzip and brotli sizes against the 80 KB (gzip) budget.
#   ./scripts/build-widget.sh [--enforce-budget]
# Over budget it warns; with --enforce-budget it fails (exit 1).
# Installs what is missing (see docs/ARCHITECTURE.md, "Building the browser
# apps"): the wasm32
# target, wasm-bindgen-cli at the Cargo.lock version and npm binaryen,
# the last two into $KESSAI_TOOLS (see setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

OUT="$PWD/target/widget"
BUDGET_GZIP_BYTES=$((80 * 1024))

need_wasm_tools build-widget

cargo build -p kessai-checkout --target wasm32-unknown-unknown --profile wasm-release
rm -rf "$OUT"
mkdir -p "$OUT"
wasm-bindgen --target web --no-typescript --out-dir "$OUT" \
    target/wasm32-unknown-unknown/wasm-release/kessai_checkout.wasm
wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    -o "$OUT/kessai_checkout_bg.wasm" "$OUT/kessai_checkout_bg.wasm"
cp checkout-widget/js/kessai-checkout.js "$OUT/"
# The server embeds $OUT when built (server/build.rs). Cargo watches the
# folder once it exists, but not before (a missing path would rebuild the
# server every time); touching the build script makes the next
# `cargo build -p kessai-server` embed a first build too.
touch server/build.rs

brotli_size() {
    if command -v brotli >/dev/null 2>&1; then
        brotli -c -q 11 "$1" | wc -c
    elif python3 -c 'import brotli' 2>/dev/null; then
        python3 -c 'import brotli, sys; print(len(brotli.compress(open(sys.argv[1], "rb").read(), quality=11)))' "$1"
    else
        echo "-"
    fi
}

total_gzip=0
printf '%-26s %10s %10s %10s\n' file raw gzip-9 brotli-11
for file in kessai_checkout_bg.wasm kessai_checkout.js kessai-checkout.js; do
    raw=$(wc -c <"$OUT/$file")
    gz=$(gzip -9 -c "$OUT/$file" | wc -c)
    total_gzip=$((total_gzip + gz))
    printf '%-26s %10d %10d %10s\n' "$file" "$raw" "$gz" "$(brotli_size "$OUT/$file")"
done
printf '%-26s %10s %10d   (budget %d)\n' total "" "$total_gzip" "$BUDGET_GZIP_BYTES"
if [ "$(brotli_size "$OUT/kessai-checkout.js")" = "-" ]; then
    echo "note: no brotli CLI or python brotli module; brotli sizes skipped" >&2
fi
if [ "$total_gzip" -gt "$BUDGET_GZIP_BYTES" ]; then
    echo "build-widget: WARNING: $total_gzip bytes gzipped is over the budget of $BUDGET_GZIP_BYTES" >&2
    if [ "${1:-}" = "--enforce-budget" ]; then exit 1; fi
fi
