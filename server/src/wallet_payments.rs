//! Paying a start message from a wallet user's account (PROTOCOL 12
//! `POST /v1/wallet/payments`). When the shop's settling server is this
//! institution the settlement is paid here directly; when it is a peer, this
//! institution is the issuer of section 11: it holds the funds, signs a
//! payment authorization and sends the buyer's second request to the peer.
//!
//! The same start message twice pays once: here, by the settlement's own
//! claim; at a peer, by the one `wallet_payments` row per settlement there,
//! written with the hold. A repeat sends the same authorization again
//! (the peer answers with the first outcome) or reads the outcome back;
//! whatever the network does, the worker that resolves authorizations
//! finishes what a request could not.

use kessai_core::authorizations::{self, Grant, Pending, Resolution};
use kessai_core::institution::Institution;
use kessai_core::instruments::Resolved;
use kessai_core::keyring::Keyring;
use kessai_core::peers::Peer;
use kessai_core::settlements::{self, Record};
use kessai_core::wallet::remote::{self, Begun, RemotePayment, Shop};
use kessai_core::wallet::{accounts, WalletUser};
use kessai_core::{Error, Result};
use kessai_protocol::api::{ConfirmResult, ConfirmSettlement, PaymentMethod, Status};
use kessai_protocol::money::Money;
use kessai_protocol::peer::UseState;
use kessai_protocol::wallet::{Receipt, StartMessage, WalletPayment};

use crate::http::state::AppState;
use crate::peering::Answer;

/// An authorization closer than this to its expiry is not sent again: it
/// could arrive after it, and the peer would decline the settlement.
const RESEND_MARGIN_S: i64 = 30;

/// Pays `message` for `user`.
pub async fn pay(state: &AppState, user: &WalletUser, message: StartMessage) -> Result<WalletPayment> {
    check_message(&message)?;
    let own = kessai_core::institution::current(&state.node.reader, &state.node.keyring).await?;
    if message.institution_id == own.id {
        return pay_here(state, user, &own, message).await;
    }
    let peer = kessai_core::peers::get_pooled(&state.node.reader, &message.institution_id)
        .await?
        .ok_or_else(|| Error::Unprocessable {
            code: "unknown_institution",
            message: "The shop's settling institution is not a peer of this one; it cannot pay there.".into(),
            param: Some("institution_id".into()),
        })?;
    // Never call an address a start message names: only the peer's own.
    if message.server.trim_end_matches('/') != peer.url.trim_end_matches('/') {
        return Err(Error::Unprocessable {
            code: "server_mismatch",
            message: format!(
                "The start message's server is not the registered address of {}.",
                peer.name
            ),
            param: Some("server".into()),
        });
    }
    pay_at_peer(state, user, &own, &peer, message).await
}

/// What a start message must be before anything is held or sent: a version
/// this server speaks, and an order whose total is its items' sum.
fn check_message(message: &StartMessage) -> Result<()> {
    if !message.is_supported() {
        return Err(Error::field(
            "start_message_unsupported",
            "type",
            "Only start messages of type kessai.start, version 1, can be paid.",
        ));
    }
    message.order.validate("order")?;
    if !kessai_protocol::ids::is_id(kessai_protocol::ids::SETTLEMENT, &message.settlement_id) {
        return Err(Error::field(
            "settlement_id_invalid",
            "settlement_id",
            "settlement_id must be a settlement id (stl_…).",
        ));
    }
    Ok(())
}

/// The amount of the order, and the refusal when the user's account cannot
/// pay it at all, before anything is sent or held.
async fn amount_payable(state: &AppState, user: &WalletUser, message: &StartMessage, brand: &str) -> Result<Money> {
    let order = &message.order;
    let amount = Money::new(order.total, &order.currency, "order.total")?;
    let accounts = accounts::list(&state.node.reader, user, brand).await?;
    let Some(account) = accounts.iter().find(|a| a.currency == order.currency) else {
        return Err(Error::Unprocessable {
            code: "currency_not_held",
            message: format!("This account holds no {}; nothing was charged.", order.currency),
            param: Some("order.currency".into()),
        });
    };
    if !message.brands.is_empty() && !message.brands.iter().any(|b| b == brand) {
        return Err(Error::Unprocessable {
            code: "brand_not_accepted",
            message: format!("The shop does not accept {brand}; nothing was charged."),
            param: Some("brands".into()),
        });
    }
    if account.available < order.total {
        return Err(Error::Declined(kessai_protocol::api::DeclineCode::InsufficientFunds));
    }
    Ok(amount)
}

