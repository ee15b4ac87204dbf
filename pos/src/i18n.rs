//! What the terminal says, in English and Japanese. The language is the
//! web wallet's [`Lang`] and resolved by the same rule (the clerk's choice,
//! else the browser's); the English labels are what tests and assistive
//! technology find controls by.

use kessai_protocol::api::DeclineCode;
use kessai_protocol::terminal::{ChallengeStatus, TransactionStatus};
use kessai_wallet::i18n::{self as wallet_i18n, Lang};

/// The fixed texts of one language.
pub struct Text {
    pub app_name: &'static str,
    pub switch_language: &'static str,
    pub sign_in_title: &'static str,
    pub sign_in_hint: &'static str,
    pub terminal_key: &'static str,
    pub sign_in: &'static str,
    pub signing_in: &'static str,
    pub sign_out: &'static str,
    pub settings: &'static str,
    pub new_sale: &'static str,
    pub mode_amount: &'static str,
    pub mode_items: &'static str,
    pub mode_customer: &'static str,
    pub amount: &'static str,
    pub clear: &'static str,
    pub backspace: &'static str,
    pub charge: &'static str,
    pub show_number: &'static str,
    pub customer_orders_hint: &'static str,
    pub cart_empty: &'static str,
    pub add_one: &'static str,
    pub remove_one: &'static str,
    pub total: &'static str,
    pub getting_number: &'static str,
    pub transaction_number: &'static str,
    pub enter_number: &'static str,
    pub scan_code: &'static str,
    pub expires_in: &'static str,
    pub cancel: &'static str,
    pub canceling: &'static str,
    pub synchronized: &'static str,
    pub payer: &'static str,
    pub ask_for_pin: &'static str,
    pub asking: &'static str,
    pub waiting_for_order: &'static str,
    pub customer_order: &'static str,
    pub waiting_for_confirm: &'static str,
    pub paid: &'static str,
    pub declined: &'static str,
    pub expired: &'static str,
    pub canceled: &'static str,
    pub print: &'static str,
    pub currency: &'static str,
    pub articles: &'static str,
    pub article_name: &'static str,
    pub price: &'static str,
    pub add_article: &'static str,
    pub delete: &'static str,
    pub save: &'static str,
    pub back: &'static str,
    pub reset_articles: &'static str,
    pub bad_price: &'static str,
    pub network_error: &'static str,
    pub bad_response: &'static str,
    pub key_refused: &'static str,
}

pub fn text(lang: Lang) -> &'static Text {
    match lang {
        Lang::En => &EN,
        Lang::Ja => &JA,
    }
}

const EN: Text = Text {
    app_name: "Kessai POS",
    switch_language: "日本語",
    sign_in_title: "Sign in this terminal",
    sign_in_hint: "Paste the terminal key that `kessai terminal register` printed. It stays in this tab only.",
    terminal_key: "Terminal key",
    sign_in: "Sign in",
    signing_in: "Signing in…",
    sign_out: "Sign out",
    settings: "Settings",
    new_sale: "New sale",
    mode_amount: "Amount",
    mode_items: "Items",
    mode_customer: "Let the customer order",
    amount: "Amount",
    clear: "Clear",
    backspace: "Delete last digit",
    charge: "Charge",
    show_number: "Show number",
    customer_orders_hint: "The customer picks from these articles on their phone; you see the order when it arrives.",
    cart_empty: "Tap an article to add it.",
    add_one: "Add one",
    remove_one: "Remove one",
    total: "Total",
    getting_number: "Getting a number…",
    transaction_number: "Transaction number",
    enter_number: "Enter this number in your wallet app",
    scan_code: "or scan the code",
    expires_in: "Expires in",
    cancel: "Cancel",
    canceling: "Canceling…",
    synchronized: "Synchronized",
    payer: "Customer",
    ask_for_pin: "Ask for PIN",
    asking: "Asking…",
    waiting_for_order: "Waiting for the customer's order…",
    customer_order: "The customer's order",
    waiting_for_confirm: "Waiting for the customer to confirm the payment…",
    paid: "Paid",
    declined: "Declined",
    expired: "Expired",
    canceled: "Canceled",
    print: "Print",
    currency: "Currency",
    articles: "Articles",
    article_name: "Name",
    price: "Price",
    add_article: "Add article",
    delete: "Delete",
    save: "Save",
    back: "Back",
    reset_articles: "Restore the default articles",
    bad_price: "Check the prices: each must be a price in the chosen currency.",
    network_error: "Could not reach the server. Check the connection and try again.",
    bad_response: "The server gave an answer this terminal does not understand.",
    key_refused: "This terminal key is not valid any more. Sign in with a new one.",
};

