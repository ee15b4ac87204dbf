use std::rc::Rc;

use kessai_protocol::wallet::{History, HistoryEntry, HistoryKind};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::receipt::local_time;
use crate::context::{dispatcher, lang_of, WalletContext};
use crate::i18n::{signed_amount, Lang};
use crate::state::Action;
use crate::sync::now_s;

/// One address's history as far as it was read.
#[derive(Debug, Clone, PartialEq, Default)]
struct Page {
    entries: Vec<HistoryEntry>,
    has_more: bool,
    loading: bool,
    error: Option<String>,
}

/// "History" (C2): each server wallet's payments, refunds and transfers,
/// newest first, twenty at a time with "More".
#[function_component(HistoryPage)]
pub fn history_page() -> Html {
    let wallet = use_context::<WalletContext>();
    let pages = use_reducer(Pages::default);
    let addresses: Vec<(String, String)> = wallet
        .as_ref()
        .map(|w| {
            w.connectors
                .iter()
                .flat_map(|c| c.links.iter())
                .map(|l| (l.address.clone(), l.institution_name().to_string()))
                .collect()
        })
        .unwrap_or_default();
    {
        let (wallet, pages, addresses) = (wallet.clone(), pages.clone(), addresses.clone());
        let loaded = wallet.as_ref().is_some_and(|w| w.loaded);
        use_effect_with(loaded, move |loaded| {
            if let (Some(wallet), true) = (wallet, *loaded) {
                for (address, _) in addresses {
                    fetch(&wallet, &pages, address, None);
                }
            }
        });
    }
    let Some(wallet) = wallet else { return html! {} };
    let lang = lang_of(&wallet);
    let text = lang.text();
    html! {
        <section aria-labelledby="history-title">
            <h1 id="history-title">{ text.history }</h1>
            if addresses.is_empty() { <p>{ text.no_history }</p> }
            { for addresses.iter().map(|(address, name)| {
                let page = pages.0.iter().find(|(a, _)| a == address).map(|(_, p)| p.clone()).unwrap_or_default();
                let more = {
                    let (wallet, pages, address) = (wallet.clone(), pages.clone(), address.clone());
                    let last = page.entries.last().map(|e| e.id.clone());
                    Callback::from(move |_: MouseEvent| fetch(&wallet, &pages, address.clone(), last.clone()))
                };
                html! {
                    <article class="history">
                        <h2>{ name }{ " " }<span class="muted address">{ address }</span></h2>
                        { entries(&page, lang) }
                        if let Some(error) = &page.error { <p class="error" role="alert">{ error }</p> }
                        if page.loading { <p role="status" class="muted">{ text.loading }</p> }
                        if page.has_more && !page.loading {
                            <button type="button" class="secondary" onclick={more}>{ text.more }</button>
                        }
                    </article>
                }
            }) }
        </section>
    }
}

fn entries(page: &Page, lang: Lang) -> Html {
    let text = lang.text();
    if page.entries.is_empty() && !page.loading && page.error.is_none() {
        return html! { <p class="muted">{ text.no_history }</p> };
    }
    html! {
        <ul class="entries">
            { for page.entries.iter().map(|entry| {
                let kind = match entry.kind {
                    HistoryKind::Payment => text.kind_payment,
                    HistoryKind::Refund => text.kind_refund,
                    HistoryKind::Transfer => text.kind_transfer,
                };
                let what = entry.merchant.clone().unwrap_or_default();
                html! {
                    <li class={classes!("entry", (entry.amount < 0).then_some("out"))}>
                        <span class="when muted">{ local_time(entry.created_at, lang) }</span>
                        <span class="what">{ kind }{ " " }{ what }
                            if let Some(order) = &entry.order_id { <span class="muted">{ " #" }{ order }</span> }
                        </span>
                        <span class="amount">{ signed_amount(entry.amount, &entry.currency) }</span>
                    </li>
                }
            }) }
        </ul>
    }
}

/// The pages read so far, per address. A reducer, not a state: answers
/// from several addresses arrive in any order and each must see the
/// others' lines.
#[derive(Debug, Clone, PartialEq, Default)]
struct Pages(Vec<(String, Page)>);

enum PagesAction {
    Loading(String),
    Done(String, Result<History, String>),
}

impl Reducible for Pages {
    type Action = PagesAction;

    fn reduce(self: Rc<Self>, action: PagesAction) -> Rc<Self> {
        let mut next = (*self).clone();
        let address = match &action {
            PagesAction::Loading(address) | PagesAction::Done(address, _) => address.clone(),
        };
        let index = match next.0.iter().position(|(a, _)| *a == address) {
            Some(index) => index,
            None => {
                next.0.push((address, Page::default()));
                next.0.len() - 1
            }
        };
        let page = &mut next.0[index].1;
        match action {
            PagesAction::Loading(_) => page.loading = true,
            PagesAction::Done(_, result) => {
                page.loading = false;
                match result {
                    Ok(history) => {
                        page.entries.extend(history.data);
                        page.has_more = history.has_more;
                        page.error = None;
                    }
                    Err(message) => page.error = Some(message),
                }
            }
        }
        Rc::new(next)
    }
}

/// Reads one page of `address`'s history after `starting_after` and
/// appends it. A 401 marks the session expired (the accounts screen then
/// asks for the password).
fn fetch(wallet: &WalletContext, pages: &UseReducerHandle<Pages>, address: String, starting_after: Option<String>) {
    let lang = lang_of(wallet);
    let token = wallet.token(&address, now_s());
    let dispatch = dispatcher(wallet);
    let pages = pages.dispatcher();
    pages.dispatch(PagesAction::Loading(address.clone()));
    spawn_local(async move {
        let result = match &token {
            Some(token) => api::history(&address, token, starting_after.as_deref()).await,
            None => Err(ApiError::SessionExpired),
        };
        if result == Err(ApiError::SessionExpired) && token.is_some() {
            dispatch.emit(Action::SessionExpired {
                address: address.clone(),
            });
        }
        pages.dispatch(PagesAction::Done(address, result.map_err(|e| e.message(lang))));
    });
}
