-- purge_expired() reports its progress after every batch (purge_progress),
-- and says up front that it must be called outside a transaction block;
-- it gives account records written for patrons purged before their
-- binding's purge_with (result: accounts).  (The rest as in 0.1.0.)
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
    todo text[];
    rest text[];
    k_purged bigint;
    k_kept text[];
    k_msg text;
    one_by_one boolean;
    singles text[];
    touched oid[] := '{}';
    write_counts jsonb;
    analyzed oid[] := '{}';
    v record;
    last_id text;
    one text;
    busy text[];
    n bigint;
    run_id bigint;
    n_eligible bigint := 0; n_purged bigint := 0; n_balance bigint := 0; n_open bigint := 0;
    n_locked bigint := 0; n_error bigint := 0;
    errors text[] := '{}';
    msg text;
    n_batches bigint := 0;
    acc record;
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
    -- account records written since for patrons purged before (soft-deleted
    -- rows the ILS still charges): their bindings' purge_with, as at the purge
    SELECT * INTO acc FROM @extschema@._purge_accounts_again(dry_run);
    IF acc.error IS NOT NULL THEN
        errors := errors || acc.error;
    END IF;
    COMMIT;
    LOOP
        -- rows inserted into and deleted from each loan relation (and its
        -- partitions) so far, as this backend counts them (below: the
        -- relations this batch inserted or deleted rows of, by whatever)
        SELECT coalesce(jsonb_object_agg(l.relation::oid::text,
                       (SELECT coalesce(sum(x.n_tup_ins + x.n_tup_del), 0)
                          FROM (SELECT l.relation::oid AS relid
                                UNION SELECT p.relid FROM pg_catalog.pg_partition_tree(l.relation) p) t
                          JOIN pg_catalog.pg_stat_xact_all_tables x ON x.relid = t.relid)), '{}')
          FROM @extschema@.loan_binding l
          INTO write_counts;
        -- the next batch of patrons past the grace period
        EXECUTE format('SELECT array_agg(i ORDER BY o) FROM (
                            SELECT p.%1$I::text AS i, p.%1$I AS o FROM %2$s p
                             WHERE p.%3$I < now() - $1 AND ($2::text IS NULL OR p.%1$I > $2::%4$s)
                               AND NOT p.%1$I::text = ANY ($3)
                             ORDER BY p.%1$I LIMIT $4) s',
                       pb.id_column, pb.relation, pb.expires_column, t)
            INTO cand USING grace, last_id, @extschema@._placeholders() || @extschema@._purged_patrons(), batch_size;
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
        -- the batch in one subtransaction.  When a trigger of the ILS kept rows
        -- of some of its patrons from their sever, the attempt is rolled back
        -- and names them: they are tried alone, and the others again as one
        -- group.  Any other failure: each patron of the group alone.
        todo := eligible;
        singles := '{}';
        one_by_one := false;
        WHILE cardinality(todo) > 0 AND NOT one_by_one LOOP
            k_purged := NULL;
            k_kept := NULL;
            -- a dry run does the same work and rolls it back, so that it
            -- reports the same counts, failures included
            BEGIN
                SELECT x.purged, x.kept, x.message INTO k_purged, k_kept, k_msg
                  FROM @extschema@._purge_patrons_try(todo) x;
                IF k_kept IS NULL THEN
                    IF dry_run THEN
                        RAISE EXCEPTION USING ERRCODE = 'PP001', MESSAGE = 'dry run';
                    END IF;
                    n_purged := n_purged + k_purged;
                    todo := '{}';
                END IF;
            EXCEPTION WHEN OTHERS THEN
                IF SQLSTATE = 'PP001' THEN
                    n_purged := n_purged + k_purged;
                    todo := '{}';
                ELSE
                    one_by_one := true;
                END IF;
            END;
            IF k_kept IS NOT NULL THEN
                -- (rolled back) the patrons kept: alone, below; the others again
                SELECT coalesce(array_agg(x ORDER BY o), '{}') INTO rest
                  FROM unnest(todo) WITH ORDINALITY u(x, o) WHERE NOT x = ANY (k_kept);
                IF cardinality(rest) < cardinality(todo) THEN
                    -- each of them is tried alone below (cheap: an attempt
                    -- for kept copy rows fails before the loan relations),
                    -- and fails or goes as it would in a batch of its own
                    singles := singles || ARRAY(SELECT x FROM unnest(todo) x WHERE x = ANY (k_kept));
                    todo := rest;
                ELSE
                    one_by_one := true;     -- none of them named (not expected)
                END IF;
            END IF;
        END LOOP;
        IF one_by_one THEN
            singles := todo || singles;
        END IF;
        -- one patron's failure must not keep the others: one by one
        FOREACH one IN ARRAY singles LOOP
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
                    -- no identities in the record: numbers are masked; the
                    -- first ten different messages (skipped.error counts all)
                    msg := format('%s: %s', SQLSTATE, regexp_replace(SQLERRM, '[0-9]+', '#', 'g'));
                    IF cardinality(errors) < 10 AND NOT msg = ANY (errors) THEN
                        errors := errors || msg;
                    END IF;
                END IF;
            END;
        END LOOP;
        n_batches := n_batches + 1;
        -- progress so far, committed with the batch (pals_privacy.purge_progress)
        PERFORM @extschema@._run_progress(run_id, jsonb_build_object(
            'dry_run', dry_run, 'eligible', n_eligible, 'purged', n_purged, 'batches', n_batches,
            'skipped', jsonb_build_object('balance', n_balance, 'open_loan', n_open, 'locked', n_locked, 'error', n_error)));
        touched := touched || ARRAY(
            SELECT k::oid FROM jsonb_each(write_counts) w(k, c)
             WHERE c IS DISTINCT FROM (SELECT coalesce(jsonb_object_agg(l.relation::oid::text,
                                   (SELECT coalesce(sum(x.n_tup_ins + x.n_tup_del), 0)
                                      FROM (SELECT l.relation::oid AS relid
                                            UNION SELECT p.relid FROM pg_catalog.pg_partition_tree(l.relation) p) t
                                      JOIN pg_catalog.pg_stat_xact_all_tables x ON x.relid = t.relid)), '{}')
                      FROM @extschema@.loan_binding l) -> k);
        COMMIT;
    END LOOP;
    result := jsonb_build_object('dry_run', dry_run, 'eligible', n_eligible, 'purged', n_purged,
                                 'skipped', jsonb_build_object('balance', n_balance, 'open_loan', n_open,
                                                               'locked', n_locked, 'error', n_error),
                                 'errors', to_jsonb(errors))
              -- (only when there were any: the account rows of patrons purged before)
              || CASE WHEN acc.n > 0 THEN jsonb_build_object('accounts', acc.n) ELSE '{}' END;
    PERFORM @extschema@._run_end(run_id, result);
    COMMIT;
    -- the planner's statistics of the bound relations were sampled before
    -- the purge: they keep purged patrons' card numbers, names, ids until
    -- analyzed again (autovacuum does not for a few changed rows)
    -- (also after account records of patrons purged before were cleared:
    -- an ANALYZE since may have sampled their id)
    IF NOT dry_run AND (n_purged > 0 OR coalesce(acc.n, 0) > 0) THEN
        -- A loan relation the purge changed only by its own update of the
        -- patron columns ('null', 'patron:<id>') changed in those columns
        -- alone: they are analyzed (the same sample, their statistics
        -- computed instead of every column's: on the demo the loans were
        -- half of the time of the whole refresh, and the refresh most of a
        -- purge of a few hundred patrons).  Only where nothing else can
        -- have changed its rows: no purge function of the ILS, no trigger
        -- but the extension's, no rule, no foreign key that sets a column
        -- on delete, no row inserted or deleted during the purge; and, as
        -- for sever_backlog(), no extended statistics and no inheritance
        -- but partitions.  Every other bound relation: _refresh_statistics.
        FOR v IN SELECT l.relation, l.patron_column, l.more_patron_columns FROM @extschema@.loan_binding l
                  WHERE pb.purge_function IS NULL AND l.sever_with <> 'delete'
                    AND NOT l.relation::oid = ANY (touched)
                    AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits i WHERE i.inhrelid = l.relation)
                    AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
                                     WHERE i.inhparent = l.relation AND NOT c.relispartition)
                    AND NOT EXISTS (SELECT FROM (SELECT l.relation::oid AS relid
                                                  UNION SELECT p.relid FROM pg_catalog.pg_partition_tree(l.relation) p) t
                                     WHERE EXISTS (SELECT FROM pg_catalog.pg_statistic_ext x WHERE x.stxrelid = t.relid)
                                        -- a stored generated column (computed from the patron column)
                                        -- or an expression index (analyzed only with every column)
                                        OR EXISTS (SELECT FROM pg_catalog.pg_attribute a
                                                    WHERE a.attrelid = t.relid AND a.attgenerated = 's' AND NOT a.attisdropped)
                                        OR EXISTS (SELECT FROM pg_catalog.pg_index i WHERE i.indrelid = t.relid AND i.indexprs IS NOT NULL)
                                        OR EXISTS (SELECT FROM pg_catalog.pg_trigger g
                                                    WHERE g.tgrelid = t.relid AND NOT g.tgisinternal
                                                      AND NOT EXISTS (SELECT FROM pg_catalog.pg_proc f
                                                                       WHERE f.oid = g.tgfoid
                                                                         AND f.pronamespace = '@extschema@'::regnamespace))
                                        OR EXISTS (SELECT FROM pg_catalog.pg_rewrite r WHERE r.ev_class = t.relid)
                                        OR EXISTS (SELECT FROM pg_catalog.pg_constraint c
                                                    WHERE c.conrelid = t.relid AND c.contype = 'f' AND c.confdeltype IN ('n', 'd')))
        LOOP
            EXECUTE format('ANALYZE %s (%s)', v.relation,
                           (SELECT string_agg(format('%I', c), ', ') FROM unnest(v.patron_column || coalesce(v.more_patron_columns, '{}')) c));
            analyzed := analyzed || v.relation::oid;
        END LOOP;
        PERFORM @extschema@._refresh_statistics(ARRAY(
            SELECT DISTINCT x.relation::oid FROM @extschema@.bindings x WHERE x.kind <> 'retain' AND NOT x.relation::oid = ANY (analyzed)));
        COMMIT;
    END IF;
    RAISE NOTICE 'purge_expired: % patrons purged%; kept: % owing, % with open loans or holds, % locked, % failed',
        n_purged, CASE WHEN dry_run THEN format(' (dry run: %s eligible)', n_eligible) ELSE '' END,
        n_balance, n_open, n_locked, n_error;
END $$;

REVOKE ALL ON PROCEDURE @extschema@.purge_expired(boolean,integer,jsonb) FROM PUBLIC;
