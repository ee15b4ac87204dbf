use kessai_wallet::i18n::Lang;
use yew::prelude::*;

use crate::i18n::text;
use crate::number::groups;

#[derive(Debug, PartialEq, Properties)]
pub struct TransactionNumberProps {
    pub number: String,
    pub lang: Lang,
}

/// The number the payer types, large, in groups of four. The groups are
/// for the eye; the digits stay contiguous in `aria-label` (read out as
/// one number) and `data-number` (read by tests).
#[function_component(TransactionNumber)]
pub fn transaction_number(props: &TransactionNumberProps) -> Html {
    let label = format!("{} {}", text(props.lang).transaction_number, props.number);
    html! {
        <p class="txn-number" role="img" aria-label={label} data-number={props.number.clone()}>
            { for groups(&props.number).into_iter().map(|group| html! {
                <span class="group" aria-hidden="true">{ group }</span>
            }) }
        </p>
    }
}
