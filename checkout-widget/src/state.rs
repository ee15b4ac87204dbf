//! The widget's state machine: Loading, Form, Paying, Waiting, Result,
//! Error, for wallets (PROTOCOL section 12) WithWallet and Checking, and for
//! "Pay with your phone" (section 13, D10) AskingNumber, WithPhone and
//! NumberExpired. Pure: [`Phase::on`] decides each transition, [`classify`] reads a
//! server answer and [`failure_of`] an error response, so that the rules
//! (a result is final, a payment in flight ignores a second submit, an
//! unknown outcome is retried with the same request) are unit-tested
//! natively. `lib` performs the effects each phase calls for.

use kessai_protocol::api::{self, ConfirmResult, DeclineCode, ErrorBody};

/// How a settlement ended, as far as the buyer is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Succeeded,
    /// Accepted; the funds are reserved during a cooling-off period.
    Held,
    Declined,
    Mismatched,
    Expired,
    Canceled,
    /// Paid earlier and refunded since (seen on a reload).
    Refunded,
}

impl Status {
    /// Whether the buyer's payment went through.
    pub fn is_success(self) -> bool {
        matches!(self, Status::Succeeded | Status::Held | Status::Refunded)
    }
}

/// A final result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub id: String,
    pub status: Status,
    /// The server's status word, passed on in `kessai:result`.
    pub status_text: String,
    pub decline_code: Option<DeclineCode>,
    pub result_token: Option<String>,
}

/// What an answer of the server means for the widget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Awaiting the buyer: show the form.
    Open,
    /// Awaiting the shop (payer-first) or processing: follow it.
    Pending {
        id: String,
    },
    Final(Outcome),
}

/// Reads a settlement answer. Statuses this widget does not know arrive as
/// `processing` (see `wire::confirm_result`) and count as pending, so that a
/// newer server's status never shows a wrong result; polling is bounded.
pub fn classify(result: &ConfirmResult) -> Step {
    let final_status = match result.status {
        api::Status::AwaitingPayer => return Step::Open,
        api::Status::Succeeded => Status::Succeeded,
        api::Status::Held => Status::Held,
        api::Status::Declined => Status::Declined,
        api::Status::Mismatched => Status::Mismatched,
        api::Status::Expired => Status::Expired,
        api::Status::Canceled => Status::Canceled,
        api::Status::Refunded | api::Status::PartiallyRefunded => Status::Refunded,
        api::Status::AwaitingMerchant | api::Status::Processing => return Step::Pending { id: result.id.clone() },
    };
    Step::Final(Outcome {
        id: result.id.clone(),
        status: final_status,
        status_text: result.status.as_str().to_string(),
        decline_code: result.decline_code,
        result_token: result.result_token.clone(),
    })
}

/// Which request failed; a retry repeats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Load,
    Confirm,
    Poll,
    /// Asking for a transaction number for the phone.
    Number,
}

/// Why the widget cannot go on for now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The options are unusable; nothing can be done in the widget.
    Config { message: String },
    /// The server refused the request before acting on it (a 4xx other than
    /// the fatal ones): the buyer may correct the form and send again.
    Rejected { code: String },
    /// The settlement or its secret is unusable; no retry helps.
    Fatal { code: String },
    /// The outcome is unknown (network error, 5xx): a retry repeats the
    /// same request, which the server answers with the first outcome.
    Unknown { stage: Stage, http_status: u16 },
    /// The settlement expired or was canceled before the answer: fetch its
    /// final state.
    Closed,
    /// A wallet did not pay; shown as a note over the card form.
    Wallet(WalletNote),
    /// No number for the phone; shown as a note over the card form.
    Phone(PhoneNote),
}

/// Why the buyer is back at the card form after choosing the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneNote {
    /// The shop sent only the order's digest (`order_not_available`): a
    /// phone could not show what it pays for.
    Unavailable,
    /// The server did not give a number (network, 5xx, a refusal).
    NoNumber,
}

/// Why the buyer is back at the card form after choosing a wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalletNote {
    /// The browser did not open the web wallet's window.
    Blocked,
    /// The web wallet's window closed without a result.
    Closed,
    /// The wallet said it was done, but the server still awaits payment.
    Unfinished,
}

