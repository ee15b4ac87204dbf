//! The order both requests carry, its rules (PROTOCOL section 3) and its digest.
//!
//! The settling server settles only when the shop's first request and the
//! buyer's second request describe the same order. An [`Order`] is exactly
//! the object of section 3 (unknown fields are refused, amounts are
//! non-negative integers); [`Order::validate`] applies every rule, and
//! [`Order::digest`] is the `order_digest` both sides compare.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::{join_param, FieldError};
use crate::jcs::write_string;
use crate::money::{check_amount, check_currency, AMOUNT_MAX};

/// Most line items one order may have.
pub const ITEMS_MAX: usize = 500;
/// Most characters (Unicode scalar values) of an item's code or name.
pub const ITEM_TEXT_CHARS_MAX: usize = 200;
/// Most characters of an `order_id`.
pub const ORDER_ID_CHARS_MAX: usize = 64;
/// The prefix of every `order_digest`.
pub const DIGEST_PREFIX: &str = "sha256:";

/// One line of an order: `quantity` units at `unit_price` minor units each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Item {
    /// The shop's product code, 1 to 200 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub code: String,
    /// The product name as the buyer sees it, 1 to 200 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub name: String,
    /// Price of one unit in the currency's minor unit.
    #[cfg_attr(feature = "openapi", schema(maximum = 9_007_199_254_740_991_u64))]
    pub unit_price: u64,
    /// Number of units, at least 1.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 9_007_199_254_740_991_u64))]
    pub quantity: u64,
}

/// The order of PROTOCOL section 3, as the shop and the buyer both state it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Order {
    /// The shop's order number, 1 to 64 of `[A-Za-z0-9._:-]`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9._:-]{1,64}$"))]
    pub order_id: String,
    /// ISO 4217 currency code, e.g. `JPY`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Z]{3}$"))]
    pub currency: String,
    /// The line items, 1 to 500.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 500))]
    pub items: Vec<Item>,
    /// Tax in minor units.
    #[cfg_attr(feature = "openapi", schema(maximum = 9_007_199_254_740_991_u64))]
    pub tax: u64,
    /// Σ `unit_price × quantity` + `tax`, in minor units.
    #[cfg_attr(feature = "openapi", schema(maximum = 9_007_199_254_740_991_u64))]
    pub total: u64,
}

impl Order {
    /// The example order of the wire reference (docs/PROTOCOL.md section 3):
    /// peanut butter and grape jelly, ¥1,155 with tax. For documentation,
    /// examples and tests on either side of the wire.
    pub fn example() -> Order {
        Order {
            order_id: "1234567890".into(),
            currency: "JPY".into(),
            items: vec![
                Item {
                    code: "XXXX".into(),
                    name: "Peanut butter".into(),
                    unit_price: 500,
                    quantity: 1,
                },
                Item {
                    code: "YYYY".into(),
                    name: "Grape jelly".into(),
                    unit_price: 600,
                    quantity: 1,
                },
            ],
            tax: 55,
            total: 1155,
        }
    }

    /// Every rule of PROTOCOL section 3. `prefix` is the param path prefix, e.g. "order" gives params like `order.items[2].quantity`.
    ///
    /// Rules are checked in a fixed order and the first failure is returned:
    /// order_id, currency, item count, each item (code, name, quantity,
    /// amounts), tax, total, then the sum.
    pub fn validate(&self, prefix: &str) -> Result<(), FieldError> {
        check_order_id(&self.order_id, &join_param(prefix, "order_id"))?;
        check_currency(&self.currency, &join_param(prefix, "currency"))?;
        self.validate_items(prefix)?;
        check_amount(self.tax, &join_param(prefix, "tax"))?;
        let total_param = join_param(prefix, "total");
        check_amount(self.total, &total_param)?;
        let Some(computed) = self.computed_total() else {
            return Err(FieldError::new(
                "order_total_overflow",
                total_param,
                format!(
                    "The items and tax of the order add up to more than {AMOUNT_MAX}, the largest amount accepted."
                ),
            ));
        };
        if computed != self.total {
            return Err(FieldError::new(
                "order_total_mismatch",
                total_param.clone(),
                format!(
                    "{total_param} is {} but the items and tax add up to {computed}.",
                    self.total
                ),
            ));
        }
        Ok(())
    }

    fn validate_items(&self, prefix: &str) -> Result<(), FieldError> {
        let items_param = join_param(prefix, "items");
        let count = self.items.len();
        if !(1..=ITEMS_MAX).contains(&count) {
            return Err(FieldError::new(
                "items_count_out_of_range",
                items_param.clone(),
                format!("{items_param} has {count} items but an order must have 1 to {ITEMS_MAX}."),
            ));
        }
        for (index, item) in self.items.iter().enumerate() {
            item.validate(&format!("{items_param}[{index}]"))?;
        }
        Ok(())
    }

