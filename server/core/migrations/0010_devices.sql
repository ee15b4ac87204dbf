-- Devices of seed 002 (PROTOCOL 13, "Devices"): age restrictions on
-- settlements (C8), gates (C6) and tickets (C9).

-- C8: the minimum age a shop asked for, judged at the second request; and
-- the birth date a card's holder has on file (`kessai card issue
-- --birth-date`), like users.birth_date. Neither leaves the institution.
ALTER TABLE settlements ADD COLUMN min_age BIGINT;
ALTER TABLE cards ADD COLUMN birth_date TEXT;

-- C9: what a ticket terminal's transaction sells (event, validity), JSON;
-- the signed ticket itself is in the receipt.
ALTER TABLE terminal_transactions ADD COLUMN ticket_json TEXT;

-- C6: a merchant's gate fee table, one per currency (minor units).
CREATE TABLE gate_fees (
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    currency TEXT NOT NULL,
    base BIGINT NOT NULL,
    per_minute BIGINT NOT NULL,
    max_fee BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, currency)
);

-- C6: admissions given at entry gates. `exit_txn_id` is the exit
-- transaction that took the admission: while that one is open or paid the
-- admission cannot exit again; declined, canceled or expired frees it.
-- The row is locked by the exit's step, so two exits take turns.
CREATE TABLE admissions (
    jti TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    gate_id TEXT NOT NULL REFERENCES terminals (id),
    entry_txn_id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users (id),
    token TEXT NOT NULL,
    entered_at BIGINT NOT NULL,
    exit_txn_id TEXT
);

-- C9: tickets that admitted someone; the primary key is what lets a
-- ticket in once, on SQLite and across servers on PostgreSQL alike.
CREATE TABLE used_tickets (
    jti TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    terminal_id TEXT NOT NULL REFERENCES terminals (id),
    used_at BIGINT NOT NULL
);
