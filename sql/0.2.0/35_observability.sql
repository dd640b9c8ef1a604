------------------------------------------------------------------------------
-- Maintenance that reports what went wrong, and what a DBA looks at
-- (issue 15, docs/operations.md "Monitoring"): who started each run, the
-- real error text of a failed step (a bad binding is skipped and reported,
-- the rest still runs), the worker's status per database, purge progress,
-- and a one-screen health check.
------------------------------------------------------------------------------

ALTER TABLE @extschema@.maintenance_runs ADD COLUMN IF NOT EXISTS started_by text;
COMMENT ON COLUMN @extschema@.maintenance_runs.started_by IS
    'application_name of the session that started the run, else its backend type (the worker: pals_privacy maintenance)';

CREATE OR REPLACE FUNCTION @extschema@._run_begin(kind text, dry_run boolean) RETURNS bigint
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO @extschema@.maintenance_runs (kind, dry_run, started_by)
    VALUES (kind, dry_run, coalesce(nullif(current_setting('application_name'), ''),
                                    (SELECT a.backend_type FROM pg_stat_activity a WHERE a.pid = pg_backend_pid())))
    RETURNING id
$$;

-- Counts so far of a run still going (a purge calls it after each batch,
-- before its COMMIT): what purge_progress shows.
CREATE FUNCTION @extschema@._run_progress(run_id bigint, counts jsonb) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    UPDATE @extschema@.maintenance_runs r SET counts = _run_progress.counts
     WHERE r.id = run_id AND r.finished_at IS NULL
$$;
REVOKE ALL ON FUNCTION @extschema@._run_progress(bigint, jsonb) FROM PUBLIC;

