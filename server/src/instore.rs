//! In-store payment and payment by number (PROTOCOL 13) as the HTTP routes
//! need it: what the terminal and the phone each see of a transaction,
//! waiting for a change, and the steps that need something resolved before
//! the writer runs them (the payer's key, a PIN's argon2 check).

use std::time::Duration;

use kessai_core::instruments::Resolved;
use kessai_core::terminals::passes::Passes;
use kessai_core::terminals::qr::{self, Payload};
use kessai_core::terminals::sale::{self, Confirming};
use kessai_core::terminals::{gates, numbers, payers, vending};
use kessai_core::terminals::{record, registry, Purpose, Terminal, Txn};
use kessai_core::wallet::WalletUser;
use kessai_core::{Error, Result};
use kessai_protocol::money::Money;
use kessai_protocol::terminal::{
    Authentication, AuthenticationStatus, ConfirmTransaction, ConfirmedTransaction, PayerTransaction, SyncTransaction,
    TerminalInfo, TerminalKind, TerminalMerchant, TerminalPayer, TerminalTransaction, TransactionCreated,
    TransactionStatus,
};

use crate::http::state::AppState;

/// What an online purchase by number (D10) shows for its terminal.
const WEB_LABEL: &str = "WEB";

/// Runs a terminal-transaction step in the writer, then wakes whoever
/// waits on that transaction.
pub async fn step<T, F>(state: &AppState, id: &str, f: F) -> Result<T>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut kessai_core::store::Conn) -> futures_util::future::BoxFuture<'c, Result<T>>
        + Clone
        + Send
        + 'static,
{
    let out = state.node.writer.run(f).await?;
    state.node.announce([id]);
    Ok(out)
}

/// The merchant a transaction bills for.
async fn merchant_of(state: &AppState, t: &Txn) -> Result<std::sync::Arc<kessai_core::merchants::Merchant>> {
    state
        .node
        .merchants
        .by_id(&state.node.reader, &state.node.keyring, &t.merchant_id)
        .await?
        .ok_or_else(|| Error::internal(format!("transaction {} of unknown merchant", t.id)))
}

/// The terminal a transaction belongs to, as the payer sees it (D4).
async fn terminal_info(state: &AppState, t: &Txn) -> Result<TerminalInfo> {
    let merchant = merchant_of(state, t).await?;
    let merchant = TerminalMerchant {
        id: merchant.id.clone(),
        name: merchant.name.clone(),
    };
    let Some(terminal_id) = &t.terminal_id else {
        return Ok(TerminalInfo {
            id: None,
            name: format!("{} online shop", merchant.name),
            kind: TerminalKind::Web,
            label: WEB_LABEL.into(),
            location: None,
            merchant,
        });
    };
    let terminal = registry::get(&state.node.reader, terminal_id)
        .await?
        .ok_or_else(|| Error::internal(format!("transaction {} of unknown terminal", t.id)))?;
    Ok(info_of(&terminal, merchant))
}

/// A terminal as the payer (and the terminal itself) sees it.
pub fn info_of(terminal: &Terminal, merchant: TerminalMerchant) -> TerminalInfo {
    TerminalInfo {
        id: Some(terminal.id.clone()),
        name: terminal.name.clone(),
        kind: terminal.kind,
        label: terminal.label.clone(),
        location: terminal.location.clone(),
        merchant,
    }
}

/// The QR payload of a transaction.
pub async fn qr_of(state: &AppState, t: &Txn, label: &str) -> Result<String> {
    let institution_id = kessai_core::institution::current_id(&state.node.reader).await?;
    let profile = qr::profile(&state.node.reader, &t.merchant_id).await?;
    Payload {
        institution_id: &institution_id,
        merchant_id: &t.merchant_id,
        profile: &profile,
        currency: &t.currency,
        amount: t.amount,
        number: &t.number,
        label,
    }
    .text()
}

/// 201 to a terminal's new transaction.
pub async fn created(state: &AppState, t: &Txn, terminal: &Terminal) -> Result<TransactionCreated> {
    Ok(TransactionCreated {
        id: t.id.clone(),
        number: t.number.clone(),
        status: t.status,
        qr: qr_of(state, t, &terminal.label).await?,
        amount: t.amount,
        currency: t.currency.clone(),
        expires_at: t.expires_at,
    })
}

/// What the billing terminal sees (D3, D6, D8, D9).
pub async fn terminal_view(state: &AppState, t: Txn, terminal: &Terminal) -> Result<TerminalTransaction> {
    let now = kessai_core::clock::now();
    let t = t.as_of(now);
    let payer = match (&t.payer_user_id, t.status) {
        (Some(user_id), TransactionStatus::Synchronized | TransactionStatus::Succeeded) => {
            payers::get(&state.node.reader, user_id).await?.map(|p| TerminalPayer {
                name: p.name,
                // Only while synchronized, as the portrait route itself.
                portrait_url: (p.has_portrait && t.status == TransactionStatus::Synchronized)
                    .then(|| format!("/v1/terminal/transactions/{}/portrait", t.id)),
            })
        }
        _ => None,
    };
    Ok(TerminalTransaction {
        qr: qr_of(state, &t, &terminal.label).await?,
        dispense: vending::dispense(&t),
        id: t.id,
        number: t.number,
        status: t.status,
        amount: t.amount,
        currency: t.currency,
        order: t.order,
        menu: t.menu,
        payer,
        challenge: t.challenge,
        receipt: t.receipt,
        decline_code: t.decline_code,
        expires_at: t.expires_at,
        version: t.version.unsigned_abs(),
    })
}

