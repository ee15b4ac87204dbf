//! Payment instruments held at the institution: test cards (issued by
//! `kessai card issue`) and wallet users (`kessai user create`), and how a
//! second request's payment method is resolved to a ledger account.
//!
//! The PAN is stored only as a keyed hash plus brand and last four digits;
//! the CVC is computed from the PAN and expiry, never stored; passwords are
//! argon2 hashes; user keys are sealed with the master key.

use crate::store::Reader;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use kessai_protocol::api::{CardDetails, DeclineCode, PaymentType};
use kessai_protocol::jws::{self, PayerClaims, PAYER_AUTHENTICATOR_TTL_S};
use kessai_protocol::money::{self, Money};
use kessai_protocol::{card, keys, Order};
use rand::Rng;
use serde::Serialize;

use crate::args;
use crate::store::Conn;

use crate::error::{Error, Result};
use crate::keyring::{self, Keyring};
use crate::ledger;

/// How far ahead of our clock an authenticator's `iat` may be.
const CLOCK_SKEW_S: i64 = 60;

/// What `kessai card issue` prints: the only time the number and CVC are
/// shown. `Debug` masks them.
#[derive(Serialize)]
pub struct IssuedCard {
    pub card_number: String,
    pub exp_month: u32,
    pub exp_year: u32,
    pub cvc: String,
    pub account_id: String,
}

/// What `kessai user create` prints: the only time the user key is shown.
/// `Debug` masks it.
#[derive(Serialize)]
pub struct CreatedUser {
    pub user_id: String,
    pub user_key: String,
    pub account_id: String,
}

impl std::fmt::Debug for IssuedCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCard")
            .field("card_number", &format_args!("…{}", card::last4(&self.card_number)))
            .field("exp_month", &self.exp_month)
            .field("exp_year", &self.exp_year)
            .field("cvc", &format_args!("***"))
            .field("account_id", &self.account_id)
            .finish()
    }
}

impl std::fmt::Debug for CreatedUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedUser")
            .field("user_id", &self.user_id)
            .field("user_key", &format_args!("uk_***"))
            .field("account_id", &self.account_id)
            .finish()
    }
}

fn opening_balance(balance: i64, currency: &str) -> anyhow::Result<Money> {
    anyhow::ensure!(
        money::minor_units(currency).is_some(),
        "--currency {currency:?} is not an ISO 4217 code"
    );
    anyhow::ensure!(
        (0..=money::AMOUNT_MAX as i64).contains(&balance),
        "--balance must be 0 to {} (minor units)",
        money::AMOUNT_MAX
    );
    let minor = u64::try_from(balance)?;
    Money::new(minor, currency, "--balance").map_err(|e| anyhow::anyhow!(e.message))
}

/// The checks of [`issue_card`] that need no database, so that `kessai card
/// issue` refuses bad input before it creates a database or key file.
/// Returns the opening balance.
pub fn check_card(brand: &str, balance: i64, currency: &str, expiry: Option<(u32, u32)>) -> anyhow::Result<Money> {
    let balance = opening_balance(balance, currency)?;
    anyhow::ensure!(
        !brand.is_empty() && brand.len() <= 64,
        "--brand must be 1 to 64 characters"
    );
    if let Some((m, y)) = expiry {
        card::check_expiry_fields(m, y, "card").map_err(|e| anyhow::anyhow!(e.message))?;
    }
    Ok(balance)
}