/// A settlement of this institution: paid from the user's account by the
/// same step as a second request with an account.
async fn pay_here(
    state: &AppState,
    user: &WalletUser,
    own: &Institution,
    message: StartMessage,
) -> Result<WalletPayment> {
    let id = message.settlement_id.clone();
    if !Keyring::secret_matches(&state.node.keyring.client_secret(&id), message.client_secret.expose()) {
        return Err(Error::unauthorized(
            "client_secret_invalid",
            "The start message's client secret does not belong to its settlement.",
        ));
    }
    let rec = settlements::get_pooled(&state.node.reader, &id)
        .await?
        .ok_or_else(|| Error::not_found("settlement_not_found", "No such settlement."))?;
    let merchant = state
        .node
        .merchants
        .by_id(&state.node.reader, &state.node.keyring, &rec.merchant_id)
        .await?
        .ok_or_else(|| Error::not_found("merchant_not_found", "No such merchant."))?;
    let brand = own.brands.first().cloned().unwrap_or_default();
    let key = kessai_core::instruments::user_key(&state.node.reader, &state.node.keyring, &user.id)
        .await?
        .ok_or_else(|| Error::internal(format!("wallet user {} has no key", user.id)))?;
    let rec = if rec.status == Status::AwaitingPayer {
        amount_payable(state, user, &message, &brand).await?;
        let resolved = Resolved::wallet_account(&user.id, &user.account_id, key, brand.clone());
        let now = kessai_core::clock::now();
        crate::http::payer::settle(state, merchant.clone(), &id, message.order, resolved, now).await?
    } else {
        // A repeat, or a settlement paid another way: its outcome.
        settlements::closed_error(&rec).map_or(Ok(()), Err)?;
        rec
    };
    let result = settlements::confirm_result(&rec, &merchant, Some(&key));
    Ok(payment(&result, &merchant.name, &brand, settled_at(&rec)))
}

fn settled_at(rec: &Record) -> Option<i64> {
    rec.settled_at
        .filter(|_| matches!(rec.status, Status::Succeeded | Status::Held))
}

/// The wallet's answer from the settling server's.
fn payment(result: &ConfirmResult, merchant: &str, brand: &str, paid_at: Option<i64>) -> WalletPayment {
    WalletPayment {
        status: result.status,
        settlement_id: result.id.clone(),
        result_token: result.result_token.clone(),
        decline_code: result.decline_code,
        mismatched_fields: result.mismatched_fields.clone(),
        receipt: Receipt {
            merchant: merchant.to_string(),
            order_id: result.order_id.clone(),
            total: result.total,
            currency: result.currency.clone(),
            brand: brand.to_string(),
            paid_at,
        },
    }
}

/// A settlement at a peer: this institution guarantees it (section 11).
async fn pay_at_peer(
    state: &AppState,
    user: &WalletUser,
    own: &Institution,
    peer: &Peer,
    message: StartMessage,
) -> Result<WalletPayment> {
    let brand = own.brands.first().cloned().unwrap_or_default();
    // Two rounds at most: a stale earlier attempt is abandoned in the first.
    for _ in 0..2 {
        let now = kessai_core::clock::now();
        let existing = remote::get(&state.node.reader, &peer.id, &message.settlement_id).await?;
        let step = match existing {
            None => begin(state, user, own, peer, &message, &brand, now).await?,
            Some(p) if p.user_id != user.id => {
                return Err(Error::conflict(
                    "settlement_being_paid",
                    "Another wallet user of this institution is paying this settlement.",
                ))
            }
            Some(p) => Step::Existing(p),
        };
        let attempt = match step {
            Step::Send(p) => send(state, own, peer, &message, p).await?,
            Step::Existing(p) if p.state == "pending" && now < p.expires_at - RESEND_MARGIN_S => {
                send(state, own, peer, &message, p).await?
            }
            Step::Existing(p) => learn(state, own, peer, &message, p).await?,
        };
        if let Some(result) = attempt {
            let paid_at = (result.status == Status::Succeeded).then_some(now);
            return Ok(payment(&result, &message.merchant.name, &brand, paid_at));
        }
    }
    Err(Error::Unavailable {
        code: "payment_in_progress",
        message: "An earlier attempt to pay this settlement is still being settled; try again in a minute.".into(),
    })
}

