//! What the wallet says, in English and Japanese.
//!
//! The English labels of the screens are part of PROTOCOL section 12 ("Add
//! account", "Server wallet address", "Choose how to pay", "Pay with
//! {institution name} {brand}", …): end-to-end tests and assistive
//! technology find controls by them, so they change only with the protocol.

use kessai_protocol::api::{DeclineCode, Status};
use kessai_protocol::money::format_amount;
use serde::{Deserialize, Serialize};

use crate::connectors::AddressProblem;
use crate::selector::Unusable;
use crate::start::StartProblem;

/// A language the wallet speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Ja,
}

impl Lang {
    /// The language of a BCP 47 tag (`ja`, `ja-JP`, `en-US`), if spoken here.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "ja" => Some(Lang::Ja),
            _ => None,
        }
    }

    /// The user's choice, else the browser's first spoken language, else English.
    pub fn resolve(chosen: Option<Lang>, browser: &str) -> Lang {
        chosen.or_else(|| Lang::from_tag(browser)).unwrap_or(Lang::En)
    }

    /// The tag for `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    /// The language the toggle switches to.
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Ja,
            Lang::Ja => Lang::En,
        }
    }

    /// The fixed texts.
    pub fn text(self) -> &'static Text {
        match self {
            Lang::En => &EN,
            Lang::Ja => &JA,
        }
    }
}

/// The fixed texts of one language.
pub struct Text {
    /// The toggle's label: the name of the *other* language, in itself.
    pub switch_language: &'static str,
    pub wallet: &'static str,
    pub accounts: &'static str,
    pub add_account: &'static str,
    pub settings: &'static str,
    pub history: &'static str,
    pub server_wallet_address: &'static str,
    pub user_id: &'static str,
    pub password: &'static str,
    pub connector: &'static str,
    pub new_connector: &'static str,
    pub add_another_address: &'static str,
    pub adding: &'static str,
    pub no_accounts: &'static str,
    pub make_default: &'static str,
    pub default_account: &'static str,
    pub log_out: &'static str,
    pub log_in_again: &'static str,
    pub session_expired: &'static str,
    pub loading: &'static str,
    pub when_asked: &'static str,
    pub mode_default: &'static str,
    pub mode_ask: &'static str,
    pub mode_automatic: &'static str,
    pub mode_default_hint: &'static str,
    pub mode_ask_hint: &'static str,
    pub mode_automatic_hint: &'static str,
    pub choose_how_to_pay: &'static str,
    pub shop: &'static str,
    pub item: &'static str,
    pub quantity: &'static str,
    pub price: &'static str,
    pub tax: &'static str,
    pub total: &'static str,
    pub cannot_pay_with: &'static str,
    pub nothing_can_pay: &'static str,
    pub cancel: &'static str,
    pub waiting_for_shop: &'static str,
    pub checking_accounts: &'static str,
    pub paying: &'static str,
    pub other_accounts: &'static str,
    pub refused: &'static str,
    pub receipt: &'static str,
    pub order_number: &'static str,
    pub brand: &'static str,
    pub paid_at: &'static str,
    pub settlement: &'static str,
    pub canceled: &'static str,
    pub back_to_wallet: &'static str,
    pub close: &'static str,
    pub no_payment: &'static str,
    pub more: &'static str,
    pub no_history: &'static str,
    pub kind_payment: &'static str,
    pub kind_refund: &'static str,
    pub kind_transfer: &'static str,
    pub network_error: &'static str,
    pub session_expired_log_in: &'static str,
    pub rate_limited: &'static str,
    pub bad_response: &'static str,
    pub too_many: &'static str,
    pub payment_waiting: &'static str,
}

