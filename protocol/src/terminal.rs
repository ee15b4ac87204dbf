//! Terminals and in-store payment (PROTOCOL section 13): the billing
//! terminal's API (a POS, a vending machine, a web page), the paying
//! terminal's (the phone: the web wallet's "Pay in store"), and what they
//! show each other once a transaction number has synchronized them.
//!
//! Shared by the server, the POS app and the web wallet, so all three agree
//! on every field by construction.

use serde::{Deserialize, Serialize};

use crate::api::{DeclineCode, Restrictions};
use crate::{Order, Secret};

/// Prefix of terminal keys (`Authorization: Bearer tk_…`).
pub const TERMINAL_KEY_PREFIX: &str = "tk_";
/// Prefix of terminal transactions.
pub const TRANSACTION_PREFIX: &str = "txn_";
/// Prefix of authentications by number (D11).
pub const AUTHENTICATION_PREFIX: &str = "aut_";
/// Prefix of gate admissions (C6): the `jti` of the admission token.
pub const ADMISSION_PREFIX: &str = "adm_";
/// Prefix of tickets (C9): the `jti` of the ticket token.
pub const TICKET_PREFIX: &str = "tkt_";
/// Digits of a transaction number.
pub const NUMBER_DIGITS: usize = 8;
/// How long a number is valid unless the terminal asks otherwise.
pub const NUMBER_TTL_DEFAULT_S: i64 = 300;
/// The longest a terminal may ask a number to stay valid.
pub const NUMBER_TTL_MAX_S: i64 = 3600;
/// Longest terminal label (EMV tag 62/07).
pub const LABEL_LEN_MAX: usize = 25;

wire_enum! {
    /// What a billing terminal is.
    TerminalKind {
        /// A shop's point-of-sale register.
        Pos = "pos",
        /// A vending machine.
        Vending = "vending",
        /// An entrance or exit gate.
        Gate = "gate",
        /// A ticket vending apparatus, or a ticket entrance.
        Ticket = "ticket",
        /// A web page (an online checkout showing a number).
        Web = "web",
    }
}

wire_enum! {
    /// Where a terminal transaction is (section 13).
    TransactionStatus {
        /// Showing its number; no payer yet.
        AwaitingPayer = "awaiting_payer",
        /// A payer sent the number (claim 11's synchronization confirmation).
        Synchronized = "synchronized",
        /// Paid (or, for an authentication, authenticated).
        Succeeded = "succeeded",
        /// The payer's institution refused; nothing moved.
        Declined = "declined",
        /// Nobody paid in time.
        Expired = "expired",
        /// The clerk or the machine canceled it.
        Canceled = "canceled",
    }
}

impl TransactionStatus {
    /// No further change can happen.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::AwaitingPayer | Self::Synchronized)
    }
}

wire_enum! {
    /// What a billing terminal can ask the payer to prove (D8).
    ChallengeKind {
        /// The user's PIN.
        Pin = "pin",
    }
}

wire_enum! {
    /// Where a challenge is.
    ChallengeStatus {
        /// Asked; the payer has not answered.
        Pending = "pending",
        /// Answered right.
        Passed = "passed",
        /// Answered wrong too often: the transaction cannot be confirmed.
        Failed = "failed",
    }
}

/// `kessai terminal register` prints this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredTerminal {
    /// `trm_…`
    pub terminal_id: String,
    /// The bearer key (`tk_…`); only its hash is stored.
    pub terminal_key: Secret<String>,
    /// What the QR code and the payer's screen call it.
    pub label: String,
}

/// An article a menu offers (D9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MenuItem {
    /// The article's code, 1 to 200 characters, unique in the menu.
    pub code: String,
    /// Its name as the payer sees it.
    pub name: String,
    /// Price of one, in minor units.
    pub unit_price: u64,
}

/// A menu the payer chooses from on the phone (D9, vending machines).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Menu {
    /// ISO 4217 currency of every price.
    pub currency: String,
    /// 1 to 200 articles.
    pub items: Vec<MenuItem>,
}

/// `POST /v1/terminal/transactions`: exactly one of `amount` (with
/// `currency`), `order` or `menu`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateTransaction {
    /// The amount to pay, in minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<u64>,
    /// ISO 4217 currency of `amount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// An itemized order (section 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Order>,
    /// A menu the payer orders from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub menu: Option<Menu>,
    /// Seconds the number stays valid, 30 to 3600 (default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
    /// Conditions on the payer (section 13, devices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrictions: Option<Restrictions>,
    /// The ticket a `ticket` terminal sells (C9): the receipt carries it, signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketSpec>,
}

