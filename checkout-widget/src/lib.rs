//! The Kessai checkout widget (PROTOCOL sections 5, 6 and 10): the buyer's
//! side of a settlement, in the shop's page.
//!
//! It reads the page's options ([`options`]), shows the order and a card
//! form in a shadow root ([`view`]), sends the second settlement request
//! straight to the settling server ([`api`]), and reports the result to the
//! page (`kessai:result`, callbacks, a POST to `return_url`). The flow is
//! the pure state machine of [`state`]; texts are in [`i18n`] and the card
//! form's rules in [`form`]. Card data lives only in the form's inputs and
//! in the one request body sent to the settling server.
//!
//! Beside the card form it offers the wallets of PROTOCOL section 12: those
//! announced in the page ([`wallet`]) and, with `wallet-url`, the web
//! wallet in a window. A wallet's word that it is done is only a reason to
//! ask the server: the result shown and reported is always the server's.
//!
//! With a settlement the shop created with its order, it also offers "Pay
//! with your phone" (section 13, D10): a transaction number and its QR code
//! for the buyer's wallet ([`phone`]), and the same wait for the server's
//! result as after a wallet.
//!
//! The pure modules build and are unit-tested natively; the browser parts
//! exist only for `wasm32`.

#![cfg_attr(test, allow(clippy::unwrap_used))]

/// The card form's input rules.
pub mod form;
/// English and Japanese texts.
pub mod i18n;
/// The page's options, parsed and checked.
pub mod options;
/// "Pay with your phone": the transaction number as shown.
pub mod phone;
/// The state machine of the checkout.
pub mod state;
/// The wallets announced in the page, and which are shown.
pub mod wallet;
/// The JSON read and written, without serde.
pub mod wire;

/// Calls to the settling server.
#[cfg(target_arch = "wasm32")]
mod api;
/// The running widget: state, effects and events.
#[cfg(target_arch = "wasm32")]
mod app;
/// DOM building in the shadow root.
#[cfg(target_arch = "wasm32")]
mod view;

#[cfg(target_arch = "wasm32")]
pub use app::mount;
