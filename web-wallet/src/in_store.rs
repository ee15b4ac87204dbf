//! Paying in store (PROTOCOL section 13): which server wallets to ask for
//! a number, what a menu order costs, the PIN's form, and the problems the
//! screen can show. The browser part (`flow`) syncs over the connectors and
//! follows the transaction with a long-poll.
//!
//! Everything outside `flow` is pure and tested natively.

use std::future::Future;
use std::ops::RangeInclusive;

use kessai_protocol::terminal::{Menu, OrderLine, PayerTransaction};
use kessai_protocol::Secret;

use crate::api::ApiError;
use crate::connectors::Connector;
use crate::passes::{Admission, Passes};
use crate::selector::AccountRef;
use crate::transaction_number::NumberProblem;

/// Most of one article a stepper goes to.
pub const QUANTITY_MAX: u64 = 99;
/// Digits of a PIN (D8).
pub const PIN_DIGITS: RangeInclusive<usize> = 4..=8;
/// Seconds each long-poll waits for a change (the server allows 30).
pub const FOLLOW_WAIT_S: u32 = 25;

/// What the "Pay in store" screen can have to say went wrong. The server's
/// codes become variants at the boundary, so each has its own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreProblem {
    Number(NumberProblem),
    /// A scanned QR code holds no Kessai transaction number.
    NotATransactionQr,
    /// The camera could not be opened (refused, absent).
    Camera,
    /// No connector has a live session to ask.
    NoSession,
    /// No server wallet knows the number: unknown, expired or taken.
    NoSuchTransaction,
    /// The PIN typed is not 4 to 8 digits.
    PinFormat,
    PinIncorrect,
    /// The terminal's PIN challenge is not passed yet.
    ChallengePending,
    /// Wrong PIN too often: the clerk has to start again.
    ChallengeFailed,
    /// The amount changed under the screen; nothing moved.
    AmountMismatch,
    /// An exit gate's number, and no admission held from that institution
    /// is one its merchant's exits take (C6).
    NoAdmission,
    /// The admission is being used or was used at another exit (C6).
    AdmissionUsed,
    /// Anything else, in [`ApiError`]'s words (rate limits, network).
    Refused(ApiError),
}

impl StoreProblem {
    /// The problem an API failure is.
    pub fn from_api(error: ApiError) -> StoreProblem {
        let code = match &error {
            ApiError::Refused { detail, .. } => detail.code.as_str(),
            _ => "",
        };
        match code {
            "no_such_transaction" => StoreProblem::NoSuchTransaction,
            "pin_incorrect" => StoreProblem::PinIncorrect,
            "challenge_pending" => StoreProblem::ChallengePending,
            "challenge_failed" => StoreProblem::ChallengeFailed,
            "amount_mismatch" => StoreProblem::AmountMismatch,
            "admission_missing" | "invalid_admission" => StoreProblem::NoAdmission,
            "admission_used" => StoreProblem::AdmissionUsed,
            _ => StoreProblem::Refused(error),
        }
    }
}

/// What the quantities chosen from `menu` cost; quantities are in the
/// menu's order, missing ones count as none. Saturating: the server
/// checks the real total, this only shows it.
pub fn menu_total(menu: &Menu, quantities: &[u64]) -> u64 {
    menu.items.iter().zip(quantities).fold(0u64, |sum, (item, quantity)| {
        sum.saturating_add(item.unit_price.saturating_mul(*quantity))
    })
}

/// The order to send: the articles with a quantity, in the menu's order.
pub fn order_lines(menu: &Menu, quantities: &[u64]) -> Vec<OrderLine> {
    menu.items
        .iter()
        .zip(quantities)
        .filter(|(_, quantity)| **quantity > 0)
        .map(|(item, quantity)| OrderLine {
            code: item.code.clone(),
            quantity: *quantity,
        })
        .collect()
}

/// A PIN as typed, if it is 4 to 8 digits.
pub fn check_pin(typed: &str) -> Result<Secret<String>, StoreProblem> {
    let pin = typed.trim();
    if PIN_DIGITS.contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(Secret::new(pin.to_string()))
    } else {
        Err(StoreProblem::PinFormat)
    }
}

