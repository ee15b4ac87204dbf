//! The life of a terminal transaction (D1 to D3, D8 to D11): opened by a
//! billing terminal with a number, synchronized by the payer who sends the
//! number, perhaps ordered from a menu and challenged for a PIN, then
//! confirmed by the payer for exactly the amount shown, or canceled, or
//! expired. Every function runs inside a writer step and locks the
//! transaction first, so two phones, or a phone and the clerk, take turns.

use kessai_protocol::api::{DeclineCode, Restrictions, Status};
use kessai_protocol::money::{check_amount, check_currency, Money};
use kessai_protocol::terminal::{
    Challenge, ChallengeKind, ChallengeStatus, CreateTransaction, Menu, OrderLine, ReceiptLine, TerminalKind,
    TerminalReceipt, TicketSpec, TransactionStatus, NUMBER_TTL_DEFAULT_S, NUMBER_TTL_MAX_S,
};
use kessai_protocol::{Item, Order};

use super::numbers;
use super::passes::Passes;
use super::record::{self, by_open_number, insert, lock, save, Purpose, Txn};
use super::registry::Terminal;
use super::{tickets, vending};
use crate::error::{Error, Result};
use crate::instruments::Resolved;
use crate::invariant;
use crate::merchants::Merchant;
use crate::settlements::{self, NewSettlement, Record};
use crate::store::Conn;

/// The shortest time a number may be asked to live.
const NUMBER_TTL_MIN_S: i64 = 30;
/// Once synchronized, the payer has at least this long to confirm.
const CONFIRM_GRACE_S: i64 = 300;
/// Wrong PINs before a challenge fails for good.
pub const PIN_TRIES_MAX: i64 = 3;
/// Articles a menu may offer, and lines an order from it may have.
const MENU_ITEMS_MAX: usize = 200;
/// Units of one article per order.
const QUANTITY_MAX: u64 = 999;
/// The oldest age a restriction may ask for; more is a mistake.
const MIN_AGE_MAX: u32 = 150;

/// What a terminal asks for, checked.
#[derive(Debug, Clone)]
pub struct NewSale {
    pub currency: String,
    pub amount: Option<u64>,
    pub order: Option<Order>,
    pub menu: Option<Menu>,
    pub ttl_s: i64,
    pub min_age: Option<u32>,
    /// A ticket to sell (C9): only a `ticket` terminal may.
    pub ticket: Option<TicketSpec>,
}

/// Seconds a number may live, as a terminal asks (default 300).
pub fn check_ttl(expires_in: Option<i64>) -> Result<i64> {
    let ttl_s = expires_in.unwrap_or(NUMBER_TTL_DEFAULT_S);
    if !(NUMBER_TTL_MIN_S..=NUMBER_TTL_MAX_S).contains(&ttl_s) {
        return Err(Error::field(
            "expires_in_out_of_range",
            "expires_in",
            format!("expires_in must be {NUMBER_TTL_MIN_S} to {NUMBER_TTL_MAX_S} seconds."),
        ));
    }
    Ok(ttl_s)
}

/// The age restriction asked for; a terminal transaction takes no
/// cooling-off period.
fn check_restrictions(restrictions: Option<&Restrictions>) -> Result<Option<u32>> {
    if restrictions.is_some_and(|r| r.cooling_off_s.is_some()) {
        return Err(Error::field(
            "restriction_unsupported",
            "restrictions.cooling_off_s",
            "A terminal transaction is paid at once; it takes no cooling-off period.",
        ));
    }
    let min_age = restrictions.and_then(|r| r.min_age);
    if min_age.is_some_and(|a| a > MIN_AGE_MAX) {
        return Err(Error::field(
            "min_age_out_of_range",
            "restrictions.min_age",
            format!("restrictions.min_age must be 0 to {MIN_AGE_MAX} years."),
        ));
    }
    Ok(min_age)
}

