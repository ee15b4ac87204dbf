//! What the terminal keeps across visits, in this origin's localStorage
//! (key `kessai-pos`): the currency, the articles and the language. The
//! terminal key is not in here: it lives in sessionStorage only, so that
//! closing the tab signs the terminal out.

use kessai_protocol::terminal::MenuItem;
use kessai_wallet::i18n::Lang;
use serde::{Deserialize, Serialize};

use crate::catalogue::default_articles;

/// The currencies the settings offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Currency {
    #[default]
    #[serde(rename = "JPY")]
    Jpy,
    #[serde(rename = "USD")]
    Usd,
    #[serde(rename = "EUR")]
    Eur,
}

impl Currency {
    pub const ALL: [Currency; 3] = [Currency::Jpy, Currency::Usd, Currency::Eur];

    /// The ISO 4217 code the wire carries.
    pub fn code(self) -> &'static str {
        match self {
            Currency::Jpy => "JPY",
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
        }
    }

    pub fn from_code(code: &str) -> Option<Currency> {
        Currency::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// The saved settings. Missing fields take their defaults, so an older
/// saved value still loads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub currency: Currency,
    /// Prices in minor units of `currency`.
    pub articles: Vec<MenuItem>,
    /// The language picked; None follows the browser.
    pub lang: Option<Lang>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            currency: Currency::default(),
            articles: default_articles(),
            lang: None,
        }
    }
}

impl Settings {
    /// The saved JSON, or the defaults when there is none or it is damaged
    /// (a broken entry must not stop the till).
    pub fn from_saved(text: Option<&str>) -> Settings {
        text.and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_or_missing_settings_load_as_defaults() {
        assert_eq!(Settings::from_saved(None), Settings::default());
        assert_eq!(Settings::from_saved(Some("{not json")), Settings::default());
        let partial = Settings::from_saved(Some(r#"{"currency":"USD"}"#));
        assert_eq!(partial.currency, Currency::Usd);
        assert_eq!(partial.articles, default_articles());
    }

    #[test]
    fn settings_round_trip() {
        let settings = Settings {
            currency: Currency::Eur,
            articles: vec![],
            lang: Some(Lang::Ja),
        };
        let text = serde_json::to_string(&settings).unwrap();
        assert!(text.contains(r#""currency":"EUR""#), "{text}");
        assert_eq!(Settings::from_saved(Some(&text)), settings);
    }
}
