-- When a used ticket stops mattering: past its validity a ticket is
-- refused as invalid before anyone looks for it here, so the sweeper may
-- forget it then. NULL (tickets used before this column): kept.
ALTER TABLE used_tickets ADD COLUMN valid_until BIGINT;
