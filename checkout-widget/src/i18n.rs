//! What the widget says, in English and Japanese: labels, progress, field
//! problems, results with what to do next, decline reasons and server
//! errors as sentences for people.
//!
//! The labels of the card form and the pay button are part of the embedding
//! contract (PROTOCOL section 10): tests and assistive technology find the
//! inputs by them.

use kessai_protocol::api::DeclineCode;

use crate::form::Problem;
use crate::state::{Failure, PhoneNote, Status, WalletNote};

/// A language the widget speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

    /// The first spoken language of: the `lang` option, the page's `lang`,
    /// the browser's languages; English otherwise.
    pub fn resolve<'a>(option: Option<Lang>, page: Option<&str>, browser: impl IntoIterator<Item = &'a str>) -> Lang {
        option
            .or_else(|| page.and_then(Lang::from_tag))
            .or_else(|| browser.into_iter().find_map(Lang::from_tag))
            .unwrap_or(Lang::En)
    }

    /// The tag for the shadow root's `lang` attribute.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
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
    pub order: &'static str,
    pub order_number: &'static str,
    pub code: &'static str,
    pub item: &'static str,
    pub unit_price: &'static str,
    pub quantity: &'static str,
    pub subtotal: &'static str,
    pub tax: &'static str,
    pub total: &'static str,
    pub card_number: &'static str,
    pub expiry: &'static str,
    pub expiry_hint: &'static str,
    pub security_code: &'static str,
    pub card: &'static str,
    pub loading: &'static str,
    pub paying: &'static str,
    pub waiting: &'static str,
    pub try_again: &'static str,
    pub return_to_shop: &'static str,
    pub returning: &'static str,
    pub config_error: &'static str,
    /// Above the wallet buttons.
    pub wallets: &'static str,
    /// The web wallet's button (its accessible name is a contract).
    pub web_wallet: &'static str,
    pub with_wallet: &'static str,
    pub checking: &'static str,
    pub back_to_card: &'static str,
    /// "Pay with your phone": its button and its panel's heading.
    pub phone: &'static str,
    pub phone_asking: &'static str,
    pub phone_steps: &'static str,
    pub phone_waiting: &'static str,
    /// Before the digits in the number's accessible name.
    pub number: &'static str,
    pub number_expired: &'static str,
    pub new_number: &'static str,
}

static EN: Text = Text {
    order: "Your order",
    order_number: "Order number",
    code: "Code",
    item: "Item",
    unit_price: "Unit price",
    quantity: "Quantity",
    subtotal: "Subtotal",
    tax: "Tax",
    total: "Total",
    card_number: "Card number",
    expiry: "Expiry",
    expiry_hint: "MM/YY",
    security_code: "Security code",
    card: "Card",
    loading: "Loading the payment form…",
    paying: "Processing your payment. Please do not close or reload this page.",
    waiting: "Payment authorized. Waiting for the shop to confirm the order; please keep this page open.",
    try_again: "Try again",
    return_to_shop: "Return to the shop",
    returning: "Returning you to the shop…",
    config_error: "This payment form is not set up correctly, so it cannot take payments. Please contact the shop.",
    wallets: "Or pay with a wallet",
    web_wallet: "Pay with web wallet",
    with_wallet: "Complete the payment in your wallet. This page updates when it is done.",
    checking: "Checking your payment with the payment server…",
    back_to_card: "Back to card payment",
    phone: "Pay with your phone",
    phone_asking: "Getting a number for your phone…",
    phone_steps: "Open your wallet, choose Pay in store, and type this number or scan the code.",
    phone_waiting: "Waiting for your phone. This page updates when the payment is done.",
    number: "Transaction number",
    number_expired: "This number has expired, and nothing was charged. Get a new number to pay with your phone.",
    new_number: "New number",
};

