use kessai_protocol::wallet::StartMessage;
use web_sys::HtmlElement;
use yew::prelude::*;

use super::order_summary::OrderSummary;
use super::relogin::Relogin;
use crate::i18n::{self, amount, Lang};
use crate::selector::{AccountRef, Choice, ExpiredLink};

#[derive(Debug, PartialEq, Properties)]
pub struct PaymentSheetProps {
    pub start: StartMessage,
    pub choices: Vec<Choice>,
    /// Addresses whose session ended (B6 could not ask them): each gets a
    /// password form.
    #[prop_or_default]
    pub expired: Vec<ExpiredLink>,
    pub lang: Lang,
    /// The account the mode proposes (B2, B4): listed first, as the
    /// primary button, and focused. Still only paid with on a click.
    #[prop_or_default]
    pub proposed: Option<AccountRef>,
    /// The last attempt's failure, if any.
    #[prop_or_default]
    pub error: Option<String>,
    pub on_pay: Callback<AccountRef>,
    pub on_cancel: Callback<MouseEvent>,
}

/// "Choose how to pay" (B2 to B4): the order, one button per usable
/// account, and the others disabled with the reason; an ended session
/// offers its login. Every mode ends here: nothing is paid without a click
/// on a "Pay with" button, whichever page sent the start message.
#[function_component(PaymentSheet)]
pub fn payment_sheet(props: &PaymentSheetProps) -> Html {
    let text = props.lang.text();
    let usable = props.choices.iter().filter(|c| c.usable()).count();
    let proposed = props
        .proposed
        .as_ref()
        .and_then(|wanted| props.choices.iter().position(|c| &c.account == wanted && c.usable()));
    let primary = use_node_ref();
    {
        // Focus makes the proposal the keyboard's default; it is still a
        // button the user has to press.
        let primary = primary.clone();
        use_effect_with(proposed, move |_| {
            if let Some(button) = primary.cast::<HtmlElement>() {
                let _ = button.focus();
            }
        });
    }
    html! {
        <section class="sheet" aria-labelledby="sheet-title">
            <h1 id="sheet-title">{ text.choose_how_to_pay }</h1>
            <OrderSummary start={props.start.clone()} lang={props.lang} />
            if let Some(error) = &props.error { <p class="error" role="alert">{ error }</p> }
            if usable == 0 {
                <p class="warning" role="status">{ text.nothing_can_pay }{ " " }
                    // A plain hash link: the sheet also renders outside a router.
                    <a href="#/add">{ text.add_account }</a>
                </p>
            }
            { choice_lists(props, proposed, primary) }
            { for expired_logins(props) }
            <button type="button" class="secondary" onclick={props.on_cancel.clone()}>{ text.cancel }</button>
        </section>
    }
}

/// The proposed account alone first, the others under "Other accounts";
/// without a proposal, one list in the connectors' order.
fn choice_lists(props: &PaymentSheetProps, proposed: Option<usize>, primary: NodeRef) -> Html {
    let text = props.lang.text();
    let Some(first) = proposed else {
        if props.choices.is_empty() {
            return html! {};
        }
        return html! {
            <ul class="choices">
                { for props.choices.iter().enumerate().map(|(index, choice)| choice_item(props, index, choice, None)) }
            </ul>
        };
    };
    let others: Vec<Html> = props
        .choices
        .iter()
        .enumerate()
        .filter(|(index, _)| *index != first)
        .map(|(index, choice)| choice_item(props, index, choice, None))
        .collect();
    html! {
        <>
            <ul class="choices proposed">{ choice_item(props, first, &props.choices[first], Some(primary)) }</ul>
            if !others.is_empty() {
                <h2 class="others" id="others-title">{ text.other_accounts }</h2>
                <ul class="choices" aria-labelledby="others-title">{ for others }</ul>
            }
        </>
    }
}

/// One account: a "Pay with" button, or the same name disabled with the
/// reason. `primary` marks (and references) the proposed account's button.
fn choice_item(props: &PaymentSheetProps, index: usize, choice: &Choice, primary: Option<NodeRef>) -> Html {
    let name = i18n::pay_with(props.lang, &choice.institution_name, &choice.brand);
    let available = amount(choice.available, &choice.currency);
    match choice.verdict {
        Ok(()) => {
            let account = choice.account.clone();
            let on_pay = props.on_pay.clone();
            let onclick = Callback::from(move |_: MouseEvent| on_pay.emit(account.clone()));
            let class = if primary.is_some() { "pay primary" } else { "pay" };
            html! {
                <li class="choice">
                    <button type="button" {class} ref={primary.unwrap_or_default()} {onclick}>{ name }</button>
                    <span class="muted">{ available }</span>
                </li>
            }
        }
        Err(reason) => {
            let reason_id = format!("reason-{index}");
            html! {
                <li class="choice unusable">
                    <button type="button" class="pay" disabled=true aria-describedby={reason_id.clone()}>{ name }</button>
                    <span class="muted">{ available }</span>
                    <p class="reason" id={reason_id}>{ i18n::unusable(props.lang, reason) }</p>
                </li>
            }
        }
    }
}

/// One password form per address whose session ended.
fn expired_logins(props: &PaymentSheetProps) -> Vec<Html> {
    props
        .expired
        .iter()
        .map(|link| {
            html! {
                <Relogin address={link.address.clone()} user_id={link.user_id.clone()}
                    institution_name={link.institution_name.clone()} lang={props.lang} />
            }
        })
        .collect()
}
