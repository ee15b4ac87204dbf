//! The EMVCo merchant-presented QR payload of PROTOCOL section 13: what a
//! billing terminal shows and a phone reads to learn the transaction number.
//!
//! [`Fields::payload`] writes each field as its ID (2 digits), its length
//! (2 digits) and its value, in the order PROTOCOL lists them, and closes with tag `63`: the
//! CRC-16/CCITT-FALSE ([`crc16_ccitt_false`]) of every character before it,
//! `6304` included. [`parse`] reads a payload back; it checks the CRC before
//! anything else, because a reader trusts no digit of a damaged code, and it
//! accepts only what [`Fields::payload`] writes (tags in order, amount in its
//! canonical form), so parsing and writing are exact inverses.
//!
//! With the `qr` feature, `svg` draws a payload as a QR code and
//! `qr_modules` gives its module matrix (not linked: absent without it).

use core::fmt::Write as _;

use crate::error::FieldError;
use crate::money::{self, AMOUNT_MAX};
use crate::terminal::{LABEL_LEN_MAX, NUMBER_DIGITS};

mod reading;
pub use reading::parse;

#[cfg(feature = "qr")]
mod qr_code;
#[cfg(feature = "qr")]
pub use qr_code::{qr_modules, svg, QrModules, QUIET_ZONE, SVG_MODULE_PX};

/// Longest merchant QR name (EMV tag 59).
pub const NAME_LEN_MAX: usize = 25;
/// Longest city (EMV tag 60).
pub const CITY_LEN_MAX: usize = 15;
/// Longest amount text (EMV tag 54), decimal point included.
pub const AMOUNT_TEXT_LEN_MAX: usize = 13;
/// Longest value of one TLV field: its length has two digits.
pub const VALUE_LEN_MAX: usize = 99;

/// Code of a value [`Fields::payload`] cannot write.
pub const CODE_FIELD_INVALID: &str = "qr_field_invalid";
/// Code of a payload whose CRC does not match its characters.
pub const CODE_CRC_MISMATCH: &str = "qr_crc_mismatch";
/// Code of a payload that is not one [`Fields::payload`] would write.
pub const CODE_MALFORMED: &str = "qr_malformed";

// The tags, in the order PROTOCOL section 13 lists them.
const TAG_FORMAT: &str = "00";
const TAG_INITIATION: &str = "01";
const TAG_MERCHANT_ACCOUNT: &str = "26";
const TAG_MCC: &str = "52";
const TAG_CURRENCY: &str = "53";
const TAG_AMOUNT: &str = "54";
const TAG_COUNTRY: &str = "58";
const TAG_NAME: &str = "59";
const TAG_CITY: &str = "60";
const TAG_ADDITIONAL: &str = "62";
// Inside tag 26.
const SUB_INSTITUTION: &str = "00";
const SUB_MERCHANT: &str = "01";
// Inside tag 62.
const SUB_NUMBER: &str = "05";
const SUB_LABEL: &str = "07";

const FORMAT_VERSION: &str = "01";
/// Point of initiation "12": dynamic, the code is for one transaction.
const INITIATION_DYNAMIC: &str = "12";
/// What the CRC field starts with (tag 63, length 4); the CRC covers it too.
const CRC_HEADER: &str = "6304";

/// The fields of one transaction's QR payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    /// `ins_…`: the institution that settles (tag 26/00).
    pub institution_id: String,
    /// `mch_…` (tag 26/01).
    pub merchant_id: String,
    /// Merchant category code, 4 digits (tag 52).
    pub mcc: String,
    /// ISO 4217 alphabetic code; the payload carries its numeric code (tag 53).
    pub currency: String,
    /// Minor units of `currency` (tag 54); None while the payer has not
    /// chosen (a menu), and then the tag is left out.
    pub amount: Option<u64>,
    /// ISO 3166-1 alpha-2 (tag 58).
    pub country: String,
    /// The merchant's QR name, printable ASCII (tag 59).
    pub merchant_name: String,
    /// Printable ASCII (tag 60).
    pub city: String,
    /// The 8-digit transaction number (tag 62/05).
    pub number: String,
    /// The terminal's label, printable ASCII (tag 62/07).
    pub terminal_label: String,
}

