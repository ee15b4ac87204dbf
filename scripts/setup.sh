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
