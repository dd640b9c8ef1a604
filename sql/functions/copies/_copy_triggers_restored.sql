-- After a restore: pg_dump writes the severing triggers of a derived copy
-- (pals_privacy_copy_<oid>_u, _d and _t, argument '<oid>') with the copy's OID in
-- the dumped database, which names no copy in the restored one (or another
-- relation): left so, a source row deleted or severed there would sever none
-- of its copies, silently.  Each such trigger just created (the restore's
-- CREATE TRIGGER, _on_trigger_restored) is dropped and the triggers of every
-- copy bound to that relation now are installed on it; a trigger that names
-- a copy bound now by its own OID is left alone (the ones installed here).
CREATE OR REPLACE FUNCTION @extschema@._copy_triggers_restored() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE r record; c @extschema@.copy_binding;
BEGIN
    FOR r IN SELECT t.tgrelid::regclass AS rel, t.tgname
               FROM pg_event_trigger_ddl_commands() d JOIN pg_trigger t ON t.oid = d.objid
              WHERE d.object_type = 'trigger' AND t.tgname ~ '^pals_privacy_copy_[0-9]+_[udt]$' AND t.tgparentid = 0
                AND NOT EXISTS (SELECT FROM @extschema@.copy_binding x
                                 WHERE (t.tgname IN ('pals_privacy_copy_' || x.relation::oid || '_u', 'pals_privacy_copy_' || x.relation::oid || '_d')
                                        AND pg_get_triggerdef(t.oid) ~ ('_sever_copies\(''' || x.relation::oid || ''''))
                                    OR t.tgname = 'pals_privacy_copy_' || x.relation::oid || '_t') LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', r.tgname, r.rel);
        FOR c IN SELECT x.* FROM @extschema@.copy_binding x
                  WHERE EXISTS (SELECT FROM @extschema@._copy_sources(x) s, @extschema@._trigger_targets(s.source) tt(t)
                                 WHERE tt.t = r.rel) LOOP
            PERFORM @extschema@._install_copy_triggers(c, r.rel);
        END LOOP;
    END LOOP;
END $$;

REVOKE ALL ON FUNCTION @extschema@._copy_triggers_restored() FROM PUBLIC;
