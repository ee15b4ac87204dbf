//! The Kessai web wallet (PROTOCOL section 12): one connector per server
//! wallet the user logs in to, a selector that picks an account for each
//! shop's start message, and the payment sheet.
//!
//! The pure modules (the reducer in [`state`], the selector's rules in
//! [`selector`], the connectors in [`connectors`], the start message's
//! checks in [`start`], the texts in [`i18n`]) build and are unit-tested
//! natively. The browser parts (Yew components, HTTP, storage, the popup
//! handshake) exist only for `wasm32`.

#![cfg_attr(test, allow(clippy::unwrap_used))]

/// The server wallet API client.
pub mod api;
/// Connectors and their server wallet links.
pub mod connectors;
/// English and Japanese texts.
pub mod i18n;
/// Paying in store: connectors to ask, menu totals, PINs, problems.
pub mod in_store;
/// Gate admissions and tickets the phone keeps (devices).
pub mod passes;
/// Which accounts can pay, and whether to ask.
pub mod selector;
/// How a start message arrives, and its checks.
pub mod start;
/// The wallet's state and reducer.
pub mod state;
/// The terminal's transaction number, typed or scanned.
pub mod transaction_number;

/// The running app: root component, routes, context.
#[cfg(target_arch = "wasm32")]
pub mod app;
/// Reusable pieces of the screens.
#[cfg(target_arch = "wasm32")]
pub mod components;
/// What every screen shares: the wallet context, routes, language.
#[cfg(target_arch = "wasm32")]
pub mod context;
/// The extension's host bridge (`window.kessaiWalletHost`).
#[cfg(target_arch = "wasm32")]
pub mod host;
/// The screens.
#[cfg(target_arch = "wasm32")]
pub mod pages;
/// Where the saved state lives: the host's storage or localStorage.
#[cfg(target_arch = "wasm32")]
pub mod storage;
/// Paying in store in the browser: syncing by number, following the transaction.
#[cfg(target_arch = "wasm32")]
pub mod store_flow;
/// Brand information refreshes (B5, B6) and logins shared by the screens.
#[cfg(target_arch = "wasm32")]
pub mod sync;

#[cfg(target_arch = "wasm32")]
pub use app::run;
