//! Wallets (PROTOCOL section 12): the server wallet API every institution
//! serves, the start message a settling server gives the browser, and the
//! page ↔ wallet events (EIP-6963's shape).
//!
//! These types are shared by the server, the checkout widget and the web
//! wallet, so all three agree on every field by construction.

use serde::{Deserialize, Serialize};

use crate::api::{DeclineCode, Status};
use crate::{Order, Secret};

/// The `type` of every start message.
pub const START_TYPE: &str = "kessai.start";
/// The start message version this crate speaks.
pub const START_VERSION: u32 = 1;

/// Prefix of wallet session tokens.
pub const SESSION_TOKEN_PREFIX: &str = "wt_";

/// `POST /v1/wallet/sessions`: log in to a server wallet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateSession {
    /// The wallet user (`usr_…`).
    pub user_id: String,
    /// The user's password.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
    pub password: Secret<String>,
}

/// A wallet session (201 to `POST /v1/wallet/sessions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Session {
    /// Bearer token (`wt_…`) for the other wallet calls. Only its hash is stored.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
    pub token: Secret<String>,
    /// The wallet user (`usr_…`).
    pub user_id: String,
    /// The user's name.
    pub name: String,
    /// When the token stops working, Unix seconds.
    pub expires_at: i64,
}

/// One account of the user at this server wallet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalletAccount {
    /// `acc_…`
    pub account_id: String,
    /// The payment brand the account pays under, e.g. `sakura-debit`.
    pub brand: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// Balance less holds, in minor units.
    pub available: u64,
}

/// `GET /v1/wallet/brand-info`: what this server wallet can pay with (B5, B6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BrandInfo {
    /// The institution (`ins_…`).
    pub institution_id: String,
    /// The institution's name, e.g. `Sakura Bank`.
    pub name: String,
    /// Brands the institution issues.
    pub brands: Vec<String>,
    /// Currencies it holds.
    pub currencies: Vec<String>,
    /// The user's accounts.
    pub accounts: Vec<WalletAccount>,
    /// Institutions (`ins_…`) whose shops this server wallet can pay, besides
    /// its own: its registered peers. Not in PROTOCOL's list; added so that a
    /// wallet can tell before sending anything which account can pay a
    /// start message's settling institution.
    #[serde(default)]
    pub peers: Vec<String>,
    /// Ask again after this many seconds.
    pub refresh_after_s: u64,
}

/// The shop as the start message names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartMerchant {
    /// `mch_…`
    pub id: String,
    /// The shop's name.
    pub name: String,
    /// The shop's first registered origin, e.g. `https://shop.example`.
    pub origin: String,
}

/// The start message (B13): everything a wallet needs to pay a settlement.
/// `GET /v1/payer/settlements/{id}/start?client_secret=…` gives it, and it
/// is the body of `POST /v1/wallet/payments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartMessage {
    /// Always `kessai.start`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Always 1.
    pub version: u32,
    /// The settling server's base URL, e.g. `https://pay.example`.
    pub server: String,
    /// The settling institution (`ins_…`).
    pub institution_id: String,
    /// `stl_…`
    pub settlement_id: String,
    /// The settlement's client secret (`stl_…_secret_…`).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
    pub client_secret: Secret<String>,
    /// The order as the shop created it (full form).
    pub order: Order,
    /// Brands the shop accepts.
    pub brands: Vec<String>,
    /// The shop.
    pub merchant: StartMerchant,
}

impl StartMessage {
    /// Whether `type` and `version` are ones this crate understands.
    pub fn is_supported(&self) -> bool {
        self.kind == START_TYPE && self.version == START_VERSION
    }
}

/// What the buyer sees of a wallet payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Receipt {
    /// The shop's name.
    pub merchant: String,
    /// The shop's order id.
    pub order_id: String,
    /// Total in minor units.
    pub total: u64,
    /// ISO 4217 currency.
    pub currency: String,
    /// The brand that paid.
    pub brand: String,
    /// Unix seconds; absent when nothing was paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<i64>,
}

/// 200 to `POST /v1/wallet/payments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalletPayment {
    /// The settlement's status at the settling server, e.g. `succeeded`.
    pub status: Status,
    /// `stl_…` at the settling server.
    pub settlement_id: String,
    /// The result token for the shop (HS256 JWS), once final.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_token: Option<String>,
    /// Why, when `status` is `declined`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<DeclineCode>,
    /// The fields that differed when `status` is `mismatched`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mismatched_fields: Option<Vec<String>>,
    /// What was paid.
    pub receipt: Receipt,
}

wire_enum! {
    /// What a history line records.
    HistoryKind {
        /// The user paid a shop.
        Payment = "payment",
        /// A shop gave money back.
        Refund = "refund",
        /// Any other movement (opening balance, adjustment).
        Transfer = "transfer",
    }
}

/// One line of the user's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    /// Stable id of the line (`his_…` is not used: the transfer's own id).
    pub id: String,
    /// `payment`, `refund` or `transfer`.
    pub kind: HistoryKind,
    /// Signed amount in minor units: negative when money left the account.
    pub amount: i64,
    /// ISO 4217 currency.
    pub currency: String,
    /// The shop, for payments and refunds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant: Option<String>,
    /// The shop's order id, for payments and refunds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The settlement, for payments and refunds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement_id: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
}

/// `GET /v1/wallet/history`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct History {
    /// The lines, newest first.
    pub data: Vec<HistoryEntry>,
    /// Whether older lines exist (ask with `starting_after` = the last id).
    pub has_more: bool,
}

/// `kessai:announceWallet` detail: a wallet present in the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletAnnouncement {
    /// Random per page load; names the wallet in `kessai:startPayment`.
    pub uuid: String,
    /// Shown on the button "Pay with {name}".
    pub name: String,
    /// A raster `data:` URL (PNG, JPEG, WebP or GIF); never SVG.
    pub icon: String,
    /// Reverse-DNS id of the wallet, e.g. `org.kessai.wallet`.
    pub rdns: String,
}

impl WalletAnnouncement {
    /// Whether the icon is a raster `data:` URL. SVG can carry script, a
    /// known hole in EIP-6963 wallets, so it is refused.
    pub fn has_raster_icon(&self) -> bool {
        [
            "data:image/png;",
            "data:image/jpeg;",
            "data:image/webp;",
            "data:image/gif;",
        ]
        .iter()
        .any(|prefix| self.icon.starts_with(prefix))
    }
}

/// `kessai:startPayment` detail: the page asks one wallet to pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartPayment {
    /// The announced wallet's uuid.
    pub uuid: String,
    /// Echoed in the result.
    pub request_id: String,
    /// What to pay.
    pub message: StartMessage,
}

/// `kessai:paymentResult` detail: the wallet's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentResult {
    /// The request this answers.
    pub request_id: String,
    /// The settlement's status; `canceled` when the user closed the sheet
    /// without paying (nothing was sent).
    pub status: Status,
    /// `stl_…`
    pub settlement_id: String,
    /// The result token for the shop, once final.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_token: Option<String>,
}
