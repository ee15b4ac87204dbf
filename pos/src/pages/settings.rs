use kessai_protocol::terminal::MenuItem;
use kessai_wallet::i18n::Lang;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::catalogue::{default_articles, new_code, parse_price, price_text, ARTICLES_MAX};
use crate::context::{lang_of, PosContext};
use crate::i18n::text;
use crate::settings::{Currency, Settings};
use crate::state::Action;

/// One row of the form: prices stay text until saved, so a half-typed
/// price is not lost or rounded.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    code: String,
    name: String,
    price: String,
}

#[derive(Debug, Clone, PartialEq)]
struct Draft {
    currency: Currency,
    rows: Vec<Row>,
}

impl Draft {
    fn of(settings: &Settings) -> Draft {
        let currency = settings.currency;
        let rows = rows(&settings.articles, currency);
        Draft { currency, rows }
    }

    /// The settings this form says, or None when a price does not parse.
    fn settings(&self, lang: Option<Lang>) -> Option<Settings> {
        let articles = self
            .rows
            .iter()
            .filter(|row| !row.name.trim().is_empty())
            .map(|row| {
                Some(MenuItem {
                    code: row.code.clone(),
                    name: row.name.trim().to_string(),
                    unit_price: parse_price(&row.price, self.currency.code())?,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Settings {
            currency: self.currency,
            articles,
            lang,
        })
    }
}

fn rows(articles: &[MenuItem], currency: Currency) -> Vec<Row> {
    articles
        .iter()
        .map(|a| Row {
            code: a.code.clone(),
            name: a.name.clone(),
            price: price_text(a.unit_price, currency.code()),
        })
        .collect()
}

/// The form's draft, as every control of it changes it.
type DraftHandle = UseStateHandle<Option<Draft>>;

/// A callback that applies `change` to the draft.
fn change_draft<E: 'static>(draft: &DraftHandle, change: impl Fn(&mut Draft, E) + 'static) -> Callback<E> {
    let draft = draft.clone();
    Callback::from(move |event: E| {
        if let Some(mut next) = (*draft).clone() {
            change(&mut next, event);
            draft.set(Some(next));
        }
    })
}

/// The value of the input or select an event came from.
fn value_of(event: &Event) -> String {
    event
        .target_dyn_into::<HtmlInputElement>()
        .map(|i| i.value())
        .or_else(|| event.target_dyn_into::<HtmlSelectElement>().map(|s| s.value()))
        .unwrap_or_default()
}

/// The currency and the articles (the catalogue of "Items" and of "Let the
/// customer order"), kept in this browser.
#[function_component(SettingsPage)]
pub fn settings_page() -> Html {
    let pos = use_context::<PosContext>();
    let draft = use_state(|| pos.as_ref().map(|p| Draft::of(&p.settings)));
    let invalid = use_state(|| false);
    let (Some(pos), Some(current)) = (pos, (*draft).clone()) else {
        return html! {};
    };
    let lang = lang_of(&pos);
    let text = text(lang);
    let set_currency = change_draft(&draft, |d, e: Event| {
        d.currency = Currency::from_code(&value_of(&e)).unwrap_or(d.currency)
    });
    let save = {
        let (pos, invalid, current) = (pos.clone(), invalid.clone(), current.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            match current.settings(pos.settings.lang) {
                Some(settings) => pos.dispatch(Action::SaveSettings(settings)),
                None => invalid.set(true),
            }
        })
    };
    let back = {
        let pos = pos.clone();
        Callback::from(move |_: MouseEvent| pos.dispatch(Action::CloseSettings))
    };
    html! {
        <section class="settings card" aria-labelledby="settings-title">
            <h1 id="settings-title">{ text.settings }</h1>
            <form onsubmit={save}>
                <label for="currency">{ text.currency }</label>
                <select id="currency" onchange={set_currency}>
                    { for Currency::ALL.into_iter().map(|c| html! {
                        <option value={c.code()} selected={c == current.currency}>{ c.code() }</option>
                    }) }
                </select>
                <h2>{ text.articles }</h2>
                <ul class="article-rows">
                    { for current.rows.iter().enumerate().map(|(i, r)| article_row(&draft, &current, i, r, lang)) }
                </ul>
                { row_actions(&draft, &current, lang) }
                if *invalid { <p class="error" role="alert">{ text.bad_price }</p> }
                <div class="actions">
                    <button type="button" class="secondary" onclick={back}>{ text.back }</button>
                    <button type="submit" class="primary">{ text.save }</button>
                </div>
            </form>
        </section>
    }
}

/// One article: its name, its price (flagged while it does not parse) and
/// Delete.
fn article_row(draft: &DraftHandle, current: &Draft, index: usize, row: &Row, lang: Lang) -> Html {
    let text = text(lang);
    let name = change_draft(draft, move |d, e: Event| d.rows[index].name = value_of(&e));
    let price = change_draft(draft, move |d, e: Event| d.rows[index].price = value_of(&e));
    let delete = change_draft(draft, move |d, _: MouseEvent| {
        d.rows.remove(index);
    });
    let ok = parse_price(&row.price, current.currency.code()).is_some();
    html! {
        <li class="article-row">
            <input aria-label={text.article_name} value={row.name.clone()} onchange={name} />
            <input aria-label={text.price} inputmode="decimal" class="price" value={row.price.clone()}
                onchange={price} aria-invalid={(!ok).then_some("true")} />
            <button type="button" class="ghost" onclick={delete}>{ text.delete }</button>
        </li>
    }
}

/// "Add article" and "Restore the default articles".
fn row_actions(draft: &DraftHandle, current: &Draft, lang: Lang) -> Html {
    let text = text(lang);
    let name = match lang {
        Lang::En => "New article",
        Lang::Ja => "新しい商品",
    };
    let add = change_draft(draft, move |d, _: MouseEvent| {
        let taken: Vec<MenuItem> = d
            .rows
            .iter()
            .map(|r| MenuItem {
                code: r.code.clone(),
                name: r.name.clone(),
                unit_price: 0,
            })
            .collect();
        d.rows.push(Row {
            code: new_code(name, &taken),
            name: name.into(),
            price: "0".into(),
        });
    });
    let reset = change_draft(draft, |d, _: MouseEvent| d.rows = rows(&default_articles(), d.currency));
    html! {
        <div class="row-actions">
            <button type="button" class="secondary" onclick={add}
                disabled={current.rows.len() >= ARTICLES_MAX}>{ text.add_article }</button>
            <button type="button" class="ghost" onclick={reset}>{ text.reset_articles }</button>
        </div>
    }
}
