//! Reading, keeping and dropping admissions and tickets. The fixtures serve
//! the reducer's and the sync's tests too.

use kessai_protocol::terminal::{
    ConfirmedTransaction, PayerTransaction, ReceiptLine, TerminalInfo, TerminalKind, TerminalMerchant, TerminalReceipt,
    TransactionStatus,
};

use super::*;

pub(crate) const HOME: &str = "https://kessai.example";

/// A compact JWS of `claims` with a header and a signature nobody checks.
pub(crate) fn jws(claims: serde_json::Value) -> String {
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.{payload}.c2lnbmF0dXJl")
}

pub(crate) fn admission_token(id: &str, merchant: &str, entered_at: i64) -> String {
    jws(serde_json::json!({
        "jti": id, "gate": "trm_in", "merchant": merchant, "entered_at": entered_at, "iss": "ins_1"
    }))
}

pub(crate) fn ticket_token(id: &str) -> String {
    jws(serde_json::json!({
        "jti": id, "event": "Spring concert", "valid_from": 1_000, "valid_until": 90_000,
        "merchant": "mch_1", "iss": "ins_1"
    }))
}

/// A terminal's transaction as the phone sees it.
pub(crate) fn transaction(kind: TerminalKind, amount: Option<u64>) -> PayerTransaction {
    PayerTransaction {
        id: "txn_1".into(),
        terminal: TerminalInfo {
            id: Some("trm_1".into()),
            name: "Gate".into(),
            kind,
            label: "GATE-1".into(),
            location: None,
            merchant: TerminalMerchant {
                id: "mch_1".into(),
                name: "Station car park".into(),
            },
        },
        amount,
        currency: "JPY".into(),
        order: None,
        menu: None,
        status: TransactionStatus::Synchronized,
        challenge: None,
        receipt: None,
        decline_code: None,
        authentication: false,
        version: 0,
        admission: None,
    }
}

/// What an entry gate answers the sync: admitted, with the admission.
pub(crate) fn entry(id: &str, entered_at: i64) -> PayerTransaction {
    PayerTransaction {
        status: TransactionStatus::Succeeded,
        admission: Some(admission_token(id, "mch_1", entered_at)),
        ..transaction(TerminalKind::Gate, None)
    }
}

pub(crate) fn receipt(items: Vec<ReceiptLine>, ticket: Option<String>) -> TerminalReceipt {
    TerminalReceipt {
        receipt_no: "R-1".into(),
        transaction_id: "txn_1".into(),
        merchant: "Station car park".into(),
        terminal: "GATE-1".into(),
        amount: 300,
        currency: "JPY".into(),
        items,
        paid_at: 2_000,
        ticket,
    }
}

pub(crate) fn paid(receipt: Option<TerminalReceipt>) -> ConfirmedTransaction {
    ConfirmedTransaction {
        status: TransactionStatus::Succeeded,
        receipt,
        decline_code: None,
    }
}

pub(crate) fn held(id: &str, address: &str) -> Admission {
    Admission::from_entry(address, &entry(id, 1_000)).unwrap()
}

#[test]
fn an_entrys_admission_is_read_from_its_payload() {
    let admission = Admission::from_entry(HOME, &entry("adm_1", 1_700_000_000)).unwrap();
    assert_eq!(admission.id, "adm_1");
    assert_eq!(admission.merchant_id, "mch_1");
    assert_eq!(
        admission.merchant_name, "Station car park",
        "the name from the terminal"
    );
    assert_eq!(admission.entered_at, 1_700_000_000);
    assert_eq!(admission.address, HOME);
    assert!(Admission::from_entry(HOME, &transaction(TerminalKind::Gate, Some(300))).is_none());
}

#[test]
fn a_token_that_is_not_a_jws_of_the_claims_is_not_read() {
    let good = admission_token("adm_1", "mch_1", 5);
    let payload = good.split('.').nth(1).unwrap().to_string();
    for bad in [
        "".to_string(),
        "a.b".to_string(),
        format!("h.{payload}.s.extra"),
        format!("h.{payload}!.s"),
        jws(serde_json::json!({ "jti": "adm_1" })),
    ] {
        assert!(claims::<AdmissionClaims>(&bad).is_none(), "{bad:?}");
    }
}