/// Issues a test card backed by a funded ledger account.
pub async fn issue_card(
    conn: &mut Conn,
    keyring: &Keyring,
    brand: &str,
    holder: &str,
    balance: i64,
    currency: &str,
    expiry: Option<(u32, u32)>,
) -> anyhow::Result<IssuedCard> {
    let balance = check_card(brand, balance, currency, expiry)?;
    let now = crate::clock::now();
    let (exp_month, exp_year) = expiry.unwrap_or((12, civil_year(now) + 4));
    // Every card this institution issues starts with its prefix, so that
    // its peers can tell which institution to ask (PROTOCOL 11).
    let prefix = crate::institution::load_or_create(conn, keyring).await?.card_prefix;
    conn.begin().await?;
    let issued = async {
        let account_id = ledger::open_funded_account(conn, holder, &balance, now).await?;
        // 16 digits: the institution's prefix, random digits, a Luhn check
        // digit. Retry on the (unlikely) collision with an issued card.
        for _ in 0..8 {
            let random_len = 15usize.saturating_sub(prefix.len());
            let payload: String = prefix
                .chars()
                .chain((0..random_len).map(|_| char::from(b'0' + rand::thread_rng().gen_range(0..10u8))))
                .collect();
            let number = card::with_check_digit(&payload);
            let inserted = conn
                .execute(
                    "INSERT INTO cards (pan_hash, account_id, brand, last4, exp_month, exp_year, holder, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (pan_hash) DO NOTHING",
                    args![
                        keyring.pan_hash(&number),
                        &account_id,
                        brand,
                        card::last4(&number),
                        i64::from(exp_month),
                        i64::from(exp_year),
                        holder,
                        now
                    ],
                )
                .await?;
            if inserted == 1 {
                let cvc = keyring.cvc(&number, exp_month, exp_year);
                return Ok(IssuedCard {
                    card_number: number,
                    exp_month,
                    exp_year,
                    cvc,
                    account_id,
                });
            }
        }
        anyhow::bail!("could not find an unused card number")
    }
    .await;
    conn.finish(issued).await
}

fn civil_year(unix_s: i64) -> u32 {
    // Days to civil year (Howard Hinnant's algorithm), integer only.
    let z = unix_s.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    year as u32
}

/// The checks of [`create_user`] that need no database, so that `kessai
/// user create` refuses bad input before it creates a database or key file.
/// Returns the opening balance.
pub fn check_user(name: &str, password: &str, balance: i64, currency: &str) -> anyhow::Result<Money> {
    let balance = opening_balance(balance, currency)?;
    anyhow::ensure!(
        password.chars().count() >= 8,
        "--password must be at least 8 characters"
    );
    anyhow::ensure!(
        !name.trim().is_empty() && name.len() <= 200,
        "--name must be 1 to 200 characters"
    );
    Ok(balance)
}

pub async fn create_user(
    conn: &mut Conn,
    keyring: &Keyring,
    name: &str,
    password: &str,
    balance: i64,
    currency: &str,
) -> anyhow::Result<CreatedUser> {
    let balance = check_user(name, password, balance, currency)?;
    let password_hash = hash_secret(password)?;
    let user_key = keyring::random32();
    let user_id = crate::ids::new(kessai_protocol::ids::USER);
    let now = crate::clock::now();
    let user_key_sealed = keyring.seal(&user_key)?;
    conn.begin().await?;
    let created = async {
        let account_id = ledger::open_funded_account(conn, &user_id, &balance, now).await?;
        conn.execute(
            "INSERT INTO users (id, name, password_hash, user_key_sealed, account_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            args![&user_id, name, &password_hash, user_key_sealed, &account_id, now],
        )
        .await?;
        Ok(account_id)
    }
    .await;
    let account_id = conn.finish(created).await?;
    Ok(CreatedUser {
        user_id,
        user_key: keys::format_key(keys::USER_KEY_PREFIX, &user_key),
        account_id,
    })
}

/// What the payment method in a second request resolved to, before any
/// money moves. A decline here is still recorded by the writer (the
/// settlement becomes `declined`), but only if the orders agree.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub payment_type: PaymentType,
    /// The account to pay from, or why there is none: never both, never
    /// neither (the invariant a settlement step relies on, as a type).
    pub funding: Funding,
    /// The card's brand (empty when the card is unknown) and last four digits.
    pub card: Option<(String, String)>,
    pub user: Option<PayerUser>,
    /// A payer authenticator's `jti`, consumed atomically with the step.
    pub jti: Option<(String, i64)>,
    /// What this attempt proved about a card's or a user's secret: counted
    /// in the settlement's step (see [`record_guess`]).
    pub guess: Option<Guess>,
}

