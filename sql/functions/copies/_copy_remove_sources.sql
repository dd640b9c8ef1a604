-- Remove sources from a copy binding (unbind_copy(copy, source), or the
-- sources dropped from the database): the first that remains becomes the
-- copy's source, the rest its more_sources; the copy's severing triggers
-- leave the removed ones and are put again on the others (their arguments
-- name the source by its place); then the copies of rows only the removed
-- sources held are severed at once (sever_copies), as a deleted source row
-- severs its copies.  At least one source must remain (the callers check;
-- copy_binding.source is NOT NULL).
-- Returns the copy rows severed.
CREATE OR REPLACE FUNCTION @extschema@._copy_remove_sources(copy regclass, removed oid[]) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE c @extschema@.copy_binding; t regclass; tg name;
BEGIN
    SELECT * INTO STRICT c FROM @extschema@.copy_binding x WHERE x.relation = copy;
    -- the removed sources that still exist lose the copy's triggers
    tg := 'pals_privacy_copy_' || c.relation::oid;
    FOR t IN SELECT @extschema@._trigger_targets(s.source::oid::regclass)
               FROM @extschema@._copy_sources(c) s
              WHERE s.source::oid = ANY (removed) AND EXISTS (SELECT FROM pg_class r WHERE r.oid = s.source::oid) LOOP
        PERFORM @extschema@._drop_trigger(t, tg || '_u');
        PERFORM @extschema@._drop_trigger(t, tg || '_d');
        PERFORM @extschema@._drop_trigger(t, tg || '_t');
    END LOOP;
    UPDATE @extschema@.copy_binding x
       SET source = r.sources[1], source_keys = r.keys[1:cardinality(c.key_columns)],
           more_sources = nullif(r.sources[2:], '{}'),
           more_source_keys = nullif(r.keys[cardinality(c.key_columns) + 1:], '{}')
      FROM (SELECT array_agg(s.source ORDER BY s.n) AS sources,
                   (SELECT array_agg(k ORDER BY s2.n, k.i)
                      FROM @extschema@._copy_sources(c) s2, unnest(s2.source_keys) WITH ORDINALITY k(k, i)
                     WHERE s2.source::oid <> ALL (removed)) AS keys
              FROM @extschema@._copy_sources(c) s WHERE s.source::oid <> ALL (removed)) r
     WHERE x.relation = copy
    RETURNING x.* INTO c;
    PERFORM @extschema@._install_copy_triggers(c);
    RETURN @extschema@.sever_copies(copy);
END $$;

REVOKE ALL ON FUNCTION @extschema@._copy_remove_sources(regclass,oid[]) FROM PUBLIC;
