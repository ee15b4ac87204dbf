//! The financial institution host: a double-entry ledger (seed 003's
//! 金融機関ホスト, seed 002's settling computer).
//!
//! Every transfer debits one account and credits another by the same amount,
//! recorded as two postings that sum to zero. An account's `balance` is the
//! sum of its postings; `held` is the sum of its open holds; the available
//! balance `balance - held` never goes below the account's `floor`. Each
//! currency has one funding account (the issuer's side of every deposit), so
//! the balances of one currency always sum to zero.
//!
//! The guards are inside the UPDATE statements themselves, so they hold on
//! PostgreSQL with several servers as well as on SQLite with one writer.

use kessai_protocol::money::Money;
use serde::Serialize;

use crate::args;
use crate::error::{Error, Result};
use crate::ids;
use crate::invariant;
use crate::store::Conn;

/// The most a balance may reach: i64, so that SQLite never silently turns an
/// overflowing integer into a float.
const BALANCE_MAX: i64 = i64::MAX;

pub mod kind {
    pub const BUYER: &str = "buyer";
    pub const PAYEE: &str = "payee";
    pub const FUNDING: &str = "funding";
    /// What a peer owes this institution: debited when this institution
    /// pays a shop on the peer's authorization; may go as low as minus the
    /// credit it gives the peer.
    pub const DUE_FROM: &str = "due_from";
    /// What this institution owes a peer: credited when it captures a
    /// buyer's funds for a payment the peer settled.
    pub const DUE_TO: &str = "due_to";
}

/// Why money moved: the `kind` of a transfer row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferKind {
    /// Opening balance of a card or wallet account, from the issuer.
    Funding,
    /// A settlement: buyer to merchant.
    Settlement,
    /// A refund: merchant back to buyer.
    Refund,
    /// A buyer's funds captured for a payment a peer settled.
    PeerSettlement,
}

impl TransferKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Funding => "funding",
            Self::Settlement => "settlement",
            Self::Refund => "refund",
            Self::PeerSettlement => "peer_settlement",
        }
    }
}

/// Why the ledger refused a movement. Not an error: a business outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    InsufficientFunds,
    /// The account does not exist or is in another currency.
    NoSuchAccount,
}

pub fn funding_account_id(currency: &str) -> String {
    format!("acc_funding_{}", currency.to_ascii_lowercase())
}

/// The payee account of a merchant in one currency; created on first use.
pub fn payee_account_id(merchant_id: &str, currency: &str) -> String {
    format!("acc_{}_{}", merchant_id, currency.to_ascii_lowercase())
}

/// The account of what `peer` owes this institution in `currency`.
pub fn due_from_account_id(peer_id: &str, currency: &str) -> String {
    format!("acc_{}_{}_due_from", peer_id, currency.to_ascii_lowercase())
}

/// The account of what this institution owes `peer` in `currency`.
pub fn due_to_account_id(peer_id: &str, currency: &str) -> String {
    format!("acc_{}_{}_due_to", peer_id, currency.to_ascii_lowercase())
}

/// The peer's due-from account, its floor set to minus the credit limit
/// this institution gives it now (the limit may have changed since).
pub async fn ensure_due_from(conn: &mut Conn, peer_id: &str, credit_limit: &Money, now: i64) -> Result<String> {
    let id = due_from_account_id(peer_id, credit_limit.currency());
    let floor = -credit_limit.minor_i64();
    ensure_account(conn, &id, kind::DUE_FROM, peer_id, credit_limit.currency(), floor, now).await?;
    conn.execute("UPDATE accounts SET floor = $1 WHERE id = $2", args![floor, &id])
        .await?;
    Ok(id)
}

pub async fn ensure_due_to(conn: &mut Conn, peer_id: &str, currency: &str, now: i64) -> Result<String> {
    let id = due_to_account_id(peer_id, currency);
    ensure_account(conn, &id, kind::DUE_TO, peer_id, currency, 0, now).await?;
    Ok(id)
}

async fn ensure_account(
    conn: &mut Conn,
    id: &str,
    kind: &str,
    owner: &str,
    currency: &str,
    floor: i64,
    now: i64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO accounts (id, kind, owner, currency, balance, held, floor, created_at)
         VALUES ($1, $2, $3, $4, 0, 0, $5, $6) ON CONFLICT (id) DO NOTHING",
        args![id, kind, owner, currency, floor, now],
    )
    .await?;
    Ok(())
}

pub async fn ensure_payee(conn: &mut Conn, merchant_id: &str, currency: &str, now: i64) -> Result<String> {
    let id = payee_account_id(merchant_id, currency);
    ensure_account(conn, &id, kind::PAYEE, merchant_id, currency, 0, now).await?;
    Ok(id)
}