impl Resolved {
    /// A wallet user paying from their account at this institution (the
    /// server wallet, in-store payment): no authenticator to spend, and the
    /// institution's brand checked against the shop's like a card's.
    pub fn wallet_account(user_id: &str, account_id: &str, key: [u8; 32], brand: String) -> Self {
        Self {
            payment_type: PaymentType::Account,
            funding: Funding::Account(account_id.to_string()),
            card: Some((brand, String::new())),
            user: Some(PayerUser {
                id: user_id.to_string(),
                key,
            }),
            jti: None,
            guess: None,
        }
    }
}

/// What a payment attempt showed about a secret, for the guessing limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guess {
    /// A card this institution issued, with a wrong CVC or expiry: its PAN hash.
    CardWrong(String),
    /// The right CVC and expiry after earlier wrong ones: the count restarts.
    CardRight(String),
    /// A wrong password for this user id (or an unknown user).
    PasswordWrong(String),
}

/// Wrong CVCs or expiries a card takes before it is locked for
/// card-not-present payments: enough for a buyer's typos, far too few to
/// find a 3-digit CVC (1 in 1000 per guess).
pub const CARD_FAILURES_MAX: i64 = 5;

/// Counts what `guess` showed, inside the settlement's writer step, so the
/// count is durable and shared by every server on the database.
pub async fn record_guess(conn: &mut Conn, guess: Option<&Guess>, now: i64) -> Result<()> {
    match guess {
        None => Ok(()),
        Some(Guess::CardWrong(pan_hash)) => {
            conn.execute(
                "UPDATE cards SET cnp_failures = cnp_failures + 1,
                 cnp_locked_at = CASE WHEN cnp_failures + 1 >= $2 AND cnp_locked_at IS NULL THEN $3 ELSE cnp_locked_at END
                 WHERE pan_hash = $1",
                args![pan_hash, CARD_FAILURES_MAX, now],
            )
            .await?;
            Ok(())
        }
        Some(Guess::CardRight(pan_hash)) => {
            conn.execute(
                "UPDATE cards SET cnp_failures = 0 WHERE pan_hash = $1 AND cnp_locked_at IS NULL",
                args![pan_hash],
            )
            .await?;
            Ok(())
        }
        Some(Guess::PasswordWrong(user_id)) => crate::wallet::sessions::record_failure(conn, user_id, now).await,
    }
}

/// Where the money would come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Funding {
    /// A ledger account of this institution.
    Account(String),
    /// A peer institution guaranteed the payment (PROTOCOL 11): it is
    /// settled against what the peer owes this institution.
    Peer(PeerFunding),
    /// Refused before any money moves.
    Declined(DeclineCode),
}

/// A payment authorization from a peer, verified outside the writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerFunding {
    pub peer_id: String,
    /// The authorization's id: accepted once, in the settlement's step.
    pub jti: String,
    /// The credit this institution gives the peer in the settlement's currency.
    pub credit_limit: Money,
}

/// The wallet user a payment was made by. `Debug` masks the key.
#[derive(Clone)]
pub struct PayerUser {
    pub id: String,
    pub key: [u8; 32],
}

impl std::fmt::Debug for PayerUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayerUser")
            .field("id", &self.id)
            .field("key", &format_args!("***"))
            .finish()
    }
}

impl Resolved {
    fn declined(payment_type: PaymentType, code: DeclineCode) -> Self {
        Self {
            payment_type,
            funding: Funding::Declined(code),
            card: None,
            user: None,
            jti: None,
            guess: None,
        }
    }
}