static EN: Text = Text {
    switch_language: "日本語",
    wallet: "Kessai wallet",
    accounts: "Accounts",
    add_account: "Add account",
    settings: "Settings",
    history: "History",
    server_wallet_address: "Server wallet address",
    user_id: "User ID",
    password: "Password",
    connector: "Add to",
    new_connector: "A new connector",
    add_another_address: "Add another address",
    adding: "Logging in…",
    no_accounts: "No accounts yet. Add the account your bank gave you.",
    make_default: "Make default",
    default_account: "Default",
    log_out: "Log out",
    log_in_again: "Log in again",
    session_expired: "Your session ended. Enter your password to log in again.",
    loading: "Loading…",
    when_asked: "When a shop asks for payment",
    mode_default: "Use my default account",
    mode_ask: "Ask me every time",
    mode_automatic: "Choose automatically",
    mode_default_hint: "Proposes the account marked Default when it can pay; you confirm with one click.",
    mode_ask_hint: "Shows every account and lets you choose.",
    mode_automatic_hint:
        "Proposes the first account that the shop accepts and that has enough money; you confirm with one click.",
    choose_how_to_pay: "Choose how to pay",
    shop: "Shop",
    item: "Item",
    quantity: "Qty",
    price: "Price",
    tax: "Tax",
    total: "Total",
    cannot_pay_with: "Cannot pay with",
    nothing_can_pay: "None of your accounts can pay this order.",
    cancel: "Cancel",
    waiting_for_shop: "Waiting for the shop's payment request…",
    checking_accounts: "Checking your accounts…",
    paying: "Paying…",
    other_accounts: "Other accounts",
    refused: "This payment request was refused; nothing was sent.",
    receipt: "Receipt",
    order_number: "Order number",
    brand: "Brand",
    paid_at: "Paid at",
    settlement: "Settlement",
    canceled: "Payment canceled. Nothing was paid.",
    back_to_wallet: "Back to the wallet",
    close: "Close",
    no_payment: "No payment in progress.",
    more: "More",
    no_history: "Nothing yet.",
    kind_payment: "Payment",
    kind_refund: "Refund",
    kind_transfer: "Transfer",
    network_error: "Could not reach the server wallet. Check the address and your connection.",
    session_expired_log_in: "The session ended: log in again.",
    rate_limited: "Too many attempts. Try again in",
    bad_response: "The server wallet sent an answer the wallet does not understand.",
    too_many: "This wallet holds as many addresses as it can.",
    payment_waiting: "A shop is waiting for your payment: continue",
};

static JA: Text = Text {
    switch_language: "English",
    wallet: "Kessai ウォレット",
    accounts: "口座",
    add_account: "口座を追加",
    settings: "設定",
    history: "履歴",
    server_wallet_address: "サーバウォレットのアドレス",
    user_id: "ユーザーID",
    password: "パスワード",
    connector: "追加先",
    new_connector: "新しいコネクタ",
    add_another_address: "別のアドレスを追加",
    adding: "ログイン中…",
    no_accounts: "口座はまだありません。銀行から受け取った口座を追加してください。",
    make_default: "既定にする",
    default_account: "既定",
    log_out: "ログアウト",
    log_in_again: "再ログイン",
    session_expired: "セッションが終了しました。パスワードを入力して再ログインしてください。",
    loading: "読み込み中…",
    when_asked: "お店から支払いを求められたとき",
    mode_default: "既定の口座を使う",
    mode_ask: "毎回確認する",
    mode_automatic: "自動で選ぶ",
    mode_default_hint: "既定の口座で支払えるときはそれを提案します。支払いはワンクリックで確定します。",
    mode_ask_hint: "すべての口座を表示して選んでもらいます。",
    mode_automatic_hint: "お店が受け付け、残高が足りる最初の口座を提案します。支払いはワンクリックで確定します。",
    choose_how_to_pay: "支払い方法を選んでください",
    shop: "お店",
    item: "品名",
    quantity: "数量",
    price: "価格",
    tax: "税",
    total: "合計",
    cannot_pay_with: "支払えません:",
    nothing_can_pay: "この注文を支払える口座がありません。",
    cancel: "キャンセル",
    waiting_for_shop: "お店からの支払い依頼を待っています…",
    checking_accounts: "口座を確認しています…",
    paying: "支払い中…",
    other_accounts: "その他の口座",
    refused: "この支払い依頼は受け付けられませんでした。何も送信していません。",
    receipt: "領収書",
    order_number: "注文番号",
    brand: "ブランド",
    paid_at: "支払日時",
    settlement: "決済",
    canceled: "支払いをキャンセルしました。支払いは行われていません。",
    back_to_wallet: "ウォレットに戻る",
    close: "閉じる",
    no_payment: "処理中の支払いはありません。",
    more: "さらに表示",
    no_history: "まだありません。",
    kind_payment: "支払い",
    kind_refund: "返金",
    kind_transfer: "入出金",
    network_error: "サーバウォレットに接続できませんでした。アドレスと接続を確認してください。",
    session_expired_log_in: "セッションが終了しました。再ログインしてください。",
    rate_limited: "試行回数が多すぎます。次の時間が経ってからお試しください:",
    bad_response: "サーバウォレットから理解できない応答がありました。",
    too_many: "このウォレットに追加できるアドレスの上限です。",
    payment_waiting: "お店が支払いを待っています: 続ける",
};

