------------------------------------------------------------------------------
-- The compliance report (issue 19, docs/report.md): is the policy holding?
-- compliance_report() gives the numbers as rows; compliance_report_html()
-- draws them as one self-contained HTML page (inline SVG, no script, no
-- external file).  Counts and ages only, never a patron's identity.  Only
-- the auditor class (by login role, as for the audit log) and superusers.
------------------------------------------------------------------------------

-- The age brackets of identified closed history, youngest first.
CREATE FUNCTION @extschema@._report_age_labels() RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['under 1 day', '1-7 days', '7-30 days', '30-90 days', '90-365 days',
                 '1-2 years', 'over 2 years', 'unknown']
$$;

CREATE FUNCTION @extschema@._report_age_bucket(closed_at timestamptz) RETURNS integer
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN closed_at IS NULL OR closed_at = 'infinity' OR closed_at = '-infinity' THEN 8
                WHEN now() - closed_at < interval '1 day' THEN 1
                WHEN now() - closed_at < interval '7 days' THEN 2
                WHEN now() - closed_at < interval '30 days' THEN 3
                WHEN now() - closed_at < interval '90 days' THEN 4
                WHEN now() - closed_at < interval '365 days' THEN 5
                WHEN now() - closed_at < interval '730 days' THEN 6
                ELSE 7 END
$$;

CREATE FUNCTION @extschema@._report_row(section text, relation text, measure text, value numeric,
                                        ok boolean DEFAULT NULL, detail text DEFAULT NULL) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('section', section, 'relation', relation, 'measure', measure,
                              'value', value, 'ok', ok, 'detail', detail)
$$;

-- No identity in a message: every run of digits becomes '#'.
CREATE FUNCTION @extschema@._report_mask(message text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT regexp_replace(left(message, 200), '[0-9]+', '#', 'g')
$$;

-- Does the relation still exist with all these columns?  (A report on a
-- broken binding skips it and counts it under health/bindings_invalid.)
CREATE FUNCTION @extschema@._report_usable(rel regclass, cols name[]) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT FROM pg_catalog.pg_class k WHERE k.oid = rel)
       AND NOT EXISTS (SELECT FROM unnest(cols) col
                        WHERE col IS NOT NULL AND NOT EXISTS (
                            SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = rel AND a.attname = col
                               AND a.attnum > 0 AND NOT a.attisdropped))
$$;

CREATE FUNCTION @extschema@.compliance_report()
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
            opted := format('coalesce((SELECT o.%I::text FROM %s o WHERE o.%I = x.%I), '''') NOT IN (''false'', ''f'', ''0'', '''')',
                            pb.keep_history_column, pb.relation, pb.id_column, b.patron_column);
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
                      ON %5$L AND t.binding = $1 AND t.row_relid = x.tableoid AND t.row_tid = x.ctid
               LEFT JOIN @extschema@.sever_pending sp
                      ON sp.binding = $1 AND sp.row_relid = x.tableoid AND sp.row_tid = x.ctid
              WHERE %6$s AND %7$s
              GROUP BY 1, 2, 3',
            p.settled, opted, coalesce(closed_at, 'NULL::timestamptz'), b.relation, b.keep_last_borrower,
            p.closed, p.identified) USING b.relation::oid
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
            INTO expired USING grace, @extschema@._placeholders();
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

