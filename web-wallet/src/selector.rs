//! The selector (B2, B3, B4): which accounts can pay a start message, and
//! which one the payment sheet proposes first. It never pays on its own:
//! every payment takes the user's click (DESIGN.md, "The web wallet").
//!
//! Every account of every server wallet the connectors hold becomes a
//! [`Choice`], usable or not with the first [`Unusable`] reason found, so
//! the payment sheet can list them all and never show a dead button. The
//! rules read only the brand information the connectors hold; the caller
//! refreshes stale information first (B6).

use kessai_protocol::wallet::{BrandInfo, StartMessage, WalletAccount};
use serde::{Deserialize, Serialize};

use crate::connectors::{Connector, ServerLink};

/// One account, named across all connectors by its server wallet's address
/// and its id there.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccountRef {
    pub address: String,
    pub account_id: String,
}

/// Which account the payment sheet proposes when a shop asks for payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// B2: propose the account chosen in advance ("Make default").
    Default,
    /// B3: propose none; every account is listed alike.
    #[default]
    Ask,
    /// B4: propose the first account that can pay.
    Automatic,
}

/// Why an account cannot pay this start message, in the order checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// The shop does not accept the account's brand.
    BrandNotAccepted,
    /// The account holds another currency than the order's.
    OtherCurrency,
    /// The account's institution is neither the settling institution nor
    /// one of its peers.
    InstitutionUnreachable,
    /// The available amount is below the order's total.
    NotEnough,
    /// The session at this server wallet ended: log in again.
    SessionExpired,
}

/// One account as the payment sheet shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub account: AccountRef,
    pub connector_id: String,
    /// The connector's user, for logging in again.
    pub user_id: String,
    pub institution_name: String,
    pub brand: String,
    pub currency: String,
    pub available: u64,
    pub verdict: Result<(), Unusable>,
}

impl Choice {
    pub fn usable(&self) -> bool {
        self.verdict.is_ok()
    }
}

/// Every account of every connector, in connector, address and account
/// order, each with its verdict for `start`.
pub fn choices(connectors: &[Connector], start: &StartMessage, now_s: i64) -> Vec<Choice> {
    let mut out = Vec::new();
    for connector in connectors {
        for link in &connector.links {
            let Some(info) = &link.brand_info else { continue };
            for account in &info.accounts {
                out.push(Choice {
                    account: AccountRef {
                        address: link.address.clone(),
                        account_id: account.account_id.clone(),
                    },
                    connector_id: connector.id.clone(),
                    user_id: connector.user_id.clone(),
                    institution_name: info.name.clone(),
                    brand: account.brand.clone(),
                    currency: account.currency.clone(),
                    available: account.available,
                    verdict: verdict(link, info, account, start, now_s),
                });
            }
        }
    }
    out
}

/// Whether `account` at `link` can pay `start`, or the first reason not.
/// The session comes last: logging in again is worth asking for only when
/// the account could pay once logged in.
pub fn verdict(
    link: &ServerLink,
    info: &BrandInfo,
    account: &WalletAccount,
    start: &StartMessage,
    now_s: i64,
) -> Result<(), Unusable> {
    // An empty `brands` list means the shop accepts any brand.
    if !start.brands.is_empty() && !start.brands.contains(&account.brand) {
        return Err(Unusable::BrandNotAccepted);
    }
    if account.currency != start.order.currency {
        return Err(Unusable::OtherCurrency);
    }
    if info.institution_id != start.institution_id && !info.peers.contains(&start.institution_id) {
        return Err(Unusable::InstitutionUnreachable);
    }
    if account.available < start.order.total {
        return Err(Unusable::NotEnough);
    }
    if !link.session_live(now_s) {
        return Err(Unusable::SessionExpired);
    }
    Ok(())
}

/// A server wallet whose session ended, to log in to again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredLink {
    pub address: String,
    pub user_id: String,
    pub institution_name: String,
}