/// "Pay with {institution name} {brand}": the accessible name of a sheet
/// button (PROTOCOL section 12); the English form is the one tests find.
pub fn pay_with(lang: Lang, institution_name: &str, brand: &str) -> String {
    match lang {
        Lang::En => format!("Pay with {institution_name} {brand}"),
        Lang::Ja => format!("{institution_name} {brand}で支払う"),
    }
}

/// An amount for people: JPY with no decimals, USD and EUR with two.
pub fn amount(minor: u64, currency: &str) -> String {
    format_amount(minor, currency)
}

/// A signed history amount: `-¥1,155`, `+$10.50`.
pub fn signed_amount(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "+" };
    format!("{sign}{}", amount(minor.unsigned_abs(), currency))
}

/// Why an account cannot pay, for the payment sheet.
pub fn unusable(lang: Lang, reason: Unusable) -> &'static str {
    match (lang, reason) {
        (Lang::En, Unusable::BrandNotAccepted) => "The shop does not accept this brand.",
        (Lang::En, Unusable::OtherCurrency) => "This account holds another currency.",
        (Lang::En, Unusable::InstitutionUnreachable) => "This bank cannot pay that shop's bank.",
        (Lang::En, Unusable::NotEnough) => "Not enough money available.",
        (Lang::En, Unusable::SessionExpired) => "Session expired: log in again.",
        (Lang::Ja, Unusable::BrandNotAccepted) => "お店がこのブランドを受け付けていません。",
        (Lang::Ja, Unusable::OtherCurrency) => "この口座は別の通貨です。",
        (Lang::Ja, Unusable::InstitutionUnreachable) => "この銀行からはお店の銀行に支払えません。",
        (Lang::Ja, Unusable::NotEnough) => "利用可能な残高が足りません。",
        (Lang::Ja, Unusable::SessionExpired) => "セッションが終了しました。再ログインしてください。",
    }
}

/// What is wrong with a typed address.
pub fn address_problem(lang: Lang, problem: AddressProblem) -> &'static str {
    match (lang, problem) {
        (Lang::En, AddressProblem::Empty) => "Enter the server wallet address.",
        (Lang::En, AddressProblem::NotHttp) => "The address starts with https:// (or http://).",
        (Lang::En, AddressProblem::Malformed) => "That is not a server wallet address.",
        (Lang::Ja, AddressProblem::Empty) => "サーバウォレットのアドレスを入力してください。",
        (Lang::Ja, AddressProblem::NotHttp) => "アドレスは https://(または http://)で始まります。",
        (Lang::Ja, AddressProblem::Malformed) => "サーバウォレットのアドレスではありません。",
    }
}

/// A required field left empty.
pub fn required(lang: Lang, field: &str) -> String {
    match lang {
        Lang::En => format!("Enter your {}.", field.to_lowercase()),
        Lang::Ja => format!("{field}を入力してください。"),
    }
}

/// Why a start message was refused.
pub fn start_problem(lang: Lang, problem: &StartProblem) -> String {
    match (lang, problem) {
        (Lang::En, StartProblem::NotDecodable) => "The payment link is damaged.".into(),
        (Lang::En, StartProblem::Malformed(why)) => format!("The payment request is not well formed: {why}"),
        (Lang::En, StartProblem::Unsupported { kind, version }) => {
            format!("This wallet speaks kessai.start version 1, not {kind:?} version {version}.")
        }
        (Lang::En, StartProblem::InvalidOrder(error)) => format!("The order is not right: {}", error.message),
        (Lang::En, StartProblem::InvalidField(field)) => format!("The payment request's {field} is not right."),
        (Lang::Ja, StartProblem::NotDecodable) => "支払いリンクが壊れています。".into(),
        (Lang::Ja, StartProblem::Malformed(why)) => format!("支払い依頼の形式が正しくありません: {why}"),
        (Lang::Ja, StartProblem::Unsupported { kind, version }) => {
            format!("このウォレットは kessai.start バージョン 1 に対応しています({kind:?} バージョン {version} ではありません)。")
        }
        (Lang::Ja, StartProblem::InvalidOrder(error)) => {
            format!("注文の内容が正しくありません({}): {}", error.param, error.message)
        }
        (Lang::Ja, StartProblem::InvalidField(field)) => format!("支払い依頼の {field} が正しくありません。"),
    }
}

