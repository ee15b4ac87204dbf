use kessai_protocol::terminal::{ConfirmedTransaction, TransactionStatus};
use yew::prelude::*;

use super::receipt::local_time;
use super::terminal_receipt::TerminalReceiptView;
use super::ticket_view::TicketView;
use crate::i18n::{self, Lang};
use crate::passes::{DeviceNote, Ticket};

#[derive(Debug, PartialEq, Properties)]
pub struct StoreReceiptProps {
    pub result: ConfirmedTransaction,
    /// An authentication by number (D11) ends with "Authenticated".
    #[prop_or_default]
    pub authentication: bool,
    /// What a device did: let in, opened, dispenses (C5, C6).
    #[prop_or_default]
    pub note: Option<DeviceNote>,
    pub lang: Lang,
    pub on_close: Callback<MouseEvent>,
}

/// The end of an in-store payment: the receipt (D3) with its number,
/// merchant, terminal, lines, amount and time (the one the POS prints);
/// or why nothing was paid. A device's part comes first (entered, the
/// gate opens, dispensing), and a ticket bought is shown to be scanned.
#[function_component(StoreReceipt)]
pub fn store_receipt(props: &StoreReceiptProps) -> Html {
    let text = props.lang.text();
    let result = &props.result;
    let ok = result.status == TransactionStatus::Succeeded;
    let (title, outcome) = if props.authentication && ok {
        (text.authenticated, text.authenticated)
    } else {
        (text.receipt, i18n::terminal_outcome(props.lang, result.status))
    };
    let why = result.decline_code.map(|code| i18n::decline(props.lang, code));
    let ticket = result.receipt.as_ref().and_then(Ticket::from_receipt);
    if let Some(DeviceNote::Entered(admission)) = &props.note {
        // An entry moves no money: no receipt, only where and when.
        let when = local_time(admission.entered_at, props.lang);
        return html! {
            <section class="receipt" aria-labelledby="receipt-title">
                <h1 id="receipt-title">{ text.inside }</h1>
                <p class="outcome ok device-note" role="status">
                    { i18n::entered(props.lang, &admission.merchant_name, &when) }</p>
                <p class="muted">{ text.exit_hint }</p>
                <button type="button" onclick={props.on_close.clone()}>{ text.pay_another }</button>
            </section>
        };
    }
    html! {
        <section class="receipt" aria-labelledby="receipt-title">
            <h1 id="receipt-title">{ title }</h1>
            <p class={classes!("outcome", if ok { "ok" } else { "bad" })} role="status">{ outcome }</p>
            if let Some(why) = why { <p>{ why }</p> }
            { note(props.note.as_ref(), props.lang) }
            if let Some(ticket) = ticket { <TicketView ticket={ticket} lang={props.lang} /> }
            if let Some(receipt) = &result.receipt {
                <TerminalReceiptView receipt={receipt.clone()} lang={props.lang} />
            }
            <button type="button" onclick={props.on_close.clone()}>{ text.pay_another }</button>
        </section>
    }
}

/// What an exit gate or a vending machine does now.
fn note(note: Option<&DeviceNote>, lang: Lang) -> Html {
    let words = match note {
        Some(DeviceNote::Exited { merchant_name }) => i18n::exited(lang, merchant_name),
        Some(DeviceNote::Dispensing(article)) => i18n::dispensing(lang, article),
        Some(DeviceNote::Entered(_)) | None => return html! {},
    };
    html! { <p class="device-note" role="status" aria-live="polite"><strong>{ words }</strong></p> }
}
