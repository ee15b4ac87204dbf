-- This server as an institution (PROTOCOL 11): exactly one row. The
-- Ed25519 key is derived from the master key, never stored here.
CREATE TABLE institution (
    singleton BIGINT PRIMARY KEY CHECK (singleton = 1),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    brands TEXT NOT NULL,
    currencies TEXT NOT NULL,
    card_prefix TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Institutions this one trusts, each with its key pinned when added.
CREATE TABLE peers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    brands TEXT NOT NULL,
    currencies TEXT NOT NULL,
    card_prefix TEXT NOT NULL,
    public_key TEXT NOT NULL,
    thumbprint TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX peers_thumbprint ON peers (thumbprint);

-- The credit this institution gives a peer, per currency: the floor of its
-- "due from" account is minus this.
CREATE TABLE peer_credit_limits (
    peer_id TEXT NOT NULL REFERENCES peers (id),
    currency TEXT NOT NULL,
    credit_limit BIGINT NOT NULL,
    PRIMARY KEY (peer_id, currency)
);

-- Issuer side: every payment authorization this institution issued, until
-- it learns what the acquirer did with it. The hold on the buyer's account
-- is captured (to the acquirer's due-to account) or released then. Rows
-- survive restarts: the worker that asks the acquirer picks them up again.
CREATE TABLE issued_authorizations (
    jti TEXT PRIMARY KEY,
    peer_id TEXT NOT NULL REFERENCES peers (id),
    settlement_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    hold_id TEXT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    brand TEXT NOT NULL,
    status TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    next_check_at BIGINT NOT NULL,
    checks BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    resolved_at BIGINT
);
CREATE INDEX issued_authorizations_pending ON issued_authorizations (status, next_check_at);

-- Acquirer side: every payment authorization this institution accepted,
-- once: the jti is the primary key, so a replay cannot be used again.
CREATE TABLE received_authorizations (
    jti TEXT PRIMARY KEY,
    peer_id TEXT NOT NULL REFERENCES peers (id),
    settlement_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
