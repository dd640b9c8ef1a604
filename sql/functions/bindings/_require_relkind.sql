-- The relation must be of one of the given kinds ('r' table, 'p' partitioned
-- table, 'v' view, 'm' materialized view).
CREATE OR REPLACE FUNCTION @extschema@._require_relkind(fn text, rel regclass, kinds "char"[]) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE k "char";
BEGIN
    SELECT relkind INTO k FROM pg_class WHERE oid = rel;
    IF k IS NULL THEN
        RAISE EXCEPTION 'relation with OID % does not exist', rel::oid USING ERRCODE = 'undefined_table';
    END IF;
    IF NOT k = ANY (kinds) THEN
        RAISE EXCEPTION '%: "%" is %', fn, rel,
                CASE k WHEN 'v' THEN 'a view' WHEN 'm' THEN 'a materialized view'
                       WHEN 'f' THEN 'a foreign table' WHEN 'S' THEN 'a sequence'
                       WHEN 'i' THEN 'an index' WHEN 'I' THEN 'an index'
                       WHEN 'c' THEN 'a composite type' ELSE 'not a table' END
            USING ERRCODE = 'wrong_object_type',
                  HINT = CASE WHEN 'v' = ANY (kinds) THEN 'Bind a table or a view.'
                              ELSE 'Bind the table itself, not a view of it.' END;
    END IF;
    IF rel::oid < 16384 OR (SELECT relnamespace FROM pg_class WHERE oid = rel)
                            = (SELECT oid FROM pg_namespace WHERE nspname = 'pals_privacy') THEN
        RAISE EXCEPTION '%: "%" belongs to the system or to pals_privacy itself', fn, rel
            USING ERRCODE = 'wrong_object_type';
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@._require_relkind(text,regclass,"char"[]) FROM PUBLIC;