    /// "sha256:" + base64url_nopad(SHA-256(JCS(order)))
    pub fn digest(&self) -> String {
        let hash = Sha256::digest(self.canonical_json().as_bytes());
        format!("{DIGEST_PREFIX}{}", URL_SAFE_NO_PAD.encode(hash))
    }

    /// The RFC 8785 canonical JSON of the order (the input of [`Order::digest`]).
    ///
    /// Written directly rather than through [`crate::jcs::canonicalize`] so
    /// that it cannot fail; the member names are ASCII, so their UTF-16 order
    /// is the alphabetical order written here. A test checks that both agree.
    pub fn canonical_json(&self) -> String {
        let mut out = String::with_capacity(128 + 64 * self.items.len());
        out.push_str("{\"currency\":");
        write_string(&mut out, &self.currency);
        out.push_str(",\"items\":[");
        for (index, item) in self.items.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            out.push_str("{\"code\":");
            write_string(&mut out, &item.code);
            out.push_str(",\"name\":");
            write_string(&mut out, &item.name);
            out.push_str(&format!(
                ",\"quantity\":{},\"unit_price\":{}}}",
                item.quantity, item.unit_price
            ));
        }
        out.push_str("],\"order_id\":");
        write_string(&mut out, &self.order_id);
        out.push_str(&format!(",\"tax\":{},\"total\":{}}}", self.tax, self.total));
        out
    }

    /// Σ unit_price×quantity + tax with checked arithmetic; None on overflow of u64 or if the result > AMOUNT_MAX.
    pub fn computed_total(&self) -> Option<u64> {
        let mut sum = self.tax;
        for item in &self.items {
            sum = sum.checked_add(item.unit_price.checked_mul(item.quantity)?)?;
        }
        (sum <= AMOUNT_MAX).then_some(sum)
    }
}

impl Item {
    /// The rules of one line item; `param` is its path, e.g. `order.items[2]`.
    pub fn validate(&self, param: &str) -> Result<(), FieldError> {
        check_text(&self.code, &join_param(param, "code"), "item_code_invalid")?;
        check_text(&self.name, &join_param(param, "name"), "item_name_invalid")?;
        if self.quantity == 0 {
            let quantity_param = join_param(param, "quantity");
            return Err(FieldError::new(
                "quantity_invalid",
                quantity_param.clone(),
                format!("{quantity_param} is 0 but must be at least 1."),
            ));
        }
        check_amount(self.unit_price, &join_param(param, "unit_price"))?;
        check_amount(self.quantity, &join_param(param, "quantity"))?;
        Ok(())
    }
}

/// An item's code or name: 1 to 200 characters.
fn check_text(text: &str, param: &str, code: &'static str) -> Result<(), FieldError> {
    let chars = text.chars().count();
    if (1..=ITEM_TEXT_CHARS_MAX).contains(&chars) {
        return Ok(());
    }
    Err(FieldError::new(
        code,
        param,
        format!("{param} has {chars} characters but must have 1 to {ITEM_TEXT_CHARS_MAX}."),
    ))
}

/// 1..=64 of [A-Za-z0-9._:-], code "order_id_invalid".
pub fn check_order_id(order_id: &str, param: &str) -> Result<(), FieldError> {
    let allowed = |byte: u8| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b':' | b'-');
    let length_ok = (1..=ORDER_ID_CHARS_MAX).contains(&order_id.len());
    if length_ok && order_id.bytes().all(allowed) {
        return Ok(());
    }
    Err(FieldError::new(
        "order_id_invalid",
        param,
        format!("{param} must be 1 to {ORDER_ID_CHARS_MAX} characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'."),
    ))
}