const JA: Text = Text {
    app_name: "Kessai POS",
    switch_language: "English",
    sign_in_title: "端末にサインイン",
    sign_in_hint: "`kessai terminal register` が表示した端末キーを貼り付けてください。このタブにだけ保存されます。",
    terminal_key: "端末キー",
    sign_in: "サインイン",
    signing_in: "サインイン中…",
    sign_out: "サインアウト",
    settings: "設定",
    new_sale: "新しい会計",
    mode_amount: "金額",
    mode_items: "商品",
    mode_customer: "お客様が注文",
    amount: "金額",
    clear: "クリア",
    backspace: "1桁消す",
    charge: "請求",
    show_number: "番号を表示",
    customer_orders_hint: "お客様がスマートフォンでこの商品から選びます。注文が届くとここに表示されます。",
    cart_empty: "商品をタップして追加します。",
    add_one: "1つ追加",
    remove_one: "1つ減らす",
    total: "合計",
    getting_number: "番号を取得中…",
    transaction_number: "取引番号",
    enter_number: "この番号をウォレットアプリに入力してください",
    scan_code: "またはコードを読み取ってください",
    expires_in: "有効期限まで",
    cancel: "取消",
    canceling: "取消中…",
    synchronized: "同期しました",
    payer: "お客様",
    ask_for_pin: "暗証番号を求める",
    asking: "要求中…",
    waiting_for_order: "お客様の注文を待っています…",
    customer_order: "お客様の注文",
    waiting_for_confirm: "お客様の支払い確認を待っています…",
    paid: "支払い完了",
    declined: "拒否されました",
    expired: "期限切れ",
    canceled: "取り消しました",
    print: "印刷",
    currency: "通貨",
    articles: "商品",
    article_name: "名前",
    price: "価格",
    add_article: "商品を追加",
    delete: "削除",
    save: "保存",
    back: "戻る",
    reset_articles: "初期の商品に戻す",
    bad_price: "価格を確認してください。選んだ通貨の価格である必要があります。",
    network_error: "サーバに接続できませんでした。接続を確認してもう一度お試しください。",
    bad_response: "サーバから理解できない応答がありました。",
    key_refused: "この端末キーはもう使えません。新しいキーでサインインしてください。",
};

/// The final screen's headline.
pub fn outcome(lang: Lang, status: TransactionStatus) -> &'static str {
    let text = text(lang);
    match status {
        TransactionStatus::Succeeded => text.paid,
        TransactionStatus::Declined => text.declined,
        TransactionStatus::Expired => text.expired,
        TransactionStatus::Canceled => text.canceled,
        TransactionStatus::AwaitingPayer | TransactionStatus::Synchronized => "",
    }
}

/// Why the payer's institution declined, in the wallet's words.
pub fn decline(lang: Lang, code: DeclineCode) -> &'static str {
    wallet_i18n::decline(lang, code)
}

/// The PIN challenge's state for the clerk.
pub fn challenge(lang: Lang, status: ChallengeStatus) -> &'static str {
    match (lang, status) {
        (Lang::En, ChallengeStatus::Pending) => "PIN asked: waiting for the customer",
        (Lang::En, ChallengeStatus::Passed) => "PIN correct",
        (Lang::En, ChallengeStatus::Failed) => "PIN wrong: the payment cannot go ahead",
        (Lang::Ja, ChallengeStatus::Pending) => "暗証番号を要求中: お客様の入力を待っています",
        (Lang::Ja, ChallengeStatus::Passed) => "暗証番号は正しいです",
        (Lang::Ja, ChallengeStatus::Failed) => "暗証番号が違います: この支払いは続けられません",
    }
}

/// Seconds left as `m:ss`; 0 when past.
pub fn countdown(seconds_left: i64) -> String {
    let left = seconds_left.max(0);
    format!("{}:{:02}", left / 60, left % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countdowns_read_as_minutes_and_seconds() {
        assert_eq!(countdown(299), "4:59");
        assert_eq!(countdown(60), "1:00");
        assert_eq!(countdown(5), "0:05");
        assert_eq!(countdown(-3), "0:00");
    }

    #[test]
    fn every_outcome_has_words_in_both_languages() {
        use TransactionStatus::*;
        for lang in [Lang::En, Lang::Ja] {
            for status in [Succeeded, Declined, Expired, Canceled] {
                assert!(!outcome(lang, status).is_empty());
            }
        }
        assert_eq!(outcome(Lang::En, Succeeded), "Paid");
    }
}
