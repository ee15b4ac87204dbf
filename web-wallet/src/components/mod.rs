//! Pieces the screens share.

/// A menu to order from, with quantity steppers (D9).
pub mod menu_order;
/// The header: the wallet's name, the screens and the language toggle.
pub mod nav;
/// "Transaction number" and "Scan QR code".
pub mod number_entry;
/// The order as the shop sent it.
pub mod order_summary;
/// "Choose how to pay": one button per account, with reasons.
pub mod payment_sheet;
/// The PIN a terminal asks for (D8, D11).
pub mod pin_prompt;
/// The camera's QR reader, where the browser has one.
pub mod qr_scanner;
/// What was paid.
pub mod receipt;
/// Password-only login for an address whose session ended.
pub mod relogin;
/// An in-store result: the receipt, or why not.
pub mod store_receipt;
/// Who bills and what, before paying in store.
pub mod terminal_bill;
/// The receipt of an in-store payment (PROTOCOL section 13): the phone
/// shows it, the POS terminal prints it.
pub mod terminal_receipt;
/// A ticket (C9): event, validity, QR code and the text to copy.
pub mod ticket_view;