/// The headline of a receipt.
pub fn status(lang: Lang, status: Status) -> &'static str {
    match (lang, status) {
        (Lang::En, Status::Succeeded) => "Paid",
        (Lang::En, Status::Held) => "Paid (held during the cooling-off period)",
        (Lang::En, Status::Processing) => "Processing",
        (Lang::En, Status::Declined) => "Declined",
        (Lang::En, Status::Mismatched) => "Not paid: the shop's order and yours differ",
        (Lang::En, Status::Canceled) => "Canceled",
        (Lang::En, Status::Expired) => "Not paid: the payment request expired",
        (Lang::En, _) => "Not paid",
        (Lang::Ja, Status::Succeeded) => "支払い完了",
        (Lang::Ja, Status::Held) => "支払い完了(クーリングオフ期間中は保留)",
        (Lang::Ja, Status::Processing) => "処理中",
        (Lang::Ja, Status::Declined) => "支払いが拒否されました",
        (Lang::Ja, Status::Mismatched) => "未払い: お店の注文と内容が異なります",
        (Lang::Ja, Status::Canceled) => "キャンセル",
        (Lang::Ja, Status::Expired) => "未払い: 支払い依頼の期限が切れました",
        (Lang::Ja, _) => "未払い",
    }
}

/// Why a payment was declined.
pub fn decline(lang: Lang, code: DeclineCode) -> &'static str {
    match (lang, code) {
        (Lang::En, DeclineCode::InsufficientFunds) => "Not enough money in the account.",
        (Lang::En, DeclineCode::Restricted) => "The bank restricted this payment.",
        (Lang::En, _) => "The bank declined the payment.",
        (Lang::Ja, DeclineCode::InsufficientFunds) => "口座の残高が足りません。",
        (Lang::Ja, DeclineCode::Restricted) => "銀行がこの支払いを制限しています。",
        (Lang::Ja, _) => "銀行が支払いを拒否しました。",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_come_from_the_choice_then_the_browser() {
        assert_eq!(Lang::resolve(None, "ja-JP"), Lang::Ja);
        assert_eq!(Lang::resolve(None, "en-US"), Lang::En);
        assert_eq!(Lang::resolve(None, "fr-FR"), Lang::En);
        assert_eq!(Lang::resolve(Some(Lang::En), "ja"), Lang::En);
        assert_eq!(Lang::En.other(), Lang::Ja);
    }

    #[test]
    fn amounts_use_the_currencys_minor_units() {
        assert_eq!(amount(1155, "JPY"), "¥1,155");
        assert_eq!(amount(1050, "USD"), "$10.50");
        assert_eq!(amount(5, "EUR"), "€0.05");
        assert_eq!(amount(123_456_789, "USD"), "$1,234,567.89");
        assert_eq!(signed_amount(-1155, "JPY"), "-¥1,155");
        assert_eq!(signed_amount(1050, "USD"), "+$10.50");
    }

    #[test]
    fn protocol_names_are_exact_in_english() {
        let en = Lang::En.text();
        assert_eq!(en.add_account, "Add account");
        assert_eq!(en.server_wallet_address, "Server wallet address");
        assert_eq!(en.user_id, "User ID");
        assert_eq!(en.password, "Password");
        assert_eq!(en.when_asked, "When a shop asks for payment");
        assert_eq!(en.mode_default, "Use my default account");
        assert_eq!(en.mode_ask, "Ask me every time");
        assert_eq!(en.mode_automatic, "Choose automatically");
        assert_eq!(en.choose_how_to_pay, "Choose how to pay");
        assert_eq!(en.make_default, "Make default");
        assert_eq!(en.history, "History");
        assert_eq!(
            pay_with(Lang::En, "Sakura Bank", "sakura-debit"),
            "Pay with Sakura Bank sakura-debit"
        );
    }

    #[test]
    fn every_reason_has_words_in_both_languages() {
        let reasons = [
            Unusable::BrandNotAccepted,
            Unusable::OtherCurrency,
            Unusable::InstitutionUnreachable,
            Unusable::NotEnough,
            Unusable::SessionExpired,
        ];
        for lang in [Lang::En, Lang::Ja] {
            let texts: Vec<&str> = reasons.iter().map(|r| unusable(lang, *r)).collect();
            let mut unique = texts.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), reasons.len(), "{lang:?}: reasons must read differently");
        }
    }
}