#[test]
fn a_receipts_ticket_is_read_with_its_event_and_validity() {
    let ticket = Ticket::from_receipt(&receipt(vec![], Some(ticket_token("tkt_1")))).unwrap();
    assert_eq!(ticket.id, "tkt_1");
    assert_eq!(ticket.event, "Spring concert");
    assert_eq!((ticket.valid_from, ticket.valid_until), (1_000, 90_000));
    assert_eq!(ticket.token, ticket_token("tkt_1"));
    assert!(Ticket::from_receipt(&receipt(vec![], None)).is_none());
}

#[test]
fn admissions_are_kept_once_per_address_and_dropped_by_id() {
    let mut passes = Passes::default();
    passes.keep_admission(held("adm_1", HOME));
    passes.keep_admission(held("adm_1", HOME));
    passes.keep_admission(held("adm_2", "https://other.example"));
    passes.keep_admission(held("adm_3", HOME));
    let at_home: Vec<String> = passes.admissions_at(HOME).into_iter().map(|a| a.id).collect();
    assert_eq!(
        at_home,
        ["adm_3", "adm_1"],
        "newest first, once each, this address only"
    );
    passes.drop_admission("adm_3");
    assert_eq!(passes.admissions.len(), 2);
    for n in 0..ADMISSIONS_MAX + 5 {
        passes.keep_admission(held(&format!("adm_x{n}"), HOME));
    }
    assert_eq!(passes.admissions.len(), ADMISSIONS_MAX);
    assert_eq!(passes.admissions[0].id, "adm_x5", "the oldest went first");
}

#[test]
fn only_a_success_keeps_or_drops_and_recording_twice_changes_nothing() {
    let mut passes = Passes::default();
    let declined = ConfirmedTransaction {
        status: TransactionStatus::Declined,
        ..paid(None)
    };
    passes.record(HOME, &entry("adm_1", 1_000), None, &declined);
    assert!(passes.admissions.is_empty());
    passes.record(HOME, &entry("adm_1", 1_000), None, &paid(None));
    passes.record(HOME, &entry("adm_1", 1_000), None, &paid(None));
    assert_eq!(passes.admissions.len(), 1);
    let exit = transaction(TerminalKind::Gate, Some(300));
    let sent = passes.admissions[0].clone();
    passes.record(HOME, &exit, Some(&sent), &declined);
    assert_eq!(passes.admissions.len(), 1, "a declined exit leaves it for another exit");
    passes.record(HOME, &exit, Some(&sent), &paid(Some(receipt(vec![], None))));
    assert!(passes.admissions.is_empty(), "the paid exit took it");
    let sold = paid(Some(receipt(vec![], Some(ticket_token("tkt_1")))));
    let ticket_terminal = transaction(TerminalKind::Ticket, Some(300));
    passes.record(HOME, &ticket_terminal, None, &sold);
    passes.record(HOME, &ticket_terminal, None, &sold);
    assert_eq!(passes.tickets.len(), 1);
}

#[test]
fn the_result_says_what_the_device_did() {
    let entered = device_note(HOME, &entry("adm_1", 1_000), None, &paid(None));
    assert!(matches!(entered, Some(DeviceNote::Entered(a)) if a.id == "adm_1"));
    let exit = transaction(TerminalKind::Gate, Some(300));
    let sent = held("adm_1", HOME);
    assert_eq!(
        device_note(HOME, &exit, Some(&sent), &paid(Some(receipt(vec![], None)))),
        Some(DeviceNote::Exited {
            merchant_name: "Station car park".into()
        })
    );
    let line = ReceiptLine {
        code: "tea".into(),
        name: "Green tea".into(),
        quantity: 1,
        unit_price: 150,
    };
    let vending = transaction(TerminalKind::Vending, Some(150));
    let sold = paid(Some(receipt(vec![line.clone()], None)));
    assert_eq!(
        device_note(HOME, &vending, None, &sold),
        Some(DeviceNote::Dispensing("Green tea".into()))
    );
    let pos = transaction(TerminalKind::Pos, Some(150));
    assert_eq!(
        device_note(HOME, &pos, None, &sold),
        None,
        "a register dispenses nothing"
    );
    let declined = ConfirmedTransaction {
        status: TransactionStatus::Declined,
        ..sold
    };
    assert_eq!(device_note(HOME, &vending, None, &declined), None);
}
