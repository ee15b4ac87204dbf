#!/usr/bin/env bash
# Runs the Kessai demo: the settling server and the demo shop (on its own
# origin), with a demo merchant, a funded test card and the checkout widget,
# on embedded SQLite, the web wallet at /wallet/ (its extension is
# packaged in target/wallet-extension) and the POS terminal at /pos/. Open the shop URL it prints and buy
# something.
#   ./scripts/demo.sh            (Ctrl-C stops it; data stays in ./demo-data)
# Installs what is missing (the wasm32 target, wasm-bindgen-cli, binaryen, trunk).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

LISTEN=${KESSAI_LISTEN:-127.0.0.1:8080}
SHOP_LISTEN=${KESSAI_SHOP_LISTEN:-127.0.0.1:3000}
DATA=${KESSAI_DEMO_DIR:-$PWD/demo-data}
mkdir -p "$DATA"

# The browser apps first: the server build embeds target/widget,
# target/wallet and target/pos in the binary; the extension is packaged
# from the wallet.
./scripts/build-widget.sh >&2
./scripts/build-wallet.sh >&2
./scripts/build-extension.sh >&2
./scripts/build-pos.sh >&2
cargo build --release -q -p kessai-server

# Prints one JSON line (server_url, shop_url, wallet_url, pos, devices,
# card, institutions) on stdout and
# the same for people on stderr, once both are ready.
exec ./target/release/kessai demo --listen "$LISTEN" --shop-listen "$SHOP_LISTEN" \
    --database "sqlite://$DATA/kessai.db"
