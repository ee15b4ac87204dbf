-- Issue 7: card testing. Wrong CVCs or expiries for a card are counted on
-- the card (durably, across servers); past a limit the card is locked for
-- card-not-present payments until an operator unlocks it.
ALTER TABLE cards ADD COLUMN cnp_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cards ADD COLUMN cnp_locked_at BIGINT;