impl Fields {
    /// The payload, CRC included; an error names the field that does not fit.
    pub fn payload(&self) -> Result<String, FieldError> {
        self.check()?;
        let numeric = currency_numeric(&self.currency).ok_or_else(unknown_currency)?;
        let mut out = String::with_capacity(192);
        push(&mut out, TAG_FORMAT, FORMAT_VERSION, "payload")?;
        push(&mut out, TAG_INITIATION, INITIATION_DYNAMIC, "payload")?;
        let mut account = String::new();
        push(&mut account, SUB_INSTITUTION, &self.institution_id, "institution_id")?;
        push(&mut account, SUB_MERCHANT, &self.merchant_id, "merchant_id")?;
        push(&mut out, TAG_MERCHANT_ACCOUNT, &account, "merchant_id")?;
        push(&mut out, TAG_MCC, &self.mcc, "mcc")?;
        push(&mut out, TAG_CURRENCY, numeric, "currency")?;
        if let Some(amount) = self.amount {
            push(&mut out, TAG_AMOUNT, &amount_text(amount, &self.currency)?, "amount")?;
        }
        push(&mut out, TAG_COUNTRY, &self.country, "country")?;
        push(&mut out, TAG_NAME, &self.merchant_name, "merchant_name")?;
        push(&mut out, TAG_CITY, &self.city, "city")?;
        let mut additional = String::new();
        push(&mut additional, SUB_NUMBER, &self.number, "number")?;
        push(&mut additional, SUB_LABEL, &self.terminal_label, "terminal_label")?;
        push(&mut out, TAG_ADDITIONAL, &additional, "terminal_label")?;
        out.push_str(CRC_HEADER);
        let crc = crc16_ccitt_false(out.as_bytes());
        // Writing to a String cannot fail.
        let _ = write!(out, "{crc:04X}");
        Ok(out)
    }

    /// Every rule of each field on its own (lengths of the templates are
    /// checked while writing them).
    pub fn check(&self) -> Result<(), FieldError> {
        check_printable(&self.institution_id, VALUE_LEN_MAX, "institution_id")?;
        check_printable(&self.merchant_id, VALUE_LEN_MAX, "merchant_id")?;
        check_mcc(&self.mcc, "mcc")?;
        money::check_currency(&self.currency, "currency")?;
        if let Some(amount) = self.amount {
            amount_text(amount, &self.currency)?;
        }
        check_country(&self.country, "country")?;
        check_printable(&self.merchant_name, NAME_LEN_MAX, "merchant_name")?;
        check_printable(&self.city, CITY_LEN_MAX, "city")?;
        check_number(&self.number, "number")?;
        check_printable(&self.terminal_label, LABEL_LEN_MAX, "terminal_label")
    }
}

/// Appends `tag`, the value's length in 2 digits and the value.
fn push(out: &mut String, tag: &str, value: &str, param: &str) -> Result<(), FieldError> {
    if value.len() > VALUE_LEN_MAX {
        return Err(invalid(
            param,
            format!(
                "{param} makes a QR field of {} characters; at most {VALUE_LEN_MAX} fit.",
                value.len()
            ),
        ));
    }
    let _ = write!(out, "{tag}{:02}{value}", value.len());
    Ok(())
}

/// Checks 1 to `max` printable ASCII characters (space to `~`): the EMV
/// character set, one byte per character, so lengths count both.
pub fn check_printable(value: &str, max: usize, param: &str) -> Result<(), FieldError> {
    if value.is_empty() || value.len() > max || !value.bytes().all(is_printable) {
        return Err(invalid(
            param,
            format!("{param} must be 1 to {max} printable ASCII characters."),
        ));
    }
    Ok(())
}

/// Checks a merchant category code: 4 digits.
pub fn check_mcc(mcc: &str, param: &str) -> Result<(), FieldError> {
    if mcc.len() != 4 || !mcc.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(
            param,
            format!("{param} must be a merchant category code of 4 digits."),
        ));
    }
    Ok(())
}

/// Checks an ISO 3166-1 alpha-2 country code in capitals.
pub fn check_country(country: &str, param: &str) -> Result<(), FieldError> {
    let known = country.len() == 2
        && COUNTRIES
            .as_bytes()
            .chunks_exact(2)
            .any(|code| code == country.as_bytes());
    if !known {
        return Err(invalid(
            param,
            format!("{param} must be an ISO 3166-1 alpha-2 country code in capitals, such as JP."),
        ));
    }
    Ok(())
}

