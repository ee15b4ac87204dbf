//! "Pay in store" in the reducer (PROTOCOL section 13, D1 to D11): the
//! number typed or scanned, the transaction the terminal's institution
//! answered, the menu being chosen from, the PIN asked for, the result.
//!
//! As for shop payments, the screens do the HTTP and report here; every
//! rule of the flow (what may be sent when) is a pure transition.

use kessai_protocol::terminal::{
    ChallengeStatus, ConfirmedTransaction, PayerTransaction, TerminalKind, TransactionStatus,
};
use kessai_protocol::Secret;

use crate::in_store::{menu_total, Located, StoreProblem, QUANTITY_MAX};
use crate::passes::Admission;
use crate::transaction_number::Lookup;

/// The in-store payment on the "Pay in store" screen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InStore {
    pub phase: StorePhase,
    /// The transaction, once a server wallet knew its number.
    pub found: Option<Found>,
    /// How many of each menu article (D9), in the menu's order.
    pub quantities: Vec<u64>,
    /// The last thing that went wrong, shown until the next step.
    pub problem: Option<StoreProblem>,
}

/// A synchronized transaction and the server wallet that holds it: every
/// later call goes to that address with that session.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub address: String,
    pub transaction: PayerTransaction,
    /// At an exit gate (C6): the admission the sync was sent with, dropped
    /// from the wallet once the exit is paid.
    pub admission: Option<Admission>,
}

/// Where the in-store payment is.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum StorePhase {
    /// The number field (and the QR reader).
    #[default]
    Entering,
    /// `sync` with this number is under way, connector after connector.
    Syncing(Lookup),
    /// The transaction is shown: terminal, merchant, amount or menu, and
    /// the PIN prompt when the terminal asks for one. Nothing is paid
    /// without the "Pay" click.
    Shown,
    /// The menu order (D9) is being sent.
    Ordering,
    /// The PIN is being sent (D8).
    Answering(Secret<String>),
    /// `confirm` with the amount the screen showed is under way.
    Confirming { amount: u64, currency: String },
    /// The result: paid with its receipt, declined, or ended by the terminal.
    Done(ConfirmedTransaction),
}

/// What can happen on the "Pay in store" screen.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreAction {
    /// The user sent a well-formed number, typed or scanned.
    Sync(Lookup),
    /// What the user typed (a number, a PIN) or scanned is refused before
    /// sending.
    Invalid(StoreProblem),
    /// A server wallet knew the number.
    Synced(Box<Located>),
    /// A quantity stepper of the menu.
    SetQuantity {
        index: usize,
        quantity: u64,
    },
    /// The one article of a vending machine's menu (C5): that one, once.
    ChooseOne {
        index: usize,
    },
    /// "Send order" with the quantities chosen.
    SendOrder,
    /// The PIN prompt was answered.
    AnswerPin(Secret<String>),
    /// "Pay {amount}": the amount and currency the button showed.
    Confirm {
        amount: u64,
        currency: String,
    },
    /// The server's answer to the wallet's own order or PIN.
    Answered(Box<PayerTransaction>),
    /// The long-poll saw the transaction change (a challenge, an end).
    Updated(Box<PayerTransaction>),
    Confirmed(Box<ConfirmedTransaction>),
    Failed(StoreProblem),
    /// Back to the number field.
    Reset,
}

impl InStore {
    /// The state after `action`; one that does not fit the phase (a late
    /// answer, a double click) changes nothing.
    pub fn apply(&mut self, action: StoreAction) {
        match action {
            StoreAction::Reset => *self = InStore::default(),
            StoreAction::Sync(lookup) if self.phase == StorePhase::Entering => {
                *self = InStore {
                    phase: StorePhase::Syncing(lookup),
                    ..InStore::default()
                }
            }
            StoreAction::Invalid(problem) if matches!(self.phase, StorePhase::Entering | StorePhase::Shown) => {
                self.problem = Some(problem)
            }
            StoreAction::Synced(located) if matches!(self.phase, StorePhase::Syncing(_)) => {
                let Located {
                    address,
                    transaction,
                    admission,
                } = *located;
                self.quantities = vec![0; transaction.menu.as_ref().map_or(0, |m| m.items.len())];
                self.found = Some(Found {
                    address,
                    transaction,
                    admission,
                });
                self.phase = StorePhase::Shown;
                self.settle_if_final();
            }
            StoreAction::Failed(problem) => self.fail(problem),
            StoreAction::Confirmed(result) if matches!(self.phase, StorePhase::Confirming { .. }) => {
                self.phase = StorePhase::Done(*result)
            }
            StoreAction::Answered(transaction) => self.answered(*transaction),
            StoreAction::Updated(transaction) => self.update(*transaction),
            other if self.phase == StorePhase::Shown => self.act(other),
            _ => {}
        }
    }

    /// The transaction on screen.
    pub fn transaction(&self) -> Option<&PayerTransaction> {
        self.found.as_ref().map(|f| &f.transaction)
    }

    /// Whether the menu is still to be chosen from (D9): a menu and no
    /// amount yet.
    pub fn choosing_from_menu(&self) -> bool {
        self.transaction()
            .is_some_and(|t| t.menu.is_some() && t.amount.is_none())
    }