/// Checks `POST /v1/terminal/transactions`: exactly one of an amount, an
/// order or a menu, each by the rules of its kind.
pub fn prepare(req: CreateTransaction) -> Result<NewSale> {
    let ttl_s = check_ttl(req.expires_in)?;
    let min_age = check_restrictions(req.restrictions.as_ref())?;
    if let Some(ticket) = &req.ticket {
        tickets::check(ticket)?;
    }
    let ticket = req.ticket;
    let modes = usize::from(req.amount.is_some()) + usize::from(req.order.is_some()) + usize::from(req.menu.is_some());
    if modes != 1 {
        return Err(Error::field(
            "transaction_kind_invalid",
            "amount",
            "Send exactly one of amount (with currency), order or menu.",
        ));
    }
    let sale = |currency: String, amount, order, menu| NewSale {
        currency,
        amount,
        order,
        menu,
        ttl_s,
        min_age,
        ticket: ticket.clone(),
    };
    if let Some(order) = req.order {
        order.validate("order")?;
        if req.currency.as_ref().is_some_and(|c| c != &order.currency) {
            return Err(Error::field(
                "currency_mismatch",
                "currency",
                "currency must be the order's.",
            ));
        }
        return Ok(sale(order.currency.clone(), Some(order.total), Some(order), None));
    }
    if let Some(menu) = req.menu {
        check_menu(&menu)?;
        return Ok(sale(menu.currency.clone(), None, None, Some(menu)));
    }
    let amount = req.amount.unwrap_or_default();
    let currency = req
        .currency
        .ok_or_else(|| Error::field("currency_missing", "currency", "An amount needs its currency."))?;
    check_currency(&currency, "currency")?;
    check_amount(amount, "amount")?;
    if amount == 0 {
        return Err(Error::field(
            "amount_out_of_range",
            "amount",
            "amount must be more than 0.",
        ));
    }
    Ok(sale(currency, Some(amount), None, None))
}

fn check_menu(menu: &Menu) -> Result<()> {
    check_currency(&menu.currency, "menu.currency")?;
    if !(1..=MENU_ITEMS_MAX).contains(&menu.items.len()) {
        return Err(Error::field(
            "items_count_out_of_range",
            "menu.items",
            format!("A menu has 1 to {MENU_ITEMS_MAX} articles."),
        ));
    }
    let mut codes = std::collections::HashSet::new();
    for (i, item) in menu.items.iter().enumerate() {
        // The same rules as an order's items, so any choice makes a valid order.
        let as_item = Item {
            code: item.code.clone(),
            name: item.name.clone(),
            unit_price: item.unit_price,
            quantity: 1,
        };
        as_item.validate(&format!("menu.items[{i}]"))?;
        if !codes.insert(item.code.as_str()) {
            return Err(Error::field(
                "menu_code_duplicate",
                &format!("menu.items[{i}].code"),
                "Each article of a menu needs its own code.",
            ));
        }
    }
    Ok(())
}

/// The order id a sale settles under: the terminal's own order's, or one
/// made from the transaction id (order ids take no `_`).
pub fn order_id_of(txn_id: &str) -> String {
    format!(
        "pos-{}",
        txn_id.trim_start_matches(kessai_protocol::terminal::TRANSACTION_PREFIX)
    )
}

/// A number no open transaction has: a live holder means draw again; one
/// past its time is closed here so that its number is free.
pub(super) async fn free_number(conn: &mut Conn, now: i64) -> Result<String> {
    for _ in 0..16 {
        let number = numbers::random();
        match by_open_number(conn, &number).await? {
            None => return Ok(number),
            Some(mut stale) if stale.expires_at <= now => {
                stale.status = TransactionStatus::Expired;
                stale.updated_at = now;
                save(conn, &mut stale).await?;
                return Ok(number);
            }
            Some(_) => continue,
        }
    }
    Err(Error::Unavailable {
        code: "numbers_exhausted",
        message: "No free transaction number was found; try again.".into(),
    })
}