/// Every address whose session is not live, whether or not its brand
/// information ever arrived: the sheet offers a login for each, so an
/// ended session is never a silent gap in the list.
pub fn expired_links(connectors: &[Connector], now_s: i64) -> Vec<ExpiredLink> {
    connectors
        .iter()
        .flat_map(|c| c.links.iter().map(move |link| (c, link)))
        .filter(|(_, link)| !link.session_live(now_s))
        .map(|(connector, link)| ExpiredLink {
            address: link.address.clone(),
            user_id: connector.user_id.clone(),
            institution_name: link.institution_name().to_string(),
        })
        .collect()
}

/// The account the sheet shows first and focused: "default" proposes a
/// usable default account, "automatic" the first usable account (B4),
/// "ask" none. Only a proposal: paying still takes the user's click.
pub fn propose(mode: Mode, default: Option<&AccountRef>, choices: &[Choice]) -> Option<AccountRef> {
    let pick = match mode {
        Mode::Ask => None,
        Mode::Default => default.and_then(|wanted| choices.iter().find(|c| &c.account == wanted && c.usable())),
        Mode::Automatic => choices.iter().find(|c| c.usable()),
    };
    pick.map(|choice| choice.account.clone())
}

#[cfg(test)]
mod tests {
    use kessai_protocol::wallet::{StartMerchant, START_TYPE};
    use kessai_protocol::{Order, Secret};

    use super::*;

    const NOW: i64 = 1_000;

    fn start(brands: &[&str]) -> StartMessage {
        StartMessage {
            kind: START_TYPE.into(),
            version: 1,
            server: "https://pay.example".into(),
            institution_id: "ins_sakura".into(),
            settlement_id: "stl_1".into(),
            client_secret: Secret::new("stl_1_secret_x".into()),
            order: Order::example(),
            brands: brands.iter().map(|b| b.to_string()).collect(),
            merchant: StartMerchant {
                id: "mch_1".into(),
                name: "Corner shop".into(),
                origin: "https://shop.example".into(),
            },
        }
    }

    fn account(id: &str, brand: &str, currency: &str, available: u64) -> WalletAccount {
        WalletAccount {
            account_id: id.into(),
            brand: brand.into(),
            currency: currency.into(),
            available,
        }
    }

    fn link(address: &str, institution: &str, peers: &[&str], accounts: Vec<WalletAccount>) -> ServerLink {
        let mut link = ServerLink::new(address.into(), Secret::new("wt_t".into()), NOW + 3_600);
        link.brand_info = Some(BrandInfo {
            institution_id: institution.into(),
            name: format!("{institution} bank"),
            brands: vec![],
            currencies: vec![],
            accounts,
            peers: peers.iter().map(|p| p.to_string()).collect(),
            refresh_after_s: 300,
        });
        link.fetched_at_s = NOW;
        link
    }

    fn wallet(links: Vec<ServerLink>) -> Vec<Connector> {
        vec![Connector {
            id: "con_1".into(),
            user_id: "usr_1".into(),
            user_name: "Hanako".into(),
            links,
        }]
    }

    fn verdicts(connectors: &[Connector], start: &StartMessage) -> Vec<(String, Result<(), Unusable>)> {
        choices(connectors, start, NOW)
            .into_iter()
            .map(|c| (c.account.account_id, c.verdict))
            .collect()
    }

    #[test]
    fn every_reason_is_found() {
        let sakura = link(
            "https://sakura.example",
            "ins_sakura",
            &[],
            vec![
                account("acc_ok", "sakura-debit", "JPY", 5_000),
                account("acc_brand", "other-brand", "JPY", 5_000),
                account("acc_usd", "sakura-debit", "USD", 5_000),
                account("acc_poor", "sakura-debit", "JPY", 1_154),
            ],
        );
        let far = link(
            "https://far.example",
            "ins_far",
            &[],
            vec![account("acc_far", "sakura-debit", "JPY", 9_999)],
        );
        let mut expired = link(
            "https://old.example",
            "ins_sakura",
            &[],
            vec![account("acc_old", "sakura-debit", "JPY", 9_999)],
        );
        expired.token = None;
        let found = verdicts(&wallet(vec![sakura, far, expired]), &start(&["sakura-debit"]));
        assert_eq!(
            found,
            vec![
                ("acc_ok".to_string(), Ok(())),
                ("acc_brand".to_string(), Err(Unusable::BrandNotAccepted)),
                ("acc_usd".to_string(), Err(Unusable::OtherCurrency)),
                ("acc_poor".to_string(), Err(Unusable::NotEnough)),
                ("acc_far".to_string(), Err(Unusable::InstitutionUnreachable)),
                ("acc_old".to_string(), Err(Unusable::SessionExpired)),
            ]
        );
    }

