//! Wallet payments across institutions (PROTOCOL 11 and 12): a wallet user
//! of Sakura Bank pays a shop of Fuji Card through Sakura's server wallet,
//! which holds, signs a payment authorization (`payment_method.type =
//! "institution"`) and sends the buyer's request to Fuji. Real processes,
//! real HTTP; after every fault both ledgers agree.

use kessai_protocol::jws::{self, ResultClaims};
use kessai_protocol::keys;
use kessai_testkit::{order, str_field, Merchant, TestEnv, User, ORDER_TOTAL};
use serde_json::{json, Value};

use crate::{account, address, both_agree, pair, position, until_resolved, Pair};

const PASSWORD: &str = "wallet-password";

/// A shop at Fuji with a settlement for `order_id`, its start message, and
/// a Sakura wallet user holding `balance` yen, logged in.
struct Purchase {
    shop: Merchant,
    message: Value,
    created: kessai_testkit::Created,
    user: User,
    token: String,
}

async fn purchase(p: &Pair, order_id: &str, balance: i64) -> Purchase {
    let shop = p.fuji.merchant("Fuji Shop").await;
    let api = p.fuji_server.api();
    let created = api.create(&shop, &order(order_id)).await;
    let message = api.start_message(&created).await;
    let user = p.sakura.user("Hanako", PASSWORD, balance).await;
    let token = p.sakura_server.api().wallet_token(&user.id, PASSWORD).await;
    Purchase {
        shop,
        message,
        created,
        user,
        token,
    }
}

async fn pay(p: &Pair, buy: &Purchase) -> (u16, Value) {
    p.sakura_server
        .api()
        .try_wallet_pay(&buy.token, &buy.message)
        .await
        .expect("the issuer answers")
}

/// Reads a column of the issuer's record of the wallet payment.
async fn stored_authorization(env: &TestEnv, settlement_id: &str) -> String {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", env.db_path.display()))
        .await
        .unwrap();
    let token: String = sqlx::query_scalar("SELECT authorization_jws FROM wallet_payments WHERE settlement_id = ?")
        .bind(settlement_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    token
}

#[tokio::test]
async fn a_wallet_user_of_one_institution_pays_a_shop_of_another_once() {
    let p = pair(50_000).await;
    let buy = purchase(&p, "wallet-across-1", 10_000).await;
    assert_eq!(buy.message["institution_id"], p.fuji_id.as_str());
    let (status, paid) = pay(&p, &buy).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["status"], "succeeded", "{paid}");
    assert_eq!(paid["receipt"]["brand"], "sakura-debit");
    assert_eq!(paid["receipt"]["merchant"], "Fuji Shop");
    // The shop verifies the result token with its own key.
    let rk = keys::parse_key(keys::RESULT_KEY_PREFIX, &buy.shop.result_key).unwrap();
    let claims: ResultClaims = jws::verify(&rk, paid["result_token"].as_str().unwrap()).unwrap();
    assert_eq!(
        (claims.sub.as_str(), claims.status.as_str()),
        (buy.created.id.as_str(), "succeeded")
    );
    let at_fuji = p.fuji_server.api().retrieve(&buy.shop, &buy.created.id).await;
    assert_eq!(at_fuji["status"], "succeeded", "{at_fuji}");

    // The same start message again pays nothing more, anywhere.
    let (status, again) = pay(&p, &buy).await;
    assert_eq!(
        (status, &again["result_token"]),
        (200, &paid["result_token"]),
        "{again}"
    );
    until_resolved(&p.sakura).await;
    assert_eq!(
        account(&p.sakura, &buy.user.account_id).await,
        (10_000 - ORDER_TOTAL, 0)
    );
    assert_eq!(account(&p.fuji, &buy.shop.payee_account()).await.0, ORDER_TOTAL);
    let total = u64::try_from(ORDER_TOTAL).unwrap();
    assert_eq!(position(&p.sakura, &p.fuji_id).await, (total, 0));
    assert_eq!(position(&p.fuji, &p.sakura_id).await, (0, total));
    both_agree(&p).await;

    let history = p.sakura_server.api().wallet_get(&buy.token, "/v1/wallet/history").await;
    let line = &history["data"][0];
    assert_eq!(line["kind"], "payment", "{history}");
    assert_eq!(line["amount"], -ORDER_TOTAL);
    assert_eq!(line["merchant"], "Fuji Shop");
    assert_eq!(line["order_id"], "wallet-across-1");
    assert_eq!(line["settlement_id"], buy.created.id.as_str());
}

