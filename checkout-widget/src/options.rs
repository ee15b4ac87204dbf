//! The page's options (PROTOCOL section 10), parsed into [`Options`].
//!
//! The shop gives them as attributes of `<kessai-checkout>` or as the object
//! passed to `Kessai.mount`; either way they arrive here as optional strings
//! ([`RawOptions`]). Parsing is pure so that every rule is unit-tested
//! natively, and every failure names the option it is about, so that the
//! shop's developer sees at once which attribute to fix.

pub use crate::wire::Target;
use kessai_protocol::Order;

use crate::i18n::Lang;
use crate::wire::{self, Json};

/// Most characters of any option but `order` (ids, secrets, URLs).
const TEXT_CHARS_MAX: usize = 2048;
/// Most bytes of the `order` JSON: 500 items of 2 × 200 characters fit.
const ORDER_BYTES_MAX: usize = 1 << 20;

/// The options a page can give, by their attribute name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opt {
    Server,
    SettlementId,
    ClientSecret,
    MerchantId,
    Order,
    ReturnUrl,
    Lang,
    WalletUrl,
}

impl Opt {
    /// Every option, in the order the page's developer reads them.
    pub const ALL: [Opt; 8] = [
        Opt::Server,
        Opt::SettlementId,
        Opt::ClientSecret,
        Opt::MerchantId,
        Opt::Order,
        Opt::ReturnUrl,
        Opt::Lang,
        Opt::WalletUrl,
    ];

    /// The attribute name, e.g. `settlement-id`.
    pub fn attribute(self) -> &'static str {
        match self {
            Opt::Server => "server",
            Opt::SettlementId => "settlement-id",
            Opt::ClientSecret => "client-secret",
            Opt::MerchantId => "merchant-id",
            Opt::Order => "order",
            Opt::ReturnUrl => "return-url",
            Opt::Lang => "lang",
            Opt::WalletUrl => "wallet-url",
        }
    }

    /// The property name of `Kessai.mount` options, e.g. `settlementId`.
    pub fn property(self) -> &'static str {
        match self {
            Opt::Server => "server",
            Opt::SettlementId => "settlementId",
            Opt::ClientSecret => "clientSecret",
            Opt::MerchantId => "merchantId",
            Opt::Order => "order",
            Opt::ReturnUrl => "returnUrl",
            Opt::Lang => "lang",
            Opt::WalletUrl => "walletUrl",
        }
    }

    /// Both names for messages: `settlement-id (settlementId)`.
    pub fn names(self) -> String {
        if self.attribute() == self.property() {
            self.attribute().to_owned()
        } else {
            format!("{} ({})", self.attribute(), self.property())
        }
    }
}

/// An option the widget cannot work with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionError {
    /// The option at fault.
    pub option: Opt,
    /// One English sentence for the shop's developer, naming the option.
    pub message: String,
}

impl OptionError {
    fn new(option: Opt, rule: impl AsRef<str>) -> Self {
        Self {
            option,
            message: format!("Kessai checkout: the option {} {}", option.names(), rule.as_ref()),
        }
    }

    /// The page gave something other than text (or, for `order`, an object).
    pub fn not_text(option: Opt) -> Self {
        Self::new(option, "must be a string.")
    }

    fn missing(option: Opt) -> Self {
        Self::new(option, "is missing.")
    }
}

/// The options as the page gave them; `None` when absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawOptions {
    pub server: Option<String>,
    pub settlement_id: Option<String>,
    pub client_secret: Option<String>,
    pub merchant_id: Option<String>,
    /// The order as JSON text (the loader stringifies an object).
    pub order: Option<String>,
    pub return_url: Option<String>,
    pub lang: Option<String>,
    pub wallet_url: Option<String>,
}

impl RawOptions {
    /// Sets one option's value.
    pub fn set(&mut self, option: Opt, value: Option<String>) {
        let slot = match option {
            Opt::Server => &mut self.server,
            Opt::SettlementId => &mut self.settlement_id,
            Opt::ClientSecret => &mut self.client_secret,
            Opt::MerchantId => &mut self.merchant_id,
            Opt::Order => &mut self.order,
            Opt::ReturnUrl => &mut self.return_url,
            Opt::Lang => &mut self.lang,
            Opt::WalletUrl => &mut self.wallet_url,
        };
        *slot = value;
    }
}