CREATE OR REPLACE PROCEDURE @extschema@.apply_retention(dry_run boolean DEFAULT false, batch_size integer DEFAULT 10000,
                                             INOUT result jsonb DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    r @extschema@.retention_rule;
    lb @extschema@.loan_binding;
    pcol name;
    leaf regclass;
    n bigint;
    total bigint := 0;
    per_rule jsonb := '{}';
    rule_rows bigint;
    run_id bigint;
    set_clause text;
    sever_filter text;
    p record;
    rule_error text;
    errors jsonb := '{}';
BEGIN
    PERFORM @extschema@._require_admin('apply_retention');
    IF batch_size IS NULL OR batch_size < 1 THEN
        RAISE EXCEPTION 'apply_retention: batch_size must be a positive number of rows'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    dry_run := coalesce(dry_run, false);
    PERFORM @extschema@._require_top_level('apply_retention');
    run_id := @extschema@._run_begin('retention', dry_run);
    COMMIT;
    FOR r IN SELECT * FROM @extschema@.retention_rule ORDER BY relation::text LOOP
        rule_rows := 0;
        rule_error := NULL;
        -- a rule whose relation or column is gone is skipped and reported,
        -- the others still run
        SELECT string_agg(x.problem, '; ') INTO rule_error FROM @extschema@.binding_problems() x
         WHERE x.relation::oid = r.relation::oid;
        IF rule_error IS NOT NULL THEN
            errors := errors || jsonb_build_object(r.relation::text, rule_error);
            CONTINUE;
        END IF;
        IF r.action = 'sever' THEN
            SELECT * INTO lb FROM @extschema@.loan_binding l WHERE l.relation = r.relation;
            pcol := coalesce(lb.patron_column,
                             (SELECT patron_column FROM @extschema@.private_history_binding x WHERE x.relation = r.relation),
                             (SELECT patron_column FROM @extschema@.outbox_binding x WHERE x.relation = r.relation),
                             (SELECT patron_column FROM @extschema@.card_binding x WHERE x.relation = r.relation));
            set_clause := CASE WHEN lb.sever_with LIKE 'patron:%' THEN format('%I = %L', pcol, substr(lb.sever_with, 8))
                               ELSE format('%I = NULL', pcol) END;
            -- rows that still have a patron; in a loan relation, only closed
            -- ones (an open loan keeps its patron)
            IF lb.relation IS NOT NULL THEN
                p := @extschema@._loan_predicates(lb, 't');
                sever_filter := format('%s AND %s', p.identified, p.closed);
            ELSE
                sever_filter := format('t.%I IS NOT NULL', pcol);
            END IF;
        END IF;
        -- batches by TID, one leaf table at a time (TIDs are per table)
        FOR leaf IN SELECT x.relid FROM pg_catalog.pg_partition_tree(r.relation) x WHERE x.isleaf
                    UNION SELECT r.relation WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_partition_tree(r.relation) x WHERE x.level > 0)
                    UNION SELECT c.relation FROM @extschema@._related_relations(r.relation) c WHERE c.relationship = 'child'
        LOOP
            CONTINUE WHEN (SELECT relkind FROM pg_catalog.pg_class WHERE oid = leaf) <> 'r';
            LOOP
              BEGIN
                IF dry_run THEN
                    EXECUTE format('SELECT count(*) FROM ONLY %s t WHERE t.%I < now() - $1 %s', leaf, r.timestamp_column,
                                   CASE WHEN r.action = 'sever' THEN 'AND ' || sever_filter ELSE '' END)
                        INTO n USING r.keep;
                ELSIF r.action = 'delete' THEN
                    EXECUTE format('DELETE FROM ONLY %1$s WHERE ctid = ANY (ARRAY(
                                        SELECT ctid FROM ONLY %1$s WHERE %2$I < now() - $1 LIMIT $2))',
                                   leaf, r.timestamp_column) USING r.keep, batch_size;
                    GET DIAGNOSTICS n = ROW_COUNT;
                ELSE
                    EXECUTE format('UPDATE ONLY %1$s SET %3$s WHERE ctid = ANY (ARRAY(
                                        SELECT t.ctid FROM ONLY %1$s t WHERE t.%2$I < now() - $1 AND %4$s LIMIT $2))',
                                   leaf, r.timestamp_column, set_clause, sever_filter)
                        USING r.keep, batch_size;
                    GET DIAGNOSTICS n = ROW_COUNT;
                END IF;
              EXCEPTION WHEN OTHERS THEN
                rule_error := format('%s: %s', SQLSTATE, SQLERRM);
                n := 0;
              END;
                rule_rows := rule_rows + n;
                COMMIT;
                EXIT WHEN dry_run OR n < batch_size OR rule_error IS NOT NULL;
            END LOOP;
        END LOOP;
        IF rule_error IS NOT NULL THEN
            errors := errors || jsonb_build_object(r.relation::text, rule_error);
        END IF;
        per_rule := per_rule || jsonb_build_object(r.relation::text, rule_rows);
        total := total + rule_rows;
    END LOOP;
    result := jsonb_build_object('dry_run', dry_run, 'rules', per_rule, 'rows', total);
    IF errors <> '{}' THEN
        result := result || jsonb_build_object('errors', errors);
        UPDATE @extschema@.maintenance_runs m
           SET error = (SELECT string_agg(format('%s: %s', e.key, e.value #>> '{}'), '; ') FROM jsonb_each(errors) e)
         WHERE m.id = run_id;
    END IF;
    PERFORM @extschema@._run_end(run_id, result);
    COMMIT;
END $$;

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

-- The maintenance worker, per database it has tried (cluster-wide; no row
-- without shared_preload_libraries).
CREATE FUNCTION @extschema@.worker_status(OUT database text, OUT launcher text, OUT last_start timestamptz,
                                          OUT last_end timestamptz, OUT outcome text, OUT last_error text,
                                          OUT last_error_at timestamptz, OUT next_run timestamptz,
                                          OUT runs bigint, OUT failures bigint)
RETURNS SETOF record LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_worker_status';

-- The last run of each kind in this database.
CREATE VIEW @extschema@.maintenance_status AS
    SELECT DISTINCT ON (r.kind) r.kind, r.id AS last_run, r.started_by, r.started_at, r.finished_at,
           CASE WHEN r.finished_at IS NULL AND r.error IS NULL THEN 'running'
                WHEN r.error LIKE 'interrupted%' THEN 'interrupted'
                WHEN r.error IS NOT NULL THEN 'failed'
                ELSE 'done' END AS state,
           r.error, r.counts,
           (SELECT w.next_run FROM @extschema@.worker_status() w WHERE w.database = current_database()) AS next_worker_run
      FROM @extschema@.maintenance_runs r
     ORDER BY r.kind, r.id DESC;
COMMENT ON VIEW @extschema@.maintenance_status IS 'The last purge, retention and maintenance run of this database';

-- The purge that is running (or the last one): counts so far, rate.
CREATE VIEW @extschema@.purge_progress AS
    SELECT r.id AS run, r.started_by, r.dry_run, r.started_at, r.finished_at,
           CASE WHEN r.finished_at IS NULL AND r.error IS NULL THEN 'in progress'
                WHEN r.error IS NOT NULL THEN 'failed' ELSE 'done' END AS state,
           coalesce(r.finished_at, clock_timestamp()) - r.started_at AS elapsed,
           (r.counts ->> 'purged')::bigint AS purged,
           (r.counts ->> 'eligible')::bigint AS eligible,
           r.counts -> 'skipped' AS skipped,
           round((r.counts ->> 'purged')::numeric
                 / GREATEST(extract(epoch FROM coalesce(r.finished_at, clock_timestamp()) - r.started_at), 0.001)::numeric, 1)
               AS purged_per_second,
           r.error
      FROM @extschema@.maintenance_runs r
     WHERE r.kind = 'purge'
     ORDER BY r.id DESC
     LIMIT 1;
COMMENT ON VIEW @extschema@.purge_progress IS 'The running or last purge: counts so far and rate';

-- One screen after installing, and whenever in doubt.
CREATE FUNCTION @extschema@.health(verify_audit boolean DEFAULT false)
RETURNS TABLE (check_name text, ok boolean, detail text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    w record;
    m record;
    n bigint;
    t text;
    listed boolean;
    interval_s integer;
    preloaded boolean;
BEGIN
    PERFORM @extschema@._require_admin('health');
    BEGIN
        preloaded := @extschema@._preloaded();    -- (it raises when not)
    EXCEPTION WHEN object_not_in_prerequisite_state THEN
        preloaded := false;
    END;
    check_name := 'library preloaded';
    ok := preloaded;
    detail := CASE WHEN ok THEN 'pals_privacy is in shared_preload_libraries'
                   ELSE 'add pals_privacy to shared_preload_libraries and restart: redaction is fail-closed without it, and there is no maintenance worker' END;
    RETURN NEXT;

    listed := current_database() = ANY (string_to_array(replace(coalesce(current_setting('pals_privacy.maintenance_databases', true), ''), ' ', ''), ','));
    interval_s := coalesce((SELECT setting::integer FROM pg_settings WHERE name = 'pals_privacy.maintenance_interval'), 3600);
    SELECT * INTO w FROM @extschema@.worker_status() s WHERE s.database = current_database();
    check_name := 'maintenance worker';
    ok := listed AND w.launcher = 'running' AND coalesce(w.outcome, '') <> 'failed';
    detail := CASE WHEN NOT preloaded THEN 'no worker without shared_preload_libraries; schedule CALL pals_privacy.run_maintenance() with pg_cron'
                   WHEN NOT listed THEN format('%s is not in pals_privacy.maintenance_databases; add it, or schedule CALL pals_privacy.run_maintenance() with pg_cron', current_database())
                   WHEN w.database IS NULL THEN 'listed, no round yet (SELECT pals_privacy.maintenance_now() starts one)'
                   ELSE format('last round %s (%s), next %s%s', w.last_start, w.outcome, w.next_run,
                               CASE WHEN w.last_error IS NOT NULL THEN format('; last error at %s: %s', w.last_error_at, w.last_error) ELSE '' END) END;
    RETURN NEXT;

    check_name := 'patron table bound';
    SELECT relation::text INTO t FROM @extschema@.patron_binding;
    ok := t IS NOT NULL;
    detail := coalesce(t, 'call pals_privacy.bind_patrons() first');
    RETURN NEXT;

    check_name := 'bindings valid';
    SELECT count(*), string_agg(format('%s %s: %s', x.kind, x.relation, x.problem), '; ') INTO n, t FROM @extschema@.binding_problems() x;
    ok := n = 0;
    detail := CASE WHEN ok THEN format('%s bindings', (SELECT count(*) FROM @extschema@.bindings))
                   ELSE t || ' (unbind, or fix the relation; see docs/troubleshooting.md)' END;
    RETURN NEXT;

    check_name := 'backlog severed';
    SELECT string_agg(l.relation::text || CASE WHEN g.binding IS NULL THEN ' (never run)' ELSE ' (in progress)' END, ', ')
      INTO t FROM @extschema@.loan_binding l LEFT JOIN @extschema@.backlog_progress g ON g.binding = l.relation::oid
     WHERE g.finished_at IS NULL;
    ok := t IS NULL;
    detail := coalesce('not done for ' || t || ': CALL pals_privacy.sever_backlog()', 'done for every loan binding');
    RETURN NEXT;

    check_name := 'pending severs';
    SELECT count(*), min(first_seen)::text INTO n, t FROM @extschema@.sever_pending;
    ok := n = 0;
    detail := CASE WHEN ok THEN 'none' ELSE format('%s rows, oldest since %s (see pals_privacy.sever_pending_rows)', n, t) END;
    RETURN NEXT;

    check_name := 'last maintenance run';
    SELECT * INTO m FROM @extschema@.maintenance_status s WHERE s.kind = 'maintenance';
    ok := m.state IN ('done', 'running') AND m.started_at > now() - make_interval(secs => 2 * interval_s + 60);
    detail := CASE WHEN m.last_run IS NULL THEN 'never ran'
                   ELSE format('run %s by %s at %s: %s%s', m.last_run, coalesce(m.started_by, '?'), m.started_at, m.state,
                               CASE WHEN m.error IS NOT NULL THEN ': ' || m.error ELSE '' END) END;
    RETURN NEXT;

    IF verify_audit THEN
        check_name := 'audit chain';
        n := @extschema@.verify_audit();
        ok := n IS NULL;
        detail := CASE WHEN ok THEN 'verifies' ELSE format('broken at entry %s', n) END;
        RETURN NEXT;
    END IF;
END $$;
REVOKE ALL ON FUNCTION @extschema@.worker_status(), @extschema@.health(boolean) FROM PUBLIC;

-- purge_expired() reports its progress after every batch (purge_progress),
-- and says up front that it must be called outside a transaction block.
-- (The rest as in 0.1.0.)
CREATE OR REPLACE PROCEDURE @extschema@.purge_expired(dry_run boolean DEFAULT false, batch_size integer DEFAULT 500,
                                           INOUT result jsonb DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    pb @extschema@.patron_binding;
    t text;
    grace interval;
    cand text[];
    got text[];
    owing text[];
    open_ids text[];
    eligible text[];
    last_id text;
    one text;
    busy text[];
    n bigint;
    run_id bigint;
    n_eligible bigint := 0; n_purged bigint := 0; n_balance bigint := 0; n_open bigint := 0;
    n_locked bigint := 0; n_error bigint := 0;
    errors text[] := '{}';
    n_batches bigint := 0;
BEGIN
    PERFORM @extschema@._require_admin('purge_expired');
    IF batch_size IS NULL OR batch_size < 1 THEN
        RAISE EXCEPTION 'purge_expired: batch_size must be a positive number of patrons'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    dry_run := coalesce(dry_run, false);
    SELECT * INTO pb FROM @extschema@.patron_binding;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'purge_expired: the patron table is not bound'
            USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Call pals_privacy.bind_patrons() first.';
    END IF;
    -- calling into the library defines its settings in this session, preloaded or not;
    -- pg_settings then gives the value in its base unit, minutes
    PERFORM @extschema@.current_class();
    grace := make_interval(mins => (SELECT setting::integer FROM pg_catalog.pg_settings
                                     WHERE name = 'pals_privacy.purge_grace'));
    IF grace IS NULL THEN
        RAISE EXCEPTION 'purge_expired: pals_privacy.purge_grace is not defined'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Load the library: add pals_privacy to shared_preload_libraries, or LOAD ''pals_privacy''.';
    END IF;
    t := @extschema@._column_type_name(pb.relation, pb.id_column);
    PERFORM @extschema@._require_top_level('purge_expired');
    run_id := @extschema@._run_begin('purge', dry_run);
    COMMIT;
    LOOP
        -- the next batch of patrons past the grace period
        EXECUTE format('SELECT array_agg(i ORDER BY o) FROM (
                            SELECT p.%1$I::text AS i, p.%1$I AS o FROM %2$s p
                             WHERE p.%3$I < now() - $1 AND ($2::text IS NULL OR p.%1$I > $2::%4$s)
                               AND NOT p.%1$I::text = ANY ($3)
                             ORDER BY p.%1$I LIMIT $4) s',
                       pb.id_column, pb.relation, pb.expires_column, t)
            INTO cand USING grace, last_id, @extschema@._placeholders(), batch_size;
        EXIT WHEN cand IS NULL;
        last_id := cand[cardinality(cand)];
        -- rows circulation holds are skipped, never waited for
        EXECUTE format('SELECT coalesce(array_agg(p.%1$I::text), ''{}'') FROM (SELECT %1$I FROM %2$s
                         WHERE %1$I = ANY ($1::%3$s[]) FOR UPDATE SKIP LOCKED) p', pb.id_column, pb.relation, t)
            INTO got USING cand;
        n_locked := n_locked + cardinality(cand) - cardinality(got);
        SELECT coalesce(array_agg(DISTINCT x), '{}') INTO owing FROM @extschema@._patrons_owing(got) x;
        SELECT coalesce(array_agg(DISTINCT x), '{}') INTO open_ids
          FROM @extschema@._patrons_with_open_rows(got) x WHERE NOT x = ANY (owing);
        n_balance := n_balance + cardinality(owing);
        n_open := n_open + cardinality(open_ids);
        SELECT coalesce(array_agg(x), '{}') INTO eligible FROM unnest(got) x
         WHERE NOT x = ANY (owing) AND NOT x = ANY (open_ids);
        -- a patron whose rows circulation holds is skipped too, never waited for
        SELECT coalesce(array_agg(DISTINCT x), '{}') INTO busy FROM @extschema@._patrons_with_locked_rows(eligible) x;
        n_locked := n_locked + cardinality(busy);
        SELECT coalesce(array_agg(x), '{}') INTO eligible FROM unnest(eligible) x WHERE NOT x = ANY (busy);
        n_eligible := n_eligible + cardinality(eligible);
        IF cardinality(eligible) > 0 THEN
            -- a dry run does the same work and rolls it back, so that it
            -- reports the same counts, failures included
            BEGIN
                n := @extschema@._purge_patrons(eligible);
                IF dry_run THEN
                    RAISE EXCEPTION USING ERRCODE = 'PP001', MESSAGE = 'dry run';
                END IF;
                n_purged := n_purged + n;
            EXCEPTION WHEN OTHERS THEN
                IF SQLSTATE = 'PP001' THEN
                    n_purged := n_purged + n;
                ELSE
                    -- one patron's failure must not keep the others: one by one
                    FOREACH one IN ARRAY eligible LOOP
                        BEGIN
                            n := @extschema@._purge_patrons(ARRAY[one]);
                            IF dry_run THEN
                                RAISE EXCEPTION USING ERRCODE = 'PP001', MESSAGE = 'dry run';
                            END IF;
                            n_purged := n_purged + n;
                        EXCEPTION WHEN OTHERS THEN
                            IF SQLSTATE = 'PP001' THEN
                                n_purged := n_purged + n;
                            ELSE
                                n_error := n_error + 1;
                                IF cardinality(errors) < 10 THEN
                                    -- no identities in the record: numbers are masked
                                    errors := errors || format('%s: %s', SQLSTATE,
                                                               regexp_replace(SQLERRM, '[0-9]+', '#', 'g'));
                                END IF;
                            END IF;
                        END;
                    END LOOP;
                END IF;
            END;
        END IF;
        n_batches := n_batches + 1;
        -- progress so far, committed with the batch (pals_privacy.purge_progress)
        PERFORM @extschema@._run_progress(run_id, jsonb_build_object(
            'dry_run', dry_run, 'eligible', n_eligible, 'purged', n_purged, 'batches', n_batches,
            'skipped', jsonb_build_object('balance', n_balance, 'open_loan', n_open, 'locked', n_locked, 'error', n_error)));
        COMMIT;
    END LOOP;
    result := jsonb_build_object('dry_run', dry_run, 'eligible', n_eligible, 'purged', n_purged,
                                 'skipped', jsonb_build_object('balance', n_balance, 'open_loan', n_open,
                                                               'locked', n_locked, 'error', n_error),
                                 'errors', to_jsonb(errors));
    PERFORM @extschema@._run_end(run_id, result);
    COMMIT;
    RAISE NOTICE 'purge_expired: % patrons purged%; kept: % owing, % with open loans or holds, % locked, % failed',
        n_purged, CASE WHEN dry_run THEN format(' (dry run: %s eligible)', n_eligible) ELSE '' END,
        n_balance, n_open, n_locked, n_error;
END $$;
