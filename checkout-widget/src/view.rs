//! DOM building in the widget's shadow root: the order, the card form, the
//! progress and error messages, and the result. No state lives here; `app`
//! decides what to show and wires the events.
//!
//! Accessibility: every input has a real `<label for>`; field problems are
//! in `aria-live` paragraphs referenced by `aria-describedby`; progress is
//! announced by a `role="status"` region and failures by `role="alert"`;
//! results get the focus. Styles read CSS custom properties (`--kessai-*`)
//! so that the shop can theme the widget from outside the shadow root.

/// The panel of "Pay with your phone".
mod phone;

pub use phone::PhoneEls;

use kessai_protocol::money::format_amount;
use kessai_protocol::wallet::WalletAnnouncement;
use kessai_protocol::Order;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, HtmlButtonElement, HtmlElement, HtmlFormElement, HtmlInputElement, Node, ShadowRoot};

use crate::form::Field;
use crate::i18n::{self, Lang};
use crate::state::{Outcome, Status};

const STYLE: &str = ":host{display:block;font:var(--kessai-font,15px/1.5 system-ui,sans-serif);color:var(--kessai-text,#1a1a1a)}\
.k{background:var(--kessai-background,#fff);border:1px solid var(--kessai-border,#c4c9d0);border-radius:var(--kessai-radius,8px);padding:var(--kessai-padding,16px);max-width:var(--kessai-max-width,480px)}\
table{width:100%;border-collapse:collapse;font-size:.9em}th,td{padding:4px 6px;text-align:left;border-bottom:1px solid var(--kessai-border,#c4c9d0)}\
.n{text-align:right;font-variant-numeric:tabular-nums}caption{text-align:left;font-weight:600;padding-bottom:4px}tfoot tr:last-child{font-weight:700}\
label{display:block;font-weight:600;margin:12px 0 4px}\
input{box-sizing:border-box;width:100%;font:inherit;padding:8px 10px;border:1px solid var(--kessai-input-border,#7b828c);border-radius:var(--kessai-radius,8px)}\
input:focus-visible,button:focus-visible,h2:focus{outline:3px solid var(--kessai-focus,#1d4ed8);outline-offset:2px}\
input[aria-invalid=true]{border-color:var(--kessai-error,#b42318)}.pair{display:flex;gap:12px}.pair>div{flex:1}\
.err{color:var(--kessai-error,#b42318);margin:4px 0 0}.err:empty{display:none}.hint,.brand{font-size:.85em;color:var(--kessai-muted,#4b5563)}\
button{margin-top:16px;width:100%;font:inherit;font-weight:700;padding:12px;border:0;border-radius:var(--kessai-radius,8px);background:var(--kessai-accent,#1d4ed8);color:var(--kessai-accent-text,#fff);cursor:pointer}\
button:disabled{opacity:.6;cursor:progress}.ok h2{color:var(--kessai-success,#067647)}.bad h2,.alert{color:var(--kessai-error,#b42318)}\
.detail{font-size:.85em;color:var(--kessai-muted,#4b5563)}[hidden]{display:none!important}\
.w{margin-top:20px}.w p{margin:0;font-weight:600}.w button{display:flex;align-items:center;justify-content:center;gap:8px;margin-top:8px}\
.w img{width:24px;height:24px;object-fit:contain}\
.s{background:var(--kessai-secondary-background,#fff);color:var(--kessai-accent,#1d4ed8);border:1px solid var(--kessai-accent,#1d4ed8)}\
.ph{text-align:center;margin-top:20px}.ph:focus{outline:none}.ph h3{margin:0 0 8px;font-size:1.15em}\
.num{font:700 2.2em/1.2 ui-monospace,monospace;letter-spacing:.06em;margin:12px 0 8px;font-variant-numeric:tabular-nums}\
.qr{display:block;margin:0 auto;width:176px;height:176px;image-rendering:pixelated}";

