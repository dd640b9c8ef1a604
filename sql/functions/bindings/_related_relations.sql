CREATE OR REPLACE FUNCTION @extschema@._related_relations(rel regclass)
RETURNS TABLE (relation regclass, relationship text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE up(r) AS (
        SELECT inhparent FROM pg_inherits WHERE inhrelid = rel
        UNION SELECT i.inhparent FROM pg_inherits i JOIN up ON i.inhrelid = up.r
    ), down(r) AS (
        SELECT inhrelid FROM pg_inherits WHERE inhparent = rel
        UNION SELECT i.inhrelid FROM pg_inherits i JOIN down ON i.inhparent = down.r
    )
    SELECT r::regclass, 'parent' FROM up
    UNION ALL SELECT r::regclass, 'child' FROM down
$$;

REVOKE ALL ON FUNCTION @extschema@._related_relations(regclass) FROM PUBLIC;
