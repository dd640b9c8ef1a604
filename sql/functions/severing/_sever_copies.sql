-- Row trigger on the source (AFTER UPDATE OF its patron column, AFTER
-- DELETE): a row that lost its patron, or is gone, takes its copies' with it.
-- TG_ARGV[0]: the copy relation's OID.
CREATE OR REPLACE FUNCTION @extschema@._sever_copies() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c @extschema@.copy_binding;
    b @extschema@.loan_binding;
    newp text;
BEGIN
    SELECT * INTO c FROM @extschema@.copy_binding WHERE relation = TG_ARGV[0]::oid;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        SELECT * INTO b FROM @extschema@.loan_binding WHERE relation = c.source;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        newp := to_jsonb(NEW) ->> b.patron_column;
        -- still identified: nothing to do
        IF newp IS NOT NULL AND (b.sever_with NOT LIKE 'patron:%' OR newp <> substr(b.sever_with, 8)) THEN
            RETURN NULL;
        END IF;
    END IF;
    -- typed, so that the copy's index on its key column is used
    EXECUTE @extschema@._copy_sever_sql(c, format('t.%I = $1::%s', c.key_column,
                                                  @extschema@._column_type_name(c.relation, c.key_column)))
        USING to_jsonb(OLD) ->> c.source_key;
    RETURN NULL;
END $$;

REVOKE ALL ON FUNCTION @extschema@._sever_copies() FROM PUBLIC;
