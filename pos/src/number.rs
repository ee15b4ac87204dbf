//! How a transaction number is shown: eight digits in two groups of four
//! ("4821 3907"), which a payer reads off a counter display and types
//! without losing their place. The digits themselves stay contiguous in
//! the markup's labels, for screen readers and tests.

use kessai_protocol::terminal::NUMBER_DIGITS;

/// Digits per group on screen.
const GROUP: usize = 4;

/// The number's groups: `["4821", "3907"]`. A number that is not the
/// protocol's eight digits (a server speaking another version) is shown
/// whole, as one group, rather than split wrongly.
pub fn groups(number: &str) -> Vec<&str> {
    let digits_only = number.bytes().all(|b| b.is_ascii_digit());
    if number.len() != NUMBER_DIGITS || !digits_only {
        return vec![number];
    }
    let (first, second) = number.split_at(GROUP);
    vec![first, second]
}

/// The grouped form as one string: `4821 3907`.
pub fn grouped(number: &str) -> String {
    groups(number).join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_digits_show_as_two_groups_of_four() {
        assert_eq!(groups("48213907"), ["4821", "3907"]);
        assert_eq!(grouped("00000001"), "0000 0001");
    }

    #[test]
    fn anything_else_is_shown_as_it_came() {
        assert_eq!(groups("1234567"), ["1234567"]);
        assert_eq!(groups("4821390a"), ["4821390a"]);
        assert_eq!(grouped(""), "");
    }
}
