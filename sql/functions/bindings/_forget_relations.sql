-- Remove every binding of the given relations (and the severing state of
-- their rows), one audit entry per relation.  Returns how many relations
-- had bindings.
CREATE OR REPLACE FUNCTION @extschema@._forget_relations(rels oid[], names text[], why text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t regclass;
    n bigint;
    kinds text[];
    forgotten integer := 0;
    patrons_gone boolean := false;
BEGIN
    FOR i IN 1 .. coalesce(cardinality(rels), 0) LOOP
        kinds := '{}';
        -- (a loan binding in a last-borrower group leaves it first)
        PERFORM @extschema@._leave_last_borrower_group(rels[i]);
        FOR t IN SELECT @extschema@._binding_tables() LOOP
            EXECUTE format('DELETE FROM %s WHERE relation::oid = $1', t) USING rels[i];
            GET DIAGNOSTICS n = ROW_COUNT;
            IF n > 0 THEN
                kinds := kinds || (SELECT relname::text FROM pg_class WHERE oid = t);
                patrons_gone := patrons_gone OR t = '@extschema@.patron_binding'::regclass;
            END IF;
        END LOOP;
        -- severing state of rows of the relation (also a partition or child
        -- of a bound one): their TIDs mean nothing any more
        DELETE FROM @extschema@.last_borrower WHERE binding = rels[i] OR row_relid = rels[i];
        -- (the keys of pinned rows: by the binding, not by a partition
        -- dropped, whose rows a partition attached in its place may hold)
        DELETE FROM @extschema@.tracker_pin WHERE binding::oid = rels[i] OR relation::oid = rels[i];
        DELETE FROM @extschema@.tracker_file WHERE relation::oid = rels[i];
        DELETE FROM @extschema@.sever_pending WHERE binding = rels[i] OR row_relid = rels[i];
        DELETE FROM @extschema@.backlog_progress WHERE binding = rels[i];
        DELETE FROM @extschema@.outbox_dropped WHERE relation::oid = rels[i];
        DELETE FROM @extschema@.copy_tomb WHERE relation::oid = rels[i];
        -- patrons purged from it (also after an unbind: kept for a re-bind)
        DELETE FROM @extschema@.purged_patrons WHERE relation::oid = rels[i];
        IF cardinality(kinds) > 0 THEN
            forgotten := forgotten + 1;
            PERFORM @extschema@._audit('binding.relation_dropped',
                jsonb_build_object('relation', names[i], 'oid', rels[i]::bigint, 'bindings', to_jsonb(kinds), 'why', why));
            RAISE WARNING 'pals_privacy: relation % is gone (%): its bindings (%) were removed', names[i], why,
                array_to_string(kinds, ', ');
        END IF;
    END LOOP;
    IF patrons_gone AND EXISTS (SELECT FROM @extschema@.bindings b WHERE b.kind <> 'retain') THEN
        RAISE WARNING 'pals_privacy: the patron table binding was removed, and other bindings remain'
            USING DETAIL = 'Without a patron table nothing is purged, and consent and PINs cannot be checked against patrons.',
                  HINT = 'Bind the new patron table with pals_privacy.bind_patrons(), or unbind the other relations.';
    END IF;
    RETURN forgotten;
END $$;

REVOKE ALL ON FUNCTION @extschema@._forget_relations(oid[],text[],text) FROM PUBLIC;
