//! The shop's articles (editable in the settings, kept in localStorage) and
//! the cart a clerk fills from them, which becomes an itemized order or,
//! for "Let the customer order", the menu the payer chooses from (D9).
//!
//! Prices are tax-inclusive, as shelf prices are in Japan: the order's
//! `tax` is 0 and its total is the sum of its lines.

use kessai_protocol::money::{decimal_text, minor_units, AMOUNT_MAX};
use kessai_protocol::terminal::{Menu, MenuItem};
use kessai_protocol::{Item, Order};

/// Most articles a catalogue holds (a menu allows 200).
pub const ARTICLES_MAX: usize = 60;

/// The articles a new terminal starts with, priced in yen.
pub fn default_articles() -> Vec<MenuItem> {
    [
        ("coffee", "Coffee", 450),
        ("tea", "Green tea", 380),
        ("latte", "Café latte", 520),
        ("croissant", "Croissant", 320),
        ("sandwich", "Sandwich", 680),
        ("cake", "Cheesecake", 540),
        ("onigiri", "Onigiri", 220),
        ("water", "Water", 150),
    ]
    .into_iter()
    .map(|(code, name, unit_price)| MenuItem {
        code: code.into(),
        name: name.into(),
        unit_price,
    })
    .collect()
}

/// Articles picked and how many of each, in the order first picked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cart {
    lines: Vec<(String, u64)>,
}

impl Cart {
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// How many of `code` are in the cart.
    pub fn quantity(&self, code: &str) -> u64 {
        self.lines.iter().find(|(c, _)| c == code).map_or(0, |(_, q)| *q)
    }

    pub fn add(&mut self, code: &str) {
        match self.lines.iter_mut().find(|(c, _)| c == code) {
            Some((_, quantity)) => *quantity = quantity.saturating_add(1),
            None => self.lines.push((code.to_string(), 1)),
        }
    }

    /// One fewer of `code`; the line goes at zero.
    pub fn remove(&mut self, code: &str) {
        if let Some((_, quantity)) = self.lines.iter_mut().find(|(c, _)| c == code) {
            *quantity = quantity.saturating_sub(1);
        }
        self.lines.retain(|(_, quantity)| *quantity > 0);
    }

    /// The lines with their articles; codes no longer in the catalogue
    /// (an article deleted meanwhile) are left out.
    pub fn items(&self, articles: &[MenuItem]) -> Vec<Item> {
        self.lines
            .iter()
            .filter_map(|(code, quantity)| {
                let article = articles.iter().find(|a| &a.code == code)?;
                Some(Item {
                    code: article.code.clone(),
                    name: article.name.clone(),
                    unit_price: article.unit_price,
                    quantity: *quantity,
                })
            })
            .collect()
    }

    /// Σ unit price × quantity; None past the protocol's largest amount.
    pub fn total(&self, articles: &[MenuItem]) -> Option<u64> {
        self.items(articles)
            .iter()
            .try_fold(0u64, |sum, item| {
                sum.checked_add(item.unit_price.checked_mul(item.quantity)?)
            })
            .filter(|total| *total <= AMOUNT_MAX)
    }

    /// The itemized order (section 3) for this cart; None when empty.
    pub fn order(&self, articles: &[MenuItem], currency: &str, order_id: String) -> Option<Order> {
        let items = self.items(articles);
        if items.is_empty() {
            return None;
        }
        Some(Order {
            order_id,
            currency: currency.to_string(),
            items,
            tax: 0,
            total: self.total(articles)?,
        })
    }
}

/// The whole catalogue as a menu for the payer to order from.
pub fn menu(articles: &[MenuItem], currency: &str) -> Menu {
    Menu {
        currency: currency.to_string(),
        items: articles.to_vec(),
    }
}

/// A price typed in the settings (`450`, `4.50`, `1,200`) in minor units of
/// `currency`; None when it is not a price in that currency.
pub fn parse_price(text: &str, currency: &str) -> Option<u64> {
    let decimals = usize::from(minor_units(currency)?);
    let cleaned: String = text.trim().chars().filter(|c| *c != ',').collect();
    let (whole, fraction) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > decimals {
        return None;
    }
    let scale = 10u64.checked_pow(u32::try_from(decimals).ok()?)?;
    let padded = format!("{fraction:0<decimals$}");
    let fraction_minor = if decimals == 0 { 0 } else { padded.parse::<u64>().ok()? };
    let minor = whole
        .parse::<u64>()
        .ok()?
        .checked_mul(scale)?
        .checked_add(fraction_minor)?;
    (minor <= AMOUNT_MAX).then_some(minor)
}

/// A price for the settings' input, without symbol or grouping: `4.50`.
pub fn price_text(minor: u64, currency: &str) -> String {
    decimal_text(minor, currency).unwrap_or_else(|| minor.to_string())
}

/// An article code for a new article named `name`: its letters and digits,
/// made unique among `articles` with a number.
pub fn new_code(name: &str, articles: &[MenuItem]) -> String {
    let base: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .take(24)
        .collect();
    let base = if base.is_empty() { "item".to_string() } else { base };
    let taken = |code: &str| articles.iter().any(|a| a.code == code);
    if !taken(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|code| !taken(code))
        .unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cart_becomes_an_itemized_order_whose_total_adds_up() {
        let articles = default_articles();
        let mut cart = Cart::default();
        cart.add("coffee");
        cart.add("croissant");
        cart.add("coffee");
        let order = cart.order(&articles, "JPY", "pos-1".into()).unwrap();
        assert_eq!(order.items.len(), 2);
        assert_eq!((order.items[0].code.as_str(), order.items[0].quantity), ("coffee", 2));
        assert_eq!(order.total, 2 * 450 + 320);
        assert_eq!(order.tax, 0);
        assert_eq!(
            order.total,
            order.items.iter().map(|i| i.unit_price * i.quantity).sum::<u64>()
        );
    }

    #[test]
    fn removing_the_last_one_drops_the_line() {
        let mut cart = Cart::default();
        cart.add("tea");
        cart.remove("tea");
        cart.remove("tea");
        assert!(cart.is_empty());
        assert_eq!(cart.order(&default_articles(), "JPY", "x".into()), None);
    }

    #[test]
    fn deleted_articles_leave_the_cart() {
        let mut cart = Cart::default();
        cart.add("gone");
        cart.add("water");
        assert_eq!(cart.total(&default_articles()), Some(150));
    }

    #[test]
    fn prices_parse_in_the_currencys_minor_units() {
        assert_eq!(parse_price("1,200", "JPY"), Some(1200));
        assert_eq!(parse_price("4.5", "USD"), Some(450));
        assert_eq!(parse_price("4.50", "USD"), Some(450));
        assert_eq!(parse_price("4", "USD"), Some(400));
        assert_eq!(parse_price("4.5", "JPY"), None);
        assert_eq!(parse_price("4.505", "USD"), None);
        assert_eq!(parse_price("-3", "JPY"), None);
        assert_eq!(parse_price("", "JPY"), None);
        assert_eq!(parse_price("12", "XYZ"), None);
        assert_eq!(price_text(450, "USD"), "4.50");
        assert_eq!(price_text(450, "JPY"), "450");
    }

    #[test]
    fn new_codes_are_unique() {
        let articles = default_articles();
        assert_eq!(new_code("Matcha Latte!", &articles), "matchalatte");
        assert_eq!(new_code("Coffee", &articles), "coffee-2");
        assert_eq!(new_code("抹茶", &articles), "item");
    }
}
