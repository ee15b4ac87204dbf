use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use yew::prelude::*;

use super::receipt::local_time;
use crate::i18n::Lang;
use crate::passes::Ticket;

#[derive(Debug, PartialEq, Properties)]
pub struct TicketViewProps {
    pub ticket: Ticket,
    pub lang: Lang,
}

/// A ticket (C9) as the entrance needs it: the event and its validity, the
/// ticket as a QR code the entrance scans, and its text in a field to copy
/// (for an entrance that takes it typed or pasted).
#[function_component(TicketView)]
pub fn ticket_view(props: &TicketViewProps) -> Html {
    let text = props.lang.text();
    let ticket = &props.ticket;
    let title_id = format!("ticket-{}", ticket.id);
    let field_id = format!("ticket-code-{}", ticket.id);
    html! {
        <article class="ticket" aria-labelledby={title_id.clone()} data-ticket-id={ticket.id.clone()}>
            <h2 id={title_id}>{ &ticket.event }</h2>
            <p class="muted">{ &ticket.merchant_name }</p>
            <dl>
                <dt>{ text.valid_from }</dt><dd>{ local_time(ticket.valid_from, props.lang) }</dd>
                <dt>{ text.valid_until }</dt><dd>{ local_time(ticket.valid_until, props.lang) }</dd>
                <dt>{ text.receipt_no }</dt><dd><code>{ &ticket.receipt_no }</code></dd>
            </dl>
            { qr_image(&ticket.token, text.ticket_qr) }
            <p class="muted">{ text.show_at_entrance }</p>
            <label for={field_id.clone()}>{ text.ticket_code }</label>
            <textarea id={field_id} class="ticket-code" readonly=true rows="4" spellcheck="false"
                data-ticket={ticket.token.clone()} value={ticket.token.clone()} />
        </article>
    }
}

/// The QR code of `token` as an image: an SVG made here, in a data URL (an
/// `<img>`, so no markup is injected into the page).
fn qr_image(token: &str, alt: &'static str) -> Html {
    match kessai_protocol::qr::svg(token) {
        Ok(svg) => {
            let src = format!("data:image/svg+xml;base64,{}", STANDARD.encode(svg));
            html! { <img class="ticket-qr" src={src} alt={alt} width="256" height="256" /> }
        }
        // A ticket too long for a QR code: the field below still holds it.
        Err(_) => html! {},
    }
}