/// Where a refused request for a number leads.
fn number_refused(failure: Failure) -> Phase {
    match failure {
        // Paid, expired or canceled meanwhile: its state says which.
        Failure::Closed => Phase::Checking,
        Failure::Rejected { code } if code == "settlement_not_awaiting_payer" => Phase::Checking,
        Failure::Rejected { code } if code == "order_not_available" => Phase::Form {
            notice: Some(Failure::Phone(PhoneNote::Unavailable)),
        },
        failure @ Failure::Fatal { .. } => Phase::Error(failure),
        _ => Phase::Form {
            notice: Some(Failure::Phone(PhoneNote::NoNumber)),
        },
    }
}

/// Codes after which no retry can help.
const FATAL_CODES: [&str; 6] = [
    "client_secret_invalid",
    "payer_secret_invalid",
    "settlement_not_found",
    "merchant_not_found",
    "origin_not_allowed",
    "parameter_missing",
];

/// Reads an error response: its HTTP status and body (`None` when it was
/// not the protocol's error shape).
pub fn failure_of(stage: Stage, http_status: u16, body: Option<&ErrorBody>) -> Failure {
    let code = body.map(|b| b.error.code.as_str()).unwrap_or_default();
    if matches!(code, "settlement_expired" | "settlement_canceled") {
        return Failure::Closed;
    }
    if FATAL_CODES.contains(&code) || (stage == Stage::Load && http_status == 404) {
        return Failure::Fatal { code: code.to_owned() };
    }
    if (400..500).contains(&http_status) && http_status != 408 && http_status != 429 && body.is_some() {
        return Failure::Rejected { code: code.to_owned() };
    }
    Failure::Unknown { stage, http_status }
}

/// Where the widget is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Fetching the settlement's status (page load with a settlement id).
    Loading,
    /// The card form; `notice` is why the last attempt was refused.
    Form {
        notice: Option<Failure>,
    },
    /// The confirmation is in flight; the form is locked.
    Paying,
    /// Following a pending settlement (payer-first, processing); `lib`
    /// keeps which one and the secret it is followed with.
    Waiting,
    Result(Outcome),
    Error(Failure),
    /// Handed to a wallet; the card form is hidden behind a "back" button.
    WithWallet,
    /// A wallet said it is done; the server is asked what really happened
    /// (the word of page script or another window is not proof).
    Checking,
    /// The buyer chose "Pay with your phone"; the number is being asked for.
    AskingNumber,
    /// The number is shown; the settlement is followed until the phone pays.
    WithPhone,
    /// The number expired unused; a new one is offered.
    NumberExpired,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The server answered (status, confirmation or poll).
    Answered(Step),
    /// The buyer submitted a valid form.
    Submit,
    Failed(Failure),
    /// The buyer asked to try again after an unknown outcome.
    Retry,
    /// The buyer chose a wallet.
    ToWallet,
    /// Back to the card form: the buyer's choice (no note) or the wallet's
    /// window was blocked or closed.
    FromWallet(Option<WalletNote>),
    /// A wallet says it is done with this settlement.
    WalletDone,
    /// The buyer chose "Pay with your phone".
    ToPhone,
    /// The server gave the number.
    NumberShown,
    /// The number's time ran out.
    NumberExpired,
    /// The buyer asked for a new number after one expired.
    NewNumber,
    /// "Back to card payment" from the phone's panel.
    FromPhone,
    /// An answer of the settlement followed since a number was shown. It
    /// arrives whatever the buyer did meanwhile, so it moves only the
    /// phases where no card payment is in flight.
    Followed(Step),
}

impl Phase {
    /// The next phase. Events that make no sense in a phase (a second
    /// submit while paying, anything after a result) leave it unchanged.
    pub fn on(self, event: Event) -> Phase {
        match (self, event) {
            (phase @ (Phase::Result(_) | Phase::Error(Failure::Config { .. })), _) => phase,
            (Phase::Form { .. }, Event::Submit) => Phase::Paying,
            (Phase::Form { .. }, Event::ToWallet) => Phase::WithWallet,
            (Phase::WithWallet, Event::FromWallet(note)) => Phase::Form {
                notice: note.map(Failure::Wallet),
            },
            // A wallet may finish after the buyer went back to the form:
            // the payment is then checked all the same, so that it is not
            // paid twice.
            (Phase::Form { .. } | Phase::WithWallet, Event::WalletDone) => Phase::Checking,
            (Phase::Checking, Event::Answered(Step::Open)) => Phase::Form {
                notice: Some(Failure::Wallet(WalletNote::Unfinished)),
            },
            (Phase::Loading | Phase::Paying | Phase::Waiting | Phase::Checking, Event::Answered(step)) => match step {
                Step::Open => Phase::Form { notice: None },
                Step::Pending { .. } => Phase::Waiting,
                Step::Final(outcome) => Phase::Result(outcome),
            },
            (Phase::Paying, Event::Failed(failure @ Failure::Rejected { .. })) => Phase::Form { notice: Some(failure) },
            (Phase::Loading | Phase::Paying | Phase::Waiting | Phase::Checking, Event::Failed(failure)) => {
                Phase::Error(failure)
            }
            (Phase::Error(Failure::Unknown { stage, .. }), Event::Retry) => match stage {
                Stage::Load => Phase::Loading,
                Stage::Confirm => Phase::Paying,
                Stage::Poll => Phase::Waiting,
                Stage::Number => Phase::AskingNumber,
            },
            (phase, event) => phase.on_phone(event),
        }
    }