/// What the phone sees (D3, D4, D9).
pub async fn payer_view(state: &AppState, t: Txn) -> Result<PayerTransaction> {
    let t = t.as_of(kessai_core::clock::now());
    let admission = match (t.purpose, t.status) {
        (Purpose::GateEntry, TransactionStatus::Succeeded) => gates::admission_of(&state.node.reader, &t.id).await?,
        _ => None,
    };
    Ok(PayerTransaction {
        admission,
        terminal: terminal_info(state, &t).await?,
        authentication: t.purpose == Purpose::Authentication,
        id: t.id,
        amount: t.amount,
        currency: t.currency,
        order: t.order,
        menu: t.menu,
        status: t.status,
        challenge: t.challenge,
        receipt: t.receipt,
        decline_code: t.decline_code,
        version: t.version.unsigned_abs(),
    })
}

/// An authentication by number as its terminal sees it (D11).
pub async fn authentication_view(state: &AppState, t: Txn) -> Result<Authentication> {
    let t = t.as_of(kessai_core::clock::now());
    let status = match t.status {
        TransactionStatus::AwaitingPayer => AuthenticationStatus::AwaitingUser,
        TransactionStatus::Synchronized => AuthenticationStatus::Pending,
        TransactionStatus::Succeeded => AuthenticationStatus::Authenticated,
        _ => AuthenticationStatus::Failed,
    };
    let user = match (&t.payer_user_id, status) {
        (Some(id), AuthenticationStatus::Authenticated) => payers::get(&state.node.reader, id).await?,
        _ => None,
    };
    Ok(Authentication {
        id: t.id,
        number: t.number,
        status,
        user_id: user.as_ref().map(|u| u.id.clone()),
        name: user.map(|u| u.name),
        expires_at: t.expires_at,
    })
}

/// Waits until transaction `id` changes (any write: status, payer, order,
/// challenge), at most `wait`; a final one is answered at once. `known` is
/// the version the client last saw: when the transaction has moved on since,
/// the answer is immediate, so a change between two polls is never missed.
pub async fn wait_for_change(
    state: &AppState,
    id: &str,
    first: Txn,
    wait: Duration,
    known: Option<u64>,
) -> Result<Txn> {
    let mut changes = state.node.changes.subscribe();
    let now = kessai_core::clock::now();
    if first.effective_status(now).is_final() {
        return Ok(first);
    }
    let seen = known.map_or(first.version, |v| i64::try_from(v).unwrap_or(i64::MAX));
    let mut current = record::get_pooled(&state.node.reader, id).await?.unwrap_or(first);
    // Wake at the expiry too: nothing is written then, but it is a change.
    let expiry =
        tokio::time::Instant::now() + Duration::from_secs(u64::try_from(current.expires_at - now).unwrap_or(0));
    let deadline = (tokio::time::Instant::now() + wait).min(expiry);
    while current.version == seen {
        match tokio::time::timeout_at(deadline, changes.recv()).await {
            Err(_) => break,
            Ok(Ok(changed)) if changed != id => continue,
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => break,
        }
        if let Some(t) = record::get_pooled(&state.node.reader, id).await? {
            current = t;
        }
    }
    Ok(current)
}

/// The institution as the signer of gate admissions and tickets.
/// Shared, not copied: the key stays in one place (`InstitutionKey` is not
/// `Clone`), and a writer step may run its closure again.
pub async fn passes(state: &AppState) -> Result<std::sync::Arc<Passes>> {
    let institution = kessai_core::institution::current(&state.node.reader, &state.node.keyring).await?;
    Ok(std::sync::Arc::new(institution.into()))
}