/// Whose order the authenticator must name: a settlement, or (payer-first)
/// an order id at a merchant.
pub enum Subject<'a> {
    Settlement(&'a str),
    PayerFirst { merchant_id: &'a str },
}

pub async fn resolve_card(
    pool: &Reader,
    keyring: &Keyring,
    details: &CardDetails,
    currency: &str,
    now: i64,
) -> Result<Resolved> {
    let param = "payment_method.card";
    let number = card::normalize_number(details.number.expose(), &format!("{param}.number"))?;
    card::check_expiry_fields(details.exp_month, details.exp_year, param)?;
    card::check_cvc(details.cvc.expose(), param)?;
    let summary = Some((String::new(), card::last4(&number)));
    if card::is_expired(details.exp_month, details.exp_year, now) {
        return Ok(Resolved {
            card: summary,
            ..Resolved::declined(PaymentType::Card, DeclineCode::ExpiredCard)
        });
    }
    let pan_hash = keyring.pan_hash(&number);
    let row = crate::store::pool_optional(
        pool,
        "SELECT c.account_id, c.brand, c.exp_month, c.exp_year, c.cnp_failures, c.cnp_locked_at, a.currency
         FROM cards c JOIN accounts a ON a.id = c.account_id WHERE c.pan_hash = $1",
        args![&pan_hash],
    )
    .await?;
    // One answer for an unknown card, a wrong expiry or CVC and a locked
    // card, with no brand: a decline must not tell which numbers exist.
    let refused = |guess| Resolved {
        card: summary.clone(),
        guess,
        ..Resolved::declined(PaymentType::Card, DeclineCode::CardDeclined)
    };
    let Some(row) = row else { return Ok(refused(None)) };
    if row.try_get::<Option<i64>>("cnp_locked_at")?.is_some() {
        return Ok(refused(None));
    }
    let exp_month: i64 = row.try_get("exp_month")?;
    let exp_year: i64 = row.try_get("exp_year")?;
    let right = i64::from(details.exp_month) == exp_month
        && i64::from(details.exp_year) == exp_year
        && Keyring::secret_matches(
            &keyring.cvc(&number, details.exp_month, details.exp_year),
            details.cvc.expose(),
        );
    if !right {
        return Ok(refused(Some(Guess::CardWrong(pan_hash))));
    }
    let had_failures = row.try_get::<i64>("cnp_failures")? > 0;
    let brand: String = row.try_get("brand")?;
    let account_currency: String = row.try_get("currency")?;
    // No foreign exchange: a card pays only in its account's currency.
    let funding = if account_currency == currency {
        Funding::Account(row.try_get("account_id")?)
    } else {
        Funding::Declined(DeclineCode::CardDeclined)
    };
    Ok(Resolved {
        payment_type: PaymentType::Card,
        funding,
        card: Some((brand, card::last4(&number))),
        user: None,
        jti: None,
        guess: had_failures.then_some(Guess::CardRight(pan_hash)),
    })
}

struct UserRow {
    key: [u8; 32],
    password_hash: String,
    account_id: String,
}

async fn load_user(pool: &Reader, keyring: &Keyring, user_id: &str) -> Result<Option<UserRow>> {
    let row = crate::store::pool_optional(
        pool,
        "SELECT password_hash, user_key_sealed, account_id FROM users WHERE id = $1",
        args![user_id],
    )
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(UserRow {
        key: keyring.open_key32(&row.try_get::<String>("user_key_sealed")?)?,
        password_hash: row.try_get("password_hash")?,
        account_id: row.try_get("account_id")?,
    }))
}

pub async fn user_key(pool: &Reader, keyring: &Keyring, user_id: &str) -> Result<Option<[u8; 32]>> {
    Ok(load_user(pool, keyring, user_id).await?.map(|u| u.key))
}

fn check_user_id(user_id: &str) -> Result<()> {
    if kessai_protocol::ids::is_id(kessai_protocol::ids::USER, user_id) {
        Ok(())
    } else {
        Err(Error::field(
            "user_id_invalid",
            "payment_method.user_id",
            "payment_method.user_id must be a wallet user id (usr_…).",
        ))
    }
}

