//! The reducer's rules: connectors, settings and the payment flow.

use kessai_protocol::api::Status;
use kessai_protocol::wallet::{BrandInfo, Receipt, Session, StartMerchant, StartMessage, WalletAccount, WalletPayment};
use kessai_protocol::{Order, Secret};

use super::*;

const NOW: i64 = 1_000;
const SAKURA: &str = "https://sakura.example";

fn session(user: &str) -> Session {
    Session {
        token: Secret::new(format!("wt_{user}")),
        user_id: user.into(),
        name: "Hanako".into(),
        expires_at: NOW + 3_600,
    }
}

fn info(available: u64) -> BrandInfo {
    BrandInfo {
        institution_id: "ins_sakura".into(),
        name: "Sakura Bank".into(),
        brands: vec!["sakura-debit".into()],
        currencies: vec!["JPY".into()],
        accounts: vec![WalletAccount {
            account_id: "acc_1".into(),
            brand: "sakura-debit".into(),
            currency: "JPY".into(),
            available,
        }],
        peers: vec![],
        refresh_after_s: 300,
    }
}

fn start() -> StartMessage {
    StartMessage {
        kind: "kessai.start".into(),
        version: 1,
        server: SAKURA.into(),
        institution_id: "ins_sakura".into(),
        settlement_id: "stl_1".into(),
        client_secret: Secret::new("stl_1_secret_x".into()),
        order: Order::example(),
        brands: vec![],
        merchant: StartMerchant {
            id: "mch_1".into(),
            name: "Corner shop".into(),
            origin: "https://shop.example".into(),
        },
    }
}

fn account() -> AccountRef {
    AccountRef {
        address: SAKURA.into(),
        account_id: "acc_1".into(),
    }
}

/// A wallet logged in to Sakura Bank with `available` yen, in `mode`.
fn wallet(mode: Mode, available: u64) -> Wallet {
    Wallet::default()
        .apply(Action::Loaded(Saved::default()))
        .apply(Action::SetMode(mode))
        .apply(Action::LoggedIn {
            connector_id: None,
            address: SAKURA.into(),
            session: session("usr_1"),
        })
        .apply(Action::BrandInfoFetched {
            address: SAKURA.into(),
            info: info(available),
            now_s: NOW,
        })
}

fn phase(wallet: &Wallet) -> Phase {
    wallet.payment.as_ref().map(|p| p.phase.clone()).expect("a payment")
}

fn arrive(wallet: Wallet) -> Wallet {
    wallet
        .apply(Action::StartArrived {
            channel: Channel::Link,
            start: Ok(start()),
        })
        .apply(Action::Prepared { now_s: NOW })
}

fn paid() -> WalletPayment {
    WalletPayment {
        status: Status::Succeeded,
        settlement_id: "stl_1".into(),
        result_token: Some("jws".into()),
        decline_code: None,
        mismatched_fields: None,
        receipt: Receipt {
            merchant: "Corner shop".into(),
            order_id: "1234567890".into(),
            total: 1155,
            currency: "JPY".into(),
            brand: "sakura-debit".into(),
            paid_at: Some(NOW),
        },
    }
}

// B1
#[test]
fn each_login_to_a_new_address_makes_a_connector() {
    let wallet = wallet(Mode::Ask, 5_000).apply(Action::LoggedIn {
        connector_id: None,
        address: "https://momiji.example".into(),
        session: session("usr_2"),
    });
    let ids: Vec<&str> = wallet.connectors.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["con_1", "con_2"]);
    assert_eq!(wallet.connectors[1].user_id, "usr_2");
}

// B7
#[test]
fn another_address_joins_its_connector() {
    let wallet = wallet(Mode::Ask, 5_000).apply(Action::LoggedIn {
        connector_id: Some("con_1".into()),
        address: "https://momiji.example".into(),
        session: session("usr_1"),
    });
    assert_eq!(wallet.connectors.len(), 1);
    let addresses: Vec<&str> = wallet.connectors[0].links.iter().map(|l| l.address.as_str()).collect();
    assert_eq!(addresses, [SAKURA, "https://momiji.example"]);
}

