-- Issue 7: a payer-first attempt that ended on its own (declined,
-- mismatched, expired) must not keep the shop from using its order id
-- (PROTOCOL section 5). So the order id is unique among the shop's
-- settlements, and among payer-first attempts still waiting for the shop,
-- but an ended attempt holds on to nothing. Partial indexes: the same SQL
-- on SQLite and PostgreSQL.
DROP INDEX settlements_merchant_order;
CREATE UNIQUE INDEX settlements_merchant_order ON settlements (merchant_id, order_id)
    WHERE merchant_request_at IS NOT NULL;
CREATE UNIQUE INDEX settlements_payer_first_order ON settlements (merchant_id, order_id)
    WHERE status = 'awaiting_merchant';
