#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Several `kessai serve` processes on one PostgreSQL database (issue 7,
//! item 1): the races an operator meets when scaling out. Each test makes a
//! fresh database, starts two servers on it (same master key file), spreads
//! concurrent requests over them, and then checks three things: no request
//! was answered 500, no effect happened twice (rows counted in the
//! database itself), and `kessai ledger check` is clean.
//!
//! Where no PostgreSQL answers (`KESSAI_TEST_POSTGRES`, default
//! `postgres://postgres@127.0.0.1:5432/test`), each test says so and passes.

use std::collections::HashSet;

use kessai_testkit::{join_all, order, str_field, Api, Card, Created, Kessai, Merchant, Server, TestEnv, ORDER_TOTAL};
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, Executor, PgPool};

fn kessai() -> Kessai {
    Kessai::new(env!("CARGO_BIN_EXE_kessai"))
}

/// A fresh database, the servers on it and a direct pool for counting rows.
struct Cluster {
    env: TestEnv,
    servers: Vec<Server>,
    db: PgPool,
    admin_url: String,
    name: String,
    http: reqwest::Client,
}

impl Cluster {
    async fn start(tag: &str, servers: usize) -> Option<Self> {
        let admin_url =
            std::env::var("KESSAI_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await else {
            eprintln!("skipped: no PostgreSQL at {admin_url} (set KESSAI_TEST_POSTGRES)");
            return None;
        };
        let name = format!("kessai_multi_{tag}_{}", std::process::id());
        admin
            .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await
            .unwrap();
        admin.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
        let base = admin_url.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
        let url = format!("{base}/{name}");
        let env = TestEnv::with_database(kessai(), url.clone());
        // The first server migrates; the others start on a ready schema.
        let mut started = vec![env.start_server().await];
        for _ in 1..servers {
            started.push(env.start_server().await);
        }
        let db = PgPoolOptions::new().max_connections(2).connect(&url).await.unwrap();
        Some(Self {
            env,
            servers: started,
            db,
            admin_url,
            name,
            http: reqwest::Client::new(),
        })
    }

    fn url(&self, i: usize) -> String {
        self.servers[i % self.servers.len()].url.clone()
    }

    fn api(&self, i: usize) -> Api {
        self.servers[i % self.servers.len()].api()
    }

    async fn count(&self, sql: &str, bind: &str) -> i64 {
        sqlx::query_scalar(sql).bind(bind).fetch_one(&self.db).await.unwrap()
    }

    /// A settlement paid by `card`, ready to refund.
    async fn paid(&self, merchant: &Merchant, card: &Card, order_id: &str) -> Created {
        let created = self.api(0).create(merchant, &order(order_id)).await;
        let paid = self.api(1).confirm(&created, card).await;
        assert_eq!(paid["status"], "succeeded", "{paid}");
        created
    }

    /// How many steps the servers ran again after a deadlock or a
    /// serialization failure (their logs say so), for the test's output.
    fn retried_steps(&self) -> usize {
        let Ok(entries) = std::fs::read_dir(self.env.dir()) else {
            return 0;
        };
        entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".log"))
            .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
            .map(|log| log.matches("running it again").count())
            .sum()
    }

    async fn finish(self) {
        eprintln!(
            "steps run again after a deadlock or serialization failure: {}",
            self.retried_steps()
        );
        self.env.assert_ledger_ok().await;
        for server in self.servers {
            server.kill().await;
        }
        self.db.close().await;
        let mut admin = sqlx::PgConnection::connect(&self.admin_url).await.unwrap();
        admin
            .execute(format!("DROP DATABASE {} WITH (FORCE)", self.name).as_str())
            .await
            .unwrap();
    }
}

