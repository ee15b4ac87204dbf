//! The screens, one per route.

/// The connectors and their accounts, "Make default" (B1, B2, B7).
pub mod accounts;
/// "Add account": log in to a server wallet.
pub mod add_account;
/// The user's payments, refunds and transfers (C2).
pub mod history;
/// A start message from arrival to receipt.
pub mod pay;
/// "When a shop asks for payment" (B2 to B4).
pub mod settings;
/// "Pay in store": a terminal's transaction number to receipt (section 13).
pub mod store;
/// "Tickets": the tickets bought at ticket terminals (C9).
pub mod tickets;
