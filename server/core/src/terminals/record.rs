//! The terminal transaction row, and the one place that knows its SQL.

use kessai_protocol::api::DeclineCode;
use kessai_protocol::terminal::{
    Challenge, ChallengeKind, ChallengeStatus, Menu, TerminalReceipt, TicketSpec, TransactionStatus,
};
use kessai_protocol::Order;

use crate::args;
use crate::error::{Error, Result};
use crate::store::{Conn, Reader, Row};

/// What a number synchronizes a payer for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A sale: the payer confirms an amount and pays.
    Payment,
    /// An authentication by number (D11): the payer answers a challenge.
    Authentication,
    /// A vending machine's sale (C5): the payer orders one article from the
    /// menu, which the machine dispenses once paid.
    Vending,
    /// An entry gate (C6): the payer's sync is the whole of it; the answer
    /// carries the admission, and the gate opens.
    GateEntry,
    /// An exit gate (C6): the payer syncs with the admission, the fee is
    /// computed, and the payer pays it.
    GateExit,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Payment => "payment",
            Purpose::Authentication => "authentication",
            Purpose::Vending => "vending",
            Purpose::GateEntry => "gate_entry",
            Purpose::GateExit => "gate_exit",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "payment" => Some(Purpose::Payment),
            "authentication" => Some(Purpose::Authentication),
            "vending" => Some(Purpose::Vending),
            "gate_entry" => Some(Purpose::GateEntry),
            "gate_exit" => Some(Purpose::GateExit),
            _ => None,
        }
    }
}

/// A terminal transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Txn {
    pub id: String,
    pub purpose: Purpose,
    /// None for an online purchase by number (D10).
    pub terminal_id: Option<String>,
    pub merchant_id: String,
    /// The settlement it pays: made at confirmation for a sale, the shop's
    /// own for an online purchase by number.
    pub settlement_id: Option<String>,
    pub number: String,
    pub status: TransactionStatus,
    pub currency: String,
    /// None until a menu is ordered from (and for authentications).
    pub amount: Option<u64>,
    pub order: Option<Order>,
    pub menu: Option<Menu>,
    pub min_age: Option<u32>,
    pub payer_user_id: Option<String>,
    pub challenge: Option<Challenge>,
    pub challenge_failures: i64,
    pub decline_code: Option<DeclineCode>,
    pub receipt: Option<TerminalReceipt>,
    /// The ticket it sells (C9), signed into the receipt once paid.
    pub ticket: Option<TicketSpec>,
    pub expires_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Written changes so far; a reader that saw this version has seen all.
    pub version: i64,
}

pub(super) const COLUMNS: &str = "id, purpose, terminal_id, merchant_id, settlement_id, number, status, currency, \
     amount, order_json, menu_json, min_age, payer_user_id, challenge_kind, challenge_status, challenge_failures, \
     decline_code, receipt_json, expires_at, created_at, updated_at, version, ticket_json";

fn json<T: serde::de::DeserializeOwned>(r: &Row, column: &str) -> Result<Option<T>> {
    let text: Option<String> = r.try_get(column)?;
    text.map(|t| serde_json::from_str(&t).map_err(|e| Error::internal(format!("{column} in the database: {e}"))))
        .transpose()
}

fn parsed<T>(r: &Row, column: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Option<T>> {
    let text: Option<String> = r.try_get(column)?;
    text.map(|t| parse(&t).ok_or_else(|| Error::internal(format!("{column} {t:?} in the database"))))
        .transpose()
}

impl Txn {
    pub fn from_row(r: &Row) -> Result<Self> {
        let challenge = match (
            parsed(r, "challenge_kind", ChallengeKind::parse)?,
            parsed(r, "challenge_status", ChallengeStatus::parse)?,
        ) {
            (Some(kind), Some(status)) => Some(Challenge { kind, status }),
            _ => None,
        };
        let amount: Option<i64> = r.try_get("amount")?;
        let min_age: Option<i64> = r.try_get("min_age")?;
        Ok(Self {
            id: r.try_get("id")?,
            purpose: parsed(r, "purpose", Purpose::parse)?.ok_or_else(|| Error::internal("purpose missing"))?,
            terminal_id: r.try_get("terminal_id")?,
            merchant_id: r.try_get("merchant_id")?,
            settlement_id: r.try_get("settlement_id")?,
            number: r.try_get("number")?,
            status: parsed(r, "status", TransactionStatus::parse)?.ok_or_else(|| Error::internal("status missing"))?,
            currency: r.try_get("currency")?,
            amount: amount.map(|a| a.max(0).unsigned_abs()),
            order: json(r, "order_json")?,
            menu: json(r, "menu_json")?,
            min_age: min_age.and_then(|a| u32::try_from(a).ok()),
            payer_user_id: r.try_get("payer_user_id")?,
            challenge,
            challenge_failures: r.try_get("challenge_failures")?,
            decline_code: parsed(r, "decline_code", DeclineCode::parse)?,
            receipt: json(r, "receipt_json")?,
            ticket: json(r, "ticket_json")?,
            expires_at: r.try_get("expires_at")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
            version: r.try_get("version")?,
        })
    }

    /// The status a reader should see: an open transaction past its time is
    /// expired, even before a write records it.
    pub fn effective_status(&self, now: i64) -> TransactionStatus {
        if !self.status.is_final() && self.expires_at <= now {
            TransactionStatus::Expired
        } else {
            self.status
        }
    }

    /// The transaction as of `now`, with the expiry a reader would see.
    pub fn as_of(mut self, now: i64) -> Self {
        self.status = self.effective_status(now);
        self
    }
}

fn to_json<T: serde::Serialize>(value: &Option<T>) -> Result<Option<String>> {
    value
        .as_ref()
        .map(|v| serde_json::to_string(v).map_err(|e| Error::Internal(e.into())))
        .transpose()
}

fn signed(amount: Option<u64>) -> Option<i64> {
    amount.and_then(|a| i64::try_from(a).ok())
}

/// Inserts a new transaction.
pub(super) async fn insert(conn: &mut Conn, t: &Txn) -> Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO terminal_transactions ({COLUMNS}) VALUES
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"
        ),
        row_args(t)?,
    )
    .await?;
    Ok(())
}