/// The payer sends a number (D1), with the admission at an exit gate (C6).
/// None when no open transaction has it (counted against the user). An
/// entry gate's transaction is then admitted at once: the gate opens and
/// the phone keeps the admission.
pub async fn sync(state: &AppState, user: &WalletUser, req: SyncTransaction, now: i64) -> Result<Option<Txn>> {
    // The signature first, outside the writer: a forged admission reaches
    // no transaction.
    let claims = match &req.admission {
        Some(token) => Some(passes(state).await?.admission(token)?),
        None => None,
    };
    let (user_id, typed) = (user.id.clone(), numbers::normalize(&req.number));
    let found = state
        .node
        .writer
        .run(move |conn| {
            Box::pin(async move {
                let Some(number) = typed else {
                    // Not even a number: counted like a wrong one.
                    return numbers::record_failure(conn, &user_id, now).await.map(|()| None);
                };
                match sale::sync(conn, &user_id, &number, now).await? {
                    Some(t) if t.purpose == Purpose::GateExit => {
                        let claims = claims.as_ref().ok_or_else(gates::admission_missing)?;
                        gates::present(conn, t, claims, now).await.map(Some)
                    }
                    other => Ok(other),
                }
            })
        })
        .await?;
    let Some(txn) = found else { return Ok(None) };
    state.node.announce([txn.id.as_str()]);
    if txn.purpose != Purpose::GateEntry || txn.status != TransactionStatus::Synchronized {
        return Ok(Some(txn));
    }
    let passes = passes(state).await?;
    let (user_id, txn_id) = (user.id.clone(), txn.id.clone());
    let (txn, _admission) = step(state, &txn.id, move |conn| {
        Box::pin(async move { gates::admit(conn, &user_id, &txn_id, &passes, now).await })
    })
    .await?;
    Ok(Some(txn))
}

/// The payer answers a challenge: the PIN is checked (argon2, in the
/// bounded pool) before the step, which records the outcome either way.
pub async fn answer(state: &AppState, user: &WalletUser, id: &str, pin: String) -> Result<Txn> {
    let payer = payers::get(&state.node.reader, &user.id)
        .await?
        .ok_or_else(|| Error::internal(format!("wallet user {} not found", user.id)))?;
    let right = payers::pin_matches(&payer, pin).await?;
    let (user_id, txn_id, now) = (user.id.clone(), id.to_string(), kessai_core::clock::now());
    let (t, right) = step(state, id, move |conn| {
        Box::pin(async move { sale::answer(conn, &user_id, &txn_id, right, now).await })
    })
    .await?;
    if right {
        return Ok(t);
    }
    let left = sale::PIN_TRIES_MAX - t.challenge_failures;
    Err(Error::Unprocessable {
        code: "pin_incorrect",
        message: if left > 0 {
            format!("The PIN is not right; {left} tries left.")
        } else {
            "The PIN is not right; the terminal must start a new transaction.".into()
        },
        param: Some("pin".into()),
    })
}

/// The wallet user as a second request's payer: their account, paying
/// under the institution's brand, signed for with their key.
async fn resolve_payer(state: &AppState, user: &WalletUser) -> Result<(payers::Payer, Resolved)> {
    let payer = payers::get(&state.node.reader, &user.id)
        .await?
        .ok_or_else(|| Error::internal(format!("wallet user {} not found", user.id)))?;
    let key = kessai_core::instruments::user_key(&state.node.reader, &state.node.keyring, &user.id)
        .await?
        .ok_or_else(|| Error::internal(format!("wallet user {} has no key", user.id)))?;
    let brand = kessai_core::institution::first_brand(&state.node.reader).await?;
    let resolved = Resolved::wallet_account(&user.id, &payer.account_id, key, brand);
    Ok((payer, resolved))
}

/// The payer's final confirmation (D3): the payer's account is resolved as
/// a second request's would be, then one step settles and closes.
pub async fn confirm(
    state: &AppState,
    user: &WalletUser,
    id: &str,
    req: ConfirmTransaction,
) -> Result<ConfirmedTransaction> {
    let shown = Money::new(req.amount, &req.currency, "amount")?;
    let t = record::get_pooled(&state.node.reader, id)
        .await?
        .filter(|t| t.payer_user_id.as_deref() == Some(user.id.as_str()))
        .ok_or_else(sale::no_such_transaction)?;
    let merchant = merchant_of(state, &t).await?;
    let (payer, resolved) = resolve_payer(state, user).await?;
    let now = kessai_core::clock::now();
    let old_enough = t
        .min_age
        .map(|age| payers::old_enough(payer.birth_date.as_deref(), age, now))
        .unwrap_or(true);
    let label = match &t.terminal_id {
        Some(tid) => registry::get(&state.node.reader, tid)
            .await?
            .map(|t| t.label)
            .unwrap_or_default(),
        None => WEB_LABEL.to_string(),
    };
    // Only a ticket sale needs the institution's key (C9).
    let passes = match &t.ticket {
        Some(_) => Some(passes(state).await?),
        None => None,
    };
    let (user_id, txn_id) = (user.id.clone(), id.to_string());
    let t = step(state, id, move |conn| {
        Box::pin(async move {
            let who = Confirming {
                merchant: &merchant,
                payer: &resolved,
                user_id: &user_id,
                old_enough,
                terminal_label: &label,
                passes: passes.as_deref(),
            };
            sale::confirm(conn, who, &txn_id, &shown, now).await
        })
    })
    .await?;
    if let Some(settlement_id) = &t.settlement_id {
        // The shop's long-polls, event streams and webhooks hear of it too.
        state.node.announce([settlement_id.as_str()]);
        state.node.wake_webhooks();
    }
    Ok(ConfirmedTransaction {
        status: t.status,
        receipt: t.receipt,
        decline_code: t.decline_code,
    })
}
