------------------------------------------------------------------------------
-- Dump and restore (issue 15, docs/operations.md "Backup and restore").
-- pg_dump keeps the data of configuration tables only; these carry state
-- too, and the identity sequences of the extension's tables must come back
-- with them, or the next grant_consent() or open_legal_order() collides
-- with a restored row.  The tracker (last_borrower) and the pending severs
-- hold TIDs, which a restore changes: they are rebuilt, not dumped.
------------------------------------------------------------------------------

SELECT pg_catalog.pg_extension_config_dump('@extschema@.maintenance_runs', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.backlog_progress', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.outbox_dropped', '');
-- (one statement each: two calls in one statement update the same catalog row twice)
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.private_history', 'id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.consent_history', 'id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.maintenance_runs', 'id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.legal_orders', 'id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.policy_acknowledgments', 'id'), '');

-- Is this statement a restore?  pg_dump writes the rows of configuration
-- tables as COPY ... FROM stdin.  The restored audit log already holds the
-- entries of the original binding changes: copying them in again is not a
-- new change, and appending entries while the audit log itself is being
-- restored (pg_restore -j) would collide with the restored ones.
CREATE FUNCTION @extschema@._restoring() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(current_query() ~* '^\s*COPY\s+[^;]*\s+FROM\s+stdin', false)
$$;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['patron_binding', 'card_binding', 'balance_binding',
                             'loan_binding', 'private_history_binding', 'contact_binding',
                             'outbox_binding', 'retention_rule', 'role_class', 'purposes']
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS audit ON @extschema@.%I', t);
        EXECUTE format('CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.%I
                        FOR EACH ROW WHEN (NOT @extschema@._restoring())
                        EXECUTE FUNCTION @extschema@._audit_config_change()', t);
    END LOOP;
END $$;

-- Each item's last borrower, from the rows as they are (after a restore, or
-- when the tracker is in doubt): the latest closed row of each item, if it
-- still names a patron.  Closed, settled rows that still name a patron and
-- are not their item's last borrower are queued in sever_pending, for
-- maintenance to sever (or keep, for a patron who opted in).
-- Returns the number of items tracked.  (Internal: the restore calls it;
-- the identity helper's rebuild_tracker() is the public, bind-time build.)
CREATE FUNCTION @extschema@._restore_tracker(relation regclass DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b @extschema@.loan_binding;
    p record;
    order_expr text;
    n bigint;
    total bigint := 0;
BEGIN
    PERFORM @extschema@._require_admin('_restore_tracker');
    IF relation IS NOT NULL AND NOT EXISTS (SELECT FROM @extschema@.loan_binding l WHERE l.relation = _restore_tracker.relation) THEN
        RAISE EXCEPTION '_restore_tracker: "%" is not bound as loans', relation
            USING ERRCODE = 'undefined_object', HINT = 'See SELECT * FROM pals_privacy.bindings WHERE kind = ''loans''.';
    END IF;
    FOR b IN SELECT * FROM @extschema@.loan_binding l
              WHERE (_restore_tracker.relation IS NULL OR l.relation = _restore_tracker.relation)
                AND EXISTS (SELECT FROM pg_class c WHERE c.oid = l.relation::oid) LOOP
        p := @extschema@._loan_predicates(b, 't');
        order_expr := CASE WHEN cardinality(b.closed_columns) = 1 THEN format('t.%I', b.closed_columns[1])
                           ELSE format('GREATEST(%s)', (SELECT string_agg(format('t.%I', c), ', ')
                                                         FROM unnest(b.closed_columns) c)) END;
        DELETE FROM @extschema@.last_borrower l WHERE l.binding = b.relation;
        IF b.keep_last_borrower THEN
            EXECUTE format(
                'INSERT INTO @extschema@.last_borrower (binding, item, row_relid, row_tid)
                 SELECT $1, item, rid, tid FROM (
                     SELECT DISTINCT ON (t.%1$I) t.%1$I::text AS item, t.tableoid AS rid, t.ctid AS tid, %4$s AS identified
                       FROM %2$s t WHERE t.%1$I IS NOT NULL AND %3$s
                      ORDER BY t.%1$I, %5$s DESC, t.tableoid DESC, t.ctid DESC) s
                  WHERE identified',
                b.item_column, b.relation, p.closed, p.identified, order_expr) USING b.relation::oid;
            GET DIAGNOSTICS n = ROW_COUNT;
            total := total + n;
        END IF;
        EXECUTE format(
            'INSERT INTO @extschema@.sever_pending (binding, row_relid, row_tid, item, reason)
             SELECT $1, t.tableoid, t.ctid, t.%1$I::text, %6$L
               FROM %2$s t
              WHERE %3$s AND %4$s AND %5$s
                AND NOT EXISTS (SELECT FROM @extschema@.last_borrower l
                                 WHERE l.binding = $1 AND l.row_relid = t.tableoid AND l.row_tid = t.ctid)
             ON CONFLICT DO NOTHING',
            b.item_column, b.relation, p.closed, p.settled, p.identified,
            'tracker rebuilt: closed and settled, still identified') USING b.relation::oid;
    END LOOP;
    RETURN total;
END $$;
REVOKE ALL ON FUNCTION @extschema@._restore_tracker(regclass) FROM PUBLIC;

-- After a restore: the severing triggers come back (post-data, after every
-- row is loaded); then the tracker is rebuilt, and the backlog progress,
-- which names its bindings by OID, follows the restored relations by name.
CREATE FUNCTION @extschema@._on_trigger_restored() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE c record; b regclass;
BEGIN
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
        IF b IS NOT NULL AND NOT EXISTS (SELECT FROM @extschema@.last_borrower l WHERE l.binding = b::oid) THEN
            RAISE NOTICE 'pals_privacy: rebuilding the last-borrower tracker of % (% items)', b,
                @extschema@._restore_tracker(b);
        END IF;
    END LOOP;
END $$;
CREATE EVENT TRIGGER pals_privacy_restore ON ddl_command_end
    WHEN TAG IN ('CREATE TRIGGER')
    EXECUTE FUNCTION @extschema@._on_trigger_restored();