/// `POST {url}{path}` as the shop: status and body.
async fn post(
    http: &reqwest::Client,
    url: String,
    sk: String,
    path: String,
    body: Value,
    key: Option<String>,
) -> (u16, Value) {
    let mut request = http.post(format!("{url}{path}")).bearer_auth(sk).json(&body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// `n` identical shop requests spread over the servers, all at once.
async fn spread(
    cluster: &Cluster,
    merchant: &Merchant,
    path: &str,
    body: Value,
    key: Option<&str>,
    n: usize,
) -> Vec<(u16, Value)> {
    let tasks = (0..n)
        .map(|i| {
            let (http, url, sk) = (cluster.http.clone(), cluster.url(i), merchant.secret_key.clone());
            let (path, body, key) = (path.to_string(), body.clone(), key.map(String::from));
            tokio::spawn(async move { post(&http, url, sk, path, body, key).await })
        })
        .collect();
    join_all(tasks).await
}

fn assert_no_server_errors(answers: &[(u16, Value)]) {
    assert!(answers.iter().all(|(status, _)| *status < 500), "{answers:?}");
}

/// 201s and the 409 a duplicate in flight may get: nothing else.
fn assert_replayed_or_in_use(answers: &[(u16, Value)]) -> Vec<&Value> {
    assert_no_server_errors(answers);
    let created: Vec<&Value> = answers.iter().filter(|(s, _)| *s == 201).map(|(_, b)| b).collect();
    assert!(
        answers
            .iter()
            .all(|(s, b)| *s == 201 || (*s == 409 && b["error"]["code"] == "idempotency_key_in_use")),
        "{answers:?}"
    );
    assert!(!created.is_empty(), "{answers:?}");
    let ids: HashSet<&str> = created.iter().map(|b| str_field(b, "id")).collect();
    assert_eq!(ids.len(), 1, "one key, one object: {answers:?}");
    created
}

// Issue 7 item 1: one Idempotency-Key, forty requests over two servers,
// one refund and one settlement.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_idempotency_key_acts_once_across_servers() {
    let Some(cluster) = Cluster::start("idem", 2).await else {
        return;
    };
    let merchant = cluster.env.merchant("Idem Shop").await;
    let card = cluster.env.card("Idem Buyer", ORDER_TOTAL * 10).await;
    for round in 0..3 {
        let paid = cluster.paid(&merchant, &card, &format!("idem-refund-{round}")).await;
        let path = format!("/v1/settlements/{}/refunds", paid.id);
        let key = format!("refund-key-{round}");
        let answers = spread(&cluster, &merchant, &path, json!({"amount": 100}), Some(&key), 40).await;
        assert_replayed_or_in_use(&answers);
        let refunds = cluster
            .count("SELECT COUNT(*) FROM refunds WHERE settlement_id = $1", &paid.id)
            .await;
        assert_eq!(refunds, 1, "round {round}: {answers:?}");
        let transfers = cluster
            .count(
                "SELECT COUNT(*) FROM transfers WHERE settlement_id = $1 AND kind = 'refund'",
                &paid.id,
            )
            .await;
        assert_eq!(transfers, 1);
    }
    for round in 0..3 {
        let order_id = format!("idem-create-{round}");
        let body = json!({"order": order(&order_id)});
        let key = format!("create-key-{round}");
        let answers = spread(&cluster, &merchant, "/v1/settlements", body, Some(&key), 40).await;
        let created = assert_replayed_or_in_use(&answers);
        assert!(created.iter().all(|b| b["client_secret"].is_string()), "{answers:?}");
        let rows = cluster
            .count("SELECT COUNT(*) FROM settlements WHERE order_id = $1", &order_id)
            .await;
        assert_eq!(rows, 1);
    }
    cluster.finish().await;
}

// Issue 7 item 2: the unique index on (merchant, order id) answers 409, and
// refunds with their own keys never refund more than was paid.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn same_order_creates_and_competing_refunds_across_servers() {
    let Some(cluster) = Cluster::start("order", 2).await else {
        return;
    };
    let merchant = cluster.env.merchant("Order Shop").await;
    let card = cluster.env.card("Order Buyer", ORDER_TOTAL * 10).await;
    for round in 0..3 {
        let order_id = format!("same-order-{round}");
        let answers = spread(
            &cluster,
            &merchant,
            "/v1/settlements",
            json!({"order": order(&order_id)}),
            None,
            30,
        )
        .await;
        assert_no_server_errors(&answers);
        assert_eq!(answers.iter().filter(|(s, _)| *s == 201).count(), 1, "{answers:?}");
        assert!(answers
            .iter()
            .all(|(s, b)| *s == 201 || b["error"]["code"] == "order_id_in_use"));
    }
    // A buyer's payer-first attempt, then the shop's first request for that
    // order sent ten times over both servers: one settles it, the rest 409.
    let order_id = "payer-first-race";
    let first = json!({"merchant_id": merchant.id, "order": order(order_id), "payment_method": card.payment_method()});
    let response = cluster
        .http
        .post(format!("{}/v1/payer/orders/confirm", cluster.url(0)))
        .json(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let answers = spread(
        &cluster,
        &merchant,
        "/v1/settlements",
        json!({"order": order(order_id)}),
        None,
        10,
    )
    .await;
    assert_no_server_errors(&answers);
    let settled: Vec<&Value> = answers.iter().filter(|(s, _)| *s == 201).map(|(_, b)| b).collect();
    assert_eq!(settled.len(), 1, "{answers:?}");
    assert_eq!(settled[0]["status"], "succeeded", "{answers:?}");
    assert!(answers
        .iter()
        .all(|(s, b)| *s == 201 || b["error"]["code"] == "order_id_in_use"));
    let transfers = cluster
        .count(
            "SELECT COUNT(*) FROM transfers WHERE settlement_id = $1",
            str_field(settled[0], "id"),
        )
        .await;
    assert_eq!(transfers, 1);

    // Twenty refunds of 100 with their own keys against 1,155 paid: eleven fit.
    let paid = cluster.paid(&merchant, &card, "competing-refunds").await;
    let tasks = (0..20)
        .map(|i| {
            let (http, url, sk) = (cluster.http.clone(), cluster.url(i), merchant.secret_key.clone());
            let path = format!("/v1/settlements/{}/refunds", paid.id);
            tokio::spawn(
                async move { post(&http, url, sk, path, json!({"amount": 100}), Some(format!("r-{i}"))).await },
            )
        })
        .collect();
    let answers = join_all(tasks).await;
    assert_no_server_errors(&answers);
    let refunded = answers.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(refunded, 11, "{answers:?}");
    assert!(answers
        .iter()
        .all(|(s, b)| *s == 201 || b["error"]["code"] == "refund_amount_invalid"));
    let rows = cluster
        .count("SELECT COUNT(*) FROM refunds WHERE settlement_id = $1", &paid.id)
        .await;
    assert_eq!(rows, 11);
    cluster.finish().await;
}

// Issue 7 item 2: a shop canceling while its buyer pays, on two servers:
// either the cancel or the payment wins, never both and never a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_against_confirm_across_servers() {
    let Some(cluster) = Cluster::start("cancel", 2).await else {
        return;
    };
    let merchant = cluster.env.merchant("Cancel Shop").await;
    let cards: Vec<Card> = cluster.env.cards(4, ORDER_TOTAL * 40).await;
    let mut created = Vec::new();
    for i in 0..60 {
        created.push(cluster.api(i).create(&merchant, &order(&format!("cancel-{i}"))).await);
    }
    let mut tasks = Vec::new();
    for (i, c) in created.iter().enumerate() {
        let (api, c2, card) = (cluster.api(i + 1), c.clone(), cards[i % cards.len()].clone());
        tasks.push(tokio::spawn(async move { api.try_confirm(&c2, &card).await.unwrap() }));
        let (http, url, sk) = (cluster.http.clone(), cluster.url(i), merchant.secret_key.clone());
        let path = format!("/v1/settlements/{}/cancel", c.id);
        tasks.push(tokio::spawn(async move {
            post(&http, url, sk, path, Value::Null, None).await
        }));
    }
    let answers = join_all(tasks).await;
    assert_no_server_errors(&answers);
    for c in &created {
        let status = cluster.api(0).retrieve(&merchant, &c.id).await["status"].clone();
        let transfers = cluster
            .count("SELECT COUNT(*) FROM transfers WHERE settlement_id = $1", &c.id)
            .await;
        match status.as_str() {
            Some("succeeded") => assert_eq!(transfers, 1, "{}", c.id),
            Some("canceled") => assert_eq!(transfers, 0, "{}", c.id),
            other => panic!("{} ended {other:?}", c.id),
        }
    }
    cluster.finish().await;
}