enum Step {
    /// A new authorization, held and recorded: send it.
    Send(RemotePayment),
    /// An earlier attempt for this settlement.
    Existing(RemotePayment),
}

/// Holds the funds, signs and records a new authorization.
async fn begin(
    state: &AppState,
    user: &WalletUser,
    own: &Institution,
    peer: &Peer,
    message: &StartMessage,
    brand: &str,
    now: i64,
) -> Result<Step> {
    let amount = amount_payable(state, user, message, brand).await?;
    let grant = Grant {
        peer_id: peer.id.clone(),
        settlement_id: message.settlement_id.clone(),
        order_digest: message.order.digest(),
        amount,
        account_id: user.account_id.clone(),
        brand: brand.to_string(),
    };
    let (token, claims) = authorizations::sign(&own.key, &own.id, &grant, now, state.config.authorization_ttl_s)?;
    let shop = Shop {
        merchant_name: message.merchant.name.clone(),
        order_id: message.order.order_id.clone(),
    };
    let first_check_at = now + state.config.authorization_first_check_s;
    let (user_id, t, c) = (user.id.clone(), token.clone(), claims.clone());
    let begun = state
        .node
        .writer
        .run(move |conn| {
            Box::pin(async move { remote::begin(conn, &user_id, &shop, &grant, &t, &c, first_check_at).await })
        })
        .await?;
    match begun {
        Begun::Started => Ok(Step::Send(RemotePayment {
            peer_id: peer.id.clone(),
            settlement_id: message.settlement_id.clone(),
            user_id: user.id.clone(),
            jti: claims.jti,
            authorization: token,
            expires_at: claims.exp,
            state: "pending".into(),
            outcome: None,
            result_token: None,
        })),
        Begun::Exists => remote::get(&state.node.reader, &peer.id, &message.settlement_id)
            .await?
            .map(Step::Existing)
            .ok_or_else(|| Error::internal("a wallet payment vanished between two reads")),
        Begun::Declined(code) => Err(Error::Declined(code)),
    }
}

/// Sends the authorization to the peer. `None`: the attempt was abandoned
/// and may be made again.
async fn send(
    state: &AppState,
    own: &Institution,
    peer: &Peer,
    message: &StartMessage,
    payment: RemotePayment,
) -> Result<Option<ConfirmResult>> {
    let body = ConfirmSettlement {
        client_secret: Some(message.client_secret.clone()),
        merchant_id: None,
        order: message.order.clone(),
        payment_method: PaymentMethod::Institution {
            authorization: payment.authorization.clone().into(),
        },
    };
    match state.peers.confirm(peer, &payment.settlement_id, &body).await {
        Answer::Ok(result) => settled(state, own, peer, &payment, result).await.map(Some),
        Answer::Refused(status, error) => {
            // A definite refusal: the peer rolled its step back and never
            // took the authorization, and nobody else holds it.
            abandon(state, &payment).await?;
            Err(refused(peer, status, &error.error.code, &error.error.message))
        }
        Answer::Unknown(e) => Err(unknown(peer, &e)),
    }
}

/// The peer answered: learn whether it used this authorization, settle the
/// hold accordingly, and keep the outcome.
async fn settled(
    state: &AppState,
    own: &Institution,
    peer: &Peer,
    payment: &RemotePayment,
    result: ConfirmResult,
) -> Result<ConfirmResult> {
    match check_now(state, own, peer, payment).await {
        Some(UseState::Unused) if result.status.is_final() => {
            // Settled before, by someone else: this authorization can never
            // be used now (it names that settlement), so nothing is charged.
            abandon(state, payment).await?;
            return Err(Error::conflict(
                "settlement_closed",
                "This settlement was already paid or closed; nothing was charged.",
            ));
        }
        _ => {}
    }
    let (jti, status, token) = (payment.jti.clone(), result.status, result.result_token.clone());
    state
        .node
        .writer
        .run(move |conn| Box::pin(async move { remote::record_outcome(conn, &jti, status, token.as_deref()).await }))
        .await?;
    Ok(result)
}

