//! Money: integer amounts of a currency's minor unit, with ISO 4217 codes.
//!
//! PROTOCOL section 2: an amount is an integer count of the currency's minor
//! unit (`1155` JPY is ¥1,155, `1050` USD is $10.50) in
//! `0 ..= AMOUNT_MAX`, the largest integer every JavaScript client holds
//! exactly. Nothing here ever uses floating point.

use crate::error::FieldError;

/// The largest amount the protocol accepts: 2^53 - 1.
pub const AMOUNT_MAX: u64 = 9_007_199_254_740_991;

/// Digits after the decimal point of an active ISO 4217 currency (List One,
/// 2025 edition; codes whose minor unit is "N.A.", such as XAU or XDR, are not
/// money and are absent). `None` for unknown or non-uppercase codes.
pub fn minor_units(currency: &str) -> Option<u8> {
    let units = match currency {
        // Zero decimals.
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI" | "VND"
        | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        // Three decimals.
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        // Four decimals (units of account).
        "CLF" | "UYW" => 4,
        // Two decimals.
        "AED" | "AFN" | "ALL" | "AMD" | "ANG" | "AOA" | "ARS" | "AUD" | "AWG" | "AZN" | "BAM" | "BBD" | "BDT"
        | "BGN" | "BMD" | "BND" | "BOB" | "BOV" | "BRL" | "BSD" | "BTN" | "BWP" | "BYN" | "BZD" | "CAD" | "CDF"
        | "CHE" | "CHF" | "CHW" | "CNY" | "COP" | "COU" | "CRC" | "CUP" | "CVE" | "CZK" | "DKK" | "DOP" | "DZD"
        | "EGP" | "ERN" | "ETB" | "EUR" | "FJD" | "FKP" | "GBP" | "GEL" | "GHS" | "GIP" | "GMD" | "GTQ" | "GYD"
        | "HKD" | "HNL" | "HTG" | "HUF" | "IDR" | "ILS" | "INR" | "IRR" | "JMD" | "KES" | "KGS" | "KHR" | "KPW"
        | "KYD" | "KZT" | "LAK" | "LBP" | "LKR" | "LRD" | "LSL" | "MAD" | "MDL" | "MGA" | "MKD" | "MMK" | "MNT"
        | "MOP" | "MRU" | "MUR" | "MVR" | "MWK" | "MXN" | "MXV" | "MYR" | "MZN" | "NAD" | "NGN" | "NIO" | "NOK"
        | "NPR" | "NZD" | "PAB" | "PEN" | "PGK" | "PHP" | "PKR" | "PLN" | "QAR" | "RON" | "RSD" | "RUB" | "SAR"
        | "SBD" | "SCR" | "SDG" | "SEK" | "SGD" | "SHP" | "SLE" | "SOS" | "SRD" | "SSP" | "STN" | "SVC" | "SYP"
        | "SZL" | "THB" | "TJS" | "TMT" | "TOP" | "TRY" | "TTD" | "TWD" | "TZS" | "UAH" | "USD" | "USN" | "UYU"
        | "UZS" | "VED" | "VES" | "WST" | "XCD" | "XCG" | "YER" | "ZAR" | "ZMW" | "ZWG" => 2,
        _ => return None,
    };
    Some(units)
}

/// `minor` as a plain decimal in `currency`'s minor digits, no symbol and
/// no grouping ("1155" yen, "10.50" dollars, "0.05"), never through
/// floating point; None for a currency this crate does not know.
pub fn decimal_text(minor: u64, currency: &str) -> Option<String> {
    let digits = minor_units(currency)?;
    if digits == 0 {
        return Some(minor.to_string());
    }
    let scale = 10u64.pow(u32::from(digits));
    Some(format!(
        "{}.{:0width$}",
        minor / scale,
        minor % scale,
        width = usize::from(digits)
    ))
}