fn check_number(number: &str, param: &str) -> Result<(), FieldError> {
    if number.len() != NUMBER_DIGITS || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(param, format!("{param} must be {NUMBER_DIGITS} digits.")));
    }
    Ok(())
}

fn is_printable(byte: u8) -> bool {
    (0x20..=0x7e).contains(&byte)
}

fn invalid(param: &str, message: String) -> FieldError {
    FieldError::new(CODE_FIELD_INVALID, param, message)
}

fn unknown_currency() -> FieldError {
    FieldError::new(
        "currency_invalid",
        "currency",
        "currency must be an active ISO 4217 currency code in capitals, such as JPY or USD.",
    )
}

/// Tag 54's text: the amount with the currency's minor digits ("1155" yen,
/// "10.50" dollars, "0.05"), never in floating point.
pub fn amount_text(amount: u64, currency: &str) -> Result<String, FieldError> {
    money::check_amount(amount, "amount")?;
    let text = money::decimal_text(amount, currency).ok_or_else(unknown_currency)?;
    if text.len() > AMOUNT_TEXT_LEN_MAX {
        return Err(invalid(
            "amount",
            format!("amount is {text} {currency}, longer than the {AMOUNT_TEXT_LEN_MAX} characters of the QR field."),
        ));
    }
    Ok(text)
}

/// The amount of tag 54's `text` in minor units of `currency`; None unless
/// `text` is exactly what [`amount_text`] writes for it.
pub fn parse_amount_text(text: &str, currency: &str) -> Option<u64> {
    let digits = money::minor_units(currency)?;
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (text, ""),
    };
    if whole.is_empty() || fraction.len() != usize::from(digits) {
        return None;
    }
    let mut amount: u64 = 0;
    for byte in whole.bytes().chain(fraction.bytes()) {
        if !byte.is_ascii_digit() {
            return None;
        }
        amount = amount.checked_mul(10)?.checked_add(u64::from(byte - b'0'))?;
    }
    // Leading zeros, a bare "." and the like differ from the canonical text.
    (amount <= AMOUNT_MAX && amount_text(amount, currency).ok()? == text).then_some(amount)
}

/// CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no
/// reflection, no final XOR ("123456789" gives 0x29B1).
pub fn crc16_ccitt_false(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &byte in bytes {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// ISO 4217 numeric code of an alphabetic one, for every currency
/// [`money::minor_units`] knows.
pub fn currency_numeric(currency: &str) -> Option<&'static str> {
    CURRENCIES
        .iter()
        .find(|(alpha, _)| *alpha == currency)
        .map(|(_, numeric)| *numeric)
}

/// The alphabetic code of an ISO 4217 numeric one.
pub fn currency_alpha(numeric: &str) -> Option<&'static str> {
    CURRENCIES
        .iter()
        .find(|(_, code)| *code == numeric)
        .map(|(alpha, _)| *alpha)
}

