CREATE OR REPLACE FUNCTION @extschema@.unbind(relation regclass)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'unbind'; n bigint := 0; k bigint; t regclass;
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['relation'], ARRAY[relation::text]);
    IF EXISTS (SELECT 1 FROM @extschema@.patron_binding b WHERE b.relation = unbind.relation)
       AND EXISTS (SELECT 1 FROM @extschema@.bindings b WHERE b.relation <> unbind.relation AND b.kind <> 'retain') THEN
        RAISE EXCEPTION '%: other bindings depend on the patron table "%"', fn, relation
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = (SELECT format('Still bound: %s.', string_agg(DISTINCT format('%s (%s)', b.relation, b.kind), ', '))
                              FROM @extschema@.bindings b WHERE b.relation <> unbind.relation AND b.kind <> 'retain'),
                  HINT = 'Unbind those relations first.';
    END IF;
    -- derived copies (bind_copy) follow their source's rows: a source
    -- unbound under them would leave them bound to rows nothing severs any
    -- more, their triggers still on the relation.  The DBA unbinds them
    -- first, knowingly (unbind_copy forgets their pending rows and keys).
    IF EXISTS (SELECT 1 FROM @extschema@.copy_binding c
                WHERE c.source = unbind.relation OR unbind.relation = ANY (c.more_sources)) THEN
        RAISE EXCEPTION '%: derived copies follow "%"', fn, relation
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = (SELECT format('Bound as copies of it (bind_copy): %s.', string_agg(c.relation::text, ', ' ORDER BY c.relation::text))
                              FROM @extschema@.copy_binding c
                             WHERE c.source = unbind.relation OR unbind.relation = ANY (c.more_sources)),
                  HINT = (SELECT format('Unbind the copies first: %s. To bind "%s" again with other settings, unbind the copies, '
                                        'unbind and bind it, and bind the copies again in one transaction.',
                                        string_agg(CASE WHEN c.more_sources IS NULL
                                                        THEN format('SELECT pals_privacy.unbind_copy(%L)', c.relation::text)
                                                        ELSE format('SELECT pals_privacy.unbind_copy(%L, source => %L)', c.relation::text, unbind.relation::text) END,
                                                   '; ' ORDER BY c.relation::text), unbind.relation)
                            FROM @extschema@.copy_binding c
                           WHERE c.source = unbind.relation OR unbind.relation = ANY (c.more_sources));
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.loan_binding b WHERE b.relation = unbind.relation) THEN
        PERFORM @extschema@._leave_last_borrower_group(relation);
        PERFORM @extschema@._drop_loan_triggers(relation);
        -- (the files its tracker was built against: a binding made again records its own)
        WITH RECURSIVE tree (relid) AS (
            SELECT unbind.relation::oid
            UNION SELECT i.inhrelid FROM pg_inherits i JOIN tree ON i.inhparent = tree.relid)
        DELETE FROM @extschema@.tracker_file f USING tree t WHERE f.relation::oid = t.relid;
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.patron_binding b WHERE b.relation = unbind.relation) THEN
        PERFORM @extschema@._drop_patron_triggers(relation);
        -- the record of patrons purged by a soft delete (purged_patrons),
        -- kept for a re-bind of this table (which must not purge them
        -- again), keeps only the patrons whose scrubbed row is still here:
        -- the id of a row gone is free, and a patron given it later would
        -- never be purged
        EXECUTE format('DELETE FROM @extschema@.purged_patrons x WHERE x.relation = $1
                         AND NOT EXISTS (SELECT FROM %s p WHERE p.%I::text = x.patron)',
                       relation, (SELECT b.id_column FROM @extschema@.patron_binding b WHERE b.relation = unbind.relation))
            USING relation;
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.outbox_binding b WHERE b.relation = unbind.relation) THEN
        FOR t IN SELECT @extschema@._trigger_targets(relation) LOOP
            PERFORM @extschema@._drop_trigger(t, 'pals_privacy_outbox');
        END LOOP;
    END IF;
    DELETE FROM @extschema@.patron_binding b WHERE b.relation = unbind.relation;          GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM @extschema@.card_binding b WHERE b.relation = unbind.relation;            GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM @extschema@.balance_binding b WHERE b.relation = unbind.relation;         GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM @extschema@.loan_binding b WHERE b.relation = unbind.relation;            GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM @extschema@.private_history_binding b WHERE b.relation = unbind.relation; GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM @extschema@.contact_binding b WHERE b.relation = unbind.relation;         GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM @extschema@.outbox_binding b WHERE b.relation = unbind.relation;          GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM @extschema@.retention_rule b WHERE b.relation = unbind.relation;          GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM @extschema@.guardian_binding b WHERE b.relation = unbind.relation;        GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM @extschema@.account_binding b WHERE b.relation = unbind.relation;         GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    IF n = 0 THEN
        RAISE EXCEPTION '%: "%" is not bound', fn, relation USING ERRCODE = 'undefined_object';
    END IF;
    PERFORM @extschema@._sync_row_security();
END $$;

REVOKE ALL ON FUNCTION @extschema@.unbind(regclass) FROM PUBLIC;
