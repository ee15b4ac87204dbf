//! The web wallet's entry point in the browser (Trunk builds this binary).

#[cfg(target_arch = "wasm32")]
fn main() {
    kessai_wallet::run();
}

/// Natively there is nothing to run; the pure modules are tested with
/// `cargo test -p kessai-wallet`.
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("The Kessai web wallet runs in a browser: build it with ./scripts/build-wallet.sh");
}
