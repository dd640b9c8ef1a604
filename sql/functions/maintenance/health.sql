-- One screen after installing, and whenever in doubt.
CREATE OR REPLACE FUNCTION @extschema@.health(verify_audit boolean DEFAULT false)
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

    -- a bound view is read as its owner: its owner, or a function it runs,
    -- changed since binding (src/view_owner.c); its reads refuse until fixed
    check_name := 'bound views read as their owner';
    SELECT count(*), string_agg(format('%s: %s', v.relation, v.problem), '; ' ORDER BY v.relation::text) INTO n, t
      FROM (SELECT b.relation, @extschema@._view_owner_problem(b.relation) AS problem
              FROM @extschema@.balance_binding b
             WHERE EXISTS (SELECT FROM pg_class c WHERE c.oid = b.relation::oid)) v
     WHERE v.problem IS NOT NULL;
    ok := n = 0;
    detail := CASE WHEN ok THEN format('%s bound views', (SELECT count(*) FROM @extschema@.balance_binding b
                                                           JOIN pg_class c ON c.oid = b.relation::oid WHERE c.relkind = 'v'))
                   ELSE t || ' (their reads refuse until fixed)' END;
    RETURN NEXT;

    -- a loan relation rewritten outside a utility command (pg_repack) since
    -- its tracker was built: its last borrowers read hidden to staff (a stale
    -- entry never vouches) until the tracker is rebuilt
    check_name := 'last-borrower tracker current';
    SELECT count(*), string_agg(f.relation::text, ', ' ORDER BY f.relation::text) INTO n, t
      FROM @extschema@.tracker_file f
     WHERE EXISTS (SELECT FROM pg_class c WHERE c.oid = f.relation::oid)
       AND f.node IS DISTINCT FROM pg_relation_filenode(f.relation)
       AND EXISTS (SELECT FROM @extschema@.loan_binding l
                    WHERE l.keep_last_borrower AND EXISTS (SELECT FROM pg_class c WHERE c.oid = l.relation::oid)
                      AND (l.relation::oid = f.relation::oid
                           OR l.relation::oid IN (SELECT pg_catalog.pg_partition_ancestors(f.relation))
                           OR l.relation::oid IN (SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = f.relation::oid)));
    ok := n = 0;
    detail := CASE WHEN ok THEN 'every loan relation''s tracker was built against its current file'
                   ELSE format('rewritten since the tracker was built (pg_repack, or a rebuild after a rewrite failed): %s; staff read no last borrower there until SELECT pals_privacy.rebuild_tracker()', t) END;
    RETURN NEXT;

    -- a closed column the redaction cannot truncate (a bigint epoch, a time
    -- as text) reads as stored to classes below operational where they do
    -- not read the row's patron (bind_loans warned)
    check_name := 'closed columns are times';
    SELECT count(*), string_agg(format('%s.%I (%s)', l.relation, c.col, a.atttypid::regtype), ', '
                                ORDER BY l.relation::text, c.col) INTO n, t
      FROM @extschema@.loan_binding l, unnest(l.closed_columns) c(col), pg_attribute a
     WHERE EXISTS (SELECT FROM pg_class x WHERE x.oid = l.relation::oid)
       AND a.attrelid = l.relation AND a.attname = c.col AND a.attnum > 0 AND NOT a.attisdropped
       AND c.col <> ALL (coalesce(l.hide_columns, '{}'))
       AND NOT @extschema@._closed_time_type(a.atttypid::regtype);
    ok := n = 0;
    detail := CASE WHEN ok THEN 'every closed column is a time, or hidden (hide_columns)'
                   ELSE format('not a time, read as stored where the patron is hidden: %s (add them to hide_columns: docs/binding.md, "Closed times")', t) END;
    RETURN NEXT;

    -- what binding put on the tables, still there: the table's owner (often the
    -- ILS's own role) can switch any of it off without a word
    check_name := 'protections in place';
    WITH RECURSIVE b(rel) AS (
        SELECT x.relation::oid FROM @extschema@.bindings x
         WHERE x.kind <> 'retain' AND EXISTS (SELECT FROM pg_class c WHERE c.oid = x.relation)
        UNION
        SELECT i.inhrelid FROM pg_inherits i JOIN b ON i.inhparent = b.rel),
    tables AS (
        SELECT c.oid, c.relrowsecurity, c.relforcerowsecurity FROM b JOIN pg_class c ON c.oid = b.rel
         WHERE c.relkind IN ('r', 'p')),
    expected AS (   -- the severing triggers, on every relation they must sit on
        SELECT tt.r::oid AS rel, 'pals_privacy_sever'::name AS tg
          FROM @extschema@.loan_binding l, @extschema@._trigger_targets(l.relation) tt(r)
         WHERE EXISTS (SELECT FROM pg_class c WHERE c.oid = l.relation)
        UNION ALL
        SELECT tt.r::oid, 'pals_privacy_tombstone'::name
          FROM @extschema@.loan_binding l, @extschema@._trigger_targets(l.relation) tt(r)
         WHERE EXISTS (SELECT FROM pg_class c WHERE c.oid = l.relation)
        UNION ALL
        SELECT tt.r::oid, ('pals_privacy_copy_' || c.relation::oid || v.s)::name
          FROM @extschema@.copy_binding c, @extschema@._copy_sources(c) cs, @extschema@._trigger_targets(cs.source) tt(r), (VALUES ('_u'), ('_d'), ('_t')) v(s)
         WHERE EXISTS (SELECT FROM pg_class x WHERE x.oid = cs.source) AND c.sever_with <> 'keep'),
    problems AS (
        SELECT format('trigger %s on %s is missing', e.tg, e.rel::regclass) AS p FROM expected e
         WHERE NOT EXISTS (SELECT FROM pg_trigger g WHERE g.tgrelid = e.rel AND g.tgname = e.tg)
        UNION ALL
        SELECT format('trigger %s on %s is disabled', g.tgname, g.tgrelid::regclass) FROM pg_trigger g
         WHERE g.tgname LIKE 'pals\_privacy\_%' AND NOT g.tgisinternal AND g.tgenabled NOT IN ('O', 'A')
        UNION ALL
        SELECT format('row security is off on %s', x.oid::regclass) FROM tables x WHERE NOT x.relrowsecurity
        UNION ALL
        SELECT format('row security is not forced on %s', x.oid::regclass) FROM tables x
         WHERE NOT x.relforcerowsecurity
           AND EXISTS (SELECT FROM pg_policy y WHERE y.polrelid = x.oid AND y.polname = 'pals_privacy_redaction')
        UNION ALL
        SELECT format('policy pals_privacy_guard is missing on %s', x.oid::regclass) FROM tables x
         WHERE NOT EXISTS (SELECT FROM pg_policy y WHERE y.polrelid = x.oid AND y.polname = 'pals_privacy_guard'))
    SELECT count(*), string_agg(pr.p, '; ' ORDER BY pr.p) INTO n, t FROM problems pr;
    ok := n = 0;
    detail := CASE WHEN ok THEN 'severing triggers enabled, row security on every bound table'
                   ELSE t || ' (switch it on again: docs/operations.md, "protections in place")' END;
    RETURN NEXT;

    -- a restricted login role that may SET ROLE to the ILS's operational role
    -- or to a superuser reads everything after one statement: a desk account
    -- given the ILS's role for its table rights, a report account in the
    -- superuser the ILS connects as (PostgreSQL 16 and later: a membership
    -- granted WITH SET FALSE gives the rights without the way)
    check_name := 'no role can leave its class';
    EXECUTE format($q$
        WITH c AS (SELECT oid, rolname, rolsuper, rolcanlogin, @extschema@.class_of(oid::regrole) AS cls FROM pg_roles)
        SELECT count(*), string_agg(format('%%s (%%s) can SET ROLE %%s (%%s)', r.rolname, r.cls, y.rolname,
                                           CASE WHEN y.rolsuper THEN 'superuser' ELSE 'operational' END), '; ' ORDER BY r.rolname, y.rolname)
          FROM c r JOIN c y ON y.oid <> r.oid AND (y.rolsuper OR y.cls = 'operational')
         WHERE r.rolcanlogin AND NOT r.rolsuper AND r.cls <> 'operational'
           AND pg_has_role(r.oid, y.oid, %L)$q$,
        CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'SET' ELSE 'MEMBER' END)
        INTO n, t;
    ok := n = 0;
    detail := CASE WHEN ok THEN 'no login role below operational is a member of an operational role or a superuser'
                   ELSE t || ' (and then reads as that role: REVOKE the membership and grant the table rights the account needs'
                        || CASE WHEN current_setting('server_version_num')::int >= 160000 THEN ', or GRANT ... WITH SET FALSE' ELSE '' END
                        || '; docs/binding.md, "How a role gets its class")' END;
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

REVOKE ALL ON FUNCTION @extschema@.health(boolean) FROM PUBLIC;
