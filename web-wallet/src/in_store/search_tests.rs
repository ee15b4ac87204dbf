//! Asking the server wallets for a number, an exit gate's included (C6):
//! the calls each candidate gets, in order, against a scripted server.

use std::cell::RefCell;
use std::future::{ready, Future};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use kessai_protocol::api::ErrorDetail;
use kessai_protocol::terminal::TerminalKind;

use super::*;
use crate::passes::tests::{held, transaction, HOME};

const OTHER: &str = "https://other.example";

/// Runs a future whose every await is ready at once (the scripted server's).
fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the scripted server never waits"),
    }
}

fn refused(status: u16, code: &str) -> ApiError {
    ApiError::Refused {
        status,
        detail: ErrorDetail {
            kind: Default::default(),
            code: code.into(),
            message: "m".into(),
            param: None,
        },
        retry_after_s: None,
    }
}

fn candidates(addresses: &[&str]) -> Vec<(String, Secret<String>)> {
    addresses
        .iter()
        .map(|a| (a.to_string(), Secret::new("wt_1".to_string())))
        .collect()
}

/// The calls made, as (address, admission id sent), answered by `answer`.
fn search_with(
    addresses: &[&str],
    passes: &Passes,
    answer: impl Fn(&str, Option<&str>) -> Result<PayerTransaction, ApiError>,
) -> (Search, Vec<(String, Option<String>)>) {
    let calls = RefCell::new(Vec::new());
    let sync = |address: String, _token: Secret<String>, number: String, admission: Option<String>| {
        assert_eq!(number, "48213907");
        let id = admission
            .as_deref()
            .and_then(crate::passes::claims::<kessai_protocol::terminal::AdmissionClaims>)
            .map(|c| c.jti);
        calls.borrow_mut().push((address.clone(), id.clone()));
        ready(answer(&address, id.as_deref()))
    };
    let found = run(search("48213907", candidates(addresses), passes, sync));
    (found, calls.into_inner())
}

fn exit_gate() -> PayerTransaction {
    transaction(TerminalKind::Gate, Some(300))
}

#[test]
fn a_plain_number_is_synced_without_an_admission_where_it_is_known() {
    let (found, calls) = search_with(&[OTHER, HOME], &Passes::default(), |address, _| {
        if address == HOME {
            Ok(exit_gate())
        } else {
            Err(refused(404, "no_such_transaction"))
        }
    });
    let located = found.outcome.unwrap();
    assert_eq!((located.address.as_str(), located.admission), (HOME, None));
    assert_eq!(calls, [(OTHER.into(), None), (HOME.into(), None)]);
}

#[test]
fn an_exit_is_synced_again_with_the_admissions_of_that_institution_newest_first() {
    let mut passes = Passes::default();
    passes.keep_admission(held("adm_ours", HOME));
    passes.keep_admission(held("adm_elsewhere", OTHER));
    passes.keep_admission(held("adm_other_merchant", HOME));
    let (found, calls) = search_with(&[HOME, OTHER], &passes, |_, admission| match admission {
        None => Err(refused(400, "admission_missing")),
        Some("adm_ours") => Ok(exit_gate()),
        Some(_) => Err(refused(422, "invalid_admission")),
    });
    let located = found.outcome.unwrap();
    assert_eq!(located.admission.map(|a| a.id).as_deref(), Some("adm_ours"));
    assert_eq!(
        calls,
        [
            (HOME.into(), None),
            (HOME.into(), Some("adm_other_merchant".into())),
            (HOME.into(), Some("adm_ours".into())),
        ],
        "only that institution's admissions, and no other institution asked after it"
    );
}

#[test]
fn an_exit_without_a_fitting_admission_or_with_a_used_one_says_why() {
    let missing = |_: &str, admission: Option<&str>| match admission {
        None => Err(refused(400, "admission_missing")),
        Some(_) => Err(refused(422, "invalid_admission")),
    };
    let (found, calls) = search_with(&[HOME], &Passes::default(), missing);
    assert_eq!(found.outcome, Err(StoreProblem::NoAdmission));
    assert_eq!(calls.len(), 1, "nothing held, nothing more sent");
    let mut passes = Passes::default();
    passes.keep_admission(held("adm_1", HOME));
    let (found, _) = search_with(&[HOME], &passes, missing);
    assert_eq!(found.outcome, Err(StoreProblem::NoAdmission));
    let used = |_: &str, admission: Option<&str>| match admission {
        None => Err(refused(400, "admission_missing")),
        Some(_) => Err(refused(409, "admission_used")),
    };
    let (found, _) = search_with(&[HOME], &passes, used);
    assert_eq!(found.outcome, Err(StoreProblem::AdmissionUsed));
}

#[test]
fn expired_sessions_are_noted_and_the_most_useful_refusal_is_said() {
    let (found, _) = search_with(&[OTHER, HOME], &Passes::default(), |address, _| {
        if address == OTHER {
            Err(ApiError::SessionExpired)
        } else {
            Err(refused(429, "rate_limited"))
        }
    });
    assert_eq!(found.expired, [OTHER.to_string()]);
    assert!(matches!(found.outcome, Err(StoreProblem::Refused(_))));
    let (found, _) = search_with(&[], &Passes::default(), |_, _| Ok(exit_gate()));
    assert_eq!(found.outcome, Err(StoreProblem::NoSession));
}
