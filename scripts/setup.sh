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