------------------------------------------------------------------------------
-- The report as one HTML page: inline CSS and SVG, no script, no external
-- file (nothing to fetch, so it renders the same offline, in a browser, in a
-- mail client or printed).  Every number carries data-section,
-- data-relation and data-measure attributes naming its compliance_report()
-- row, so a program can check the page against the catalog.
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@._html(t text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT replace(replace(replace(replace(replace(coalesce(t, ''), '&', '&amp;'), '<', '&lt;'), '>', '&gt;'),
                           '"', '&quot;'), '''', '&#39;')
$$;

-- A number of the report, tagged with the row it comes from.
CREATE FUNCTION @extschema@._report_num(rows jsonb, s text, r text, m text, tag text DEFAULT 'span',
                                        attrs text DEFAULT '') RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT format('<%s%s data-section="%s" data-relation="%s" data-measure="%s">%s</%s>',
                  tag, attrs, @extschema@._html(s), @extschema@._html(coalesce(r, '')), @extschema@._html(m),
                  coalesce((SELECT e ->> 'value' FROM jsonb_array_elements(rows) e
                             WHERE e ->> 'section' = s AND (e ->> 'relation') IS NOT DISTINCT FROM r
                               AND e ->> 'measure' = m LIMIT 1), '–'),
                  tag)
$$;

CREATE FUNCTION @extschema@._report_value(rows jsonb, s text, r text, m text) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce((SELECT (e ->> 'value')::numeric FROM jsonb_array_elements(rows) e
                      WHERE e ->> 'section' = s AND (e ->> 'relation') IS NOT DISTINCT FROM r
                        AND e ->> 'measure' = m LIMIT 1), 0)
$$;

CREATE FUNCTION @extschema@.compliance_report_html() RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    rows jsonb;
    h text;
    failing bigint;
    checks bigint;
    rels text[];
    rel text;
    kinds constant text[] := ARRAY['last_borrower', 'unsettled', 'opted_in', 'pending', 'not_severed'];
    kind_labels constant text[] := ARRAY['last borrower (kept)', 'fines owed (kept)', 'opted in, in place (kept)',
                                         'sever pending (should be gone)', 'never severed (should be gone)'];
    kind_colors constant text[] := ARRAY['#4e79a7', '#f28e2b', '#76b7b2', '#e15759', '#8b0a1a'];
    labels constant text[] := @extschema@._report_age_labels();
    maxv numeric;
    v numeric;
    x numeric;
    y integer;
    w numeric;
    i integer;
    rec jsonb;
    svg text;
    tile text;
BEGIN
    PERFORM @extschema@._require_auditor('compliance_report_html');
    SELECT jsonb_agg(to_jsonb(r) ORDER BY n) INTO rows FROM @extschema@.compliance_report() WITH ORDINALITY r(section, relation, measure, value, ok, detail, n);
    SELECT count(*) FILTER (WHERE NOT (e ->> 'ok')::boolean), count(*) FILTER (WHERE e ->> 'ok' IS NOT NULL)
      INTO failing, checks
      FROM jsonb_array_elements(rows) e WHERE e ->> 'relation' IS DISTINCT FROM 'total';
    SELECT array_agg(DISTINCT e ->> 'relation' ORDER BY e ->> 'relation') INTO rels
      FROM jsonb_array_elements(rows) e WHERE e ->> 'section' = 'identified_closed' AND e ->> 'relation' <> 'total';
    rels := coalesce(rels, '{}') || CASE WHEN cardinality(rels) > 0 THEN ARRAY['total'] ELSE '{}' END;

    h := '<!DOCTYPE html>' || E'\n' || '<html lang="en"><head><meta charset="utf-8">'
      || '<title>pals_privacy compliance report</title><style>'
      || '@page{size:A4;margin:12mm}'
      || 'body{font:13px/1.35 "DejaVu Sans",Helvetica,Arial,sans-serif;color:#222;margin:18px auto;max-width:1000px}'
      || 'h1{font-size:21px;margin:0 0 2px}h2{font-size:15px;margin:16px 0 6px;border-bottom:1px solid #ccc;padding-bottom:2px}'
      || '.sub{color:#666;margin:0 0 10px}.badge{display:inline-block;padding:3px 10px;border-radius:10px;color:#fff;font-weight:bold}'
      || '.good{background:#2e7d32}.bad{background:#c62828}'
      || '.tiles{display:grid;grid-template-columns:repeat(4,1fr);gap:8px}'
      || '.tile{border:1px solid #ddd;border-left:6px solid #2e7d32;border-radius:4px;padding:6px 8px}'
      || '.tile.fail{border-left-color:#c62828;background:#fff5f5}.tile .n{font-size:22px;font-weight:bold;display:block}'
      || '.tile .l{color:#555;font-size:11.5px}'
      || 'table{border-collapse:collapse;width:100%;font-size:12px}td,th{border-bottom:1px solid #eee;padding:2px 6px;text-align:left}'
      || 'td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}.two{display:grid;grid-template-columns:1fr 1fr;gap:16px}'
      || '.fail-cell{color:#c62828;font-weight:bold}.foot{color:#777;font-size:11px;margin-top:14px}'
      || 'code{font-size:11px;word-break:break-all}'
      || '</style></head><body>';
    h := h || format('<h1>pals_privacy compliance report</h1><p class="sub">database <b>%s</b> · generated %s · extension %s · counts and ages only, never a patron''s identity</p>',
                     @extschema@._html(current_database()), to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'),
                     @extschema@._html((SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pals_privacy')));
    h := h || format('<p><span class="badge %s" data-section="summary" data-relation="" data-measure="failing_checks">%s</span> <span class="sub">of %s checks failing</span></p>',
                     CASE WHEN failing = 0 THEN 'good' ELSE 'bad' END, failing, checks);

    -- Tiles: one per check (ok is not NULL), totals for per-binding checks.
    h := h || '<h2>Checks</h2><div class="tiles">';
    FOR rec IN SELECT x FROM jsonb_array_elements(rows) x
              WHERE x ->> 'ok' IS NOT NULL
                AND NOT (x ->> 'section' IN ('identified_closed') AND x ->> 'relation' <> 'total')
    LOOP
        tile := CASE (rec ->> 'section') || '/' || (rec ->> 'measure')
                    WHEN 'identified_closed/should_be_gone' THEN 'identified closed rows that should be gone'
                    WHEN 'expired_patrons/eligible_not_purged' THEN 'expired patrons owing and holding nothing, not purged'
                    WHEN 'retention/past_retention' THEN 'rows past retention: ' || (rec ->> 'relation')
                    WHEN 'audit/first_bad_entry' THEN 'audit chain: first bad entry (– = intact)'
                    WHEN 'acknowledgments/never_acknowledged' THEN 'staff login roles that never acknowledged the policy'
                    WHEN 'acknowledgments/overdue' THEN 'staff acknowledgments over a year old'
                    WHEN 'maintenance/runs_with_errors_30_days' THEN 'maintenance runs with errors, 30 days'
                    WHEN 'health/preloaded' THEN 'preloaded (1 = yes)'
                    WHEN 'health/worker_running' THEN 'maintenance workers running'
                    WHEN 'health/bindings_invalid' THEN 'bindings whose relation or column is gone'
                    WHEN 'health/backlog_not_done' THEN 'loan bindings with the backlog not finished'
                    WHEN 'health/severs_pending' THEN 'severs pending'
                    WHEN 'statistics/ended_keys_not_destroyed' THEN 'pseudonym keys of ended periods not yet destroyed'
                    ELSE replace(rec ->> 'measure', '_', ' ') END;
        h := h || format('<div class="tile%s">%s<span class="l">%s</span></div>',
                         CASE WHEN (rec ->> 'ok')::boolean THEN '' ELSE ' fail' END,
                         @extschema@._report_num(rows, rec ->> 'section', rec ->> 'relation', rec ->> 'measure', 'span', ' class="n"'),
                         @extschema@._html(tile));
    END LOOP;
    h := h || '</div>';

    -- Chart: why identified closed rows remain, one stacked bar per loan binding and the total.
    h := h || '<h2>Identified closed rows: why each one is still identified</h2>';
    IF cardinality(rels) = 0 THEN
        h := h || '<p>No loan binding.</p>';
    ELSE
        maxv := greatest(1, (SELECT max(@extschema@._report_value(rows, 'identified_closed', r, 'identified_closed')) FROM unnest(rels) r));
        svg := format('<svg xmlns="http://www.w3.org/2000/svg" width="960" height="%s" role="img" aria-label="identified closed rows by reason">',
                      30 + 30 * cardinality(rels));
        y := 8;
        FOREACH rel IN ARRAY rels LOOP
            svg := svg || format('<text x="0" y="%s" font-size="12">%s</text>', y + 15, @extschema@._html(rel));
            x := 170;
            FOR i IN 1 .. 5 LOOP
                v := @extschema@._report_value(rows, 'identified_closed', rel, kinds[i]);
                w := round(600 * v / maxv, 1);
                IF v > 0 THEN
                    svg := svg || format('<rect x="%s" y="%s" width="%s" height="22" fill="%s"><title>%s: %s</title></rect>',
                                         x, y, greatest(w, 1), kind_colors[i], kind_labels[i], v);
                END IF;
                x := x + greatest(w, CASE WHEN v > 0 THEN 1 ELSE 0 END);
            END LOOP;
            svg := svg || format('<text x="%s" y="%s" font-size="12" font-weight="bold" data-section="identified_closed" data-relation="%s" data-measure="identified_closed">%s</text>',
                                 x + 6, y + 15, @extschema@._html(rel),
                                 @extschema@._report_value(rows, 'identified_closed', rel, 'identified_closed'));
            y := y + 30;
        END LOOP;
        -- legend
        x := 0;
        FOR i IN 1 .. 5 LOOP
            svg := svg || format('<rect x="%s" y="%s" width="12" height="12" fill="%s"/><text x="%s" y="%s" font-size="11">%s</text>',
                                 x, y + 4, kind_colors[i], x + 16, y + 14, kind_labels[i]);
            x := x + 16 + 7 * length(kind_labels[i]) + 14;
        END LOOP;
        h := h || svg || '</svg>';
        -- the same numbers as a table
        h := h || '<table><tr><th>relation</th><th class="num">identified closed</th>';
        FOR i IN 1 .. 5 LOOP
            h := h || format('<th class="num">%s</th>', kind_labels[i]);
        END LOOP;
        h := h || '<th class="num">should be gone</th></tr>';
        FOREACH rel IN ARRAY rels LOOP
            h := h || format('<tr><td>%s</td>%s', @extschema@._html(rel),
                             @extschema@._report_num(rows, 'identified_closed', rel, 'identified_closed', 'td', ' class="num"'));
            FOR i IN 1 .. 5 LOOP
                h := h || @extschema@._report_num(rows, 'identified_closed', rel, kinds[i], 'td', ' class="num"');
            END LOOP;
            h := h || @extschema@._report_num(rows, 'identified_closed', rel, 'should_be_gone', 'td',
                          CASE WHEN @extschema@._report_value(rows, 'identified_closed', rel, 'should_be_gone') > 0
                               THEN ' class="num fail-cell"' ELSE ' class="num"' END) || '</tr>';
        END LOOP;
        h := h || '</table>';
        FOR rec IN SELECT x FROM jsonb_array_elements(rows) x
                  WHERE x ->> 'measure' = 'pending_reason' AND x ->> 'relation' = 'total' LOOP
            h := h || format('<p class="sub">pending sever, %s rows: %s</p>', rec ->> 'value', @extschema@._html(rec ->> 'detail'));
        END LOOP;
    END IF;

    -- Chart: ages of identified closed history (all loan bindings), and expired patrons kept.
    h := h || '<div class="two"><div><h2>Age of identified closed history</h2>';
    maxv := greatest(1, (SELECT max(@extschema@._report_value(rows, 'age', 'total', l)) FROM unnest(labels) l));
    svg := '<svg xmlns="http://www.w3.org/2000/svg" width="470" height="210" role="img" aria-label="age distribution">'
        || '<line x1="10" y1="170" x2="465" y2="170" stroke="#999"/>';
    FOR i IN 1 .. 8 LOOP
        v := @extschema@._report_value(rows, 'age', 'total', labels[i]);
        w := round(140 * v / maxv, 1);
        svg := svg || format('<rect x="%s" y="%s" width="44" height="%s" fill="%s"/>',
                             14 + (i - 1) * 56, 170 - w, w, CASE WHEN i = 8 THEN '#aaa' ELSE '#4e79a7' END)
                   || format('<text x="%s" y="%s" font-size="11" text-anchor="middle" data-section="age" data-relation="total" data-measure="%s">%s</text>',
                             36 + (i - 1) * 56, 164 - w, labels[i], v)
                   || format('<text x="%s" y="186" font-size="10" text-anchor="middle">%s</text>', 36 + (i - 1) * 56,
                             split_part(labels[i], ' ', 1))
                   || format('<text x="%s" y="198" font-size="10" text-anchor="middle">%s</text>', 36 + (i - 1) * 56,
                             substr(labels[i], length(split_part(labels[i], ' ', 1)) + 2));
    END LOOP;
    h := h || svg || '</svg></div>';

    h := h || '<div><h2>Expired patrons still there, by reason</h2>';
    IF NOT EXISTS (SELECT FROM jsonb_array_elements(rows) x WHERE x ->> 'section' = 'expired_patrons') THEN
        h := h || '<p>The patron table is not bound.</p>';
    ELSE
        SELECT x ->> 'relation' INTO rel FROM jsonb_array_elements(rows) x WHERE x ->> 'section' = 'expired_patrons' LIMIT 1;
        maxv := greatest(1, @extschema@._report_value(rows, 'expired_patrons', rel, 'expired_beyond_grace'));
        svg := '<svg xmlns="http://www.w3.org/2000/svg" width="470" height="130" role="img" aria-label="expired patrons by reason">';
        i := 0;
        FOR rec IN SELECT jsonb_build_object('m', m, 'l', l, 'c', c) FROM (VALUES
                     ('expired_beyond_grace', 'expired beyond grace', '#777'),
                     ('kept_owing', 'kept: owe money', '#f28e2b'),
                     ('kept_open_loan_or_hold', 'kept: open loan or hold', '#4e79a7'),
                     ('eligible_not_purged', 'eligible, not purged', '#e15759')) t(m, l, c) LOOP
            v := @extschema@._report_value(rows, 'expired_patrons', rel, rec ->> 'm');
            w := round(250 * v / maxv, 1);
            svg := svg || format('<text x="0" y="%s" font-size="11">%s</text>', 18 + i * 28, rec ->> 'l')
                       || format('<rect x="160" y="%s" width="%s" height="18" fill="%s"/>', 5 + i * 28, greatest(w, 1), rec ->> 'c')
                       || format('<text x="%s" y="%s" font-size="11" font-weight="bold" data-section="expired_patrons" data-relation="%s" data-measure="%s">%s</text>',
                                 166 + w, 18 + i * 28, @extschema@._html(rel), rec ->> 'm', v);
            i := i + 1;
        END LOOP;
        h := h || svg || '</svg>';
        h := h || format('<p class="sub">%s</p>', @extschema@._html((SELECT x ->> 'detail' FROM jsonb_array_elements(rows) x
                                                                      WHERE x ->> 'measure' = 'expired_beyond_grace' LIMIT 1)));
    END IF;
    h := h || '</div></div>';

    -- Tables: contact fields without consent; retention; maintenance; audit.
    h := h || '<div class="two"><div><h2>Contact fields without consent</h2><table><tr><th>relation</th><th>field, purpose</th><th class="num">rows</th></tr>';
    FOR rec IN SELECT x FROM jsonb_array_elements(rows) x WHERE x ->> 'section' = 'contact' LOOP
        h := h || format('<tr><td>%s</td><td>%s</td>%s</tr>', @extschema@._html(rec ->> 'relation'), @extschema@._html(rec ->> 'measure'),
                         @extschema@._report_num(rows, 'contact', rec ->> 'relation', rec ->> 'measure', 'td', ' class="num"'));
    END LOOP;
    h := h || '</table></div><div><h2>Retention rules</h2><table><tr><th>relation</th><th>rule</th><th class="num">rows past it</th></tr>';
    FOR rec IN SELECT x FROM jsonb_array_elements(rows) x WHERE x ->> 'section' = 'retention' LOOP
        h := h || format('<tr><td>%s</td><td>%s</td>%s</tr>', @extschema@._html(rec ->> 'relation'), @extschema@._html(rec ->> 'detail'),
                         @extschema@._report_num(rows, 'retention', rec ->> 'relation', 'past_retention', 'td',
                                                 CASE WHEN (rec ->> 'ok')::boolean THEN ' class="num"' ELSE ' class="num fail-cell"' END));
    END LOOP;
    h := h || '</table><h2>Maintenance</h2><table><tr><th>run</th><th class="num">hours ago</th><th>state</th></tr>';
    FOR rec IN SELECT x FROM jsonb_array_elements(rows) x WHERE x ->> 'section' = 'maintenance' AND x ->> 'measure' LIKE 'last\_%' LOOP
        h := h || format('<tr><td>%s</td>%s<td%s>%s</td></tr>',
                         @extschema@._html(replace(replace(rec ->> 'measure', '_hours_ago', ''), '_', ' ')),
                         @extschema@._report_num(rows, 'maintenance', NULL, rec ->> 'measure', 'td', ' class="num"'),
                         CASE WHEN (rec ->> 'ok')::boolean THEN '' ELSE ' class="fail-cell"' END, @extschema@._html(rec ->> 'detail'));
    END LOOP;
    h := h || '</table></div></div>';

    h := h || format('<h2>Audit log</h2><p>%s entries; the chain %s. Head entry %s, hash <code data-section="audit" data-relation="" data-measure="head_hash">%s</code> — compare it with the copy kept outside the database.</p>',
                     @extschema@._report_num(rows, 'audit', NULL, 'entries'),
                     CASE WHEN @extschema@._report_value(rows, 'audit', NULL, 'first_bad_entry') = 0
                          THEN 'verifies' ELSE 'is broken at entry ' || @extschema@._report_num(rows, 'audit', NULL, 'first_bad_entry') END,
                     @extschema@._report_num(rows, 'audit', NULL, 'head_entry'),
                     @extschema@._html((SELECT x ->> 'detail' FROM jsonb_array_elements(rows) x
                                         WHERE x ->> 'section' = 'audit' AND x ->> 'measure' = 'head_entry')));
    h := h || '<p class="foot">From <code>pals_privacy.compliance_report()</code>; every number here is one of its rows. '
           || 'Kept identified: an item''s last borrower (PALS Notice and Openness 9), rows with fines owed, history a patron asked to keep. '
           || 'Everything else closed should have lost its patron.</p></body></html>';
    RETURN h;
END $$;
COMMENT ON FUNCTION @extschema@.compliance_report_html() IS
    'compliance_report() as one self-contained HTML page with inline SVG charts; auditors and superusers only';

REVOKE ALL ON FUNCTION @extschema@._report_age_labels(), @extschema@._report_usable(regclass, name[]), @extschema@._report_age_bucket(timestamptz),
    @extschema@._report_row(text, text, text, numeric, boolean, text), @extschema@._report_mask(text),
    @extschema@._html(text), @extschema@._report_num(jsonb, text, text, text, text, text),
    @extschema@._report_value(jsonb, text, text, text) FROM PUBLIC;
-- they check the caller's class themselves (auditor by login role, or a superuser)
GRANT EXECUTE ON FUNCTION @extschema@.compliance_report(), @extschema@.compliance_report_html() TO PUBLIC;
