//! What the wallet says, in English and Japanese.
//!
//! The English labels of the screens are part of PROTOCOL section 12 ("Add
//! account", "Server wallet address", "Choose how to pay", "Pay with
//! {institution name} {brand}", …): end-to-end tests and assistive
//! technology find controls by them, so they change only with the protocol.

use kessai_protocol::api::{DeclineCode, Status};
use kessai_protocol::money::format_amount;
use serde::{Deserialize, Serialize};

use kessai_protocol::terminal::TransactionStatus;

use crate::connectors::AddressProblem;
use crate::in_store::StoreProblem;
use crate::selector::Unusable;
use crate::start::StartProblem;
use crate::transaction_number::NumberProblem;

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
    pub pay_in_store: &'static str,
    pub transaction_number: &'static str,
    pub transaction_number_hint: &'static str,
    pub find_transaction: &'static str,
    pub looking_up: &'static str,
    pub scan_qr: &'static str,
    pub stop_scanning: &'static str,
    pub point_camera: &'static str,
    pub terminal: &'static str,
    pub location: &'static str,
    pub amount_label: &'static str,
    pub check_before_paying: &'static str,
    pub choose_from_menu: &'static str,
    pub send_order: &'static str,
    pub sending_order: &'static str,
    pub pin_requested: &'static str,
    pub authentication_requested: &'static str,
    pub pin: &'static str,
    pub send_pin: &'static str,
    pub authenticate: &'static str,
    pub checking_pin: &'static str,
    pub challenge_failed_start_again: &'static str,
    pub waiting_for_terminal: &'static str,
    pub authenticated: &'static str,
    pub receipt_no: &'static str,
    pub pay_another: &'static str,
    pub tickets: &'static str,
    pub ticket: &'static str,
    pub no_tickets: &'static str,
    pub valid_from: &'static str,
    pub valid_until: &'static str,
    pub ticket_qr: &'static str,
    pub ticket_code: &'static str,
    pub show_at_entrance: &'static str,
    pub inside: &'static str,
    pub exit_hint: &'static str,
    pub gate_fee: &'static str,
    pub entered_at: &'static str,
    pub choose_one: &'static str,
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
    pay_in_store: "Pay in store",
    transaction_number: "Transaction number",
    transaction_number_hint: "The 8 digits the register, machine or web page shows.",
    find_transaction: "Continue",
    looking_up: "Looking up the transaction…",
    scan_qr: "Scan QR code",
    stop_scanning: "Stop scanning",
    point_camera: "Point the camera at the QR code.",
    terminal: "Terminal",
    location: "Location",
    amount_label: "Amount",
    check_before_paying: "Check who bills you and the amount before you pay.",
    choose_from_menu: "Choose what you want",
    send_order: "Send order",
    sending_order: "Sending the order…",
    pin_requested: "The terminal asks for your PIN.",
    authentication_requested: "A terminal asks you to prove it is you: enter your PIN.",
    pin: "PIN",
    send_pin: "Send PIN",
    authenticate: "Authenticate",
    checking_pin: "Checking the PIN…",
    challenge_failed_start_again:
        "The PIN was wrong too often: this payment cannot go on. Ask the clerk to start again.",
    waiting_for_terminal: "Waiting for the terminal…",
    authenticated: "Authenticated",
    receipt_no: "Receipt number",
    pay_another: "Pay something else",
    tickets: "Tickets",
    ticket: "Ticket",
    no_tickets: "No tickets yet. Tickets you buy at a ticket machine appear here.",
    valid_from: "Valid from",
    valid_until: "Valid until",
    ticket_qr: "Ticket QR code for the entrance",
    ticket_code: "Ticket code (to copy)",
    show_at_entrance: "Show the QR code at the entrance. It admits once.",
    inside: "You are inside",
    exit_hint: "At the exit, enter the exit gate's number: the wallet sends your admission with it.",
    gate_fee: "Gate fee",
    entered_at: "Entered at",
    choose_one: "Choose one",
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
    pay_in_store: "店頭で支払う",
    transaction_number: "取引番号",
    transaction_number_hint: "レジ・機械・ウェブページに表示された8桁の番号です。",
    find_transaction: "次へ",
    looking_up: "取引を確認しています…",
    scan_qr: "QRコードを読み取る",
    stop_scanning: "読み取りをやめる",
    point_camera: "カメラをQRコードに向けてください。",
    terminal: "端末",
    location: "場所",
    amount_label: "金額",
    check_before_paying: "支払う前に、請求元と金額を確認してください。",
    choose_from_menu: "ご希望の商品を選んでください",
    send_order: "注文を送る",
    sending_order: "注文を送信しています…",
    pin_requested: "端末がPINの入力を求めています。",
    authentication_requested: "端末が本人確認を求めています。PINを入力してください。",
    pin: "PIN",
    send_pin: "PINを送る",
    authenticate: "認証する",
    checking_pin: "PINを確認しています…",
    challenge_failed_start_again:
        "PINの誤りが多すぎたため、この支払いは続けられません。店員にやり直しを依頼してください。",
    waiting_for_terminal: "端末を待っています…",
    authenticated: "認証しました",
    receipt_no: "領収書番号",
    pay_another: "別の支払いをする",
    tickets: "チケット",
    ticket: "チケット",
    no_tickets: "チケットはまだありません。券売機で買ったチケットがここに表示されます。",
    valid_from: "有効開始",
    valid_until: "有効期限",
    ticket_qr: "入場用のチケットQRコード",
    ticket_code: "チケットコード（コピー用）",
    show_at_entrance: "入口でQRコードを見せてください。入場は1回限りです。",
    inside: "入場中",
    exit_hint: "出口では出口ゲートの番号を入力してください。ウォレットが入場情報を一緒に送ります。",
    gate_fee: "ゲート料金",
    entered_at: "入場日時",
    choose_one: "1つ選んでください",
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
        (Lang::En, DeclineCode::Restricted) => "This purchase is restricted for this account (for example by age).",
        (Lang::En, _) => "The bank declined the payment.",
        (Lang::Ja, DeclineCode::InsufficientFunds) => "口座の残高が足りません。",
        (Lang::Ja, DeclineCode::Restricted) => "この購入はこのアカウントでは制限されています（年齢など）。",
        (Lang::Ja, _) => "銀行が支払いを拒否しました。",
    }
}

