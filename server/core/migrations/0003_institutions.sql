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