/// Valid options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The settling server's origin and path prefix, without a trailing `/`.
    pub server: String,
    pub target: Target,
    /// A valid order (PROTOCOL section 3).
    pub order: Order,
    pub return_url: Option<String>,
    /// The language asked for, if it is one the widget speaks.
    pub lang: Option<Lang>,
    /// The web wallet's page (PROTOCOL section 12), opened in a window by
    /// the "Pay with web wallet" button.
    pub wallet_url: Option<String>,
}

/// Parses and checks every option; the first failure is returned, in the
/// order server, target (settlement-id, client-secret, merchant-id), order,
/// return-url, wallet-url. An unsupported `lang` is not an error: the widget falls back
/// to the page's language. `parse_json` is `JSON.parse` (its error message
/// on failure).
pub fn parse(raw: &RawOptions, parse_json: impl Fn(&str) -> Result<Json, String>) -> Result<Options, OptionError> {
    let server = parse_url(Opt::Server, present(Opt::Server, raw.server.as_deref())?)?;
    let target = parse_target(raw)?;
    let order = parse_order(present(Opt::Order, raw.order.as_deref())?, parse_json)?;
    let return_url = match given(raw.return_url.as_deref()) {
        Some(url) => Some(parse_url(Opt::ReturnUrl, url)?),
        None => None,
    };
    let lang = given(raw.lang.as_deref()).and_then(Lang::from_tag);
    let wallet_url = match given(raw.wallet_url.as_deref()) {
        Some(url) => Some(parse_url(Opt::WalletUrl, url)?),
        None => None,
    };
    Ok(Options {
        server,
        target,
        order,
        return_url,
        lang,
        wallet_url,
    })
}

/// A non-blank value, trimmed.
fn given(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

fn present(option: Opt, value: Option<&str>) -> Result<&str, OptionError> {
    given(value).ok_or_else(|| OptionError::missing(option))
}

/// An absolute http(s) URL; trailing slashes are dropped.
fn parse_url(option: Opt, url: &str) -> Result<String, OptionError> {
    if url.chars().count() > TEXT_CHARS_MAX {
        return Err(OptionError::new(
            option,
            format!("is longer than {TEXT_CHARS_MAX} characters."),
        ));
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| OptionError::new(option, "must be an absolute URL starting with https:// or http://."))?;
    let host_ok = rest.split(['/', '?', '#']).next().is_some_and(|host| !host.is_empty());
    if !host_ok || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(OptionError::new(
            option,
            "is not a valid URL (it needs a host name and no spaces).",
        ));
    }
    Ok(match option {
        Opt::Server => url.trim_end_matches('/').to_owned(),
        _ => url.to_owned(),
    })
}

/// Either settlement-id with client-secret, or merchant-id alone.
fn parse_target(raw: &RawOptions) -> Result<Target, OptionError> {
    let settlement_id = given(raw.settlement_id.as_deref());
    let client_secret = given(raw.client_secret.as_deref());
    let merchant_id = given(raw.merchant_id.as_deref());
    match (settlement_id, client_secret, merchant_id) {
        (Some(_), _, Some(_)) => Err(OptionError::new(
            Opt::MerchantId,
            "cannot be given together with settlement-id: give settlement-id and client-secret, or merchant-id alone (payer-first).",
        )),
        (None, None, Some(merchant_id)) => Ok(Target::PayerFirst {
            merchant_id: parse_id(Opt::MerchantId, merchant_id, "mch_")?.to_owned(),
        }),
        (None, Some(_), Some(_)) => Err(OptionError::new(
            Opt::ClientSecret,
            "is not used with merchant-id (payer-first); give settlement-id and client-secret, or merchant-id alone.",
        )),
        (Some(id), Some(secret), None) => {
            let id = parse_id(Opt::SettlementId, id, "stl_")?;
            parse_id(Opt::ClientSecret, secret, "stl_")?;
            if !secret.starts_with(&format!("{id}_secret_")) {
                return Err(OptionError::new(
                    Opt::ClientSecret,
                    "does not belong to settlement-id (a client secret looks like \"<settlement-id>_secret_…\").",
                ));
            }
            Ok(Target::Settlement {
                id: id.to_owned(),
                client_secret: secret.to_owned(),
            })
        }
        (Some(_), None, None) => Err(OptionError::new(
            Opt::ClientSecret,
            "is missing: the shop hands it to the page together with settlement-id.",
        )),
        (None, Some(_), None) => Err(OptionError::new(
            Opt::SettlementId,
            "is missing: the shop hands it to the page together with client-secret.",
        )),
        (None, None, None) => Err(OptionError::new(
            Opt::SettlementId,
            "is missing: give settlement-id and client-secret, or merchant-id (payer-first).",
        )),
    }
}