/// The live elements of the card form.
pub struct FormEls {
    pub form: HtmlFormElement,
    pub number: HtmlInputElement,
    pub expiry: HtmlInputElement,
    pub cvc: HtmlInputElement,
    pub brand: Element,
    pub pay: HtmlButtonElement,
    /// Progress (`role="status"`).
    pub status: Element,
    /// Failures of the last attempt (`role="alert"`).
    pub alert: Element,
    errors: [Element; 3],
    /// The wallet buttons, under the card form; hidden while empty.
    pub wallets: Element,
    /// Shown instead of the form while a wallet has the payment.
    panel: Element,
    panel_text: Element,
    /// "Back to card payment", in the panel.
    pub back: HtmlButtonElement,
    /// "Pay with your phone", under the pay button; hidden until offered.
    pub phone_button: HtmlButtonElement,
    /// Shown instead of the form while the phone pays.
    pub phone: PhoneEls,
}

fn element(doc: &Document, tag: &str, class: &str, text: &str) -> Result<Element, JsValue> {
    let el = doc.create_element(tag)?;
    if !class.is_empty() {
        el.set_class_name(class);
    }
    if !text.is_empty() {
        el.set_text_content(Some(text));
    }
    Ok(el)
}

/// Appends `child` to `parent`.
fn append(parent: &impl AsRef<Node>, child: &impl AsRef<Node>) -> Result<(), JsValue> {
    parent.as_ref().append_child(child.as_ref()).map(drop)
}

fn set_attrs(el: &Element, attrs: &[(&str, &str)]) -> Result<(), JsValue> {
    for (name, value) in attrs {
        el.set_attribute(name, value)?;
    }
    Ok(())
}

/// Empties the shadow root and puts the style and an empty container in it;
/// everything else goes into the container.
pub fn shell(doc: &Document, root: &ShadowRoot, lang: Lang) -> Result<Element, JsValue> {
    root.set_inner_html("");
    append(&root, &element(doc, "style", "", STYLE)?)?;
    let container = element(doc, "div", "k", "")?;
    set_attrs(&container, &[("part", "container"), ("lang", lang.tag())])?;
    append(&root, &container)?;
    Ok(container)
}

/// A progress line while the settlement is looked up.
pub fn loading(doc: &Document, container: &Element, lang: Lang) -> Result<(), JsValue> {
    container.set_inner_html("");
    let status = element(doc, "p", "", lang.text().loading)?;
    set_attrs(&status, &[("role", "status"), ("aria-live", "polite")])?;
    append(&container, &status)?;
    Ok(())
}

/// The order summary and the card form.
pub fn checkout(doc: &Document, container: &Element, lang: Lang, order: &Order) -> Result<FormEls, JsValue> {
    container.set_inner_html("");
    append(&container, &order_summary(doc, lang, order)?)?;
    let text = lang.text();
    let form: HtmlFormElement = doc.create_element("form")?.dyn_into()?;
    form.set_no_validate(true);
    let (number, number_err) = field(doc, &form, "kc-number", text.card_number, "cc-number", "")?;
    number.set_attribute("maxlength", "23")?;
    let brand = element(doc, "span", "brand", "")?;
    brand.set_id("kc-brand");
    number.set_attribute("aria-describedby", "kc-brand kc-number-err")?;
    append(&form, &brand)?;
    append(&form, &number_err)?;
    let pair = element(doc, "div", "pair", "")?;
    append(&form, &pair)?;
    let expiry_box = element(doc, "div", "", "")?;
    let cvc_box = element(doc, "div", "", "")?;
    append(&pair, &expiry_box)?;
    append(&pair, &cvc_box)?;
    let (expiry, expiry_err) = field(doc, &expiry_box, "kc-expiry", text.expiry, "cc-exp", text.expiry_hint)?;
    expiry.set_attribute("maxlength", "7")?;
    append(&expiry_box, &expiry_err)?;
    let (cvc, cvc_err) = field(doc, &cvc_box, "kc-cvc", text.security_code, "cc-csc", "")?;
    cvc.set_attribute("maxlength", "4")?;
    append(&cvc_box, &cvc_err)?;
    let amount = format_amount(order.total, &order.currency);
    let pay: HtmlButtonElement = element(doc, "button", "", &i18n::pay_label(lang, &amount))?.dyn_into()?;
    pay.set_type("submit");
    pay.set_attribute("part", "pay-button")?;
    append(&form, &pay)?;
    let phone_button: HtmlButtonElement = element(doc, "button", "s", text.phone)?.dyn_into()?;
    phone_button.set_type("button");
    set_attrs(&phone_button, &[("part", "phone-button"), ("hidden", "")])?;
    append(&form, &phone_button)?;
    let status = element(doc, "p", "", "")?;
    set_attrs(&status, &[("role", "status"), ("aria-live", "polite")])?;
    let alert = element(doc, "p", "alert", "")?;
    set_attrs(&alert, &[("role", "alert"), ("aria-live", "assertive")])?;
    append(&form, &status)?;
    append(&form, &alert)?;
    append(&container, &form)?;
    let wallets = element(doc, "div", "w", "")?;
    set_attrs(&wallets, &[("part", "wallets"), ("hidden", "")])?;
    append(&container, &wallets)?;
    let (panel, panel_text, back) = wallet_panel(doc, lang)?;
    append(&container, &panel)?;
    let phone = phone::panel(doc, lang)?;
    append(&container, &phone.panel)?;
    Ok(FormEls {
        form,
        number,
        expiry,
        cvc,
        brand,
        pay,
        status,
        alert,
        errors: [number_err, expiry_err, cvc_err],
        wallets,
        panel,
        panel_text,
        back,
        phone_button,
        phone,
    })
}