/// ISO 4217 alphabetic and numeric codes of the currencies of
/// [`money::minor_units`] (from Debian's iso-codes, plus XCG and ZWG, newer
/// than it). XCG comes before ANG, which it replaced and whose number 532 it
/// took over, so that reading 532 gives the current one.
// Six to a line: rustfmt would give each pair a line of its own.
#[rustfmt::skip]
const CURRENCIES: &[(&str, &str)] = &[
    ("XCG", "532"), ("AED", "784"), ("AFN", "971"), ("ALL", "008"), ("AMD", "051"), ("ANG", "532"),
    ("AOA", "973"), ("ARS", "032"), ("AUD", "036"), ("AWG", "533"), ("AZN", "944"), ("BAM", "977"),
    ("BBD", "052"), ("BDT", "050"), ("BGN", "975"), ("BHD", "048"), ("BIF", "108"), ("BMD", "060"),
    ("BND", "096"), ("BOB", "068"), ("BOV", "984"), ("BRL", "986"), ("BSD", "044"), ("BTN", "064"),
    ("BWP", "072"), ("BYN", "933"), ("BZD", "084"), ("CAD", "124"), ("CDF", "976"), ("CHE", "947"),
    ("CHF", "756"), ("CHW", "948"), ("CLF", "990"), ("CLP", "152"), ("CNY", "156"), ("COP", "170"),
    ("COU", "970"), ("CRC", "188"), ("CUP", "192"), ("CVE", "132"), ("CZK", "203"), ("DJF", "262"),
    ("DKK", "208"), ("DOP", "214"), ("DZD", "012"), ("EGP", "818"), ("ERN", "232"), ("ETB", "230"),
    ("EUR", "978"), ("FJD", "242"), ("FKP", "238"), ("GBP", "826"), ("GEL", "981"), ("GHS", "936"),
    ("GIP", "292"), ("GMD", "270"), ("GNF", "324"), ("GTQ", "320"), ("GYD", "328"), ("HKD", "344"),
    ("HNL", "340"), ("HTG", "332"), ("HUF", "348"), ("IDR", "360"), ("ILS", "376"), ("INR", "356"),
    ("IQD", "368"), ("IRR", "364"), ("ISK", "352"), ("JMD", "388"), ("JOD", "400"), ("JPY", "392"),
    ("KES", "404"), ("KGS", "417"), ("KHR", "116"), ("KMF", "174"), ("KPW", "408"), ("KRW", "410"),
    ("KWD", "414"), ("KYD", "136"), ("KZT", "398"), ("LAK", "418"), ("LBP", "422"), ("LKR", "144"),
    ("LRD", "430"), ("LSL", "426"), ("LYD", "434"), ("MAD", "504"), ("MDL", "498"), ("MGA", "969"),
    ("MKD", "807"), ("MMK", "104"), ("MNT", "496"), ("MOP", "446"), ("MRU", "929"), ("MUR", "480"),
    ("MVR", "462"), ("MWK", "454"), ("MXN", "484"), ("MXV", "979"), ("MYR", "458"), ("MZN", "943"),
    ("NAD", "516"), ("NGN", "566"), ("NIO", "558"), ("NOK", "578"), ("NPR", "524"), ("NZD", "554"),
    ("OMR", "512"), ("PAB", "590"), ("PEN", "604"), ("PGK", "598"), ("PHP", "608"), ("PKR", "586"),
    ("PLN", "985"), ("PYG", "600"), ("QAR", "634"), ("RON", "946"), ("RSD", "941"), ("RUB", "643"),
    ("RWF", "646"), ("SAR", "682"), ("SBD", "090"), ("SCR", "690"), ("SDG", "938"), ("SEK", "752"),
    ("SGD", "702"), ("SHP", "654"), ("SLE", "925"), ("SOS", "706"), ("SRD", "968"), ("SSP", "728"),
    ("STN", "930"), ("SVC", "222"), ("SYP", "760"), ("SZL", "748"), ("THB", "764"), ("TJS", "972"),
    ("TMT", "934"), ("TND", "788"), ("TOP", "776"), ("TRY", "949"), ("TTD", "780"), ("TWD", "901"),
    ("TZS", "834"), ("UAH", "980"), ("UGX", "800"), ("USD", "840"), ("USN", "997"), ("UYI", "940"),
    ("UYU", "858"), ("UYW", "927"), ("UZS", "860"), ("VED", "926"), ("VES", "928"), ("VND", "704"),
    ("VUV", "548"), ("WST", "882"), ("XAF", "950"), ("XCD", "951"), ("XOF", "952"), ("XPF", "953"),
    ("YER", "886"), ("ZAR", "710"), ("ZMW", "967"), ("ZWG", "924"),
];

