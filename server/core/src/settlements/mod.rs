//! Settlements: the record of one order's dual-request settlement, and the
//! writer steps that move it between statuses (PROTOCOL sections 4 to 6).
//!
//! Every step runs inside the writer's transaction: the status change, the
//! ledger postings and the outbox event commit together or not at all, so a
//! crash never leaves half a settlement. The first statement of each step is
//! a conditional UPDATE on the settlement's status: the claim that makes a
//! repeated or concurrent second request move money at most once, on SQLite
//! and on PostgreSQL with several servers alike.

use std::sync::{Arc, OnceLock};

use crate::args;
use crate::store::{Conn, Reader, Row, Value};
use kessai_protocol::api::{self, decline, status, CardSummary, ConfirmResult};
use kessai_protocol::jws::{self, ResultClaims};
use kessai_protocol::Order;

use crate::collation::{self, MerchantSide};
use crate::error::{Error, Result};
use crate::instruments::Resolved;
use crate::keyring::Keyring;
use crate::ledger::{self, Refusal};
use crate::merchants::Merchant;
use crate::outbox;

pub const COLUMNS: &str = "id, merchant_id, order_id, currency, total, order_digest, order_json, payer_order_json, \
    status, decline_code, mismatched_fields, merchant_request_at, notify_url, return_url, brands, payment_type, \
    card_brand, card_last4, payer_account_id, user_id, hold_id, refunded, result_jti, created_at, expires_at, \
    settled_at, updated_at, cooling_off_s, capture_at, order_id_assigned";

/// One row of `settlements`.
#[derive(Debug, Clone)]
pub struct Record {
    pub id: String,
    pub merchant_id: String,
    pub order_id: String,
    pub currency: String,
    pub total: i64,
    pub order_digest: String,
    pub order_json: Option<String>,
    pub payer_order_json: Option<String>,
    pub status: String,
    pub decline_code: Option<String>,
    pub mismatched_fields: Option<String>,
    pub merchant_request_at: Option<i64>,
    pub notify_url: Option<String>,
    pub return_url: Option<String>,
    pub brands: Option<String>,
    pub payment_type: Option<String>,
    pub card_brand: Option<String>,
    pub card_last4: Option<String>,
    pub payer_account_id: Option<String>,
    pub user_id: Option<String>,
    pub hold_id: Option<String>,
    pub refunded: i64,
    pub result_jti: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub settled_at: Option<i64>,
    pub updated_at: i64,
    /// Cooling-off period (C7): funds stay held this long before they move.
    pub cooling_off_s: Option<i64>,
    /// When a `held` settlement's funds move to the merchant.
    pub capture_at: Option<i64>,
    /// The settling server assigned `order_id` (A13).
    pub order_id_assigned: bool,
}

impl Record {
    pub fn from_row(r: &Row) -> sqlx::Result<Self> {
        Ok(Self {
            id: r.try_get("id")?,
            merchant_id: r.try_get("merchant_id")?,
            order_id: r.try_get("order_id")?,
            currency: r.try_get("currency")?,
            total: r.try_get("total")?,
            order_digest: r.try_get("order_digest")?,
            order_json: r.try_get("order_json")?,
            payer_order_json: r.try_get("payer_order_json")?,
            status: r.try_get("status")?,
            decline_code: r.try_get("decline_code")?,
            mismatched_fields: r.try_get("mismatched_fields")?,
            merchant_request_at: r.try_get("merchant_request_at")?,
            notify_url: r.try_get("notify_url")?,
            return_url: r.try_get("return_url")?,
            brands: r.try_get("brands")?,
            payment_type: r.try_get("payment_type")?,
            card_brand: r.try_get("card_brand")?,
            card_last4: r.try_get("card_last4")?,
            payer_account_id: r.try_get("payer_account_id")?,
            user_id: r.try_get("user_id")?,
            hold_id: r.try_get("hold_id")?,
            refunded: r.try_get("refunded")?,
            result_jti: r.try_get("result_jti")?,
            created_at: r.try_get("created_at")?,
            expires_at: r.try_get("expires_at")?,
            settled_at: r.try_get("settled_at")?,
            updated_at: r.try_get("updated_at")?,
            cooling_off_s: r.try_get("cooling_off_s")?,
            capture_at: r.try_get("capture_at")?,
            order_id_assigned: r.try_get::<i64>("order_id_assigned")? != 0,
        })
    }

    /// The collation outcome a result token reports: refunds later change
    /// the status, not what was settled.
    fn outcome(&self) -> Option<&str> {
        match self.status.as_str() {
            status::REFUNDED | status::PARTIALLY_REFUNDED => Some(status::SUCCEEDED),
            // Paid, funds reserved for the cooling-off period: the shop may
            // ship; a cancellation within the period gives the money back.
            status::HELD => Some(status::HELD),
            s if status::is_final(s) => Some(s),
            _ => None,
        }
    }

