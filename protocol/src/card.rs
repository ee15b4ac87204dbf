//! Payment cards: number checks, networks, masking and expiry.
//!
//! Nothing here stores or prints a full card number: errors name the field
//! and the rule, [`mask`] and [`last4`] give what may be shown.

use serde::{Deserialize, Serialize};

use crate::error::{join_param, FieldError};

/// Fewest digits of a card number.
pub const NUMBER_DIGITS_MIN: usize = 12;
/// Most digits of a card number.
pub const NUMBER_DIGITS_MAX: usize = 19;

/// Whether `digits` (ASCII digits only, at least two) passes the Luhn check.
pub fn luhn_valid(digits: &str) -> bool {
    digits.len() >= 2 && digits.bytes().all(|b| b.is_ascii_digit()) && luhn_sum(digits, false) % 10 == 0
}

/// The Luhn sum of `digits` read from the right, doubling every second digit
/// (starting with the rightmost when `double_first`). Non-digits count as 0;
/// callers check the alphabet first.
fn luhn_sum(digits: &str, double_first: bool) -> u32 {
    let mut sum = 0;
    for (index, byte) in digits.bytes().rev().enumerate() {
        let digit = if byte.is_ascii_digit() {
            u32::from(byte - b'0')
        } else {
            0
        };
        let doubled = (index % 2 == 0) == double_first;
        sum += if doubled {
            (digit * 2) % 10 + (digit * 2) / 10
        } else {
            digit
        };
    }
    sum
}

/// Strip spaces and dashes; require 12..=19 ASCII digits and a valid Luhn check. Err codes: "card_number_invalid" (param given by caller).
pub fn normalize_number(input: &str, param: &str) -> Result<String, FieldError> {
    // Bound the work on hostile input before copying it.
    if input.len() > 64 {
        return Err(number_error(param, "must be 12 to 19 digits"));
    }
    let digits: String = input.chars().filter(|c| *c != ' ' && *c != '-').collect();
    let shape_ok =
        (NUMBER_DIGITS_MIN..=NUMBER_DIGITS_MAX).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    if !shape_ok {
        return Err(number_error(param, "must be 12 to 19 digits"));
    }
    if !luhn_valid(&digits) {
        return Err(number_error(
            param,
            "is not a valid card number (its check digit is wrong)",
        ));
    }
    Ok(digits)
}

fn number_error(param: &str, rule: &str) -> FieldError {
    // The number itself is never part of the message.
    FieldError::new("card_number_invalid", param, format!("{param} {rule}."))
}

/// Card network, from the number's issuer identification prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Network {
    /// Visa (4).
    Visa,
    /// Mastercard (51–55, 2221–2720).
    Mastercard,
    /// American Express (34, 37).
    Amex,
    /// JCB (3528–3589).
    Jcb,
    /// Discover (6011, 644–649, 65).
    Discover,
    /// Diners Club (300–305, 36, 38, 39).
    Diners,
    /// UnionPay (62).
    UnionPay,
    /// Any other prefix.
    Unknown,
}

impl Network {
    /// The network of a card number (digits only), by IIN prefix.
    pub fn from_number(digits: &str) -> Network {
        let prefix = |len: usize| -> Option<u32> { digits.get(..len)?.parse().ok() };
        let in_range = |len: usize, low: u32, high: u32| prefix(len).is_some_and(|p| (low..=high).contains(&p));
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Network::Unknown;
        }
        if in_range(1, 4, 4) {
            Network::Visa
        } else if in_range(2, 51, 55) || in_range(4, 2221, 2720) {
            Network::Mastercard
        } else if in_range(2, 34, 34) || in_range(2, 37, 37) {
            Network::Amex
        } else if in_range(4, 3528, 3589) {
            Network::Jcb
        } else if in_range(4, 6011, 6011) || in_range(3, 644, 649) || in_range(2, 65, 65) {
            Network::Discover
        } else if in_range(3, 300, 305) || in_range(2, 36, 36) || in_range(2, 38, 39) {
            Network::Diners
        } else if in_range(2, 62, 62) {
            Network::UnionPay
        } else {
            Network::Unknown
        }
    }

    /// The network's name for people; `"Card"` for an unknown network.
    pub fn label(self) -> &'static str {
        match self {
            Network::Visa => "Visa",
            Network::Mastercard => "Mastercard",
            Network::Amex => "American Express",
            Network::Jcb => "JCB",
            Network::Discover => "Discover",
            Network::Diners => "Diners Club",
            Network::UnionPay => "UnionPay",
            Network::Unknown => "Card",
        }
    }
}

/// The last four characters of `digits` (all of it when shorter).
pub fn last4(digits: &str) -> String {
    let count = digits.chars().count();
    digits.chars().skip(count.saturating_sub(4)).collect()
}