/// The (hidden) panel shown while a wallet has the payment: a progress line
/// and the way back to the card form.
fn wallet_panel(doc: &Document, lang: Lang) -> Result<(Element, Element, HtmlButtonElement), JsValue> {
    let panel = element(doc, "div", "", "")?;
    set_attrs(&panel, &[("part", "wallet-wait"), ("hidden", "")])?;
    let text = element(doc, "p", "", "")?;
    set_attrs(&text, &[("role", "status"), ("aria-live", "polite")])?;
    append(&panel, &text)?;
    let back: HtmlButtonElement = element(doc, "button", "s", lang.text().back_to_card)?.dyn_into()?;
    back.set_type("button");
    append(&panel, &back)?;
    Ok((panel, text, back))
}

/// Fills the wallet section: a button "Pay with {name}" per wallet (its
/// icon a fixed-size decorative `<img>`; only raster `data:` URLs reach
/// here, see `wallet::check`) and, when `web_wallet`, "Pay with web
/// wallet". Each button names its wallet in `data-wallet` (the uuid, empty
/// for the web wallet); one listener on the section takes the clicks.
pub fn wallet_buttons(
    doc: &Document,
    section: &Element,
    lang: Lang,
    wallets: &[WalletAnnouncement],
    web_wallet: bool,
) -> Result<(), JsValue> {
    section.set_inner_html("");
    if wallets.is_empty() && !web_wallet {
        return Ok(());
    }
    append(section, &element(doc, "p", "", lang.text().wallets)?)?;
    for wallet in wallets {
        let button = element(doc, "button", "s", "")?;
        set_attrs(&button, &[("type", "button"), ("data-wallet", &wallet.uuid)])?;
        let icon = doc.create_element("img")?;
        set_attrs(
            &icon,
            &[("alt", ""), ("width", "24"), ("height", "24"), ("src", &wallet.icon)],
        )?;
        append(&button, &icon)?;
        append(
            &button,
            &element(doc, "span", "", &i18n::wallet_label(lang, &wallet.name))?,
        )?;
        append(section, &button)?;
    }
    if web_wallet {
        let button = element(doc, "button", "s", lang.text().web_wallet)?;
        set_attrs(&button, &[("type", "button"), ("data-wallet", "")])?;
        append(section, &button)?;
    }
    Ok(())
}

/// A labelled text input appended to `parent`, and its (detached) error
/// paragraph, `{id}-err`. A `hint` is shown under the label and read with it.
fn field(
    doc: &Document,
    parent: &Element,
    id: &str,
    label: &str,
    autocomplete: &str,
    hint: &str,
) -> Result<(HtmlInputElement, Element), JsValue> {
    let label_el = element(doc, "label", "", label)?;
    label_el.set_attribute("for", id)?;
    append(&parent, &label_el)?;
    let input: HtmlInputElement = doc.create_element("input")?.dyn_into()?;
    input.set_id(id);
    let describedby = if hint.is_empty() {
        format!("{id}-err")
    } else {
        format!("{id}-hint {id}-err")
    };
    set_attrs(
        &input,
        &[
            ("type", "text"),
            ("inputmode", "numeric"),
            ("autocomplete", autocomplete),
            ("spellcheck", "false"),
            ("aria-describedby", &describedby),
        ],
    )?;
    if !hint.is_empty() {
        input.set_placeholder(hint);
        let hint_el = element(doc, "span", "hint", hint)?;
        hint_el.set_id(&format!("{id}-hint"));
        append(&parent, &hint_el)?;
    }
    append(&parent, &input)?;
    let error = element(doc, "p", "err", "")?;
    set_attrs(&error, &[("id", &format!("{id}-err")), ("aria-live", "polite")])?;
    Ok((input, error))
}