    fn order(&self) -> Result<Option<Order>> {
        parse_order(self.order_json.as_deref())
    }

    fn payer_order(&self) -> Result<Option<Order>> {
        parse_order(self.payer_order_json.as_deref())
    }

    fn card_summary(&self) -> Option<CardSummary> {
        match (&self.card_brand, &self.card_last4) {
            (Some(brand), Some(last4)) => Some(CardSummary {
                brand: brand.clone(),
                last4: last4.clone(),
            }),
            _ => None,
        }
    }

    fn mismatched(&self) -> Option<Vec<String>> {
        self.mismatched_fields
            .as_ref()
            .map(|f| f.split(',').map(String::from).collect())
    }
}

fn parse_order(json: Option<&str>) -> Result<Option<Order>> {
    match json {
        Some(j) => Ok(Some(serde_json::from_str(j).map_err(|e| Error::Internal(e.into()))?)),
        None => Ok(None),
    }
}

pub fn amount(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Amounts are validated to at most 2^53 - 1 before they get here.
pub fn db_amount(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn result_claims(rec: &Record, audience: &str, outcome: &str) -> ResultClaims {
    ResultClaims {
        iss: "kessai".into(),
        aud: audience.to_string(),
        sub: rec.id.clone(),
        order_id: rec.order_id.clone(),
        status: outcome.to_string(),
        total: amount(rec.total),
        currency: rec.currency.clone(),
        order_digest: rec.order_digest.clone(),
        iat: rec.settled_at.unwrap_or(rec.updated_at),
        jti: rec.result_jti.clone().unwrap_or_else(|| rec.id.clone()),
    }
}

/// The result token for the shop (A6): reproducible from the record, so a
/// repeated request gets the very same token. `try_sign`, not `sign`: this
/// runs on the writer thread, where even an impossible panic must not be.
pub fn result_token(rec: &Record, merchant: &Merchant) -> Option<String> {
    let outcome = rec.outcome()?;
    jws::try_sign(&merchant.result_key, &result_claims(rec, &merchant.id, outcome)).ok()
}

/// The payer token for the user (A10, claims 11): same claims, `aud` = user.
pub fn payer_token(rec: &Record, user_key: Option<&[u8; 32]>) -> Option<String> {
    let outcome = rec.outcome()?;
    let (user_id, key) = (rec.user_id.as_ref()?, user_key?);
    jws::try_sign(key, &result_claims(rec, user_id, outcome)).ok()
}

/// The settlement as the merchant sees it.
/// `keyring` is given when the answer may carry the client secret (the
/// merchant's own requests); webhook payloads never do.
pub fn view(rec: &Record, merchant: &Merchant, keyring: Option<&Keyring>) -> api::Settlement {
    api::Settlement {
        id: rec.id.clone(),
        object: "settlement".into(),
        status: rec.status.clone(),
        order_id: rec.order_id.clone(),
        order_digest: rec.order_digest.clone(),
        currency: rec.currency.clone(),
        total: amount(rec.total),
        client_secret: keyring
            .filter(|_| rec.status == status::AWAITING_PAYER)
            .map(|k| k.client_secret(&rec.id)),
        decline_code: rec.decline_code.clone(),
        mismatched_fields: rec.mismatched(),
        card: rec.card_summary(),
        result_token: result_token(rec, merchant),
        refunded: amount(rec.refunded),
        created_at: rec.created_at,
        expires_at: rec.expires_at,
        settled_at: rec.settled_at,
    }
}

/// The answer to the buyer's second request and to the payer's polling.
pub fn confirm_result(rec: &Record, merchant: &Merchant, user_key: Option<&[u8; 32]>) -> ConfirmResult {
    ConfirmResult {
        id: rec.id.clone(),
        status: rec.status.clone(),
        order_id: rec.order_id.clone(),
        currency: rec.currency.clone(),
        total: amount(rec.total),
        result_token: result_token(rec, merchant),
        payer_token: payer_token(rec, user_key),
        card: rec.card_summary(),
        decline_code: rec.decline_code.clone(),
        mismatched_fields: rec.mismatched(),
        payer_secret: None,
        expires_at: Some(rec.expires_at),
    }
}

pub async fn get(conn: &mut Conn, id: &str) -> sqlx::Result<Option<Record>> {
    let row = conn
        .fetch_optional(&format!("SELECT {COLUMNS} FROM settlements WHERE id = $1"), args![id])
        .await?;
    row.as_ref().map(Record::from_row).transpose()
}

pub async fn get_pooled(pool: &Reader, id: &str) -> sqlx::Result<Option<Record>> {
    let sql = format!("SELECT {COLUMNS} FROM settlements WHERE id = $1");
    let row = crate::store::pool_optional(pool, &sql, args![id]).await?;
    row.as_ref().map(Record::from_row).transpose()
}

async fn by_order(conn: &mut Conn, merchant_id: &str, order_id: &str) -> sqlx::Result<Option<Record>> {
    let row = conn
        .fetch_optional(
            &format!("SELECT {COLUMNS} FROM settlements WHERE merchant_id = $1 AND order_id = $2"),
            args![merchant_id, order_id],
        )
        .await?;
    row.as_ref().map(Record::from_row).transpose()
}

impl Record {
    /// Every column with its value, in `COLUMNS` order: the one list both
    /// `insert` and `save` are made from.
    fn columns(&self) -> [(&'static str, Value); 30] {
        [
            ("id", (&self.id).into()),
            ("merchant_id", (&self.merchant_id).into()),
            ("order_id", (&self.order_id).into()),
            ("currency", (&self.currency).into()),
            ("total", self.total.into()),
            ("order_digest", (&self.order_digest).into()),
            ("order_json", (&self.order_json).into()),
            ("payer_order_json", (&self.payer_order_json).into()),
            ("status", (&self.status).into()),
            ("decline_code", (&self.decline_code).into()),
            ("mismatched_fields", (&self.mismatched_fields).into()),
            ("merchant_request_at", self.merchant_request_at.into()),
            ("notify_url", (&self.notify_url).into()),
            ("return_url", (&self.return_url).into()),
            ("brands", (&self.brands).into()),
            ("payment_type", (&self.payment_type).into()),
            ("card_brand", (&self.card_brand).into()),
            ("card_last4", (&self.card_last4).into()),
            ("payer_account_id", (&self.payer_account_id).into()),
            ("user_id", (&self.user_id).into()),
            ("hold_id", (&self.hold_id).into()),
            ("refunded", self.refunded.into()),
            ("result_jti", (&self.result_jti).into()),
            ("created_at", self.created_at.into()),
            ("expires_at", self.expires_at.into()),
            ("settled_at", self.settled_at.into()),
            ("updated_at", self.updated_at.into()),
            ("cooling_off_s", self.cooling_off_s.into()),
            ("capture_at", self.capture_at.into()),
            ("order_id_assigned", i64::from(self.order_id_assigned).into()),
        ]
    }
}

/// Columns fixed when the settlement is created: `save` leaves them (and
/// their index entries) alone.
const IMMUTABLE: [&str; 9] = [
    "id",
    "merchant_id",
    "order_id",
    "currency",
    "total",
    "order_digest",
    "payer_order_json",
    "created_at",
    "order_id_assigned",
];

/// Writes every mutable column of `rec` back: one statement per transition.
async fn save(conn: &mut Conn, rec: &Record) -> sqlx::Result<()> {
    static SQL: OnceLock<String> = OnceLock::new();
    let columns = rec.columns();
    let mutable = || columns.iter().filter(|(name, _)| !IMMUTABLE.contains(name));
    let sql = SQL.get_or_init(|| {
        let sets: Vec<String> = mutable()
            .enumerate()
            .map(|(i, (name, _))| format!("{name} = ${}", i + 2))
            .collect();
        format!("UPDATE settlements SET {} WHERE id = $1", sets.join(", "))
    });
    let mut args = args![&rec.id];
    args.extend(mutable().map(|(_, value)| value.clone()));
    conn.execute(sql, args).await?;
    Ok(())
}

async fn insert(conn: &mut Conn, rec: &Record) -> sqlx::Result<()> {
    static SQL: OnceLock<String> = OnceLock::new();
    let columns = rec.columns();
    let sql = SQL.get_or_init(|| {
        let places: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
        format!("INSERT INTO settlements ({COLUMNS}) VALUES ({})", places.join(", "))
    });
    conn.execute(sql, columns.into_iter().map(|(_, value)| value).collect())
        .await?;
    Ok(())
}

/// Sets a final collation status, records the event and queues the webhook.
async fn finish(conn: &mut Conn, rec: &mut Record, merchant: &Merchant, new_status: &str, now: i64) -> Result<()> {
    rec.status = new_status.to_string();
    rec.settled_at = Some(now);
    rec.updated_at = now;
    rec.result_jti = Some(crate::ids::new_ordered(kessai_protocol::ids::EVENT));
    if rec.merchant_request_at.is_some() {
        let event_id = rec.result_jti.clone().unwrap_or_default();
        save(conn, rec).await?;
        outbox::record(conn, rec, merchant, &event_id, now).await?;
    } else {
        // Payer-first and the shop has not asked yet: the event is recorded
        // when its first request claims this settlement.
        save(conn, rec).await?;
    }
    Ok(())
}

/// The shop's first request, validated by the route.
#[derive(Debug, Clone)]
pub struct NewSettlement {
    pub order_id: Option<String>,
    pub currency: String,
    pub total: u64,
    pub order_digest: String,
    pub order: Option<Order>,
    pub brands: Option<Vec<String>>,
    pub notify_url: Option<String>,
    pub return_url: Option<String>,
    pub expires_in_s: i64,
    pub cooling_off_s: Option<i64>,
}

/// First request (A1, A13): records the settlement, or, when the buyer's
/// request came first (payer-first), collates and settles at once.
pub async fn create(conn: &mut Conn, merchant: &Merchant, new: NewSettlement, now: i64) -> Result<Record> {
    let brands = match &new.brands {
        Some(b) => Some(serde_json::to_string(b).map_err(|e| Error::Internal(e.into()))?),
        None => None,
    };
    let order_json = match &new.order {
        Some(o) => Some(serde_json::to_string(o).map_err(|e| Error::Internal(e.into()))?),
        None => None,
    };
    let notify_url = new.notify_url.clone().or_else(|| merchant.notify_url.clone());
    if let Some(order_id) = &new.order_id {
        if let Some(mut existing) = by_order(conn, &merchant.id, order_id).await? {
            if existing.merchant_request_at.is_some() {
                return Err(Error::Conflict {
                    code: "order_id_in_use",
                    message: format!("This merchant already has a settlement for order_id {order_id:?}."),
                    param: Some("order.order_id".into()),
                });
            }
            existing.merchant_request_at = Some(now);
            existing.order_json = order_json;
            existing.notify_url = notify_url;
            existing.return_url = new.return_url.clone();
            existing.brands = brands;
            existing.cooling_off_s = new.cooling_off_s;
            return claim_payer_first(conn, merchant, existing, &new, now).await;
        }
    }
    let id = crate::ids::new_ordered(kessai_protocol::ids::SETTLEMENT);
    let rec = Record {
        order_id: new.order_id.clone().unwrap_or_else(|| server_order_id(&id)),
        merchant_id: merchant.id.clone(),
        currency: new.currency.clone(),
        total: db_amount(new.total),
        order_digest: new.order_digest.clone(),
        order_json,
        payer_order_json: None,
        status: status::AWAITING_PAYER.into(),
        decline_code: None,
        mismatched_fields: None,
        merchant_request_at: Some(now),
        notify_url,
        return_url: new.return_url.clone(),
        brands,
        payment_type: None,
        card_brand: None,
        card_last4: None,
        payer_account_id: None,
        user_id: None,
        hold_id: None,
        refunded: 0,
        result_jti: None,
        created_at: now,
        expires_at: now.saturating_add(new.expires_in_s),
        settled_at: None,
        updated_at: now,
        cooling_off_s: new.cooling_off_s,
        capture_at: None,
        order_id_assigned: new.order_id.is_none(),
        id,
    };
    insert(conn, &rec).await?;
    Ok(rec)
}

/// Order ids the settling server assigns (paragraph 0027): derived from the
/// settlement id, so they are unique and fit the order_id alphabet.
fn server_order_id(settlement_id: &str) -> String {
    format!(
        "kessai-{}",
        settlement_id.trim_start_matches(kessai_protocol::ids::SETTLEMENT)
    )
}

async fn claim_payer_first(
    conn: &mut Conn,
    merchant: &Merchant,
    mut rec: Record,
    new: &NewSettlement,
    now: i64,
) -> Result<Record> {
    rec.updated_at = now;
    if rec.status != status::AWAITING_MERCHANT {
        // The buyer's attempt already ended (declined or expired): the shop
        // learns it from this 201 and from the event.
        save(conn, &rec).await?;
        let event_id = rec
            .result_jti
            .clone()
            .unwrap_or_else(|| crate::ids::new_ordered(kessai_protocol::ids::EVENT));
        outbox::record(conn, &rec, merchant, &event_id, now).await?;
        return Ok(rec);
    }
    let payer_order = rec
        .payer_order()?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("payer-first settlement without the payer's order")))?;
    let side = MerchantSide {
        order_id: &rec.order_id,
        currency: &new.currency,
        total: new.total,
        order_digest: &new.order_digest,
        order: new.order.as_ref(),
        order_id_assigned: false,
    };
    let differ = collation::collate(&side, &payer_order);
    let hold_id = rec.hold_id.clone();
    if !differ.is_empty() {
        if let Some(h) = &hold_id {
            ledger::release_hold(conn, h).await?;
        }
        rec.mismatched_fields = Some(differ.join(","));
        finish(conn, &mut rec, merchant, status::MISMATCHED, now).await?;
        return Ok(rec);
    }
    let brand_ok = brand_accepted(rec.brands.as_deref(), rec.card_brand.as_deref());
    match (&hold_id, brand_ok) {
        (Some(h), true) => {
            let payee = ledger::ensure_payee(conn, &merchant.id, &rec.currency, now).await?;
            if ledger::capture_hold(conn, h, &payee, &rec.id, now).await?.is_none() {
                return Err(Error::Internal(anyhow::anyhow!("hold {h} of {} was not open", rec.id)));
            }
            finish(conn, &mut rec, merchant, status::SUCCEEDED, now).await?;
        }
        (hold, _) => {
            if let Some(h) = hold {
                ledger::release_hold(conn, h).await?;
            }
            rec.decline_code = Some(decline::CARD_DECLINED.into());
            finish(conn, &mut rec, merchant, status::DECLINED, now).await?;
        }
    }
    Ok(rec)
}

fn brand_accepted(brands_json: Option<&str>, card_brand: Option<&str>) -> bool {
    let (Some(json), Some(brand)) = (brands_json, card_brand) else {
        return true;
    };
    serde_json::from_str::<Vec<String>>(json)
        .map(|b| b.iter().any(|x| x == brand))
        .unwrap_or(false)
}

/// The claim: a conditional UPDATE that only one step can win, whatever
/// runs concurrently (on PostgreSQL the row lock makes a loser re-check the
/// condition after the winner commits). `condition` is a fixed SQL fragment
/// over the row, with `$2` = now.
async fn claim(conn: &mut Conn, id: &str, condition: &'static str, now: i64) -> sqlx::Result<Option<Record>> {
    let row = conn
        .fetch_optional(
            &format!("UPDATE settlements SET updated_at = $2 WHERE id = $1 AND {condition} RETURNING {COLUMNS}"),
            args![id, now],
        )
        .await?;
    row.as_ref().map(Record::from_row).transpose()
}

/// The buyer's second request (A3 to A5, A10 to A12): collate, then settle
/// with the ledger. Returns the record after the step, and whether this
/// request was the one that settled it (false: a repeat got the first outcome).
pub async fn confirm(
    conn: &mut Conn,
    merchant: &Merchant,
    settlement_id: &str,
    payer_order: &Order,
    payer: &Resolved,
    now: i64,
) -> Result<Record> {
    // The claim: only one request can move a settlement out of awaiting_payer.
    let claimed = claim(
        conn,
        settlement_id,
        "status = 'awaiting_payer' AND expires_at > $2",
        now,
    )
    .await?;
    let Some(mut rec) = claimed else {
        return not_claimable(conn, merchant, settlement_id, now).await;
    };
    let merchant_order = rec.order()?;
    let side = MerchantSide {
        order_id: &rec.order_id,
        currency: &rec.currency,
        total: amount(rec.total),
        order_digest: &rec.order_digest,
        order: merchant_order.as_ref(),
        order_id_assigned: rec.order_id_assigned,
    };
    let differ = collation::collate(&side, payer_order);
    rec.payment_type = Some(payer.payment_type.into());
    if let Some((brand, last4)) = &payer.card {
        rec.card_brand = Some(brand.clone()).filter(|b| !b.is_empty());
        rec.card_last4 = Some(last4.clone());
    }
    rec.user_id = payer.user.as_ref().map(|u| u.id.clone());
    if !differ.is_empty() {
        // A4: any disagreement means no settlement; no money moves.
        rec.mismatched_fields = Some(differ.join(","));
        finish(conn, &mut rec, merchant, status::MISMATCHED, now).await?;
        return Ok(rec);
    }
    if let Some((jti, expires_at)) = &payer.jti {
        let user = payer.user.as_ref().map(|u| u.id.as_str()).unwrap_or_default();
        if !crate::instruments::consume_jti(conn, user, jti, *expires_at).await? {
            return Err(Error::unauthorized(
                "authenticator_reused",
                "This payer authenticator was already used; make a new one.",
            ));
        }
    }
    let decline_code = match (payer.decline, &payer.account_id) {
        (Some(code), _) => Some(code),
        (None, None) => Some(decline::CARD_DECLINED),
        (None, Some(_)) if !brand_accepted(rec.brands.as_deref(), rec.card_brand.as_deref()) => {
            Some(decline::CARD_DECLINED)
        }
        (None, Some(account)) => match move_funds(conn, merchant, &mut rec, account, now).await? {
            Ok(()) => None,
            Err(Refusal::InsufficientFunds) => Some(decline::INSUFFICIENT_FUNDS),
            Err(Refusal::NoSuchAccount) => Some(decline::CARD_DECLINED),
        },
    };
    match decline_code {
        None if rec.hold_id.is_some() => {
            rec.capture_at = rec.cooling_off_s.map(|c| now.saturating_add(c));
            finish(conn, &mut rec, merchant, status::HELD, now).await?
        }
        None => finish(conn, &mut rec, merchant, status::SUCCEEDED, now).await?,
        Some(code) => {
            rec.decline_code = Some(code.into());
            finish(conn, &mut rec, merchant, status::DECLINED, now).await?;
        }
    }
    Ok(rec)
}

/// Pays the merchant from `account`, or, with a cooling-off period (C7),
/// only reserves the amount: it moves when the period ends.
async fn move_funds(
    conn: &mut Conn,
    merchant: &Merchant,
    rec: &mut Record,
    account: &str,
    now: i64,
) -> sqlx::Result<Result<(), Refusal>> {
    rec.payer_account_id = Some(account.to_string());
    if rec.cooling_off_s.is_some() {
        let held = ledger::hold(conn, account, rec.total, &rec.currency, &rec.id, now).await?;
        return Ok(held.map(|h| rec.hold_id = Some(h)));
    }
    let payee = ledger::ensure_payee(conn, &merchant.id, &rec.currency, now).await?;
    let moved = ledger::transfer(
        conn,
        "settlement",
        account,
        &payee,
        rec.total,
        &rec.currency,
        Some(&rec.id),
        now,
    )
    .await?;
    Ok(moved.map(|_| ()))
}

/// The error a payer gets for a settlement that can no longer be paid.
pub fn closed_error(rec: &Record) -> Option<Error> {
    match rec.status.as_str() {
        status::EXPIRED => Some(Error::conflict(
            "settlement_expired",
            "This settlement expired before it was paid; ask the shop for a new one.",
        )),
        status::CANCELED => Some(Error::conflict(
            "settlement_canceled",
            "The shop canceled this settlement.",
        )),
        _ => None,
    }
}

/// Why a settlement could not be claimed: a repeat gets the first outcome;
/// a settlement past its time is expired here and then; others are errors.
async fn not_claimable(conn: &mut Conn, merchant: &Merchant, settlement_id: &str, now: i64) -> Result<Record> {
    let mut rec = get(conn, settlement_id)
        .await?
        .ok_or_else(|| Error::not_found("settlement_not_found", "No such settlement."))?;
    if rec.status == status::AWAITING_PAYER && rec.expires_at <= now {
        expire(conn, merchant, &mut rec, now).await?;
    }
    // Expired and canceled are returned, not raised: an error would roll
    // back the expiry just recorded. The route turns them into 409s.
    match rec.status.as_str() {
        status::AWAITING_MERCHANT => Err(Error::conflict(
            "settlement_awaiting_merchant",
            "This settlement is waiting for the shop's request.",
        )),
        _ => Ok(rec),
    }
}

/// A buyer's second request that arrived before the shop's first
/// (payer-first, PROTOCOL section 5): funds are held until the shop's request
/// arrives or the settlement expires.
pub async fn payer_first(
    conn: &mut Conn,
    merchant: &Merchant,
    order: &Order,
    payer: &Resolved,
    expires_in_s: i64,
    now: i64,
) -> Result<Record> {
    if by_order(conn, &merchant.id, &order.order_id).await?.is_some() {
        return Err(Error::Conflict {
            code: "order_id_in_use",
            message: "A settlement for this order already exists; pay it with the settlement id and client secret the shop gave you.".into(),
            param: Some("order.order_id".into()),
        });
    }
    if let Some((jti, expires_at)) = &payer.jti {
        let user = payer.user.as_ref().map(|u| u.id.as_str()).unwrap_or_default();
        if !crate::instruments::consume_jti(conn, user, jti, *expires_at).await? {
            return Err(Error::unauthorized(
                "authenticator_reused",
                "This payer authenticator was already used; make a new one.",
            ));
        }
    }
    let id = crate::ids::new_ordered(kessai_protocol::ids::SETTLEMENT);
    let mut rec = Record {
        merchant_id: merchant.id.clone(),
        order_id: order.order_id.clone(),
        currency: order.currency.clone(),
        total: db_amount(order.total),
        order_digest: order.digest(),
        order_json: None,
        payer_order_json: Some(serde_json::to_string(order).map_err(|e| Error::Internal(e.into()))?),
        status: status::AWAITING_MERCHANT.into(),
        decline_code: None,
        mismatched_fields: None,
        merchant_request_at: None,
        notify_url: None,
        return_url: None,
        brands: None,
        payment_type: Some(payer.payment_type.into()),
        card_brand: payer.card.as_ref().map(|(b, _)| b.clone()).filter(|b| !b.is_empty()),
        card_last4: payer.card.as_ref().map(|(_, l)| l.clone()),
        payer_account_id: payer.account_id.clone(),
        user_id: payer.user.as_ref().map(|u| u.id.clone()),
        hold_id: None,
        refunded: 0,
        result_jti: None,
        created_at: now,
        expires_at: now.saturating_add(expires_in_s),
        settled_at: None,
        updated_at: now,
        cooling_off_s: None,
        capture_at: None,
        order_id_assigned: false,
        id,
    };
    insert(conn, &rec).await?;
    let decline_code = match (payer.decline, &payer.account_id) {
        (Some(code), _) => Some(code),
        (None, None) => Some(decline::CARD_DECLINED),
        (None, Some(account)) => match ledger::hold(conn, account, rec.total, &rec.currency, &rec.id, now).await? {
            Ok(hold_id) => {
                rec.hold_id = Some(hold_id);
                save(conn, &rec).await?;
                None
            }
            Err(Refusal::InsufficientFunds) => Some(decline::INSUFFICIENT_FUNDS),
            Err(Refusal::NoSuchAccount) => Some(decline::CARD_DECLINED),
        },
    };
    if let Some(code) = decline_code {
        rec.decline_code = Some(code.into());
        finish(conn, &mut rec, merchant, status::DECLINED, now).await?;
    }
    Ok(rec)
}

async fn expire(conn: &mut Conn, merchant: &Merchant, rec: &mut Record, now: i64) -> Result<()> {
    if let Some(h) = rec.hold_id.clone() {
        ledger::release_hold(conn, &h).await?;
    }
    finish(conn, rec, merchant, status::EXPIRED, now).await
}

/// Expires one settlement if it is still waiting and past its time. Run by
/// the sweeper; a no-op if something else moved it first.
pub async fn expire_if_due(conn: &mut Conn, merchant: &Merchant, id: &str, now: i64) -> Result<Option<Record>> {
    let claimed = claim(
        conn,
        id,
        "status IN ('awaiting_payer', 'awaiting_merchant') AND expires_at <= $2",
        now,
    )
    .await?;
    let Some(mut rec) = claimed else { return Ok(None) };
    expire(conn, merchant, &mut rec, now).await?;
    Ok(Some(rec))
}

/// Ends a cooling-off period: the held funds move to the merchant. Run by
/// the sweeper; a no-op if the settlement was canceled first.
pub async fn capture_if_due(conn: &mut Conn, merchant: &Merchant, id: &str, now: i64) -> Result<Option<Record>> {
    let claimed = claim(conn, id, "status = 'held' AND capture_at <= $2", now).await?;
    let Some(mut rec) = claimed else { return Ok(None) };
    let hold = rec
        .hold_id
        .clone()
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("held settlement {id} without a hold")))?;
    let payee = ledger::ensure_payee(conn, &merchant.id, &rec.currency, now).await?;
    if ledger::capture_hold(conn, &hold, &payee, &rec.id, now).await?.is_none() {
        return Err(Error::Internal(anyhow::anyhow!("hold {hold} of {id} was not open")));
    }
    finish(conn, &mut rec, merchant, status::SUCCEEDED, now).await?;
    Ok(Some(rec))
}

