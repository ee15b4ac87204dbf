use kessai_protocol::api::Status;
use kessai_protocol::wallet::StartMessage;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::components::order_summary::OrderSummary;
use crate::components::payment_sheet::PaymentSheet;
use crate::components::receipt::ReceiptView;
use crate::context::{dispatcher, lang_of, Route, WalletContext};
use crate::i18n::{self, Lang};
use crate::selector::{self, AccountRef};
use crate::start::browser::deliver;
use crate::start::result_message;
use crate::state::{Action, Payment, Phase, Wallet};
use crate::sync::{self, now_s};

/// A start message from arrival to receipt: wait for it (popup), refuse
/// it, refresh stale brand information (B6), show the sheet with the mode's
/// proposal (B2 to B4), pay after the user's click, then the receipt.
#[function_component(PayPage)]
pub fn pay_page() -> Html {
    let wallet = use_context::<WalletContext>();
    let navigator = use_navigator();
    let phase = wallet
        .as_ref()
        .and_then(|w| w.payment.as_ref())
        .map(|p| p.phase.clone());
    let loaded = wallet.as_ref().is_some_and(|w| w.loaded);
    {
        let wallet = wallet.clone();
        use_effect_with((phase, loaded), move |(phase, loaded)| {
            if let (Some(wallet), true) = (wallet, *loaded) {
                run_phase(&wallet, phase.as_ref());
            }
        });
    }
    let Some(wallet) = wallet else { return html! {} };
    let lang = lang_of(&wallet);
    let close = {
        let wallet = wallet.clone();
        Callback::from(move |_: MouseEvent| {
            wallet.dispatch(Action::Dismiss);
            if let Some(navigator) = &navigator {
                navigator.push(&Route::Accounts);
            }
        })
    };
    match &wallet.payment {
        None => html! { <p role="status">{ lang.text().no_payment }</p> },
        Some(payment) => view(&wallet, payment, lang, close),
    }
}

/// The work each phase starts: B6's refresh before deciding, the payment
/// itself. Run once per phase change.
fn run_phase(wallet: &WalletContext, phase: Option<&Phase>) {
    let dispatch = dispatcher(wallet);
    match phase {
        Some(Phase::Preparing) => {
            let links = wallet.stale_links(now_s());
            spawn_local(async move {
                sync::refresh(links, &dispatch).await;
                dispatch.emit(Action::Prepared { now_s: now_s() });
            });
        }
        Some(Phase::Paying(account)) => pay(wallet, account.clone(), dispatch),
        _ => {}
    }
}

fn pay(wallet: &Wallet, account: AccountRef, dispatch: Callback<Action>) {
    let Some(payment) = wallet.payment.clone() else { return };
    let Some(start) = payment.start.clone() else { return };
    let lang = lang_of(wallet);
    let token = wallet.token(&account.address, now_s());
    spawn_local(async move {
        let result = match token {
            Some(token) => api::pay(&account.address, &token, &start).await,
            None => Err(ApiError::SessionExpired),
        };
        match result {
            Ok(paid) => {
                let message = result_message(
                    payment.channel,
                    paid.status,
                    &paid.settlement_id,
                    paid.result_token.as_deref(),
                );
                deliver(payment.channel, &start, &message);
                dispatch.emit(Action::Paid(paid));
            }
            Err(error) => {
                if error == ApiError::SessionExpired {
                    dispatch.emit(Action::SessionExpired {
                        address: account.address.clone(),
                    });
                }
                dispatch.emit(Action::PayFailed(error.message(lang)));
            }
        }
    });
}

fn view(wallet: &WalletContext, payment: &Payment, lang: Lang, close: Callback<MouseEvent>) -> Html {
    let text = lang.text();
    let cancel = cancel(wallet, payment);
    match (&payment.phase, &payment.start) {
        (Phase::AwaitingStart, _) => html! {
            <section class="progress">
                <p role="status" aria-live="polite">{ text.waiting_for_shop }</p>
                <button type="button" class="secondary" onclick={cancel}>{ text.cancel }</button>
            </section>
        },
        (Phase::Refused(problem), _) => html! {
            <section class="refused" aria-labelledby="refused-title">
                <h1 id="refused-title">{ text.refused }</h1>
                <p class="error" role="alert">{ i18n::start_problem(lang, problem) }</p>
                <button type="button" class="secondary" onclick={cancel}>{ text.close }</button>
            </section>
        },
        (Phase::Canceled, _) => html! {
            <section class="progress">
                <p role="status">{ text.canceled }</p>
                <button type="button" onclick={close}>{ text.back_to_wallet }</button>
            </section>
        },
        (Phase::Done(paid), _) => html! { <ReceiptView payment={paid.clone()} lang={lang} on_close={close} /> },
        (phase, Some(start)) => active(wallet, payment, phase, start, lang, cancel),
        (_, None) => html! {},
    }
}

/// The phases with a start message in hand: checking, the sheet, paying.
fn active(
    wallet: &WalletContext,
    payment: &Payment,
    phase: &Phase,
    start: &StartMessage,
    lang: Lang,
    cancel: Callback<MouseEvent>,
) -> Html {
    let text = lang.text();
    let status = match phase {
        Phase::Paying(_) => text.paying,
        Phase::Choosing => {
            let choices = selector::choices(&wallet.connectors, start, now_s());
            let expired = selector::expired_links(&wallet.connectors, now_s());
            let on_pay = {
                let wallet = wallet.clone();
                Callback::from(move |account| {
                    wallet.dispatch(Action::Choose {
                        account,
                        now_s: now_s(),
                    })
                })
            };
            return html! {
                <PaymentSheet start={start.clone()} choices={choices} expired={expired} lang={lang}
                    proposed={payment.proposed.clone()} error={payment.error.clone()}
                    on_pay={on_pay} on_cancel={cancel} />
            };
        }
        _ => text.checking_accounts,
    };
    html! {
        <section class="progress">
            <OrderSummary start={start.clone()} lang={lang} />
            <p role="status" aria-live="polite" class="busy">{ status }</p>
        </section>
    }
}

/// Closing without paying tells the shop (status `canceled`), so its page
/// does not wait for a wallet that has gone.
fn cancel(wallet: &WalletContext, payment: &Payment) -> Callback<MouseEvent> {
    let wallet = wallet.clone();
    let (channel, start) = (payment.channel, payment.start.clone());
    Callback::from(move |_: MouseEvent| {
        if let Some(start) = &start {
            let message = result_message(channel, Status::Canceled, &start.settlement_id, None);
            deliver(channel, start, &message);
        }
        wallet.dispatch(Action::Cancel);
    })
}
