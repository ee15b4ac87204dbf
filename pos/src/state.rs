//! The terminal's state and the one pure function that changes it (the
//! reducer of Yew's `use_reducer`, as the web wallet's). Effects (HTTP,
//! storage, timers) happen in the components, which report what happened
//! as [`Action`]s, so every rule of a sale is tested natively.

use kessai_protocol::terminal::{CreateTransaction, TerminalInfo, TerminalTransaction, TransactionCreated};
use kessai_protocol::Secret;
use kessai_wallet::i18n::Lang;

use crate::catalogue::{self, Cart};
use crate::keypad::{AmountEntry, Key};
use crate::settings::Settings;

/// The whole state of the terminal.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pos {
    /// Whether the saved settings and key were read: nothing is saved before.
    pub loaded: bool,
    pub settings: Settings,
    pub session: Session,
    /// The settings screen is open (between sales).
    pub editing_settings: bool,
    pub mode: SaleMode,
    pub entry: AmountEntry,
    pub cart: Cart,
    /// The transaction being created or shown.
    pub sale: Option<Sale>,
    /// The last failure, shown on the current screen until the next step.
    pub error: Option<String>,
}

/// Whether the terminal is signed in with its key.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Session {
    #[default]
    SignedOut,
    /// `GET /v1/terminal` with this key is under way.
    SigningIn(Secret<String>),
    SignedIn {
        key: Secret<String>,
        terminal: TerminalInfo,
    },
}

/// How the clerk makes a sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SaleMode {
    /// An amount keyed in.
    #[default]
    Amount,
    /// Articles picked from the catalogue: an itemized order.
    Items,
    /// The customer orders from the catalogue on the phone (a menu).
    CustomerOrders,
}

/// A transaction from the clerk's "Charge" to "New sale".
#[derive(Debug, Clone, PartialEq)]
pub struct Sale {
    pub phase: SalePhase,
    /// A request about the open transaction is under way.
    pub busy: Option<Busy>,
}

// One sale at a time: the size of its phase is not worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum SalePhase {
    /// `POST /v1/terminal/transactions` with this body is under way.
    Creating(CreateTransaction),
    /// The server's latest view of it.
    Open(TerminalTransaction),
}

/// What the clerk asked of an open transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    AskingPin,
    Canceling,
}

/// The screen the state calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Loading,
    SignIn,
    NewSale,
    Settings,
    /// The number is on its way.
    Creating,
    /// The number and QR code, waiting for a payer.
    Waiting,
    /// A payer sent the number.
    Synchronized,
    /// Paid, declined, expired or canceled.
    Final,
}

/// Everything that can happen to the terminal. One action per event, gone
/// once applied: its size is not worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The saved settings and, if this tab signed in before, its key.
    Loaded {
        settings: Settings,
        key: Option<Secret<String>>,
    },
    SignIn(Secret<String>),
    SignedIn(TerminalInfo),
    SignInFailed(String),
    SignOut,
    /// A call got 401: the key was revoked. Signed out, with why.
    KeyRefused(String),
    SetLang(Lang),
    SetMode(SaleMode),
    Press(Key),
    AddToCart(String),
    RemoveFromCart(String),
    OpenSettings,
    CloseSettings,
    /// The settings screen's saved form.
    SaveSettings(Settings),
    Creating(CreateTransaction),
    Created(TransactionCreated),
    /// A new view of the open transaction (event stream, challenge, cancel).
    Updated(TerminalTransaction),
    Ask(Busy),
    /// A request failed; the message is for the clerk.
    Failed(String),
    NewSale,
}

impl Pos {
    pub fn screen(&self) -> Screen {
        if !self.loaded {
            return Screen::Loading;
        }
        if !matches!(self.session, Session::SignedIn { .. }) {
            return Screen::SignIn;
        }
        match self.sale.as_ref().map(|sale| &sale.phase) {
            None if self.editing_settings => Screen::Settings,
            None => Screen::NewSale,
            Some(SalePhase::Creating(_)) => Screen::Creating,
            Some(SalePhase::Open(txn)) => match txn.status {
                status if status.is_final() => Screen::Final,
                kessai_protocol::terminal::TransactionStatus::Synchronized => Screen::Synchronized,
                _ => Screen::Waiting,
            },
        }
    }

    /// The key and terminal, once signed in.
    pub fn signed_in(&self) -> Option<(&Secret<String>, &TerminalInfo)> {
        match &self.session {
            Session::SignedIn { key, terminal } => Some((key, terminal)),
            _ => None,
        }
    }

    /// The key to keep in sessionStorage: only one that signed in.
    pub fn key_to_keep(&self) -> Option<&Secret<String>> {
        self.signed_in().map(|(key, _)| key)
    }

    pub fn currency(&self) -> &'static str {
        self.settings.currency.code()
    }

    /// The open transaction, if any.
    pub fn transaction(&self) -> Option<&TerminalTransaction> {
        match self.sale.as_ref().map(|sale| &sale.phase) {
            Some(SalePhase::Open(txn)) => Some(txn),
            _ => None,
        }
    }

    /// What "Charge" would send now; None when there is nothing to charge
    /// (no amount, an empty cart, an empty catalogue). `now_ms` names the
    /// order (`pos-<ms>`), unique enough for one terminal.
    pub fn charge_request(&self, now_ms: u64) -> Option<CreateTransaction> {
        let currency = self.currency();
        let articles = &self.settings.articles;
        match self.mode {
            SaleMode::Amount => (self.entry.minor() > 0).then(|| CreateTransaction {
                amount: Some(self.entry.minor()),
                currency: Some(currency.to_string()),
                ..CreateTransaction::default()
            }),
            SaleMode::Items => Some(CreateTransaction {
                order: Some(self.cart.order(articles, currency, format!("pos-{now_ms}"))?),
                ..CreateTransaction::default()
            }),
            SaleMode::CustomerOrders => (!articles.is_empty()).then(|| CreateTransaction {
                menu: Some(catalogue::menu(articles, currency)),
                ..CreateTransaction::default()
            }),
        }
    }

    /// The amount the new-sale screen shows (keyed or the cart's).
    pub fn pending_amount(&self) -> Option<u64> {
        match self.mode {
            SaleMode::Amount => Some(self.entry.minor()),
            SaleMode::Items => self.cart.total(&self.settings.articles),
            SaleMode::CustomerOrders => None,
        }
    }
}