#[test]
fn an_expired_session_keeps_the_accounts_and_a_new_login_revives_it() {
    let expired = wallet(Mode::Ask, 5_000).apply(Action::SessionExpired { address: SAKURA.into() });
    let link = &expired.connectors[0].links[0];
    assert!(link.token.is_none());
    assert!(link.brand_info.is_some(), "the accounts stay listed");
    let revived = expired.apply(Action::LoggedIn {
        connector_id: None,
        address: SAKURA.into(),
        session: session("usr_1"),
    });
    assert_eq!(revived.connectors.len(), 1, "a new session, not a new connector");
    assert!(revived.connectors[0].links[0].session_live(NOW));
}

#[test]
fn logging_out_drops_the_address_its_empty_connector_and_its_default() {
    let wallet = wallet(Mode::Default, 5_000)
        .apply(Action::MakeDefault(account()))
        .apply(Action::LoggedOut { address: SAKURA.into() });
    assert!(wallet.connectors.is_empty());
    assert_eq!(wallet.default_account, None);
}

#[test]
fn the_saved_part_round_trips_without_the_payment() {
    let wallet = arrive(wallet(Mode::Automatic, 5_000).apply(Action::MakeDefault(account())));
    let saved = wallet.saved();
    let json = serde_json::to_string(&saved).unwrap();
    let back: Saved = serde_json::from_str(&json).unwrap();
    assert_eq!(back, saved);
    let reloaded = Wallet::default().apply(Action::Loaded(back));
    assert!(reloaded.loaded);
    assert_eq!(reloaded.mode, Mode::Automatic);
    assert_eq!(reloaded.payment, None);
}

#[test]
fn a_language_picked_before_loading_wins() {
    let saved = Saved {
        lang: Some(Lang::En),
        ..Saved::default()
    };
    let wallet = Wallet::default()
        .apply(Action::SetLang(Lang::Ja))
        .apply(Action::Loaded(saved));
    assert_eq!(wallet.lang, Some(Lang::Ja));
}

// B3
#[test]
fn ask_mode_shows_the_sheet_then_pays_with_the_chosen_account() {
    let wallet = arrive(wallet(Mode::Ask, 5_000));
    assert_eq!(phase(&wallet), Phase::Choosing);
    let wallet = wallet.apply(Action::Choose {
        account: account(),
        now_s: NOW,
    });
    assert_eq!(phase(&wallet), Phase::Paying(account()));
    let wallet = wallet.apply(Action::Paid(paid()));
    assert_eq!(phase(&wallet), Phase::Done(paid()));
}

#[test]
fn an_unusable_account_cannot_be_chosen() {
    let wallet = arrive(wallet(Mode::Ask, 100)).apply(Action::Choose {
        account: account(),
        now_s: NOW,
    });
    assert_eq!(phase(&wallet), Phase::Choosing);
}

fn proposed(wallet: &Wallet) -> Option<AccountRef> {
    wallet.payment.as_ref().and_then(|p| p.proposed.clone())
}

// B2: the default is proposed, never paid with before the user's click.
#[test]
fn default_mode_proposes_the_default_and_waits_for_the_click() {
    let wallet = arrive(wallet(Mode::Default, 5_000).apply(Action::MakeDefault(account())));
    assert_eq!(phase(&wallet), Phase::Choosing);
    assert_eq!(proposed(&wallet), Some(account()));
    let wallet = wallet.apply(Action::Choose {
        account: account(),
        now_s: NOW,
    });
    assert_eq!(phase(&wallet), Phase::Paying(account()));
}

// B4: the same for "Choose automatically", from any channel.
#[test]
fn automatic_mode_proposes_and_never_pays_on_its_own() {
    for channel in [Channel::Link, Channel::Popup, Channel::Host] {
        let wallet = wallet(Mode::Automatic, 5_000)
            .apply(Action::StartArrived {
                channel,
                start: Ok(start()),
            })
            .apply(Action::Prepared { now_s: NOW });
        assert_eq!(phase(&wallet), Phase::Choosing, "{channel:?}");
        assert_eq!(proposed(&wallet), Some(account()), "{channel:?}");
    }
}