/// "•••• " + the last four digits, e.g. "•••• 4242".
pub fn mask(digits: &str) -> String {
    format!("•••• {}", last4(digits))
}

/// Append a Luhn check digit to a digit string (used to issue test cards).
///
/// `payload` must be ASCII digits; a debug build asserts it.
pub fn with_check_digit(payload: &str) -> String {
    debug_assert!(payload.bytes().all(|b| b.is_ascii_digit()), "payload must be digits");
    let check = (10 - luhn_sum(payload, true) % 10) % 10;
    let mut number = String::with_capacity(payload.len() + 1);
    number.push_str(payload);
    number.push(char::from(b'0' + u8::try_from(check).unwrap_or(0)));
    number
}

/// Checks exp_month 1..=12, exp_year 2000..=2099 (4-digit), param names "{param}.exp_month"/"{param}.exp_year", code "card_expiry_invalid"; CVC 3 or 4 digits code "card_cvc_invalid" param "{param}.cvc".
pub fn check_expiry_fields(exp_month: u32, exp_year: u32, param: &str) -> Result<(), FieldError> {
    if !(1..=12).contains(&exp_month) {
        let month_param = join_param(param, "exp_month");
        return Err(FieldError::new(
            "card_expiry_invalid",
            month_param.clone(),
            format!("{month_param} is {exp_month} but must be a month from 1 to 12."),
        ));
    }
    if !(2000..=2099).contains(&exp_year) {
        let year_param = join_param(param, "exp_year");
        return Err(FieldError::new(
            "card_expiry_invalid",
            year_param.clone(),
            format!("{year_param} is {exp_year} but must be a four-digit year from 2000 to 2099."),
        ));
    }
    Ok(())
}

/// Checks that the CVC is 3 or 4 ASCII digits; param "{param}.cvc", code
/// "card_cvc_invalid". The CVC is never part of the message.
pub fn check_cvc(cvc: &str, param: &str) -> Result<(), FieldError> {
    if matches!(cvc.len(), 3 | 4) && cvc.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(());
    }
    let cvc_param = join_param(param, "cvc");
    Err(FieldError::new(
        "card_cvc_invalid",
        cvc_param.clone(),
        format!("{cvc_param} must be 3 or 4 digits."),
    ))
}

/// true when the card's last valid month (exp_year, exp_month) is before (year, month) of `now_unix_s` (UTC; compute the civil date with integer arithmetic, no chrono).
pub fn is_expired(exp_month: u32, exp_year: u32, now_unix_s: i64) -> bool {
    let (year, month) = civil_year_month(now_unix_s);
    (i64::from(exp_year), i64::from(exp_month)) < (year, month)
}

