use std::cell::Cell;
use std::rc::Rc;

use kessai_protocol::terminal::{ChallengeStatus, ConfirmTransaction, PayerTransaction, PlaceOrder};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;
use yew_router::prelude::Link;

use crate::api::{self, ApiError};
use crate::components::menu_order::MenuOrder;
use crate::components::number_entry::NumberEntry;
use crate::components::pin_prompt::PinPrompt;
use crate::components::receipt::local_time;
use crate::components::store_receipt::StoreReceipt;
use crate::components::terminal_bill::TerminalBill;
use crate::context::{dispatcher, lang_of, Route, WalletContext};
use crate::i18n::{self, amount, Lang};
use crate::in_store::{self, check_pin, order_lines, StoreProblem};
use crate::passes;
use crate::state::{Action, Found, InStore, StoreAction, StorePhase, Wallet};
use crate::store_flow;
use crate::sync::now_s;
use crate::transaction_number::{self, Lookup};

/// "Pay in store" (PROTOCOL section 13): the terminal's number, typed or
/// scanned; who bills and what; the menu, the PIN when asked; "Pay"; the
/// receipt. While a transaction is shown, a long-poll follows it so a PIN
/// request or the clerk's cancel appears at once.
#[function_component(StorePage)]
pub fn store_page() -> Html {
    let wallet = use_context::<WalletContext>();
    let phase = wallet.as_ref().map(|w| w.in_store.phase.clone());
    let loaded = wallet.as_ref().is_some_and(|w| w.loaded);
    {
        let wallet = wallet.clone();
        use_effect_with((phase, loaded), move |(phase, loaded)| {
            if let (Some(wallet), Some(phase), true) = (wallet, phase, *loaded) {
                run_phase(&wallet, phase);
            }
        });
    }
    use_follow(wallet.as_ref());
    let Some(wallet) = wallet else { return html! {} };
    let lang = lang_of(&wallet);
    let store = &wallet.in_store;
    let reset = {
        let wallet = wallet.clone();
        Callback::from(move |_: MouseEvent| wallet.dispatch(Action::InStore(StoreAction::Reset)))
    };
    match (&store.phase, &store.found) {
        (StorePhase::Done(result), found) => {
            let note = found
                .as_ref()
                .and_then(|f| passes::device_note(&f.address, &f.transaction, f.admission.as_ref(), result));
            html! {
                <StoreReceipt result={result.clone()} lang={lang} on_close={reset} note={note}
                    authentication={found.as_ref().is_some_and(|f| f.transaction.authentication)} />
            }
        }
        (StorePhase::Entering | StorePhase::Syncing(_), _) => entry(&wallet, store, lang),
        (_, Some(found)) => shown(&wallet, store, found, lang, reset),
        (_, None) => html! {},
    }
}

/// The work a phase starts, once per phase change.
fn run_phase(wallet: &WalletContext, phase: &StorePhase) {
    let dispatch = dispatcher(wallet);
    match phase {
        StorePhase::Syncing(lookup) => {
            let candidates = in_store::sync_candidates(
                &wallet.connectors,
                wallet.default_account.as_ref(),
                lookup.institution_id.as_deref(),
                now_s(),
            );
            let (number, passes) = (lookup.number.clone(), wallet.passes.clone());
            spawn_local(async move { store_flow::sync_any(&number, candidates, passes, dispatch).await });
        }
        StorePhase::Ordering => order(wallet, dispatch),
        StorePhase::Answering(pin) => {
            let pin = pin.clone();
            call(wallet, dispatch, move |address, token, id| async move {
                api::answer_challenge(&address, &token, &id, pin)
                    .await
                    .map(|t| StoreAction::Answered(Box::new(t)))
            });
        }
        StorePhase::Confirming { amount, currency } => {
            let confirm = ConfirmTransaction {
                amount: *amount,
                currency: currency.clone(),
            };
            call(wallet, dispatch, move |address, token, id| async move {
                api::confirm_transaction(&address, &token, &id, &confirm)
                    .await
                    .map(|done| StoreAction::Confirmed(Box::new(done)))
            });
        }
        StorePhase::Entering | StorePhase::Shown | StorePhase::Done(_) => {}
    }
}

fn order(wallet: &Wallet, dispatch: Callback<Action>) {
    let Some(menu) = wallet.in_store.transaction().and_then(|t| t.menu.clone()) else {
        return;
    };
    let order = PlaceOrder {
        items: order_lines(&menu, &wallet.in_store.quantities),
    };
    call(wallet, dispatch, move |address, token, id| async move {
        api::place_order(&address, &token, &id, &order)
            .await
            .map(|t| StoreAction::Answered(Box::new(t)))
    });
}

