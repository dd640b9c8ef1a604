-- How far a copy is from the loans it follows: 1 for a copy of a loan
-- binding, 2 for a copy of such a copy, and so on (the longest way through
-- its sources); NULL for a relation not bound as a copy.  The sweeps sever
-- parents before children (sever_copies), a DROP of the extension unbinds
-- children first.
CREATE OR REPLACE FUNCTION @extschema@._copy_depth(rel regclass) RETURNS int
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE up(rel, depth) AS (
        SELECT c.relation, 1 FROM @extschema@.copy_binding c WHERE c.relation = _copy_depth.rel
        UNION ALL
        SELECT s.source, up.depth + 1
          FROM up JOIN @extschema@.copy_binding c ON c.relation = up.rel
         CROSS JOIN LATERAL @extschema@._copy_sources(c) s
         WHERE up.depth < 64 AND EXISTS (SELECT FROM @extschema@.copy_binding x WHERE x.relation = s.source))
    SELECT max(depth) FROM up
$$;

REVOKE ALL ON FUNCTION @extschema@._copy_depth(regclass) FROM PUBLIC;