/// Account held at the settling server, authorized by an HS256 JWS made
/// with the user's key (A10, A12).
pub async fn resolve_account(
    pool: &Reader,
    keyring: &Keyring,
    user_id: &str,
    authenticator: &str,
    order: &Order,
    subject: Subject<'_>,
    now: i64,
) -> Result<Resolved> {
    check_user_id(user_id)?;
    let Some(user) = load_user(pool, keyring, user_id).await? else {
        return Ok(Resolved::declined(
            PaymentType::Account,
            DeclineCode::AuthenticationFailed,
        ));
    };
    let claims: PayerClaims = match jws::verify(&user.key, authenticator) {
        Ok(c) => c,
        Err(jws::JwsError::Malformed) => {
            return Err(Error::field(
                "authenticator_malformed",
                "payment_method.authenticator",
                "payment_method.authenticator is not a compact JWS.",
            ))
        }
        Err(_) => {
            return Ok(Resolved::declined(
                PaymentType::Account,
                DeclineCode::AuthenticationFailed,
            ))
        }
    };
    // The signature is good: from here on, problems are the client's to fix
    // (a stale or reused token), so they are errors and nothing is recorded.
    check_claims(&claims, user_id, order, subject, now)?;
    Ok(Resolved {
        payment_type: PaymentType::Account,
        funding: Funding::Account(user.account_id),
        card: None,
        user: Some(PayerUser {
            id: user_id.to_string(),
            key: user.key,
        }),
        jti: Some((claims.jti, claims.iat + PAYER_AUTHENTICATOR_TTL_S)),
        guess: None,
    })
}

/// What a correctly signed authenticator must say to pay for this order:
/// fresh, for this user, this settlement (or payer-first order), this digest
/// and total, with a usable `jti`.
fn check_claims(claims: &PayerClaims, user_id: &str, order: &Order, subject: Subject<'_>, now: i64) -> Result<()> {
    if claims.iat + PAYER_AUTHENTICATOR_TTL_S < now || claims.iat > now + CLOCK_SKEW_S {
        return Err(Error::unauthorized(
            "authenticator_expired",
            "The payer authenticator is older than 5 minutes; make a new one.",
        ));
    }
    let names_subject = match subject {
        Subject::Settlement(id) => claims.sid.as_deref() == Some(id),
        Subject::PayerFirst { merchant_id } => {
            claims.merchant_id.as_deref() == Some(merchant_id)
                && claims.order_id.as_deref() == Some(order.order_id.as_str())
        }
    };
    if claims.sub != user_id
        || !names_subject
        || claims.order_digest != order.digest()
        || claims.total != order.total
        || claims.currency != order.currency
    {
        return Err(Error::unauthorized(
            "authenticator_mismatch",
            "The payer authenticator was made for another user, settlement or order.",
        ));
    }
    if claims.jti.is_empty() || claims.jti.len() > 255 {
        return Err(Error::field(
            "authenticator_malformed",
            "payment_method.authenticator",
            "The authenticator's jti must be 1 to 255 characters.",
        ));
    }
    Ok(())
}

/// Account held at the settling server, authorized by id and password (A11).
pub async fn resolve_password(pool: &Reader, keyring: &Keyring, user_id: &str, password: String) -> Result<Resolved> {
    check_user_id(user_id)?;
    if password.is_empty() || password.len() > PASSWORD_LEN_MAX {
        return Err(Error::field(
            "password_invalid",
            "payment_method.password",
            "payment_method.password must be 1 to 1024 bytes.",
        ));
    }
    let now = crate::clock::now();
    // Failed passwords are counted per user (with the wallet's logins, in
    // wallet_login_failures): past the limit the password is not even
    // checked, so guessing one user's password cannot go on.
    if let Some(until) = crate::wallet::sessions::throttled_until(pool, user_id, now).await? {
        return Err(Error::RateLimited {
            retry_after_s: u64::try_from(until - now).unwrap_or(1),
            message: "Too many wrong passwords for this user; try again later.".into(),
        });
    }
    match verify_password(pool, keyring, user_id, password).await? {
        Some(user) => Ok(Resolved {
            payment_type: PaymentType::Password,
            funding: Funding::Account(user.account_id),
            card: None,
            user: Some(PayerUser {
                id: user_id.to_string(),
                key: user.key,
            }),
            jti: None,
            guess: None,
        }),
        None => Ok(Resolved {
            guess: Some(Guess::PasswordWrong(user_id.to_string())),
            ..Resolved::declined(PaymentType::Password, DeclineCode::AuthenticationFailed)
        }),
    }
}

