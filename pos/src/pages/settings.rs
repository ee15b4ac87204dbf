use kessai_protocol::terminal::MenuItem;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::catalogue::{default_articles, new_code, parse_price, price_text, ARTICLES_MAX};
use crate::context::{lang_of, PosContext};
use crate::i18n::text;
use crate::settings::{Currency, Settings};
use crate::state::Action;

/// A change the form makes to the draft with an input's value.
type Edit = std::rc::Rc<dyn Fn(&mut Draft, String)>;

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
    fn settings(&self, lang: Option<kessai_wallet::i18n::Lang>) -> Option<Settings> {
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
    let edit = |change: Edit| {
        let draft = draft.clone();
        Callback::from(move |event: Event| {
            let value = event
                .target_dyn_into::<HtmlInputElement>()
                .map(|i| i.value())
                .or_else(|| event.target_dyn_into::<HtmlSelectElement>().map(|s| s.value()))
                .unwrap_or_default();
            if let Some(mut next) = (*draft).clone() {
                change(&mut next, value);
                draft.set(Some(next));
            }
        })
    };
    let set_currency = edit(std::rc::Rc::new(|d: &mut Draft, v: String| {
        d.currency = Currency::from_code(&v).unwrap_or(d.currency)
    }));
    let row = |index: usize, row: &Row| {
        let name = edit(std::rc::Rc::new(move |d: &mut Draft, v| d.rows[index].name = v));
        let price = edit(std::rc::Rc::new(move |d: &mut Draft, v| d.rows[index].price = v));
        let delete = {
            let draft = draft.clone();
            Callback::from(move |_: MouseEvent| {
                if let Some(mut next) = (*draft).clone() {
                    next.rows.remove(index);
                    draft.set(Some(next));
                }
            })
        };
        let ok = parse_price(&row.price, current.currency.code()).is_some();
        html! {
            <li class="article-row">
                <input aria-label={text.article_name} value={row.name.clone()} onchange={name} />
                <input aria-label={text.price} inputmode="decimal" class="price" value={row.price.clone()}
                    onchange={price} aria-invalid={(!ok).then_some("true")} />
                <button type="button" class="ghost" onclick={delete}>{ text.delete }</button>
            </li>
        }
    };
    let add = {
        let draft = draft.clone();
        let name = if lang == kessai_wallet::i18n::Lang::Ja {
            "新しい商品"
        } else {
            "New article"
        };
        Callback::from(move |_: MouseEvent| {
            let Some(mut next) = (*draft).clone() else { return };
            let taken: Vec<MenuItem> = next
                .rows
                .iter()
                .map(|r| MenuItem {
                    code: r.code.clone(),
                    name: r.name.clone(),
                    unit_price: 0,
                })
                .collect();
            next.rows.push(Row {
                code: new_code(name, &taken),
                name: name.into(),
                price: "0".into(),
            });
            draft.set(Some(next));
        })
    };
    let reset = {
        let draft = draft.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(mut next) = (*draft).clone() {
                next.rows = rows(&default_articles(), next.currency);
                draft.set(Some(next));
            }
        })
    };
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
                <ul class="article-rows">{ for current.rows.iter().enumerate().map(|(i, r)| row(i, r)) }</ul>
                <div class="row-actions">
                    <button type="button" class="secondary" onclick={add}
                        disabled={current.rows.len() >= ARTICLES_MAX}>{ text.add_article }</button>
                    <button type="button" class="ghost" onclick={reset}>{ text.reset_articles }</button>
                </div>
                if *invalid { <p class="error" role="alert">{ text.bad_price }</p> }
                <div class="actions">
                    <button type="button" class="secondary" onclick={back}>{ text.back }</button>
                    <button type="submit" class="primary">{ text.save }</button>
                </div>
            </form>
        </section>
    }
}
