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

/// Connectors and their server wallet links.
pub mod connectors;
/// English and Japanese texts.
pub mod i18n;
/// Which accounts can pay, and whether to ask.
pub mod selector;
/// How a start message arrives, and its checks.
pub mod start;
/// The wallet's state and reducer.
pub mod state;