/// Checks that `currency` is an active ISO 4217 code in capitals.
pub fn check_currency(currency: &str, param: &str) -> Result<(), FieldError> {
    if minor_units(currency).is_some() {
        return Ok(());
    }
    Err(FieldError::new(
        "currency_invalid",
        param,
        format!("{param} must be an active ISO 4217 currency code in capitals, such as JPY or USD."),
    ))
}

/// Checks that `amount` is at most [`AMOUNT_MAX`].
pub fn check_amount(amount: u64, param: &str) -> Result<(), FieldError> {
    if amount <= AMOUNT_MAX {
        return Ok(());
    }
    Err(FieldError::new(
        "amount_out_of_range",
        param,
        format!("{param} is {amount} but amounts must be between 0 and {AMOUNT_MAX}."),
    ))
}

/// An amount of one currency, in its minor unit: the one money type. Made
/// only through [`Money::new`], so the amount is within `0 ..= AMOUNT_MAX`
/// and the currency an active ISO 4217 code; arithmetic is checked and never
/// mixes currencies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Money {
    minor: u64,
    currency: String,
}

impl Money {
    /// `minor` units of `currency`; an error names `param` (e.g. `order.total`).
    pub fn new(minor: u64, currency: &str, param: &str) -> Result<Self, FieldError> {
        check_currency(currency, param)?;
        check_amount(minor, param)?;
        Ok(Self {
            minor,
            currency: currency.to_string(),
        })
    }

    /// Nothing, in `self`'s currency.
    pub fn zero_like(&self) -> Self {
        Self {
            minor: 0,
            currency: self.currency.clone(),
        }
    }

    /// Another amount of the same currency, if within the protocol's range.
    pub fn with_minor(&self, minor: u64) -> Option<Self> {
        (minor <= AMOUNT_MAX).then(|| Self {
            minor,
            currency: self.currency.clone(),
        })
    }

    pub fn minor(&self) -> u64 {
        self.minor
    }

    /// The amount as the databases store it (BIGINT): always fits, since
    /// `AMOUNT_MAX` < `i64::MAX`.
    pub fn minor_i64(&self) -> i64 {
        i64::try_from(self.minor).unwrap_or(i64::MAX)
    }

    pub fn currency(&self) -> &str {
        &self.currency
    }

    pub fn is_zero(&self) -> bool {
        self.minor == 0
    }

    /// `self + other`, or None across currencies or beyond the range.
    pub fn checked_add(&self, other: &Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        self.with_minor(self.minor.checked_add(other.minor)?)
    }

    /// `self - other`, or None across currencies or below zero.
    pub fn checked_sub(&self, other: &Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        self.with_minor(self.minor.checked_sub(other.minor)?)
    }
}

impl core::fmt::Display for Money {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&format_amount(self.minor, &self.currency))
    }
}

/// Formats an amount for people: `¥1,155`, `$10.50`, `€10.50`, and
/// `10.50 GBP` for other currencies. Unknown currencies are shown as the bare
/// count of minor units followed by the code (`1,155 XYZ`), since their
/// decimal point is unknown.
pub fn format_amount(amount: u64, currency: &str) -> String {
    let number = format_number(amount, minor_units(currency).unwrap_or(0));
    match currency {
        "JPY" => format!("¥{number}"),
        "USD" => format!("${number}"),
        "EUR" => format!("€{number}"),
        _ => format!("{number} {currency}"),
    }
}

/// Writes `amount` minor units as a decimal with `decimals` fraction digits
/// and ',' between thousands of the whole part.
fn format_number(amount: u64, decimals: u8) -> String {
    let scale = 10u64.pow(u32::from(decimals));
    let whole = group_thousands(amount / scale);
    if decimals == 0 {
        return whole;
    }
    let fraction = amount % scale;
    format!("{whole}.{fraction:0width$}", width = usize::from(decimals))
}

