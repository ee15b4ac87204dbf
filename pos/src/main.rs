//! The POS terminal's entry point in the browser (Trunk builds this binary).

#[cfg(target_arch = "wasm32")]
fn main() {
    kessai_pos::run();
}

/// Natively there is nothing to run; the pure modules are tested with
/// `cargo test -p kessai-pos`.
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("The Kessai POS terminal runs in a browser: build it with ./scripts/build-pos.sh");
}
