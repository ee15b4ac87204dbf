use yew::prelude::*;

use crate::components::ticket_view::TicketView;
use crate::context::{lang_of, WalletContext};

/// "Tickets" (C9): every ticket the wallet holds, newest first, each ready
/// to be scanned at the entrance.
#[function_component(TicketsPage)]
pub fn tickets_page() -> Html {
    let Some(wallet) = use_context::<WalletContext>() else {
        return html! {};
    };
    let lang = lang_of(&wallet);
    let text = lang.text();
    html! {
        <section aria-labelledby="tickets-title">
            <h1 id="tickets-title">{ text.tickets }</h1>
            if wallet.passes.tickets.is_empty() {
                <p class="muted">{ text.no_tickets }</p>
            }
            { for wallet.passes.tickets.iter().rev().map(|ticket| html! {
                <TicketView ticket={ticket.clone()} lang={lang} />
            }) }
        </section>
    }
}