/// The in-store "Pay" button: "Pay ¥1,155". Its accessible name starts
/// with "Pay" in English (PROTOCOL section 13), which tests find it by.
pub fn pay_amount(lang: Lang, amount: &str) -> String {
    match lang {
        Lang::En => format!("Pay {amount}"),
        Lang::Ja => format!("{amount}を支払う"),
    }
}

/// The accessible names of a menu stepper's buttons.
pub fn stepper(lang: Lang, more: bool, article: &str) -> String {
    match (lang, more) {
        (Lang::En, true) => format!("One more {article}"),
        (Lang::En, false) => format!("One less {article}"),
        (Lang::Ja, true) => format!("{article}を1つ増やす"),
        (Lang::Ja, false) => format!("{article}を1つ減らす"),
    }
}

/// What went wrong on the "Pay in store" screen.
pub fn store_problem(lang: Lang, problem: &StoreProblem) -> String {
    let words = match (lang, problem) {
        (_, StoreProblem::Refused(error)) => return error.message(lang),
        (Lang::En, StoreProblem::Number(NumberProblem::Empty)) => "Enter the transaction number.",
        (Lang::En, StoreProblem::Number(NumberProblem::NotEightDigits)) => "The transaction number is 8 digits.",
        (Lang::En, StoreProblem::NotATransactionQr) => "This QR code holds no transaction number.",
        (Lang::En, StoreProblem::Camera) => "The camera could not be opened. Type the number instead.",
        (Lang::En, StoreProblem::NoSession) => "Log in to an account first: no session can look the number up.",
        (Lang::En, StoreProblem::NoSuchTransaction) => {
            "No transaction with this number. Check the number, or ask for a new one."
        }
        (Lang::En, StoreProblem::PinFormat) => "The PIN is 4 to 8 digits.",
        (Lang::En, StoreProblem::PinIncorrect) => "Wrong PIN. Try again.",
        (Lang::En, StoreProblem::ChallengePending) => "Enter your PIN first.",
        (Lang::En, StoreProblem::ChallengeFailed) => Lang::En.text().challenge_failed_start_again,
        (Lang::En, StoreProblem::AmountMismatch) => "The amount changed. Nothing was paid: check the new amount.",
        (Lang::En, StoreProblem::NoAdmission) => {
            "This is an exit gate, and this wallet holds no admission from its entrance. Ask the staff."
        }
        (Lang::En, StoreProblem::AdmissionUsed) => "This admission is being used at another exit.",
        (Lang::Ja, StoreProblem::Number(NumberProblem::Empty)) => "取引番号を入力してください。",
        (Lang::Ja, StoreProblem::Number(NumberProblem::NotEightDigits)) => "取引番号は8桁の数字です。",
        (Lang::Ja, StoreProblem::NotATransactionQr) => "このQRコードには取引番号がありません。",
        (Lang::Ja, StoreProblem::Camera) => "カメラを起動できませんでした。番号を入力してください。",
        (Lang::Ja, StoreProblem::NoSession) => {
            "先に口座にログインしてください。番号を確認できるセッションがありません。"
        }
        (Lang::Ja, StoreProblem::NoSuchTransaction) => {
            "この番号の取引はありません。番号を確認するか、新しい番号を依頼してください。"
        }
        (Lang::Ja, StoreProblem::PinFormat) => "PINは4〜8桁の数字です。",
        (Lang::Ja, StoreProblem::PinIncorrect) => "PINが違います。もう一度入力してください。",
        (Lang::Ja, StoreProblem::ChallengePending) => "先にPINを入力してください。",
        (Lang::Ja, StoreProblem::ChallengeFailed) => Lang::Ja.text().challenge_failed_start_again,
        (Lang::Ja, StoreProblem::NoAdmission) => {
            "出口ゲートの番号ですが、このウォレットにはその入口の入場情報がありません。係員にお尋ねください。"
        }
        (Lang::Ja, StoreProblem::AdmissionUsed) => "この入場情報は別の出口で使われています。",
        (Lang::Ja, StoreProblem::AmountMismatch) => {
            "金額が変わりました。支払いは行われていません。新しい金額を確認してください。"
        }
    };
    words.to_string()
}

