//! The amount keypad's arithmetic: keys typed like a cash register, in the
//! currency's minor units (for JPY each digit is yen; for USD `1 2 3 4` is
//! $12.34), so no decimal point is ever typed or parsed.

use kessai_protocol::money::AMOUNT_MAX;

/// The most digits an amount may have: 10^12 minor units is far above any
/// in-store sale and far below [`AMOUNT_MAX`].
pub const DIGITS_MAX: usize = 12;

/// A key of the keypad (on screen or on a physical keyboard).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Digit(u8),
    /// "00": two zeros at once, as on registers.
    DoubleZero,
    Backspace,
    Clear,
}

impl Key {
    /// The key a physical keyboard's `KeyboardEvent.key` means, if any.
    pub fn from_keyboard(key: &str) -> Option<Key> {
        match key {
            "Backspace" => Some(Key::Backspace),
            "Escape" | "Delete" => Some(Key::Clear),
            _ => {
                let mut chars = key.chars();
                let digit = chars.next()?.to_digit(10)?;
                let digit = u8::try_from(digit).ok()?;
                chars.next().is_none().then_some(Key::Digit(digit))
            }
        }
    }
}

/// The amount being typed, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AmountEntry {
    minor: u64,
}

impl AmountEntry {
    pub fn minor(self) -> u64 {
        self.minor
    }

    /// The entry after `key`. A digit that would make the amount longer
    /// than [`DIGITS_MAX`] is ignored, as a register ignores it.
    pub fn press(self, key: Key) -> AmountEntry {
        let minor = match key {
            Key::Digit(digit) => self.append(u64::from(digit.min(9)), 1),
            Key::DoubleZero => self.append(0, 2),
            Key::Backspace => self.minor / 10,
            Key::Clear => 0,
        };
        AmountEntry { minor }
    }

    fn append(self, digit: u64, times: u32) -> u64 {
        let limit = 10u64.pow(DIGITS_MAX as u32).min(AMOUNT_MAX);
        let mut minor = self.minor;
        for _ in 0..times {
            let next = minor.saturating_mul(10).saturating_add(digit);
            if next >= limit {
                return minor;
            }
            minor = next;
        }
        minor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(keys: &[Key]) -> u64 {
        keys.iter()
            .fold(AmountEntry::default(), |entry, key| entry.press(*key))
            .minor()
    }

    #[test]
    fn digits_append_in_minor_units() {
        assert_eq!(typed(&[Key::Digit(1), Key::Digit(2), Key::DoubleZero]), 1200);
        assert_eq!(typed(&[Key::Digit(0), Key::Digit(0), Key::Digit(7)]), 7);
    }

    #[test]
    fn backspace_drops_the_last_digit_and_clear_everything() {
        assert_eq!(typed(&[Key::Digit(4), Key::Digit(5), Key::Backspace]), 4);
        assert_eq!(typed(&[Key::Digit(4), Key::Clear]), 0);
        assert_eq!(typed(&[Key::Backspace]), 0);
    }

    #[test]
    fn the_amount_stops_growing_at_twelve_digits() {
        let nines = vec![Key::Digit(9); 20];
        assert_eq!(typed(&nines), 999_999_999_999);
        let mut almost = vec![Key::Digit(9); 11];
        almost.push(Key::DoubleZero);
        assert_eq!(typed(&almost), 999_999_999_990, "one zero fits, the second does not");
    }

    #[test]
    fn physical_keys_map_to_keypad_keys() {
        assert_eq!(Key::from_keyboard("7"), Some(Key::Digit(7)));
        assert_eq!(Key::from_keyboard("Backspace"), Some(Key::Backspace));
        assert_eq!(Key::from_keyboard("Escape"), Some(Key::Clear));
        assert_eq!(Key::from_keyboard("a"), None);
        assert_eq!(Key::from_keyboard("F1"), None);
        assert_eq!(Key::from_keyboard("Enter"), None);
    }
}