/// Yew's reducer interface over [`reduce`].
#[cfg(target_arch = "wasm32")]
impl yew::Reducible for Pos {
    type Action = Action;

    fn reduce(self: std::rc::Rc<Self>, action: Action) -> std::rc::Rc<Self> {
        std::rc::Rc::new(reduce((*self).clone(), action))
    }
}

/// The reducer.
pub fn reduce(mut pos: Pos, action: Action) -> Pos {
    match action {
        Action::Loaded { settings, key } => {
            pos.loaded = true;
            pos.settings = settings;
            if let (Some(key), Session::SignedOut) = (key, &pos.session) {
                pos.session = Session::SigningIn(key);
            }
        }
        // A key may arrive while signed in (a `#key=` link opened in the
        // till's tab): it is another terminal, so nothing of this one stays.
        Action::SignIn(key) => {
            pos = signed_out(pos);
            pos.session = Session::SigningIn(key);
        }
        Action::SignedIn(terminal) => {
            if let Session::SigningIn(key) = &pos.session {
                pos.session = Session::SignedIn {
                    key: key.clone(),
                    terminal,
                };
            }
        }
        Action::SignInFailed(message) | Action::KeyRefused(message) => {
            pos = signed_out(pos);
            pos.error = Some(message);
        }
        Action::SignOut => pos = signed_out(pos),
        Action::SetLang(lang) => pos.settings.lang = Some(lang),
        other => pos = reduce_sale(pos, other),
    }
    pos
}

/// Everything of the till is dropped with the key, except the settings.
fn signed_out(pos: Pos) -> Pos {
    Pos {
        loaded: pos.loaded,
        settings: pos.settings,
        ..Pos::default()
    }
}

fn reduce_sale(mut pos: Pos, action: Action) -> Pos {
    match action {
        Action::SetMode(mode) => {
            pos.mode = mode;
            pos.error = None;
        }
        Action::Press(key) => pos.entry = pos.entry.press(key),
        Action::AddToCart(code) => pos.cart.add(&code),
        Action::RemoveFromCart(code) => pos.cart.remove(&code),
        Action::OpenSettings => pos.editing_settings = pos.sale.is_none(),
        Action::CloseSettings => pos.editing_settings = false,
        Action::SaveSettings(settings) => {
            pos.settings = settings;
            pos.editing_settings = false;
        }
        Action::Creating(request) if pos.sale.is_none() => {
            pos.sale = Some(Sale {
                phase: SalePhase::Creating(request),
                busy: None,
            });
            pos.error = None;
        }
        Action::Created(created) => pos = created_sale(pos, created),
        Action::Updated(txn) => pos = updated(pos, txn),
        Action::Ask(busy) => {
            if let Some(sale) = pos.sale.as_mut().filter(|s| matches!(s.phase, SalePhase::Open(_))) {
                sale.busy = Some(busy);
                pos.error = None;
            }
        }
        Action::Failed(message) => {
            // A failed create goes back to the sale as it was keyed.
            if matches!(pos.sale.as_ref().map(|s| &s.phase), Some(SalePhase::Creating(_))) {
                pos.sale = None;
            }
            if let Some(sale) = pos.sale.as_mut() {
                sale.busy = None;
            }
            pos.error = Some(message);
        }
        // An open transaction is canceled, never dropped.
        Action::NewSale if pos.transaction().is_none_or(|txn| txn.status.is_final()) => {
            pos.sale = None;
            pos.entry = AmountEntry::default();
            pos.cart = Cart::default();
            pos.error = None;
        }
        _ => {}
    }
    pos
}

/// The number arrived: the transaction as the terminal asked for it.
fn created_sale(mut pos: Pos, created: TransactionCreated) -> Pos {
    let Some(Sale {
        phase: SalePhase::Creating(request),
        ..
    }) = pos.sale.take()
    else {
        return pos;
    };
    let txn = TerminalTransaction {
        id: created.id,
        number: created.number,
        status: created.status,
        amount: created.amount,
        currency: created.currency,
        order: request.order,
        menu: request.menu,
        payer: None,
        challenge: None,
        receipt: None,
        decline_code: None,
        qr: created.qr,
        expires_at: created.expires_at,
        version: 0,
        dispense: None,
    };
    pos.sale = Some(Sale {
        phase: SalePhase::Open(txn),
        busy: None,
    });
    pos
}

/// A newer view of the open transaction. Views of another transaction (a
/// stream that outlived its sale) are dropped, and a final status is never
/// replaced by a live one: answers may cross on the wire.
fn updated(mut pos: Pos, txn: TerminalTransaction) -> Pos {
    let Some(sale) = pos.sale.as_mut() else {
        return pos;
    };
    let SalePhase::Open(current) = &sale.phase else {
        return pos;
    };
    if current.id != txn.id || (current.status.is_final() && !txn.status.is_final()) {
        return pos;
    }
    sale.phase = SalePhase::Open(txn);
    sale.busy = None;
    pos
}

#[cfg(test)]
mod tests;
