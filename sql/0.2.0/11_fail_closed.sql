-- Fail closed (docs/redaction.md, "Threat model"): every bound table, with
-- its partitions and inheritance children, gets a restrictive row-security
-- policy that calls _preloaded(), which fails unless pals_privacy was loaded
-- by shared_preload_libraries; where pals_privacy turned row security on,
-- it is forced on the table's owner too.  In a backend without the hooks, a bound
-- relation is unreadable and unwritable rather than unredacted.  The
-- permissive pass-through policy (pals_privacy_redaction) is still added only
-- where pals_privacy turned row security on itself; a table with row
-- security of its own keeps its policies, and the restrictive one is ANDed
-- with them.
CREATE FUNCTION @extschema@._preloaded() RETURNS boolean
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'pals_privacy_preloaded';
REVOKE ALL ON FUNCTION @extschema@._preloaded() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._preloaded() TO PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@._sync_row_security() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE t oid; bound oid[];
BEGIN
    WITH RECURSIVE b(rel) AS (
        SELECT x.relation::oid FROM @extschema@.bindings x WHERE x.kind <> 'retain'
        UNION
        SELECT i.inhrelid FROM pg_inherits i JOIN b ON i.inhparent = b.rel)
    SELECT coalesce(array_agg(c.oid), '{}') INTO bound
      FROM b JOIN pg_class c ON c.oid = b.rel WHERE c.relkind IN ('r', 'p');

    FOR t IN SELECT c.oid FROM pg_class c WHERE c.oid = ANY (bound) AND NOT c.relrowsecurity LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = t AND polname = 'pals_privacy_redaction') THEN
            EXECUTE format('CREATE POLICY pals_privacy_redaction ON %s USING (true) WITH CHECK (true)', t::regclass);
        END IF;
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t::regclass);
    END LOOP;
    -- where the row security is ours, the table's owner is held to it too
    -- (FORCE): an owner classified below operational would otherwise read
    -- unredacted in a backend without the hooks
    FOR t IN SELECT c.oid FROM pg_class c WHERE c.oid = ANY (bound) AND NOT c.relforcerowsecurity
              AND EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = c.oid AND polname = 'pals_privacy_redaction') LOOP
        EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t::regclass);
    END LOOP;
    FOR t IN SELECT c.oid FROM pg_class c WHERE c.oid = ANY (bound)
              AND NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = c.oid AND polname = 'pals_privacy_guard') LOOP
        EXECUTE format('CREATE POLICY pals_privacy_guard ON %s AS RESTRICTIVE USING (@extschema@._preloaded()) '
                       'WITH CHECK (@extschema@._preloaded())', t::regclass);
    END LOOP;

    FOR t IN SELECT polrelid FROM pg_policy
              WHERE polname = 'pals_privacy_guard' AND polrelid <> ALL (bound) LOOP
        EXECUTE format('DROP POLICY pals_privacy_guard ON %s', t::regclass);
    END LOOP;
    FOR t IN SELECT polrelid FROM pg_policy
              WHERE polname = 'pals_privacy_redaction' AND polrelid <> ALL (bound) LOOP
        -- the policy first: the ALTER runs the DDL event trigger, which syncs again
        EXECUTE format('DROP POLICY pals_privacy_redaction ON %s', t::regclass);
        EXECUTE format('ALTER TABLE %s NO FORCE ROW LEVEL SECURITY', t::regclass);
        EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', t::regclass);
    END LOOP;
END $$;

-- tables bound under 0.1.0 get the guard now
SELECT @extschema@._sync_row_security();

-- pg_stats for roles the redaction leaves alone (the ILS's own): row
-- security that is only pals_privacy's filters nothing for them
-- (src/redact.c, row_security_mutator).
CREATE FUNCTION @extschema@._own_row_security_only(relation oid) RETURNS boolean
    LANGUAGE c STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'pals_privacy_own_row_security_only';
REVOKE ALL ON FUNCTION @extschema@._own_row_security_only(oid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._own_row_security_only(oid) TO PUBLIC;

-- Without preloading, bound relations are unreadable (see above): say so at once.
DO $$
BEGIN
    IF current_setting('shared_preload_libraries') !~ '(^|[ ,])"?pals_privacy"?($|[ ,])' THEN
        RAISE WARNING 'pals_privacy is not in shared_preload_libraries'
            USING DETAIL = 'Until it is, relations bound to pals_privacy are not readable or writable by roles other than their owners and superusers.',
                  HINT = 'Add pals_privacy to shared_preload_libraries in postgresql.conf and restart the server.';
    END IF;
END $$;