/// One call about the transaction on screen, at the server wallet that
/// holds it, reported as its action or as a failure.
fn call<F, Fut>(wallet: &Wallet, dispatch: Callback<Action>, request: F)
where
    F: FnOnce(String, kessai_protocol::Secret<String>, String) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<StoreAction, ApiError>> + 'static,
{
    let Some(Found {
        address, transaction, ..
    }) = wallet.in_store.found.clone()
    else {
        return;
    };
    let token = wallet.token(&address, now_s());
    spawn_local(async move {
        let result = match token {
            Some(token) => request(address.clone(), token, transaction.id).await,
            None => Err(ApiError::SessionExpired),
        };
        match result {
            Ok(action) => dispatch.emit(Action::InStore(action)),
            Err(error) => {
                if error == ApiError::SessionExpired {
                    dispatch.emit(Action::SessionExpired { address });
                }
                dispatch.emit(Action::InStore(StoreAction::Failed(StoreProblem::from_api(error))));
            }
        }
    });
}

/// Follows the transaction on screen until it ends or the screen goes.
#[hook]
fn use_follow(wallet: Option<&WalletContext>) {
    let followed = wallet.and_then(|w| {
        let found = w.in_store.found.as_ref()?;
        let open = !matches!(w.in_store.phase, StorePhase::Done(_)) && !found.transaction.status.is_final();
        let token = w.token(&found.address, now_s())?;
        open.then(|| (found.address.clone(), found.transaction.id.clone(), token))
    });
    let dispatch = wallet.map(dispatcher);
    // Where following starts: the version on screen, so that a change made
    // before the first long-poll arrives is answered at once. Not a
    // dependency: each update must not start another follower.
    let since = wallet
        .and_then(|w| w.in_store.found.as_ref())
        .map(|f| f.transaction.version);
    use_effect_with(followed, move |followed| {
        let stop = Rc::new(Cell::new(false));
        if let (Some((address, id, token)), Some(dispatch)) = (followed.clone(), dispatch) {
            spawn_local(store_flow::follow(address, token, id, since, stop.clone(), dispatch));
        }
        move || stop.set(true)
    });
}

/// The number field and the QR reader.
fn entry(wallet: &WalletContext, store: &InStore, lang: Lang) -> Html {
    let text = lang.text();
    let report = |wallet: &WalletContext| {
        let wallet = wallet.clone();
        move |lookup: Result<Lookup, StoreProblem>| {
            let action = match lookup {
                Ok(lookup) => StoreAction::Sync(lookup),
                Err(problem) => StoreAction::Invalid(problem),
            };
            wallet.dispatch(Action::InStore(action));
        }
    };
    let on_typed = {
        let report = report(wallet);
        Callback::from(move |typed: String| report(Lookup::typed(&typed).map_err(StoreProblem::Number)))
    };
    let on_scanned = {
        let report = report(wallet);
        Callback::from(move |code: String| {
            report(transaction_number::from_qr(&code).ok_or(StoreProblem::NotATransactionQr))
        })
    };
    let on_camera_error = {
        let report = report(wallet);
        Callback::from(move |()| report(Err(StoreProblem::Camera)))
    };
    let problem = store.problem.as_ref().map(|p| i18n::store_problem(lang, p));
    html! {
        <section aria-labelledby="store-title">
            <h1 id="store-title">{ text.pay_in_store }</h1>
            <NumberEntry lang={lang} busy={matches!(store.phase, StorePhase::Syncing(_))} problem={problem}
                on_typed={on_typed} on_scanned={on_scanned} on_camera_error={on_camera_error} />
            { admissions(wallet, lang) }
            if !wallet.passes.tickets.is_empty() {
                <p><Link<Route> to={Route::Tickets}>{ format!("{} ({})", text.tickets, wallet.passes.tickets.len()) }</Link<Route>></p>
            }
        </section>
    }
}

/// The gates the user entered and has not left (C6), newest first: an
/// exit's number is sent with one of them.
fn admissions(wallet: &WalletContext, lang: Lang) -> Html {
    let text = lang.text();
    if wallet.passes.admissions.is_empty() {
        return html! {};
    }
    html! {
        <section class="admissions" aria-labelledby="admissions-title">
            <h2 id="admissions-title">{ text.inside }</h2>
            <ul>
                { for wallet.passes.admissions.iter().rev().map(|admission| html! {
                    <li data-admission={admission.id.clone()}>
                        { i18n::entered(lang, &admission.merchant_name, &local_time(admission.entered_at, lang)) }
                    </li>
                }) }
            </ul>
            <p class="muted">{ text.exit_hint }</p>
        </section>
    }
}

