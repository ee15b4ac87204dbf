//! Reading a payload back into its [`Fields`]: the CRC first, then the
//! structure, then each field's rules.

use super::*;

/// The fields of `payload`. Refuses, in this order: a payload whose last
/// field is not a CRC (`qr_malformed`), a CRC that does not match
/// (`qr_crc_mismatch`), then anything [`Fields::payload`] would not have
/// written: other characters, lengths that overrun, tags missing, unknown or
/// out of order, values breaking their rules (`qr_malformed`, `param` naming
/// the field where one is to blame).
pub fn parse(payload: &str) -> Result<Fields, FieldError> {
    let body = check_crc(payload)?;
    if !body.bytes().all(is_printable) {
        return Err(malformed(
            "qr",
            "The QR payload has characters other than printable ASCII.",
        ));
    }
    let mut fields = Tlvs::split(body, "qr")?;
    fields.require(TAG_FORMAT, "qr", Some(FORMAT_VERSION))?;
    fields.require(TAG_INITIATION, "qr", Some(INITIATION_DYNAMIC))?;
    let mut account = Tlvs::split(
        fields.require(TAG_MERCHANT_ACCOUNT, "merchant_id", None)?,
        "merchant_id",
    )?;
    let institution_id = account.require(SUB_INSTITUTION, "institution_id", None)?;
    let merchant_id = account.require(SUB_MERCHANT, "merchant_id", None)?;
    account.end("merchant_id")?;
    let mcc = fields.require(TAG_MCC, "mcc", None)?;
    let numeric = fields.require(TAG_CURRENCY, "currency", None)?;
    let currency =
        currency_alpha(numeric).ok_or_else(|| malformed("currency", "Tag 53 is no known ISO 4217 numeric code."))?;
    let amount = match fields.optional(TAG_AMOUNT) {
        Some(text) => Some(parse_amount_text(text, currency).ok_or_else(|| {
            malformed(
                "amount",
                "Tag 54 is not an amount written with the currency's minor digits.",
            )
        })?),
        None => None,
    };
    let country = fields.require(TAG_COUNTRY, "country", None)?;
    let merchant_name = fields.require(TAG_NAME, "merchant_name", None)?;
    let city = fields.require(TAG_CITY, "city", None)?;
    let mut additional = Tlvs::split(fields.require(TAG_ADDITIONAL, "number", None)?, "number")?;
    let number = additional.require(SUB_NUMBER, "number", None)?;
    let terminal_label = additional.require(SUB_LABEL, "terminal_label", None)?;
    additional.end("terminal_label")?;
    fields.end("qr")?;
    let read = Fields {
        institution_id: institution_id.to_owned(),
        merchant_id: merchant_id.to_owned(),
        mcc: mcc.to_owned(),
        currency: currency.to_owned(),
        amount,
        country: country.to_owned(),
        merchant_name: merchant_name.to_owned(),
        city: city.to_owned(),
        number: number.to_owned(),
        terminal_label: terminal_label.to_owned(),
    };
    // The same rules as writing: a reader accepts exactly what a writer may write.
    read.check().map_err(|error| malformed(&error.param, &error.message))?;
    Ok(read)
}

/// Everything before the CRC field, once the CRC matches.
fn check_crc(payload: &str) -> Result<&str, FieldError> {
    let bytes = payload.as_bytes();
    let Some(split) = bytes.len().checked_sub(CRC_HEADER.len() + 4) else {
        return Err(malformed("qr", "The QR payload is too short to end with its CRC."));
    };
    let crc_field = &bytes[split..];
    let (header, hex) = crc_field.split_at(CRC_HEADER.len());
    if header != CRC_HEADER.as_bytes() || !hex.iter().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b)) {
        return Err(malformed(
            "qr",
            "The QR payload does not end with its CRC (tag 63, 4 uppercase hex digits).",
        ));
    }
    let expected = hex.iter().fold(0u16, |crc, &b| (crc << 4) | u16::from(hex_value(b)));
    if crc16_ccitt_false(&bytes[..split + CRC_HEADER.len()]) != expected {
        return Err(FieldError::new(
            CODE_CRC_MISMATCH,
            "qr",
            "The QR payload's CRC does not match its characters: it was misread or altered.",
        ));
    }
    // `split` is at an ASCII byte of the CRC field, so on a character boundary.
    Ok(payload.get(..split).unwrap_or_default())
}

fn hex_value(byte: u8) -> u8 {
    match byte {
        b'0'..=b'9' => byte - b'0',
        _ => byte - b'A' + 10,
    }
}

fn malformed(param: &str, message: &str) -> FieldError {
    FieldError::new(CODE_MALFORMED, param, message)
}

/// A sequence of TLV fields, split up front so that an overrun length is
/// found before any value is used, then taken in the expected order.
struct Tlvs<'a> {
    list: Vec<(&'a str, &'a str)>,
    next: usize,
}

impl<'a> Tlvs<'a> {
    /// Splits `text` (printable ASCII, so byte offsets are character
    /// boundaries) into tag and value pairs.
    fn split(text: &'a str, param: &str) -> Result<Self, FieldError> {
        let mut list = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let header = rest.get(..4).filter(|h| h.bytes().all(|b| b.is_ascii_digit()));
            let Some(header) = header else {
                return Err(malformed(
                    param,
                    "A QR field does not start with a 2-digit tag and a 2-digit length.",
                ));
            };
            let (tag, length) = header.split_at(2);
            let length = length
                .bytes()
                .fold(0, |sum, digit| sum * 10 + usize::from(digit - b'0'));
            let Some(value) = rest.get(4..4 + length) else {
                return Err(malformed(
                    param,
                    "A QR field's length runs past the end of the payload.",
                ));
            };
            list.push((tag, value));
            rest = &rest[4 + length..];
        }
        Ok(Self { list, next: 0 })
    }

    /// The value of `tag`, which must come next; equal to `fixed` if given.
    fn require(&mut self, tag: &str, param: &str, fixed: Option<&str>) -> Result<&'a str, FieldError> {
        let Some(value) = self.optional(tag) else {
            return Err(malformed(
                param,
                &format!("The QR payload lacks tag {tag} where it belongs."),
            ));
        };
        match fixed {
            Some(fixed) if fixed != value => Err(malformed(param, &format!("Tag {tag} must be {fixed}."))),
            _ => Ok(value),
        }
    }

    /// The value of `tag` if it comes next.
    fn optional(&mut self, tag: &str) -> Option<&'a str> {
        let (found, value) = *self.list.get(self.next)?;
        (found == tag).then(|| {
            self.next += 1;
            value
        })
    }

    /// Checks that no field is left over.
    fn end(&self, param: &str) -> Result<(), FieldError> {
        match self.list.get(self.next) {
            Some((tag, _)) => Err(malformed(param, &format!("Tag {tag} is unknown or out of order here."))),
            None => Ok(()),
        }
    }
}