fn order_summary(doc: &Document, lang: Lang, order: &Order) -> Result<Element, JsValue> {
    let text = lang.text();
    let section = element(doc, "section", "", "")?;
    let meta = element(doc, "p", "", &format!("{}: ", text.order_number))?;
    append(&meta, &element(doc, "strong", "", &order.order_id)?)?;
    append(&section, &meta)?;
    let table = element(doc, "table", "", "")?;
    table.set_attribute("part", "order")?;
    append(&table, &element(doc, "caption", "", text.order)?)?;
    let head = element(doc, "thead", "", "")?;
    append(
        &head,
        &row(
            doc,
            "th",
            &[text.code, text.item, text.unit_price, text.quantity, text.subtotal],
        )?,
    )?;
    append(&table, &head)?;
    let body = element(doc, "tbody", "", "")?;
    let money = |amount: u64| format_amount(amount, &order.currency);
    for item in &order.items {
        let cells = [
            item.code.clone(),
            item.name.clone(),
            money(item.unit_price),
            item.quantity.to_string(),
            money(item.unit_price.saturating_mul(item.quantity)),
        ];
        append(&body, &row(doc, "td", &cells.each_ref().map(String::as_str))?)?;
    }
    append(&table, &body)?;
    let foot = element(doc, "tfoot", "", "")?;
    append(&foot, &total_row(doc, text.tax, &money(order.tax))?)?;
    append(&foot, &total_row(doc, text.total, &money(order.total))?)?;
    append(&table, &foot)?;
    append(&section, &table)?;
    Ok(section)
}

/// A table row; the last three columns are numbers, right-aligned.
fn row(doc: &Document, cell: &str, texts: &[&str]) -> Result<Element, JsValue> {
    let tr = element(doc, "tr", "", "")?;
    for (index, text) in texts.iter().enumerate() {
        let class = if index >= 2 { "n" } else { "" };
        let td = element(doc, cell, class, text)?;
        if cell == "th" {
            td.set_attribute("scope", "col")?;
        }
        append(&tr, &td)?;
    }
    Ok(tr)
}

fn total_row(doc: &Document, label: &str, amount: &str) -> Result<Element, JsValue> {
    let tr = element(doc, "tr", "", "")?;
    let th = element(doc, "th", "", label)?;
    set_attrs(&th, &[("scope", "row"), ("colspan", "4")])?;
    append(&tr, &th)?;
    append(&tr, &element(doc, "td", "n", amount)?)?;
    Ok(tr)
}

impl FormEls {
    fn input(&self, field: Field) -> &HtmlInputElement {
        match field {
            Field::Number => &self.number,
            Field::Expiry => &self.expiry,
            Field::Cvc => &self.cvc,
        }
    }

    /// Shows (or, with `None`, clears) a field's problem.
    pub fn show_problem(&self, field: Field, problem: Option<&str>) -> Result<(), JsValue> {
        let index = match field {
            Field::Number => 0,
            Field::Expiry => 1,
            Field::Cvc => 2,
        };
        self.errors[index].set_text_content(problem);
        let input = self.input(field);
        match problem {
            Some(_) => input.set_attribute("aria-invalid", "true"),
            None => input.remove_attribute("aria-invalid"),
        }
    }

    /// Moves the focus to a field.
    pub fn focus(&self, field: Field) {
        // Focus can fail only on detached elements; nothing to do then.
        let _ = self.input(field).focus();
    }