/// The server wallets to ask for a number, in order, with their tokens.
/// A number belongs to the terminal's institution, which only a QR code
/// names; so: that institution's addresses first, then the default
/// account's connector, then every other live session in the order they
/// were added. Each wrong ask counts toward that institution's limit (5
/// in 10 minutes), which is why asking stops at the first that knows it.
pub fn sync_candidates(
    connectors: &[Connector],
    default: Option<&AccountRef>,
    institution_id: Option<&str>,
    now_s: i64,
) -> Vec<(String, Secret<String>)> {
    let default_connector = default.and_then(|account| {
        connectors
            .iter()
            .position(|c| c.links.iter().any(|l| l.address == account.address))
    });
    let mut links: Vec<(u8, usize, usize, &crate::connectors::ServerLink)> = connectors
        .iter()
        .enumerate()
        .flat_map(|(ci, c)| c.links.iter().enumerate().map(move |(li, l)| (ci, li, l)))
        .filter(|(_, _, link)| link.session_live(now_s))
        .map(|(ci, li, link)| {
            let billing =
                institution_id.is_some_and(|id| link.brand_info.as_ref().is_some_and(|i| i.institution_id == id));
            let is_default = default.is_some_and(|a| a.address == link.address);
            let rank = match (billing, is_default, Some(ci) == default_connector) {
                (true, _, _) => 0,
                (false, true, _) => 1,
                (false, false, true) => 2,
                _ => 3,
            };
            (rank, ci, li, link)
        })
        .collect();
    links.sort_by_key(|(rank, ci, li, _)| (*rank, *ci, *li));
    links
        .into_iter()
        .filter_map(|(_, _, _, link)| Some((link.address.clone(), link.token.clone()?)))
        .collect()
}

/// A number found: where, the transaction, and the admission sent with it
/// (an exit gate's, C6).
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    pub address: String,
    pub transaction: PayerTransaction,
    pub admission: Option<Admission>,
}

/// What asking the candidates for a number came to: the addresses whose
/// session turned out expired, and the transaction or why not.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub expired: Vec<String>,
    pub outcome: Result<Located, StoreProblem>,
}

/// The refusal's code, if the server answered one.
fn code(error: &ApiError) -> &str {
    match error {
        ApiError::Refused { detail, .. } => detail.code.as_str(),
        _ => "",
    }
}

/// Asks each candidate for `number` until one knows it; `sync(address,
/// token, admission)` is the call. 404s move on; an expired session is
/// noted and skipped; if none knows it, the first other refusal (a rate
/// limit, the network) is the more useful thing to say.
///
/// An exit gate's number answers 400 `admission_missing`: the wallet
/// cannot tell an exit from its number, so the plain sync comes first and
/// the same institution is then asked again with each admission it gave,
/// newest first, until one is taken (`invalid_admission`, another
/// merchant's, moves on). Nothing is synchronized by the refused tries.
pub async fn search<S, F>(number: &str, candidates: Vec<(String, Secret<String>)>, passes: &Passes, sync: S) -> Search
where
    S: Fn(String, Secret<String>, String, Option<String>) -> F,
    F: Future<Output = Result<PayerTransaction, ApiError>>,
{
    let mut found = Search {
        expired: Vec::new(),
        outcome: Err(StoreProblem::NoSession),
    };
    let mut other = None;
    let asked = !candidates.is_empty();
    for (address, token) in candidates {
        match sync(address.clone(), token.clone(), number.to_string(), None).await {
            Ok(transaction) => {
                found.outcome = Ok(Located {
                    address,
                    transaction,
                    admission: None,
                });
                return found;
            }
            Err(ApiError::SessionExpired) => found.expired.push(address),
            Err(error) if code(&error) == "admission_missing" => {
                found.outcome = exit(number, address, token, passes, &sync).await;
                return found;
            }
            Err(error) => match StoreProblem::from_api(error) {
                StoreProblem::NoSuchTransaction => {}
                problem => {
                    other.get_or_insert(problem);
                }
            },
        }
    }
    if asked {
        found.outcome = Err(other.unwrap_or(StoreProblem::NoSuchTransaction));
    }
    found
}

/// An exit gate's number at `address`: synced with the admissions held
/// from there, newest first, until one is taken.
async fn exit<S, F>(
    number: &str,
    address: String,
    token: Secret<String>,
    passes: &Passes,
    sync: &S,
) -> Result<Located, StoreProblem>
where
    S: Fn(String, Secret<String>, String, Option<String>) -> F,
    F: Future<Output = Result<PayerTransaction, ApiError>>,
{
    for admission in passes.admissions_at(&address) {
        let sent = Some(admission.token.clone());
        match sync(address.clone(), token.clone(), number.to_string(), sent).await {
            Ok(transaction) => {
                return Ok(Located {
                    address,
                    transaction,
                    admission: Some(admission),
                })
            }
            Err(error) if code(&error) == "invalid_admission" => {}
            Err(error) => return Err(StoreProblem::from_api(error)),
        }
    }
    Err(StoreProblem::NoAdmission)
}