#[tokio::test]
async fn replayed_misdirected_or_unpinned_authorizations_move_nothing() {
    let p = pair(50_000).await;
    let buy = purchase(&p, "wallet-replay-1", 10_000).await;
    assert_eq!(pay(&p, &buy).await.0, 200);
    until_resolved(&p.sakura).await;
    let token = stored_authorization(&p.sakura, &buy.created.id).await;
    let api = p.fuji_server.api();
    let confirm = |created: &kessai_testkit::Created, authorization: &str| {
        json!({"client_secret": created.client_secret, "order": created.order,
               "payment_method": {"type": "institution", "authorization": authorization}})
    };
    let client = reqwest::Client::new();
    let post = |created: kessai_testkit::Created, body: Value| {
        let (client, url) = (client.clone(), p.fuji_server.url.clone());
        async move {
            let resp = client
                .post(format!("{url}/v1/payer/settlements/{}/confirm", created.id))
                .json(&body)
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }
    };
    // Replayed on its own settlement: the first outcome, nothing more.
    let (status, same) = post(buy.created.clone(), confirm(&buy.created, &token)).await;
    assert_eq!((status, same["status"].as_str()), (200, Some("succeeded")), "{same}");
    // Replayed on another settlement: it names another `sub`.
    let other = api.create(&buy.shop, &order("wallet-replay-2")).await;
    let (status, declined) = post(other.clone(), confirm(&other, &token)).await;
    assert_eq!(status, 200, "{declined}");
    assert_eq!(declined["status"], "declined", "{declined}");
    assert_eq!(declined["decline_code"], "authentication_failed");
    // Signed by a key nobody pinned.
    let stranger = kessai_protocol::peer::InstitutionKey::from_seed(&[7; 32]);
    let now = kessai_core::clock::now();
    let forged = stranger
        .sign(
            &json!({"iss": p.sakura_id, "aud": p.fuji_id, "sub": "x", "order_digest": "x", "total": 1155,
                       "currency": "JPY", "brand": "sakura-debit", "jti": "pau_forged", "iat": now, "exp": now + 60}),
        )
        .unwrap();
    let third = api.create(&buy.shop, &order("wallet-replay-3")).await;
    let (status, unpinned) = post(third.clone(), confirm(&third, &forged)).await;
    assert_eq!(
        (status, unpinned["decline_code"].as_str()),
        (200, Some("authentication_failed")),
        "{unpinned}"
    );

    // Only the one payment moved money, on both sides.
    let total = u64::try_from(ORDER_TOTAL).unwrap();
    assert_eq!(position(&p.fuji, &p.sakura_id).await, (0, total));
    assert_eq!(account(&p.fuji, &buy.shop.payee_account()).await.0, ORDER_TOTAL);
    both_agree(&p).await;
}

#[tokio::test]
async fn an_authorization_for_another_institution_is_refused_there() {
    // Sakura's authorization names Fuji (`aud`); a third institution that
    // also pins Sakura declines it.
    let p = pair(50_000).await;
    let buy = purchase(&p, "wallet-aud-1", 10_000).await;
    assert_eq!(pay(&p, &buy).await.0, 200);
    let token = stored_authorization(&p.sakura, &buy.created.id).await;
    let (kessai_env, kessai_shown) = crate::institution("Kessai Pay", "kessai-card", "401234").await;
    let kessai_server = kessai_env.start_server().await;
    let sakura_shown = p.sakura.admin(&["institution", "show"]).await;
    crate::peer_each_other(
        [
            (&kessai_env, &kessai_server, &kessai_shown),
            (&p.sakura, &p.sakura_server, &sakura_shown),
        ],
        50_000,
    )
    .await;
    let shop = kessai_env.merchant("Kessai Shop").await;
    let created = kessai_server.api().create(&shop, &order("wallet-aud-1")).await;
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/v1/payer/settlements/{}/confirm",
            kessai_server.url, created.id
        ))
        .json(&json!({"client_secret": created.client_secret, "order": created.order,
                      "payment_method": {"type": "institution", "authorization": token}}))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["decline_code"], "authentication_failed", "{body}");
    assert_eq!(
        position(&kessai_env, str_field(&sakura_shown, "institution_id")).await,
        (0, 0)
    );
    kessai_env.assert_ledger_ok().await;
    both_agree(&p).await;
}

#[tokio::test]
async fn beyond_the_credit_limit_the_acquirer_declines_and_the_issuer_releases() {
    let p = pair(1_000).await;
    let buy = purchase(&p, "wallet-limit-1", 10_000).await;
    let (status, paid) = pay(&p, &buy).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["status"], "declined", "{paid}");
    assert_eq!(paid["decline_code"], "insufficient_funds");
    until_resolved(&p.sakura).await;
    assert_eq!(account(&p.sakura, &buy.user.account_id).await, (10_000, 0), "released");
    assert_eq!(position(&p.sakura, &p.fuji_id).await, (0, 0));
    both_agree(&p).await;
}

#[tokio::test]
async fn when_the_shop_s_institution_is_down_the_same_message_pays_later_once() {
    let mut p = pair(50_000).await;
    let buy = purchase(&p, "wallet-down-1", 10_000).await;
    let fuji_at = address(&p.fuji_server.url);
    p.fuji_server.kill().await;
    let sakura = p.sakura_server.api();
    let (status, error) = sakura.try_wallet_pay(&buy.token, &buy.message).await.unwrap();
    assert_eq!(status, 503, "{error}");
    assert_eq!(error["error"]["code"], "institution_unavailable");
    // Held, not taken: the outcome is not known yet.
    assert_eq!(account(&p.sakura, &buy.user.account_id).await, (10_000, ORDER_TOTAL));
    p.fuji_server = p.fuji.start_server_at(&fuji_at, &[]).await;
    let (status, paid) = pay(&p, &buy).await;
    assert_eq!((status, paid["status"].as_str()), (200, Some("succeeded")), "{paid}");
    until_resolved(&p.sakura).await;
    assert_eq!(
        account(&p.sakura, &buy.user.account_id).await,
        (10_000 - ORDER_TOTAL, 0)
    );
    both_agree(&p).await;
    // A start message naming another server than the peer's is refused.
    let mut moved = buy.message.clone();
    moved["server"] = json!("http://127.0.0.1:1");
    let (status, error) = p.sakura_server.api().try_wallet_pay(&buy.token, &moved).await.unwrap();
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (422, Some("server_mismatch")),
        "{error}"
    );
}
