//! A payload as a QR code (feature `qr`): the general [`crate::qr`] code,
//! drawn only for payloads the phone would accept.

use super::{parse, FieldError};
pub use crate::qr::{QrModules, QUIET_ZONE, SVG_MODULE_PX};

/// The QR code of `payload` (see [`crate::qr::modules`]), after checking
/// that `payload` is one [`parse`] accepts: a terminal never shows a code the
/// phone would refuse.
pub fn qr_modules(payload: &str) -> Result<QrModules, FieldError> {
    parse(payload)?;
    crate::qr::modules(payload)
}

/// An SVG of `payload`'s QR code (see [`crate::qr::svg`]), checked as
/// [`qr_modules`] does.
pub fn svg(payload: &str) -> Result<String, FieldError> {
    Ok(crate::qr::svg_of(&qr_modules(payload)?))
}