pub(super) fn blank(
    id: String,
    purpose: Purpose,
    merchant_id: &str,
    number: String,
    currency: String,
    now: i64,
) -> Txn {
    Txn {
        id,
        purpose,
        terminal_id: None,
        merchant_id: merchant_id.to_string(),
        settlement_id: None,
        number,
        status: TransactionStatus::AwaitingPayer,
        currency,
        amount: None,
        order: None,
        menu: None,
        min_age: None,
        payer_user_id: None,
        challenge: None,
        challenge_failures: 0,
        decline_code: None,
        receipt: None,
        ticket: None,
        expires_at: now + NUMBER_TTL_DEFAULT_S,
        created_at: now,
        updated_at: now,
        version: 0,
    }
}

/// What a terminal of this kind may sell: a vending machine sells from a
/// menu (C5); only a ticket terminal sells tickets (C9).
fn purpose_for(terminal: &Terminal, sale: &NewSale) -> Result<Purpose> {
    if sale.ticket.is_some() && terminal.kind != TerminalKind::Ticket {
        return Err(Error::field(
            "ticket_terminal_only",
            "ticket",
            "Only a terminal registered as a ticket terminal sells tickets.",
        ));
    }
    if terminal.kind != TerminalKind::Vending {
        return Ok(Purpose::Payment);
    }
    if sale.menu.is_none() {
        return Err(Error::field(
            "vending_menu_required",
            "menu",
            "A vending machine offers a menu; the payer picks one article from it.",
        ));
    }
    Ok(Purpose::Vending)
}

/// Opens a sale at `terminal` (D1).
pub async fn open(conn: &mut Conn, terminal: &Terminal, sale: NewSale, now: i64) -> Result<Txn> {
    let purpose = purpose_for(terminal, &sale)?;
    if let Some(order) = &sale.order {
        if settlements::merchant_order_exists(conn, &terminal.merchant_id, &order.order_id).await? {
            return Err(Error::Conflict {
                code: "order_id_in_use",
                message: format!("The merchant already has a settlement for order {}.", order.order_id),
                param: Some("order.order_id".into()),
            });
        }
    }
    let number = free_number(conn, now).await?;
    let id = crate::ids::new(kessai_protocol::terminal::TRANSACTION_PREFIX);
    let mut t = blank(id, purpose, &terminal.merchant_id, number, sale.currency, now);
    t.terminal_id = Some(terminal.id.clone());
    t.ticket = sale.ticket;
    t.amount = sale.amount;
    t.order = sale.order;
    t.menu = sale.menu;
    t.min_age = sale.min_age;
    t.expires_at = now + sale.ttl_s;
    insert(conn, &t).await?;
    Ok(t)
}

/// Opens an authentication by number at `terminal` (D11): the user who
/// sends the number is asked for `kind` at once.
pub async fn open_authentication(conn: &mut Conn, terminal: &Terminal, kind: ChallengeKind, now: i64) -> Result<Txn> {
    let number = free_number(conn, now).await?;
    let id = crate::ids::new(kessai_protocol::terminal::AUTHENTICATION_PREFIX);
    let currency = "XXX".to_string();
    let mut t = blank(
        id,
        Purpose::Authentication,
        &terminal.merchant_id,
        number,
        currency,
        now,
    );
    t.terminal_id = Some(terminal.id.clone());
    t.challenge = Some(Challenge {
        kind,
        status: ChallengeStatus::Pending,
    });
    insert(conn, &t).await?;
    Ok(t)
}