/// A synchronized transaction: who bills and what, then whatever it takes
/// next (the menu, the PIN) and "Pay".
fn shown(wallet: &WalletContext, store: &InStore, found: &Found, lang: Lang, reset: Callback<MouseEvent>) -> Html {
    let text = lang.text();
    let transaction = &found.transaction;
    let problem = store.problem.as_ref();
    let pin_problem = problem.filter(|p| matches!(p, StoreProblem::PinFormat | StoreProblem::PinIncorrect));
    let other_problem = problem.filter(|_| pin_problem.is_none());
    html! {
        <section class="sheet" aria-labelledby="store-title">
            <h1 id="store-title">{ text.pay_in_store }</h1>
            <p class="muted">{ text.check_before_paying }</p>
            <TerminalBill transaction={transaction.clone()} admission={found.admission.clone()} lang={lang} />
            { menu(wallet, store, lang) }
            { challenge(wallet, store, transaction, pin_problem, lang) }
            if let Some(problem) = other_problem {
                <p class="error" role="alert">{ i18n::store_problem(lang, problem) }</p>
            }
            { pay_button(wallet, store, lang) }
            <button type="button" class="secondary" onclick={reset}>{ text.cancel }</button>
        </section>
    }
}

fn menu(wallet: &WalletContext, store: &InStore, lang: Lang) -> Html {
    let Some(menu) = store.transaction().and_then(|t| t.menu.clone()) else {
        return html! {};
    };
    if !store.choosing_from_menu() {
        return html! {};
    }
    let on_quantity = {
        let wallet = wallet.clone();
        Callback::from(move |(index, quantity)| {
            wallet.dispatch(Action::InStore(StoreAction::SetQuantity { index, quantity }))
        })
    };
    let on_choose = {
        let wallet = wallet.clone();
        Callback::from(move |index| wallet.dispatch(Action::InStore(StoreAction::ChooseOne { index })))
    };
    let on_send = {
        let wallet = wallet.clone();
        Callback::from(move |()| wallet.dispatch(Action::InStore(StoreAction::SendOrder)))
    };
    html! {
        <MenuOrder menu={menu} quantities={store.quantities.clone()} lang={lang} single={store.single_choice()}
            busy={store.phase == StorePhase::Ordering} on_quantity={on_quantity} on_choose={on_choose}
            on_send={on_send} />
    }
}

/// The PIN prompt while the terminal's challenge is pending; after too
/// many wrong PINs, that the clerk has to start again.
fn challenge(
    wallet: &WalletContext,
    store: &InStore,
    transaction: &PayerTransaction,
    problem: Option<&StoreProblem>,
    lang: Lang,
) -> Html {
    match transaction.challenge.as_ref().map(|c| c.status) {
        Some(ChallengeStatus::Pending) => {
            let on_pin = {
                let wallet = wallet.clone();
                Callback::from(move |typed: String| {
                    let action = match check_pin(&typed) {
                        Ok(pin) => StoreAction::AnswerPin(pin),
                        Err(problem) => StoreAction::Invalid(problem),
                    };
                    wallet.dispatch(Action::InStore(action));
                })
            };
            html! {
                <PinPrompt lang={lang} authentication={transaction.authentication}
                    busy={matches!(store.phase, StorePhase::Answering(_))}
                    problem={problem.map(|p| i18n::store_problem(lang, p))} on_pin={on_pin} />
            }
        }
        Some(ChallengeStatus::Failed) => html! {
            <p class="error" role="alert">{ lang.text().challenge_failed_start_again }</p>
        },
        Some(ChallengeStatus::Passed) | None => html! {},
    }
}

/// "Pay ¥1,155": confirms exactly the amount and currency it shows.
fn pay_button(wallet: &WalletContext, store: &InStore, lang: Lang) -> Html {
    let text = lang.text();
    if let StorePhase::Confirming { .. } = store.phase {
        return html! { <p role="status" aria-live="polite" class="busy">{ text.paying }</p> };
    }
    let Some((minor, currency)) = store.payable() else {
        return html! {};
    };
    let label = i18n::pay_amount(lang, &amount(minor, currency));
    let onclick = {
        let (wallet, currency) = (wallet.clone(), currency.to_string());
        Callback::from(move |_: MouseEvent| {
            wallet.dispatch(Action::InStore(StoreAction::Confirm {
                amount: minor,
                currency: currency.clone(),
            }))
        })
    };
    html! { <button type="button" class="pay primary" onclick={onclick}>{ label }</button> }
}
