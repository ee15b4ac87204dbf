//! The wallet's state and the one pure function that changes it (the
//! reducer of Yew's `use_reducer`, as in its `function_todomvc` example).
//!
//! Everything the screens show is here: the connectors (B1, B7), the
//! selector's settings (B2 to B4), the shop payment in progress and the
//! in-store one ([`InStore`], PROTOCOL section 13). Effects
//! (HTTP, storage, postMessage) happen in the components, which report what
//! happened as [`Action`]s; so every rule of the flow is tested natively.

use kessai_protocol::wallet::{BrandInfo, Session, StartMessage, WalletPayment};
use kessai_protocol::Secret;
use serde::{Deserialize, Serialize};

use crate::connectors::{Connector, ServerLink, CONNECTORS_MAX, LINKS_PER_CONNECTOR_MAX};
use crate::i18n::Lang;
use crate::passes::Passes;
use crate::selector::{self, AccountRef, Mode};
use crate::start::{Channel, StartProblem};

mod in_store;
pub use in_store::{Found, InStore, StoreAction, StorePhase};

/// The whole state of the wallet.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Wallet {
    pub connectors: Vec<Connector>,
    pub mode: Mode,
    /// The account "Make default" chose (B2).
    pub default_account: Option<AccountRef>,
    /// The language the user picked; None follows the browser.
    pub lang: Option<Lang>,
    /// Numbers the next connector (`con_N`).
    pub next_connector: u32,
    /// Whether the saved state was read: nothing is saved before, so a slow
    /// host storage cannot be overwritten with an empty wallet.
    pub loaded: bool,
    /// The saved state could not be read (the host's storage failed): the
    /// wallet works but saves nothing, so a passing failure cannot erase
    /// what is stored.
    pub storage_failed: bool,
    /// The payment in progress, if a start message arrived.
    pub payment: Option<Payment>,
    /// "Pay in store": the terminal transaction being paid. Not saved: a
    /// number lives minutes, and a reload starts again from the number.
    pub in_store: InStore,
    /// Gate admissions and tickets from the devices (saved).
    pub passes: Passes,
}

/// The part of [`Wallet`] kept across visits, in the wallet's own storage
/// (key `kessai-wallet`). Session tokens are in here and nowhere else.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Saved {
    pub connectors: Vec<Connector>,
    pub mode: Mode,
    pub default_account: Option<AccountRef>,
    pub lang: Option<Lang>,
    pub next_connector: u32,
    pub passes: Passes,
}

/// A start message being handled.
#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    pub channel: Channel,
    /// None while the popup waits for its opener.
    pub start: Option<StartMessage>,
    pub phase: Phase,
    /// The account the sheet shows first (B2, B4); None in "ask" mode or
    /// when nothing fits. Only a proposal: paying takes the user's click.
    pub proposed: Option<AccountRef>,
    /// The last failed attempt's message, shown on the sheet.
    pub error: Option<String>,
}

/// Where the payment is.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// The popup asked its opener and waits.
    AwaitingStart,
    /// The start message was refused before anything was sent.
    Refused(StartProblem),
    /// Stale brand information is being queried (B6).
    Preparing,
    /// The payment sheet is shown, whatever the mode: nothing is paid
    /// without the user's click on one of its buttons.
    Choosing,
    /// `POST /v1/wallet/payments` with this account is under way.
    Paying(AccountRef),
    /// The server wallet answered: the receipt.
    Done(WalletPayment),
    /// The user closed the sheet; nothing was paid.
    Canceled,
}

/// Everything that can happen to the wallet.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The saved state was read (or there was none).
    Loaded(Saved),
    /// The saved state could not be read.
    LoadFailed,
    SetLang(Lang),
    SetMode(Mode),
    MakeDefault(AccountRef),
    /// A login succeeded at `address`: a new connector (`connector_id`
    /// None), another address of a connector (B7), or a new session for an
    /// address already held.
    LoggedIn {
        connector_id: Option<String>,
        address: String,
        session: Session,
    },
    BrandInfoFetched {
        address: String,
        info: BrandInfo,
        now_s: i64,
    },
    /// A call with the token at `address` got 401.
    SessionExpired {
        address: String,
    },
    LoggedOut {
        address: String,
    },
    /// The popup waits for its opener's start message.
    AwaitStart(Channel),
    StartArrived {
        channel: Channel,
        start: Result<StartMessage, StartProblem>,
    },
    /// Brand information is fresh: show the sheet with the mode's
    /// proposal (B2 to B4).
    Prepared {
        now_s: i64,
    },
    /// The user chose an account on the sheet.
    Choose {
        account: AccountRef,
        now_s: i64,
    },
    Paid(WalletPayment),
    PayFailed(String),
    /// The user closed the sheet without paying.
    Cancel,
    /// The receipt or refusal was read: back to the wallet.
    Dismiss,
    /// A step of "Pay in store".
    InStore(StoreAction),
}

