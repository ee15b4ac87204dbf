//! "Pay with your phone" (PROTOCOL section 13, D10): how the transaction
//! number the server gives is shown. Pure, so that the rules are
//! unit-tested natively; `app` asks for the number and follows the
//! settlement, `view` builds the panel.
//!
//! No QR encoder here: the server draws the code (`/v1/qr.svg`), which
//! keeps the widget's download small.

use kessai_protocol::terminal::NUMBER_DIGITS;

/// Whether the server's number is one to show: exactly
/// [`NUMBER_DIGITS`] ASCII digits (anything else is not shown at all).
pub fn is_number(text: &str) -> bool {
    text.len() == NUMBER_DIGITS && text.bytes().all(|b| b.is_ascii_digit())
}

/// The number as people read it: groups of four, "4821 3907".
pub fn grouped(number: &str) -> String {
    let mut out = String::with_capacity(number.len() + number.len() / 4);
    for (index, digit) in number.chars().enumerate() {
        if index > 0 && index % 4 == 0 {
            out.push(' ');
        }
        out.push(digit);
    }
    out
}

/// The number as a screen reader should say it: digit by digit, not
/// "forty-eight million…" nor "four thousand…".
pub fn spoken(number: &str) -> String {
    let mut out = String::with_capacity(number.len() * 2);
    for digit in number.chars() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push(digit);
    }
    out
}

/// Seconds left before `expires_at` (Unix seconds), never below zero.
pub fn remaining_s(expires_at: i64, now_s: i64) -> i64 {
    expires_at.saturating_sub(now_s).max(0)
}

/// A countdown as `m:ss` ("4:59", "0:07").
pub fn clock(remaining_s: i64) -> String {
    let remaining_s = remaining_s.max(0);
    format!("{}:{:02}", remaining_s / 60, remaining_s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_eight_digits_are_a_number() {
        assert!(is_number("48213907"));
        assert!(is_number("00000000"));
        for text in ["4821390", "482139071", "4821 390", "4821390x", "", "４８２１３９０７"] {
            assert!(!is_number(text), "{text:?}");
        }
    }

    #[test]
    fn the_number_is_grouped_for_eyes_and_spelled_for_ears() {
        assert_eq!(grouped("48213907"), "4821 3907");
        assert_eq!(grouped("123"), "123");
        assert_eq!(spoken("48213907"), "4 8 2 1 3 9 0 7");
        assert_eq!(spoken("48213907").replace(' ', ""), "48213907");
    }

    #[test]
    fn the_countdown_reads_minutes_and_seconds() {
        assert_eq!(clock(300), "5:00");
        assert_eq!(clock(299), "4:59");
        assert_eq!(clock(7), "0:07");
        assert_eq!(clock(-3), "0:00");
        assert_eq!(remaining_s(1_000, 700), 300);
        assert_eq!(remaining_s(1_000, 1_001), 0);
    }
}