#[test]
fn ask_mode_proposes_nothing() {
    let wallet = arrive(wallet(Mode::Ask, 5_000).apply(Action::MakeDefault(account())));
    assert_eq!(proposed(&wallet), None);
}

// B4
#[test]
fn automatic_mode_proposes_nothing_when_nothing_fits() {
    let wallet = arrive(wallet(Mode::Automatic, 100));
    assert_eq!(phase(&wallet), Phase::Choosing);
    assert_eq!(proposed(&wallet), None);
}

#[test]
fn a_failed_payment_returns_to_the_sheet_with_the_message() {
    let wallet = arrive(wallet(Mode::Automatic, 5_000))
        .apply(Action::Choose {
            account: account(),
            now_s: NOW,
        })
        .apply(Action::PayFailed("No such peer.".into()));
    let payment = wallet.payment.as_ref().unwrap();
    assert_eq!(payment.phase, Phase::Choosing);
    assert_eq!(payment.error.as_deref(), Some("No such peer."));
}

#[test]
fn a_refused_message_never_reaches_the_sheet() {
    let problem = StartProblem::InvalidField("server");
    let wallet = wallet(Mode::Automatic, 5_000)
        .apply(Action::StartArrived {
            channel: Channel::Popup,
            start: Err(problem.clone()),
        })
        .apply(Action::Prepared { now_s: NOW });
    assert_eq!(phase(&wallet), Phase::Refused(problem));
    assert_eq!(phase(&wallet.apply(Action::Cancel)), Phase::Canceled);
}

#[test]
fn late_answers_change_nothing() {
    let wallet = arrive(wallet(Mode::Ask, 5_000));
    let after = wallet.clone().apply(Action::Paid(paid()));
    assert_eq!(after, wallet, "no payment was under way");
    let canceled = wallet.apply(Action::Cancel);
    assert_eq!(phase(&canceled), Phase::Canceled);
    assert_eq!(
        phase(&canceled.clone().apply(Action::Prepared { now_s: NOW })),
        Phase::Canceled
    );
    assert_eq!(canceled.apply(Action::Dismiss).payment, None);
}

#[test]
fn the_popup_waits_then_can_be_canceled() {
    let wallet = wallet(Mode::Ask, 5_000).apply(Action::AwaitStart(Channel::Popup));
    assert_eq!(phase(&wallet), Phase::AwaitingStart);
    assert_eq!(phase(&wallet.apply(Action::Cancel)), Phase::Canceled);
}

#[test]
fn connectors_are_bounded() {
    let mut wallet = wallet(Mode::Ask, 5_000);
    for n in 0..40 {
        wallet = wallet.apply(Action::LoggedIn {
            connector_id: None,
            address: format!("https://bank{n}.example"),
            session: session("usr_1"),
        });
    }
    assert_eq!(wallet.connectors.len(), crate::connectors::CONNECTORS_MAX);
    assert!(!wallet.can_add(None));
}

// B5, B6
#[test]
fn stale_links_are_those_with_old_info_and_a_live_session() {
    let wallet = wallet(Mode::Ask, 5_000);
    assert!(wallet.stale_links(NOW + 299).is_empty());
    let stale = wallet.stale_links(NOW + 300);
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0].0, SAKURA);
    let expired = wallet.apply(Action::SessionExpired { address: SAKURA.into() });
    assert!(expired.stale_links(NOW + 300).is_empty(), "no token to ask with");
    assert_eq!(expired.token(SAKURA, NOW), None);
}

#[test]
fn nothing_is_saved_before_loading_or_after_a_failed_load() {
    assert!(!Wallet::default().saving());
    assert!(Wallet::default().apply(Action::Loaded(Saved::default())).saving());
    let failed = Wallet::default().apply(Action::LoadFailed);
    assert!(failed.loaded && !failed.saving());
}

