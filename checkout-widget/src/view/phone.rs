//! The panel of "Pay with your phone" (PROTOCOL section 13, D10), in place
//! of the card form: the transaction number, its QR code (drawn by the
//! server), how long it is valid, what to do, and the ways out.
//!
//! Accessibility: the panel is a region labelled by its heading and takes
//! the focus; the number is one `role="img"` whose accessible name spells
//! it digit by digit (a screen reader would read "4821 3907" as two
//! numbers); the countdown is a `role="timer"` (not announced every
//! second); progress and expiry are announced by a `role="status"` line.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, HtmlButtonElement, HtmlElement};

use super::{append, element, set_attrs};
use crate::i18n::{self, Lang};
use crate::phone;

/// The live elements of the panel.
pub struct PhoneEls {
    pub panel: HtmlElement,
    /// The number, the code and the countdown: shown only with a number.
    shown: Element,
    number: Element,
    qr: Element,
    timer: Element,
    status: Element,
    /// "New number", once the number expired.
    pub renew: HtmlButtonElement,
    /// "Back to card payment".
    pub back: HtmlButtonElement,
}

/// The (hidden) panel.
pub fn panel(doc: &Document, lang: Lang) -> Result<PhoneEls, JsValue> {
    let text = lang.text();
    let panel: HtmlElement = element(doc, "section", "ph", "")?.dyn_into()?;
    set_attrs(
        &panel,
        &[
            ("part", "phone"),
            ("role", "region"),
            ("aria-labelledby", "kc-phone-title"),
            ("hidden", ""),
        ],
    )?;
    panel.set_tab_index(-1);
    let title = element(doc, "h3", "", text.phone)?;
    title.set_id("kc-phone-title");
    append(&panel, &title)?;
    let shown = element(doc, "div", "", "")?;
    append(&shown, &element(doc, "p", "", text.phone_steps)?)?;
    let number = element(doc, "p", "num", "")?;
    number.set_attribute("role", "img")?;
    append(&shown, &number)?;
    let qr = doc.create_element("img")?;
    set_attrs(&qr, &[("class", "qr"), ("width", "176"), ("height", "176")])?;
    append(&shown, &qr)?;
    let timer = element(doc, "p", "detail", "")?;
    timer.set_attribute("role", "timer")?;
    append(&shown, &timer)?;
    append(&panel, &shown)?;
    let status = element(doc, "p", "", "")?;
    set_attrs(&status, &[("role", "status"), ("aria-live", "polite")])?;
    append(&panel, &status)?;
    let renew: HtmlButtonElement = element(doc, "button", "", text.new_number)?.dyn_into()?;
    renew.set_type("button");
    append(&panel, &renew)?;
    let back: HtmlButtonElement = element(doc, "button", "s", text.back_to_card)?.dyn_into()?;
    back.set_type("button");
    append(&panel, &back)?;
    Ok(PhoneEls {
        panel,
        shown,
        number,
        qr,
        timer,
        status,
        renew,
        back,
    })
}

impl PhoneEls {
    /// Shows or hides the panel; shown, it takes the focus (the button
    /// that was clicked is hidden now).
    pub fn show(&self, visible: bool) {
        // Toggling `hidden` fails only for invalid names; this one is fixed.
        let _ = self.panel.toggle_attribute_with_force("hidden", !visible);
        if visible {
            let _ = self.panel.focus();
        }
    }

    /// While the number is asked for: a progress line only.
    pub fn asking(&self, lang: Lang) {
        self.state(false, false, lang.text().phone_asking);
    }

    /// The number, its QR code (`qr_src`, the server's image of it) and
    /// how long it stays valid.
    pub fn number(&self, lang: Lang, number: &str, qr_src: &str, remaining_s: i64) -> Result<(), JsValue> {
        self.number.set_text_content(Some(&phone::grouped(number)));
        let spoken = format!("{}: {}", lang.text().number, phone::spoken(number));
        set_attrs(&self.number, &[("data-number", number), ("aria-label", &spoken)])?;
        set_attrs(&self.qr, &[("src", qr_src), ("alt", &i18n::qr_alt(lang, number))])?;
        self.tick(lang, remaining_s);
        self.state(true, false, lang.text().phone_waiting);
        Ok(())
    }

    /// The countdown.
    pub fn tick(&self, lang: Lang, remaining_s: i64) {
        let text = i18n::valid_for(lang, &phone::clock(remaining_s));
        self.timer.set_text_content(Some(&text));
    }

    /// The number expired: it and its code go (nobody should scan a dead
    /// code), "New number" comes.
    pub fn expired(&self, lang: Lang) {
        // The focus stays on the panel: moving it unasked would interrupt.
        self.state(false, true, lang.text().number_expired);
    }

    fn state(&self, shown: bool, renew: bool, status: &str) {
        let _ = self.shown.toggle_attribute_with_force("hidden", !shown);
        let _ = self.renew.toggle_attribute_with_force("hidden", !renew);
        self.status.set_text_content(Some(status));
    }
}
