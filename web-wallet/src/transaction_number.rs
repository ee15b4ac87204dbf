//! The transaction number the payer types or scans (PROTOCOL section 13):
//! eight digits, as the billing terminal shows them, or inside its EMVCo
//! QR code (tag 62, sub-tag 05).
//!
//! Pure: tested natively.

use kessai_protocol::terminal::NUMBER_DIGITS;

/// Why a typed number is refused before anything is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberProblem {
    Empty,
    /// Not eight digits once spaces and hyphens are taken out.
    NotEightDigits,
}

/// The number as the server wants it: eight ASCII digits. Terminals show
/// it in groups ("4821 3907"), so spaces and hyphens are dropped; full-width
/// digits (a Japanese keyboard's) count as the digits they are.
pub fn normalize(input: &str) -> Result<String, NumberProblem> {
    let mut digits = String::with_capacity(NUMBER_DIGITS);
    for c in input.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '０'..='９' => digits.extend(char::from_digit(u32::from(c) - u32::from('０'), 10)),
            ' ' | '\u{3000}' | '-' | '\t' => {}
            _ => return Err(NumberProblem::NotEightDigits),
        }
    }
    if digits.is_empty() {
        return Err(NumberProblem::Empty);
    }
    if digits.len() != NUMBER_DIGITS {
        return Err(NumberProblem::NotEightDigits);
    }
    Ok(digits)
}

/// A number to look up, typed or scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub number: String,
    /// The billing institution (tag 26, sub-tag 00) when the number came
    /// in an EMV payload: the connector to ask first.
    pub institution_id: Option<String>,
}

impl Lookup {
    /// A typed number: which institution it belongs to is not known.
    pub fn typed(input: &str) -> Result<Lookup, NumberProblem> {
        Ok(Lookup {
            number: normalize(input)?,
            institution_id: None,
        })
    }
}

/// The number in a QR code's text: a Kessai EMV payload whose CRC checks,
/// or the eight digits alone. None for anything else (another scheme's QR
/// code, a damaged payload): a digit is never trusted before its CRC.
pub fn from_qr(text: &str) -> Option<Lookup> {
    let text = text.trim();
    if let Ok(number) = normalize(text) {
        return Some(Lookup {
            number,
            institution_id: None,
        });
    }
    // The one parser the server and the tests use: CRC first, then fields.
    let fields = kessai_protocol::emv::parse(text).ok()?;
    Some(Lookup {
        number: normalize(&fields.number).ok()?,
        institution_id: Some(fields.institution_id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `protocol/tests/vectors/emv_qr.json`, case `jpy_amount`.
    const JPY: &str = "00020101021226680030ins_qk7xv2mbl4hd6ncpw3jrte5fsa0130mch_5xq2b7n4c3dze6f3gwhaj2k4m6520459995303392540411555802JP5916Kessai Demo Shop6005Tokyo62260508482139070710REGISTER-1630442D4";
    /// Case `usd_cents`.
    const USD: &str = "00020101021226680030ins_qk7xv2mbl4hd6ncpw3jrte5fsa0130mch_5xq2b7n4c3dze6f3gwhaj2k4m6520458125303840540510.505802US5911Corner Cafe6008Portland62180508007315620702T263048F64";

    #[test]
    fn typed_numbers_lose_their_grouping() {
        assert_eq!(normalize("4821 3907").as_deref(), Ok("48213907"));
        assert_eq!(normalize(" 4821-3907 ").as_deref(), Ok("48213907"));
        assert_eq!(normalize("００７３１５６２").as_deref(), Ok("00731562"));
        assert_eq!(normalize("00731562").as_deref(), Ok("00731562"));
        assert_eq!(normalize("  "), Err(NumberProblem::Empty));
        assert_eq!(normalize("4821390"), Err(NumberProblem::NotEightDigits));
        assert_eq!(normalize("482139071"), Err(NumberProblem::NotEightDigits));
        assert_eq!(normalize("4821a907"), Err(NumberProblem::NotEightDigits));
    }

    #[test]
    fn an_emv_payload_gives_its_number_and_institution() {
        let scanned = from_qr(JPY).unwrap();
        assert_eq!(scanned.number, "48213907");
        assert_eq!(
            scanned.institution_id.as_deref(),
            Some("ins_qk7xv2mbl4hd6ncpw3jrte5fsa")
        );
        assert_eq!(from_qr(USD).unwrap().number, "00731562", "leading zeros kept");
    }

    #[test]
    fn plain_digits_are_a_number_too() {
        assert_eq!(
            from_qr("48213907\n"),
            Some(Lookup {
                number: "48213907".into(),
                institution_id: None
            })
        );
    }

    #[test]
    fn a_damaged_or_foreign_code_gives_nothing() {
        let altered = JPY.replace("48213907", "48213908");
        assert_eq!(from_qr(&altered), None, "the CRC no longer checks");
        assert_eq!(from_qr("https://example.com/pay?n=48213907"), None);
        assert_eq!(from_qr(&JPY[..JPY.len() - 10]), None);
        assert_eq!(from_qr(""), None);
    }
}