/// A prefixed identifier or secret. Only ASCII letters, digits, `_` and `-`
/// are allowed, so that it can go into a URL path or query as it is.
fn parse_id<'a>(option: Opt, value: &'a str, prefix: &str) -> Result<&'a str, OptionError> {
    let alphabet_ok = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if value.len() > TEXT_CHARS_MAX || !alphabet_ok || !value.starts_with(prefix) || value.len() == prefix.len() {
        return Err(OptionError::new(
            option,
            format!("must look like \"{prefix}…\" (letters, digits, '_' and '-')."),
        ));
    }
    Ok(value)
}

/// The order JSON of PROTOCOL section 3, checked by its rules.
fn parse_order(json: &str, parse_json: impl Fn(&str) -> Result<Json, String>) -> Result<Order, OptionError> {
    if json.len() > ORDER_BYTES_MAX {
        return Err(OptionError::new(
            Opt::Order,
            format!("is larger than {ORDER_BYTES_MAX} bytes."),
        ));
    }
    let order = parse_json(json)
        .and_then(|value| wire::order(&value))
        .map_err(|error| OptionError::new(Opt::Order, format!("is not a valid order object: {error}.")))?;
    order
        .validate("order")
        .map_err(|error| OptionError::new(Opt::Order, format!("is not a valid order: {}", error.message)))?;
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::tests::parse as json;

    fn parse(raw: &RawOptions) -> Result<Options, OptionError> {
        super::parse(raw, json)
    }

    const ORDER: &str = r#"{"order_id":"1234567890","currency":"JPY",
        "items":[{"code":"XXXX","name":"Peanut butter","unit_price":500,"quantity":1},
                 {"code":"YYYY","name":"Grape jelly","unit_price":600,"quantity":1}],
        "tax":55,"total":1155}"#;

    fn raw() -> RawOptions {
        RawOptions {
            server: Some("http://127.0.0.1:8080/".into()),
            settlement_id: Some("stl_abc".into()),
            client_secret: Some("stl_abc_secret_xyz".into()),
            merchant_id: None,
            order: Some(ORDER.into()),
            return_url: Some("https://shop.example/done".into()),
            lang: Some("ja-JP".into()),
            wallet_url: None,
        }
    }

    fn error_of(raw: &RawOptions) -> OptionError {
        parse(raw).unwrap_err()
    }

    #[test]
    fn full_options_parse() {
        let options = parse(&raw()).unwrap();
        assert_eq!(options.server, "http://127.0.0.1:8080");
        assert_eq!(
            options.target,
            Target::Settlement {
                id: "stl_abc".into(),
                client_secret: "stl_abc_secret_xyz".into()
            }
        );
        assert_eq!(options.order.total, 1155);
        assert_eq!(options.return_url.as_deref(), Some("https://shop.example/done"));
        assert_eq!(options.lang, Some(Lang::Ja));
    }

    #[test]
    fn payer_first_takes_merchant_id_alone() {
        let mut raw = raw();
        raw.settlement_id = None;
        raw.client_secret = None;
        raw.merchant_id = Some(" mch_1 ".into());
        let options = parse(&raw).unwrap();
        assert_eq!(
            options.target,
            Target::PayerFirst {
                merchant_id: "mch_1".into()
            }
        );
    }

    #[test]
    fn missing_server_is_named() {
        let mut raw = raw();
        raw.server = Some("  ".into());
        let error = error_of(&raw);
        assert_eq!(error.option, Opt::Server);
        assert_eq!(error.message, "Kessai checkout: the option server is missing.");
    }

    #[test]
    fn relative_or_odd_server_is_refused() {
        for bad in ["/api", "ftp://x", "http://", "https:// x", "127.0.0.1:8080"] {
            let mut raw = raw();
            raw.server = Some(bad.into());
            assert_eq!(error_of(&raw).option, Opt::Server, "{bad}");
        }
    }

    #[test]
    fn target_combinations_name_the_option_to_fix() {
        let cases = [
            (None, None, None, Opt::SettlementId),
            (Some("stl_a"), None, None, Opt::ClientSecret),
            (None, Some("stl_a_secret_b"), None, Opt::SettlementId),
            (Some("stl_a"), Some("stl_a_secret_b"), Some("mch_1"), Opt::MerchantId),
            (None, Some("stl_a_secret_b"), Some("mch_1"), Opt::ClientSecret),
            (Some("stl_a"), Some("stl_b_secret_b"), None, Opt::ClientSecret),
            (Some("abc"), Some("abc_secret_b"), None, Opt::SettlementId),
            (Some("stl_a/../x"), Some("stl_a_secret_b"), None, Opt::SettlementId),
            (None, None, Some("stl_1"), Opt::MerchantId),
        ];
        for (id, secret, merchant, expected) in cases {
            let raw = RawOptions {
                settlement_id: id.map(Into::into),
                client_secret: secret.map(Into::into),
                merchant_id: merchant.map(Into::into),
                ..raw()
            };
            let error = error_of(&raw);
            assert_eq!(error.option, expected, "{id:?} {secret:?} {merchant:?}");
            assert!(error.message.contains(expected.attribute()), "{}", error.message);
        }
    }

    #[test]
    fn property_names_appear_in_messages() {
        let mut raw = raw();
        raw.client_secret = None;
        let error = error_of(&raw);
        assert!(
            error.message.contains("client-secret (clientSecret)"),
            "{}",
            error.message
        );
    }

    #[test]
    fn order_must_be_json_of_a_valid_order() {
        let mut raw = raw();
        raw.order = None;
        assert_eq!(error_of(&raw).message, "Kessai checkout: the option order is missing.");
        raw.order = Some("{not json".into());
        let error = error_of(&raw);
        assert_eq!(error.option, Opt::Order);
        assert!(
            error.message.contains("is not a valid order object"),
            "{}",
            error.message
        );
        raw.order = Some(ORDER.replace("1155", "1156"));
        let error = error_of(&raw);
        assert!(error.message.contains("order.total is 1156"), "{}", error.message);
        raw.order = Some(ORDER.replace("\"tax\"", "\"extra\":1,\"tax\""));
        assert!(error_of(&raw).message.contains("unknown field"));
    }

    #[test]
    fn return_url_is_optional_but_checked() {
        let mut raw = raw();
        raw.return_url = Some("".into());
        assert_eq!(parse(&raw).unwrap().return_url, None);
        raw.return_url = Some("javascript:alert(1)".into());
        assert_eq!(error_of(&raw).option, Opt::ReturnUrl);
    }

    #[test]
    fn wallet_url_is_optional_but_checked() {
        let mut raw = raw();
        assert_eq!(parse(&raw).unwrap().wallet_url, None);
        raw.wallet_url = Some(" https://pay.example/wallet/ ".into());
        assert_eq!(
            parse(&raw).unwrap().wallet_url.as_deref(),
            Some("https://pay.example/wallet/")
        );
        for bad in ["javascript:alert(1)", "/wallet/", "data:text/html,x"] {
            raw.wallet_url = Some(bad.into());
            let error = error_of(&raw);
            assert_eq!(error.option, Opt::WalletUrl, "{bad}");
            assert!(error.message.contains("wallet-url (walletUrl)"), "{}", error.message);
        }
    }

    #[test]
    fn unsupported_lang_falls_back() {
        let mut raw = raw();
        raw.lang = Some("fr".into());
        assert_eq!(parse(&raw).unwrap().lang, None);
        raw.lang = Some("EN-us".into());
        assert_eq!(parse(&raw).unwrap().lang, Some(Lang::En));
    }

    #[test]
    fn debug_hides_the_client_secret() {
        let debug = format!("{:?}", parse(&raw()).unwrap());
        assert!(!debug.contains("secret_xyz"), "{debug}");
    }
}