static JA: Text = Text {
    order: "ご注文内容",
    order_number: "注文番号",
    code: "商品コード",
    item: "商品名",
    unit_price: "単価",
    quantity: "数量",
    subtotal: "小計",
    tax: "税",
    total: "合計",
    card_number: "カード番号",
    expiry: "有効期限",
    expiry_hint: "MM/YY",
    security_code: "セキュリティコード",
    card: "カード",
    loading: "お支払いフォームを読み込んでいます…",
    paying: "お支払いを処理しています。このページを閉じたり再読み込みしたりしないでください。",
    waiting: "お支払いは承認されました。ショップの注文確定を待っています。このページを開いたままにしてください。",
    try_again: "もう一度試す",
    return_to_shop: "ショップに戻る",
    returning: "ショップに戻ります…",
    config_error:
        "このお支払いフォームは正しく設定されていないため、お支払いできません。ショップにお問い合わせください。",
    wallets: "ウォレットで支払う",
    web_wallet: "ウェブウォレットで支払う",
    with_wallet: "ウォレットでお支払いを完了してください。完了するとこのページが更新されます。",
    checking: "決済サーバーでお支払いを確認しています…",
    back_to_card: "カードでの支払いに戻る",
    phone: "スマートフォンで支払う",
    phone_asking: "お支払い用の番号を取得しています…",
    phone_steps: "ウォレットを開いて「店頭で支払う」を選び、この番号を入力するか、コードを読み取ってください。",
    phone_waiting: "スマートフォンでのお支払いを待っています。完了するとこのページが更新されます。",
    number: "取引番号",
    number_expired: "この番号は有効期限が切れました。代金は請求されていません。新しい番号でお支払いください。",
    new_number: "新しい番号",
};

/// The pay button's text, which is also its accessible name: it starts with
/// "Pay" / 「支払う」 and says the amount.
pub fn pay_label(lang: Lang, amount: &str) -> String {
    match lang {
        Lang::En => format!("Pay {amount}"),
        Lang::Ja => format!("支払う（{amount}）"),
    }
}

/// A wallet's button: "Pay with {name}" (its accessible name is a contract).
pub fn wallet_label(lang: Lang, name: &str) -> String {
    match lang {
        Lang::En => format!("Pay with {name}"),
        Lang::Ja => format!("{name}で支払う"),
    }
}

/// The QR code's text alternative, with the number to type instead.
pub fn qr_alt(lang: Lang, number: &str) -> String {
    match lang {
        Lang::En => format!("QR code for transaction number {number}"),
        Lang::Ja => format!("取引番号 {number} のQRコード"),
    }
}

/// How long the number stays valid, as `m:ss`.
pub fn valid_for(lang: Lang, clock: &str) -> String {
    match lang {
        Lang::En => format!("Valid for {clock}"),
        Lang::Ja => format!("有効期限まで {clock}"),
    }
}

/// Why the buyer is back at the card form after choosing the phone.
fn phone_note(lang: Lang, note: PhoneNote) -> &'static str {
    match (lang, note) {
        (Lang::En, PhoneNote::Unavailable) => {
            "Paying with your phone is not available for this order. Please pay by card."
        }
        (Lang::En, PhoneNote::NoNumber) => {
            "A number for your phone could not be had just now. Try again, or pay by card."
        }
        (Lang::Ja, PhoneNote::Unavailable) => {
            "このご注文はスマートフォンでのお支払いに対応していません。カードでお支払いください。"
        }
        (Lang::Ja, PhoneNote::NoNumber) => {
            "お支払い用の番号を取得できませんでした。もう一度お試しいただくか、カードでお支払いください。"
        }
    }
}

/// Why the buyer is back at the card form after choosing a wallet.
fn wallet_note(lang: Lang, note: WalletNote) -> &'static str {
    match (lang, note) {
        (Lang::En, WalletNote::Blocked) => {
            "The wallet window could not open. Allow pop-ups for this page, or pay by card."
        }
        (Lang::En, WalletNote::Closed) => "The wallet window was closed before the payment was made.",
        (Lang::En, WalletNote::Unfinished) => {
            "The wallet did not complete the payment, and nothing was charged. Pay by card or try again."
        }
        (Lang::Ja, WalletNote::Blocked) => {
            "ウォレットのウィンドウを開けませんでした。このページのポップアップを許可するか、カードでお支払いください。"
        }
        (Lang::Ja, WalletNote::Closed) => "お支払いの前にウォレットのウィンドウが閉じられました。",
        (Lang::Ja, WalletNote::Unfinished) => {
            "ウォレットでのお支払いは完了せず、代金は請求されていません。カードでお支払いいただくか、もう一度お試しください。"
        }
    }
}

