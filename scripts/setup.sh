# Sourced by the other scripts: installs what a fresh machine with only the
# Rust toolchain (rustup) lacks, and nothing that is already there.
set -euo pipefail

# Tools built for the browser apps (wasm-bindgen-cli, trunk, npm binaryen)
# live outside the checkout, so that a fresh clone on the same machine does
# not spend minutes compiling them again. Override with KESSAI_TOOLS_DIR.
KESSAI_TOOLS="${KESSAI_TOOLS_DIR:-$HOME/.cache/kessai/tools}"

need_component() {
    if ! rustup component list --installed 2>/dev/null | grep -q "^$1"; then
        echo "setup: installing rustup component $1" >&2
        rustup component add "$1"
    fi
}

need_target() {
    if ! rustup target list --installed 2>/dev/null | grep -qx "$1"; then
        echo "setup: installing rust target $1" >&2
        rustup target add "$1"
    fi
}

need_command() {
    # need_command CMD DEBIAN_PACKAGE
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "setup: installing $2 (for $1)" >&2
        if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "$2" >/dev/null
        else sudo apt-get update -qq && sudo apt-get install -y -qq "$2" >/dev/null; fi
    fi
}

need_wasm_tools() {
    # need_wasm_tools SCRIPT_NAME: the wasm32 target, wasm-bindgen-cli at the
    # Cargo.lock version and npm's binaryen in $KESSAI_TOOLS, first in PATH.
    # Sets WBG_VERSION.
    need_target wasm32-unknown-unknown
    # wasm-bindgen's CLI must equal the library version in Cargo.lock.
    WBG_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
    if [ -z "$WBG_VERSION" ]; then
        echo "$1: no wasm-bindgen in Cargo.lock" >&2
        exit 1
    fi
    if ! "$KESSAI_TOOLS/bin/wasm-bindgen" --version 2>/dev/null | grep -qx "wasm-bindgen $WBG_VERSION"; then
        echo "$1: installing wasm-bindgen-cli $WBG_VERSION into $KESSAI_TOOLS (about 2 minutes)" >&2
        # Without --locked: the CLI's own lock pins a webpki-roots the registry lacks.
        cargo install --quiet --root "$KESSAI_TOOLS" "wasm-bindgen-cli@$WBG_VERSION"
    fi
    # Debian's and cargo's wasm-opt cannot read current wasm-bindgen output; npm's can.
    if [ ! -x "$KESSAI_TOOLS/node_modules/.bin/wasm-opt" ]; then
        command -v npm >/dev/null 2>&1 || need_command npm npm
        echo "$1: installing binaryen (npm) into $KESSAI_TOOLS" >&2
        npm install --silent --no-audit --no-fund --prefix "$KESSAI_TOOLS" binaryen
    fi
    # npm's binaryen first: trunk takes the wasm-opt it finds in PATH.
    export PATH="$KESSAI_TOOLS/node_modules/.bin:$KESSAI_TOOLS/bin:$PATH"
}

build_trunk_app() {
    # build_trunk_app NAME CONFIG OUT FILE...: builds a Yew app with Trunk
    # (installing trunk 0.21.14 if missing: 0.22 needs a newer rustc) from
    # CONFIG into OUT, checks that FILE... are there, and prints raw and
    # gzip -9 sizes. The web wallet and the POS are built this way.
    local name="$1" config="$2" out="$3"
    shift 3
    local trunk_version=0.21.14
    need_wasm_tools "$name"
    # Trunk checks that its config's `wasm_bindgen` equals the CLI it finds.
    if ! grep -q "^wasm_bindgen = \"$WBG_VERSION\"" "$config"; then
        echo "$name: $config's wasm_bindgen differs from Cargo.lock's $WBG_VERSION" >&2
        return 1
    fi
    if ! "$KESSAI_TOOLS/bin/trunk" --version 2>/dev/null | grep -qx "trunk $trunk_version"; then
        echo "$name: installing trunk $trunk_version into $KESSAI_TOOLS (about 6 minutes)" >&2
        cargo install --locked --quiet --root "$KESSAI_TOOLS" "trunk@$trunk_version"
    fi
    "$KESSAI_TOOLS/bin/trunk" build --config "$config" --dist "$out"
    # The server embeds $out when built (server/build.rs). Cargo watches the
    # folder once it exists, but not before; touching the build script makes
    # the next `cargo build -p kessai-server` embed a first build too.
    touch server/build.rs
    printf '%-24s %10s %10s\n' file raw gzip-9
    local total_gzip=0 file raw gz
    for file in "$@"; do
        [ -f "$out/$file" ] || { echo "$name: $file missing from $out" >&2; return 1; }
        raw=$(wc -c <"$out/$file")
        gz=$(gzip -9 -c "$out/$file" | wc -c)
        total_gzip=$((total_gzip + gz))
        printf '%-24s %10d %10d\n' "$file" "$raw" "$gz"
    done
    printf '%-24s %10s %10d\n' total "" "$total_gzip"
}