/// The UTC (year, month) of a Unix time, by Howard Hinnant's
/// `civil_from_days` (proleptic Gregorian, exact for every i64 second).
fn civil_year_month(unix_s: i64) -> (i64, i64) {
    let days = unix_s.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097); // [0, 146096]
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365; // [0, 399]
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100); // [0, 365]
    let shifted_month = (5 * day_of_year + 2) / 153; // [0, 11], March = 0
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn() {
        assert!(luhn_valid("4242424242424242"));
        assert!(!luhn_valid("4242424242424241"));
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("79927398710"));
        assert!(luhn_valid("378282246310005"));
        assert!(!luhn_valid(""));
        assert!(!luhn_valid("0"));
        assert!(!luhn_valid("4242 4242 4242 4242"));
        assert!(!luhn_valid("42424242424242a2"));
    }

    #[test]
    fn check_digit_makes_luhn_valid_numbers() {
        assert_eq!(with_check_digit("424242424242424"), "4242424242424242");
        assert_eq!(with_check_digit("7992739871"), "79927398713");
        for payload in ["0", "1", "35281234567890", "400000000000000", "99999999999999999"] {
            assert!(luhn_valid(&with_check_digit(payload)), "{payload}");
        }
    }

    #[test]
    fn normalize_strips_spaces_and_dashes() {
        assert_eq!(
            normalize_number("4242 4242-4242 4242", "card.number").unwrap(),
            "4242424242424242"
        );
        assert_eq!(
            normalize_number("4242424242424242", "card.number").unwrap(),
            "4242424242424242"
        );
    }

    #[test]
    fn normalize_refuses_bad_numbers_without_echoing_them() {
        for input in [
            "4242424242424241",
            "42424242",
            "4242424242424242424242",
            "4242x42424242424",
            "",
            "４２４２４２４２４２４２４２４２",
        ] {
            let error = normalize_number(input, "payment_method.card.number").unwrap_err();
            assert_eq!(error.code, "card_number_invalid");
            assert_eq!(error.param, "payment_method.card.number");
            assert!(!error.message.contains("4242424"), "{}", error.message);
        }
        assert!(normalize_number(&"4".repeat(1000), "n").is_err());
    }

    #[test]
    fn networks_by_prefix() {
        let cases = [
            ("4242424242424242", Network::Visa),
            ("5555555555554444", Network::Mastercard),
            ("2223003122003222", Network::Mastercard),
            ("2720990000000000", Network::Mastercard),
            ("2721000000000000", Network::Unknown),
            ("378282246310005", Network::Amex),
            ("341111111111111", Network::Amex),
            ("3530111333300000", Network::Jcb),
            ("3589000000000000", Network::Jcb),
            ("3527000000000000", Network::Unknown),
            ("6011111111111117", Network::Discover),
            ("6445000000000000", Network::Discover),
            ("6500000000000000", Network::Discover),
            ("30569309025904", Network::Diners),
            ("36227206271667", Network::Diners),
            ("38520000023237", Network::Diners),
            ("3900000000000000", Network::Diners),
            ("3060000000000000", Network::Unknown),
            ("6200000000000005", Network::UnionPay),
            ("9999999999999995", Network::Unknown),
            ("", Network::Unknown),
            ("4", Network::Visa),
            ("x4", Network::Unknown),
        ];
        for (number, network) in cases {
            assert_eq!(Network::from_number(number), network, "{number}");
        }
    }

    #[test]
    fn network_labels_and_wire_names() {
        assert_eq!(Network::Amex.label(), "American Express");
        assert_eq!(Network::Jcb.label(), "JCB");
        assert_eq!(Network::Visa.label(), "Visa");
        assert_eq!(serde_json::to_string(&Network::UnionPay).unwrap(), "\"union_pay\"");
        assert_eq!(serde_json::from_str::<Network>("\"jcb\"").unwrap(), Network::Jcb);
    }

    #[test]
    fn last4_and_mask() {
        assert_eq!(last4("4242424242424242"), "4242");
        assert_eq!(last4("123"), "123");
        assert_eq!(mask("5555555555554444"), "•••• 4444");
    }

    #[test]
    fn expiry_fields() {
        assert_eq!(check_expiry_fields(12, 2030, "card"), Ok(()));
        assert_eq!(check_expiry_fields(1, 2000, "card"), Ok(()));
        let error = check_expiry_fields(13, 2030, "payment_method.card").unwrap_err();
        assert_eq!(
            (error.code, error.param.as_str()),
            ("card_expiry_invalid", "payment_method.card.exp_month")
        );
        assert_eq!(
            check_expiry_fields(0, 2030, "card").unwrap_err().param,
            "card.exp_month"
        );
        let error = check_expiry_fields(12, 30, "payment_method.card").unwrap_err();
        assert_eq!(
            (error.code, error.param.as_str()),
            ("card_expiry_invalid", "payment_method.card.exp_year")
        );
        assert_eq!(
            check_expiry_fields(12, 2100, "card").unwrap_err().param,
            "card.exp_year"
        );
    }

    #[test]
    fn cvc() {
        assert_eq!(check_cvc("123", "payment_method.card"), Ok(()));
        assert_eq!(check_cvc("1234", "payment_method.card"), Ok(()));
        for bad in ["12", "12345", "12a", "", "１２３"] {
            let error = check_cvc(bad, "payment_method.card").unwrap_err();
            assert_eq!(
                (error.code, error.param.as_str()),
                ("card_cvc_invalid", "payment_method.card.cvc")
            );
        }
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_year_month(0), (1970, 1));
        assert_eq!(civil_year_month(-1), (1969, 12));
        assert_eq!(civil_year_month(1_700_000_000), (2023, 11)); // 2023-11-14
        assert_eq!(civil_year_month(951_782_400), (2000, 2)); // 2000-02-29 00:00
        assert_eq!(civil_year_month(951_868_799), (2000, 2)); // 2000-02-29 23:59:59
        assert_eq!(civil_year_month(951_868_800), (2000, 3)); // 2000-03-01
        assert_eq!(civil_year_month(4_102_444_800), (2100, 1)); // 2100-01-01
                                                                // Extremes do not overflow.
        let _ = civil_year_month(i64::MAX);
        let _ = civil_year_month(i64::MIN);
    }

    #[test]
    fn expiry_is_the_end_of_the_month() {
        let nov_14_2023 = 1_700_000_000;
        assert!(!is_expired(11, 2023, nov_14_2023));
        assert!(!is_expired(12, 2023, nov_14_2023));
        assert!(!is_expired(1, 2024, nov_14_2023));
        assert!(is_expired(10, 2023, nov_14_2023));
        assert!(is_expired(12, 2022, nov_14_2023));
        // 2023-11-30 23:59:59 UTC is still November; a second later it is December.
        assert!(!is_expired(11, 2023, 1_701_388_799));
        assert!(is_expired(11, 2023, 1_701_388_800));
    }
}
