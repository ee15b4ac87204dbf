-- 1 when the settling server assigned the order id (paragraph 0027). The
-- shop's digest was then made before the id existed, over the order with
-- "order_id": "", and collation hashes the buyer's order the same way.
ALTER TABLE settlements ADD COLUMN order_id_assigned BIGINT NOT NULL DEFAULT 0;
