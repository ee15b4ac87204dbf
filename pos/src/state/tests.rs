use kessai_protocol::terminal::{
    Challenge, ChallengeKind, ChallengeStatus, TerminalKind, TerminalMerchant, TerminalPayer, TransactionStatus,
};

use super::*;
use crate::settings::Currency;

fn terminal() -> TerminalInfo {
    TerminalInfo {
        id: Some("trm_1".into()),
        name: "Front till".into(),
        kind: TerminalKind::Pos,
        label: "TILL-1".into(),
        location: None,
        merchant: TerminalMerchant {
            id: "mch_1".into(),
            name: "Corner Café".into(),
        },
    }
}

fn key() -> Secret<String> {
    Secret::new("tk_test".into())
}

fn run(pos: Pos, actions: impl IntoIterator<Item = Action>) -> Pos {
    actions.into_iter().fold(pos, reduce)
}

fn signed_in() -> Pos {
    run(
        Pos::default(),
        [
            Action::Loaded {
                settings: Settings::default(),
                key: None,
            },
            Action::SignIn(key()),
            Action::SignedIn(terminal()),
        ],
    )
}

fn created(amount: Option<u64>) -> TransactionCreated {
    TransactionCreated {
        id: "txn_1".into(),
        number: "48213907".into(),
        status: TransactionStatus::AwaitingPayer,
        qr: "000201…".into(),
        amount,
        currency: "JPY".into(),
        expires_at: 1_900_000_000,
    }
}

/// Signed in, 1,200 keyed in and the number shown.
fn waiting() -> Pos {
    let pos = run(
        signed_in(),
        [
            Action::Press(Key::Digit(1)),
            Action::Press(Key::Digit(2)),
            Action::Press(Key::DoubleZero),
        ],
    );
    let request = pos.charge_request(1).unwrap();
    run(pos, [Action::Creating(request), Action::Created(created(Some(1200)))])
}

fn with_status(pos: &Pos, status: TransactionStatus) -> TerminalTransaction {
    TerminalTransaction {
        status,
        ..pos.transaction().unwrap().clone()
    }
}

#[test]
fn nothing_shows_before_the_saved_state_is_read() {
    assert_eq!(Pos::default().screen(), Screen::Loading);
}

#[test]
fn signing_in_keeps_the_key_once_the_server_knows_it() {
    let pos = run(
        Pos::default(),
        [
            Action::Loaded {
                settings: Settings::default(),
                key: None,
            },
            Action::SignIn(key()),
        ],
    );
    assert_eq!(pos.screen(), Screen::SignIn);
    assert_eq!(pos.key_to_keep(), None, "not kept before the server accepted it");
    let pos = reduce(pos, Action::SignedIn(terminal()));
    assert_eq!(pos.screen(), Screen::NewSale);
    assert_eq!(pos.key_to_keep(), Some(&key()));
    assert_eq!(pos.signed_in().unwrap().1.merchant.name, "Corner Café");
}

#[test]
fn a_saved_key_signs_in_again_on_load() {
    let pos = reduce(
        Pos::default(),
        Action::Loaded {
            settings: Settings::default(),
            key: Some(key()),
        },
    );
    assert_eq!(pos.session, Session::SigningIn(key()));
}

#[test]
fn a_refused_key_signs_out_with_the_reason_and_keeps_the_settings() {
    let mut pos = waiting();
    pos.settings.currency = Currency::Usd;
    let pos = reduce(pos, Action::KeyRefused("Unknown terminal key.".into()));
    assert_eq!(pos.screen(), Screen::SignIn);
    assert_eq!(pos.error.as_deref(), Some("Unknown terminal key."));
    assert_eq!(pos.sale, None);
    assert_eq!(pos.key_to_keep(), None);
    assert_eq!(pos.settings.currency, Currency::Usd);
}

#[test]
fn a_keyed_amount_charges_that_amount_in_the_settings_currency() {
    let mut pos = signed_in();
    assert_eq!(pos.charge_request(1), None, "nothing keyed in");
    pos.settings.currency = Currency::Usd;
    let pos = run(
        pos,
        [
            Action::Press(Key::Digit(4)),
            Action::Press(Key::Digit(5)),
            Action::Press(Key::Digit(0)),
        ],
    );
    let request = pos.charge_request(1).unwrap();
    assert_eq!((request.amount, request.currency.as_deref()), (Some(450), Some("USD")));
    assert_eq!((request.order, request.menu), (None, None));
}

#[test]
fn picked_items_charge_an_itemized_order() {
    let pos = run(
        signed_in(),
        [
            Action::SetMode(SaleMode::Items),
            Action::AddToCart("coffee".into()),
            Action::AddToCart("coffee".into()),
            Action::AddToCart("cake".into()),
            Action::RemoveFromCart("cake".into()),
        ],
    );
    assert_eq!(pos.pending_amount(), Some(900));
    let request = pos.charge_request(1_700_000_000_000).unwrap();
    let order = request.order.unwrap();
    assert_eq!(order.order_id, "pos-1700000000000");
    assert_eq!(
        (order.items.len(), order.total, order.currency.as_str()),
        (1, 900, "JPY")
    );
    assert_eq!((request.amount, request.currency, request.menu), (None, None, None));
}

