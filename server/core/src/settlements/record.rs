//! One row of `settlements` as a Rust value, and the SQL that reads and
//! writes it. The only place that knows how statuses, codes, lists and
//! money are spelled in the database.

use std::sync::OnceLock;

use kessai_protocol::api::{DeclineCode, PaymentType, Status};
use kessai_protocol::money::Money;
use kessai_protocol::Order;

use crate::args;
use crate::error::{Error, Result};
use crate::store::{Conn, Reader, Row, Value};

pub const COLUMNS: &str = "id, merchant_id, order_id, currency, total, order_digest, order_json, payer_order_json, \
    status, decline_code, mismatched_fields, merchant_request_at, notify_url, return_url, brands, payment_type, \
    card_brand, card_last4, payer_account_id, user_id, hold_id, refunded, result_jti, created_at, expires_at, \
    settled_at, updated_at, cooling_off_s, capture_at, order_id_assigned, min_age";

/// Columns fixed when the settlement is created: `save` leaves them (and
/// their index entries) alone.
const IMMUTABLE: [&str; 9] = [
    "id",
    "merchant_id",
    "order_id",
    "currency",
    "total",
    "order_digest",
    "payer_order_json",
    "created_at",
    "order_id_assigned",
];

/// One settlement.
#[derive(Debug, Clone)]
pub struct Record {
    pub id: String,
    pub merchant_id: String,
    pub order_id: String,
    /// The order's total, in its currency.
    pub amount: Money,
    pub order_digest: String,
    /// The shop's order, when it sent the items (not only a digest).
    pub order_json: Option<String>,
    /// The buyer's order of a payer-first request.
    pub payer_order_json: Option<String>,
    pub status: Status,
    pub decline_code: Option<DeclineCode>,
    /// The fields that differed, when `mismatched`.
    pub mismatched_fields: Vec<String>,
    /// When the shop's first request arrived (None: payer-first, not yet).
    pub merchant_request_at: Option<i64>,
    pub notify_url: Option<String>,
    pub return_url: Option<String>,
    /// Brands the shop accepts; None: any.
    pub brands: Option<Vec<String>>,
    pub payment_type: Option<PaymentType>,
    pub card_brand: Option<String>,
    pub card_last4: Option<String>,
    pub payer_account_id: Option<String>,
    pub user_id: Option<String>,
    pub hold_id: Option<String>,
    /// What has been refunded so far, in the settlement's currency.
    pub refunded: Money,
    pub result_jti: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub settled_at: Option<i64>,
    pub updated_at: i64,
    /// Cooling-off period (C7): funds stay held this long before they move.
    pub cooling_off_s: Option<i64>,
    /// When a `held` settlement's funds move to the merchant.
    pub capture_at: Option<i64>,
    /// The settling server assigned `order_id` (A13).
    pub order_id_assigned: bool,
    /// The shop's age restriction (C8): the payer must be at least this old
    /// by the birth date the institution holds.
    pub min_age: Option<u32>,
}

impl Record {
    /// A settlement as it starts: nothing decided, nothing paid, nothing
    /// refunded. The operations set what they know.
    pub fn new(
        id: String,
        merchant_id: &str,
        order_id: String,
        amount: Money,
        order_digest: String,
        status: Status,
        now: i64,
    ) -> Self {
        Self {
            id,
            merchant_id: merchant_id.to_string(),
            order_id,
            refunded: amount.zero_like(),
            amount,
            order_digest,
            order_json: None,
            payer_order_json: None,
            status,
            decline_code: None,
            mismatched_fields: Vec::new(),
            merchant_request_at: None,
            notify_url: None,
            return_url: None,
            brands: None,
            payment_type: None,
            card_brand: None,
            card_last4: None,
            payer_account_id: None,
            user_id: None,
            hold_id: None,
            result_jti: None,
            created_at: now,
            expires_at: now,
            settled_at: None,
            updated_at: now,
            cooling_off_s: None,
            capture_at: None,
            order_id_assigned: false,
            min_age: None,
        }
    }

