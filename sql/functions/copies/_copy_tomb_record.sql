-- AFTER INSERT on sever_pending, per statement: a row of a derived copy
-- recorded as pending (its source row deleted or severed, a trigger of the
-- ILS kept it identified) has its key recorded in copy_tomb, read from the
-- copy row itself in a canonical text form (ISO dates in UTC, intervals in
-- the postgres style, floats exact, bytea in hex: what any session reads
-- back into the column's type, src/redact_copies.c).  From then on the
-- copy's rows with that key read as hidden to every redacted class, for
-- good.
CREATE OR REPLACE FUNCTION @extschema@._copy_tomb_record() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD'
SET IntervalStyle = 'postgres' SET extra_float_digits = 1 SET bytea_output = 'hex' AS $$
DECLARE c @extschema@.copy_binding; tids tid[]; rels oid[];
BEGIN
    FOR c IN SELECT x.* FROM @extschema@.copy_binding x WHERE x.relation::oid IN (SELECT a.binding FROM added a) LOOP
        SELECT array_agg(a.row_tid), array_agg(a.row_relid) INTO tids, rels FROM added a WHERE a.binding = c.relation::oid;
        EXECUTE format('INSERT INTO @extschema@.copy_tomb (relation, key)
                        SELECT DISTINCT $1, ARRAY[%s] FROM %s t
                         WHERE t.ctid = ANY ($2) AND (t.tableoid, t.ctid) IN (SELECT * FROM unnest($3, $2))
                        ON CONFLICT DO NOTHING',
                       (SELECT string_agg(format('t.%I::text', k), ', ' ORDER BY n)
                          FROM unnest(c.key_columns) WITH ORDINALITY u(k, n)),
                       c.relation)
            USING c.relation, tids, rels;
    END LOOP;
    RETURN NULL;
END $$;

REVOKE ALL ON FUNCTION @extschema@._copy_tomb_record() FROM PUBLIC;
