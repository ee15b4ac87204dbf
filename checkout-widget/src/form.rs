//! The card form's input rules: what the buyer typed, checked before it is
//! sent, with the problem of each field. Pure, so that it is unit-tested
//! natively; `view` shows the problems and `api` sends the result.

use kessai_protocol::api::CardDetails;
use kessai_protocol::card::{self, Network};
use kessai_protocol::Secret;

/// A field of the card form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Number,
    Expiry,
    Cvc,
}

/// Why a field cannot be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Not 12 to 19 digits.
    NumberLength,
    /// The check digit is wrong.
    NumberLuhn,
    /// Not `MM/YY`.
    ExpiryFormat,
    /// The month is over.
    ExpiryPast,
    /// Not 3 or 4 digits.
    CvcFormat,
}

/// The number with spaces and dashes removed; `None` when anything else
/// but digits is left.
fn digits_of(number: &str) -> Option<String> {
    let digits: String = number.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    digits.bytes().all(|b| b.is_ascii_digit()).then_some(digits)
}

/// The usual length of a network's numbers, when the number is complete.
fn usual_digits(network: Network) -> usize {
    match network {
        Network::Amex => 15,
        Network::Diners => 14,
        _ => 16,
    }
}

/// Live feedback on the card number while the buyer types: the network from
/// the first digits, and a problem once the number is long enough to judge
/// (`finished` when the field lost focus, else at the network's usual
/// length), so that a half-typed number is not flagged.
pub fn number_feedback(number: &str, finished: bool) -> (Network, Option<Problem>) {
    let Some(digits) = digits_of(number) else {
        return (Network::Unknown, Some(Problem::NumberLength));
    };
    let network = Network::from_number(&digits);
    if digits.is_empty() || (!finished && digits.len() < usual_digits(network)) {
        return (network, None);
    }
    (network, number_problem(number))
}

fn number_problem(number: &str) -> Option<Problem> {
    match card::normalize_number(number, "number") {
        Ok(_) => None,
        Err(_) if digits_of(number).is_some_and(|d| (12..=19).contains(&d.len())) => Some(Problem::NumberLuhn),
        Err(_) => Some(Problem::NumberLength),
    }
}

/// `MM/YY` (also `M/YY`, `MMYY`, `MM / YY`) as (month, four-digit year).
pub fn parse_expiry(expiry: &str) -> Option<(u32, u32)> {
    let compact: String = expiry.chars().filter(|c| !c.is_whitespace()).collect();
    let (month, year) = match compact.split_once('/') {
        Some(parts) => parts,
        None if compact.len() == 4 => compact.split_at(2),
        None => return None,
    };
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !numeric(month) || month.len() > 2 || !numeric(year) || year.len() != 2 {
        return None;
    }
    let month: u32 = month.parse().ok()?;
    let year: u32 = year.parse().ok()?;
    (1..=12).contains(&month).then_some((month, 2000 + year))
}

/// The expiry's problem, if any.
pub fn expiry_problem(expiry: &str, now_unix_s: i64) -> Option<Problem> {
    match parse_expiry(expiry) {
        None => Some(Problem::ExpiryFormat),
        Some((month, year)) if card::is_expired(month, year, now_unix_s) => Some(Problem::ExpiryPast),
        Some(_) => None,
    }
}

/// The security code's problem, if any.
pub fn cvc_problem(cvc: &str) -> Option<Problem> {
    card::check_cvc(cvc.trim(), "cvc").err().map(|_| Problem::CvcFormat)
}

/// Every field's problem, in form order; empty when the card can be sent.
pub fn problems(number: &str, expiry: &str, cvc: &str, now_unix_s: i64) -> Vec<(Field, Problem)> {
    [
        (Field::Number, number_problem(number)),
        (Field::Expiry, expiry_problem(expiry, now_unix_s)),
        (Field::Cvc, cvc_problem(cvc)),
    ]
    .into_iter()
    .filter_map(|(field, problem)| Some((field, problem?)))
    .collect()
}

/// The card to send, or every problem in form order.
pub fn card_details(
    number: &str,
    expiry: &str,
    cvc: &str,
    now_unix_s: i64,
) -> Result<CardDetails, Vec<(Field, Problem)>> {
    let found = problems(number, expiry, cvc, now_unix_s);
    let digits = card::normalize_number(number, "number").ok();
    match (found.is_empty(), digits, parse_expiry(expiry)) {
        (true, Some(digits), Some((exp_month, exp_year))) => Ok(CardDetails {
            number: Secret::new(digits),
            exp_month,
            exp_year,
            cvc: Secret::new(cvc.trim().to_owned()),
        }),
        _ => Err(found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2023-11-14 UTC.
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn expiry_forms() {
        assert_eq!(parse_expiry("12/30"), Some((12, 2030)));
        assert_eq!(parse_expiry(" 1 / 27 "), Some((1, 2027)));
        assert_eq!(parse_expiry("0530"), Some((5, 2030)));
        for bad in [
            "",
            "13/30",
            "00/30",
            "12/2030",
            "12-30",
            "ab/cd",
            "1/3",
            "123/30",
            "１２/30",
        ] {
            assert_eq!(parse_expiry(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn valid_card_becomes_card_details() {
        let card = card_details("4242 4242 4242 4242", "12/30", "123", NOW).unwrap();
        assert_eq!(card.number.expose(), "4242424242424242");
        assert_eq!((card.exp_month, card.exp_year), (12, 2030));
        assert_eq!(card.cvc.expose(), "123");
    }

    #[test]
    fn every_problem_is_reported_in_form_order() {
        let problems = card_details("4242424242424241", "10/23", "12", NOW).unwrap_err();
        assert_eq!(
            problems,
            vec![
                (Field::Number, Problem::NumberLuhn),
                (Field::Expiry, Problem::ExpiryPast),
                (Field::Cvc, Problem::CvcFormat)
            ]
        );
        let problems = card_details("4242", "1230", "1234", NOW).unwrap_err();
        assert_eq!(problems, vec![(Field::Number, Problem::NumberLength)]);
        let problems = card_details("", "", "", NOW).unwrap_err();
        assert_eq!(problems.len(), 3);
    }

    #[test]
    fn the_current_month_is_not_expired() {
        assert!(card_details("4242424242424242", "11/23", "123", NOW).is_ok());
    }

    #[test]
    fn live_feedback_waits_for_a_full_number() {
        assert_eq!(number_feedback("", false), (Network::Unknown, None));
        assert_eq!(number_feedback("4242 4242", false), (Network::Visa, None));
        assert_eq!(
            number_feedback("4242 4242", true),
            (Network::Visa, Some(Problem::NumberLength))
        );
        assert_eq!(
            number_feedback("4242424242424241", false),
            (Network::Visa, Some(Problem::NumberLuhn))
        );
        assert_eq!(number_feedback("4242424242424242", false), (Network::Visa, None));
        // Amex numbers are complete at 15 digits.
        assert_eq!(number_feedback("378282246310005", false), (Network::Amex, None));
        assert_eq!(
            number_feedback("378282246310006", false),
            (Network::Amex, Some(Problem::NumberLuhn))
        );
        assert_eq!(
            number_feedback("4242x", false),
            (Network::Unknown, Some(Problem::NumberLength))
        );
    }
}