mod in_store {
    //! "Pay in store" (PROTOCOL section 13): the reducer's rules.

    use kessai_protocol::api::DeclineCode;
    use kessai_protocol::terminal::{
        Challenge, ChallengeKind, ChallengeStatus, ConfirmedTransaction, Menu, MenuItem, PayerTransaction,
        TerminalInfo, TerminalKind, TerminalMerchant, TerminalReceipt, TransactionStatus,
    };
    use kessai_protocol::{Order, Secret};

    use crate::in_store::{Located, StoreProblem};
    use crate::state::{Action, InStore, StoreAction, StorePhase, Wallet};
    use crate::transaction_number::Lookup;

    fn typed(number: &str) -> Lookup {
        Lookup::typed(number).unwrap()
    }

    const SAKURA: &str = "https://sakura.example";

    fn transaction(amount: Option<u64>, menu: Option<Menu>) -> PayerTransaction {
        PayerTransaction {
            id: "txn_1".into(),
            terminal: TerminalInfo {
                id: Some("trm_1".into()),
                name: "Front register".into(),
                kind: TerminalKind::Pos,
                label: "REGISTER-1".into(),
                location: Some("1F".into()),
                merchant: TerminalMerchant {
                    id: "mch_1".into(),
                    name: "Corner shop".into(),
                },
            },
            amount,
            currency: "JPY".into(),
            order: amount.map(|_| Order::example()),
            menu,
            status: TransactionStatus::Synchronized,
            challenge: None,
            receipt: None,
            decline_code: None,
            authentication: false,
            version: 0,
            admission: None,
        }
    }

    fn menu() -> Menu {
        Menu {
            currency: "JPY".into(),
            items: vec![
                MenuItem {
                    code: "tea".into(),
                    name: "Green tea".into(),
                    unit_price: 150,
                },
                MenuItem {
                    code: "water".into(),
                    name: "Water".into(),
                    unit_price: 110,
                },
            ],
        }
    }

    fn receipt() -> TerminalReceipt {
        TerminalReceipt {
            receipt_no: "R-1".into(),
            transaction_id: "txn_1".into(),
            merchant: "Corner shop".into(),
            terminal: "REGISTER-1".into(),
            amount: 1155,
            currency: "JPY".into(),
            items: vec![],
            paid_at: 1_000,
            ticket: None,
        }
    }

    fn store(wallet: Wallet, actions: impl IntoIterator<Item = StoreAction>) -> Wallet {
        actions
            .into_iter()
            .fold(wallet, |wallet, action| wallet.apply(Action::InStore(action)))
    }

    /// Synchronized with `transaction`, shown.
    fn shown(transaction: PayerTransaction) -> Wallet {
        store(
            Wallet::default(),
            [
                StoreAction::Sync(typed("48213907")),
                StoreAction::Synced(Box::new(Located {
                    address: SAKURA.into(),
                    transaction,
                    admission: None,
                })),
            ],
        )
    }

    fn phase(wallet: &Wallet) -> StorePhase {
        wallet.in_store.phase.clone()
    }

    fn confirm(amount: u64) -> StoreAction {
        StoreAction::Confirm {
            amount,
            currency: "JPY".into(),
        }
    }

    // D1, D3
    #[test]
    fn a_number_syncs_shows_the_amount_then_pays_it_on_the_click() {
        let wallet = store(Wallet::default(), [StoreAction::Sync(typed("48213907"))]);
        assert_eq!(phase(&wallet), StorePhase::Syncing(typed("48213907")));
        let wallet = shown(transaction(Some(1155), None));
        assert_eq!(phase(&wallet), StorePhase::Shown);
        assert_eq!(wallet.in_store.payable(), Some((1155, "JPY")));
        assert_eq!(wallet.in_store.found.as_ref().unwrap().address, SAKURA);
        let wallet = store(wallet, [confirm(1155)]);
        assert_eq!(
            phase(&wallet),
            StorePhase::Confirming {
                amount: 1155,
                currency: "JPY".into()
            }
        );
        let paid = ConfirmedTransaction {
            status: TransactionStatus::Succeeded,
            receipt: Some(receipt()),
            decline_code: None,
        };
        let wallet = store(wallet, [StoreAction::Confirmed(Box::new(paid.clone()))]);
        assert_eq!(phase(&wallet), StorePhase::Done(paid));
        let wallet = store(wallet, [StoreAction::Reset]);
        assert_eq!(wallet.in_store, InStore::default());
    }

