-- A batch or an import answers after writes that commit on their own, so its Idempotency-Key
-- cannot be stored in the writes' transaction. The key is claimed first, in a row that has no
-- answer yet. It names the database session that claimed it (`claimed_by`, the backend's pid;
-- the session is the request's own connection, held until it answers) and holds until
-- `claimed_until`. A retry with the same key and body that meets the claim while its session
-- lives is told to come back (409 with Retry-After). One that meets a claim whose session is
-- gone (the instance that made it was killed) or whose time ran out takes it over and runs the
-- request again. The first answer to be stored ends the claim and is replayed from then on.
ALTER TABLE idempotency_keys
    ADD COLUMN claimed_until timestamptz,
    ADD COLUMN claimed_by integer,
    ADD CONSTRAINT idempotency_keys_claim CHECK (
        (claimed_until IS NULL) = (claimed_by IS NULL) AND (claimed_until IS NULL OR (status = 0 AND body = ''))
    );
