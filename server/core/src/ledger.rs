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

use crate::args;
use crate::store::Conn;
use serde::Serialize;

use crate::ids;

/// The most a balance may reach: i64, so that SQLite never silently turns an
/// overflowing integer into a float.
const BALANCE_MAX: i64 = i64::MAX;

pub mod kind {
    pub const BUYER: &str = "buyer";
    pub const PAYEE: &str = "payee";
    pub const FUNDING: &str = "funding";
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

async fn ensure_account(
    conn: &mut Conn,
    id: &str,
    kind: &str,
    owner: &str,
    currency: &str,
    floor: i64,
    now: i64,
) -> sqlx::Result<()> {
    conn.execute(
        "INSERT INTO accounts (id, kind, owner, currency, balance, held, floor, created_at)
         VALUES ($1, $2, $3, $4, 0, 0, $5, $6) ON CONFLICT (id) DO NOTHING",
        args![id, kind, owner, currency, floor, now],
    )
    .await?;
    Ok(())
}

pub async fn ensure_payee(conn: &mut Conn, merchant_id: &str, currency: &str, now: i64) -> sqlx::Result<String> {
    let id = payee_account_id(merchant_id, currency);
    ensure_account(conn, &id, kind::PAYEE, merchant_id, currency, 0, now).await?;
    Ok(id)
}

/// Opens a buyer account and funds it from the currency's funding account.
pub async fn open_funded_account(
    conn: &mut Conn,
    owner: &str,
    currency: &str,
    balance: i64,
    now: i64,
) -> anyhow::Result<String> {
    let funding = funding_account_id(currency);
    // The funding account may go as negative as needed: it is the issuer.
    ensure_account(conn, &funding, kind::FUNDING, "kessai", currency, -BALANCE_MAX, now).await?;
    let id = ids::new(kessai_protocol::ids::ACCOUNT);
    ensure_account(conn, &id, kind::BUYER, owner, currency, 0, now).await?;
    if balance > 0 {
        match transfer(conn, "funding", &funding, &id, balance, currency, None, now).await? {
            Ok(_) => {}
            Err(refusal) => anyhow::bail!("funding the account was refused: {refusal:?}"),
        }
    }
    Ok(id)
}

/// Moves `amount` from `debit` to `credit`. The debit is refused, with
/// nothing written, when it would take the available balance below the floor.
#[allow(clippy::too_many_arguments)]
pub async fn transfer(
    conn: &mut Conn,
    kind: &str,
    debit: &str,
    credit: &str,
    amount: i64,
    currency: &str,
    settlement_id: Option<&str>,
    now: i64,
) -> sqlx::Result<Result<String, Refusal>> {
    debug_assert!(amount > 0, "transfers move a positive amount");
    let debited = conn
        .execute(
            "UPDATE accounts SET balance = balance - $1
         WHERE id = $2 AND currency = $3 AND balance - held - $1 >= floor",
            args![amount, debit, currency],
        )
        .await?;
    if debited != 1 {
        return Ok(Err(refusal_reason(conn, debit, currency).await?));
    }
    let credited = conn
        .execute(
            "UPDATE accounts SET balance = balance + $1
         WHERE id = $2 AND currency = $3 AND balance <= $4 - $1",
            args![amount, credit, currency, BALANCE_MAX],
        )
        .await?;
    if credited != 1 {
        // The debit above is already written: the caller's savepoint must be
        // rolled back, so this is an error, not a refusal.
        return Err(sqlx::Error::Protocol(format!(
            "credit account {credit} missing, in another currency or at its maximum"
        )));
    }
    let id = ids::new_ordered("trf_");
    conn.execute(
        "INSERT INTO transfers (id, kind, debit_account, credit_account, amount, currency, settlement_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        args![&id, kind, debit, credit, amount, currency, settlement_id, now],
    )
    .await?;
    conn.execute(
        "INSERT INTO postings (transfer_id, account_id, amount) VALUES ($1, $2, $3), ($1, $4, $5)",
        args![&id, debit, -amount, credit, amount],
    )
    .await?;
    Ok(Ok(id))
}

async fn refusal_reason(conn: &mut Conn, account: &str, currency: &str) -> sqlx::Result<Refusal> {
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
    amount: i64,
    currency: &str,
    settlement_id: &str,
    now: i64,
) -> sqlx::Result<Result<String, Refusal>> {
    let reserved = conn
        .execute(
            "UPDATE accounts SET held = held + $1
         WHERE id = $2 AND currency = $3 AND balance - held - $1 >= floor",
            args![amount, account, currency],
        )
        .await?;
    if reserved != 1 {
        return Ok(Err(refusal_reason(conn, account, currency).await?));
    }
    let id = ids::new_ordered("hld_");
    conn.execute(
        "INSERT INTO holds (id, account_id, amount, currency, settlement_id, status, created_at)
         VALUES ($1, $2, $3, $4, $5, 'open', $6)",
        args![&id, account, amount, currency, settlement_id, now],
    )
    .await?;
    Ok(Ok(id))
}

/// Ends an open hold (`released` or `captured`); returns its account and
/// amount, or None when it was not open (already ended: nothing to do).
async fn end_hold(conn: &mut Conn, hold_id: &str, status: &str) -> sqlx::Result<Option<(String, i64, String)>> {
    let row = conn
        .fetch_optional(
            "UPDATE holds SET status = $2 WHERE id = $1 AND status = 'open' RETURNING account_id, amount, currency",
            args![hold_id, status],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let account: String = row.try_get("account_id")?;
    let amount: i64 = row.try_get("amount")?;
    let currency: String = row.try_get("currency")?;
    conn.execute(
        "UPDATE accounts SET held = held - $1 WHERE id = $2",
        args![amount, &account],
    )
    .await?;
    Ok(Some((account, amount, currency)))
}

pub async fn release_hold(conn: &mut Conn, hold_id: &str) -> sqlx::Result<()> {
    end_hold(conn, hold_id, "released").await?;
    Ok(())
}

/// Turns a hold into a transfer to `credit`. Returns the transfer id, or None
/// when the hold was no longer open.
pub async fn capture_hold(
    conn: &mut Conn,
    hold_id: &str,
    credit: &str,
    settlement_id: &str,
    now: i64,
) -> sqlx::Result<Option<String>> {
    let Some((account, amount, currency)) = end_hold(conn, hold_id, "captured").await? else {
        return Ok(None);
    };
    match transfer(
        conn,
        "settlement",
        &account,
        credit,
        amount,
        &currency,
        Some(settlement_id),
        now,
    )
    .await?
    {
        Ok(id) => Ok(Some(id)),
        // The amount was held, so it is available: a refusal here means the
        // ledger is inconsistent. Abort the whole step.
        Err(refusal) => Err(sqlx::Error::Protocol(format!(
            "capturing hold {hold_id} refused: {refusal:?}"
        ))),
    }
}

pub async fn available(conn: &mut Conn, account: &str) -> sqlx::Result<Option<(i64, i64, String)>> {
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
                   <> (CASE WHEN s.status IN ('succeeded', 'refunded', 'partially_refunded') THEN 1 ELSE 0 END)
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
