//! Collation (seed 003, 照合): the settling server settles only when the
//! shop's first request and the buyer's second request agree on the order.
//! Pure: no I/O, so every rule is unit-tested here.

use kessai_protocol::Order;

/// What the shop said about the order in its first request.
#[derive(Debug, Clone)]
pub struct MerchantSide<'a> {
    pub order_id: &'a str,
    pub currency: &'a str,
    pub total: u64,
    pub order_digest: &'a str,
    /// Present in the full form; absent in the digest-only form.
    pub order: Option<&'a Order>,
    /// The settling server assigned `order_id` (A13, paragraph 0027): the
    /// shop made its digest before the id existed, with `"order_id": ""`.
    pub order_id_assigned: bool,
}

/// The names of the fields on which the two requests differ; empty means
/// they agree and the settlement may proceed (A4).
pub fn collate(merchant: &MerchantSide<'_>, payer: &Order) -> Vec<&'static str> {
    let mut differ = Vec::new();
    if merchant.order_id != payer.order_id {
        differ.push("order_id");
    }
    if merchant.currency != payer.currency {
        differ.push("currency");
    }
    if merchant.total != payer.total {
        differ.push("total");
    }
    if let Some(order) = merchant.order {
        if order.items != payer.items {
            differ.push("items");
        }
        if order.tax != payer.tax {
            differ.push("tax");
        }
    }
    // The digest covers everything, including names and codes the shop did
    // not reveal in the digest-only form. The order id was compared above.
    let payer_digest = if merchant.order_id_assigned {
        Order {
            order_id: String::new(),
            ..payer.clone()
        }
        .digest()
    } else {
        payer.digest()
    };
    if merchant.order_digest != payer_digest {
        differ.push("order_digest");
    }
    differ
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> Order {
        Order::example()
    }

    fn side(o: &Order) -> MerchantSide<'_> {
        MerchantSide {
            order_id: &o.order_id,
            currency: &o.currency,
            total: o.total,
            order_digest: "",
            order: Some(o),
            order_id_assigned: false,
        }
    }

    #[test]
    fn identical_orders_agree() {
        // A4
        let o = order();
        let digest = o.digest();
        let m = MerchantSide {
            order_digest: &digest,
            ..side(&o)
        };
        assert!(collate(&m, &o).is_empty());
    }

    #[test]
    fn other_quantity_with_same_total_is_a_mismatch() {
        let o = order();
        let digest = o.digest();
        let mut p = o.clone();
        p.items[0].quantity = 2;
        p.items[1].unit_price = 100;
        assert_eq!(p.total, o.total);
        let m = MerchantSide {
            order_digest: &digest,
            ..side(&o)
        };
        assert_eq!(collate(&m, &p), vec!["items", "order_digest"]);
    }

    #[test]
    fn digest_only_form_catches_changed_names() {
        // A13: the shop sent only the digest; a renamed item still differs.
        let o = order();
        let digest = o.digest();
        let m = MerchantSide {
            order: None,
            order_digest: &digest,
            ..side(&o)
        };
        let mut p = o.clone();
        p.items[1].name = "Strawberry jam".into();
        assert_eq!(collate(&m, &p), vec!["order_digest"]);
    }

    #[test]
    fn assigned_order_id_is_left_out_of_the_digest_but_still_compared() {
        // A13: the shop hashed the order with an empty order_id.
        let mut o = order();
        o.order_id = String::new();
        let digest = o.digest();
        let mut p = o.clone();
        p.order_id = "kessai-abc".into();
        let m = MerchantSide {
            order_id: "kessai-abc",
            order: None,
            order_digest: &digest,
            order_id_assigned: true,
            ..side(&o)
        };
        assert!(collate(&m, &p).is_empty());
        p.order_id = "kessai-other".into();
        assert_eq!(collate(&m, &p), vec!["order_id"]);
        p.order_id = "kessai-abc".into();
        p.tax += 1;
        p.total += 1;
        assert_eq!(collate(&m, &p), vec!["total", "order_digest"]);
    }

    #[test]
    fn other_total_and_currency_are_named() {
        let o = order();
        let digest = o.digest();
        let m = MerchantSide {
            order_digest: &digest,
            ..side(&o)
        };
        let mut p = o.clone();
        p.total = 1;
        p.currency = "USD".into();
        assert_eq!(collate(&m, &p), vec!["currency", "total", "order_digest"]);
    }
}
