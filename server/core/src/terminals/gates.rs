//! Entrance and exit gates (C6, claim 11). An entry gate's transaction
//! ends at the payer's sync: the phone gets an admission (a pass signed by
//! the institution, `passes`) and the gate opens. An exit gate's
//! transaction is paid: the phone syncs with the admission, the fee is
//! computed from the merchant's fee table and the time since entry, and the
//! phone confirms it like any sale; `succeeded` opens the gate.
//!
//! An admission exits once: the exit that takes it is written on the
//! admission's row, which the exit's step locks first, so two exits (on one
//! server or two) take turns and the second sees the first.

use kessai_protocol::money::{check_currency, AMOUNT_MAX};
use kessai_protocol::terminal::{AdmissionClaims, TerminalKind, TransactionStatus, ADMISSION_PREFIX};
use serde::Serialize;

use super::passes::{self, Passes};
use super::record::{insert, lock, save, Purpose, Txn};
use super::registry::Terminal;
use super::sale::{self, blank, free_number};
use crate::args;
use crate::error::{Error, Result};
use crate::store::{Conn, Reader};

/// A merchant's gate fees in one currency, in its minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateFees {
    pub merchant_id: String,
    pub currency: String,
    /// Charged on every exit.
    pub base: u64,
    /// Added for every started minute since entry (at least one).
    pub per_minute: u64,
    /// The most an exit costs.
    pub max: u64,
}

/// Checks `kessai merchant fees` before anything is stored: no negative
/// amount, none beyond what every client can hold, a cap of at least one
/// unit and a table that charges something.
pub fn check_fees(
    merchant_id: &str,
    currency: &str,
    base: i64,
    per_minute: i64,
    max: i64,
) -> std::result::Result<GateFees, String> {
    check_currency(currency, "--currency").map_err(|e| e.message)?;
    let amount = |name: &str, value: i64| {
        u64::try_from(value)
            .ok()
            .filter(|v| *v <= AMOUNT_MAX)
            .ok_or_else(|| format!("--{name} must be 0 to {AMOUNT_MAX} (minor units)"))
    };
    let fees = GateFees {
        merchant_id: merchant_id.to_string(),
        currency: currency.to_string(),
        base: amount("base", base)?,
        per_minute: amount("per-minute", per_minute)?,
        max: amount("max", max)?,
    };
    if fees.max == 0 || fees.base > fees.max {
        return Err("--max must be at least 1 and at least --base".into());
    }
    if fees.base == 0 && fees.per_minute == 0 {
        return Err("--base and --per-minute cannot both be 0: an exit would cost nothing".into());
    }
    Ok(fees)
}

/// Stores (or replaces) a merchant's fee table for one currency.
pub async fn set_fees(conn: &mut Conn, fees: &GateFees, now: i64) -> anyhow::Result<()> {
    let known = conn
        .fetch_optional("SELECT id FROM merchants WHERE id = $1", args![&fees.merchant_id])
        .await?;
    anyhow::ensure!(known.is_some(), "no merchant {}", fees.merchant_id);
    let signed = |v: u64| i64::try_from(v).map_err(anyhow::Error::from);
    conn.execute(
        "INSERT INTO gate_fees (merchant_id, currency, base, per_minute, max_fee, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (merchant_id, currency) DO UPDATE SET
             base = excluded.base, per_minute = excluded.per_minute, max_fee = excluded.max_fee,
             updated_at = excluded.updated_at",
        args![
            &fees.merchant_id,
            &fees.currency,
            signed(fees.base)?,
            signed(fees.per_minute)?,
            signed(fees.max)?,
            now
        ],
    )
    .await?;
    Ok(())
}

/// The merchant's fee table in `currency`, or its only one.
async fn fees_for(conn: &mut Conn, merchant_id: &str, currency: Option<&str>) -> Result<GateFees> {
    let rows = conn
        .fetch_all(
            "SELECT currency, base, per_minute, max_fee FROM gate_fees WHERE merchant_id = $1 ORDER BY currency",
            args![merchant_id],
        )
        .await?;
    let mut tables = Vec::with_capacity(rows.len());
    for r in &rows {
        let amount = |column: &str| -> Result<u64> {
            let v: i64 = r.try_get(column)?;
            u64::try_from(v).map_err(|_| Error::internal(format!("gate_fees.{column} {v}")))
        };
        tables.push(GateFees {
            merchant_id: merchant_id.to_string(),
            currency: r.try_get("currency")?,
            base: amount("base")?,
            per_minute: amount("per_minute")?,
            max: amount("max_fee")?,
        });
    }
    match currency {
        Some(c) => tables.into_iter().find(|t| t.currency == c).ok_or_else(no_fees),
        None if tables.len() > 1 => Err(Error::field(
            "currency_missing",
            "currency",
            "The merchant has gate fees in several currencies; say which.",
        )),
        None => tables.into_iter().next().ok_or_else(no_fees),
    }
}