    /// Locks the form while a payment is in flight (or unlocks it).
    pub fn set_locked(&self, locked: bool) {
        for input in [&self.number, &self.expiry, &self.cvc] {
            input.set_read_only(locked);
        }
        self.pay.set_disabled(locked);
        self.phone_button.set_disabled(locked);
        let busy = if locked { "true" } else { "false" };
        let _ = self.form.set_attribute("aria-busy", busy);
    }

    /// Replaces the progress line and the alert.
    pub fn set_messages(&self, status: &str, alert: &str) {
        self.status.set_text_content(Some(status));
        self.alert.set_text_content(Some(alert));
    }

    /// Shows the wallet panel with `text` in place of the form and the wallet
    /// buttons (with the "back" button when `back`), or, with `None`, the
    /// form again.
    pub fn show_panel(&self, text: Option<&str>, back: bool) {
        let waiting = text.is_some();
        // Toggling `hidden` fails only for invalid names; these are fixed.
        let _ = self.form.toggle_attribute_with_force("hidden", waiting);
        let _ = self
            .wallets
            .toggle_attribute_with_force("hidden", waiting || !self.wallets.has_child_nodes());
        let _ = self.panel.toggle_attribute_with_force("hidden", !waiting);
        let _ = self.back.toggle_attribute_with_force("hidden", !back);
        self.panel_text.set_text_content(text);
        self.phone.show(false);
    }

    /// Shows the phone's panel in place of the form and the wallets.
    pub fn show_phone(&self) {
        let _ = self.form.toggle_attribute_with_force("hidden", true);
        let _ = self.wallets.toggle_attribute_with_force("hidden", true);
        let _ = self.panel.toggle_attribute_with_force("hidden", true);
        self.phone.show(true);
    }

    /// Empties the card inputs (after a result, nothing of the card stays).
    pub fn clear(&self) {
        for input in [&self.number, &self.expiry, &self.cvc] {
            input.set_value("");
        }
    }
}

/// The result, with what to do next. Returns the heading (to be focused)
/// and, when asked for, a "Return to the shop" button.
pub fn result(
    doc: &Document,
    container: &Element,
    lang: Lang,
    outcome: &Outcome,
    order_id: &str,
    return_button: bool,
) -> Result<(HtmlElement, Option<HtmlButtonElement>), JsValue> {
    container.set_inner_html("");
    let section = element(
        doc,
        "section",
        if outcome.status.is_success() { "ok" } else { "bad" },
        "",
    )?;
    section.set_attribute("part", "result")?;
    let (heading_text, next) = i18n::result(lang, outcome.status);
    let heading: HtmlElement = element(doc, "h2", "", heading_text)?.dyn_into()?;
    heading.set_tab_index(-1);
    append(&section, &heading)?;
    if outcome.status == Status::Declined {
        let reason = i18n::decline_reason(lang, outcome.decline_code);
        append(&section, &element(doc, "p", "", reason)?)?;
    }
    append(&section, &element(doc, "p", "", next)?)?;
    let meta = element(doc, "p", "detail", &format!("{}: {order_id}", lang.text().order_number))?;
    append(&section, &meta)?;
    let button = if return_button {
        let button: HtmlButtonElement = element(doc, "button", "", lang.text().return_to_shop)?.dyn_into()?;
        button.set_type("button");
        append(&section, &button)?;
        Some(button)
    } else {
        None
    };
    append(&container, &section)?;
    Ok((heading, button))
}

/// A failure the buyer cannot fix in the form: a sentence, an optional
/// technical detail (for the shop's developer) and an optional retry button.
pub fn failure(
    doc: &Document,
    container: &Element,
    lang: Lang,
    sentence: &str,
    detail: Option<&str>,
    retry: bool,
) -> Result<Option<HtmlButtonElement>, JsValue> {
    container.set_inner_html("");
    let alert = element(doc, "div", "", "")?;
    set_attrs(&alert, &[("role", "alert"), ("part", "error")])?;
    append(&alert, &element(doc, "p", "alert", sentence)?)?;
    if let Some(detail) = detail {
        append(&alert, &element(doc, "p", "detail", detail)?)?;
    }
    append(&container, &alert)?;
    if !retry {
        return Ok(None);
    }
    let button: HtmlButtonElement = element(doc, "button", "", lang.text().try_again)?.dyn_into()?;
    button.set_type("button");
    append(&container, &button)?;
    Ok(Some(button))
}