    pub fn from_row(r: &Row) -> Result<Self> {
        let id: String = r.try_get("id")?;
        let currency: String = r.try_get("currency")?;
        let money = |column: &str| -> Result<Money> {
            let minor: i64 = r.try_get(column)?;
            u64::try_from(minor)
                .ok()
                .and_then(|m| Money::new(m, &currency, column).ok())
                .ok_or_else(|| Error::internal(format!("settlement {id}: {column} {minor} {currency:?} is not money")))
        };
        let text = |column: &str| r.try_get::<Option<String>>(column);
        Ok(Self {
            merchant_id: r.try_get("merchant_id")?,
            order_id: r.try_get("order_id")?,
            amount: money("total")?,
            refunded: money("refunded")?,
            order_digest: r.try_get("order_digest")?,
            order_json: text("order_json")?,
            payer_order_json: text("payer_order_json")?,
            status: decode(&id, "status", Some(r.try_get("status")?), Status::parse)?
                .ok_or_else(|| Error::internal(format!("settlement {id} without a status")))?,
            decline_code: decode(&id, "decline_code", text("decline_code")?, DeclineCode::parse)?,
            payment_type: decode(&id, "payment_type", text("payment_type")?, PaymentType::parse)?,
            mismatched_fields: text("mismatched_fields")?
                .map(|f| f.split(',').filter(|n| !n.is_empty()).map(String::from).collect())
                .unwrap_or_default(),
            merchant_request_at: r.try_get("merchant_request_at")?,
            notify_url: text("notify_url")?,
            return_url: text("return_url")?,
            brands: text("brands")?.map(|j| serde_json::from_str(&j)).transpose()?,
            card_brand: text("card_brand")?,
            card_last4: text("card_last4")?,
            payer_account_id: text("payer_account_id")?,
            user_id: text("user_id")?,
            hold_id: text("hold_id")?,
            result_jti: text("result_jti")?,
            created_at: r.try_get("created_at")?,
            expires_at: r.try_get("expires_at")?,
            settled_at: r.try_get("settled_at")?,
            updated_at: r.try_get("updated_at")?,
            cooling_off_s: r.try_get("cooling_off_s")?,
            capture_at: r.try_get("capture_at")?,
            order_id_assigned: r.try_get::<i64>("order_id_assigned")? != 0,
            min_age: r
                .try_get::<Option<i64>>("min_age")?
                .map(|a| u32::try_from(a).map_err(|_| Error::internal(format!("settlement {id}: min_age {a}"))))
                .transpose()?,
            id,
        })
    }

