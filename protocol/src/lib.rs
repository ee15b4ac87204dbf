//! The Kessai wire protocol: everything the settling server, shop servers,
//! the checkout widget and the web wallet must agree on, byte for byte.
//!
//! The contract is `docs/PROTOCOL.md`; this crate is its executable form and
//! is checked against the shared test vectors. It has no I/O, no clock and
//! no randomness (callers pass times and random bytes in), so it builds for
//! `wasm32-unknown-unknown` and runs in the browser apps as well as the
//! server.
//!
//! The main types:
//!
//! - [`Order`] and [`Item`] ([`order`]): the order both requests carry.
//!   [`Order::validate`] applies every rule of section 3 and
//!   [`Order::digest`] computes `order_digest` over its RFC 8785 canonical
//!   JSON ([`jcs`]).
//! - [`FieldError`] ([`error`]): the one failure of every request check, with
//!   the protocol's `code` and `param`; [`api::ErrorBody`] is its wire form.
//! - [`jws`]: HS256 compact JWS ([`jws::sign`], [`jws::verify`]) and the
//!   claims of result tokens ([`jws::ResultClaims`]) and payer
//!   authenticators ([`jws::PayerClaims`]).
//! - [`webhooks`]: Standard Webhooks signatures.
//! - [`emv`]: the EMVCo merchant-presented QR payload of a terminal
//!   transaction (section 13), written and read back CRC first; with the
//!   `qr` feature, its QR code as SVG.
//! - `peer` (feature `peer`, server only): institution keys (Ed25519) and
//!   the EdDSA compact JWS institutions sign their messages with, the
//!   institution document and payment authorization claims (section 11).
//! - [`keys`] and [`ids`]: how keys and identifiers are written.
//! - [`money`] and [`card`]: amounts in minor units with ISO 4217 currencies,
//!   and card number, expiry and CVC checks.
//! - [`Secret`] ([`secret`]): sensitive text whose `Debug` and `Display` print
//!   `[redacted]`.
//! - [`api`]: request and response bodies of the HTTP API. With the
//!   `openapi` feature they derive `utoipa::ToSchema`.

#![cfg_attr(test, allow(clippy::unwrap_used))]

/// Defines a wire enum whose values are snake_case strings, with the string
/// of each value, parsing, and serde in both directions.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[serde(rename = $text)]
                // utoipa's derive does not read a serde rename whose text
                // comes from a macro argument; its own rename it does.
                #[cfg_attr(feature = "openapi", schema(rename = $text))]
                $variant,
            )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as it appears on the wire and in the database.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value of a wire or database string; None if unknown.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

// Request and response bodies of the HTTP API.
pub mod api;
// Card number, network, expiry and CVC checks.
pub mod card;
// EMVCo merchant-presented QR payload (section 13) and, with `qr`, its image.
pub mod emv;
// The one validation error type.
pub mod error;
// Prefixed random identifiers.
pub mod ids;
// RFC 8785 JSON canonicalization.
pub mod jcs;
// HS256 compact JWS authenticators.
pub mod jws;
// Prefixed key encodings.
pub mod keys;
// Amounts in minor units and ISO 4217 currencies.
pub mod money;
// The order, its rules and its digest.
pub mod order;
// Institution keys and EdDSA peer messages (PROTOCOL section 11). Behind the
// `peer` feature: only the server talks to other institutions, and the
// browser builds need not carry Ed25519. (A `///` comment here would merge
// with the module's own `//!` docs and break their links.)
#[cfg(feature = "peer")]
pub mod peer;
// Any text as a QR code (module matrix, SVG); behind the `qr` feature.
#[cfg(feature = "qr")]
pub mod qr;
// Redacting wrapper for sensitive values.
pub mod secret;
// Standard Webhooks signatures.
pub mod webhooks;
// Terminals, transaction numbers and in-store payment (section 13).
pub mod terminal;
// The server wallet API, the start message and the page ↔ wallet events.
pub mod wallet;

pub use error::FieldError;
pub use order::{Item, Order};
pub use secret::Secret;