/// "sha256:" + 43 base64url chars (the unpadded encoding of 32 bytes), code
/// "order_digest_invalid". The base64url part must be canonical (decode to
/// exactly 32 bytes), since only a canonical one can ever equal a digest
/// computed by [`Order::digest`].
pub fn check_digest_format(digest: &str, param: &str) -> Result<(), FieldError> {
    let decodes_to_32_bytes = digest
        .strip_prefix(DIGEST_PREFIX)
        .filter(|encoded| encoded.len() == 43)
        .and_then(|encoded| URL_SAFE_NO_PAD.decode(encoded).ok())
        .is_some_and(|bytes| bytes.len() == 32);
    if decodes_to_32_bytes {
        return Ok(());
    }
    Err(FieldError::new(
        "order_digest_invalid",
        param,
        format!("{param} must be \"sha256:\" followed by the 43-character unpadded base64url SHA-256 of the order's canonical JSON."),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Order {
        Order::example()
    }

    fn error_of(order: &Order) -> FieldError {
        order.validate("order").unwrap_err()
    }

    #[test]
    fn sample_order_is_valid_with_the_section_3_digest() {
        let order = sample();
        assert_eq!(order.validate("order"), Ok(()));
        assert_eq!(order.digest(), "sha256:EdKlC2eQqXmTeFft-_wipSwU4xTNgrjLSpMCL1TlmaE");
    }

    #[test]
    fn canonical_json_agrees_with_generic_jcs() {
        let mut order = sample();
        order.items[1].name = "\"quoted\" \\ \u{1}\n注文 \u{7F}".into();
        order.order_id = "x".into();
        let value = serde_json::to_value(&order).unwrap();
        assert_eq!(order.canonical_json(), crate::jcs::canonicalize(&value).unwrap());
    }

    #[test]
    fn order_id_rules() {
        let mut order = sample();
        for bad in ["", "has space", "ja.注文", "slash/", &"a".repeat(65)] {
            order.order_id = bad.to_owned();
            let error = error_of(&order);
            assert_eq!(error.code, "order_id_invalid", "{bad:?}");
            assert_eq!(error.param, "order.order_id");
        }
        for good in ["A-42", "big:1", "a.b_c:d-e", &"a".repeat(64)] {
            order.order_id = good.to_owned();
            assert_eq!(order.validate("order"), Ok(()), "{good:?}");
        }
    }

    #[test]
    fn currency_must_be_known() {
        let mut order = sample();
        order.currency = "jpy".into();
        let error = error_of(&order);
        assert_eq!(
            (error.code, error.param.as_str()),
            ("currency_invalid", "order.currency")
        );
    }

    #[test]
    fn item_count_must_be_1_to_500() {
        let mut order = sample();
        order.items.clear();
        let error = error_of(&order);
        assert_eq!(
            (error.code, error.param.as_str()),
            ("items_count_out_of_range", "order.items")
        );

        let item = Item {
            code: "c".into(),
            name: "n".into(),
            unit_price: 1,
            quantity: 1,
        };
        order.items = vec![item; 501];
        order.tax = 0;
        order.total = 501;
        assert_eq!(error_of(&order).code, "items_count_out_of_range");
        order.items.pop();
        order.total = 500;
        assert_eq!(order.validate("order"), Ok(()));
    }

    #[test]
    fn item_code_and_name_count_characters_not_bytes() {
        let mut order = sample();
        order.items[1].code = "注".repeat(200); // 600 bytes, 200 characters
        order.items[1].name = "ゼ".repeat(200);
        assert_eq!(order.validate("order"), Ok(()));

        order.items[1].code = "注".repeat(201);
        let error = error_of(&order);
        assert_eq!(
            (error.code, error.param.as_str()),
            ("item_code_invalid", "order.items[1].code")
        );

        order.items[1].code = String::new();
        assert_eq!(error_of(&order).code, "item_code_invalid");

        order.items[1].code = "ok".into();
        order.items[1].name = String::new();
        let error = error_of(&order);
        assert_eq!(
            (error.code, error.param.as_str()),
            ("item_name_invalid", "order.items[1].name")
        );
        order.items[1].name = "x".repeat(201);
        assert_eq!(error_of(&order).code, "item_name_invalid");
    }

    #[test]
    fn quantity_must_be_at_least_one() {
        let mut order = sample();
        order.items[0].quantity = 0;
        let error = error_of(&order);
        assert_eq!(
            (error.code, error.param.as_str()),
            ("quantity_invalid", "order.items[0].quantity")
        );
    }

    #[test]
    fn amounts_must_not_exceed_the_maximum() {
        let mut order = sample();
        order.items[0].unit_price = AMOUNT_MAX + 1;
        let error = error_of(&order);
        assert_eq!(
            (error.code, error.param.as_str()),
            ("amount_out_of_range", "order.items[0].unit_price")
        );

        let mut order = sample();
        order.items[0].quantity = AMOUNT_MAX + 1;
        let error = error_of(&order);
        assert_eq!(
            (error.code, error.param.as_str()),
            ("amount_out_of_range", "order.items[0].quantity")
        );

        let mut order = sample();
        order.tax = AMOUNT_MAX + 1;
        let error = error_of(&order);
        assert_eq!((error.code, error.param.as_str()), ("amount_out_of_range", "order.tax"));

        let mut order = sample();
        order.total = u64::MAX;
        let error = error_of(&order);
        assert_eq!(
            (error.code, error.param.as_str()),
            ("amount_out_of_range", "order.total")
        );
    }

    #[test]
    fn sums_beyond_the_maximum_are_overflow_not_wraparound() {
        let mut order = sample();
        // Each factor is in range but the product overflows u64.
        order.items[0].unit_price = AMOUNT_MAX;
        order.items[0].quantity = AMOUNT_MAX;
        assert_eq!(order.computed_total(), None);
        let error = error_of(&order);
        assert_eq!(
            (error.code, error.param.as_str()),
            ("order_total_overflow", "order.total")
        );

        // The sum fits in u64 but exceeds 2^53 - 1.
        let mut order = sample();
        order.items[0].unit_price = AMOUNT_MAX;
        order.items[0].quantity = 1;
        assert_eq!(order.computed_total(), None);
        assert_eq!(error_of(&order).code, "order_total_overflow");
    }

    #[test]
    fn computed_total_reaches_exactly_the_maximum() {
        let mut order = sample();
        order.items = vec![Item {
            code: "x".into(),
            name: "x".into(),
            unit_price: AMOUNT_MAX - 1,
            quantity: 1,
        }];
        order.tax = 1;
        assert_eq!(order.computed_total(), Some(AMOUNT_MAX));
    }

    #[test]
    fn total_mismatch_says_both_numbers() {
        let mut order = sample();
        order.total = 1000;
        let error = error_of(&order);
        assert_eq!(
            (error.code, error.param.as_str()),
            ("order_total_mismatch", "order.total")
        );
        assert_eq!(
            error.message,
            "order.total is 1000 but the items and tax add up to 1155."
        );
    }

    #[test]
    fn first_failure_wins() {
        let mut order = sample();
        order.order_id = String::new();
        order.currency = "???".into();
        order.total = 1;
        assert_eq!(error_of(&order).code, "order_id_invalid");
        order.order_id = "ok".into();
        assert_eq!(error_of(&order).code, "currency_invalid");
    }

    #[test]
    fn empty_prefix_gives_bare_params() {
        let mut order = sample();
        order.items[1].quantity = 0;
        assert_eq!(order.validate("").unwrap_err().param, "items[1].quantity");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let json = r#"{"order_id":"1","currency":"JPY","items":[{"code":"a","name":"b","unit_price":1,"quantity":1}],"tax":0,"total":1,"note":"x"}"#;
        assert!(serde_json::from_str::<Order>(json).is_err());
        let json = r#"{"order_id":"1","currency":"JPY","items":[{"code":"a","name":"b","unit_price":1,"quantity":1,"sku":"x"}],"tax":0,"total":1}"#;
        assert!(serde_json::from_str::<Order>(json).is_err());
        let json = r#"{"order_id":"1","currency":"JPY","items":[{"code":"a","name":"b","unit_price":1,"quantity":1}],"tax":0,"total":1}"#;
        assert!(serde_json::from_str::<Order>(json).is_ok());
    }

    #[test]
    fn negative_and_fractional_numbers_are_refused() {
        for (unit_price, tax) in [("-1", "0"), ("1.5", "0"), ("1.0", "0"), ("1", "-0.5"), ("1e2", "0")] {
            let json = format!(
                r#"{{"order_id":"1","currency":"JPY","items":[{{"code":"a","name":"b","unit_price":{unit_price},"quantity":1}}],"tax":{tax},"total":1}}"#
            );
            assert!(serde_json::from_str::<Order>(&json).is_err(), "{json}");
        }
    }

    #[test]
    fn missing_fields_are_refused() {
        let json = r#"{"order_id":"1","currency":"JPY","items":[],"tax":0}"#;
        assert!(serde_json::from_str::<Order>(json).is_err());
    }

    #[test]
    fn digest_format() {
        let digest = sample().digest();
        assert_eq!(check_digest_format(&digest, "order_digest"), Ok(()));
        let bad = [
            "",
            "sha256:",
            "sha1:EdKlC2eQqXmTeFft-_wipSwU4xTNgrjLSpMCL1TlmaE",
            "SHA256:EdKlC2eQqXmTeFft-_wipSwU4xTNgrjLSpMCL1TlmaE",
            "sha256:EdKlC2eQqXmTeFft-_wipSwU4xTNgrjLSpMCL1TlmaE=",
            "sha256:EdKlC2eQqXmTeFft+/wipSwU4xTNgrjLSpMCL1TlmaE",
            "sha256:EdKlC2eQqXmTeFft-_wipSwU4xTNgrjLSpMCL1TlmaF", // non-canonical last symbol
            "sha256:EdKlC2eQqXmTeFft-_wipSwU4xTNgrjLSpMCL1Tlma",
        ];
        for digest in bad {
            let error = check_digest_format(digest, "order_digest").unwrap_err();
            assert_eq!(
                (error.code, error.param.as_str()),
                ("order_digest_invalid", "order_digest"),
                "{digest:?}"
            );
        }
    }
}