    // Claim 5: only the amount on screen is confirmed.
    #[test]
    fn a_click_for_another_amount_confirms_nothing() {
        let wallet = store(shown(transaction(Some(1155), None)), [confirm(1000)]);
        assert_eq!(phase(&wallet), StorePhase::Shown);
        let dollars = StoreAction::Confirm {
            amount: 1155,
            currency: "USD".into(),
        };
        assert_eq!(phase(&store(wallet, [dollars])), StorePhase::Shown);
    }

    #[test]
    fn an_unknown_number_goes_back_to_the_field_with_the_reason() {
        let wallet = store(
            Wallet::default(),
            [
                StoreAction::Sync(typed("48213907")),
                StoreAction::Failed(StoreProblem::NoSuchTransaction),
            ],
        );
        assert_eq!(phase(&wallet), StorePhase::Entering);
        assert_eq!(wallet.in_store.problem, Some(StoreProblem::NoSuchTransaction));
        let again = store(wallet, [StoreAction::Sync(typed("4821 3908"))]);
        assert_eq!(again.in_store.problem, None, "a new try clears it");
    }

    // D9
    #[test]
    fn a_menu_is_chosen_from_then_ordered_then_paid() {
        let wallet = shown(transaction(None, Some(menu())));
        assert!(wallet.in_store.choosing_from_menu());
        assert_eq!(wallet.in_store.payable(), None, "nothing to pay before ordering");
        let wallet = store(wallet, [StoreAction::SendOrder]);
        assert_eq!(phase(&wallet), StorePhase::Shown, "an empty order is not sent");
        let wallet = store(
            wallet,
            [
                StoreAction::SetQuantity { index: 0, quantity: 2 },
                StoreAction::SetQuantity { index: 1, quantity: 1 },
                StoreAction::SetQuantity { index: 7, quantity: 1 },
            ],
        );
        assert_eq!(wallet.in_store.quantities, [2, 1]);
        assert_eq!(wallet.in_store.menu_total(), 410);
        let wallet = store(wallet, [StoreAction::SendOrder]);
        assert_eq!(phase(&wallet), StorePhase::Ordering);
        let wallet = store(
            wallet,
            [StoreAction::Answered(Box::new(transaction(Some(410), Some(menu()))))],
        );
        assert_eq!(phase(&wallet), StorePhase::Shown);
        assert!(!wallet.in_store.choosing_from_menu());
        assert_eq!(wallet.in_store.payable(), Some((410, "JPY")));
        let wallet = store(wallet, [StoreAction::SetQuantity { index: 0, quantity: 5 }]);
        assert_eq!(wallet.in_store.quantities, [2, 1], "the order is sent: no more changes");
    }