/// A number for a shop's settlement (D10): its buyer pays it from a phone.
/// Asking again while one is open gives the same number.
pub async fn open_for_settlement(conn: &mut Conn, rec: &Record, order: Order, now: i64) -> Result<Txn> {
    if let Some(open) = record::open_for_settlement(conn, &rec.id).await? {
        if open.expires_at > now {
            return Ok(open);
        }
    }
    let number = free_number(conn, now).await?;
    let id = crate::ids::new(kessai_protocol::terminal::TRANSACTION_PREFIX);
    let mut t = blank(
        id,
        Purpose::Payment,
        &rec.merchant_id,
        number,
        order.currency.clone(),
        now,
    );
    t.settlement_id = Some(rec.id.clone());
    t.amount = Some(order.total);
    t.order = Some(order);
    t.expires_at = rec.expires_at.min(now + NUMBER_TTL_DEFAULT_S);
    insert(conn, &t).await?;
    Ok(t)
}

/// The payer sent `number` (claim 11's synchronization). None, and a wrong
/// number counted against the user, when no open transaction has it or
/// another payer has taken it: all three look alike to the sender.
pub async fn sync(conn: &mut Conn, user_id: &str, number: &str, now: i64) -> Result<Option<Txn>> {
    let found = by_open_number(conn, number).await?;
    let mut t = match found {
        Some(t) if t.expires_at > now && t.payer_user_id.as_deref() == Some(user_id) => return Ok(Some(t)),
        Some(t) if t.expires_at > now && t.status == TransactionStatus::AwaitingPayer => t,
        Some(mut stale) if stale.expires_at <= now => {
            stale.status = TransactionStatus::Expired;
            stale.updated_at = now;
            save(conn, &mut stale).await?;
            numbers::record_failure(conn, user_id, now).await?;
            return Ok(None);
        }
        _ => {
            numbers::record_failure(conn, user_id, now).await?;
            return Ok(None);
        }
    };
    t.status = TransactionStatus::Synchronized;
    t.payer_user_id = Some(user_id.to_string());
    t.expires_at = t.expires_at.max(now + CONFIRM_GRACE_S);
    t.updated_at = now;
    save(conn, &mut t).await?;
    Ok(Some(t))
}

/// A transaction of this payer, locked; others' look unknown.
async fn payers_own(conn: &mut Conn, user_id: &str, id: &str) -> Result<Txn> {
    match lock(conn, id).await? {
        Some(t) if t.payer_user_id.as_deref() == Some(user_id) => Ok(t),
        _ => Err(no_such_transaction()),
    }
}

/// A transaction of this terminal, locked; others' look unknown.
pub(super) async fn terminals_own(conn: &mut Conn, terminal_id: &str, id: &str) -> Result<Txn> {
    match lock(conn, id).await? {
        Some(t) if t.terminal_id.as_deref() == Some(terminal_id) => Ok(t),
        _ => Err(Error::not_found("transaction_not_found", "No such transaction.")),
    }
}

pub fn no_such_transaction() -> Error {
    Error::not_found(
        "no_such_transaction",
        "No open transaction has this number; check the number on the terminal.",
    )
}

/// Refuses a change to a transaction that is not synchronized (closing it
/// as expired first when its time is up, which the caller's error then
/// rolls back: the reader's view shows it expired anyway).
fn require_synchronized(t: &Txn, now: i64) -> Result<()> {
    match t.effective_status(now) {
        TransactionStatus::Synchronized => Ok(()),
        TransactionStatus::AwaitingPayer => Err(Error::conflict(
            "transaction_not_synchronized",
            "No payer has sent this transaction's number yet.",
        )),
        status => Err(final_error(status)),
    }
}

/// The error for a change to a closed transaction.
pub fn final_error(status: TransactionStatus) -> Error {
    let message = match status {
        TransactionStatus::Succeeded => "This transaction is already paid.",
        TransactionStatus::Declined => "This transaction was declined; the terminal must start a new one.",
        TransactionStatus::Expired => "This transaction expired; the terminal must start a new one.",
        _ => "This transaction was canceled at the terminal.",
    };
    Error::conflict("transaction_closed", message)
}