    /// The transitions of "Pay with your phone".
    fn on_phone(self, event: Event) -> Phase {
        let phone = matches!(self, Phase::AskingNumber | Phase::WithPhone | Phase::NumberExpired);
        match (self, event) {
            (Phase::Form { .. }, Event::ToPhone) | (Phase::NumberExpired, Event::NewNumber) => Phase::AskingNumber,
            (Phase::AskingNumber, Event::NumberShown) => Phase::WithPhone,
            (Phase::WithPhone, Event::NumberExpired) => Phase::NumberExpired,
            (_, Event::FromPhone) if phone => Phase::Form { notice: None },
            (Phase::AskingNumber, Event::Failed(failure)) => number_refused(failure),
            // The phone may pay while the buyer is back at the card form
            // (the number stays valid at the server): that result counts.
            // While a card payment is in flight its own answer decides.
            (
                phase @ (Phase::Form { .. } | Phase::AskingNumber | Phase::WithPhone | Phase::NumberExpired),
                Event::Followed(step),
            ) => match step {
                Step::Open => phase,
                Step::Pending { .. } => Phase::Waiting,
                Step::Final(outcome) => Phase::Result(outcome),
            },
            (phase, _) => phase,
        }
    }

    /// Whether the card form may be edited and submitted.
    pub fn accepts_input(&self) -> bool {
        matches!(self, Phase::Form { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kessai_protocol::api::ErrorDetail;

    fn answer(status: &str) -> ConfirmResult {
        ConfirmResult {
            id: "stl_1".into(),
            status: api::Status::parse(status).unwrap_or(api::Status::Processing),
            order_id: "o".into(),
            currency: "JPY".into(),
            total: 1155,
            result_token: Some("a.b.c".into()),
            payer_token: None,
            card: None,
            decline_code: (status == "declined").then_some(DeclineCode::InsufficientFunds),
            mismatched_fields: None,
            payer_secret: None,
            expires_at: None,
        }
    }

    fn error(code: &str) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                kind: "invalid_request_error".into(),
                code: code.into(),
                message: "m".into(),
                param: None,
            },
        }
    }

    #[test]
    fn statuses_classify() {
        assert_eq!(classify(&answer("awaiting_payer")), Step::Open);
        assert_eq!(
            classify(&answer("awaiting_merchant")),
            Step::Pending { id: "stl_1".into() }
        );
        assert_eq!(classify(&answer("processing")), Step::Pending { id: "stl_1".into() });
        assert_eq!(classify(&answer("something_new")), Step::Pending { id: "stl_1".into() });
        let Step::Final(outcome) = classify(&answer("declined")) else {
            panic!("declined is final")
        };
        assert_eq!(outcome.status, Status::Declined);
        assert_eq!(outcome.decline_code, Some(DeclineCode::InsufficientFunds));
        assert_eq!(outcome.result_token.as_deref(), Some("a.b.c"));
        for (word, status) in [
            ("succeeded", Status::Succeeded),
            ("held", Status::Held),
            ("mismatched", Status::Mismatched),
            ("expired", Status::Expired),
            ("canceled", Status::Canceled),
            ("partially_refunded", Status::Refunded),
        ] {
            assert!(matches!(classify(&answer(word)), Step::Final(o) if o.status == status && o.status_text == word));
        }
    }

    #[test]
    fn reload_after_payment_shows_the_result_not_the_form() {
        let phase = Phase::Loading.on(Event::Answered(classify(&answer("succeeded"))));
        assert!(matches!(phase, Phase::Result(ref o) if o.status == Status::Succeeded));
        assert!(!phase.accepts_input());
        let phase = Phase::Loading.on(Event::Answered(classify(&answer("awaiting_payer"))));
        assert_eq!(phase, Phase::Form { notice: None });
        assert!(phase.accepts_input());
    }

