-- The triggers that sever a copy with its source row: when the row loses its
-- patron, when its key changes (the copies keyed by the old key belong to no
-- row any more: left alone, a row given that key later would take them over),
-- when it is deleted, and when the source is truncated.  On every source of the copy; those of a source
-- after the first name it (second argument), for its key columns.  only_on: on
-- that relation alone (a restore, _copy_triggers_restored).
CREATE OR REPLACE FUNCTION @extschema@._install_copy_triggers(c @extschema@.copy_binding, only_on regclass DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE t regclass; s record; watched name; tg name; cols text; args text;
BEGIN
    -- a copy the extension never writes ('keep') needs no trigger
    IF c.sever_with = 'keep' THEN
        RETURN;
    END IF;
    tg := 'pals_privacy_copy_' || c.relation::oid;
    FOR s IN SELECT * FROM @extschema@._copy_sources(c) LOOP
        -- the source's patron column (a loan binding), or what a source that
        -- is a copy loses when it is severed (_copy_source_watch)
        SELECT w.patron_column INTO STRICT watched FROM @extschema@._copy_source_watch(s.source) w;
        SELECT string_agg(format('%I', x), ', ')
          INTO cols
          FROM (SELECT DISTINCT x FROM unnest(watched || s.source_keys) x WHERE x IS NOT NULL) u;
        args := CASE WHEN s.n = 0 THEN format('%L', c.relation::oid)
                     ELSE format('%L, %L', c.relation::oid, s.source::oid) END;
        FOR t IN SELECT @extschema@._trigger_targets(s.source) LOOP
            CONTINUE WHEN only_on IS NOT NULL AND t <> only_on;
            PERFORM @extschema@._drop_trigger(t, tg || '_u');
            PERFORM @extschema@._drop_trigger(t, tg || '_d');
            -- no WHEN clause (OLD.<column> IS DISTINCT FROM NEW.<column>, for each): the
            -- trigger compares them itself, where the clause was read and compiled again
            -- for every statement that updates the relation (src/copy_sever.c)
            EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OF %s ON %s FOR EACH ROW
                            EXECUTE FUNCTION @extschema@._sever_copies(%s)',
                           tg || '_u', cols, t, args);
            EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %s FOR EACH ROW
                            EXECUTE FUNCTION @extschema@._sever_copies(%s)', tg || '_d', t, args);
            -- a TRUNCATE fires no row trigger: its copies are swept at its end
            PERFORM @extschema@._drop_trigger(t, tg || '_t');
            EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %s FOR EACH STATEMENT
                            EXECUTE FUNCTION @extschema@._copy_source_truncated()', tg || '_t', t);
        END LOOP;
    END LOOP;
END $$;

REVOKE ALL ON FUNCTION @extschema@._install_copy_triggers(@extschema@.copy_binding,regclass) FROM PUBLIC;
