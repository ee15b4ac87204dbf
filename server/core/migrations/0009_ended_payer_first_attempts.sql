-- Issue 7: payer-first attempts that ended without the shop (declined,
-- mismatched, expired) are deleted after a retention by the sweeper. This
-- partial index finds them by when they ended without scanning the shop's
-- own settlements. The same SQL on SQLite and PostgreSQL.
CREATE INDEX settlements_ended_attempts ON settlements (updated_at)
    WHERE merchant_request_at IS NULL AND status IN ('declined', 'mismatched', 'expired');