/// An earlier attempt that cannot simply be sent again: read its outcome.
async fn learn(
    state: &AppState,
    own: &Institution,
    peer: &Peer,
    message: &StartMessage,
    payment: RemotePayment,
) -> Result<Option<ConfirmResult>> {
    if payment.state == "pending" {
        match check_now(state, own, peer, &payment).await {
            Some(UseState::Used) => {}
            Some(UseState::Unused) if kessai_core::clock::now() > payment.expires_at => {
                abandon(state, &payment).await?;
                return Ok(None);
            }
            _ => {
                return Err(Error::Unavailable {
                    code: "payment_in_progress",
                    message: "An earlier attempt to pay this settlement is still being settled; try again in a minute."
                        .into(),
                })
            }
        }
    }
    let result = match state
        .peers
        .payer_status(peer, &payment.settlement_id, message.client_secret.expose())
        .await
    {
        Answer::Ok(result) => result,
        Answer::Refused(status, error) => return Err(refused(peer, status, &error.error.code, &error.error.message)),
        Answer::Unknown(e) => return Err(unknown(peer, &e)),
    };
    let released = remote::get(&state.node.reader, &peer.id, &payment.settlement_id)
        .await?
        .is_some_and(|p| p.state == "released");
    if released && result.status == Status::AwaitingPayer {
        // Never used, and the settlement still waits: try afresh.
        abandon(state, &payment).await?;
        return Ok(None);
    }
    settled(state, own, peer, &payment, result).await.map(Some)
}

/// Asks the peer about this authorization now and applies what it says
/// (the worker would, a little later). None when the peer does not answer.
async fn check_now(state: &AppState, own: &Institution, peer: &Peer, payment: &RemotePayment) -> Option<UseState> {
    let now = kessai_core::clock::now();
    let answer = match state.peers.status(own, peer, vec![payment.jti.clone()], now).await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = format!("{e:#}"), peer = %peer.id, "asking about a wallet payment's authorization");
            return None;
        }
    };
    let found = answer.authorizations.into_iter().find(|a| a.jti == payment.jti)?;
    let pending = Pending {
        jti: payment.jti.clone(),
        peer_id: peer.id.clone(),
        expires_at: payment.expires_at,
        checks: 0,
    };
    let resolution = authorizations::resolution(&pending, Some(&found), now);
    if !matches!(resolution, Resolution::AskAgainAt(_)) {
        let jti = payment.jti.clone();
        let applied = state
            .node
            .writer
            .run(move |conn| Box::pin(async move { authorizations::resolve(conn, &jti, resolution, now).await }))
            .await;
        if let Err(e) = applied {
            tracing::warn!(error = %e, authorization = %payment.jti, "resolving a wallet payment's authorization");
        }
    }
    Some(found.state)
}

/// Releases the hold and forgets the attempt (in a writer step).
async fn abandon(state: &AppState, payment: &RemotePayment) -> Result<()> {
    let p = payment.clone();
    let now = kessai_core::clock::now();
    state
        .node
        .writer
        .run(move |conn| Box::pin(async move { remote::abandon(conn, &p, now).await }))
        .await
}

/// The peer's refusal, said by this institution.
fn refused(peer: &Peer, status: u16, code: &str, message: &str) -> Error {
    let message = format!(
        "{} refused the payment ({code}): {message} Nothing was charged.",
        peer.name
    );
    match status {
        404 => Error::not_found("settlement_not_found", message),
        409 => Error::conflict("settlement_closed", message),
        _ => Error::Unprocessable {
            code: "refused_by_institution",
            message,
            param: None,
        },
    }
}

/// No answer from the peer: the outcome is not known yet.
fn unknown(peer: &Peer, e: &anyhow::Error) -> Error {
    tracing::warn!(error = format!("{e:#}"), peer = %peer.id, "a wallet payment's peer did not answer");
    Error::Unavailable {
        code: "institution_unavailable",
        message: format!(
            "{} did not answer, so whether the payment went through is not known yet. Send the same payment again \
             to learn its outcome: it is never charged twice.",
            peer.name
        ),
    }
}
