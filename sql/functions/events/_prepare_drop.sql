-- Called by the ddl_command_start event trigger (src/operations.c) for
-- DROP EXTENSION pals_privacy and DROP SCHEMA pals_privacy.
CREATE OR REPLACE FUNCTION @extschema@._prepare_drop() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    kept text;
    r record;
    n_triggers integer := 0;
    n_policies integer := 0;
    ext oid := (SELECT oid FROM pg_extension WHERE extname = 'pals_privacy');
    head record;
    turned_on oid[];
BEGIN
    SELECT string_agg(format('%s %s', e.entries, e.what), ', ') INTO kept
      FROM @extschema@.evidence() e WHERE e.entries > 0;
    IF kept IS NOT NULL AND NOT coalesce(current_setting('pals_privacy.allow_drop_with_evidence', true)::boolean, false) THEN
        RAISE EXCEPTION 'cannot drop extension pals_privacy: it holds evidence that would be deleted with it'
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = format('It holds %s.', kept),
                  HINT = 'Keep a copy first (pg_dump -Fc of the database, or pg_dump --schema=pals_privacy --data-only), '
                      || 'then run SET pals_privacy.allow_drop_with_evidence = on; in the same session before DROP EXTENSION.';
    END IF;
    SELECT a.id, encode(a.hash, 'hex') AS hash INTO head FROM @extschema@.audit_log a ORDER BY a.id DESC LIMIT 1;

    -- every binding, through unbind_copy() and unbind() (which know what each
    -- kind installed); copies first (unbind() refuses a source they follow),
    -- the patron table last, as unbind() wants
    -- (copies of copies first: unbind_copy refuses a copy others follow)
    FOR r IN SELECT c.relation FROM @extschema@.copy_binding c ORDER BY @extschema@._copy_depth(c.relation) DESC, 1 LOOP
        BEGIN
            PERFORM @extschema@.unbind_copy(r.relation);
        EXCEPTION WHEN OTHERS THEN
            NULL;   -- what unbind_copy() could not take off, the sweep below does
        END;
    END LOOP;
    FOR r IN SELECT DISTINCT b.relation, b.kind = 'patrons' AS patrons FROM @extschema@.bindings b ORDER BY 2, 1 LOOP
        BEGIN
            PERFORM @extschema@.unbind(r.relation);
        EXCEPTION WHEN OTHERS THEN
            NULL;   -- what unbind() could not take off, the sweep below does
        END;
    END LOOP;
    -- whatever is left: triggers on other tables that call the extension's
    -- functions, and its policies (with the row security they stand for)
    FOR r IN SELECT t.tgname, t.tgrelid::regclass AS rel FROM pg_trigger t
               JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = t.tgfoid
                               AND d.refobjid = ext AND d.deptype = 'e'
              WHERE NOT t.tgisinternal AND t.tgparentid = 0
                AND NOT EXISTS (SELECT FROM pg_depend x WHERE x.classid = 'pg_class'::regclass AND x.objid = t.tgrelid
                                                          AND x.refobjid = ext AND x.deptype = 'e') LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', r.tgname, r.rel);
        n_triggers := n_triggers + 1;
    END LOOP;
    -- (pals_privacy_redaction marks a table whose row security pals_privacy
    -- turned on; pals_privacy_guard sits on every bound table)
    SELECT coalesce(array_agg(p.polrelid), '{}') INTO turned_on FROM pg_policy p WHERE p.polname = 'pals_privacy_redaction';
    FOR r IN SELECT p.polname, p.polrelid::regclass AS rel FROM pg_policy p
              WHERE p.polname LIKE 'pals\_privacy%'
                AND NOT EXISTS (SELECT FROM pg_depend x WHERE x.classid = 'pg_class'::regclass AND x.objid = p.polrelid
                                                          AND x.refobjid = ext AND x.deptype = 'e') LOOP
        EXECUTE format('DROP POLICY %I ON %s', r.polname, r.rel);
        n_policies := n_policies + 1;
    END LOOP;
    FOR r IN SELECT c.oid::regclass AS rel FROM pg_class c
              WHERE c.oid = ANY (turned_on) AND c.relrowsecurity
                AND NOT EXISTS (SELECT FROM pg_policy p2 WHERE p2.polrelid = c.oid) LOOP
        EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', r.rel);
    END LOOP;
    IF kept IS NOT NULL THEN
        RAISE WARNING 'pals_privacy: dropping the extension deletes %', kept
            USING DETAIL = 'The head of the audit log (entry and hash) is in the server log.';
        RAISE LOG 'pals_privacy: extension dropped by % with pals_privacy.allow_drop_with_evidence on; deleted: %; audit log head: entry % hash %',
            session_user, kept, head.id, head.hash;
    END IF;
    IF n_triggers + n_policies > 0 THEN
        RAISE NOTICE 'pals_privacy: % leftover triggers and % policies removed from the ILS tables', n_triggers, n_policies;
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@._prepare_drop() FROM PUBLIC;
