//! What the phone keeps from the devices (PROTOCOL section 13, "Devices"):
//! gate admissions (C6) until an exit takes them, and tickets (C9) to show
//! at the entrance. Both are compact JWS signed by the institution; the
//! phone reads their claims to show them and never verifies them (the gate
//! and the entrance do, with the institution's key).
//!
//! Kept in the wallet's storage with the connectors ([`crate::state::Saved`]).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use kessai_protocol::terminal::{
    AdmissionClaims, ConfirmedTransaction, PayerTransaction, TerminalKind, TerminalReceipt, TicketClaims,
    TransactionStatus,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Most open admissions kept: more means exits never taken (a gate that
/// failed); the oldest go first.
pub const ADMISSIONS_MAX: usize = 20;
/// Most tickets kept; the oldest go first.
pub const TICKETS_MAX: usize = 50;

/// An entry gate's admission, held until an exit of the same merchant
/// takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Admission {
    /// The server wallet that gave it: the institution whose exits take it.
    pub address: String,
    /// The compact JWS, sent back with the exit's number.
    pub token: String,
    /// `adm_…`
    pub id: String,
    /// `mch_…`
    pub merchant_id: String,
    pub merchant_name: String,
    /// Unix seconds, from the admission itself.
    pub entered_at: i64,
}

/// A ticket bought at a ticket terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// The compact JWS the entrance verifies.
    pub token: String,
    /// `tkt_…`
    pub id: String,
    pub event: String,
    /// Unix seconds: admits from then…
    pub valid_from: i64,
    /// …until then (exclusive).
    pub valid_until: i64,
    pub merchant_name: String,
    pub receipt_no: String,
}

/// The admissions and tickets the wallet holds, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Passes {
    pub admissions: Vec<Admission>,
    pub tickets: Vec<Ticket>,
}

/// What a device did for the payer, said on the result screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceNote {
    /// An entry gate let the payer in (C6).
    Entered(Admission),
    /// An exit gate was paid and opens (C6).
    Exited { merchant_name: String },
    /// A vending machine dispenses this article (C5).
    Dispensing(String),
}

/// The claims of a compact JWS, read without checking the signature (the
/// phone has no reason to doubt its own institution's answer, and the
/// device that takes the token checks it).
pub fn claims<C: DeserializeOwned>(jws: &str) -> Option<C> {
    let mut parts = jws.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}

impl Admission {
    /// The admission an entry gate's answer carries, if it does.
    pub fn from_entry(address: &str, transaction: &PayerTransaction) -> Option<Admission> {
        let token = transaction.admission.as_ref()?;
        let claims: AdmissionClaims = claims(token)?;
        Some(Admission {
            address: address.to_string(),
            token: token.clone(),
            id: claims.jti,
            merchant_id: claims.merchant,
            merchant_name: transaction.terminal.merchant.name.clone(),
            entered_at: claims.entered_at,
        })
    }
}

impl Ticket {
    /// The ticket a receipt carries, if it does.
    pub fn from_receipt(receipt: &TerminalReceipt) -> Option<Ticket> {
        let token = receipt.ticket.as_ref()?;
        let claims: TicketClaims = claims(token)?;
        Some(Ticket {
            token: token.clone(),
            id: claims.jti,
            event: claims.event,
            valid_from: claims.valid_from,
            valid_until: claims.valid_until,
            merchant_name: receipt.merchant.clone(),
            receipt_no: receipt.receipt_no.clone(),
        })
    }
}

impl Passes {
    /// Keeps `admission` (again: once).
    pub fn keep_admission(&mut self, admission: Admission) {
        if self.admissions.iter().any(|a| a.id == admission.id) {
            return;
        }
        self.admissions.push(admission);
        let excess = self.admissions.len().saturating_sub(ADMISSIONS_MAX);
        self.admissions.drain(..excess);
    }

    /// Forgets the admission `id`: an exit took it.
    pub fn drop_admission(&mut self, id: &str) {
        self.admissions.retain(|a| a.id != id);
    }

    /// Keeps `ticket` (again: once).
    pub fn keep_ticket(&mut self, ticket: Ticket) {
        if self.tickets.iter().any(|t| t.id == ticket.id) {
            return;
        }
        self.tickets.push(ticket);
        let excess = self.tickets.len().saturating_sub(TICKETS_MAX);
        self.tickets.drain(..excess);
    }

    /// The admissions `address` gave, newest first: the ones its exits may
    /// take, the most likely first.
    pub fn admissions_at(&self, address: &str) -> Vec<Admission> {
        self.admissions
            .iter()
            .rev()
            .filter(|a| a.address == address)
            .cloned()
            .collect()
    }

    /// Records what a finished transaction at `address` gave or took: an
    /// entry's admission is kept, the admission an exit was paid with
    /// (`sent`) is dropped, a ticket is kept. Only on `succeeded`: a declined
    /// or canceled exit leaves the admission for another exit. Idempotent,
    /// so the reducer may call it on every step of a finished payment.
    pub fn record(
        &mut self,
        address: &str,
        transaction: &PayerTransaction,
        sent: Option<&Admission>,
        result: &ConfirmedTransaction,
    ) {
        if result.status != TransactionStatus::Succeeded {
            return;
        }
        if let Some(admission) = Admission::from_entry(address, transaction) {
            self.keep_admission(admission);
        }
        if let Some(sent) = sent {
            self.drop_admission(&sent.id);
        }
        if let Some(ticket) = result.receipt.as_ref().and_then(Ticket::from_receipt) {
            self.keep_ticket(ticket);
        }
    }
}

/// What the result screen says a device did, if any.
pub fn device_note(
    address: &str,
    transaction: &PayerTransaction,
    sent: Option<&Admission>,
    result: &ConfirmedTransaction,
) -> Option<DeviceNote> {
    if result.status != TransactionStatus::Succeeded {
        return None;
    }
    if let Some(admission) = Admission::from_entry(address, transaction) {
        return Some(DeviceNote::Entered(admission));
    }
    if let Some(sent) = sent {
        return Some(DeviceNote::Exited {
            merchant_name: sent.merchant_name.clone(),
        });
    }
    let receipt = result.receipt.as_ref()?;
    match (transaction.terminal.kind, receipt.items.as_slice()) {
        (TerminalKind::Vending, [line]) => Some(DeviceNote::Dispensing(line.name.clone())),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests;
