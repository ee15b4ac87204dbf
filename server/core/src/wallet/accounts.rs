//! What a wallet connector shows of a user: the accounts with what is
//! available in each, and the history of money in and out.

use kessai_protocol::wallet::{HistoryEntry, HistoryKind, WalletAccount};

use super::WalletUser;
use crate::args;
use crate::error::{Error, Result};
use crate::store::Reader;

/// The user's accounts. Wallet users have one account today; it pays under
/// the institution's first brand.
pub async fn list(pool: &Reader, user: &WalletUser, brand: &str) -> Result<Vec<WalletAccount>> {
    let rows = crate::store::pool_all(
        pool,
        "SELECT id, currency, balance, held, floor FROM accounts WHERE id = $1",
        args![&user.account_id],
    )
    .await?;
    rows.iter()
        .map(|r| {
            let (balance, held, floor): (i64, i64, i64) =
                (r.try_get("balance")?, r.try_get("held")?, r.try_get("floor")?);
            let available = balance.saturating_sub(held).saturating_sub(floor).max(0);
            Ok(WalletAccount {
                account_id: r.try_get("id")?,
                brand: brand.to_string(),
                currency: r.try_get("currency")?,
                available: u64::try_from(available).unwrap_or(0),
            })
        })
        .collect()
}

/// The most lines one page of history holds.
pub const HISTORY_LIMIT_MAX: i64 = 100;

/// One page of the user's history, newest first, after the line
/// `starting_after` (a transfer id from an earlier page).
pub async fn history(
    pool: &Reader,
    user: &WalletUser,
    limit: i64,
    starting_after: Option<&str>,
) -> Result<(Vec<HistoryEntry>, bool)> {
    if !(1..=HISTORY_LIMIT_MAX).contains(&limit) {
        return Err(Error::field("limit_out_of_range", "limit", "limit must be 1 to 100."));
    }
    let after = match starting_after {
        Some(id) => Some(cursor(pool, &user.account_id, id).await?),
        None => None,
    };
    let (before_at, before_id) = after.unwrap_or((i64::MAX, String::new()));
    let rows = crate::store::pool_all(
        pool,
        "SELECT t.id, t.kind, t.currency, t.created_at, t.settlement_id, p.amount,
                s.order_id AS local_order_id, m.name AS local_merchant,
                w.settlement_id AS remote_settlement_id, w.order_id AS remote_order_id,
                w.merchant_name AS remote_merchant
         FROM postings p JOIN transfers t ON t.id = p.transfer_id
         LEFT JOIN settlements s ON s.id = t.settlement_id
         LEFT JOIN merchants m ON m.id = s.merchant_id
         LEFT JOIN wallet_payments w ON w.jti = t.settlement_id
         WHERE p.account_id = $1
           AND (t.created_at < $2 OR (t.created_at = $2 AND ($3 = '' OR t.id < $3)))
         ORDER BY t.created_at DESC, t.id DESC LIMIT $4",
        args![&user.account_id, before_at, before_id, limit + 1],
    )
    .await?;
    let has_more = rows.len() as i64 > limit;
    let entries = rows
        .iter()
        .take(limit as usize)
        .map(entry)
        .collect::<Result<Vec<_>>>()?;
    Ok((entries, has_more))
}

/// Where a page starts: the time and id of the line it follows, which must
/// be one of this user's.
async fn cursor(pool: &Reader, account_id: &str, transfer_id: &str) -> Result<(i64, String)> {
    let row = crate::store::pool_optional(
        pool,
        "SELECT t.created_at FROM transfers t JOIN postings p ON p.transfer_id = t.id
         WHERE t.id = $1 AND p.account_id = $2",
        args![transfer_id, account_id],
    )
    .await?;
    // Any string is a well-formed cursor; one naming no line of this
    // history names no object, hence 404 as for any unknown id.
    let row = row.ok_or_else(|| {
        Error::not_found(
            "history_line_not_found",
            "starting_after is not the id of a line of this history.",
        )
    })?;
    Ok((row.try_get("created_at")?, transfer_id.to_string()))
}

fn entry(r: &crate::store::Row) -> Result<HistoryEntry> {
    let kind: String = r.try_get("kind")?;
    let kind = match kind.as_str() {
        "settlement" | "peer_settlement" => HistoryKind::Payment,
        "refund" => HistoryKind::Refund,
        _ => HistoryKind::Transfer,
    };
    let local_merchant: Option<String> = r.try_get("local_merchant")?;
    let (merchant, order_id, settlement_id) = match local_merchant {
        Some(m) => (Some(m), r.try_get("local_order_id")?, r.try_get("settlement_id")?),
        None => (
            r.try_get("remote_merchant")?,
            r.try_get("remote_order_id")?,
            r.try_get("remote_settlement_id")?,
        ),
    };
    Ok(HistoryEntry {
        id: r.try_get("id")?,
        kind,
        amount: r.try_get("amount")?,
        currency: r.try_get("currency")?,
        merchant,
        order_id,
        settlement_id,
        created_at: r.try_get("created_at")?,
    })
}