/// What a ticket admits to, and when (C9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketSpec {
    /// The event, 1 to 200 printable characters.
    pub event: String,
    /// Unix seconds: the ticket admits from then…
    pub valid_from: i64,
    /// …until then (exclusive).
    pub valid_until: i64,
}

/// The claims of a ticket (C9), a compact JWS EdDSA by the institution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketClaims {
    /// `tkt_…`: admits once.
    pub jti: String,
    pub event: String,
    pub valid_from: i64,
    pub valid_until: i64,
    /// The merchant whose entrances admit it (`mch_…`).
    pub merchant: String,
    /// The institution that signed it (`ins_…`).
    pub iss: String,
}

/// The claims of a gate admission (C6), a compact JWS EdDSA by the institution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdmissionClaims {
    /// `adm_…`: exits once.
    pub jti: String,
    /// The entry gate (`trm_…`).
    pub gate: String,
    /// The merchant whose exits take it (`mch_…`).
    pub merchant: String,
    /// Unix seconds.
    pub entered_at: i64,
    /// The institution that signed it (`ins_…`).
    pub iss: String,
}

/// `POST /v1/terminal/gate/entries` and `…/exits` (C6); the body may be empty.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateGateTransaction {
    /// Exits: the fee table's currency; needed only when the merchant has
    /// fee tables in several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Seconds the number stays valid, 30 to 3600 (default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
}

/// `POST /v1/terminal/tickets/verify` (C9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyTicket {
    /// The ticket from the payer's receipt.
    pub ticket: String,
}

/// 200 to `POST /v1/terminal/tickets/verify`: admit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketAdmitted {
    /// Always true: every refusal is an error.
    pub admitted: bool,
    pub event: String,
    /// `tkt_…`
    pub ticket_id: String,
}

/// 201 to `POST /v1/terminal/transactions` (and to the online purchase by
/// number, without `id` and `status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransactionCreated {
    /// `txn_…`
    pub id: String,
    /// The 8-digit transaction number the payer types.
    pub number: String,
    pub status: TransactionStatus,
    /// The EMVCo merchant-presented QR payload to show.
    pub qr: String,
    /// Minor units; null while the payer has not ordered from a menu.
    pub amount: Option<u64>,
    pub currency: String,
    /// When the number stops working, Unix seconds.
    pub expires_at: i64,
}

/// Who synchronized, as the clerk sees them (D6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TerminalPayer {
    /// The user's name.
    pub name: String,
    /// Path of the portrait (this transaction's terminal only), if on file.
    pub portrait_url: Option<String>,
}

/// A challenge put to the payer (D8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Challenge {
    pub kind: ChallengeKind,
    pub status: ChallengeStatus,
}

/// `POST /v1/terminal/transactions/{id}/challenges`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateChallenge {
    pub kind: ChallengeKind,
}

/// One line of a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceiptLine {
    pub code: String,
    pub name: String,
    pub quantity: u64,
    /// Minor units.
    pub unit_price: u64,
}

/// The receipt the phone gets and the terminal prints (D3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TerminalReceipt {
    /// `R-…`, unique at this institution.
    pub receipt_no: String,
    /// `txn_…`
    pub transaction_id: String,
    /// The merchant's name.
    pub merchant: String,
    /// The terminal's label.
    pub terminal: String,
    /// Minor units.
    pub amount: u64,
    pub currency: String,
    pub items: Vec<ReceiptLine>,
    /// Unix seconds.
    pub paid_at: i64,
    /// A ticket (section 13, devices), when the transaction sold one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

