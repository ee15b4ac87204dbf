-- The server wallet API (PROTOCOL 12).

-- Sessions of wallet users. Only the SHA-256 of the token is kept: a copy
-- of the database does not let anyone act as a user.
CREATE TABLE wallet_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX wallet_sessions_user ON wallet_sessions (user_id);

-- Failed logins, counted per user over a window to throttle guessing.
-- Rows, not a counter: several servers on one database count the same.
CREATE TABLE wallet_login_failures (
    user_id TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX wallet_login_failures_user ON wallet_login_failures (user_id, at);

-- Wallet payments to a shop of another institution: at most one per
-- settlement there, so that the same start message pays once. The
-- authorization's state is in issued_authorizations (joined by jti); the
-- settlement's outcome there is kept here once known.
CREATE TABLE wallet_payments (
    peer_id TEXT NOT NULL REFERENCES peers (id),
    settlement_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    jti TEXT NOT NULL UNIQUE,
    -- Quoted: AUTHORIZATION is a reserved word in PostgreSQL.
    "authorization" TEXT NOT NULL,
    merchant_name TEXT NOT NULL,
    order_id TEXT NOT NULL,
    outcome TEXT,
    result_token TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (peer_id, settlement_id)
);
