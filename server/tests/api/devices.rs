//! Devices of seed 002 on the terminal transactions of PROTOCOL 13: age
//! restrictions on settlements (C8), the vending machine (C5), entry and
//! exit gates (C6) and tickets (C9). Every refusal, and the two races the
//! issue names: one admission at two exits, one ticket at two entrances.

use kessai_core::instruments::IssuedCard;
use kessai_core::terminals::gates;
use kessai_core::terminals::payers::{self, Profile};
use kessai_protocol::terminal::{AdmissionClaims, TerminalKind, TicketClaims};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{
    assert_error, card_method, confirm_body, json_of, now, password_method, sample_order, spawn_app, TestApp, PASSWORD,
};
use crate::terminals::{Phone, Shop};

/// Old enough for any restriction the tests set.
const ADULT: &str = "1990-04-01";

impl TestApp {
    async fn card_born(&self, balance: i64, birth_date: Option<&str>) -> IssuedCard {
        let card = self.issue_card(balance).await;
        if let Some(date) = birth_date {
            payers::set_card_birth_date(&mut self.admin().await, &card.account_id, date)
                .await
                .expect("birth date");
        }
        card
    }

    /// The shop's first request with an age restriction.
    async fn restricted_settlement(&self, order_id: &str, min_age: u32) -> (String, String) {
        let body = json!({"order": sample_order(order_id), "restrictions": {"min_age": min_age}});
        let (status, created) = json_of(self.post_settlement(&body).await).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        (
            created["id"].as_str().unwrap().to_string(),
            created["client_secret"].as_str().unwrap().to_string(),
        )
    }
}

/// A birth date `years` years before today (and a day, to be clear of birthdays).
fn born_years_ago(years: i64) -> String {
    let today = time_of(crate::helpers::now());
    format!("{:04}-{:02}-{:02}", today.0 - years, today.1, today.2.min(28))
}

