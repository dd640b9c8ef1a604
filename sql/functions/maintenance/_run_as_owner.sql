-- Runs one statement ($1: ids) as the owner of relation where the caller is
-- a superuser (restricted, as PostgreSQL runs an index's functions at
-- VACUUM), as the caller otherwise; returns its first column (bigint).  For
-- purge_expired()'s call of the ILS's purge function (_purge_patrons_try):
-- src/ils_owner.c says why.
CREATE OR REPLACE FUNCTION @extschema@._run_as_owner(relation regclass, sql text, ids text[]) RETURNS bigint
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_run_as_owner';

REVOKE ALL ON FUNCTION @extschema@._run_as_owner(regclass, text, text[]) FROM PUBLIC;
