DELETE FROM idempotency_keys WHERE claimed_until IS NOT NULL;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_claim, DROP COLUMN claimed_until, DROP COLUMN claimed_by;