    // D8
    #[test]
    fn a_pin_challenge_blocks_paying_until_it_passes() {
        let wallet = shown(transaction(Some(1155), None));
        let mut asked = transaction(Some(1155), None);
        asked.challenge = Some(Challenge {
            kind: ChallengeKind::Pin,
            status: ChallengeStatus::Pending,
        });
        let wallet = store(wallet, [StoreAction::Updated(Box::new(asked.clone()))]);
        assert_eq!(wallet.in_store.payable(), None);
        assert_eq!(phase(&store(wallet.clone(), [confirm(1155)])), StorePhase::Shown);
        let pin = Secret::new("1234".to_string());
        let wallet = store(wallet, [StoreAction::AnswerPin(pin.clone())]);
        assert_eq!(phase(&wallet), StorePhase::Answering(pin.clone()));
        let wallet = store(wallet, [StoreAction::Failed(StoreProblem::PinIncorrect)]);
        assert_eq!(phase(&wallet), StorePhase::Shown);
        assert_eq!(wallet.in_store.problem, Some(StoreProblem::PinIncorrect));
        let mut passed = asked;
        passed.challenge = Some(Challenge {
            kind: ChallengeKind::Pin,
            status: ChallengeStatus::Passed,
        });
        let wallet = store(
            wallet,
            [StoreAction::AnswerPin(pin), StoreAction::Answered(Box::new(passed))],
        );
        assert_eq!(wallet.in_store.problem, None);
        assert_eq!(wallet.in_store.payable(), Some((1155, "JPY")));
    }

    #[test]
    fn a_failed_challenge_cannot_be_answered_or_paid() {
        let mut failed = transaction(Some(1155), None);
        failed.challenge = Some(Challenge {
            kind: ChallengeKind::Pin,
            status: ChallengeStatus::Failed,
        });
        let wallet = shown(failed);
        let wallet = store(
            wallet,
            [StoreAction::AnswerPin(Secret::new("1234".into())), confirm(1155)],
        );
        assert_eq!(phase(&wallet), StorePhase::Shown);
        assert_eq!(wallet.in_store.payable(), None);
    }

    // D11
    #[test]
    fn an_authentication_ends_when_its_pin_passes() {
        let mut authentication = transaction(None, None);
        authentication.id = "aut_1".into();
        authentication.authentication = true;
        authentication.challenge = Some(Challenge {
            kind: ChallengeKind::Pin,
            status: ChallengeStatus::Pending,
        });
        let wallet = shown(authentication.clone());
        assert_eq!(wallet.in_store.payable(), None, "nothing to pay");
        let mut passed = authentication;
        passed.challenge = Some(Challenge {
            kind: ChallengeKind::Pin,
            status: ChallengeStatus::Passed,
        });
        let wallet = store(
            wallet,
            [
                StoreAction::AnswerPin(Secret::new("1234".into())),
                StoreAction::Answered(Box::new(passed)),
            ],
        );
        let StorePhase::Done(result) = phase(&wallet) else {
            panic!("{:?}", phase(&wallet))
        };
        assert_eq!(result.status, TransactionStatus::Succeeded);
    }

    #[test]
    fn a_transaction_ended_at_the_terminal_shows_its_end() {
        let wallet = shown(transaction(Some(1155), None));
        let mut canceled = transaction(Some(1155), None);
        canceled.status = TransactionStatus::Canceled;
        let other = PayerTransaction {
            id: "txn_other".into(),
            ..canceled.clone()
        };
        let wallet = store(wallet, [StoreAction::Updated(Box::new(other))]);
        assert_eq!(
            phase(&wallet),
            StorePhase::Shown,
            "another transaction's news is ignored"
        );
        let wallet = store(wallet, [StoreAction::Updated(Box::new(canceled))]);
        let StorePhase::Done(result) = phase(&wallet) else {
            panic!("{:?}", phase(&wallet))
        };
        assert_eq!(result.status, TransactionStatus::Canceled);
    }

    #[test]
    fn while_confirming_only_the_confirms_answer_decides() {
        let wallet = store(shown(transaction(Some(1155), None)), [confirm(1155)]);
        let mut declined = transaction(Some(1155), None);
        declined.status = TransactionStatus::Declined;
        let wallet = store(wallet, [StoreAction::Updated(Box::new(declined))]);
        assert!(matches!(phase(&wallet), StorePhase::Confirming { .. }));
        let refused = ConfirmedTransaction {
            status: TransactionStatus::Declined,
            receipt: None,
            decline_code: Some(DeclineCode::InsufficientFunds),
        };
        let wallet = store(wallet, [StoreAction::Confirmed(Box::new(refused.clone()))]);
        assert_eq!(phase(&wallet), StorePhase::Done(refused));
    }
}