/// The payer orders from the menu (D9); the terminal sees the order and
/// its amount. Ordering again before confirming replaces the order.
pub async fn place_order(conn: &mut Conn, user_id: &str, id: &str, lines: &[OrderLine], now: i64) -> Result<Txn> {
    let mut t = payers_own(conn, user_id, id).await?;
    require_synchronized(&t, now)?;
    let Some(menu) = &t.menu else {
        return Err(Error::conflict(
            "transaction_has_no_menu",
            "This transaction has its amount already; there is nothing to order.",
        ));
    };
    if t.purpose == Purpose::Vending {
        vending::check_order(lines)?;
    }
    let order = order_from_menu(menu, lines, &order_id_of(&t.id))?;
    t.amount = Some(order.total);
    t.order = Some(order);
    t.updated_at = now;
    save(conn, &mut t).await?;
    Ok(t)
}

/// The order `lines` make of `menu`, or the first line that cannot be had.
pub fn order_from_menu(menu: &Menu, lines: &[OrderLine], order_id: &str) -> Result<Order> {
    if !(1..=MENU_ITEMS_MAX).contains(&lines.len()) {
        return Err(Error::field(
            "items_count_out_of_range",
            "items",
            "Order 1 to 200 lines.",
        ));
    }
    let mut items: Vec<Item> = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let param = format!("items[{i}]");
        let article = menu.items.iter().find(|m| m.code == line.code).ok_or_else(|| {
            Error::field(
                "item_not_on_menu",
                &format!("{param}.code"),
                "No article of the menu has this code.",
            )
        })?;
        if !(1..=QUANTITY_MAX).contains(&line.quantity) || items.iter().any(|it| it.code == line.code) {
            return Err(Error::field(
                "quantity_invalid",
                &format!("{param}.quantity"),
                format!("Order each article once, 1 to {QUANTITY_MAX} of it."),
            ));
        }
        items.push(Item {
            code: article.code.clone(),
            name: article.name.clone(),
            unit_price: article.unit_price,
            quantity: line.quantity,
        });
    }
    let total = items
        .iter()
        .try_fold(0u64, |sum, it| {
            it.unit_price.checked_mul(it.quantity).and_then(|v| sum.checked_add(v))
        })
        .ok_or_else(|| Error::field("order_total_overflow", "items", "The order adds up to too much."))?;
    let order = Order {
        order_id: order_id.to_string(),
        currency: menu.currency.clone(),
        items,
        tax: 0,
        total,
    };
    order.validate("order")?;
    Ok(order)
}

/// The terminal asks the payer to prove themselves (D8).
pub async fn ask(conn: &mut Conn, terminal: &Terminal, id: &str, kind: ChallengeKind, now: i64) -> Result<Txn> {
    let mut t = terminals_own(conn, &terminal.id, id).await?;
    require_synchronized(&t, now)?;
    t.challenge = Some(Challenge {
        kind,
        status: ChallengeStatus::Pending,
    });
    t.challenge_failures = 0;
    t.updated_at = now;
    save(conn, &mut t).await?;
    Ok(t)
}

/// The payer's answer, already checked (`right`). A wrong answer is
/// counted and returned, not raised: an error would roll the count back.
pub async fn answer(conn: &mut Conn, user_id: &str, id: &str, right: bool, now: i64) -> Result<(Txn, bool)> {
    let mut t = payers_own(conn, user_id, id).await?;
    require_synchronized(&t, now)?;
    let Some(challenge) = t.challenge.as_mut().filter(|c| c.status == ChallengeStatus::Pending) else {
        return Err(Error::conflict(
            "no_challenge_pending",
            "The terminal has not asked for anything.",
        ));
    };
    if right {
        challenge.status = ChallengeStatus::Passed;
    } else {
        t.challenge_failures += 1;
        if t.challenge_failures >= PIN_TRIES_MAX {
            challenge.status = ChallengeStatus::Failed;
        }
    }
    let failed = challenge.status == ChallengeStatus::Failed;
    let passed = challenge.status == ChallengeStatus::Passed;
    if t.purpose == Purpose::Authentication && (passed || failed) {
        // D11: the answer is the outcome.
        t.status = if passed {
            TransactionStatus::Succeeded
        } else {
            TransactionStatus::Declined
        };
    }
    t.updated_at = now;
    save(conn, &mut t).await?;
    Ok((t, right))
}