/// `GET /v1/terminal/transactions/{id}`: what the billing terminal sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TerminalTransaction {
    /// `txn_…`
    pub id: String,
    pub number: String,
    pub status: TransactionStatus,
    /// Minor units; null until the payer orders from a menu.
    pub amount: Option<u64>,
    pub currency: String,
    /// The order: the terminal's, or the one the payer made from the menu.
    pub order: Option<Order>,
    /// The menu, for a menu transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub menu: Option<Menu>,
    /// Who synchronized (D6), from `synchronized` on.
    pub payer: Option<TerminalPayer>,
    pub challenge: Option<Challenge>,
    /// Once `succeeded`.
    pub receipt: Option<TerminalReceipt>,
    /// Why, when `declined`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<DeclineCode>,
    /// The QR payload shown with the number.
    pub qr: String,
    /// When the number stops working, Unix seconds.
    pub expires_at: i64,
    /// Grows with every change; `?wait=N&version=V` answers at once when
    /// the transaction is no longer at version V.
    #[serde(default)]
    pub version: u64,
    /// A vending machine's article to dispense (C5): only once `succeeded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispense: Option<ReceiptLine>,
}

/// The merchant of a terminal, as the payer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TerminalMerchant {
    /// `mch_…`
    pub id: String,
    pub name: String,
}

/// The billing terminal, as the payer sees it before paying (D4, claims 7 and 17).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TerminalInfo {
    /// `trm_…`; for an online purchase by number (D10), the settlement's
    /// merchant has no terminal and this is null.
    pub id: Option<String>,
    pub name: String,
    pub kind: TerminalKind,
    pub label: String,
    pub location: Option<String>,
    pub merchant: TerminalMerchant,
}

/// `POST /v1/wallet/transactions/sync`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncTransaction {
    /// The 8 digits the terminal shows.
    pub number: String,
    /// At an exit gate (C6): the admission the entry gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admission: Option<String>,
}

/// 200 to a sync, and `GET /v1/wallet/transactions/{id}`: what the phone shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PayerTransaction {
    /// `txn_…` (or `aut_…` for an authentication by number).
    pub id: String,
    pub terminal: TerminalInfo,
    /// Minor units; null until ordered from the menu.
    pub amount: Option<u64>,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Order>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub menu: Option<Menu>,
    pub status: TransactionStatus,
    /// A challenge the terminal put (D8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<Challenge>,
    /// Once `succeeded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<TerminalReceipt>,
    /// Why, when `declined`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<DeclineCode>,
    /// True for an authentication by number (D11): nothing to pay, only the
    /// challenge to answer.
    #[serde(default)]
    pub authentication: bool,
    /// Grows with every change; `?wait=N&version=V` answers at once when
    /// the transaction is no longer at version V.
    #[serde(default)]
    pub version: u64,
    /// At an entry gate (C6): the admission to keep for the exit, a compact
    /// JWS EdDSA by the institution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admission: Option<String>,
}

/// One article and how many (D9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderLine {
    pub code: String,
    pub quantity: u64,
}

/// `POST /v1/wallet/transactions/{id}/order`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlaceOrder {
    pub items: Vec<OrderLine>,
}

/// `POST /v1/wallet/transactions/{id}/challenge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnswerChallenge {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
    pub pin: Secret<String>,
}

/// `POST /v1/wallet/transactions/{id}/confirm`: the amount the phone showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfirmTransaction {
    pub amount: u64,
    pub currency: String,
}

/// 200 to a confirm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfirmedTransaction {
    pub status: TransactionStatus,
    /// When `succeeded`.
    pub receipt: Option<TerminalReceipt>,
    /// Why, when `declined`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<DeclineCode>,
}

/// `POST /v1/payer/settlements/{id}/number` (D10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequestNumber {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
    pub client_secret: Secret<String>,
}

/// 200 to `POST /v1/payer/settlements/{id}/number`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettlementNumber {
    pub number: String,
    pub qr: String,
    pub expires_at: i64,
}

/// `POST /v1/terminal/authentications` (D11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateAuthentication {
    pub kind: ChallengeKind,
}

wire_enum! {
    /// Where an authentication by number is.
    AuthenticationStatus {
        /// Showing its number.
        AwaitingUser = "awaiting_user",
        /// A user synchronized and is being challenged.
        Pending = "pending",
        /// The user answered the challenge.
        Authenticated = "authenticated",
        /// Wrong answers, expiry or cancel.
        Failed = "failed",
    }
}

/// 201 to `POST /v1/terminal/authentications`, and its `GET`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Authentication {
    /// `aut_…`
    pub id: String,
    pub number: String,
    pub status: AuthenticationStatus,
    /// Once `authenticated`.
    pub user_id: Option<String>,
    /// Once `authenticated`.
    pub name: Option<String>,
    pub expires_at: i64,
}
