//! The Kessai POS terminal (PROTOCOL section 13): the page a clerk signs
//! in to with a terminal key, keys in a sale, shows the transaction number
//! and QR code, sees the payer synchronize, asks for a PIN and prints the
//! receipt.
//!
//! The pure modules (the reducer in [`state`], the keypad, the catalogue,
//! number grouping, texts, error classification) build and are unit-tested
//! natively. The browser parts (Yew components, HTTP, storage) exist only
//! for `wasm32`.

#![cfg_attr(test, allow(clippy::unwrap_used))]

/// The billing terminal API client.
pub mod api;
/// The articles and the cart.
pub mod catalogue;
/// Server-sent events from fetched bytes.
pub mod events;
/// English and Japanese texts.
pub mod i18n;
/// The amount keypad's arithmetic.
pub mod keypad;
/// How a transaction number is grouped on screen.
pub mod number;
/// What the terminal keeps in localStorage.
pub mod settings;
/// The terminal's state and reducer.
pub mod state;

/// The running app: root component, context, boot.
#[cfg(target_arch = "wasm32")]
pub mod app;
/// Reusable pieces of the screens.
#[cfg(target_arch = "wasm32")]
pub mod components;
/// What every screen shares: the reducer handle, language, dispatcher.
#[cfg(target_arch = "wasm32")]
pub mod context;
/// The screens.
#[cfg(target_arch = "wasm32")]
pub mod pages;
/// sessionStorage (the key) and localStorage (the settings).
#[cfg(target_arch = "wasm32")]
pub mod storage;
/// The event stream that follows an open transaction.
#[cfg(target_arch = "wasm32")]
pub mod updates;

#[cfg(target_arch = "wasm32")]
pub use app::run;
