-- The steps, each committing as it goes.  A step that fails is reported
-- (error column, result) and the next steps still run; the purge does not
-- run while a binding it depends on is broken (it could purge a patron
-- whose loans or balance it cannot see).  A run that dies half-way (the
-- server stopped, or an error in the purge) keeps finished_at NULL until
-- the next run marks it; the worker records the error text itself.
CREATE OR REPLACE PROCEDURE @extschema@.run_maintenance(INOUT result jsonb DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    run_id bigint;
    pending jsonb;
    retention jsonb;
    purge jsonb;
    removed integer;
    problems text[] := '{}';
    broken text;
BEGIN
    PERFORM @extschema@._require_admin('run_maintenance');
    PERFORM @extschema@._require_top_level('run_maintenance');
    run_id := @extschema@._run_begin('maintenance', false);
    UPDATE @extschema@.maintenance_runs
       SET error = 'interrupted: the run ended before finishing (its error is in the server log, '
                || 'or in cron.job_run_details when pg_cron ran it)'
     WHERE finished_at IS NULL AND error IS NULL AND id < run_id;
    COMMIT;
    BEGIN
        removed := @extschema@._forget_dead_bindings();
    EXCEPTION WHEN OTHERS THEN
        problems := problems || format('bindings of missing relations: %s: %s', SQLSTATE, SQLERRM);
    END;
    BEGIN
        pending := @extschema@._retry_pending();
    EXCEPTION WHEN OTHERS THEN
        problems := problems || format('pending severs: %s: %s', SQLSTATE, SQLERRM);
    END;
    COMMIT;
    BEGIN
        PERFORM @extschema@._audit_prune();
    EXCEPTION WHEN OTHERS THEN
        problems := problems || format('audit retention: %s: %s', SQLSTATE, SQLERRM);
    END;
    COMMIT;
    CALL @extschema@.apply_retention(false, 10000, retention);
    IF retention ? 'errors' THEN
        problems := problems || (SELECT format('retention: %s', string_agg(format('%s: %s', e.key, e.value #>> '{}'), '; '))
                                   FROM jsonb_each(retention -> 'errors') e);
    END IF;
    -- nothing to purge until the patron table is bound
    IF EXISTS (SELECT FROM @extschema@.patron_binding) THEN
        SELECT string_agg(format('%s %s: %s', x.kind, x.relation, x.problem), '; ') INTO broken
          FROM @extschema@.binding_problems() x WHERE x.kind <> 'retain';
        IF broken IS NOT NULL THEN
            purge := jsonb_build_object('skipped', broken);
            problems := problems || format('purge skipped, bindings are broken: %s', broken);
        ELSE
            CALL @extschema@.purge_expired(false, 500, purge);
        END IF;
    END IF;
    result := jsonb_build_object('pending', pending, 'retention', retention, 'purge', purge,
                                 'bindings_removed', coalesce(removed, 0));
    IF cardinality(problems) > 0 THEN
        UPDATE @extschema@.maintenance_runs m SET error = array_to_string(problems, '; ') WHERE m.id = run_id;
    END IF;
    PERFORM @extschema@._run_end(run_id, result);
    COMMIT;
END $$;

REVOKE ALL ON PROCEDURE @extschema@.run_maintenance(jsonb) FROM PUBLIC;