fn no_fees() -> Error {
    Error::conflict(
        "gate_fees_missing",
        "The merchant has no gate fee table in this currency (kessai merchant fees).",
    )
}

/// The fee for a stay from `entered_at` to `now`: the base plus the
/// per-minute price of every started minute (at least one), at most the
/// cap. Saturating, then capped: the cap is what bounds it.
pub fn fee(fees: &GateFees, entered_at: i64, now: i64) -> u64 {
    let seconds = u64::try_from(now.saturating_sub(entered_at)).unwrap_or(0);
    let minutes = seconds.div_ceil(60).max(1);
    fees.per_minute
        .saturating_mul(minutes)
        .saturating_add(fees.base)
        .min(fees.max)
}

/// Only a gate may open gate transactions.
pub fn require_gate(terminal: &Terminal) -> Result<()> {
    if terminal.kind == TerminalKind::Gate {
        return Ok(());
    }
    Err(Error::forbidden(
        "terminal_kind_not_allowed",
        "Only a terminal registered as a gate opens entries and exits.",
    ))
}

/// Opens an entry (`entry` true) or exit transaction at a gate.
pub async fn open(
    conn: &mut Conn,
    gate: &Terminal,
    entry: bool,
    currency: Option<&str>,
    ttl_s: i64,
    now: i64,
) -> Result<Txn> {
    require_gate(gate)?;
    let purpose = if entry { Purpose::GateEntry } else { Purpose::GateExit };
    // An entry charges nothing, but its QR code names a currency: the one
    // its exits will charge in. No fee table, no gates.
    let currency = fees_for(conn, &gate.merchant_id, currency).await?.currency;
    let number = free_number(conn, now).await?;
    let id = crate::ids::new(kessai_protocol::terminal::TRANSACTION_PREFIX);
    let mut t = blank(id, purpose, &gate.merchant_id, number, currency, now);
    t.terminal_id = Some(gate.id.clone());
    t.expires_at = now + ttl_s;
    insert(conn, &t).await?;
    Ok(t)
}

/// The entry the payer synchronized becomes `succeeded` (the gate opens)
/// with a new admission for the payer; again, the same admission.
pub async fn admit(conn: &mut Conn, user_id: &str, txn_id: &str, passes: &Passes, now: i64) -> Result<(Txn, String)> {
    let mut t = match lock(conn, txn_id).await? {
        Some(t) if t.payer_user_id.as_deref() == Some(user_id) && t.purpose == Purpose::GateEntry => t,
        _ => return Err(sale::no_such_transaction()),
    };
    if t.status == TransactionStatus::Succeeded {
        let token = admission_token(conn, &t.id).await?;
        return token
            .map(|token| (t, token))
            .ok_or_else(|| Error::internal("an open entry has no admission"));
    }
    if t.effective_status(now) != TransactionStatus::Synchronized {
        return Err(sale::final_error(t.effective_status(now)));
    }
    let gate = t
        .terminal_id
        .clone()
        .ok_or_else(|| Error::internal("an entry without its gate"))?;
    let claims = AdmissionClaims {
        jti: crate::ids::new(ADMISSION_PREFIX),
        gate: gate.clone(),
        merchant: t.merchant_id.clone(),
        entered_at: now,
        iss: passes.iss().to_string(),
    };
    let token = passes.sign(&claims)?;
    conn.execute(
        "INSERT INTO admissions (jti, merchant_id, gate_id, entry_txn_id, user_id, token, entered_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        args![&claims.jti, &t.merchant_id, &gate, &t.id, user_id, &token, now],
    )
    .await?;
    t.status = TransactionStatus::Succeeded;
    t.updated_at = now;
    save(conn, &mut t).await?;
    Ok((t, token))
}

async fn admission_token(conn: &mut Conn, entry_txn_id: &str) -> Result<Option<String>> {
    let row = conn
        .fetch_optional(
            "SELECT token FROM admissions WHERE entry_txn_id = $1",
            args![entry_txn_id],
        )
        .await?;
    Ok(row.map(|r| r.try_get::<String>("token")).transpose()?)
}