// Issue 7 item 1: a shop long-polling one server hears of a payment made
// through the other (PostgreSQL LISTEN/NOTIFY), not at its timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_long_poll_on_one_server_wakes_when_another_changes_the_settlement() {
    let Some(cluster) = Cluster::start("wait", 2).await else {
        return;
    };
    let merchant = cluster.env.merchant("Wait Shop").await;
    let card = cluster.env.card("Wait Buyer", ORDER_TOTAL * 10).await;
    for round in 0..3 {
        let created = cluster.api(0).create(&merchant, &order(&format!("wait-{round}"))).await;
        let (http, url, sk, id) = (
            cluster.http.clone(),
            cluster.url(0),
            merchant.secret_key.clone(),
            created.id.clone(),
        );
        let poll = tokio::spawn(async move {
            let response = http
                .get(format!("{url}/v1/settlements/{id}?wait=20"))
                .bearer_auth(sk)
                .send()
                .await
                .unwrap();
            let body: Value = response.json().await.unwrap();
            (body, std::time::Instant::now())
        });
        // Let the poll reach its wait before the payment.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let paid = cluster.api(1).confirm(&created, &card).await;
        let paid_at = std::time::Instant::now();
        assert_eq!(paid["status"], "succeeded");
        let (body, answered_at) = poll.await.unwrap();
        assert_eq!(body["status"], "succeeded", "{body}");
        let late = answered_at.saturating_duration_since(paid_at);
        eprintln!("round {round}: the other server's long-poll answered {late:?} after the payment");
        assert!(late < std::time::Duration::from_secs(2), "{late:?}");
    }
    cluster.finish().await;
}

