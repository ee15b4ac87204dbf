//! What a transaction's QR code says (PROTOCOL 13, EMVCo merchant-presented
//! mode): the institution, the merchant and its QR profile, the amount
//! once known, the number and the terminal's label. Made on every read
//! from the row, so nothing stored can disagree with it.

use crate::args;
use crate::error::{Error, Result};
use crate::store::Reader;

/// The merchant's fields of the QR code (EMV tags 52, 58, 59, 60).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrProfile {
    pub name: String,
    pub city: String,
    pub country: String,
    pub mcc: String,
}

/// Section 13's defaults.
const DEFAULT_CITY: &str = "Tokyo";
const DEFAULT_COUNTRY: &str = "JP";
const DEFAULT_MCC: &str = "5999";
const DEFAULT_NAME: &str = "Kessai merchant";
/// EMV's longest merchant name.
const NAME_LEN_MAX: usize = 25;

/// The merchant's name if it fits a QR code as it is, else the default.
pub fn default_name(name: &str) -> String {
    if printable(name, NAME_LEN_MAX) {
        name.to_string()
    } else {
        DEFAULT_NAME.to_string()
    }
}

fn printable(text: &str, max: usize) -> bool {
    !text.is_empty() && text.len() <= max && text.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// Checks `kessai merchant create --qr-name --city --country --mcc`.
pub fn check_profile(
    name: Option<&str>,
    city: Option<&str>,
    country: Option<&str>,
    mcc: Option<&str>,
) -> std::result::Result<(), String> {
    if name.is_some_and(|n| !printable(n, NAME_LEN_MAX)) {
        return Err("--qr-name must be 1 to 25 printable ASCII characters".into());
    }
    if city.is_some_and(|c| !printable(c, kessai_protocol::emv::CITY_LEN_MAX)) {
        return Err("--city must be 1 to 15 printable ASCII characters".into());
    }
    if country.is_some_and(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase())) {
        return Err("--country must be an ISO 3166 code of two capital letters, such as JP".into());
    }
    if mcc.is_some_and(|m| m.len() != 4 || !m.bytes().all(|b| b.is_ascii_digit())) {
        return Err("--mcc must be a merchant category code of 4 digits, such as 5999".into());
    }
    Ok(())
}

/// The merchant's QR profile, with defaults for what it did not set.
pub async fn profile(pool: &Reader, merchant_id: &str) -> Result<QrProfile> {
    let row = crate::store::pool_optional(
        pool,
        "SELECT name, qr_name, qr_city, qr_country, qr_mcc FROM merchants WHERE id = $1",
        args![merchant_id],
    )
    .await?
    .ok_or_else(|| Error::not_found("merchant_not_found", "No such merchant."))?;
    let name: String = row.try_get("name")?;
    let or = |column: &str, default: &str| -> Result<String> {
        let value: Option<String> = row.try_get(column)?;
        Ok(value.unwrap_or_else(|| default.to_string()))
    };
    Ok(QrProfile {
        name: or("qr_name", &default_name(&name))?,
        city: or("qr_city", DEFAULT_CITY)?,
        country: or("qr_country", DEFAULT_COUNTRY)?,
        mcc: or("qr_mcc", DEFAULT_MCC)?,
    })
}

/// The payload of a transaction's QR code.
pub struct Payload<'a> {
    pub institution_id: &'a str,
    pub merchant_id: &'a str,
    pub profile: &'a QrProfile,
    pub currency: &'a str,
    pub amount: Option<u64>,
    pub number: &'a str,
    pub label: &'a str,
}

impl Payload<'_> {
    /// The EMV string.
    pub fn text(&self) -> Result<String> {
        let fields = kessai_protocol::emv::Fields {
            institution_id: self.institution_id.to_string(),
            merchant_id: self.merchant_id.to_string(),
            mcc: self.profile.mcc.clone(),
            currency: self.currency.to_string(),
            amount: self.amount,
            country: self.profile.country.clone(),
            merchant_name: self.profile.name.clone(),
            city: self.profile.city.clone(),
            number: self.number.to_string(),
            terminal_label: self.label.to_string(),
        };
        // Every value was checked when stored; a failure here is ours.
        fields
            .payload()
            .map_err(|e| Error::internal(format!("QR payload of {}: {e}", self.number)))
    }
}

/// What `kessai merchant create` may say of the QR code.
#[derive(Debug, Clone, Default)]
pub struct QrSettings {
    pub name: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub mcc: Option<String>,
}

impl QrSettings {
    pub fn check(&self) -> std::result::Result<(), String> {
        check_profile(
            self.name.as_deref(),
            self.city.as_deref(),
            self.country.as_deref(),
            self.mcc.as_deref(),
        )
    }
}

/// Stores the merchant's QR settings (unset ones keep the defaults).
pub async fn set_profile(
    conn: &mut crate::store::Conn,
    merchant_id: &str,
    settings: &QrSettings,
) -> anyhow::Result<()> {
    settings.check().map_err(anyhow::Error::msg)?;
    conn.execute(
        "UPDATE merchants SET qr_name = $2, qr_city = $3, qr_country = $4, qr_mcc = $5 WHERE id = $1",
        args![
            merchant_id,
            &settings.name,
            &settings.city,
            &settings.country,
            &settings.mcc
        ],
    )
    .await?;
    Ok(())
}