/// The admission an entry gave, for the payer's view.
pub async fn admission_of(pool: &Reader, entry_txn_id: &str) -> Result<Option<String>> {
    let row = crate::store::pool_optional(
        pool,
        "SELECT token FROM admissions WHERE entry_txn_id = $1",
        args![entry_txn_id],
    )
    .await?;
    Ok(row.map(|r| r.try_get::<String>("token")).transpose()?)
}

/// The payer synchronized exit `t` with an admission whose signature was
/// checked: the exit takes the admission (once) and its amount becomes the
/// fee. Again for the same exit: unchanged.
pub async fn present(conn: &mut Conn, mut t: Txn, claims: &AdmissionClaims, now: i64) -> Result<Txn> {
    if claims.merchant != t.merchant_id {
        return Err(passes::invalid_admission());
    }
    let sql = format!(
        "SELECT entered_at, exit_txn_id FROM admissions WHERE jti = $1 AND merchant_id = $2{}",
        conn.for_update()
    );
    let row = conn
        .fetch_optional(&sql, args![&claims.jti, &t.merchant_id])
        .await?
        .ok_or_else(passes::invalid_admission)?;
    let entered_at: i64 = row.try_get("entered_at")?;
    let taken_by: Option<String> = row.try_get("exit_txn_id")?;
    match taken_by {
        Some(exit) if exit == t.id => return Ok(t),
        Some(exit) if exit_holds(conn, &exit, now).await? => {
            return Err(Error::conflict(
                "admission_used",
                "This admission has exited already, or is at another exit now.",
            ))
        }
        _ => {}
    }
    conn.execute(
        "UPDATE admissions SET exit_txn_id = $2 WHERE jti = $1",
        args![&claims.jti, &t.id],
    )
    .await?;
    let fees = fees_for(conn, &t.merchant_id, Some(&t.currency)).await?;
    t.amount = Some(fee(&fees, entered_at, now));
    t.updated_at = now;
    save(conn, &mut t).await?;
    Ok(t)
}

/// Whether exit `id` still holds its admission: open, or paid. A declined,
/// canceled or expired exit lets the admission try again.
async fn exit_holds(conn: &mut Conn, id: &str, now: i64) -> Result<bool> {
    Ok(match lock(conn, id).await? {
        Some(exit) => matches!(
            exit.effective_status(now),
            TransactionStatus::AwaitingPayer | TransactionStatus::Synchronized | TransactionStatus::Succeeded
        ),
        None => false,
    })
}

/// An exit's number needs the admission from the entry.
pub fn admission_missing() -> Error {
    Error::field(
        "admission_missing",
        "admission",
        "This number is an exit gate's: send the admission the entry gave with it.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fees() -> GateFees {
        check_fees("mch_1", "JPY", 100, 10, 500).unwrap()
    }

    #[test]
    fn the_fee_is_the_base_plus_every_started_minute_at_least_one_at_most_the_cap() {
        assert_eq!(fee(&fees(), 1000, 1000), 110, "at least one minute");
        assert_eq!(fee(&fees(), 1000, 1060), 110);
        assert_eq!(fee(&fees(), 1000, 1061), 120, "a started minute counts");
        assert_eq!(fee(&fees(), 1000, 1000 + 3600), 500, "capped");
        assert_eq!(fee(&fees(), 1000, 900), 110, "a clock behind the entry is one minute");
        let huge = check_fees("mch_1", "JPY", 0, AMOUNT_MAX as i64, AMOUNT_MAX as i64).unwrap();
        assert_eq!(fee(&huge, 0, i64::MAX), AMOUNT_MAX, "no overflow");
    }

    #[test]
    fn fee_tables_refuse_negative_overflowing_and_free_values() {
        for (base, per_minute, max) in [
            (-1, 10, 500),
            (100, -1, 500),
            (100, 10, -5),
            (100, 10, AMOUNT_MAX as i64 + 1),
            (600, 10, 500),
            (0, 0, 500),
            (0, 10, 0),
        ] {
            assert!(
                check_fees("mch_1", "JPY", base, per_minute, max).is_err(),
                "{base} {per_minute} {max}"
            );
        }
        assert!(check_fees("mch_1", "yen", 1, 1, 1).is_err());
    }
}