    #[test]
    fn a_second_submit_while_paying_is_ignored() {
        let paying = Phase::Form { notice: None }.on(Event::Submit);
        assert_eq!(paying, Phase::Paying);
        assert!(!paying.accepts_input());
        assert_eq!(paying.clone().on(Event::Submit), Phase::Paying);
    }

    #[test]
    fn results_are_final() {
        let result = Phase::Paying.on(Event::Answered(classify(&answer("declined"))));
        for event in [
            Event::Submit,
            Event::Retry,
            Event::Answered(Step::Open),
            Event::Failed(Failure::Closed),
        ] {
            assert_eq!(result.clone().on(event), result);
        }
    }

    #[test]
    fn payer_first_waits_then_settles() {
        let waiting = Phase::Paying.on(Event::Answered(classify(&answer("awaiting_merchant"))));
        assert_eq!(waiting, Phase::Waiting);
        let done = waiting.on(Event::Answered(classify(&answer("succeeded"))));
        assert!(matches!(done, Phase::Result(_)));
    }

    #[test]
    fn a_refused_card_returns_to_the_form_with_a_notice() {
        let failure = failure_of(Stage::Confirm, 400, Some(&error("card_number_invalid")));
        assert_eq!(
            failure,
            Failure::Rejected {
                code: "card_number_invalid".into()
            }
        );
        assert_eq!(
            Phase::Paying.on(Event::Failed(failure.clone())),
            Phase::Form { notice: Some(failure) }
        );
    }

    #[test]
    fn an_unknown_outcome_is_retried_as_the_same_stage() {
        let failure = failure_of(Stage::Confirm, 0, None);
        assert_eq!(
            failure,
            Failure::Unknown {
                stage: Stage::Confirm,
                http_status: 0
            }
        );
        let errored = Phase::Paying.on(Event::Failed(failure));
        assert!(!errored.accepts_input());
        assert_eq!(errored.on(Event::Retry), Phase::Paying);
        let errored = Phase::Loading.on(Event::Failed(failure_of(Stage::Load, 503, None)));
        assert_eq!(errored.on(Event::Retry), Phase::Loading);
        assert!(matches!(
            failure_of(Stage::Confirm, 429, Some(&error("rate_limited"))),
            Failure::Unknown { .. }
        ));
    }

    #[test]
    fn bad_secrets_and_closed_settlements_are_classified() {
        assert_eq!(
            failure_of(Stage::Confirm, 401, Some(&error("client_secret_invalid"))),
            Failure::Fatal {
                code: "client_secret_invalid".into()
            }
        );
        assert_eq!(
            failure_of(Stage::Confirm, 409, Some(&error("settlement_expired"))),
            Failure::Closed
        );
        assert_eq!(
            failure_of(Stage::Load, 404, None),
            Failure::Fatal { code: String::new() }
        );
        let fatal = Phase::Loading.on(Event::Failed(Failure::Fatal { code: "x".into() }));
        assert_eq!(fatal.clone().on(Event::Retry), fatal);
    }

    #[test]
    fn a_wallet_result_is_checked_with_the_server() {
        let with_wallet = Phase::Form { notice: None }.on(Event::ToWallet);
        assert_eq!(with_wallet, Phase::WithWallet);
        assert!(!with_wallet.accepts_input());
        // A card submit cannot start while a wallet has the payment.
        assert_eq!(with_wallet.clone().on(Event::Submit), Phase::WithWallet);
        let checking = with_wallet.on(Event::WalletDone);
        assert_eq!(checking, Phase::Checking);
        let done = checking.clone().on(Event::Answered(classify(&answer("succeeded"))));
        assert!(matches!(done, Phase::Result(ref o) if o.status == Status::Succeeded));
        assert_eq!(
            checking
                .clone()
                .on(Event::Answered(classify(&answer("awaiting_payer")))),
            Phase::Form {
                notice: Some(Failure::Wallet(WalletNote::Unfinished))
            }
        );
        assert_eq!(
            checking.clone().on(Event::Answered(classify(&answer("processing")))),
            Phase::Waiting
        );
        let failed = checking.on(Event::Failed(failure_of(Stage::Load, 0, None)));
        assert_eq!(failed.on(Event::Retry), Phase::Loading);
    }

