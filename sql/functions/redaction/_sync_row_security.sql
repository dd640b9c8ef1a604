-- Row security on bound tables (docs/redaction.md, "Integrity errors").
-- Every bound table, with its partitions and inheritance children, gets row
-- security with one policy that lets every row through: what a role reads is
-- the planner hook's business.  Seeing row security on, PostgreSQL leaves
-- stored values out of the DETAIL of integrity errors (unique, foreign key,
-- check, not null), even when PL/pgSQL catches them, and out of pg_stats.
-- Tables that had row security already keep theirs as it is.

-- Called by every bind and unbind call (not by a trigger on the binding
-- tables: a restore brings the tables' row security and policy back itself).
-- The policy marks the tables whose row security pals_privacy turned on.
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

REVOKE ALL ON FUNCTION @extschema@._sync_row_security() FROM PUBLIC;
