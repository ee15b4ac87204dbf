//! `kessai bench --instore`: terminal and phone pairs (PROTOCOL 13). Each
//! pair is a POS terminal of one merchant and a wallet user with a session;
//! one iteration opens a transaction at the terminal, the phone sends its
//! number, the terminal long-polls for the outcome, the phone confirms,
//! and the time from the confirmation being sent to the terminal's
//! long-poll answering `succeeded` is the completion-notice latency.

use std::path::Path;
use std::sync::Arc;

use futures_util::{StreamExt, TryStreamExt};
use serde_json::{json, Value};

use super::{admin, expect_json, str_field, timed, Iteration, Outcome, BUYER_BALANCE, CARD_ISSUE_PARALLEL};

/// The terminal's long-poll: the outcome follows the confirmation within
/// milliseconds, so this only bounds a broken run.
const NOTICE_WAIT_S: u64 = 5;
/// Every bench user's password.
const PASSWORD: &str = "bench-password";
/// What each sale is for, in yen.
const AMOUNT: u64 = 1155;

/// A billing terminal and the phone that pays it.
pub struct Pair {
    base: String,
    terminal_key: String,
    session: String,
}

/// `count` pairs at `base`: one merchant, a terminal and a user each.
pub async fn make_pairs(exe: &Path, database: &str, base: &str, count: usize) -> anyhow::Result<Vec<Arc<Pair>>> {
    let merchant_args = ["merchant", "create", "--name", "bench", "--origin", "http://127.0.0.1"];
    let merchant = admin(exe, database, &merchant_args).await?;
    let merchant_id = str_field(&merchant, "merchant_id")?.to_string();
    let client = reqwest::Client::new();
    let pairs: Vec<Pair> = futures_util::stream::iter(0..count)
        .map(|i| make_pair(exe, database, base, &merchant_id, &client, i))
        .buffered(CARD_ISSUE_PARALLEL)
        .try_collect()
        .await?;
    Ok(pairs.into_iter().map(Arc::new).collect())
}

async fn make_pair(
    exe: &Path,
    database: &str,
    base: &str,
    merchant_id: &str,
    client: &reqwest::Client,
    i: usize,
) -> anyhow::Result<Pair> {
    let label = format!("BENCH-{i}");
    let terminal_args = ["terminal", "register", "--merchant", merchant_id, "--kind", "pos"];
    let names = ["--name", "bench register", "--label", label.as_str()];
    let terminal = admin(exe, database, &[&terminal_args[..], &names[..]].concat()).await?;
    let holder = format!("phone-{i}");
    let user_args = ["user", "create", "--name", &holder, "--password", PASSWORD];
    let money = ["--balance", BUYER_BALANCE, "--currency", "JPY"];
    let user = admin(exe, database, &[&user_args[..], &money[..]].concat()).await?;
    let login = client
        .post(format!("{base}/v1/wallet/sessions"))
        .json(&json!({"user_id": str_field(&user, "user_id")?, "password": PASSWORD}))
        .send()
        .await;
    let session = expect_json(login, 201).await.map_err(anyhow::Error::msg)?;
    Ok(Pair {
        base: base.to_string(),
        terminal_key: str_field(&terminal, "terminal_key")?.to_string(),
        session: str_field(&session, "token")?.to_string(),
    })
}

/// One sale: the terminal's request timed as the first, the completion
/// notice after the confirmation as the second.
pub async fn sell_once(client: &reqwest::Client, pair: &Pair) -> Iteration {
    let open = client
        .post(format!("{}/v1/terminal/transactions", pair.base))
        .bearer_auth(&pair.terminal_key)
        .json(&json!({"amount": AMOUNT, "currency": "JPY"}));
    let (created, first_us) = timed(async { expect_json(open.send().await, 201).await }).await;
    let created = match created {
        Ok(created) => created,
        Err(message) => return Iteration::failed(None, format!("POST /v1/terminal/transactions: {message}")),
    };
    let (Some(id), Some(number)) = (created["id"].as_str(), created["number"].as_str()) else {
        return Iteration::failed(Some(first_us), format!("no id or number in {created}"));
    };
    let sync = client
        .post(format!("{}/v1/wallet/transactions/sync", pair.base))
        .bearer_auth(&pair.session)
        .json(&json!({ "number": number }));
    if let Err(message) = expect_json(sync.send().await, 200).await {
        return Iteration::failed(Some(first_us), format!("sync: {message}"));
    }
    let (notice, notice_us) = notice_after_confirm(client, pair, id).await;
    let outcome = match notice {
        Ok(view) if view["status"] == "succeeded" => Outcome::Succeeded,
        Ok(view) => Outcome::NotSucceeded(format!(
            "{id}: status {} decline {}",
            view["status"], view["decline_code"]
        )),
        Err(message) => Outcome::Failed(message),
    };
    let second_us = (!matches!(outcome, Outcome::Failed(_))).then_some(notice_us);
    Iteration {
        first_us: Some(first_us),
        second_us,
        outcome,
    }
}

/// The terminal waits (long-poll) while the phone confirms; the time from
/// sending the confirmation to the terminal's answer.
async fn notice_after_confirm(client: &reqwest::Client, pair: &Pair, id: &str) -> (Result<Value, String>, u64) {
    let wait = client
        .get(format!(
            "{}/v1/terminal/transactions/{id}?wait={NOTICE_WAIT_S}",
            pair.base
        ))
        .bearer_auth(&pair.terminal_key)
        .send();
    let confirm = client
        .post(format!("{}/v1/wallet/transactions/{id}/confirm", pair.base))
        .bearer_auth(&pair.session)
        .json(&json!({"amount": AMOUNT, "currency": "JPY"}))
        .send();
    // The poll is sent first; the clock starts with the confirmation.
    let poll = tokio::spawn(wait);
    tokio::task::yield_now().await;
    let ((confirmed, waited), elapsed_us) = timed(async {
        let confirmed = expect_json(confirm.await, 200).await;
        let waited = match poll.await {
            Ok(response) => expect_json(response, 200).await,
            Err(e) => Err(format!("the terminal's poll task: {e}")),
        };
        (confirmed, waited)
    })
    .await;
    match (confirmed, waited) {
        (Err(message), _) => (Err(format!("confirm: {message}")), elapsed_us),
        (Ok(_), Err(message)) => (Err(format!("terminal long-poll: {message}")), elapsed_us),
        (Ok(_), Ok(view)) => (Ok(view), elapsed_us),
    }
}