fn time_of(unix: i64) -> (i64, i64, i64) {
    // Howard Hinnant's civil_from_days, as the server's own.
    let z = unix.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[tokio::test]
async fn an_age_restricted_settlement_is_paid_only_by_a_payer_old_enough_on_file() {
    let app = spawn_app().await;
    let adult_card = app.card_born(10_000, Some(ADULT)).await;
    let young_card = app.card_born(10_000, Some(&born_years_ago(17))).await;
    let unknown_card = app.card_born(10_000, None).await;
    let order = |n: &str| sample_order(n);
    for (n, card, outcome) in [
        ("age-1", &young_card, "declined"),
        ("age-2", &unknown_card, "declined"),
        ("age-3", &adult_card, "succeeded"),
    ] {
        let (id, secret) = app.restricted_settlement(n, 20).await;
        let result = app
            .confirm_ok(&id, &confirm_body(&secret, &order(n), card_method(card)))
            .await;
        assert_eq!(result["status"], outcome, "{result}");
        let shop = app.get_settlement(&id).await;
        assert_eq!(shop["status"], outcome, "{shop}");
        if outcome == "declined" {
            // The shop learns only "restricted", never the date.
            assert_eq!(shop["decline_code"], "restricted", "{shop}");
            assert_eq!(result["decline_code"], "restricted", "{result}");
        }
        assert!(!shop.to_string().contains("1990") && !result.to_string().contains("1990"));
    }
    assert_eq!(app.balance(&young_card.account_id).await, 10_000);
    assert_eq!(app.balance(&unknown_card.account_id).await, 10_000);
    assert_eq!(app.balance(&adult_card.account_id).await, 10_000 - 1155);

    // A wallet user is judged by the birth date of `kessai user create`.
    let user = app.create_user(10_000).await;
    let (id, secret) = app.restricted_settlement("age-4", 18).await;
    let result = app
        .confirm_ok(
            &id,
            &confirm_body(&secret, &order("age-4"), password_method(&user, PASSWORD)),
        )
        .await;
    assert_eq!(
        (result["status"].as_str(), result["decline_code"].as_str()),
        (Some("declined"), Some("restricted"))
    );
    let profile = Profile {
        birth_date: Some(born_years_ago(18)),
        ..Default::default()
    };
    payers::set_profile(&mut app.admin().await, &user.user_id, &profile)
        .await
        .unwrap();
    let (id, secret) = app.restricted_settlement("age-5", 18).await;
    let result = app
        .confirm_ok(
            &id,
            &confirm_body(&secret, &order("age-5"), password_method(&user, PASSWORD)),
        )
        .await;
    assert_eq!(result["status"], "succeeded", "{result}");
    // Without a restriction nothing is asked of the birth date.
    let created = app.create_settlement(&order("age-6")).await;
    let result = app
        .confirm_ok(
            &created.id,
            &confirm_body(&created.client_secret, &order("age-6"), card_method(&unknown_card)),
        )
        .await;
    assert_eq!(result["status"], "succeeded", "{result}");
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_payer_first_attempt_too_young_for_the_shops_restriction_ends_and_its_hold_is_released() {
    let app = spawn_app().await;
    let young = app.card_born(10_000, Some(&born_years_ago(15))).await;
    let order = sample_order("age-pf-1");
    let body = json!({"merchant_id": app.merchant.merchant_id, "order": order, "payment_method": card_method(&young)});
    let (status, attempt) = json_of(app.confirm_payer_first(&body).await).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{attempt}");
    assert_eq!(app.account(&young.account_id).await, (10_000, 1155));
    let (id, _) = app.restricted_settlement("age-pf-1", 20).await;
    assert_ne!(attempt["id"].as_str(), Some(id.as_str()));
    assert_eq!(app.get_settlement(&id).await["status"], "awaiting_payer");
    let seen = app
        .payer_status(
            attempt["id"].as_str().unwrap(),
            attempt["payer_secret"].as_str().unwrap(),
        )
        .await;
    assert_eq!(
        (seen["status"].as_str(), seen["decline_code"].as_str()),
        (Some("declined"), Some("restricted")),
        "{seen}"
    );
    assert_eq!(app.account(&young.account_id).await, (10_000, 0));
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn age_restrictions_out_of_range_and_bad_birth_dates_are_refused() {
    let app = spawn_app().await;
    let body = json!({"order": sample_order("age-bad"), "restrictions": {"min_age": 200}});
    assert_error(
        app.post_settlement(&body).await,
        StatusCode::BAD_REQUEST,
        "min_age_out_of_range",
    )
    .await;
    let card = app.issue_card(1).await;
    for bad in ["2001-02-29", "1990-4-1", "yesterday"] {
        assert!(
            payers::set_card_birth_date(&mut app.admin().await, &card.account_id, bad)
                .await
                .is_err()
        );
    }
}

// ---- vending machines (C5) ----

fn vending_menu() -> Value {
    json!({"menu": {"currency": "JPY", "items": [
        {"code": "tea", "name": "Green tea", "unit_price": 150},
        {"code": "coffee", "name": "Canned coffee", "unit_price": 130}]}})
}

impl TestApp {
    async fn post_as(&self, key: &str, path: &str, body: Value) -> Response {
        self.as_terminal(key, Method::POST, path, Some(body)).await
    }

    async fn order_items(&self, phone: &Phone, id: &str, items: Value) -> Response {
        let path = format!("/v1/wallet/transactions/{id}/order");
        self.as_phone(phone, &path, json!({ "items": items })).await
    }

    /// A vending sale the phone has synchronized and ordered one tea from.
    async fn tea_ordered(&self, machine: &Shop, phone: &Phone) -> String {
        let sale = self.open_sale(machine, vending_menu()).await;
        let id = sale["id"].as_str().unwrap().to_string();
        self.synced(phone, sale["number"].as_str().unwrap()).await;
        let (status, body) = json_of(
            self.order_items(phone, &id, json!([{"code": "tea", "quantity": 1}]))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        id
    }
}

#[tokio::test]
async fn a_vending_machine_dispenses_the_one_article_paid_for() {
    let app = spawn_app().await;
    let machine = app
        .register_terminal(&app.merchant.merchant_id, TerminalKind::Vending)
        .await;
    let phone = app.phone(10_000).await;
    // A machine offers a menu; the payer picks.
    assert_error(
        app.post_as(
            &machine.key,
            "/v1/terminal/transactions",
            json!({"amount": 150, "currency": "JPY"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "vending_menu_required",
    )
    .await;
    let sale = app.open_sale(&machine, vending_menu()).await;
    let id = sale["id"].as_str().unwrap();
    let seen = app.synced(&phone, sale["number"].as_str().unwrap()).await;
    assert_eq!(
        (
            seen["terminal"]["kind"].as_str(),
            seen["menu"]["items"][1]["code"].as_str()
        ),
        (Some("vending"), Some("coffee"))
    );
    for items in [
        json!([{"code": "tea", "quantity": 2}]),
        json!([{"code": "tea", "quantity": 1}, {"code": "coffee", "quantity": 1}]),
    ] {
        let error = assert_error(
            app.order_items(&phone, id, items).await,
            StatusCode::BAD_REQUEST,
            "vending_one_article",
        )
        .await;
        assert_eq!(error["param"], "items");
    }
    let (status, ordered) = json_of(
        app.order_items(&phone, id, json!([{"code": "coffee", "quantity": 1}]))
            .await,
    )
    .await;
    assert_eq!((status, ordered["amount"].as_u64()), (StatusCode::OK, Some(130)));
    // Ordered, not paid: nothing to dispense yet.
    assert!(app.terminal_view(&machine, id).await.get("dispense").is_none());
    let (_, paid) = json_of(app.confirm_txn(&phone, id, 130).await).await;
    assert_eq!(paid["status"], "succeeded", "{paid}");
    // The completion notice names the article.
    let notice = app.terminal_view(&machine, id).await;
    assert_eq!(notice["status"], "succeeded");
    assert_eq!(
        (
            notice["dispense"]["code"].as_str(),
            notice["dispense"]["quantity"].as_u64()
        ),
        (Some("coffee"), Some(1)),
        "{notice}"
    );
    assert_eq!(app.balance(&phone.user.account_id).await, 10_000 - 130);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_vending_machine_has_nothing_to_dispense_when_declined_canceled_or_expired() {
    let app = spawn_app().await;
    let machine = app
        .register_terminal(&app.merchant.merchant_id, TerminalKind::Vending)
        .await;
    let poor = app.phone(100).await;
    let phone = app.phone(10_000).await;
    // Declined: the account is short.
    let declined = app.tea_ordered(&machine, &poor).await;
    let (_, result) = json_of(app.confirm_txn(&poor, &declined, 150).await).await;
    assert_eq!(result["status"], "declined", "{result}");
    // Canceled at the machine after the order.
    let canceled = app.tea_ordered(&machine, &phone).await;
    let path = format!("/v1/terminal/transactions/{canceled}/cancel");
    assert_eq!(
        app.as_terminal(&machine.key, Method::POST, &path, None).await.status(),
        StatusCode::OK
    );
    // Expired before the payer confirmed.
    let expired = app.tea_ordered(&machine, &phone).await;
    sqlx::query("UPDATE terminal_transactions SET expires_at = $1 WHERE id = $2")
        .bind(now() - 1)
        .bind(&expired)
        .execute(&app.pool)
        .await
        .unwrap();
    for (id, status) in [(&declined, "declined"), (&canceled, "canceled"), (&expired, "expired")] {
        let view = app.terminal_view(&machine, id).await;
        assert_eq!(view["status"], status, "{view}");
        assert!(view.get("dispense").is_none() && view["receipt"].is_null(), "{view}");
    }
    assert_eq!(app.balance(&poor.user.account_id).await, 100);
    assert_eq!(app.balance(&phone.user.account_id).await, 10_000);
    assert_eq!(app.payee_balance().await, 0);
}

// ---- gates (C6) ----

/// A merchant's entry and exit gates, with a fee table: 100 yen, 10 a minute, 500 at most.
struct Gates {
    entry: Shop,
    exit: Shop,
}

impl TestApp {
    async fn gates(&self, merchant_id: &str) -> Gates {
        let fees = gates::check_fees(merchant_id, "JPY", 100, 10, 500).unwrap();
        gates::set_fees(&mut self.admin().await, &fees, now()).await.unwrap();
        Gates {
            entry: self.register_terminal(merchant_id, TerminalKind::Gate).await,
            exit: self.register_terminal(merchant_id, TerminalKind::Gate).await,
        }
    }

    /// Enters through `gate`; returns the admission.
    async fn enter(&self, gate: &Shop, phone: &Phone) -> String {
        let (status, entry) = json_of(self.post_as(&gate.key, "/v1/terminal/gate/entries", json!({})).await).await;
        assert_eq!(status, StatusCode::CREATED, "{entry}");
        let synced = self.synced(phone, entry["number"].as_str().unwrap()).await;
        assert_eq!(synced["status"], "succeeded", "{synced}");
        // The gate opens.
        let view = self.terminal_view(gate, entry["id"].as_str().unwrap()).await;
        assert_eq!(view["status"], "succeeded", "{view}");
        synced["admission"].as_str().expect("admission").to_string()
    }

    /// An exit transaction's (id, number).
    async fn exit_number(&self, gate: &Shop) -> (String, String) {
        let (status, exit) = json_of(self.post_as(&gate.key, "/v1/terminal/gate/exits", json!({})).await).await;
        assert_eq!(status, StatusCode::CREATED, "{exit}");
        (
            exit["id"].as_str().unwrap().to_string(),
            exit["number"].as_str().unwrap().to_string(),
        )
    }

    async fn sync_exit(&self, phone: &Phone, number: &str, admission: &str) -> Response {
        let body = json!({ "number": number, "admission": admission });
        self.as_phone(phone, "/v1/wallet/transactions/sync", body).await
    }

    /// Moves an admission's entry back in time (the fee counts from it).
    async fn entered_ago(&self, admission: &str, seconds: i64) {
        let (_, claims) = kessai_protocol::peer::peek::<AdmissionClaims>(admission).unwrap();
        sqlx::query("UPDATE admissions SET entered_at = $1 WHERE jti = $2")
            .bind(now() - seconds)
            .bind(&claims.jti)
            .execute(&self.pool)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_gate_admits_on_entry_and_charges_the_fee_on_exit_before_it_opens() {
    let app = spawn_app().await;
    let gates = app.gates(&app.merchant.merchant_id).await;
    let phone = app.phone(10_000).await;
    let admission = app.enter(&gates.entry, &phone).await;
    let institution = kessai_core::institution::current_id(&app.node.reader).await.unwrap();
    let (_, claims) = kessai_protocol::peer::peek::<AdmissionClaims>(&admission).unwrap();
    assert!(claims.jti.starts_with("adm_"), "{claims:?}");
    assert_eq!(
        (claims.gate.as_str(), claims.merchant.as_str(), claims.iss.as_str()),
        (
            gates.entry.terminal_id.as_str(),
            app.merchant.merchant_id.as_str(),
            institution.as_str()
        )
    );
    assert!((now() - claims.entered_at).abs() < 3600, "{claims:?}");
    // Two minutes and five seconds: three started minutes.
    app.entered_ago(&admission, 125).await;
    let (id, number) = app.exit_number(&gates.exit).await;
    assert_error(
        app.sync(&phone, &number).await,
        StatusCode::BAD_REQUEST,
        "admission_missing",
    )
    .await;
    let (status, seen) = json_of(app.sync_exit(&phone, &number, &admission).await).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(
        (seen["status"].as_str(), seen["amount"].as_u64()),
        (Some("synchronized"), Some(130)),
        "{seen}"
    );
    // Closed until paid.
    assert_eq!(app.terminal_view(&gates.exit, &id).await["status"], "synchronized");
    let (_, paid) = json_of(app.confirm_txn(&phone, &id, 130).await).await;
    assert_eq!(paid["status"], "succeeded", "{paid}");
    assert_eq!(paid["receipt"]["items"][0]["name"], "Gate fee");
    let view = app.terminal_view(&gates.exit, &id).await;
    assert_eq!(
        (view["status"].as_str(), view["amount"].as_u64()),
        (Some("succeeded"), Some(130))
    );
    assert_eq!(app.balance(&phone.user.account_id).await, 10_000 - 130);
    assert_eq!(app.payee_balance().await, 130);

    // The admission exits once.
    let (_, again) = app.exit_number(&gates.exit).await;
    assert_error(
        app.sync_exit(&phone, &again, &admission).await,
        StatusCode::CONFLICT,
        "admission_used",
    )
    .await;
    // A long stay costs the cap.
    let admission = app.enter(&gates.entry, &phone).await;
    app.entered_ago(&admission, 86_400).await;
    let (_, number) = app.exit_number(&gates.exit).await;
    let (_, seen) = json_of(app.sync_exit(&phone, &number, &admission).await).await;
    assert_eq!(seen["amount"], 500, "{seen}");
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn forged_altered_and_other_merchants_admissions_are_refused() {
    let app = spawn_app().await;
    let ours = app.gates(&app.merchant.merchant_id).await;
    let other = app.create_merchant(&["https://other.example"], None).await;
    let theirs = app.gates(&other.merchant_id).await;
    let phone = app.phone(10_000).await;
    let admission = app.enter(&ours.entry, &phone).await;
    let foreign = app.enter(&theirs.entry, &phone).await;

    let mut parts: Vec<String> = admission.split('.').map(String::from).collect();
    let (_, mut claims) = kessai_protocol::peer::peek::<AdmissionClaims>(&admission).unwrap();
    claims.entered_at += 3600;
    parts[1] = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        serde_json::to_vec(&claims).unwrap(),
    );
    let altered = parts.join(".");
    let forged = kessai_protocol::peer::InstitutionKey::from_seed(&[7; 32])
        .sign(&claims)
        .unwrap();
    for bad in [altered.as_str(), forged.as_str(), foreign.as_str(), "not-a-jws"] {
        let (id, number) = app.exit_number(&ours.exit).await;
        let error = assert_error(
            app.sync_exit(&phone, &number, bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_admission",
        )
        .await;
        assert_eq!(error["param"], "admission");
        // Nothing opened, nobody synchronized.
        assert_eq!(app.terminal_view(&ours.exit, &id).await["status"], "awaiting_payer");
    }
    // Gates only, and exits need a fee table.
    let pos = app.terminal().await;
    assert_error(
        app.post_as(&pos.key, "/v1/terminal/gate/entries", json!({})).await,
        StatusCode::FORBIDDEN,
        "terminal_kind_not_allowed",
    )
    .await;
    let third = app.create_merchant(&["https://third.example"], None).await;
    let gate = app.register_terminal(&third.merchant_id, TerminalKind::Gate).await;
    assert_error(
        app.post_as(&gate.key, "/v1/terminal/gate/exits", json!({})).await,
        StatusCode::CONFLICT,
        "gate_fees_missing",
    )
    .await;
    // An entry has nothing to pay.
    let (status, entry) = json_of(
        app.post_as(&ours.entry.key, "/v1/terminal/gate/entries", json!({}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(entry["qr"]
        .as_str()
        .is_some_and(|q| q.contains(entry["number"].as_str().unwrap())));
    assert_eq!(app.payee_balance().await, 0);
}

#[tokio::test]
async fn one_admission_at_two_exits_at_once_opens_one() {
    let app = spawn_app().await;
    let gates = app.gates(&app.merchant.merchant_id).await;
    let second_exit = app
        .register_terminal(&app.merchant.merchant_id, TerminalKind::Gate)
        .await;
    let phone = app.phone(10_000).await;
    let admission = app.enter(&gates.entry, &phone).await;
    let (id_a, number_a) = app.exit_number(&gates.exit).await;
    let (id_b, number_b) = app.exit_number(&second_exit).await;
    let (a, b) = tokio::join!(
        app.sync_exit(&phone, &number_a, &admission),
        app.sync_exit(&phone, &number_b, &admission)
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let (winner, gate) = if a.status() == StatusCode::OK {
        (id_a, &gates.exit)
    } else {
        (id_b, &second_exit)
    };
    let loser = if a.status() == StatusCode::OK { b } else { a };
    assert_error(loser, StatusCode::CONFLICT, "admission_used").await;
    let (_, paid) = json_of(app.confirm_txn(&phone, &winner, 110).await).await;
    assert_eq!(paid["status"], "succeeded", "{paid}");
    assert_eq!(app.terminal_view(gate, &winner).await["status"], "succeeded");
    assert_eq!(app.balance(&phone.user.account_id).await, 10_000 - 110);
}

// ---- tickets (C9) ----

impl TestApp {
    /// Sells a ticket for `event`, valid `from`..`until`; returns the signed ticket.
    async fn buy_ticket(&self, seller: &Shop, phone: &Phone, from: i64, until: i64) -> String {
        let body = json!({"amount": 3000, "currency": "JPY",
            "ticket": {"event": "Summer concert", "valid_from": from, "valid_until": until}});
        let sale = self.open_sale(seller, body).await;
        let id = sale["id"].as_str().unwrap();
        self.synced(phone, sale["number"].as_str().unwrap()).await;
        let (_, paid) = json_of(self.confirm_txn(phone, id, 3000).await).await;
        assert_eq!(paid["status"], "succeeded", "{paid}");
        paid["receipt"]["ticket"].as_str().expect("ticket").to_string()
    }

    async fn verify(&self, entrance: &Shop, ticket: &str) -> Response {
        self.post_as(
            &entrance.key,
            "/v1/terminal/tickets/verify",
            json!({ "ticket": ticket }),
        )
        .await
    }
}

#[tokio::test]
async fn a_ticket_bought_at_a_ticket_terminal_admits_once_at_the_entrance() {
    let app = spawn_app().await;
    let seller = app
        .register_terminal(&app.merchant.merchant_id, TerminalKind::Ticket)
        .await;
    let entrance = app
        .register_terminal(&app.merchant.merchant_id, TerminalKind::Ticket)
        .await;
    let phone = app.phone(10_000).await;
    let ticket = app.buy_ticket(&seller, &phone, now() - 60, now() + 3600).await;
    let (_, claims) = kessai_protocol::peer::peek::<TicketClaims>(&ticket).unwrap();
    assert!(claims.jti.starts_with("tkt_"), "{claims:?}");
    assert_eq!(
        (claims.event.as_str(), claims.merchant.as_str()),
        ("Summer concert", app.merchant.merchant_id.as_str())
    );
    // The clerk's receipt is the phone's: the same ticket.
    let (status, admitted) = json_of(app.verify(&entrance, &ticket).await).await;
    assert_eq!(status, StatusCode::OK, "{admitted}");
    assert_eq!(
        (admitted["admitted"].as_bool(), admitted["event"].as_str()),
        (Some(true), Some("Summer concert"))
    );
    assert_error(
        app.verify(&entrance, &ticket).await,
        StatusCode::CONFLICT,
        "ticket_used",
    )
    .await;
    assert_error(app.verify(&seller, &ticket).await, StatusCode::CONFLICT, "ticket_used").await;
    assert_eq!(app.balance(&phone.user.account_id).await, 10_000 - 3000);
}

#[tokio::test]
async fn forged_other_merchants_and_untimely_tickets_are_refused() {
    let app = spawn_app().await;
    let seller = app
        .register_terminal(&app.merchant.merchant_id, TerminalKind::Ticket)
        .await;
    let phone = app.phone(100_000).await;
    let ticket = app.buy_ticket(&seller, &phone, now() - 60, now() + 3600).await;
    let early = app.buy_ticket(&seller, &phone, now() + 3600, now() + 7200).await;
    let over = app.buy_ticket(&seller, &phone, now() - 7200, now() - 3600).await;
    let (_, mut claims) = kessai_protocol::peer::peek::<TicketClaims>(&ticket).unwrap();
    claims.event = "VIP".into();
    let mut parts: Vec<String> = ticket.split('.').map(String::from).collect();
    parts[1] = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        serde_json::to_vec(&claims).unwrap(),
    );
    let altered = parts.join(".");
    let forged = kessai_protocol::peer::InstitutionKey::from_seed(&[9; 32])
        .sign(&claims)
        .unwrap();
    for bad in [&altered, &forged, &early, &over] {
        assert_error(
            app.verify(&seller, bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_ticket",
        )
        .await;
    }
    let other = app.create_merchant(&["https://other.example"], None).await;
    let their_entrance = app.register_terminal(&other.merchant_id, TerminalKind::Ticket).await;
    assert_error(
        app.verify(&their_entrance, &ticket).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_ticket",
    )
    .await;
    // Still unused: the refusals above let nobody in.
    assert_eq!(app.verify(&seller, &ticket).await.status(), StatusCode::OK);
    // Only ticket terminals sell tickets, and only sensible ones.
    let pos = app.terminal().await;
    let ticket_body = |from: i64, until: i64| json!({"amount": 3000, "currency": "JPY", "ticket": {"event": "X", "valid_from": from, "valid_until": until}});
    assert_error(
        app.post_as(&pos.key, "/v1/terminal/transactions", ticket_body(1, 2))
            .await,
        StatusCode::BAD_REQUEST,
        "ticket_terminal_only",
    )
    .await;
    assert_error(
        app.post_as(&seller.key, "/v1/terminal/transactions", ticket_body(2, 2))
            .await,
        StatusCode::BAD_REQUEST,
        "ticket_validity_invalid",
    )
    .await;
}

#[tokio::test]
async fn one_ticket_at_two_entrances_at_once_admits_once() {
    let app = spawn_app().await;
    let seller = app
        .register_terminal(&app.merchant.merchant_id, TerminalKind::Ticket)
        .await;
    let north = app
        .register_terminal(&app.merchant.merchant_id, TerminalKind::Ticket)
        .await;
    let south = app
        .register_terminal(&app.merchant.merchant_id, TerminalKind::Ticket)
        .await;
    let phone = app.phone(100_000).await;
    for _ in 0..4 {
        let ticket = app.buy_ticket(&seller, &phone, now() - 60, now() + 3600).await;
        let (a, b) = tokio::join!(app.verify(&north, &ticket), app.verify(&south, &ticket));
        let mut statuses = [a.status(), b.status()];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    }
    assert_eq!(app.count("used_tickets").await, 4);
}

// ---- cleanup ----

#[tokio::test]
async fn spent_tickets_and_long_exited_admissions_are_forgotten_and_nothing_else() {
    use kessai_core::sweeper::{forget_spent_passes, EXITED_ADMISSION_KEEP_S, USED_TICKET_KEEP_S};
    let app = spawn_app().await;
    let merchant = app.merchant.merchant_id.clone();
    let seller = app.register_terminal(&merchant, TerminalKind::Ticket).await;
    let phone = app.phone(10_000).await;
    let until = now() + 3600;
    let ticket = app.buy_ticket(&seller, &phone, now() - 60, until).await;
    let (status, _) = json_of(app.verify(&seller, &ticket).await).await;
    assert_eq!(status, StatusCode::OK);
    let gates = app.gates(&merchant).await;
    let exited = app.enter(&gates.entry, &phone).await;
    let (exit_id, number) = app.exit_number(&gates.exit).await;
    let (_, synced) = json_of(app.sync_exit(&phone, &number, &exited).await).await;
    let fee = synced["amount"].as_u64().expect("the fee");
    let (_, paid) = json_of(app.confirm_txn(&phone, &exit_id, fee).await).await;
    assert_eq!(paid["status"], "succeeded", "{paid}");
    let inside = app.enter(&gates.entry, &phone).await;

    // Now: everything is still needed.
    assert_eq!(forget_spent_passes(&app.node, now()).await.unwrap(), 0);
    assert_eq!((app.count("used_tickets").await, app.count("admissions").await), (1, 2));
    // A day after the ticket's validity: the used ticket goes (past its
    // validity it is refused before anyone looks for it).
    let later = until + USED_TICKET_KEEP_S + 1;
    assert_eq!(forget_spent_passes(&app.node, later).await.unwrap(), 1);
    assert_eq!(app.count("used_tickets").await, 0);
    // Long after the paid exit: that admission goes; the one still inside stays.
    let much_later = now() + EXITED_ADMISSION_KEEP_S + 60;
    assert_eq!(forget_spent_passes(&app.node, much_later).await.unwrap(), 1);
    assert_eq!(app.count("admissions").await, 1);
    // The forgotten admission cannot exit again: without its row it is unknown.
    let (_, again) = app.exit_number(&gates.exit).await;
    assert_error(
        app.sync_exit(&phone, &again, &exited).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_admission",
    )
    .await;
    let (other_exit, other) = app.exit_number(&gates.exit).await;
    let (status, synced) = json_of(app.sync_exit(&phone, &other, &inside).await).await;
    assert_eq!(
        (status, synced["id"].as_str()),
        (StatusCode::OK, Some(other_exit.as_str())),
        "{synced}"
    );
    app.assert_ledger_ok().await;
}
