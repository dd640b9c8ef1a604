-- A temporary table goes away with its session, and an unlogged one is
-- emptied by a crash, while the binding and the tracker stay: say so.
CREATE OR REPLACE FUNCTION @extschema@._warn_persistence(fn text, rel regclass) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE p "char";
BEGIN
    SELECT relpersistence INTO p FROM pg_class WHERE oid = rel;
    IF p = 't' THEN
        RAISE WARNING '%: "%" is a temporary table', fn, rel
            USING DETAIL = 'It goes away when this session ends, and the binding with it is then left naming a dropped relation.',
                  HINT = 'Bind the permanent table the ILS uses.';
    ELSIF p = 'u' THEN
        RAISE WARNING '%: "%" is an unlogged table', fn, rel
            USING DETAIL = 'A crash empties it and a standby does not have its rows, while the extension''s own state (the last-borrower tracker, pending severs) is logged.',
                  HINT = format('ALTER TABLE %s SET LOGGED, unless losing its rows is intended.', rel);
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@._warn_persistence(text,regclass) FROM PUBLIC;
