-- Kessai core schema. Portable SQL: runs unchanged on SQLite and PostgreSQL
-- (TEXT and BIGINT only, no autoincrement, no engine-specific functions).
-- Money columns are BIGINT counts of the currency's minor unit.

CREATE TABLE merchants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- SHA-256 of the secret key: the key itself is shown once and never stored.
    secret_key_hash TEXT NOT NULL UNIQUE,
    -- HMAC keys sealed with the server's master key (never in clear on disk).
    result_key_sealed TEXT NOT NULL,
    webhook_secret_sealed TEXT NOT NULL,
    notify_url TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE merchant_origins (
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    origin TEXT NOT NULL,
    PRIMARY KEY (merchant_id, origin)
);
CREATE INDEX merchant_origins_origin ON merchant_origins (origin);

-- The financial institution host: a double-entry ledger.
-- balance: posted balance; held: sum of open holds; balance - held >= floor.
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    owner TEXT NOT NULL,
    currency TEXT NOT NULL,
    balance BIGINT NOT NULL,
    held BIGINT NOT NULL,
    floor BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE transfers (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    debit_account TEXT NOT NULL REFERENCES accounts (id),
    credit_account TEXT NOT NULL REFERENCES accounts (id),
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    settlement_id TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX transfers_settlement ON transfers (settlement_id);

CREATE TABLE postings (
    transfer_id TEXT NOT NULL REFERENCES transfers (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    amount BIGINT NOT NULL,
    PRIMARY KEY (transfer_id, account_id)
);
CREATE INDEX postings_account ON postings (account_id);

CREATE TABLE holds (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    settlement_id TEXT,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX holds_account_open ON holds (account_id, status);

-- Test cards: the PAN is kept only as a keyed hash; the CVC is derived, never stored.
CREATE TABLE cards (
    pan_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    brand TEXT NOT NULL,
    last4 TEXT NOT NULL,
    exp_month BIGINT NOT NULL,
    exp_year BIGINT NOT NULL,
    holder TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    user_key_sealed TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created_at BIGINT NOT NULL
);

-- Payer authenticators are single use: a jti is recorded with the settlement it authorized.
CREATE TABLE used_jtis (
    user_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, jti)
);

CREATE TABLE settlements (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    order_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    total BIGINT NOT NULL,
    order_digest TEXT NOT NULL,
    -- The merchant's full order (JSON) when the first request had one; NULL for digest-only.
    order_json TEXT,
    -- The payer's order when the second request came first (payer-first).
    payer_order_json TEXT,
    status TEXT NOT NULL,
    decline_code TEXT,
    mismatched_fields TEXT,
    -- NULL until the merchant's first request has been received.
    merchant_request_at BIGINT,
    notify_url TEXT,
    return_url TEXT,
    brands TEXT,
    cooling_off_s BIGINT,
    payment_type TEXT,
    card_brand TEXT,
    card_last4 TEXT,
    payer_account_id TEXT,
    user_id TEXT,
    hold_id TEXT,
    refunded BIGINT NOT NULL,
    result_jti TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    settled_at BIGINT,
    capture_at BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX settlements_merchant_order ON settlements (merchant_id, order_id);
CREATE INDEX settlements_status_expiry ON settlements (status, expires_at);

CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    settlement_id TEXT NOT NULL REFERENCES settlements (id),
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT,
    status TEXT NOT NULL,
    transfer_id TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX refunds_settlement ON refunds (settlement_id);

-- Every state change of a settlement is an event (kept as history);
-- events with a notify_url get a delivery row: the durable webhook outbox.
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    settlement_id TEXT NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_settlement ON events (settlement_id);

CREATE TABLE deliveries (
    event_id TEXT PRIMARY KEY REFERENCES events (id),
    url TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_status BIGINT,
    last_error TEXT,
    delivered_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);

CREATE TABLE idempotency_keys (
    merchant_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code BIGINT NOT NULL,
    response_body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, idem_key)
);