/// `1234567` gives `1,234,567`.
fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_units_of_common_currencies() {
        assert_eq!(minor_units("JPY"), Some(0));
        assert_eq!(minor_units("KRW"), Some(0));
        assert_eq!(minor_units("CLP"), Some(0));
        assert_eq!(minor_units("USD"), Some(2));
        assert_eq!(minor_units("EUR"), Some(2));
        assert_eq!(minor_units("GBP"), Some(2));
        assert_eq!(minor_units("BHD"), Some(3));
        assert_eq!(minor_units("KWD"), Some(3));
        assert_eq!(minor_units("CLF"), Some(4));
    }

    #[test]
    fn minor_units_rejects_unknown_and_lowercase_codes() {
        assert_eq!(minor_units("jpy"), None);
        assert_eq!(minor_units("Usd"), None);
        assert_eq!(minor_units("XAU"), None);
        assert_eq!(minor_units("ABC"), None);
        assert_eq!(minor_units(""), None);
        assert_eq!(minor_units("JPYY"), None);
    }

    #[test]
    fn check_currency_reports_code_and_param() {
        assert!(check_currency("JPY", "order.currency").is_ok());
        let error = check_currency("yen", "order.currency").unwrap_err();
        assert_eq!(error.code, "currency_invalid");
        assert_eq!(error.param, "order.currency");
    }

    #[test]
    fn check_amount_accepts_up_to_the_maximum() {
        assert!(check_amount(0, "total").is_ok());
        assert!(check_amount(AMOUNT_MAX, "total").is_ok());
        let error = check_amount(AMOUNT_MAX + 1, "order.tax").unwrap_err();
        assert_eq!(error.code, "amount_out_of_range");
        assert_eq!(error.param, "order.tax");
    }

    #[test]
    fn format_amount_uses_symbols_and_minor_units() {
        assert_eq!(format_amount(1155, "JPY"), "¥1,155");
        assert_eq!(format_amount(0, "JPY"), "¥0");
        assert_eq!(format_amount(1050, "USD"), "$10.50");
        assert_eq!(format_amount(5, "USD"), "$0.05");
        assert_eq!(format_amount(123_456_789, "EUR"), "€1,234,567.89");
        assert_eq!(format_amount(1050, "GBP"), "10.50 GBP");
        assert_eq!(format_amount(1_234_567, "KWD"), "1,234.567 KWD");
        assert_eq!(format_amount(999, "KRW"), "999 KRW");
        assert_eq!(format_amount(1000, "KRW"), "1,000 KRW");
        assert_eq!(format_amount(1155, "XYZ"), "1,155 XYZ");
    }

    #[test]
    fn format_amount_is_exact_at_the_maximum() {
        assert_eq!(format_amount(AMOUNT_MAX, "USD"), "$90,071,992,547,409.91");
        assert_eq!(format_amount(u64::MAX, "JPY"), "¥18,446,744,073,709,551,615");
    }

    #[test]
    fn money_is_checked_and_never_mixes_currencies() {
        let yen = Money::new(1155, "JPY", "total").unwrap();
        assert_eq!(yen.to_string(), "¥1,155");
        assert_eq!(Money::new(1, "jpy", "total").unwrap_err().code, "currency_invalid");
        assert_eq!(
            Money::new(AMOUNT_MAX + 1, "JPY", "total").unwrap_err().code,
            "amount_out_of_range"
        );
        let five = yen.with_minor(5).unwrap();
        assert_eq!(yen.checked_sub(&five).map(|m| m.minor()), Some(1150));
        assert_eq!(five.checked_sub(&yen), None);
        let dollars = Money::new(5, "USD", "total").unwrap();
        assert_eq!(yen.checked_add(&dollars), None);
        assert_eq!(yen.checked_sub(&dollars), None);
        let max = yen.with_minor(AMOUNT_MAX).unwrap();
        assert_eq!(max.checked_add(&five), None);
        assert!(yen.zero_like().is_zero());
        assert_eq!(max.minor_i64(), 9_007_199_254_740_991);
    }
}
