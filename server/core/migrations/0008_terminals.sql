-- Terminals and in-store payment (PROTOCOL 13).

-- What the QR code says of a merchant (EMV tags 52, 58, 59, 60). NULL: the
-- defaults of section 13 (the name if it fits, Tokyo, JP, 5999).
ALTER TABLE merchants ADD COLUMN qr_name TEXT;
ALTER TABLE merchants ADD COLUMN qr_city TEXT;
ALTER TABLE merchants ADD COLUMN qr_country TEXT;
ALTER TABLE merchants ADD COLUMN qr_mcc TEXT;

-- What a billing terminal may learn of its payer, and what the payer
-- proves to it: a PIN (argon2, like passwords), a portrait (D6) and a
-- birth date (age restrictions). All optional.
ALTER TABLE users ADD COLUMN pin_hash TEXT;
ALTER TABLE users ADD COLUMN portrait_type TEXT;
ALTER TABLE users ADD COLUMN portrait_b64 TEXT;
ALTER TABLE users ADD COLUMN birth_date TEXT;

-- Registered billing terminals (D4). Only the SHA-256 of the key is kept.
CREATE TABLE terminals (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    label TEXT NOT NULL,
    location TEXT,
    key_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX terminals_merchant ON terminals (merchant_id);

-- A transaction a number synchronizes: a billing terminal's sale (txn_),
-- an online purchase paid by number (txn_, no terminal, the settlement it
-- pays), or an authentication by number (aut_).
CREATE TABLE terminal_transactions (
    id TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    terminal_id TEXT REFERENCES terminals (id),
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    settlement_id TEXT,
    number TEXT NOT NULL,
    status TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount BIGINT,
    order_json TEXT,
    menu_json TEXT,
    min_age BIGINT,
    payer_user_id TEXT REFERENCES users (id),
    challenge_kind TEXT,
    challenge_status TEXT,
    challenge_failures BIGINT NOT NULL DEFAULT 0,
    decline_code TEXT,
    receipt_json TEXT,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- One more at every write: what a long-poll's `version` compares, since
    -- `updated_at` counts seconds and two changes can share one.
    version BIGINT NOT NULL DEFAULT 0
);
-- A number names one open transaction at a time (section 13: unique among
-- the institution's open transactions); closed ones free it.
CREATE UNIQUE INDEX terminal_transactions_open_number ON terminal_transactions (number)
    WHERE status IN ('awaiting_payer', 'synchronized');
CREATE INDEX terminal_transactions_payer ON terminal_transactions (payer_user_id, updated_at);
CREATE INDEX terminal_transactions_settlement ON terminal_transactions (settlement_id);

-- Wrong numbers per user, counted over a window (5 in 10 minutes): rows,
-- so that several servers on one database count the same.
CREATE TABLE number_failures (
    user_id TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX number_failures_user ON number_failures (user_id, at);
