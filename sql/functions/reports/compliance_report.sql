CREATE OR REPLACE FUNCTION @extschema@.compliance_report()
RETURNS TABLE (section text, relation text, measure text, value numeric, ok boolean, detail text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    acc jsonb := '[]';
    first_row integer;
    b @extschema@.loan_binding;
    pb @extschema@.patron_binding;
    c @extschema@.contact_binding;
    r @extschema@.retention_rule;
    lb @extschema@.loan_binding;
    p record;
    q record;
    closed_at text;
    opted text;
    pcol name;
    filter text;
    grace interval;
    expired text[];
    owing text[];
    open_ids text[];
    n bigint;
    n2 bigint;
    labels constant text[] := @extschema@._report_age_labels();
    ages bigint[];
    kinds jsonb;
    head record;
    bad bigint;
    preloaded boolean;
    dbs text;
BEGIN
    PERFORM @extschema@._require_auditor('compliance_report');
    PERFORM @extschema@.current_class();   -- loads the library: its settings are defined

    -- 1. Identified closed rows, per loan binding: why each one is still identified.
    --    Kept by the policy: the item's last borrower, fines still owed, a patron who opted in to
    --    keeping history in place.  Should be gone: a sever left pending (with its reason), or
    --    no sever at all (a backlog not run, a bug).  The same scan gives their ages.
    first_row := jsonb_array_length(acc);
    FOR b IN SELECT * FROM @extschema@.loan_binding ORDER BY relation::text LOOP
        CONTINUE WHEN NOT @extschema@._report_usable(b.relation,
                              b.closed_columns || b.patron_column || b.item_column || b.settled_column);
        p := @extschema@._loan_predicates(b, 'x');
        SELECT 'greatest(' || string_agg(format('x.%I::timestamptz', col), ', ') || ')' INTO closed_at
          FROM unnest(b.closed_columns) col
         WHERE @extschema@._column_type_name(b.relation, col) IN
               ('date', 'timestamp without time zone', 'timestamp with time zone');
        opted := 'false';
        SELECT * INTO pb FROM @extschema@.patron_binding;
        IF b.history_mode = 'in_place' AND pb.keep_history_column IS NOT NULL THEN
            opted := format('coalesce((SELECT %s FROM %s o WHERE o.%I = x.%I), false)',
                            @extschema@._optin_sql(pb, 'o'), pb.relation, pb.id_column, b.patron_column);
        END IF;
        kinds := '{}';
        ages := array_fill(0::bigint, ARRAY[8]);
        FOR q IN EXECUTE format(
            'SELECT CASE WHEN t.row_tid IS NOT NULL THEN ''last_borrower''
                         WHEN NOT %1$s THEN ''unsettled''
                         WHEN %2$s THEN ''opted_in''
                         WHEN sp.reason IS NOT NULL THEN ''pending''
                         ELSE ''not_severed'' END AS kind,
                    @extschema@._report_mask(sp.reason) AS reason,
                    @extschema@._report_age_bucket(%3$s) AS bucket, count(*) AS n
               FROM %4$s x
               LEFT JOIN @extschema@.last_borrower t
                      ON %5$L AND t.binding = $2 AND t.row_relid = x.tableoid AND t.row_tid = x.ctid
               LEFT JOIN @extschema@.sever_pending sp
                      ON sp.binding = $1 AND sp.row_relid = x.tableoid AND sp.row_tid = x.ctid
              WHERE %6$s AND %7$s
              GROUP BY 1, 2, 3',
            p.settled, opted, coalesce(closed_at, 'NULL::timestamptz'), b.relation, b.keep_last_borrower,
            p.closed, p.identified) USING b.relation::oid, coalesce(b.last_borrower_group, b.relation)::oid
        LOOP
            kinds := jsonb_set(kinds, ARRAY[q.kind], to_jsonb(coalesce((kinds ->> q.kind)::bigint, 0) + q.n));
            IF q.kind = 'pending' THEN
                kinds := jsonb_set(kinds, ARRAY['reason: ' || coalesce(q.reason, '?')],
                                   to_jsonb(coalesce((kinds ->> ('reason: ' || coalesce(q.reason, '?')))::bigint, 0) + q.n));
            END IF;
            ages[q.bucket] := ages[q.bucket] + q.n;
        END LOOP;
        n := coalesce((kinds ->> 'pending')::bigint, 0) + coalesce((kinds ->> 'not_severed')::bigint, 0);
        acc := acc
            || @extschema@._report_row('identified_closed', b.relation::text, 'identified_closed',
                   (SELECT coalesce(sum(v::bigint), 0) FROM jsonb_each_text(kinds) e(k, v) WHERE k NOT LIKE 'reason: %'))
            || @extschema@._report_row('identified_closed', b.relation::text, 'last_borrower', coalesce((kinds ->> 'last_borrower')::bigint, 0))
            || @extschema@._report_row('identified_closed', b.relation::text, 'unsettled', coalesce((kinds ->> 'unsettled')::bigint, 0))
            || @extschema@._report_row('identified_closed', b.relation::text, 'opted_in', coalesce((kinds ->> 'opted_in')::bigint, 0))
            || @extschema@._report_row('identified_closed', b.relation::text, 'pending', coalesce((kinds ->> 'pending')::bigint, 0))
            || @extschema@._report_row('identified_closed', b.relation::text, 'not_severed', coalesce((kinds ->> 'not_severed')::bigint, 0))
            || @extschema@._report_row('identified_closed', b.relation::text, 'should_be_gone', n, n = 0,
                   'pending severs and rows never severed: the policy says these should have lost their patron');
        acc := acc || coalesce((SELECT jsonb_agg(@extschema@._report_row('identified_closed', b.relation::text, 'pending_reason',
                                                                        v::numeric, NULL, substr(k, 9)) ORDER BY k)
                                  FROM jsonb_each_text(kinds) e(k, v) WHERE k LIKE 'reason: %'), '[]');
        FOR i IN 1 .. 8 LOOP
            acc := acc || @extschema@._report_row('age', b.relation::text, labels[i], ages[i]);
        END LOOP;
    END LOOP;
    -- totals over the loan bindings
    acc := acc || coalesce((
        SELECT jsonb_agg(@extschema@._report_row(s, 'total', m, v, CASE WHEN m = 'should_be_gone' THEN v = 0 END, d)
                         ORDER BY o)
          FROM (SELECT e ->> 'section' AS s, e ->> 'measure' AS m,
                       CASE WHEN e ->> 'measure' = 'pending_reason' THEN e ->> 'detail' END AS d,
                       sum((e ->> 'value')::numeric) AS v, min(i) AS o
                  FROM jsonb_array_elements(acc) WITH ORDINALITY a(e, i)
                 WHERE i > first_row AND e ->> 'section' IN ('identified_closed', 'age')
                 GROUP BY 1, 2, 3) t),
        '[]');

    -- 2. Expired patrons still there, by reason (purge_expired's reasons).
    SELECT * INTO pb FROM @extschema@.patron_binding;
    IF FOUND AND @extschema@._report_usable(pb.relation, ARRAY[pb.id_column, pb.expires_column]) THEN
        grace := make_interval(mins => (SELECT setting::integer FROM pg_catalog.pg_settings
                                         WHERE name = 'pals_privacy.purge_grace'));
        EXECUTE format('SELECT coalesce(array_agg(p.%1$I::text), ''{}'') FROM %2$s p
                         WHERE p.%3$I < now() - $1 AND NOT p.%1$I::text = ANY ($2)',
                       pb.id_column, pb.relation, pb.expires_column)
            INTO expired USING grace, @extschema@._placeholders() || @extschema@._purged_patrons();
        SELECT coalesce(array_agg(DISTINCT x), '{}') INTO owing FROM @extschema@._patrons_owing(expired) x;
        SELECT coalesce(array_agg(DISTINCT x), '{}') INTO open_ids
          FROM @extschema@._patrons_with_open_rows(expired) x WHERE NOT x = ANY (owing);
        n := cardinality(expired) - cardinality(owing) - cardinality(open_ids);
        acc := acc
            || @extschema@._report_row('expired_patrons', pb.relation::text, 'expired_beyond_grace', cardinality(expired),
                                       NULL, format('expired more than %s ago', justify_hours(grace)))
            || @extschema@._report_row('expired_patrons', pb.relation::text, 'kept_owing', cardinality(owing))
            || @extschema@._report_row('expired_patrons', pb.relation::text, 'kept_open_loan_or_hold', cardinality(open_ids))
            || @extschema@._report_row('expired_patrons', pb.relation::text, 'eligible_not_purged', n, n = 0,
                                       'owe nothing and hold nothing: the next purge removes them');
    END IF;

    -- 3. Contact fields without consent, per field (channel) and purpose.
    FOR c IN SELECT * FROM @extschema@.contact_binding ORDER BY relation::text, column_name LOOP
        CONTINUE WHEN NOT @extschema@._report_usable(c.relation, ARRAY[c.column_name, c.patron_column]);
        EXECUTE format('SELECT count(*) FROM %s x WHERE x.%I IS NOT NULL', c.relation, c.column_name) INTO n;
        acc := acc || @extschema@._report_row('contact', c.relation::text, format('%s (%s): filled', c.column_name, c.channel), n);
        FOR q IN SELECT name FROM @extschema@.purposes ORDER BY builtin DESC, name LOOP
            EXECUTE format('SELECT count(*) FROM %s x WHERE x.%I IS NOT NULL AND NOT EXISTS (
                                SELECT FROM @extschema@.consents k WHERE k.patron = x.%I::text AND k.purpose = $1
                                   AND k.channel = $2 AND k.granted)', c.relation, c.column_name, c.patron_column)
                INTO n USING q.name, c.channel;
            acc := acc || @extschema@._report_row('contact', c.relation::text,
                                                  format('%s (%s): no %s consent', c.column_name, c.channel, q.name), n);
        END LOOP;
    END LOOP;

    -- 4. Rows past their retention rule (what the next apply_retention() would remove or sever).
    FOR r IN SELECT * FROM @extschema@.retention_rule ORDER BY relation::text LOOP
        CONTINUE WHEN NOT @extschema@._report_usable(r.relation, ARRAY[r.timestamp_column]);
        filter := 'true';
        IF r.action = 'sever' THEN
            SELECT * INTO lb FROM @extschema@.loan_binding l WHERE l.relation = r.relation;
            pcol := coalesce(lb.patron_column,
                             (SELECT patron_column FROM @extschema@.private_history_binding x WHERE x.relation = r.relation),
                             (SELECT patron_column FROM @extschema@.outbox_binding x WHERE x.relation = r.relation),
                             (SELECT patron_column FROM @extschema@.card_binding x WHERE x.relation = r.relation));
            IF lb.relation IS NOT NULL THEN
                p := @extschema@._loan_predicates(lb, 'x');
                filter := format('%s AND %s', p.identified, p.closed);
            ELSIF pcol IS NOT NULL THEN
                filter := format('x.%I IS NOT NULL', pcol);
            END IF;
        END IF;
        EXECUTE format('SELECT count(*) FROM %1$s x WHERE x.%2$I < now() - $1 AND %3$s',
                       r.relation, r.timestamp_column, filter)
            INTO n USING r.keep;
        acc := acc || @extschema@._report_row('retention', r.relation::text, 'past_retention', n, n = 0,
                                              format('keep %s, then %s', r.keep, r.action));
    END LOOP;

    -- 5. The audit chain.
    bad := @extschema@.verify_audit();
    SELECT a.id, encode(a.hash, 'hex') AS hash INTO head FROM @extschema@.audit_log a ORDER BY a.id DESC LIMIT 1;
    acc := acc
        || @extschema@._report_row('audit', NULL, 'entries', (SELECT count(*) FROM @extschema@.audit_log))
        || @extschema@._report_row('audit', NULL, 'first_bad_entry', bad, bad IS NULL,
                                   CASE WHEN bad IS NULL THEN 'the chain verifies' ELSE 'the chain is broken at this entry' END)
        || @extschema@._report_row('audit', NULL, 'head_entry', head.id, NULL, head.hash);

    -- 6. Staff policy acknowledgments (PALS: reviewed every year): login roles of class staff.
    SELECT count(*) AS roles, count(*) FILTER (WHERE a.acknowledged_at IS NULL) AS never,
           count(*) FILTER (WHERE a.acknowledged_at < now() - interval '1 year') AS overdue
      INTO q
      FROM pg_catalog.pg_roles o
      LEFT JOIN @extschema@.acknowledgments a ON a.role = o.rolname
     WHERE o.rolcanlogin AND NOT o.rolsuper AND o.rolname !~ '^pg_'
       AND @extschema@.class_of(o.oid::regrole) = 'staff';
    acc := acc
        || @extschema@._report_row('acknowledgments', NULL, 'staff_login_roles', q.roles)
        || @extschema@._report_row('acknowledgments', NULL, 'never_acknowledged', q.never, q.never = 0)
        || @extschema@._report_row('acknowledgments', NULL, 'overdue', q.overdue, q.overdue = 0, 'last acknowledged over a year ago');

    -- 7. Maintenance: the last runs of each kind, and the runs that failed in the last 30 days.
    FOR q IN SELECT DISTINCT ON (m.kind) m.* FROM @extschema@.maintenance_runs m
              WHERE NOT m.dry_run ORDER BY m.kind, m.id DESC LOOP
        acc := acc || @extschema@._report_row('maintenance', NULL, 'last_' || q.kind || '_hours_ago',
                                              round((extract(epoch FROM now() - q.started_at) / 3600)::numeric, 1),
                                              q.finished_at IS NOT NULL AND q.error IS NULL,
                                              CASE WHEN q.error IS NOT NULL THEN 'failed: ' || @extschema@._report_mask(q.error)
                                                   WHEN q.finished_at IS NULL THEN 'not finished'
                                                   ELSE format('took %s s', round(extract(epoch FROM q.finished_at - q.started_at)::numeric, 1)) END);
    END LOOP;
    SELECT count(*) FILTER (WHERE m.error IS NOT NULL OR coalesce((m.counts -> 'skipped' ->> 'error')::bigint, 0) > 0) AS failed,
           string_agg(DISTINCT @extschema@._report_mask(m.error), '; ') AS errors
      INTO q
      FROM @extschema@.maintenance_runs m
     WHERE m.started_at > now() - interval '30 days';
    acc := acc || @extschema@._report_row('maintenance', NULL, 'runs_with_errors_30_days', q.failed, q.failed = 0,
                                          q.errors);

    -- 8. Pseudonymous statistics (52_statistics.sql): keys of ended periods must be gone.
    IF to_regclass('@extschema@.pseudonym_keys') IS NOT NULL THEN
        acc := acc
            || @extschema@._report_row('statistics', NULL, 'bindings_collecting',
                                       (SELECT count(*) FROM @extschema@.statistics_binding))
            || @extschema@._report_row('statistics', NULL, 'records', (SELECT count(*) FROM @extschema@.pseudonymous_loans))
            || @extschema@._report_row('statistics', NULL, 'live_keys',
                                       (SELECT count(*) FROM @extschema@.pseudonym_keys WHERE key IS NOT NULL))
            || @extschema@._report_row('statistics', NULL, 'ended_keys_not_destroyed',
                                       (SELECT count(*) FROM @extschema@.pseudonym_keys
                                         WHERE key IS NOT NULL AND period_end <= clock_timestamp()),
                                       (SELECT count(*) = 0 FROM @extschema@.pseudonym_keys
                                         WHERE key IS NOT NULL AND period_end <= clock_timestamp()),
                                       'destroyed by the next record or rotate_pseudonym_key()');
    END IF;

    -- 9. Health.
    preloaded := coalesce(current_setting('shared_preload_libraries', true), '') ~ '(^|[ ,])"?pals_privacy"?($|[ ,])';
    acc := acc || @extschema@._report_row('health', NULL, 'preloaded', preloaded::integer, preloaded,
                                          'shared_preload_libraries: the maintenance worker and early settings need it');
    dbs := coalesce(current_setting('pals_privacy.maintenance_databases', true), '');
    n := (SELECT count(*) FROM pg_catalog.pg_stat_activity
           WHERE backend_type = 'pals_privacy maintenance' AND datname = current_database());
    acc := acc || @extschema@._report_row('health', NULL, 'worker_running', n,
                                          CASE WHEN preloaded AND current_database() = ANY (string_to_array(replace(dbs, ' ', ''), ','))
                                               THEN n > 0 END,
                                          CASE WHEN dbs = '' THEN 'pals_privacy.maintenance_databases is empty: schedule run_maintenance() yourself'
                                               ELSE 'maintenance_databases: ' || dbs END);
    -- a binding whose relation or a named column is gone (the report skipped it above)
    SELECT count(*) INTO n FROM @extschema@.bindings x
     WHERE NOT @extschema@._report_usable(x.relation, ARRAY[x.column_name]);
    SELECT n + count(*) INTO n FROM @extschema@.loan_binding l
     WHERE @extschema@._report_usable(l.relation, ARRAY[l.patron_column])
       AND NOT @extschema@._report_usable(l.relation, l.closed_columns || l.item_column || l.settled_column);
    acc := acc || @extschema@._report_row('health', NULL, 'bindings_invalid', n, n = 0,
                                          format('%s bindings', (SELECT count(*) FROM @extschema@.bindings)));
    SELECT count(*) INTO n FROM @extschema@.loan_binding l
     WHERE NOT EXISTS (SELECT FROM @extschema@.backlog_progress g WHERE g.binding = l.relation::oid AND g.finished_at IS NOT NULL);
    acc := acc || @extschema@._report_row('health', NULL, 'backlog_not_done', n, n = 0,
                                          'loan bindings whose sever_backlog() has not finished');
    SELECT count(*) INTO n FROM @extschema@.sever_pending;
    acc := acc || @extschema@._report_row('health', NULL, 'severs_pending', n, n = 0,
                                          'retried by every maintenance run');
    acc := acc || @extschema@._report_row('health', NULL, 'extension_version', NULL, NULL,
                                          (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pals_privacy'));

    RETURN QUERY SELECT e ->> 'section', e ->> 'relation', e ->> 'measure', (e ->> 'value')::numeric,
                        (e ->> 'ok')::boolean, e ->> 'detail'
                   FROM jsonb_array_elements(acc) WITH ORDINALITY a(e, i) ORDER BY i;
END $$;

COMMENT ON FUNCTION @extschema@.compliance_report() IS
    'Is the privacy policy holding? Counts and ages per binding and in total; auditors and superusers only';

GRANT EXECUTE ON FUNCTION @extschema@.compliance_report() TO PUBLIC;
