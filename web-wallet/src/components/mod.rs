//! Pieces the screens share.

/// The header: the wallet's name, the screens and the language toggle.
pub mod nav;
/// The order as the shop sent it.
pub mod order_summary;
/// "Choose how to pay": one button per account, with reasons.
pub mod payment_sheet;
/// What was paid.
pub mod receipt;
/// Password-only login for an address whose session ended.
pub mod relogin;
/// The receipt of an in-store payment (PROTOCOL section 13): the phone
/// shows it, the POS terminal prints it.
pub mod terminal_receipt;