    /// Every column with its value, in `COLUMNS` order: the one list both
    /// `insert` and `save` are made from.
    fn columns(&self) -> Result<[(&'static str, Value); 31]> {
        let brands = self.brands.as_ref().map(serde_json::to_string).transpose()?;
        let mismatched = (!self.mismatched_fields.is_empty()).then(|| self.mismatched_fields.join(","));
        Ok([
            ("id", (&self.id).into()),
            ("merchant_id", (&self.merchant_id).into()),
            ("order_id", (&self.order_id).into()),
            ("currency", self.amount.currency().into()),
            ("total", self.amount.minor_i64().into()),
            ("order_digest", (&self.order_digest).into()),
            ("order_json", (&self.order_json).into()),
            ("payer_order_json", (&self.payer_order_json).into()),
            ("status", self.status.as_str().into()),
            ("decline_code", self.decline_code.map(DeclineCode::as_str).into()),
            ("mismatched_fields", mismatched.into()),
            ("merchant_request_at", self.merchant_request_at.into()),
            ("notify_url", (&self.notify_url).into()),
            ("return_url", (&self.return_url).into()),
            ("brands", brands.into()),
            ("payment_type", self.payment_type.map(PaymentType::as_str).into()),
            ("card_brand", (&self.card_brand).into()),
            ("card_last4", (&self.card_last4).into()),
            ("payer_account_id", (&self.payer_account_id).into()),
            ("user_id", (&self.user_id).into()),
            ("hold_id", (&self.hold_id).into()),
            ("refunded", self.refunded.minor_i64().into()),
            ("result_jti", (&self.result_jti).into()),
            ("created_at", self.created_at.into()),
            ("expires_at", self.expires_at.into()),
            ("settled_at", self.settled_at.into()),
            ("updated_at", self.updated_at.into()),
            ("cooling_off_s", self.cooling_off_s.into()),
            ("capture_at", self.capture_at.into()),
            ("order_id_assigned", i64::from(self.order_id_assigned).into()),
            ("min_age", self.min_age.map(i64::from).into()),
        ])
    }

    /// The shop's order, when it sent one.
    pub fn order(&self) -> Result<Option<Order>> {
        parse_order(self.order_json.as_deref())
    }

    /// The buyer's order of a payer-first request.
    pub fn payer_order(&self) -> Result<Option<Order>> {
        parse_order(self.payer_order_json.as_deref())
    }

    /// Whether the card's brand is one the shop accepts (any, if it named none).
    pub fn brand_accepted(&self) -> bool {
        match (&self.brands, &self.card_brand) {
            (Some(brands), Some(brand)) => brands.iter().any(|b| b == brand),
            _ => true,
        }
    }
}

/// A stored enum value, or an internal error naming the row if the database
/// holds a spelling this code does not know.
fn decode<T>(id: &str, column: &str, text: Option<String>, parse: fn(&str) -> Option<T>) -> Result<Option<T>> {
    text.map(|t| parse(&t).ok_or_else(|| Error::internal(format!("settlement {id}: unknown {column} {t:?}"))))
        .transpose()
}

fn parse_order(json: Option<&str>) -> Result<Option<Order>> {
    Ok(json.map(serde_json::from_str).transpose()?)
}

pub async fn get(conn: &mut Conn, id: &str) -> Result<Option<Record>> {
    let row = conn
        .fetch_optional(&format!("SELECT {COLUMNS} FROM settlements WHERE id = $1"), args![id])
        .await?;
    row.as_ref().map(Record::from_row).transpose()
}

pub async fn get_pooled(pool: &Reader, id: &str) -> Result<Option<Record>> {
    let sql = format!("SELECT {COLUMNS} FROM settlements WHERE id = $1");
    let row = crate::store::pool_optional(pool, &sql, args![id]).await?;
    row.as_ref().map(Record::from_row).transpose()
}

/// The shop's settlement for an order id, if it has one: at most one, by
/// the unique index `settlements_merchant_order`.
pub(super) async fn merchant_order(conn: &mut Conn, merchant_id: &str, order_id: &str) -> Result<Option<Record>> {
    by_order(conn, merchant_id, order_id, "merchant_request_at IS NOT NULL").await
}

/// Whether the merchant already has a settlement (its own request) for an order id.
pub async fn merchant_order_exists(conn: &mut Conn, merchant_id: &str, order_id: &str) -> Result<bool> {
    Ok(merchant_order(conn, merchant_id, order_id).await?.is_some())
}

/// The payer-first attempt for an order id still waiting for the shop: at
/// most one, by the unique index `settlements_payer_first_order`. Attempts
/// that ended (declined, mismatched, expired) hold on to no order id.
pub(super) async fn live_payer_first(conn: &mut Conn, merchant_id: &str, order_id: &str) -> Result<Option<Record>> {
    by_order(conn, merchant_id, order_id, "status = 'awaiting_merchant'").await
}

/// `condition` is one of the two partial indexes' predicates, so that the
/// lookup uses that index.
async fn by_order(
    conn: &mut Conn,
    merchant_id: &str,
    order_id: &str,
    condition: &'static str,
) -> Result<Option<Record>> {
    let row = conn
        .fetch_optional(
            &format!("SELECT {COLUMNS} FROM settlements WHERE merchant_id = $1 AND order_id = $2 AND {condition}"),
            args![merchant_id, order_id],
        )
        .await?;
    row.as_ref().map(Record::from_row).transpose()
}

/// The claim: a conditional UPDATE that only one step can win, whatever
/// runs concurrently (on PostgreSQL the row lock makes a loser re-check the
/// condition after the winner commits). `condition` is a fixed SQL fragment
/// over the row, with `$2` = now.
pub(super) async fn claim(conn: &mut Conn, id: &str, condition: &'static str, now: i64) -> Result<Option<Record>> {
    let row = conn
        .fetch_optional(
            &format!("UPDATE settlements SET updated_at = $2 WHERE id = $1 AND {condition} RETURNING {COLUMNS}"),
            args![id, now],
        )
        .await?;
    row.as_ref().map(Record::from_row).transpose()
}

/// Writes every mutable column of `rec` back: one statement per transition.
pub(super) async fn save(conn: &mut Conn, rec: &Record) -> Result<()> {
    static SQL: OnceLock<String> = OnceLock::new();
    let columns = rec.columns()?;
    let mutable = || columns.iter().filter(|(name, _)| !IMMUTABLE.contains(name));
    let sql = SQL.get_or_init(|| {
        let sets: Vec<String> = mutable()
            .enumerate()
            .map(|(i, (name, _))| format!("{name} = ${}", i + 2))
            .collect();
        format!("UPDATE settlements SET {} WHERE id = $1", sets.join(", "))
    });
    let mut args = args![&rec.id];
    args.extend(mutable().map(|(_, value)| value.clone()));
    conn.execute(sql, args).await?;
    Ok(())
}

/// Inserts a new settlement. The unique indexes on (merchant, order id), one
/// for the shop's settlements and one for live payer-first attempts, are the
/// last word when two requests for one order race on PostgreSQL with several
/// servers: the loser gets the 409 the early check gives, not a 500.
pub(super) async fn insert(conn: &mut Conn, rec: &Record) -> Result<()> {
    static SQL: OnceLock<String> = OnceLock::new();
    let columns = rec.columns()?;
    let sql = SQL.get_or_init(|| {
        let places: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
        format!("INSERT INTO settlements ({COLUMNS}) VALUES ({})", places.join(", "))
    });
    match conn
        .execute(sql, columns.into_iter().map(|(_, value)| value).collect())
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if crate::store::is_unique_violation(&e) => Err(order_id_in_use(&rec.order_id)),
        Err(e) => Err(e.into()),
    }
}