/// `POST` or `GET` with a bearer token: status and body.
async fn bearer(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: String,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = http.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

// Issue 10 on two servers: six phones sending one number through either
// server get one transaction; the phone's confirmation racing the clerk's
// cancel through the other server has one outcome and moves money at most
// once; a terminal long-polling one server hears of a payment through the
// other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn terminal_transactions_across_servers() {
    let Some(cluster) = Cluster::start("terminals", 2).await else {
        return;
    };
    let merchant = cluster.env.merchant("Counter Shop").await;
    let key = cluster
        .env
        .try_terminal(&merchant.id, "pos", "Register", &[])
        .await
        .unwrap();
    let mut tokens = Vec::new();
    for i in 0..6 {
        let user = cluster
            .env
            .user(&format!("Phone {i}"), "phone-password", 1_000_000)
            .await;
        tokens.push(cluster.api(i).wallet_token(&user.id, "phone-password").await);
    }
    for round in 0..6 {
        let (status, sale) = bearer(
            &cluster.http,
            reqwest::Method::POST,
            format!("{}/v1/terminal/transactions", cluster.url(round)),
            key.clone(),
            Some(json!({"amount": 1155, "currency": "JPY"})),
        )
        .await;
        assert_eq!(status, 201, "{sale}");
        let (id, number) = (
            str_field(&sale, "id").to_string(),
            str_field(&sale, "number").to_string(),
        );
        let syncs = tokens.iter().enumerate().map(|(i, token)| {
            let (http, url, token, number) = (cluster.http.clone(), cluster.url(i), token.clone(), number.clone());
            tokio::spawn(async move {
                bearer(
                    &http,
                    reqwest::Method::POST,
                    format!("{url}/v1/wallet/transactions/sync"),
                    token,
                    Some(json!({"number": number})),
                )
                .await
            })
        });
        let answers = join_all(syncs.collect()).await;
        assert_no_server_errors(&answers);
        let winners: Vec<usize> = answers
            .iter()
            .enumerate()
            .filter(|(_, (s, _))| *s == 200)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(winners.len(), 1, "{answers:?}");
        // Losers are told the number is unknown; after five such rounds a
        // loser has used up its wrong numbers and is told to wait.
        assert!(
            answers.iter().all(|(s, b)| *s == 200
                || b["error"]["code"] == "no_such_transaction"
                || b["error"]["code"] == "rate_limited"),
            "{answers:?}"
        );
        let payer = tokens[winners[0]].clone();
        // The terminal waits on one server; the phone and the clerk race on both.
        let poll = {
            let (http, url, key, id) = (cluster.http.clone(), cluster.url(round), key.clone(), id.clone());
            tokio::spawn(async move {
                bearer(
                    &http,
                    reqwest::Method::GET,
                    format!("{url}/v1/terminal/transactions/{id}?wait=20"),
                    key,
                    None,
                )
                .await
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let confirm = {
            let (http, url, id) = (cluster.http.clone(), cluster.url(round + 1), id.clone());
            tokio::spawn(async move {
                bearer(
                    &http,
                    reqwest::Method::POST,
                    format!("{url}/v1/wallet/transactions/{id}/confirm"),
                    payer,
                    Some(json!({"amount": 1155, "currency": "JPY"})),
                )
                .await
            })
        };
        let cancel = {
            let (http, url, key, id) = (cluster.http.clone(), cluster.url(round), key.clone(), id.clone());
            tokio::spawn(async move {
                bearer(
                    &http,
                    reqwest::Method::POST,
                    format!("{url}/v1/terminal/transactions/{id}/cancel"),
                    key,
                    None,
                )
                .await
            })
        };
        let answers = join_all(vec![confirm, cancel]).await;
        assert_no_server_errors(&answers);
        let (_, woke) = poll.await.unwrap();
        let (_, view) = bearer(
            &cluster.http,
            reqwest::Method::GET,
            format!("{}/v1/terminal/transactions/{id}", cluster.url(round + 1)),
            key.clone(),
            None,
        )
        .await;
        assert_eq!(
            woke["status"], view["status"],
            "the long-poll heard the final status: {woke}"
        );
        let settlement = view["receipt"]["transaction_id"].as_str().map(|_| ());
        let transfers = cluster
            .count("SELECT COUNT(*) FROM transfers t JOIN terminal_transactions x ON x.settlement_id = t.settlement_id WHERE x.id = $1", &id)
            .await;
        match view["status"].as_str() {
            Some("succeeded") => assert_eq!((transfers, settlement), (1, Some(())), "{view}"),
            Some("canceled") => assert_eq!(transfers, 0, "{view}"),
            other => panic!("{id} ended {other:?}"),
        }
    }
    cluster.finish().await;
}

/// A terminal of `kind` for the merchant; its key.
async fn device(cluster: &Cluster, merchant_id: &str, kind: &str) -> String {
    cluster.env.try_terminal(merchant_id, kind, kind, &[]).await.unwrap()
}

/// POSTs as a terminal or phone (`token`) to server `i`.
async fn post_to(cluster: &Cluster, i: usize, path: &str, token: &str, body: Value) -> (u16, Value) {
    let url = format!("{}{path}", cluster.url(i));
    bearer(&cluster.http, reqwest::Method::POST, url, token.to_string(), Some(body)).await
}

/// POSTs to servers 0 and 1 at the same moment: the two answers.
async fn both_at_once(cluster: &Cluster, calls: [(&str, &str, Value); 2]) -> Vec<(u16, Value)> {
    let tasks = calls.into_iter().enumerate().map(|(i, (path, token, body))| {
        let (http, url, token) = (
            cluster.http.clone(),
            format!("{}{path}", cluster.url(i)),
            token.to_string(),
        );
        tokio::spawn(async move { bearer(&http, reqwest::Method::POST, url, token, Some(body)).await })
    });
    join_all(tasks.collect()).await
}

/// Exactly one 200 and one 409 with `code`.
fn one_wins(answers: &[(u16, Value)], code: &str) {
    assert_no_server_errors(answers);
    let mut statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{answers:?}");
    assert!(answers.iter().any(|(_, b)| b["error"]["code"] == code), "{answers:?}");
}

#[tokio::test]
async fn one_admission_at_two_exits_and_one_ticket_at_two_entrances_on_two_servers() {
    let Some(cluster) = Cluster::start("devices", 2).await else {
        return;
    };
    let merchant = cluster.env.merchant("Park and Hall").await;
    let fees = [
        "merchant",
        "fees",
        "--merchant",
        &merchant.id,
        "--currency",
        "JPY",
        "--base",
        "100",
        "--per-minute",
        "10",
        "--max",
        "500",
    ];
    cluster.env.admin(&fees).await;
    let (entry, exit_a, exit_b) = (
        device(&cluster, &merchant.id, "gate").await,
        device(&cluster, &merchant.id, "gate").await,
        device(&cluster, &merchant.id, "gate").await,
    );
    let (seller, north, south) = (
        device(&cluster, &merchant.id, "ticket").await,
        device(&cluster, &merchant.id, "ticket").await,
        device(&cluster, &merchant.id, "ticket").await,
    );
    let user = cluster.env.user("Visitor", "visitor-password", 1_000_000).await;
    let phone = cluster.api(0).wallet_token(&user.id, "visitor-password").await;
    let sync = "/v1/wallet/transactions/sync";
    for round in 0..4 {
        // Gates: enter on one server, present the admission at two exits, one on each.
        let (_, opened) = post_to(&cluster, round, "/v1/terminal/gate/entries", &entry, json!({})).await;
        let (status, entered) = post_to(&cluster, round + 1, sync, &phone, json!({"number": opened["number"]})).await;
        assert_eq!(
            (status, entered["status"].as_str()),
            (200, Some("succeeded")),
            "{entered}"
        );
        let admission = str_field(&entered, "admission").to_string();
        let (_, a) = post_to(&cluster, 0, "/v1/terminal/gate/exits", &exit_a, json!({})).await;
        let (_, b) = post_to(&cluster, 1, "/v1/terminal/gate/exits", &exit_b, json!({})).await;
        let answers = both_at_once(
            &cluster,
            [
                (sync, &phone, json!({"number": a["number"], "admission": admission})),
                (sync, &phone, json!({"number": b["number"], "admission": admission})),
            ],
        )
        .await;
        one_wins(&answers, "admission_used");

        // Tickets: buy one, present it at two entrances, one on each server.
        let body = json!({"amount": 3000, "currency": "JPY",
            "ticket": {"event": "Hall concert", "valid_from": 0, "valid_until": 4_000_000_000_i64}});
        let (_, sale) = post_to(&cluster, round, "/v1/terminal/transactions", &seller, body).await;
        post_to(&cluster, round + 1, sync, &phone, json!({"number": sale["number"]})).await;
        let confirm = format!("/v1/wallet/transactions/{}/confirm", str_field(&sale, "id"));
        let (_, paid) = post_to(
            &cluster,
            round,
            &confirm,
            &phone,
            json!({"amount": 3000, "currency": "JPY"}),
        )
        .await;
        let ticket = paid["receipt"]["ticket"].as_str().expect("ticket").to_string();
        let verify = "/v1/terminal/tickets/verify";
        let answers = both_at_once(
            &cluster,
            [
                (verify, &north, json!({ "ticket": ticket })),
                (verify, &south, json!({ "ticket": ticket })),
            ],
        )
        .await;
        one_wins(&answers, "ticket_used");
    }
    cluster.finish().await;
}
