-- The copy binding of "rel" as the trigger on one of its sources ("via",
-- NULL: the first) sees it: source and source_keys that source's, the other
-- sources in more_sources (whose identified rows keep the copy from the
-- sever, _copy_sever_sql).  No row if "via" is no source of the copy.
CREATE OR REPLACE FUNCTION @extschema@._copy_binding_as(rel regclass, via oid)
RETURNS SETOF @extschema@.copy_binding LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE c @extschema@.copy_binding; s record;
BEGIN
    SELECT * INTO c FROM @extschema@.copy_binding x WHERE x.relation = rel;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF via IS NULL OR via = c.source::oid THEN
        RETURN NEXT c;
        RETURN;
    END IF;
    SELECT * INTO s FROM @extschema@._copy_sources(c) x WHERE x.source::oid = via;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    c.more_sources := (SELECT array_agg(x.source ORDER BY x.n) FROM @extschema@._copy_sources(c) x WHERE x.source::oid <> via);
    c.more_source_keys := (SELECT array_agg(k.key ORDER BY x.n, k.i)
                             FROM @extschema@._copy_sources(c) x CROSS JOIN LATERAL unnest(x.source_keys) WITH ORDINALITY k(key, i)
                            WHERE x.source::oid <> via);
    c.source := s.source;
    c.source_keys := s.source_keys;
    RETURN NEXT c;
END $$;

REVOKE ALL ON FUNCTION @extschema@._copy_binding_as(regclass,oid) FROM PUBLIC;