    #[test]
    fn back_from_a_wallet_to_the_form_with_or_without_a_note() {
        assert_eq!(
            Phase::WithWallet.on(Event::FromWallet(None)),
            Phase::Form { notice: None }
        );
        assert_eq!(
            Phase::WithWallet.on(Event::FromWallet(Some(WalletNote::Blocked))),
            Phase::Form {
                notice: Some(Failure::Wallet(WalletNote::Blocked))
            }
        );
        // A late result after going back is still checked; nothing else
        // of a wallet moves a paying or finished widget.
        assert_eq!(Phase::Form { notice: None }.on(Event::WalletDone), Phase::Checking);
        assert_eq!(Phase::Paying.on(Event::WalletDone), Phase::Paying);
        assert_eq!(Phase::Paying.on(Event::ToWallet), Phase::Paying);
        let result = Phase::Checking.on(Event::Answered(classify(&answer("declined"))));
        assert_eq!(result.clone().on(Event::WalletDone), result);
    }

    #[test]
    fn the_phone_asks_for_a_number_shows_it_and_offers_a_new_one_when_it_expires() {
        let asking = Phase::Form { notice: None }.on(Event::ToPhone);
        assert_eq!(asking, Phase::AskingNumber);
        assert!(!asking.accepts_input());
        let shown = asking.on(Event::NumberShown);
        assert_eq!(shown, Phase::WithPhone);
        // The card form is out of reach while the number is shown.
        assert_eq!(shown.clone().on(Event::Submit), Phase::WithPhone);
        let expired = shown.on(Event::NumberExpired);
        assert_eq!(expired, Phase::NumberExpired);
        assert_eq!(expired.clone().on(Event::NewNumber), Phase::AskingNumber);
        for phase in [Phase::AskingNumber, Phase::WithPhone, Phase::NumberExpired] {
            assert_eq!(phase.on(Event::FromPhone), Phase::Form { notice: None });
        }
        // Only an expired number is renewed, only a shown one expires.
        assert_eq!(Phase::WithPhone.on(Event::NewNumber), Phase::WithPhone);
        assert_eq!(Phase::AskingNumber.on(Event::NumberExpired), Phase::AskingNumber);
        assert_eq!(Phase::Paying.on(Event::ToPhone), Phase::Paying);
    }

    #[test]
    fn the_phones_payment_ends_the_widget_like_any_other() {
        let paid = Step::Final(match classify(&answer("succeeded")) {
            Step::Final(outcome) => outcome,
            other => panic!("{other:?}"),
        });
        for phase in [
            Phase::WithPhone,
            Phase::NumberExpired,
            Phase::AskingNumber,
            Phase::Form { notice: None },
        ] {
            let done = phase.on(Event::Followed(paid.clone()));
            assert!(matches!(done, Phase::Result(ref o) if o.status == Status::Succeeded));
        }
        assert_eq!(Phase::WithPhone.on(Event::Followed(Step::Open)), Phase::WithPhone);
        assert_eq!(
            Phase::WithPhone.on(Event::Followed(classify(&answer("processing")))),
            Phase::Waiting
        );
        // A card payment in flight is decided by its own answer only.
        assert_eq!(Phase::Paying.on(Event::Followed(paid.clone())), Phase::Paying);
        assert_eq!(Phase::Paying.on(Event::Followed(Step::Open)), Phase::Paying);
    }

    #[test]
    fn a_refused_number_explains_or_looks_at_the_settlement() {
        let refused = |http_status, code: &str| {
            Phase::AskingNumber.on(Event::Failed(failure_of(
                Stage::Number,
                http_status,
                Some(&error(code)),
            )))
        };
        assert_eq!(
            refused(409, "order_not_available"),
            Phase::Form {
                notice: Some(Failure::Phone(PhoneNote::Unavailable))
            }
        );
        assert_eq!(refused(409, "settlement_not_awaiting_payer"), Phase::Checking);
        assert_eq!(refused(409, "settlement_expired"), Phase::Checking);
        assert!(matches!(
            refused(401, "payer_secret_invalid"),
            Phase::Error(Failure::Fatal { .. })
        ));
        assert_eq!(
            Phase::AskingNumber.on(Event::Failed(failure_of(Stage::Number, 503, None))),
            Phase::Form {
                notice: Some(Failure::Phone(PhoneNote::NoNumber))
            }
        );
    }

    #[test]
    fn a_config_error_is_terminal() {
        let phase = Phase::Error(Failure::Config { message: "m".into() });
        assert_eq!(phase.clone().on(Event::Answered(Step::Open)), phase);
    }
}