/// The terminal cancels. Canceling a canceled transaction is not an error;
/// a paid one cannot be canceled (a refund is the shop's business).
pub async fn cancel(conn: &mut Conn, terminal: &Terminal, id: &str, now: i64) -> Result<Txn> {
    let mut t = terminals_own(conn, &terminal.id, id).await?;
    match t.effective_status(now) {
        TransactionStatus::AwaitingPayer | TransactionStatus::Synchronized => {}
        TransactionStatus::Canceled => return Ok(t),
        status => return Err(final_error(status)),
    }
    t.status = TransactionStatus::Canceled;
    t.updated_at = now;
    save(conn, &mut t).await?;
    Ok(t)
}

/// Who pays at a confirmation, resolved before the step.
pub struct Confirming<'a> {
    pub merchant: &'a Merchant,
    /// The payer's account and key, as a second request's payer.
    pub payer: &'a Resolved,
    pub user_id: &'a str,
    /// Whether the payer meets the transaction's age restriction, if any.
    pub old_enough: bool,
    /// The terminal's label for the receipt ("WEB" online).
    pub terminal_label: &'a str,
    /// The institution's signer, when the sale gives a ticket (C9).
    pub passes: Option<&'a Passes>,
}

/// The payer's final confirmation of the amount the phone showed (D3):
/// settles and closes the transaction in the same step, so the terminal's
/// completion notice and the phone's receipt come from the ledger's commit.
pub async fn confirm(conn: &mut Conn, who: Confirming<'_>, id: &str, shown: &Money, now: i64) -> Result<Txn> {
    let mut t = payers_own(conn, who.user_id, id).await?;
    match t.status {
        // A repeat (the answer was lost): the first outcome.
        TransactionStatus::Succeeded | TransactionStatus::Declined => return Ok(t),
        TransactionStatus::Canceled | TransactionStatus::Expired => return Err(final_error(t.status)),
        TransactionStatus::AwaitingPayer | TransactionStatus::Synchronized => {}
    }
    require_synchronized(&t, now)?;
    check_payable(&t, shown)?;
    if t.min_age.is_some() && !who.old_enough {
        t.status = TransactionStatus::Declined;
        t.decline_code = Some(DeclineCode::Restricted);
        t.updated_at = now;
        save(conn, &mut t).await?;
        return Ok(t);
    }
    let order = t
        .order
        .clone()
        .unwrap_or_else(|| amount_order(&order_id_of(&t.id), shown, t.purpose));
    let settlement_id = match &t.settlement_id {
        Some(id) => id.clone(),
        None => open_settlement(conn, who.merchant, &order, now).await?,
    };
    let rec = settlements::confirm(conn, who.merchant, &settlement_id, &order, who.payer, now).await?;
    close(&mut t, &rec, &order, &who, now)?;
    t.settlement_id = Some(settlement_id);
    save(conn, &mut t).await?;
    Ok(t)
}

/// What must hold before anything moves: the amount known and exactly the
/// one shown, and no challenge outstanding.
fn check_payable(t: &Txn, shown: &Money) -> Result<()> {
    match t.purpose {
        Purpose::Authentication => {
            return Err(Error::conflict(
                "nothing_to_pay",
                "This number is an authentication; answer the challenge instead.",
            ))
        }
        Purpose::GateEntry => {
            return Err(Error::conflict(
                "nothing_to_pay",
                "An entry gate opens at the sync; there is nothing to pay.",
            ))
        }
        Purpose::Payment | Purpose::Vending | Purpose::GateExit => {}
    }
    let Some(amount) = t.amount else {
        return Err(Error::conflict(
            "order_missing",
            "Order from the menu before confirming.",
        ));
    };
    if amount != shown.minor() || t.currency != shown.currency() {
        return Err(Error::Conflict {
            code: "amount_mismatch",
            message: format!(
                "The transaction is for {amount} {}, not the amount confirmed; nothing was charged.",
                t.currency
            ),
            param: Some("amount".into()),
        });
    }
    match t.challenge.as_ref().map(|c| c.status) {
        Some(ChallengeStatus::Pending) => Err(Error::conflict(
            "challenge_pending",
            "The terminal asked for your PIN; answer it first.",
        )),
        Some(ChallengeStatus::Failed) => Err(Error::conflict(
            "challenge_failed",
            "The PIN was wrong too often; the terminal must start a new transaction.",
        )),
        _ => Ok(()),
    }
}

