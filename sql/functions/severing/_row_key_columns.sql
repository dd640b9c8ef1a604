-- The columns that name a row of a loan relation across a rewrite and a
-- restore, for a pinned tracker entry (tracker_pin): its primary key, else
-- its replica identity index (REPLICA IDENTITY USING INDEX), in the index's
-- order; NULL when it has neither (REPLICA IDENTITY FULL or DEFAULT without
-- a primary key): such a relation's pins keep the file node alone
-- (last_borrower.pinned), which a rewrite or a restore loses.
CREATE OR REPLACE FUNCTION @extschema@._row_key_columns(rel regclass) RETURNS name[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT array_agg(a.attname ORDER BY k.ord)
      FROM (SELECT i.indkey FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
             WHERE i.indrelid = rel
               AND (i.indisprimary OR (i.indisreplident AND c.relreplident = 'i'))
             ORDER BY i.indisprimary DESC LIMIT 1) x
     CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k (attnum, ord)
      JOIN pg_catalog.pg_attribute a ON a.attrelid = rel AND a.attnum = k.attnum
$$;

REVOKE ALL ON FUNCTION @extschema@._row_key_columns(regclass) FROM PUBLIC;