/// Password checks (argon2) running at once, at most: half of a small
/// machine's cores; the rest of the server keeps the others.
const ARGON2_SLOTS_MAX: usize = 2;
static ARGON2_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(ARGON2_SLOTS_MAX);

/// The longest password checked; longer ones are refused unhashed.
pub const PASSWORD_LEN_MAX: usize = 1024;

/// A wallet user whose password was right: the account and key.
pub struct VerifiedUser {
    pub account_id: String,
    pub key: [u8; 32],
}

/// Checks a wallet user's password. None for a wrong password or an unknown
/// user, after the same work either way, so timing does not tell which.
pub async fn verify_password(
    pool: &Reader,
    keyring: &Keyring,
    user_id: &str,
    password: String,
) -> Result<Option<VerifiedUser>> {
    let user = load_user(pool, keyring, user_id).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let verified = verify_hash(hash, password).await?;
    Ok(match (verified, user) {
        (true, Some(u)) => Some(VerifiedUser {
            account_id: u.account_id,
            key: u.key,
        }),
        _ => None,
    })
}

/// Checks `secret` against an argon2 `hash` (a password or a PIN). With
/// no hash (an unknown user, no PIN on file) the same work is done and the
/// answer is false, so timing does not tell which.
pub async fn verify_hash(hash: Option<String>, secret: String) -> Result<bool> {
    // argon2 takes tens of milliseconds of CPU: keep it off the async
    // workers, and let only a few run at once, so a flood of password
    // guesses queues here instead of taking the CPU from every payment.
    let _permit = ARGON2_SLOTS
        .acquire()
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("password check slots closed: {e}")))?;
    tokio::task::spawn_blocking(move || match &hash {
        Some(h) => PasswordHash::new(h)
            .map(|h| Argon2::default().verify_password(secret.as_bytes(), &h).is_ok())
            .unwrap_or(false),
        None => {
            let salt = SaltString::generate(&mut OsRng);
            let _ = Argon2::default().hash_password(secret.as_bytes(), &salt);
            false
        }
    })
    .await
    .map_err(|e| Error::Internal(anyhow::anyhow!("password check task: {e}")))
}

/// An argon2 hash of a password or PIN, for storing.
pub fn hash_secret(secret: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing a secret: {e}"))?
        .to_string())
}

/// Records a payer authenticator's jti; false if it was used before.
pub async fn consume_jti(conn: &mut Conn, user_id: &str, jti: &str, expires_at: i64) -> Result<bool> {
    let r = conn
        .execute(
            "INSERT INTO used_jtis (user_id, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            args![user_id, jti, expires_at],
        )
        .await?;
    Ok(r == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_card_numbers_cvcs_or_keys() {
        let card = IssuedCard {
            card_number: "4242424242424242".into(),
            exp_month: 12,
            exp_year: 2030,
            cvc: "987".into(),
            account_id: "acc_x".into(),
        };
        let printed = format!("{card:?}");
        assert!(
            !printed.contains("424242424242") && !printed.contains("987"),
            "{printed}"
        );
        assert!(printed.contains("…4242"), "{printed}");
        let user = CreatedUser {
            user_id: "usr_x".into(),
            user_key: "uk_secretsecret".into(),
            account_id: "acc_x".into(),
        };
        assert!(!format!("{user:?}").contains("secretsecret"));
        let payer = PayerUser {
            id: "usr_x".into(),
            key: [7; 32],
        };
        assert!(!format!("{payer:?}").contains('7'));
    }
}
