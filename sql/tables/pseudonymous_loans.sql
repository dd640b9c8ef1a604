-- The pseudonymous records.  No id, no timestamp finer than the binding's
-- granularity: nothing orders them like the returns they come from.
CREATE TABLE @extschema@.pseudonymous_loans (
    relation     regclass NOT NULL,       -- the loan binding
    period       timestamptz NOT NULL,    -- start of the key period the pseudonym belongs to
    pseudonym    text NOT NULL,           -- hex HMAC-SHA256(period key, patron id)
    age_bracket  text NOT NULL,           -- at the time the loan closed; 'unknown' without a birth date
    library      text,                    -- the patron's home library (bind_patrons library_column)
    item         text,
    closed_on    date NOT NULL            -- the closed date, truncated to the granularity
);

CREATE INDEX pseudonymous_loans_period ON @extschema@.pseudonymous_loans (period, relation);

REVOKE ALL ON @extschema@.pseudonymous_loans FROM PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('@extschema@.pseudonymous_loans', '');
