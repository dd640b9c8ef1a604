-- Is the statement running now a restore (pg_dump's COPY ... FROM stdin)?
-- The audit triggers on the configuration tables skip it: the restored
-- audit log already holds the original entries.  src/operations.c answers
-- from the running portal, not the query string, so a binding change sent
-- in the same string as a COPY is still audited.
CREATE OR REPLACE FUNCTION @extschema@._restoring() RETURNS boolean
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'pals_privacy_restoring';

REVOKE ALL ON FUNCTION @extschema@._restoring() FROM PUBLIC;
