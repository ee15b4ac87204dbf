//! Tickets (C9, claims 15 to 18): a `ticket` terminal's sale may sell a
//! ticket for an event and a time; once paid, the receipt carries it as a
//! pass signed by the institution (`passes`). An entrance of the same
//! merchant checks it and lets it in once: the ticket's id is written to
//! `used_tickets`, whose primary key decides when two entrances race.

use kessai_protocol::terminal::{TicketClaims, TicketSpec, TICKET_PREFIX};

use super::passes::Passes;
use super::registry::Terminal;
use crate::args;
use crate::error::{Error, Result};
use crate::store::Conn;

/// Longest event name, in characters.
const EVENT_LEN_MAX: usize = 200;

/// Checks what a terminal asks a ticket to say.
pub fn check(spec: &TicketSpec) -> Result<()> {
    let len = spec.event.chars().count();
    if len == 0 || len > EVENT_LEN_MAX || spec.event.chars().any(char::is_control) {
        return Err(Error::field(
            "ticket_event_invalid",
            "ticket.event",
            format!("ticket.event must be 1 to {EVENT_LEN_MAX} printable characters."),
        ));
    }
    if spec.valid_from < 0 || spec.valid_until <= spec.valid_from {
        return Err(Error::field(
            "ticket_validity_invalid",
            "ticket.valid_until",
            "ticket.valid_until must come after ticket.valid_from (Unix seconds).",
        ));
    }
    Ok(())
}

/// The signed ticket a paid sale of `merchant_id` gives its payer.
pub fn issue(spec: &TicketSpec, merchant_id: &str, passes: &Passes) -> Result<String> {
    passes.sign(&TicketClaims {
        jti: crate::ids::new(TICKET_PREFIX),
        event: spec.event.clone(),
        valid_from: spec.valid_from,
        valid_until: spec.valid_until,
        merchant: merchant_id.to_string(),
        iss: passes.iss().to_string(),
    })
}

/// Lets a checked ticket in at `entrance`, once: a second time is 409
/// `ticket_used`, whichever entrance and server it comes to.
pub async fn admit(conn: &mut Conn, claims: &TicketClaims, entrance: &Terminal, now: i64) -> Result<()> {
    let inserted = conn
        .execute(
            "INSERT INTO used_tickets (jti, merchant_id, terminal_id, used_at, valid_until)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (jti) DO NOTHING",
            args![
                &claims.jti,
                &entrance.merchant_id,
                &entrance.id,
                now,
                claims.valid_until
            ],
        )
        .await?;
    if inserted == 0 {
        return Err(Error::conflict("ticket_used", "This ticket has been let in already."));
    }
    Ok(())
}