/// The one-line order of a sale by amount (or of a gate's fee).
fn amount_order(order_id: &str, amount: &Money, purpose: Purpose) -> Order {
    let (code, name) = match purpose {
        Purpose::GateExit => ("gate-fee", "Gate fee"),
        _ => ("amount", "Purchase"),
    };
    Order {
        order_id: order_id.to_string(),
        currency: amount.currency().to_string(),
        items: vec![Item {
            code: code.into(),
            name: name.into(),
            unit_price: amount.minor(),
            quantity: 1,
        }],
        tax: 0,
        total: amount.minor(),
    }
}

/// The settlement a sale is paid through, as the shop's first request
/// would open it: so refunds, webhooks and the ledger treat it like any.
async fn open_settlement(conn: &mut Conn, merchant: &Merchant, order: &Order, now: i64) -> Result<String> {
    let new = NewSettlement {
        order_id: Some(order.order_id.clone()),
        currency: order.currency.clone(),
        total: order.total,
        order_digest: order.digest(),
        order: Some(order.clone()),
        brands: None,
        notify_url: None,
        return_url: None,
        expires_in_s: CONFIRM_GRACE_S,
        cooling_off_s: None,
        // Judged by the transaction itself, before this settlement exists.
        min_age: None,
    };
    let (rec, _) = settlements::create(conn, merchant, new, now).await?;
    Ok(rec.id)
}

/// The transaction's end from its settlement's.
fn close(t: &mut Txn, rec: &Record, order: &Order, who: &Confirming<'_>, now: i64) -> Result<()> {
    t.updated_at = now;
    t.status = match rec.status {
        Status::Succeeded => TransactionStatus::Succeeded,
        Status::Declined | Status::Mismatched => TransactionStatus::Declined,
        Status::Expired => TransactionStatus::Expired,
        Status::Canceled => TransactionStatus::Canceled,
        other => {
            return Err(Error::internal(format!(
                "settlement {} ended {other:?} for a terminal",
                rec.id
            )))
        }
    };
    t.decline_code = rec.decline_code;
    if t.status != TransactionStatus::Succeeded {
        return Ok(());
    }
    // What the phone was shown is what moved: not a unit more.
    invariant!(
        rec.amount.minor() == order.total && rec.amount.currency() == t.currency,
        "transaction {}: settled {} for an order of {} {}",
        t.id,
        rec.amount,
        order.total,
        t.currency
    );
    t.receipt = Some(TerminalReceipt {
        receipt_no: receipt_no(&t.id),
        transaction_id: t.id.clone(),
        merchant: who.merchant.name.clone(),
        terminal: who.terminal_label.to_string(),
        amount: order.total,
        currency: order.currency.clone(),
        items: order
            .items
            .iter()
            .map(|i| ReceiptLine {
                code: i.code.clone(),
                name: i.name.clone(),
                quantity: i.quantity,
                unit_price: i.unit_price,
            })
            .collect(),
        paid_at: now,
        ticket: ticket_of(t, who)?,
    });
    Ok(())
}