/// Opens a buyer account and funds it from the currency's funding account.
pub async fn open_funded_account(conn: &mut Conn, owner: &str, balance: &Money, now: i64) -> anyhow::Result<String> {
    let currency = balance.currency();
    let funding = funding_account_id(currency);
    // The funding account may go as negative as needed: it is the issuer.
    ensure_account(conn, &funding, kind::FUNDING, "kessai", currency, -BALANCE_MAX, now).await?;
    let id = ids::new(kessai_protocol::ids::ACCOUNT);
    ensure_account(conn, &id, kind::BUYER, owner, currency, 0, now).await?;
    if !balance.is_zero() {
        match transfer(conn, TransferKind::Funding, &funding, &id, balance, None, now).await? {
            Ok(_) => {}
            Err(refusal) => anyhow::bail!("funding the account was refused: {refusal:?}"),
        }
    }
    Ok(id)
}

/// An account's figures as an UPDATE left them (`RETURNING`).
struct ReadBack {
    balance: i64,
    held: i64,
    floor: i64,
}

impl ReadBack {
    fn from_row(row: &crate::store::Row) -> Result<Self> {
        Ok(Self {
            balance: row.try_get("balance")?,
            held: row.try_get("held")?,
            floor: row.try_get("floor")?,
        })
    }

    /// The guard every movement keeps: available balance at or above floor.
    fn within_floor(&self) -> bool {
        self.held >= 0 && self.balance.checked_sub(self.held).is_some_and(|a| a >= self.floor)
    }
}

/// Moves `amount` from `debit` to `credit`. The debit is refused, with
/// nothing written, when it would take the available balance below the floor.
pub async fn transfer(
    conn: &mut Conn,
    kind: TransferKind,
    debit: &str,
    credit: &str,
    amount: &Money,
    settlement_id: Option<&str>,
    now: i64,
) -> Result<Result<String, Refusal>> {
    invariant!(
        !amount.is_zero(),
        "{} transfer of nothing from {debit} to {credit}",
        kind.as_str()
    );
    let (minor, currency) = (amount.minor_i64(), amount.currency());
    lock_in_id_order(conn, debit, credit).await?;
    let debited = conn
        .fetch_optional(
            "UPDATE accounts SET balance = balance - $1
             WHERE id = $2 AND currency = $3 AND balance - held - $1 >= floor
             RETURNING balance, held, floor",
            args![minor, debit, currency],
        )
        .await?;
    let Some(debited) = debited else {
        return Ok(Err(refusal_reason(conn, debit, currency).await?));
    };
    // Read back what the guard allowed: the debit left the floor intact.
    let debited = ReadBack::from_row(&debited)?;
    invariant!(debited.within_floor(), "debit of {amount} took {debit} below its floor");
    let credited = conn
        .fetch_optional(
            "UPDATE accounts SET balance = balance + $1
             WHERE id = $2 AND currency = $3 AND balance <= $4 - $1
             RETURNING balance, held, floor",
            args![minor, credit, currency, BALANCE_MAX],
        )
        .await?;
    // The debit above is already written: the caller's step must be rolled
    // back, so this is an error, not a refusal.
    let credited = credited.ok_or_else(|| {
        Error::internal(format!(
            "credit account {credit} missing, in another currency or at its maximum"
        ))
    })?;
    let credited = ReadBack::from_row(&credited)?;
    invariant!(
        credited.within_floor(),
        "after a credit of {amount}, {credit} is below its floor"
    );
    let id = ids::new_ordered("trf_");
    conn.execute(
        "INSERT INTO transfers (id, kind, debit_account, credit_account, amount, currency, settlement_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        args![&id, kind.as_str(), debit, credit, minor, currency, settlement_id, now],
    )
    .await?;
    conn.execute(
        "INSERT INTO postings (transfer_id, account_id, amount) VALUES ($1, $2, $3), ($1, $4, $5)",
        args![&id, debit, -minor, credit, minor],
    )
    .await?;
    Ok(Ok(id))
}

/// Two transfers between the same accounts in opposite directions (a
/// payment and a refund on two servers) would each lock its debit account
/// and wait for the other's: a deadlock. Every transfer locks the lower id
/// first, so they queue instead. The debit goes first anyway when its id is
/// lower; otherwise a no-op UPDATE takes the credit account's lock (the
/// credit itself must wait until the debit's guard has passed).
async fn lock_in_id_order(conn: &mut Conn, debit: &str, credit: &str) -> Result<()> {
    if credit < debit {
        conn.execute("UPDATE accounts SET balance = balance WHERE id = $1", args![credit])
            .await?;
    }
    Ok(())
}