impl Wallet {
    /// The state after `action`.
    pub fn apply(mut self, action: Action) -> Wallet {
        match action {
            Action::Loaded(saved) => self.load(saved),
            Action::LoadFailed => {
                self.loaded = true;
                self.storage_failed = true;
            }
            Action::SetLang(lang) => self.lang = Some(lang),
            Action::SetMode(mode) => self.mode = mode,
            Action::MakeDefault(account) => self.default_account = Some(account),
            Action::LoggedIn {
                connector_id,
                address,
                session,
            } => self.log_in(connector_id, address, session),
            Action::BrandInfoFetched { address, info, now_s } => self.store_brand_info(&address, info, now_s),
            Action::SessionExpired { address } => self.expire(&address),
            Action::LoggedOut { address } => self.log_out(&address),
            Action::InStore(action) => {
                self.in_store.apply(action);
                self.record_passes();
            }
            other => self.payment_action(other),
        }
        self
    }

    /// Whether changes are to be saved now.
    pub fn saving(&self) -> bool {
        self.loaded && !self.storage_failed
    }

    /// What is saved of this state.
    pub fn saved(&self) -> Saved {
        Saved {
            connectors: self.connectors.clone(),
            mode: self.mode,
            default_account: self.default_account.clone(),
            lang: self.lang,
            next_connector: self.next_connector,
            passes: self.passes.clone(),
        }
    }

    /// Whether another address fits: in `connector_id`, or as a new connector.
    pub fn can_add(&self, connector_id: Option<&str>) -> bool {
        match connector_id {
            None => self.connectors.len() < CONNECTORS_MAX,
            Some(id) => self
                .connectors
                .iter()
                .any(|c| c.id == id && c.links.len() < LINKS_PER_CONNECTOR_MAX),
        }
    }

    /// The addresses whose brand information must be asked for again (B5,
    /// B6), with their tokens: stale information and a live session.
    pub fn stale_links(&self, now_s: i64) -> Vec<(String, Secret<String>)> {
        self.connectors
            .iter()
            .flat_map(|c| c.links.iter())
            .filter(|link| link.session_live(now_s) && link.brand_info_stale(now_s))
            .filter_map(|link| Some((link.address.clone(), link.token.clone()?)))
            .collect()
    }

    /// The session token at `address`, if the session is live.
    pub fn token(&self, address: &str, now_s: i64) -> Option<Secret<String>> {
        let (_, link) = crate::connectors::find_link(&self.connectors, address)?;
        link.session_live(now_s).then(|| link.token.clone()).flatten()
    }

    /// The connector named `id`.
    pub fn connector(&self, id: &str) -> Option<&Connector> {
        self.connectors.iter().find(|c| c.id == id)
    }

    fn load(&mut self, saved: Saved) {
        self.connectors = saved.connectors;
        self.mode = saved.mode;
        self.default_account = saved.default_account;
        // A language picked before the saved state arrived wins.
        self.lang = self.lang.or(saved.lang);
        self.next_connector = saved.next_connector;
        // What a device gave before the saved state arrived is kept too.
        let mut passes = saved.passes;
        for admission in std::mem::take(&mut self.passes.admissions) {
            passes.keep_admission(admission);
        }
        for ticket in std::mem::take(&mut self.passes.tickets) {
            passes.keep_ticket(ticket);
        }
        self.passes = passes;
        self.loaded = true;
    }

    /// A finished in-store transaction's admission or ticket is kept, and
    /// a paid exit's admission dropped (idempotent: every step may call it).
    fn record_passes(&mut self) {
        if let (StorePhase::Done(result), Some(found)) = (&self.in_store.phase, &self.in_store.found) {
            self.passes
                .record(&found.address, &found.transaction, found.admission.as_ref(), result);
        }
    }

