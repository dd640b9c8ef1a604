-- The keys, one per period.  Only the extension owner can read this table
-- (and superusers, who are exempt from everything).  It is NOT dumped by
-- pg_dump: a restored database starts a new key, and no dump carries a key.
-- An ended period's key is overwritten with NULL (destroyed_at set) by the
-- first use of the keys after the period ended, by rotate_pseudonym_key()
-- and by every read of the statistics.
CREATE TABLE @extschema@.pseudonym_keys (
    period_start  timestamptz PRIMARY KEY,
    period_end    timestamptz NOT NULL,
    key           bytea,                  -- 32 random bytes (OpenSSL); NULL once destroyed
    created_at    timestamptz NOT NULL DEFAULT now(),
    destroyed_at  timestamptz,
    CHECK (period_end > period_start),
    CHECK ((key IS NULL) = (destroyed_at IS NOT NULL))
);

REVOKE ALL ON @extschema@.pseudonym_keys FROM PUBLIC;