/// Writes every mutable field of `t` back, as its next version. The row
/// was locked by the step (or the one writer runs it), so versions never
/// collide.
pub(super) async fn save(conn: &mut Conn, t: &mut Txn) -> Result<()> {
    t.version += 1;
    let values = row_args(t)?;
    // The UPDATE names columns 2.. by position; the id stays $1.
    let sets = COLUMNS
        .split(", ")
        .enumerate()
        .skip(1)
        .map(|(i, c)| format!("{c} = ${}", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    conn.execute(
        &format!("UPDATE terminal_transactions SET {sets} WHERE id = $1"),
        values,
    )
    .await?;
    Ok(())
}

fn row_args(t: &Txn) -> Result<Vec<crate::store::Value>> {
    Ok(args![
        &t.id,
        t.purpose.as_str(),
        &t.terminal_id,
        &t.merchant_id,
        &t.settlement_id,
        &t.number,
        t.status.as_str(),
        &t.currency,
        signed(t.amount),
        to_json(&t.order)?,
        to_json(&t.menu)?,
        t.min_age.map(i64::from),
        &t.payer_user_id,
        t.challenge.as_ref().map(|c| c.kind.as_str()),
        t.challenge.as_ref().map(|c| c.status.as_str()),
        t.challenge_failures,
        t.decline_code.map(|c| c.as_str()),
        to_json(&t.receipt)?,
        t.expires_at,
        t.created_at,
        t.updated_at,
        t.version,
        to_json(&t.ticket)?
    ])
}

/// A transaction by id, locked for the rest of the step where the
/// database can (PostgreSQL): two servers' steps on one transaction queue.
pub(super) async fn lock(conn: &mut Conn, id: &str) -> Result<Option<Txn>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM terminal_transactions WHERE id = $1{}",
        conn.for_update()
    );
    let row = conn.fetch_optional(&sql, args![id]).await?;
    row.map(|r| Txn::from_row(&r)).transpose()
}

/// A transaction by id, for reading.
pub async fn get_pooled(pool: &Reader, id: &str) -> Result<Option<Txn>> {
    let row = crate::store::pool_optional(
        pool,
        &format!("SELECT {COLUMNS} FROM terminal_transactions WHERE id = $1"),
        args![id],
    )
    .await?;
    row.map(|r| Txn::from_row(&r)).transpose()
}

/// The open transaction a number names, locked.
pub(super) async fn by_open_number(conn: &mut Conn, number: &str) -> Result<Option<Txn>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM terminal_transactions WHERE number = $1 AND status IN ('awaiting_payer', 'synchronized'){}",
        conn.for_update()
    );
    let row = conn.fetch_optional(&sql, args![number]).await?;
    row.map(|r| Txn::from_row(&r)).transpose()
}

/// The open transaction of a settlement paid by number (D10), if any.
pub(super) async fn open_for_settlement(conn: &mut Conn, settlement_id: &str) -> Result<Option<Txn>> {
    let row = conn
        .fetch_optional(
            &format!(
                "SELECT {COLUMNS} FROM terminal_transactions
                 WHERE settlement_id = $1 AND status IN ('awaiting_payer', 'synchronized') ORDER BY created_at DESC"
            ),
            args![settlement_id],
        )
        .await?;
    row.map(|r| Txn::from_row(&r)).transpose()
}