    fn log_in(&mut self, connector_id: Option<String>, address: String, session: Session) {
        if let Some(link) = self.link_mut(&address) {
            link.token = Some(session.token);
            link.expires_at = session.expires_at;
            return;
        }
        if !self.can_add(connector_id.as_deref()) {
            return;
        }
        let link = ServerLink::new(address, session.token, session.expires_at);
        if let Some(connector) = connector_id.and_then(|id| self.connectors.iter_mut().find(|c| c.id == id)) {
            connector.links.push(link);
            return;
        }
        self.next_connector = self.next_connector.saturating_add(1);
        self.connectors.push(Connector {
            id: format!("con_{}", self.next_connector),
            user_id: session.user_id,
            user_name: session.name,
            links: vec![link],
        });
    }

    fn store_brand_info(&mut self, address: &str, info: BrandInfo, now_s: i64) {
        if let Some(link) = self.link_mut(address) {
            link.brand_info = Some(info);
            link.fetched_at_s = now_s;
        }
    }

    fn expire(&mut self, address: &str) {
        if let Some(link) = self.link_mut(address) {
            link.token = None;
        }
    }

    fn log_out(&mut self, address: &str) {
        for connector in &mut self.connectors {
            connector.links.retain(|link| link.address != address);
        }
        self.connectors.retain(|connector| !connector.links.is_empty());
        if self.default_account.as_ref().is_some_and(|a| a.address == address) {
            self.default_account = None;
        }
    }

    fn link_mut(&mut self, address: &str) -> Option<&mut ServerLink> {
        self.connectors
            .iter_mut()
            .flat_map(|c| c.links.iter_mut())
            .find(|link| link.address == address)
    }

    fn payment_action(&mut self, action: Action) {
        match action {
            Action::AwaitStart(channel) => {
                self.payment = Some(Payment {
                    channel,
                    start: None,
                    phase: Phase::AwaitingStart,
                    proposed: None,
                    error: None,
                })
            }
            Action::StartArrived { channel, start } => self.payment = Some(arrived(channel, start)),
            Action::Dismiss => self.payment = None,
            other => {
                let connectors = &self.connectors;
                let (mode, default) = (self.mode, self.default_account.as_ref());
                if let Some(payment) = &mut self.payment {
                    payment.advance(other, connectors, mode, default);
                }
            }
        }
    }
}

fn arrived(channel: Channel, start: Result<StartMessage, StartProblem>) -> Payment {
    let (start, phase) = match start {
        Ok(start) => (Some(start), Phase::Preparing),
        Err(problem) => (None, Phase::Refused(problem)),
    };
    Payment {
        channel,
        start,
        phase,
        proposed: None,
        error: None,
    }
}

impl Payment {
    /// The payment's next phase; actions that do not fit the current one
    /// (a late answer, a double click) change nothing.
    fn advance(&mut self, action: Action, connectors: &[Connector], mode: Mode, default: Option<&AccountRef>) {
        let Some(start) = &self.start else {
            if action == Action::Cancel {
                self.phase = Phase::Canceled;
            }
            return;
        };
        match (&self.phase, action) {
            (Phase::Preparing, Action::Prepared { now_s }) => {
                // Never straight to Paying: a start message can come from any
                // page (a link, a popup opened by any shop), so the mode only
                // picks which account the sheet proposes.
                let choices = selector::choices(connectors, start, now_s);
                self.proposed = selector::propose(mode, default, &choices);
                self.phase = Phase::Choosing;
            }
            (Phase::Choosing, Action::Choose { account, now_s }) => {
                // Only an account the sheet offered as usable: a stale
                // click must not pay with one that cannot.
                let usable = selector::choices(connectors, start, now_s)
                    .iter()
                    .any(|choice| choice.account == account && choice.usable());
                if !usable {
                    return;
                }
                self.error = None;
                self.phase = Phase::Paying(account);
            }
            (Phase::Paying(_), Action::Paid(payment)) => self.phase = Phase::Done(payment),
            (Phase::Paying(_), Action::PayFailed(message)) => {
                self.error = Some(message);
                self.phase = Phase::Choosing;
            }
            (Phase::Preparing | Phase::Choosing | Phase::Refused(_), Action::Cancel) => self.phase = Phase::Canceled,
            _ => {}
        }
    }
}

/// Yew's reducer interface over [`Wallet::apply`].
#[cfg(target_arch = "wasm32")]
impl yew::Reducible for Wallet {
    type Action = Action;

    fn reduce(self: std::rc::Rc<Self>, action: Action) -> std::rc::Rc<Self> {
        std::rc::Rc::new((*self).clone().apply(action))
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod device_tests;
