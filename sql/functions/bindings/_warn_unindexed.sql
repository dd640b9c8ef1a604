-- Severing and purge look rows up by this column: without an index each
-- lookup reads the whole table.
CREATE OR REPLACE FUNCTION @extschema@._warn_unindexed(fn text, rel regclass, col name, why text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                    WHERE i.indrelid = rel AND a.attname = col AND i.indpred IS NULL) THEN
        RAISE NOTICE '%: column "%" of "%" has no index', fn, col, rel
            USING DETAIL = format('%s reads every row of the table without one.', why),
                  HINT = format('CREATE INDEX ON %s (%I);', rel, col);
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@._warn_unindexed(text,regclass,name,text) FROM PUBLIC;