/// What is wrong with a field, and how to fix it.
pub fn problem(lang: Lang, problem: Problem) -> &'static str {
    match (lang, problem) {
        (Lang::En, Problem::NumberLength) => "Enter the whole card number (12 to 19 digits).",
        (Lang::En, Problem::NumberLuhn) => "This card number is not valid. Please check the digits.",
        (Lang::En, Problem::ExpiryFormat) => "Enter the expiry date as MM/YY, for example 04/29.",
        (Lang::En, Problem::ExpiryPast) => "This card has expired. Please use another card.",
        (Lang::En, Problem::CvcFormat) => "Enter the 3 or 4 digit security code.",
        (Lang::Ja, Problem::NumberLength) => "カード番号をすべて入力してください（12〜19桁）。",
        (Lang::Ja, Problem::NumberLuhn) => "カード番号が正しくありません。数字をご確認ください。",
        (Lang::Ja, Problem::ExpiryFormat) => "有効期限を MM/YY の形式で入力してください（例: 04/29）。",
        (Lang::Ja, Problem::ExpiryPast) => "このカードは有効期限が切れています。別のカードをご利用ください。",
        (Lang::Ja, Problem::CvcFormat) => "3桁または4桁のセキュリティコードを入力してください。",
    }
}

/// Why a card was declined, for the buyer.
pub fn decline_reason(lang: Lang, code: Option<DeclineCode>) -> &'static str {
    let en = lang == Lang::En;
    match code {
        Some(DeclineCode::InsufficientFunds) if en => "The card does not have enough available funds.",
        Some(DeclineCode::InsufficientFunds) => "カードのご利用可能額が不足しています。",
        Some(DeclineCode::CardDeclined) if en => "The card issuer declined the payment.",
        Some(DeclineCode::CardDeclined) => "カード会社がお支払いを承認しませんでした。",
        Some(DeclineCode::ExpiredCard) if en => "The card has expired.",
        Some(DeclineCode::ExpiredCard) => "カードの有効期限が切れています。",
        Some(DeclineCode::IncorrectCvc) if en => "The security code is incorrect.",
        Some(DeclineCode::IncorrectCvc) => "セキュリティコードが正しくありません。",
        Some(DeclineCode::AuthenticationFailed) if en => "The payment could not be authenticated.",
        Some(DeclineCode::AuthenticationFailed) => "ご本人確認ができませんでした。",
        Some(DeclineCode::Restricted) if en => "This purchase is restricted (for example by a minimum age).",
        Some(DeclineCode::Restricted) => "このご購入には制限があります（年齢制限など）。",
        None if en => "The payment was declined.",
        None => "お支払いが承認されませんでした。",
    }
}

/// A result's heading and what to do next.
pub fn result(lang: Lang, status: Status) -> (&'static str, &'static str) {
    match (lang, status) {
        (Lang::En, Status::Succeeded) => ("Payment complete", "Thank you. The shop has been told of your payment."),
        (Lang::En, Status::Held) => (
            "Payment accepted",
            "The amount is reserved on your card and is charged when the cooling-off period ends.",
        ),
        (Lang::En, Status::Declined) => (
            "Payment declined",
            "Nothing was charged. Return to the shop to pay with another card or another way.",
        ),
        (Lang::En, Status::Mismatched) => (
            "The order details did not match",
            "The order shown here differs from the shop's record, so nothing was charged. Return to the shop and start the checkout again.",
        ),
        (Lang::En, Status::Expired) => (
            "This checkout has expired",
            "Nothing was charged. Return to the shop to start the checkout again.",
        ),
        (Lang::En, Status::Canceled) => (
            "This checkout was canceled",
            "The shop canceled this payment; nothing was charged. Contact the shop if this is unexpected.",
        ),
        (Lang::En, Status::Refunded) => ("This order was paid and refunded", "Contact the shop about the refund if you have questions."),
        (Lang::Ja, Status::Succeeded) => ("お支払いが完了しました", "ありがとうございました。お支払いはショップに通知されました。"),
        (Lang::Ja, Status::Held) => (
            "お支払いを受け付けました",
            "代金はカードに仮押さえされ、クーリングオフ期間の終了後に請求されます。",
        ),
        (Lang::Ja, Status::Declined) => (
            "お支払いができませんでした",
            "代金は請求されていません。ショップに戻り、別のカードまたは別の方法でお支払いください。",
        ),
        (Lang::Ja, Status::Mismatched) => (
            "注文内容が一致しませんでした",
            "ここに表示された注文がショップの記録と異なるため、代金は請求されていません。ショップに戻ってもう一度お手続きください。",
        ),
        (Lang::Ja, Status::Expired) => (
            "お支払いの期限が切れました",
            "代金は請求されていません。ショップに戻ってもう一度お手続きください。",
        ),
        (Lang::Ja, Status::Canceled) => (
            "このお支払いはキャンセルされました",
            "ショップがこのお支払いをキャンセルしました。代金は請求されていません。",
        ),
        (Lang::Ja, Status::Refunded) => ("このご注文は返金済みです", "返金についてはショップにお問い合わせください。"),
    }
}