async fn refusal_reason(conn: &mut Conn, account: &str, currency: &str) -> Result<Refusal> {
    let row = conn
        .fetch_optional("SELECT currency FROM accounts WHERE id = $1", args![account])
        .await?;
    Ok(match row {
        Some(r) if r.try_get::<String>("currency")? == currency => Refusal::InsufficientFunds,
        _ => Refusal::NoSuchAccount,
    })
}

/// Reserves `amount` on an account: it stays in the balance but is no longer
/// available. Used while a payer-first request waits for the merchant and
/// during a cooling-off period.
pub async fn hold(
    conn: &mut Conn,
    account: &str,
    amount: &Money,
    settlement_id: &str,
    now: i64,
) -> Result<Result<String, Refusal>> {
    let (minor, currency) = (amount.minor_i64(), amount.currency());
    let reserved = conn
        .fetch_optional(
            "UPDATE accounts SET held = held + $1
             WHERE id = $2 AND currency = $3 AND balance - held - $1 >= floor
             RETURNING balance, held, floor",
            args![minor, account, currency],
        )
        .await?;
    let Some(reserved) = reserved else {
        return Ok(Err(refusal_reason(conn, account, currency).await?));
    };
    let reserved = ReadBack::from_row(&reserved)?;
    invariant!(
        reserved.within_floor(),
        "hold of {amount} took {account} below its floor"
    );
    let id = ids::new_ordered("hld_");
    conn.execute(
        "INSERT INTO holds (id, account_id, amount, currency, settlement_id, status, created_at)
         VALUES ($1, $2, $3, $4, $5, 'open', $6)",
        args![&id, account, minor, currency, settlement_id, now],
    )
    .await?;
    Ok(Ok(id))
}

/// An open hold, ended.
struct Ended {
    account: String,
    amount: Money,
}

/// Ends an open hold (`released` or `captured`); returns its account and
/// amount, or None when it was not open (already ended: nothing to do).
async fn end_hold(conn: &mut Conn, hold_id: &str, status: &str) -> Result<Option<Ended>> {
    let row = conn
        .fetch_optional(
            "UPDATE holds SET status = $2 WHERE id = $1 AND status = 'open' RETURNING account_id, amount, currency",
            args![hold_id, status],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let account: String = row.try_get("account_id")?;
    let minor: i64 = row.try_get("amount")?;
    let currency: String = row.try_get("currency")?;
    let amount = u64::try_from(minor)
        .ok()
        .and_then(|m| Money::new(m, &currency, "amount").ok())
        .ok_or_else(|| Error::internal(format!("hold {hold_id} holds {minor} {currency:?}")))?;
    let released = conn
        .fetch_optional(
            "UPDATE accounts SET held = held - $1 WHERE id = $2 RETURNING balance, held, floor",
            args![minor, &account],
        )
        .await?
        .ok_or_else(|| Error::internal(format!("hold {hold_id} on missing account {account}")))?;
    let released = ReadBack::from_row(&released)?;
    invariant!(
        released.held >= 0,
        "ending hold {hold_id} left {account} holding {}",
        released.held
    );
    Ok(Some(Ended { account, amount }))
}

pub async fn release_hold(conn: &mut Conn, hold_id: &str) -> Result<()> {
    end_hold(conn, hold_id, "released").await?;
    Ok(())
}

/// A hold turned into a transfer.
#[derive(Debug, Clone)]
pub struct Captured {
    /// What the hold reserved, now moved.
    pub amount: Money,
    /// None when the hold was of nothing (a free order): nothing to move.
    pub transfer_id: Option<String>,
}

/// Turns a hold into a transfer to `credit`. None when the hold was no
/// longer open.
pub async fn capture_hold(
    conn: &mut Conn,
    hold_id: &str,
    credit: &str,
    settlement_id: &str,
    now: i64,
) -> Result<Option<Captured>> {
    capture_hold_as(conn, TransferKind::Settlement, hold_id, credit, settlement_id, now).await
}

/// [`capture_hold`] recording the transfer as `kind`, for `reference`.
pub async fn capture_hold_as(
    conn: &mut Conn,
    kind: TransferKind,
    hold_id: &str,
    credit: &str,
    reference: &str,
    now: i64,
) -> Result<Option<Captured>> {
    let Some(Ended { account, amount }) = end_hold(conn, hold_id, "captured").await? else {
        return Ok(None);
    };
    if amount.is_zero() {
        return Ok(Some(Captured {
            amount,
            transfer_id: None,
        }));
    }
    match transfer(conn, kind, &account, credit, &amount, Some(reference), now).await? {
        Ok(id) => Ok(Some(Captured {
            amount,
            transfer_id: Some(id),
        })),
        // The amount was held, so it is available: a refusal here means the
        // ledger is inconsistent. Abort the whole step.
        Err(refusal) => Err(Error::internal(format!(
            "capturing hold {hold_id} refused: {refusal:?}"
        ))),
    }
}

/// The kind of an account (`buyer`, `payee`, `due_from`, …), if it exists.
pub async fn account_kind(conn: &mut Conn, account: &str) -> Result<Option<String>> {
    let row = conn
        .fetch_optional("SELECT kind FROM accounts WHERE id = $1", args![account])
        .await?;
    Ok(row.map(|r| r.try_get("kind")).transpose()?)
}

pub async fn available(conn: &mut Conn, account: &str) -> Result<Option<(i64, i64, String)>> {
    let row = conn
        .fetch_optional(
            "SELECT balance, held, currency FROM accounts WHERE id = $1",
            args![account],
        )
        .await?;
    match row {
        Some(r) => Ok(Some((
            r.try_get("balance")?,
            r.try_get("held")?,
            r.try_get("currency")?,
        ))),
        None => Ok(None),
    }
}

/// What `kessai ledger check` prints.
#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub ok: bool,
    pub accounts: i64,
    pub transfers: i64,
    pub violations: Vec<String>,
}

