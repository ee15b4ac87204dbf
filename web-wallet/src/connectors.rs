//! Connectors (B1, B5, B7): what the wallet keeps of each server wallet it
//! is logged in to.
//!
//! A [`Connector`] is one wallet user (`usr_…`) and the server wallets it
//! reaches: usually one address, but a connector may hold several (B7), each
//! logged in to with the same user id and each with its own session and
//! brand information. The selector reads every [`ServerLink`] of every
//! connector, so a connector with several addresses picks among them by their
//! brand information.
//!
//! Pure data and rules: no I/O, times are passed in as Unix seconds.

use kessai_protocol::wallet::BrandInfo;
use kessai_protocol::Secret;
use serde::{Deserialize, Serialize};

/// Most server wallet addresses one connector holds; a bound on what the
/// selector walks through at every payment.
pub const LINKS_PER_CONNECTOR_MAX: usize = 8;
/// Most connectors one wallet holds.
pub const CONNECTORS_MAX: usize = 16;
/// Longest server wallet address accepted.
pub const ADDRESS_LEN_MAX: usize = 200;

/// One wallet user and the server wallets it reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connector {
    /// Local name of the connector (`con_1`, …), stable while it exists.
    pub id: String,
    /// The wallet user (`usr_…`), the same at every address.
    pub user_id: String,
    /// The user's name as the first server wallet gave it.
    pub user_name: String,
    /// The server wallets, in the order they were added.
    pub links: Vec<ServerLink>,
}

/// One server wallet address of a connector, with its session and the
/// brand information last fetched from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerLink {
    /// Base URL without a trailing slash, e.g. `https://bank.example`.
    pub address: String,
    /// The session token (`wt_…`); None once the server said it expired (a
    /// 401) or the user logged out. Lives only in the wallet's storage.
    #[serde(default)]
    pub token: Option<Secret<String>>,
    /// When the token stops working, Unix seconds.
    #[serde(default)]
    pub expires_at: i64,
    /// The last brand information, kept across an expired session so the
    /// payment sheet can still name the account it cannot use.
    #[serde(default)]
    pub brand_info: Option<BrandInfo>,
    /// When `brand_info` was fetched, Unix seconds.
    #[serde(default)]
    pub fetched_at_s: i64,
}

impl ServerLink {
    /// A freshly logged-in address, brand information not fetched yet.
    pub fn new(address: String, token: Secret<String>, expires_at: i64) -> Self {
        Self {
            address,
            token: Some(token),
            expires_at,
            brand_info: None,
            fetched_at_s: 0,
        }
    }

    /// Whether calls with the token can be expected to work: there is one
    /// and its expiry has not passed.
    pub fn session_live(&self, now_s: i64) -> bool {
        self.token.is_some() && now_s < self.expires_at
    }

    /// Whether the brand information must be asked for again (B5, B6):
    /// never fetched, or older than the server's `refresh_after_s`.
    pub fn brand_info_stale(&self, now_s: i64) -> bool {
        match &self.brand_info {
            None => true,
            Some(info) => {
                let refresh_after_s = i64::try_from(info.refresh_after_s).unwrap_or(i64::MAX);
                now_s.saturating_sub(self.fetched_at_s) >= refresh_after_s
            }
        }
    }

    /// The institution's name, or the address before brand information
    /// arrived.
    pub fn institution_name(&self) -> &str {
        self.brand_info
            .as_ref()
            .map_or(self.address.as_str(), |info| info.name.as_str())
    }
}

impl Connector {
    /// The link at `address`, if this connector holds it.
    pub fn link(&self, address: &str) -> Option<&ServerLink> {
        self.links.iter().find(|link| link.address == address)
    }
}

/// Why an address typed by the user is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressProblem {
    Empty,
    NotHttp,
    Malformed,
}

/// The server wallet address as the wallet keeps it: trimmed, `http://` or
/// `https://`, a host, no query or fragment, no trailing slash. Addresses
/// are compared as strings, so one form for each is what makes "already
/// added" and the popup's checks reliable.
pub fn normalize_address(input: &str) -> Result<String, AddressProblem> {
    let address = input.trim().trim_end_matches('/');
    if address.is_empty() {
        return Err(AddressProblem::Empty);
    }
    let rest = address
        .strip_prefix("https://")
        .or_else(|| address.strip_prefix("http://"))
        .ok_or(AddressProblem::NotHttp)?;
    let host = rest.split('/').next().unwrap_or("");
    let well_formed = !host.is_empty()
        && address.len() <= ADDRESS_LEN_MAX
        && !address.contains(|c: char| c.is_whitespace() || c == '?' || c == '#' || c == '@' || c == '\\');
    if !well_formed {
        return Err(AddressProblem::Malformed);
    }
    Ok(address.to_string())
}

/// The connector and link holding `address`, searching every connector.
pub fn find_link<'a>(connectors: &'a [Connector], address: &str) -> Option<(&'a Connector, &'a ServerLink)> {
    connectors
        .iter()
        .find_map(|connector| connector.link(address).map(|link| (connector, link)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(refresh_after_s: u64) -> BrandInfo {
        BrandInfo {
            institution_id: "ins_sakura".into(),
            name: "Sakura Bank".into(),
            brands: vec!["sakura-debit".into()],
            currencies: vec!["JPY".into()],
            accounts: vec![],
            peers: vec![],
            refresh_after_s,
        }
    }

    #[test]
    fn addresses_are_kept_in_one_form() {
        assert_eq!(
            normalize_address("  https://bank.example/  ").as_deref(),
            Ok("https://bank.example")
        );
        assert_eq!(
            normalize_address("http://127.0.0.1:8080").as_deref(),
            Ok("http://127.0.0.1:8080")
        );
        assert_eq!(normalize_address("   "), Err(AddressProblem::Empty));
        assert_eq!(normalize_address("bank.example"), Err(AddressProblem::NotHttp));
        assert_eq!(normalize_address("ftp://bank.example"), Err(AddressProblem::NotHttp));
        assert_eq!(normalize_address("https:///bank"), Err(AddressProblem::Malformed));
        assert_eq!(
            normalize_address("https://bank.example/?x=1"),
            Err(AddressProblem::Malformed)
        );
        assert_eq!(
            normalize_address("https://user@bank.example"),
            Err(AddressProblem::Malformed)
        );
        assert_eq!(
            normalize_address("https://bank example"),
            Err(AddressProblem::Malformed)
        );
    }

    // B5, B6
    #[test]
    fn brand_info_is_stale_when_missing_or_older_than_refresh_after() {
        let mut link = ServerLink::new("https://bank.example".into(), Secret::new("wt_x".into()), 10_000);
        assert!(link.brand_info_stale(100));
        link.brand_info = Some(info(60));
        link.fetched_at_s = 100;
        assert!(!link.brand_info_stale(159));
        assert!(link.brand_info_stale(160));
    }

    #[test]
    fn a_session_is_live_until_it_expires_or_is_dropped() {
        let mut link = ServerLink::new("https://bank.example".into(), Secret::new("wt_x".into()), 1_000);
        assert!(link.session_live(999));
        assert!(!link.session_live(1_000));
        link.token = None;
        assert!(!link.session_live(0));
    }

    #[test]
    fn tokens_never_show_in_debug_output() {
        let link = ServerLink::new("https://bank.example".into(), Secret::new("wt_secret".into()), 1);
        assert!(!format!("{link:?}").contains("wt_secret"));
    }
}