/// A failure as a sentence for the buyer; never the server's raw text.
pub fn failure(lang: Lang, failure: &Failure) -> &'static str {
    let en = lang == Lang::En;
    let code = match failure {
        Failure::Config { .. } => return lang.text().config_error,
        Failure::Unknown { http_status: 0, .. } if en => {
            return "We could not reach the payment server. Check your connection and try again."
        }
        Failure::Unknown { http_status: 0, .. } => {
            return "決済サーバーに接続できませんでした。通信環境をご確認のうえ、もう一度お試しください。"
        }
        Failure::Unknown { http_status: 429, .. } if en => {
            return "Too many attempts. Please wait a moment and try again."
        }
        Failure::Unknown { http_status: 429, .. } => {
            return "試行回数が多すぎます。しばらく待ってからもう一度お試しください。"
        }
        Failure::Unknown { .. } if en => {
            return "The payment server could not answer just now. Please try again; you will not be charged twice."
        }
        Failure::Unknown { .. } => {
            return "決済サーバーが応答できませんでした。もう一度お試しください。二重に請求されることはありません。"
        }
        Failure::Closed => "settlement_expired",
        Failure::Wallet(note) => return wallet_note(lang, *note),
        Failure::Phone(note) => return phone_note(lang, *note),
        Failure::Rejected { code } | Failure::Fatal { code } => code.as_str(),
    };
    server_error(lang, code)
}

