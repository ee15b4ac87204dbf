//! HTTP integration tests of the settling server: each test starts the real
//! server on a port of its own with a fresh SQLite file, and talks to it over
//! real HTTP (zero2prod style: one test binary, `helpers::spawn_app`).
//! Capability ids (A1..A14) are listed in `docs/ARCHITECTURE.md`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Error shape and validation of bad requests; nothing is written (PROTOCOL 2, 3).
mod bad_input;
/// Collation: mismatches and the digest-only form (A4, A13).
mod collation;
/// Cooling-off periods: funds held, then captured or released (C7).
mod cooling_off;
/// CORS on the payer endpoints: only the merchant's registered origins.
mod cors;
/// Declined payments: no money moves.
mod declines;
/// Devices: vending machines, gates, tickets and age restrictions (PROTOCOL 13, C5, C6, C8, C9).
mod devices;
/// The OpenAPI document and the health check.
mod docs;
/// The happy path: first request, card confirm, result token, ledger (A1, A3 to A6).
mod flow;
/// Card testing and password guessing: one decline code, locks, 429s (issue 7).
mod guessing;
/// `spawn_app`, `TestApp` and request builders.
mod helpers;
/// Idempotency keys and order id uniqueness.
mod idempotency;
/// Accounts held at the settling server: JWS authenticators and passwords (A10 to A12).
mod payer_auth;
/// Payer-first ordering (PROTOCOL 5): holds, collation on the shop's request, expiry.
mod payer_first;
/// Polling and long-polling for results (A8).
mod polling;
/// Cancellation and refunds (A14).
mod refunds;
/// Secrets never stored in clear nor logged.
mod secrets;
/// The demo shop as a merchant backend.
mod shop;
/// Slow and numerous clients: header and body timeouts, connection and long-poll caps (issue 7).
mod slow_clients;
/// In-store payment by transaction number: terminals, phones, numbers (PROTOCOL 13, D1 to D11).
mod terminals;
/// HTTPS and mutual TLS: client certificates on merchant and peer paths, merchants bound to one (issue 7, A9).
mod tls;
/// The server wallet API: sessions, brand info, start messages, payments, history (PROTOCOL 12).
mod wallet;
/// Results pushed to the shop with signed webhooks (A7).
mod webhooks;
/// The checkout widget's files: embedded in the binary, or from `--widget-dir` (PROTOCOL 10).
mod widget;