#[cfg(test)]
mod search_tests;

#[cfg(test)]
mod tests {
    use kessai_protocol::api::ErrorDetail;
    use kessai_protocol::terminal::MenuItem;
    use kessai_protocol::wallet::BrandInfo;

    use super::*;
    use crate::connectors::ServerLink;

    fn menu() -> Menu {
        let item = |code: &str, unit_price| MenuItem {
            code: code.into(),
            name: code.to_uppercase(),
            unit_price,
        };
        Menu {
            currency: "JPY".into(),
            items: vec![item("tea", 150), item("coffee", 180), item("water", 110)],
        }
    }

    // D9
    #[test]
    fn the_menu_total_is_the_chosen_quantities_times_their_prices() {
        assert_eq!(menu_total(&menu(), &[0, 0, 0]), 0);
        assert_eq!(menu_total(&menu(), &[2, 0, 1]), 410);
        assert_eq!(menu_total(&menu(), &[1]), 150, "missing quantities are none");
        let lines = order_lines(&menu(), &[2, 0, 1]);
        let sent: Vec<(&str, u64)> = lines.iter().map(|l| (l.code.as_str(), l.quantity)).collect();
        assert_eq!(sent, [("tea", 2), ("water", 1)]);
    }

    #[test]
    fn a_pin_is_four_to_eight_digits() {
        assert_eq!(check_pin(" 1234 ").map(|p| p.expose().clone()), Ok("1234".into()));
        assert!(check_pin("12345678").is_ok());
        for wrong in ["123", "123456789", "12a4", ""] {
            assert_eq!(check_pin(wrong), Err(StoreProblem::PinFormat), "{wrong:?}");
        }
    }

    #[test]
    fn server_codes_become_problems() {
        let refused = |code: &str, status| ApiError::Refused {
            status,
            detail: ErrorDetail {
                kind: Default::default(),
                code: code.into(),
                message: "m".into(),
                param: None,
            },
            retry_after_s: None,
        };
        assert_eq!(
            StoreProblem::from_api(refused("no_such_transaction", 404)),
            StoreProblem::NoSuchTransaction
        );
        assert_eq!(
            StoreProblem::from_api(refused("pin_incorrect", 422)),
            StoreProblem::PinIncorrect
        );
        assert_eq!(
            StoreProblem::from_api(refused("amount_mismatch", 409)),
            StoreProblem::AmountMismatch
        );
        let limited = refused("rate_limited", 429);
        assert_eq!(StoreProblem::from_api(limited.clone()), StoreProblem::Refused(limited));
    }

    fn link(address: &str, institution: &str, live: bool) -> ServerLink {
        let mut link = ServerLink::new(address.into(), Secret::new(format!("wt_{institution}")), 10_000);
        if !live {
            link.token = None;
        }
        link.brand_info = Some(BrandInfo {
            institution_id: institution.into(),
            name: institution.into(),
            brands: vec![],
            currencies: vec![],
            accounts: vec![],
            peers: vec![],
            refresh_after_s: 300,
        });
        link
    }

    fn connector(id: &str, links: Vec<ServerLink>) -> Connector {
        Connector {
            id: id.into(),
            user_id: "usr_1".into(),
            user_name: "Hanako".into(),
            links,
        }
    }

    fn addresses(candidates: &[(String, Secret<String>)]) -> Vec<&str> {
        candidates.iter().map(|(a, _)| a.as_str()).collect()
    }

    #[test]
    fn the_billing_institution_then_the_default_then_the_rest_are_asked() {
        let connectors = vec![
            connector(
                "con_1",
                vec![link("https://a", "ins_a", true), link("https://x", "ins_x", false)],
            ),
            connector(
                "con_2",
                vec![link("https://b", "ins_b", true), link("https://c", "ins_c", true)],
            ),
        ];
        let default = AccountRef {
            address: "https://c".into(),
            account_id: "acc_c".into(),
        };
        let all = sync_candidates(&connectors, None, None, 0);
        assert_eq!(
            addresses(&all),
            ["https://a", "https://b", "https://c"],
            "no expired session"
        );
        let with_default = sync_candidates(&connectors, Some(&default), None, 0);
        assert_eq!(addresses(&with_default), ["https://c", "https://b", "https://a"]);
        let from_qr = sync_candidates(&connectors, Some(&default), Some("ins_b"), 0);
        assert_eq!(addresses(&from_qr), ["https://b", "https://c", "https://a"]);
        assert!(
            sync_candidates(&connectors, None, None, 20_000).is_empty(),
            "all expired"
        );
    }
}