/// The common error codes of the server as sentences; others get a general one.
fn server_error(lang: Lang, code: &str) -> &'static str {
    let en = lang == Lang::En;
    match code {
        "card_number_invalid" => problem(lang, Problem::NumberLuhn),
        "card_expiry_invalid" => problem(lang, Problem::ExpiryFormat),
        "card_cvc_invalid" => problem(lang, Problem::CvcFormat),
        "client_secret_invalid" | "payer_secret_invalid" | "settlement_not_found" | "parameter_missing" if en => {
            "This payment link is not valid. Please return to the shop and start the checkout again."
        }
        "client_secret_invalid" | "payer_secret_invalid" | "settlement_not_found" | "parameter_missing" => {
            "このお支払い情報は無効です。ショップに戻ってもう一度お手続きください。"
        }
        "merchant_not_found" | "origin_not_allowed" if en => {
            "This shop cannot take payments with this form. Please contact the shop."
        }
        "merchant_not_found" | "origin_not_allowed" => {
            "このショップはこのフォームでお支払いを受け付けられません。ショップにお問い合わせください。"
        }
        "settlement_expired" | "settlement_canceled" => result(lang, Status::Expired).1,
        code if code.starts_with("order_") || code.starts_with("item") || code == "currency_invalid" => {
            if en {
                "The order details are not valid, so nothing was charged. Please contact the shop."
            } else {
                "注文内容に誤りがあるため、お支払いできません。ショップにお問い合わせください。"
            }
        }
        _ if en => "The payment could not be completed. Please check your details and try again, or contact the shop.",
        _ => "お支払いを完了できませんでした。入力内容をご確認のうえもう一度お試しいただくか、ショップにお問い合わせください。",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Stage;

    #[test]
    fn tags_resolve_in_order() {
        assert_eq!(Lang::from_tag("ja-JP"), Some(Lang::Ja));
        assert_eq!(Lang::from_tag("EN_gb"), Some(Lang::En));
        assert_eq!(Lang::from_tag("fr"), None);
        assert_eq!(Lang::from_tag(""), None);
        assert_eq!(Lang::resolve(Some(Lang::Ja), Some("en"), ["en"]), Lang::Ja);
        assert_eq!(Lang::resolve(None, Some("ja"), ["en"]), Lang::Ja);
        assert_eq!(Lang::resolve(None, Some("de"), ["fr", "ja-JP"]), Lang::Ja);
        assert_eq!(Lang::resolve(None, None, ["fr"]), Lang::En);
    }

    #[test]
    fn contract_labels() {
        // PROTOCOL section 10.
        assert_eq!(
            (EN.card_number, EN.expiry, EN.security_code),
            ("Card number", "Expiry", "Security code")
        );
        assert_eq!(
            (JA.card_number, JA.expiry, JA.security_code),
            ("カード番号", "有効期限", "セキュリティコード")
        );
        assert_eq!(pay_label(Lang::En, "¥1,155"), "Pay ¥1,155");
        assert!(pay_label(Lang::Ja, "¥1,155").starts_with("支払う"));
        assert!(pay_label(Lang::Ja, "¥1,155").contains("¥1,155"));
    }

    #[test]
    fn wallet_buttons_keep_their_accessible_names() {
        // PROTOCOL section 12; the end-to-end tests find the buttons by them.
        assert_eq!(wallet_label(Lang::En, "Kessai Wallet"), "Pay with Kessai Wallet");
        assert_eq!(EN.web_wallet, "Pay with web wallet");
        assert_eq!(wallet_label(Lang::Ja, "Kessai Wallet"), "Kessai Walletで支払う");
        assert_eq!(JA.web_wallet, "ウェブウォレットで支払う");
    }

    #[test]
    fn the_phone_button_keeps_its_accessible_name() {
        // The end-to-end test finds the button by it.
        assert_eq!(EN.phone, "Pay with your phone");
        assert_eq!(JA.phone, "スマートフォンで支払う");
        assert_eq!(qr_alt(Lang::En, "48213907"), "QR code for transaction number 48213907");
        assert_eq!(valid_for(Lang::En, "4:59"), "Valid for 4:59");
    }

    #[test]
    fn every_decline_code_has_its_own_reason() {
        let codes = DeclineCode::ALL;
        for lang in [Lang::En, Lang::Ja] {
            let generic = decline_reason(lang, None);
            let mut reasons: Vec<_> = codes.iter().map(|c| decline_reason(lang, Some(*c))).collect();
            assert!(reasons.iter().all(|r| *r != generic));
            reasons.sort_unstable();
            reasons.dedup();
            assert_eq!(reasons.len(), codes.len());
        }
        assert_eq!(decline_reason(Lang::En, None), "The payment was declined.");
    }

    #[test]
    fn failures_are_sentences_not_codes() {
        let failures = [
            Failure::Rejected {
                code: "card_cvc_invalid".into(),
            },
            Failure::Rejected {
                code: "order_total_mismatch".into(),
            },
            Failure::Rejected {
                code: "something_else".into(),
            },
            Failure::Fatal {
                code: "client_secret_invalid".into(),
            },
            Failure::Unknown {
                stage: Stage::Confirm,
                http_status: 0,
            },
            Failure::Unknown {
                stage: Stage::Confirm,
                http_status: 503,
            },
            Failure::Config { message: "m".into() },
            Failure::Wallet(WalletNote::Blocked),
            Failure::Wallet(WalletNote::Closed),
            Failure::Wallet(WalletNote::Unfinished),
            Failure::Phone(PhoneNote::Unavailable),
            Failure::Phone(PhoneNote::NoNumber),
        ];
        for lang in [Lang::En, Lang::Ja] {
            for failure in &failures {
                let text = super::failure(lang, failure);
                assert!(!text.contains('_') && !text.contains('{'), "{text}");
            }
        }
        assert_eq!(
            super::failure(Lang::En, &failures[0]),
            "Enter the 3 or 4 digit security code."
        );
    }

    #[test]
    fn every_result_says_what_to_do_next() {
        for lang in [Lang::En, Lang::Ja] {
            for status in [
                Status::Succeeded,
                Status::Held,
                Status::Declined,
                Status::Mismatched,
                Status::Expired,
                Status::Canceled,
                Status::Refunded,
            ] {
                let (heading, next) = result(lang, status);
                assert!(!heading.is_empty() && !next.is_empty());
            }
        }
    }
}
