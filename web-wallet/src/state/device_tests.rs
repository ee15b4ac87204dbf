//! The devices in the reducer: a vending machine's one article (C5), the
//! admission kept at an entry gate and dropped at a paid exit (C6), a
//! ticket kept from its receipt (C9), all saved.

use kessai_protocol::terminal::{Menu, MenuItem, PayerTransaction, TerminalKind, TransactionStatus};

use super::*;
use crate::in_store::Located;
use crate::passes::tests::{entry, held, paid, receipt, ticket_token, transaction, HOME};
use crate::passes::Admission;
use crate::transaction_number::Lookup;

fn synced(wallet: Wallet, transaction: PayerTransaction, admission: Option<Admission>) -> Wallet {
    let lookup = Lookup::typed("48213907").unwrap();
    [
        StoreAction::Sync(lookup),
        StoreAction::Synced(Box::new(Located {
            address: HOME.into(),
            transaction,
            admission,
        })),
    ]
    .into_iter()
    .fold(wallet, |wallet, action| wallet.apply(Action::InStore(action)))
}

fn act(wallet: Wallet, action: StoreAction) -> Wallet {
    wallet.apply(Action::InStore(action))
}

fn vending() -> PayerTransaction {
    let item = |code: &str, unit_price| MenuItem {
        code: code.into(),
        name: code.to_uppercase(),
        unit_price,
    };
    PayerTransaction {
        menu: Some(Menu {
            currency: "JPY".into(),
            items: vec![item("tea", 150), item("water", 110)],
        }),
        ..transaction(TerminalKind::Vending, None)
    }
}

#[test]
fn a_vending_machine_takes_one_article_once() {
    let wallet = synced(Wallet::default(), vending(), None);
    assert!(wallet.in_store.single_choice());
    let wallet = act(wallet, StoreAction::SetQuantity { index: 0, quantity: 2 });
    assert_eq!(wallet.in_store.quantities, [0, 0], "no steppers at a vending machine");
    let wallet = act(wallet, StoreAction::ChooseOne { index: 0 });
    let wallet = act(wallet, StoreAction::ChooseOne { index: 1 });
    assert_eq!(
        wallet.in_store.quantities,
        [0, 1],
        "choosing another replaces the first"
    );
    let wallet = act(wallet, StoreAction::ChooseOne { index: 7 });
    assert_eq!(wallet.in_store.quantities, [0, 1], "no such article");
    assert_eq!(wallet.in_store.menu_total(), 110);
    let wallet = act(wallet, StoreAction::SendOrder);
    assert_eq!(wallet.in_store.phase, StorePhase::Ordering);
}

#[test]
fn an_entry_keeps_its_admission_and_the_paid_exit_drops_it_saved_both_times() {
    let mut wallet = Wallet {
        loaded: true,
        ..Wallet::default()
    };
    wallet = synced(wallet, entry("adm_1", 1_000), None);
    assert!(
        matches!(wallet.in_store.phase, StorePhase::Done(_)),
        "an entry ends at the sync"
    );
    assert_eq!(wallet.saved().passes.admissions, [held("adm_1", HOME)]);
    wallet = act(wallet, StoreAction::Reset);
    let exit = transaction(TerminalKind::Gate, Some(300));
    wallet = synced(wallet, exit, Some(held("adm_1", HOME)));
    assert_eq!(wallet.in_store.payable(), Some((300, "JPY")), "the fee is what is paid");
    wallet = act(
        wallet,
        StoreAction::Confirm {
            amount: 300,
            currency: "JPY".into(),
        },
    );
    assert_eq!(wallet.passes.admissions.len(), 1, "kept until the exit is paid");
    wallet = act(
        wallet,
        StoreAction::Confirmed(Box::new(paid(Some(receipt(vec![], None))))),
    );
    assert!(wallet.saved().passes.admissions.is_empty());
}

#[test]
fn a_declined_exit_leaves_the_admission_and_a_ticket_is_kept_from_its_receipt() {
    let mut wallet = synced(Wallet::default(), entry("adm_1", 1_000), None);
    wallet = act(wallet, StoreAction::Reset);
    let mut declined = transaction(TerminalKind::Gate, Some(300));
    declined.status = TransactionStatus::Declined;
    wallet = synced(wallet, declined, Some(held("adm_1", HOME)));
    assert_eq!(wallet.passes.admissions.len(), 1);
    wallet = act(wallet, StoreAction::Reset);
    let mut sold = transaction(TerminalKind::Ticket, Some(3000));
    sold.status = TransactionStatus::Succeeded;
    sold.receipt = Some(receipt(vec![], Some(ticket_token("tkt_1"))));
    wallet = synced(wallet, sold, None);
    assert_eq!(wallet.passes.tickets.len(), 1);
    assert_eq!(wallet.passes.tickets[0].event, "Spring concert");
}

#[test]
fn passes_saved_earlier_and_given_before_loading_are_both_kept() {
    let wallet = synced(Wallet::default(), entry("adm_new", 1_000), None);
    let mut saved = Saved::default();
    saved.passes.keep_admission(held("adm_old", HOME));
    let wallet = wallet.apply(Action::Loaded(saved));
    let ids: Vec<&str> = wallet.passes.admissions.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["adm_old", "adm_new"]);
}
