-- The patron id must be unique: purge removes patrons by it.
CREATE OR REPLACE FUNCTION @extschema@._require_unique(fn text, rel regclass, col name) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                    WHERE i.indrelid = rel AND a.attname = col AND i.indisunique AND i.indnkeyatts = 1
                      AND i.indpred IS NULL AND i.indexprs IS NULL) THEN
        RAISE EXCEPTION '%: the patron id column "%" of "%" has no unique constraint', fn, col, rel
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Purge, severing and the patron session find a patron by this id; two rows with one id would be purged together.',
                  HINT = format('Bind the column that is the primary key, or add one: ALTER TABLE %s ADD UNIQUE (%I);', rel, col);
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@._require_unique(text,regclass,name) FROM PUBLIC;
