-- Relations a row trigger must sit on to see every row of a bound relation:
-- a partitioned table's trigger is cloned to its partitions by PostgreSQL,
-- but plain inheritance children need their own.
CREATE OR REPLACE FUNCTION @extschema@._trigger_targets(rel regclass) RETURNS SETOF regclass
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT rel
    UNION ALL
    SELECT r.relation FROM @extschema@._related_relations(rel) r
      JOIN pg_class c ON c.oid = r.relation
     WHERE r.relationship = 'child' AND (SELECT relkind FROM pg_class WHERE oid = rel) = 'r'
       AND c.relkind = 'r'
$$;

REVOKE ALL ON FUNCTION @extschema@._trigger_targets(regclass) FROM PUBLIC;