/// Verifies every invariant of the ledger, and that money moved at most once
/// per settlement.
pub async fn check(conn: &mut Conn) -> anyhow::Result<CheckReport> {
    let mut violations = Vec::new();
    let checks: [(&str, &str); 7] = [
        (
            "transfer does not balance (two postings summing to zero, each of the transfer's amount)",
            "SELECT t.id AS id FROM transfers t LEFT JOIN postings p ON p.transfer_id = t.id
             GROUP BY t.id, t.amount
             HAVING COUNT(p.account_id) <> 2 OR COALESCE(SUM(p.amount), 0) <> 0
                 OR COALESCE(MAX(p.amount), 0) <> t.amount OR t.amount <= 0",
        ),
        (
            "posting to an account of another currency",
            "SELECT t.id AS id FROM transfers t JOIN postings p ON p.transfer_id = t.id
             JOIN accounts a ON a.id = p.account_id WHERE a.currency <> t.currency",
        ),
        (
            "account balance differs from the sum of its postings",
            "SELECT a.id AS id FROM accounts a LEFT JOIN postings p ON p.account_id = a.id
             GROUP BY a.id, a.balance HAVING a.balance <> COALESCE(SUM(p.amount), 0)",
        ),
        (
            "account held amount differs from the sum of its open holds",
            "SELECT a.id AS id FROM accounts a LEFT JOIN holds h ON h.account_id = a.id AND h.status = 'open'
             GROUP BY a.id, a.held HAVING a.held <> COALESCE(SUM(h.amount), 0)",
        ),
        (
            "account below its floor",
            "SELECT id FROM accounts WHERE balance - held < floor OR held < 0",
        ),
        (
            "currency whose balances do not sum to zero",
            "SELECT currency AS id FROM accounts GROUP BY currency HAVING COALESCE(SUM(balance), 0) <> 0",
        ),
        (
            "settlement whose money moved other than exactly once",
            "SELECT s.id AS id FROM settlements s
             WHERE (SELECT COUNT(*) FROM transfers t WHERE t.settlement_id = s.id AND t.kind = 'settlement')
                   <> (CASE WHEN s.status IN ('succeeded', 'refunded', 'partially_refunded') AND s.total > 0
                            THEN 1 ELSE 0 END)
                OR s.refunded > s.total
                OR s.refunded <> (SELECT COALESCE(SUM(r.amount), 0) FROM refunds r WHERE r.settlement_id = s.id)",
        ),
    ];
    for (what, sql) in checks {
        let rows = conn.fetch_all(sql, args![]).await?;
        for row in rows {
            let id: String = row.try_get("id")?;
            violations.push(format!("{what}: {id}"));
        }
    }
    let accounts: i64 = conn
        .fetch_one("SELECT COUNT(*) AS n FROM accounts", args![])
        .await?
        .try_get("n")?;
    let transfers: i64 = conn
        .fetch_one("SELECT COUNT(*) AS n FROM transfers", args![])
        .await?
        .try_get("n")?;
    Ok(CheckReport {
        ok: violations.is_empty(),
        accounts,
        transfers,
        violations,
    })
}