/// After an entry gate (C6): "You entered {merchant} at {time}".
pub fn entered(lang: Lang, merchant: &str, time: &str) -> String {
    match lang {
        Lang::En => format!("You entered {merchant} at {time}"),
        Lang::Ja => format!("{time}に{merchant}に入場しました"),
    }
}

/// After a paid exit gate (C6).
pub fn exited(lang: Lang, merchant: &str) -> String {
    match lang {
        Lang::En => format!("The gate of {merchant} opens. Have a good trip."),
        Lang::Ja => format!("{merchant}のゲートが開きます。お気をつけて。"),
    }
}

/// After a vending machine's sale (C5).
pub fn dispensing(lang: Lang, article: &str) -> String {
    match lang {
        Lang::En => format!("Dispensing {article}"),
        Lang::Ja => format!("{article}を出しています"),
    }
}

/// The headline of an in-store result.
pub fn terminal_outcome(lang: Lang, status: TransactionStatus) -> &'static str {
    match (lang, status) {
        (Lang::En, TransactionStatus::Succeeded) => "Paid",
        (Lang::En, TransactionStatus::Declined) => "Declined",
        (Lang::En, TransactionStatus::Expired) => "Not paid: the transaction number expired",
        (Lang::En, TransactionStatus::Canceled) => "Not paid: the terminal canceled the transaction",
        (Lang::En, _) => "Not paid",
        (Lang::Ja, TransactionStatus::Succeeded) => "支払い完了",
        (Lang::Ja, TransactionStatus::Declined) => "支払いが拒否されました",
        (Lang::Ja, TransactionStatus::Expired) => "未払い: 取引番号の期限が切れました",
        (Lang::Ja, TransactionStatus::Canceled) => "未払い: 端末が取引を取り消しました",
        (Lang::Ja, _) => "未払い",
    }
}

/// The words of the server wallet API's failures, here beside the other
/// texts (the API client knows nothing of languages).
impl crate::api::ApiError {
    /// A sentence for the user. The server's own message is shown for
    /// refusals: it is written for people and never echoes secrets.
    pub fn message(&self, lang: Lang) -> String {
        let text = lang.text();
        match self {
            crate::api::ApiError::Network => text.network_error.to_string(),
            crate::api::ApiError::SessionExpired => text.session_expired_log_in.to_string(),
            crate::api::ApiError::Refused {
                retry_after_s: Some(seconds),
                ..
            } => format!("{} {seconds} s.", text.rate_limited),
            crate::api::ApiError::Refused { detail, .. } => detail.message.clone(),
            crate::api::ApiError::BadResponse(status) => format!("{} (HTTP {status})", text.bad_response),
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn api_failures_read_as_sentences() {
        use crate::api::{classify, ApiError};
        let refused = r#"{"error":{"type":"invalid_request_error","code":"authentication_failed","message":"Wrong user id or password."}}"#;
        assert_eq!(
            classify(401, refused, None, false).message(Lang::En),
            "Wrong user id or password."
        );
        let limited = r#"{"error":{"type":"rate_limit_error","code":"rate_limited","message":"Too many."}}"#;
        assert_eq!(
            classify(429, limited, Some("120"), false).message(Lang::En),
            "Too many attempts. Try again in 120 s."
        );
        assert!(ApiError::BadResponse(502).message(Lang::En).contains("502"));
    }

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
        assert_eq!(en.pay_in_store, "Pay in store");
        assert_eq!(en.transaction_number, "Transaction number");
        assert_eq!(en.scan_qr, "Scan QR code");
        assert_eq!(pay_amount(Lang::En, "¥1,155"), "Pay ¥1,155");
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
