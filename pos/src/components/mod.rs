//! Pieces the screens share.

/// "Cancel" for an open transaction.
pub mod cancel_button;
/// Time left before the number stops working.
pub mod countdown;
/// The app's name, the merchant and terminal, language, settings, sign out.
pub mod header;
/// The amount keypad.
pub mod keypad;
/// An order's lines and total.
pub mod order_lines;
/// The payer's portrait, fetched with the terminal key.
pub mod portrait;
/// The transaction number, large and grouped.
pub mod transaction_number;