/// The signed ticket a paid ticket sale gives (C9).
fn ticket_of(t: &Txn, who: &Confirming<'_>) -> Result<Option<String>> {
    let Some(spec) = &t.ticket else { return Ok(None) };
    let passes = who
        .passes
        .ok_or_else(|| Error::internal(format!("transaction {} sells a ticket but nobody signs it", t.id)))?;
    tickets::issue(spec, &t.merchant_id, passes).map(Some)
}

/// A receipt number from the transaction's random id: unique, and short
/// enough to read out at a counter.
fn receipt_no(txn_id: &str) -> String {
    let tail = txn_id.rsplit('_').next().unwrap_or(txn_id).to_uppercase();
    let chars: Vec<char> = tail.chars().take(12).collect();
    let groups: Vec<String> = chars.chunks(4).map(|c| c.iter().collect()).collect();
    format!("R-{}", groups.join("-"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kessai_protocol::terminal::MenuItem;

    fn menu() -> Menu {
        Menu {
            currency: "JPY".into(),
            items: vec![
                MenuItem {
                    code: "tea".into(),
                    name: "Green tea".into(),
                    unit_price: 150,
                },
                MenuItem {
                    code: "onigiri".into(),
                    name: "Onigiri".into(),
                    unit_price: 180,
                },
            ],
        }
    }

    #[test]
    fn an_order_from_the_menu_adds_up_and_refuses_what_is_not_on_it() {
        let lines = [
            OrderLine {
                code: "tea".into(),
                quantity: 2,
            },
            OrderLine {
                code: "onigiri".into(),
                quantity: 1,
            },
        ];
        let order = order_from_menu(&menu(), &lines, "pos-x").unwrap();
        assert_eq!(
            (order.total, order.items.len(), order.items[1].name.as_str()),
            (480, 2, "Onigiri")
        );
        let code = |lines: &[OrderLine]| order_from_menu(&menu(), lines, "pos-x").unwrap_err().body().error.code;
        assert_eq!(
            code(&[OrderLine {
                code: "beer".into(),
                quantity: 1
            }]),
            "item_not_on_menu"
        );
        assert_eq!(
            code(&[OrderLine {
                code: "tea".into(),
                quantity: 0
            }]),
            "quantity_invalid"
        );
        assert_eq!(
            code(&[
                OrderLine {
                    code: "tea".into(),
                    quantity: 1
                },
                OrderLine {
                    code: "tea".into(),
                    quantity: 1
                }
            ]),
            "quantity_invalid"
        );
        assert_eq!(code(&[]), "items_count_out_of_range");
    }

    #[test]
    fn exactly_one_kind_of_transaction_is_accepted() {
        let amount = CreateTransaction {
            amount: Some(1155),
            currency: Some("JPY".into()),
            ..Default::default()
        };
        assert_eq!(prepare(amount.clone()).unwrap().amount, Some(1155));
        let both = CreateTransaction {
            menu: Some(menu()),
            ..amount.clone()
        };
        assert_eq!(prepare(both).unwrap_err().body().error.code, "transaction_kind_invalid");
        let none = CreateTransaction::default();
        assert_eq!(prepare(none).unwrap_err().body().error.code, "transaction_kind_invalid");
        let zero = CreateTransaction {
            amount: Some(0),
            ..amount.clone()
        };
        assert_eq!(prepare(zero).unwrap_err().body().error.code, "amount_out_of_range");
        let long = CreateTransaction {
            expires_in: Some(3601),
            ..amount
        };
        assert_eq!(prepare(long).unwrap_err().body().error.code, "expires_in_out_of_range");
        let mut dup = menu();
        dup.items[1].code = "tea".into();
        let dup = CreateTransaction {
            menu: Some(dup),
            ..Default::default()
        };
        assert_eq!(prepare(dup).unwrap_err().body().error.code, "menu_code_duplicate");
    }

    #[test]
    fn receipt_numbers_are_grouped_from_the_id() {
        assert_eq!(receipt_no("txn_abcdefghijklmnopqrstuvwxyz"), "R-ABCD-EFGH-IJKL");
    }
}