/// Cancellation by the shop (A14): possible while nobody has paid, and
/// during a cooling-off period (C7), when the held funds go back.
pub async fn cancel(conn: &mut Conn, merchant: &Merchant, id: &str, now: i64) -> Result<Record> {
    let claimed = claim(conn, id, "status IN ('awaiting_payer', 'held')", now)
        .await?
        .filter(|r| r.merchant_id == merchant.id);
    match claimed {
        Some(mut rec) => {
            if let Some(h) = rec.hold_id.clone() {
                ledger::release_hold(conn, &h).await?;
            }
            finish(conn, &mut rec, merchant, status::CANCELED, now).await?;
            Ok(rec)
        }
        None => {
            let rec = get(conn, id)
                .await?
                .filter(|r| r.merchant_id == merchant.id && r.merchant_request_at.is_some());
            match rec {
                None => Err(Error::not_found("settlement_not_found", "No such settlement.")),
                Some(r) if r.status == status::CANCELED => Ok(r),
                Some(r) => Err(Error::conflict(
                    "settlement_not_cancelable",
                    format!(
                        "A settlement that is {} cannot be canceled; refund it instead if it succeeded.",
                        r.status
                    ),
                )),
            }
        }
    }
}

/// A refund (A14): money back from the merchant's payee account to the
/// account that paid. Several partial refunds may follow one another.
pub async fn refund(
    conn: &mut Conn,
    merchant: &Merchant,
    id: &str,
    requested: Option<u64>,
    reason: Option<String>,
    now: i64,
) -> Result<(Record, api::Refund)> {
    let claimed = claim(conn, id, "status IN ('succeeded', 'partially_refunded')", now)
        .await?
        .filter(|r| r.merchant_id == merchant.id);
    let Some(mut rec) = claimed else {
        return match get(conn, id)
            .await?
            .filter(|r| r.merchant_id == merchant.id && r.merchant_request_at.is_some())
        {
            None => Err(Error::not_found("settlement_not_found", "No such settlement.")),
            Some(r) => Err(Error::conflict(
                "settlement_not_refundable",
                format!("Only succeeded settlements can be refunded; this one is {}.", r.status),
            )),
        };
    };
    let remaining = rec.total - rec.refunded;
    let amount_minor = match requested {
        None => remaining,
        Some(a) if a == 0 || db_amount(a) > remaining => {
            return Err(Error::field(
                "refund_amount_invalid",
                "amount",
                format!("amount must be 1 to {remaining}, the part of the settlement not yet refunded."),
            ))
        }
        Some(a) => db_amount(a),
    };
    let payer = rec
        .payer_account_id
        .clone()
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("succeeded settlement {id} without payer account")))?;
    let payee = ledger::payee_account_id(&merchant.id, &rec.currency);
    let transfer_id = match ledger::transfer(
        conn,
        "refund",
        &payee,
        &payer,
        amount_minor,
        &rec.currency,
        Some(&rec.id),
        now,
    )
    .await?
    {
        Ok(t) => t,
        Err(_) => {
            return Err(Error::Unprocessable {
                code: "refund_insufficient_funds",
                message: "The merchant's balance cannot cover this refund.".into(),
                param: Some("amount".into()),
            })
        }
    };
    let refund_id = crate::ids::new_ordered(kessai_protocol::ids::REFUND);
    conn.execute(
        "INSERT INTO refunds (id, settlement_id, amount, currency, reason, status, transfer_id, created_at)
         VALUES ($1, $2, $3, $4, $5, 'succeeded', $6, $7)",
        args![
            &refund_id,
            &rec.id,
            amount_minor,
            &rec.currency,
            &reason,
            &transfer_id,
            now
        ],
    )
    .await?;
    rec.refunded += amount_minor;
    rec.status = if rec.refunded == rec.total {
        status::REFUNDED
    } else {
        status::PARTIALLY_REFUNDED
    }
    .into();
    rec.updated_at = now;
    save(conn, &rec).await?;
    let event_id = crate::ids::new_ordered(kessai_protocol::ids::EVENT);
    outbox::record(conn, &rec, merchant, &event_id, now).await?;
    let refund = api::Refund {
        id: refund_id,
        object: "refund".into(),
        settlement_id: rec.id.clone(),
        amount: amount(amount_minor),
        currency: rec.currency.clone(),
        status: "succeeded".into(),
        created_at: now,
    };
    Ok((rec, refund))
}

/// Shared handle used by routes that hold merchant and keyring together.
pub type MerchantRef = Arc<Merchant>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_column_list_matches_the_select_list() {
        let rec = Record {
            id: "stl_x".into(),
            merchant_id: "mch_x".into(),
            order_id: "o".into(),
            currency: "JPY".into(),
            total: 1,
            order_digest: "sha256:x".into(),
            order_json: None,
            payer_order_json: None,
            status: status::AWAITING_PAYER.into(),
            decline_code: None,
            mismatched_fields: None,
            merchant_request_at: None,
            notify_url: None,
            return_url: None,
            brands: None,
            payment_type: None,
            card_brand: None,
            card_last4: None,
            payer_account_id: None,
            user_id: None,
            hold_id: None,
            refunded: 0,
            result_jti: None,
            created_at: 0,
            expires_at: 0,
            settled_at: None,
            updated_at: 0,
            cooling_off_s: None,
            capture_at: None,
            order_id_assigned: false,
        };
        let names: Vec<&str> = rec.columns().iter().map(|(n, _)| *n).collect();
        let select: Vec<&str> = COLUMNS.split(',').map(str::trim).collect();
        assert_eq!(names, select);
        assert!(IMMUTABLE.iter().all(|c| names.contains(c)));
    }
}