    #[test]
    fn an_expired_token_counts_as_an_expired_session() {
        let mut sakura = link(
            "https://s.example",
            "ins_sakura",
            &[],
            vec![account("a", "b", "JPY", 5_000)],
        );
        sakura.expires_at = NOW;
        assert_eq!(
            verdicts(&wallet(vec![sakura]), &start(&[]))[0].1,
            Err(Unusable::SessionExpired)
        );
    }

    #[test]
    fn an_exact_balance_suffices_and_empty_brands_accept_any() {
        let sakura = link(
            "https://s.example",
            "ins_sakura",
            &[],
            vec![account("a", "any-brand", "JPY", 1_155)],
        );
        assert_eq!(verdicts(&wallet(vec![sakura]), &start(&[]))[0].1, Ok(()));
    }

    #[test]
    fn a_peer_of_the_settling_institution_can_pay() {
        let peer = link(
            "https://p.example",
            "ins_peer",
            &["ins_sakura"],
            vec![account("a", "b", "JPY", 5_000)],
        );
        assert_eq!(verdicts(&wallet(vec![peer]), &start(&[]))[0].1, Ok(()));
    }

    #[test]
    fn links_without_brand_info_offer_no_accounts() {
        let mut bare = link("https://s.example", "ins_sakura", &[], vec![]);
        bare.brand_info = None;
        assert!(choices(&wallet(vec![bare]), &start(&[]), NOW).is_empty());
    }

    #[test]
    fn expired_links_are_listed_even_without_brand_info() {
        let live = link("https://a.example", "ins_a", &[], vec![]);
        let mut never_fetched = link("https://b.example", "ins_b", &[], vec![]);
        never_fetched.brand_info = None;
        never_fetched.token = None;
        let expired = expired_links(&wallet(vec![live, never_fetched]), NOW);
        assert_eq!(
            expired,
            vec![ExpiredLink {
                address: "https://b.example".into(),
                user_id: "usr_1".into(),
                institution_name: "https://b.example".into(),
            }]
        );
    }

    fn two_choices() -> Vec<Choice> {
        // B7: one connector, two addresses; only the second can pay.
        let first = link(
            "https://a.example",
            "ins_a",
            &[],
            vec![account("acc_a", "b", "JPY", 5_000)],
        );
        let second = link(
            "https://b.example",
            "ins_sakura",
            &[],
            vec![account("acc_b", "b", "JPY", 5_000)],
        );
        choices(&wallet(vec![first, second]), &start(&[]), NOW)
    }

    // B4, B7
    #[test]
    fn automatic_mode_proposes_the_first_usable_account() {
        let choices = two_choices();
        let picked = propose(Mode::Automatic, None, &choices).expect("a usable account is proposed");
        assert_eq!(picked.account_id, "acc_b");
        assert_eq!(picked.address, "https://b.example");
    }

    // B2
    #[test]
    fn default_mode_proposes_only_a_usable_default() {
        let choices = two_choices();
        let usable = choices[1].account.clone();
        let unusable = choices[0].account.clone();
        assert_eq!(propose(Mode::Default, Some(&usable), &choices), Some(usable));
        assert_eq!(propose(Mode::Default, Some(&unusable), &choices), None);
        assert_eq!(propose(Mode::Default, None, &choices), None);
    }

    // B3
    #[test]
    fn ask_mode_proposes_nothing_and_nothing_usable_proposes_nothing() {
        let choices = two_choices();
        assert_eq!(propose(Mode::Ask, Some(&choices[1].account), &choices), None);
        assert_eq!(propose(Mode::Automatic, None, &choices[..1]), None);
    }
}