    /// The amount "Pay" would confirm, once there is one and nothing
    /// (a menu, a pending or failed PIN) stands in the way.
    pub fn payable(&self) -> Option<(u64, &str)> {
        let transaction = self.transaction()?;
        let challenge_open = transaction
            .challenge
            .as_ref()
            .is_some_and(|c| c.status != ChallengeStatus::Passed);
        let open = transaction.status == TransactionStatus::Synchronized && !transaction.authentication;
        let amount = transaction.amount?;
        (open && !challenge_open).then_some((amount, transaction.currency.as_str()))
    }

    /// Whether the menu allows one article, once: a vending machine's (C5).
    pub fn single_choice(&self) -> bool {
        self.transaction()
            .is_some_and(|t| t.terminal.kind == TerminalKind::Vending)
    }

    /// The transaction's menu total with the quantities chosen.
    pub fn menu_total(&self) -> u64 {
        self.transaction()
            .and_then(|t| t.menu.as_ref())
            .map_or(0, |menu| menu_total(menu, &self.quantities))
    }

    /// The screen's own steps, from `Shown` only.
    fn act(&mut self, action: StoreAction) {
        match action {
            StoreAction::SetQuantity { index, quantity } if self.choosing_from_menu() && !self.single_choice() => {
                if let Some(slot) = self.quantities.get_mut(index) {
                    *slot = quantity.min(QUANTITY_MAX);
                }
            }
            StoreAction::ChooseOne { index } if self.choosing_from_menu() && index < self.quantities.len() => {
                for (at, slot) in self.quantities.iter_mut().enumerate() {
                    *slot = u64::from(at == index);
                }
            }
            StoreAction::SendOrder if self.choosing_from_menu() && self.menu_total() > 0 && self.order_fits() => {
                self.problem = None;
                self.phase = StorePhase::Ordering;
            }
            StoreAction::AnswerPin(pin) if self.challenge_pending() => {
                self.problem = None;
                self.phase = StorePhase::Answering(pin);
            }
            // Only the amount on screen now: a click on a button drawn
            // before the amount changed confirms nothing.
            StoreAction::Confirm { amount, currency } if self.payable() == Some((amount, currency.as_str())) => {
                self.problem = None;
                self.phase = StorePhase::Confirming { amount, currency };
            }
            _ => {}
        }
    }

    /// A vending machine takes exactly one article, once (C5); any other
    /// menu takes whatever was chosen.
    fn order_fits(&self) -> bool {
        !self.single_choice() || self.quantities.iter().sum::<u64>() == 1
    }

    fn challenge_pending(&self) -> bool {
        self.transaction()
            .and_then(|t| t.challenge.as_ref())
            .is_some_and(|c| c.status == ChallengeStatus::Pending)
    }

    fn fail(&mut self, problem: StoreProblem) {
        match self.phase {
            StorePhase::Syncing(_) => self.phase = StorePhase::Entering,
            StorePhase::Ordering | StorePhase::Answering(_) | StorePhase::Confirming { .. } => {
                self.phase = StorePhase::Shown
            }
            StorePhase::Entering | StorePhase::Shown | StorePhase::Done(_) => return,
        }
        self.problem = Some(problem);
    }

    /// The answer to the wallet's own order or PIN ends its wait.
    fn answered(&mut self, transaction: PayerTransaction) {
        let waiting = matches!(self.phase, StorePhase::Ordering | StorePhase::Answering(_));
        if waiting && self.replace(transaction) {
            self.phase = StorePhase::Shown;
            self.settle_if_final();
        }
    }

    /// A long-poll answer: the newest view of the transaction. While the
    /// wallet's own call is out, that call's answer decides the phase.
    fn update(&mut self, transaction: PayerTransaction) {
        if matches!(
            self.phase,
            StorePhase::Entering | StorePhase::Syncing(_) | StorePhase::Done(_)
        ) {
            return;
        }
        if self.replace(transaction) && self.phase == StorePhase::Shown {
            self.settle_if_final();
        }
    }

    /// Takes `transaction` if it is the one on screen.
    fn replace(&mut self, transaction: PayerTransaction) -> bool {
        match &mut self.found {
            Some(found) if found.transaction.id == transaction.id => {
                found.transaction = transaction;
                true
            }
            _ => false,
        }
    }

    /// A transaction that ended elsewhere (paid on another phone is
    /// impossible, but the clerk may cancel, the number may expire, an
    /// authentication ends with its PIN) shows its end.
    fn settle_if_final(&mut self) {
        let Some(transaction) = self.transaction() else { return };
        // An authentication by number (D11) is over once its PIN passed,
        // whether or not the server has marked it final yet.
        let authenticated = transaction.authentication
            && transaction
                .challenge
                .as_ref()
                .is_some_and(|c| c.status == ChallengeStatus::Passed);
        if !transaction.status.is_final() && !authenticated {
            return;
        }
        let status = if transaction.status.is_final() {
            transaction.status
        } else {
            TransactionStatus::Succeeded
        };
        self.phase = StorePhase::Done(ConfirmedTransaction {
            status,
            receipt: transaction.receipt.clone(),
            decline_code: transaction.decline_code,
        });
    }
}