/// ISO 3166-1 alpha-2 codes (Debian's iso-codes), two letters each.
const COUNTRIES: &str = "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW";

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Fields {
        Fields {
            institution_id: "ins_qk7xv2mbl4hd6ncpw3jrte5fsa".into(),
            merchant_id: "mch_5xq2b7n4c3dze6f3gwhaj2k4m6".into(),
            mcc: "5999".into(),
            currency: "JPY".into(),
            amount: Some(1155),
            country: "JP".into(),
            merchant_name: "Kessai Demo Shop".into(),
            city: "Tokyo".into(),
            number: "48213907".into(),
            terminal_label: "REGISTER-1".into(),
        }
    }

    /// `payload` with its CRC recomputed, so that a test reaches the checks
    /// after the CRC.
    fn with_crc(body: &str) -> String {
        let body = format!("{body}6304");
        format!("{body}{:04X}", crc16_ccitt_false(body.as_bytes()))
    }

    #[test]
    fn crc_of_the_check_string() {
        assert_eq!(crc16_ccitt_false(b"123456789"), 0x29B1);
        assert_eq!(crc16_ccitt_false(b""), 0xFFFF);
        assert_eq!(crc16_ccitt_false(b"A"), 0xB915);
    }

    #[test]
    fn amount_text_uses_the_minor_digits() {
        assert_eq!(amount_text(1155, "JPY").unwrap(), "1155");
        assert_eq!(amount_text(1050, "USD").unwrap(), "10.50");
        assert_eq!(amount_text(5, "USD").unwrap(), "0.05");
        assert_eq!(amount_text(0, "USD").unwrap(), "0.00");
        assert_eq!(amount_text(1_234_567, "KWD").unwrap(), "1234.567");
        assert_eq!(amount_text(9_999_999_999_999, "JPY").unwrap(), "9999999999999");
        assert_eq!(
            amount_text(10_000_000_000_000, "JPY").unwrap_err().code,
            CODE_FIELD_INVALID
        );
        assert_eq!(amount_text(1, "XYZ").unwrap_err().code, "currency_invalid");
    }

    #[test]
    fn parse_amount_text_accepts_only_the_canonical_form() {
        assert_eq!(parse_amount_text("10.50", "USD"), Some(1050));
        assert_eq!(parse_amount_text("0.05", "USD"), Some(5));
        assert_eq!(parse_amount_text("1155", "JPY"), Some(1155));
        assert_eq!(parse_amount_text("1234.567", "KWD"), Some(1_234_567));
        for bad in [
            "10.5", "10", "010.50", ".50", "10.500", "1O.50", "-1.00", "+1.00", "10,50", "",
        ] {
            assert_eq!(parse_amount_text(bad, "USD"), None, "{bad}");
        }
        for bad in ["1155.0", "01155", "11 55", "1155."] {
            assert_eq!(parse_amount_text(bad, "JPY"), None, "{bad}");
        }
        assert_eq!(parse_amount_text("99999999999999999999999", "JPY"), None);
        assert_eq!(parse_amount_text("1155", "XYZ"), None);
    }

    #[test]
    fn currency_table_covers_the_known_currencies_once() {
        assert_eq!(CURRENCIES.len(), 166, "money::minor_units knows 166 codes");
        for (index, (alpha, numeric)) in CURRENCIES.iter().enumerate() {
            assert!(money::minor_units(alpha).is_some(), "{alpha} unknown to money");
            assert!(
                numeric.len() == 3 && numeric.bytes().all(|b| b.is_ascii_digit()),
                "{alpha}"
            );
            assert!(
                CURRENCIES[..index].iter().all(|(other, _)| other != alpha),
                "{alpha} twice"
            );
        }
        assert_eq!(currency_numeric("JPY"), Some("392"));
        assert_eq!(currency_numeric("USD"), Some("840"));
        assert_eq!(currency_numeric("EUR"), Some("978"));
        assert_eq!(currency_numeric("ALL"), Some("008"));
        assert_eq!(currency_numeric("jpy"), None);
        assert_eq!(currency_alpha("392"), Some("JPY"));
        assert_eq!(currency_alpha("532"), Some("XCG"));
        assert_eq!(currency_alpha("999"), None);
    }

    #[test]
    fn payload_round_trips_through_parse() {
        let mut original = fields();
        let payload = original.payload().unwrap();
        assert!(payload.starts_with("000201010212"));
        assert_eq!(parse(&payload).unwrap(), original);
        original.amount = None;
        original.currency = "KWD".into();
        let payload = original.payload().unwrap();
        assert!(
            payload.contains("53034145802JP"),
            "no tag 54 between currency and country: {payload}"
        );
        assert_eq!(parse(&payload).unwrap(), original);
        original.amount = Some(1_234_567);
        assert!(original.payload().unwrap().contains("54081234.567"));
        assert_eq!(parse(&original.payload().unwrap()).unwrap(), original);
    }

    #[test]
    fn payload_refuses_what_does_not_fit() {
        type Change = fn(&mut Fields);
        let cases: [(&str, Change); 13] = [
            ("merchant_name", |f| f.merchant_name = "A".repeat(26)),
            ("merchant_name", |f| f.merchant_name = "Café".into()),
            ("merchant_name", |f| f.merchant_name = String::new()),
            ("city", |f| f.city = "Tab\tCity".into()),
            ("city", |f| f.city = "A".repeat(16)),
            ("terminal_label", |f| f.terminal_label = "L".repeat(26)),
            ("terminal_label", |f| f.terminal_label = "new\nline".into()),
            ("mcc", |f| f.mcc = "599".into()),
            ("mcc", |f| f.mcc = "59a9".into()),
            ("country", |f| f.country = "jp".into()),
            ("country", |f| f.country = "ZZ".into()),
            ("number", |f| f.number = "1234567".into()),
            ("institution_id", |f| f.institution_id = "i".repeat(100)),
        ];
        for (param, change) in cases {
            let mut bad = fields();
            change(&mut bad);
            let error = bad.payload().unwrap_err();
            assert_eq!(
                (error.code, error.param.as_str()),
                (CODE_FIELD_INVALID, param),
                "{bad:?}"
            );
        }
        let mut long_ids = fields();
        long_ids.institution_id = "i".repeat(50);
        long_ids.merchant_id = "m".repeat(50);
        assert_eq!(long_ids.payload().unwrap_err().param, "merchant_id");
        let mut bad = fields();
        bad.currency = "XAU".into();
        assert_eq!(bad.payload().unwrap_err().code, "currency_invalid");
        bad.currency = "USD".into();
        bad.amount = Some(AMOUNT_MAX + 1);
        assert_eq!(bad.payload().unwrap_err().code, "amount_out_of_range");
    }

    #[test]
    fn parse_checks_the_crc_before_the_structure() {
        let payload = fields().payload().unwrap();
        // A digit changed inside the number and a broken length: the CRC
        // speaks first.
        let tampered = payload.replacen("48213907", "48213908", 1);
        assert_eq!(parse(&tampered).unwrap_err().code, CODE_CRC_MISMATCH);
        let broken = payload.replacen("5204", "5299", 1);
        assert_eq!(parse(&broken).unwrap_err().code, CODE_CRC_MISMATCH);
        let lowercase = format!(
            "{}{}",
            &payload[..payload.len() - 4],
            payload[payload.len() - 4..].to_lowercase()
        );
        assert_eq!(parse(&lowercase).unwrap_err().code, CODE_MALFORMED);
        for short in ["", "6304", "63041234", &payload[..payload.len() - 1]] {
            assert!(
                matches!(parse(short).unwrap_err().code, CODE_MALFORMED | CODE_CRC_MISMATCH),
                "{short}"
            );
        }
    }

    #[test]
    fn parse_refuses_structure_it_would_not_write() {
        let payload = fields().payload().unwrap();
        let body = &payload[..payload.len() - 8];
        let cases = [
            // Overrunning length of the last field.
            (body.replacen("6226", "6299", 1), "qr"),
            // A field cut short: no room left for a header.
            (format!("{body}99"), "qr"),
            // Tag 01 static instead of dynamic.
            (body.replacen("010212", "010211", 1), "qr"),
            // Tags swapped: city before name.
            (
                body.replacen("5916Kessai Demo Shop6005Tokyo", "6005Tokyo5916Kessai Demo Shop", 1),
                "merchant_name",
            ),
            // An unknown tag at the end.
            (format!("{body}8002xx"), "qr"),
            // Number of 7 digits inside a consistent template.
            (
                body.replacen("62260508482139070710", "6225050748213900710", 1),
                "number",
            ),
            // Unknown numeric currency.
            (body.replacen("5303392", "5303999", 1), "currency"),
            // Amount not in yen's form.
            (body.replacen("54041155", "54061155.0", 1), "amount"),
            // Non-printable character in the name, lengths kept.
            (body.replacen("Kessai Demo Shop", "Kessai\u{7f}Demo Shop", 1), "qr"),
        ];
        for (bad, param) in cases {
            let error = parse(&with_crc(&bad)).unwrap_err();
            assert_eq!((error.code, error.param.as_str()), (CODE_MALFORMED, param), "{bad}");
        }
        assert_eq!(parse(&with_crc(body)).unwrap(), fields());
    }
}