/// The merchant already has a settlement for this order id.
pub(super) fn order_id_in_use(order_id: &str) -> Error {
    Error::Conflict {
        code: "order_id_in_use",
        message: format!("This merchant already has a settlement for order_id {order_id:?}."),
        param: Some("order.order_id".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        let amount = Money::new(1155, "JPY", "total").unwrap();
        Record::new(
            "stl_x".into(),
            "mch_x",
            "o".into(),
            amount,
            "sha256:x".into(),
            Status::AwaitingPayer,
            0,
        )
    }

    #[test]
    fn the_column_list_matches_the_select_list() {
        let names: Vec<&str> = record().columns().unwrap().iter().map(|(n, _)| *n).collect();
        let select: Vec<&str> = COLUMNS.split(',').map(str::trim).collect();
        assert_eq!(names, select);
        assert!(IMMUTABLE.iter().all(|c| names.contains(c)));
    }

    #[test]
    fn lists_and_enums_are_spelled_for_the_database_here_only() {
        let mut rec = record();
        rec.status = Status::Mismatched;
        rec.mismatched_fields = vec!["total".into(), "items".into()];
        rec.brands = Some(vec!["kessai-card".into()]);
        rec.decline_code = Some(DeclineCode::IncorrectCvc);
        let columns = rec.columns().unwrap();
        let value = |name: &str| {
            columns
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(value("status"), Value::from("mismatched"));
        assert_eq!(value("mismatched_fields"), Value::from("total,items"));
        assert_eq!(value("brands"), Value::from("[\"kessai-card\"]"));
        assert_eq!(value("decline_code"), Value::from("incorrect_cvc"));
        assert_eq!(value("total"), Value::from(1155_i64));
    }

    #[test]
    fn brands_accept_any_card_when_the_shop_named_none() {
        let mut rec = record();
        rec.card_brand = Some("fuji-card".into());
        assert!(rec.brand_accepted());
        rec.brands = Some(vec!["kessai-card".into()]);
        assert!(!rec.brand_accepted());
        rec.card_brand = Some("kessai-card".into());
        assert!(rec.brand_accepted());
    }
}
