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
    as_owner text;
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
                    -- (a procedure has no SET clause: the ILS's triggers run as the
                    -- table's owner where the caller is a superuser, src/ils_owner.c)
                    as_owner := pg_catalog.current_setting('pals_privacy.sweep_as_owner');
                    PERFORM pg_catalog.set_config('pals_privacy.sweep_as_owner', 'on', true);
                    EXECUTE format('DELETE FROM ONLY %1$s WHERE ctid = ANY (ARRAY(
                                        SELECT ctid FROM ONLY %1$s WHERE %2$I < now() - $1 LIMIT $2))',
                                   leaf, r.timestamp_column) USING r.keep, batch_size;
                    GET DIAGNOSTICS n = ROW_COUNT;
                    PERFORM pg_catalog.set_config('pals_privacy.sweep_as_owner', as_owner, true);
                ELSE
                    as_owner := pg_catalog.current_setting('pals_privacy.sweep_as_owner');
                    PERFORM pg_catalog.set_config('pals_privacy.sweep_as_owner', 'on', true);
                    EXECUTE format('UPDATE ONLY %1$s SET %3$s WHERE ctid = ANY (ARRAY(
                                        SELECT t.ctid FROM ONLY %1$s t WHERE t.%2$I < now() - $1 AND %4$s LIMIT $2))',
                                   leaf, r.timestamp_column, set_clause, sever_filter)
                        USING r.keep, batch_size;
                    GET DIAGNOSTICS n = ROW_COUNT;
                    PERFORM pg_catalog.set_config('pals_privacy.sweep_as_owner', as_owner, true);
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
    -- the planner's statistics still sample the rows just destroyed
    IF NOT dry_run AND total > 0 THEN
        PERFORM @extschema@._refresh_statistics(ARRAY(
            SELECT x.relation::oid FROM @extschema@.retention_rule x
             WHERE coalesce((per_rule ->> x.relation::text)::bigint, 0) > 0));
        COMMIT;
    END IF;
END $$;

REVOKE ALL ON PROCEDURE @extschema@.apply_retention(boolean,integer,jsonb) FROM PUBLIC;
