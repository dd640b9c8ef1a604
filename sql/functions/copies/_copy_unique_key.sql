-- The unique index of "rel" that makes the columns "cols" identify at most
-- one row of it at every moment, or NULL: unique, checked at once (not
-- deferrable: a deferred check lets a transaction hold two rows with one key
-- until it commits), valid, not partial, on plain columns only, each with the
-- default operator class and the column's own collation (the equality a
-- copy's rule compares with, src/redact_copies.c), its key columns all among
-- "cols".  The first such index by name.  A copy keyed by anything less
-- would follow a second row with the same key (a decoy) as well as its own.
CREATE OR REPLACE FUNCTION @extschema@._copy_unique_key(rel regclass, cols name[]) RETURNS regclass
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT i.indexrelid::regclass
      FROM pg_index i
     WHERE i.indrelid = rel AND i.indisunique AND i.indimmediate AND i.indisvalid
       AND i.indpred IS NULL AND i.indexprs IS NULL
       AND NOT EXISTS (SELECT FROM generate_series(0, i.indnkeyatts - 1) k
                        JOIN pg_attribute a ON a.attrelid = rel AND a.attnum = i.indkey[k]
                        JOIN pg_opclass o ON o.oid = i.indclass[k]
                       WHERE NOT (a.attname = ANY (cols)) OR NOT o.opcdefault
                          OR i.indcollation[k] IS DISTINCT FROM a.attcollation)
     ORDER BY i.indexrelid::regclass::text
     LIMIT 1
$$;

REVOKE ALL ON FUNCTION @extschema@._copy_unique_key(regclass,name[]) FROM PUBLIC;
