-- After a restore: the severing triggers come back (post-data, after every
-- row is loaded); then the tracker is rebuilt, and the backlog progress,
-- which names its bindings by OID, follows the restored relations by name.
-- A derived copy's triggers, named by its OID in the dumped database, are
-- replaced by those of the copy as bound now (_copy_triggers_restored).
CREATE OR REPLACE FUNCTION @extschema@._on_trigger_restored() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE c record; b regclass;
BEGIN
    -- a derived copy's severing trigger, named by the copy's OID before the dump
    IF current_query() ~* '^\s*CREATE\s+TRIGGER\s+pals_privacy_copy_' THEN
        PERFORM @extschema@._copy_triggers_restored();
        RETURN;
    END IF;
    -- only a CREATE TRIGGER of its own (a restore), not bind_loans() installing it
    IF current_query() !~* '^\s*CREATE\s+TRIGGER\s+pals_privacy_sever\M' THEN
        RETURN;
    END IF;
    UPDATE @extschema@.backlog_progress g SET binding = to_regclass(g.relation)::oid
     WHERE to_regclass(g.relation) IS NOT NULL AND g.binding <> to_regclass(g.relation)::oid
       AND EXISTS (SELECT FROM @extschema@.loan_binding l WHERE l.relation = to_regclass(g.relation));
    DELETE FROM @extschema@.backlog_progress g
     WHERE NOT EXISTS (SELECT FROM @extschema@.loan_binding l WHERE l.relation::oid = g.binding);
    FOR c IN SELECT DISTINCT t.tgrelid FROM pg_event_trigger_ddl_commands() d
               JOIN pg_trigger t ON t.oid = d.objid
              WHERE d.object_type = 'trigger' AND t.tgname = 'pals_privacy_sever' LOOP
        SELECT l.relation INTO b FROM @extschema@.loan_binding l
         WHERE l.relation::oid = c.tgrelid
            OR l.relation IN (SELECT r.relation FROM @extschema@._related_relations(c.tgrelid::regclass) r
                               WHERE r.relationship = 'parent')
         LIMIT 1;
        IF b IS NOT NULL AND NOT EXISTS (SELECT FROM @extschema@.last_borrower l
                                           WHERE l.binding = coalesce((SELECT g.last_borrower_group FROM @extschema@.loan_binding g
                                                                        WHERE g.relation = b), b)::oid) THEN
            RAISE NOTICE 'pals_privacy: rebuilding the last-borrower tracker of % (% items)', b,
                @extschema@._restore_tracker(b);
        END IF;
    END LOOP;
END $$;

REVOKE ALL ON FUNCTION @extschema@._on_trigger_restored() FROM PUBLIC;
