//! The screens, one per [`crate::state::Screen`].

/// New sale: an amount, picked items, or a menu for the customer.
pub mod new_sale;
/// Paid (with the receipt), declined, expired or canceled.
pub mod outcome;
/// Currency and articles.
pub mod settings;
/// The terminal key.
pub mod sign_in;
/// A payer sent the number: who, the PIN, their order.
pub mod synchronized;
/// The number and QR code, waiting for a payer.
pub mod waiting;