#[test]
fn letting_the_customer_order_sends_the_catalogue_as_a_menu() {
    let pos = reduce(signed_in(), Action::SetMode(SaleMode::CustomerOrders));
    let menu = pos.charge_request(1).unwrap().menu.unwrap();
    assert_eq!(menu.items, pos.settings.articles);
    assert_eq!(menu.currency, "JPY");
    let mut empty = pos.clone();
    empty.settings.articles.clear();
    assert_eq!(empty.charge_request(1), None);
}

#[test]
fn a_created_transaction_waits_for_a_payer_with_the_requests_order() {
    let pos = run(
        signed_in(),
        [Action::SetMode(SaleMode::Items), Action::AddToCart("tea".into())],
    );
    let request = pos.charge_request(1).unwrap();
    let pos = reduce(pos, Action::Creating(request));
    assert_eq!(pos.screen(), Screen::Creating);
    let pos = reduce(pos, Action::Created(created(Some(380))));
    assert_eq!(pos.screen(), Screen::Waiting);
    let txn = pos.transaction().unwrap();
    assert_eq!((txn.number.as_str(), txn.amount), ("48213907", Some(380)));
    assert_eq!(txn.order.as_ref().unwrap().items[0].code, "tea");
}

#[test]
fn a_failed_create_returns_to_the_sale_as_keyed() {
    let pos = run(signed_in(), [Action::Press(Key::Digit(9))]);
    let request = pos.charge_request(1).unwrap();
    let pos = run(pos, [Action::Creating(request), Action::Failed("No network.".into())]);
    assert_eq!(pos.screen(), Screen::NewSale);
    assert_eq!(pos.entry.minor(), 9);
    assert_eq!(pos.error.as_deref(), Some("No network."));
}

#[test]
fn updates_follow_the_transaction_to_its_end() {
    let pos = waiting();
    let mut synced = with_status(&pos, TransactionStatus::Synchronized);
    synced.payer = Some(TerminalPayer {
        name: "Hanako".into(),
        portrait_url: None,
    });
    let pos = run(pos, [Action::Updated(synced.clone()), Action::Ask(Busy::AskingPin)]);
    assert_eq!(pos.screen(), Screen::Synchronized);
    assert_eq!(pos.sale.as_ref().unwrap().busy, Some(Busy::AskingPin));
    synced.challenge = Some(Challenge {
        kind: ChallengeKind::Pin,
        status: ChallengeStatus::Pending,
    });
    let pos = reduce(pos, Action::Updated(synced));
    assert_eq!(pos.sale.as_ref().unwrap().busy, None, "the answer ends the request");
    let pos = reduce(
        pos.clone(),
        Action::Updated(with_status(&pos, TransactionStatus::Succeeded)),
    );
    assert_eq!(pos.screen(), Screen::Final);
}

#[test]
fn late_or_foreign_views_do_not_undo_an_ending() {
    let pos = waiting();
    let awaiting = with_status(&pos, TransactionStatus::AwaitingPayer);
    let pos = reduce(
        pos.clone(),
        Action::Updated(with_status(&pos, TransactionStatus::Canceled)),
    );
    let pos = reduce(pos, Action::Updated(awaiting.clone()));
    assert_eq!(pos.transaction().unwrap().status, TransactionStatus::Canceled);
    let other = TerminalTransaction {
        id: "txn_2".into(),
        status: TransactionStatus::Succeeded,
        ..awaiting
    };
    let live = waiting();
    assert_eq!(reduce(live.clone(), Action::Updated(other)), live);
}

#[test]
fn new_sale_waits_for_the_end_then_clears_the_till() {
    let pos = reduce(waiting(), Action::NewSale);
    assert_eq!(
        pos.screen(),
        Screen::Waiting,
        "an open transaction is canceled, not dropped"
    );
    let pos = reduce(
        pos.clone(),
        Action::Updated(with_status(&pos, TransactionStatus::Expired)),
    );
    let pos = reduce(pos, Action::NewSale);
    assert_eq!(pos.screen(), Screen::NewSale);
    assert_eq!((pos.entry.minor(), pos.sale.is_none()), (0, true));
}

#[test]
fn a_failed_cancel_keeps_the_transaction_and_says_why() {
    let pos = run(
        waiting(),
        [Action::Ask(Busy::Canceling), Action::Failed("Refused.".into())],
    );
    assert_eq!(pos.screen(), Screen::Waiting);
    assert_eq!(pos.sale.as_ref().unwrap().busy, None);
    assert_eq!(pos.error.as_deref(), Some("Refused."));
}

#[test]
fn settings_open_only_between_sales() {
    let pos = reduce(signed_in(), Action::OpenSettings);
    assert_eq!(pos.screen(), Screen::Settings);
    let mut saved = pos.settings.clone();
    saved.currency = Currency::Eur;
    let pos = reduce(pos, Action::SaveSettings(saved));
    assert_eq!((pos.screen(), pos.currency()), (Screen::NewSale, "EUR"));
    assert_eq!(reduce(waiting(), Action::OpenSettings).screen(), Screen::Waiting);
}

#[test]
fn a_new_key_starts_a_new_terminal() {
    let pos = reduce(waiting(), Action::SignIn(Secret::new("tk_other".into())));
    assert_eq!(pos.session, Session::SigningIn(Secret::new("tk_other".into())));
    assert_eq!((pos.sale, pos.entry.minor()), (None, 0));
}
