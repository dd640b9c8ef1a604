-- The error of _purge_patrons_try() when rows of a bound relation still name
-- one of the patrons after the purge severed them (a trigger of the ILS
-- skipped or undid the change): n rows of relation, a loan relation
-- (copy_of NULL) or a derived copy of copy_of, kept their patron after
-- sever_with.  One place for its message, SQLSTATE, detail and hint
-- (docs/troubleshooting.md lists them); the caller sets kept first.
CREATE OR REPLACE FUNCTION @extschema@._purge_kept_error(n bigint, relation regclass, sever_with text,
                                                       copy_of regclass DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF copy_of IS NULL THEN
        RAISE EXCEPTION 'purge: % of "%" kept their patron after sever_with %',
                CASE n WHEN 1 THEN '1 row' ELSE n || ' rows' END, relation,
                pg_catalog.quote_literal(sever_with)
            USING ERRCODE = 'triggered_action_exception',
                  DETAIL = 'A trigger of the table skipped the change (a BEFORE trigger returned NULL) or undid it.',
                  HINT = 'The patron is not purged; change the trigger, or bind the relation with another sever_with.';
    END IF;
    RAISE EXCEPTION 'purge: % of "%" (a copy of "%") kept their patron after sever_with %',
            CASE n WHEN 1 THEN '1 row' ELSE n || ' rows' END, relation, copy_of,
            pg_catalog.quote_literal(sever_with)
        USING ERRCODE = 'triggered_action_exception',
              DETAIL = 'A trigger of the table skipped the change (a BEFORE trigger returned NULL) or undid it: the rows still tie the patron to an item.',
              HINT = 'The patron is not purged while the rows remain (pals_privacy.sever_pending_rows lists them); change the trigger, or bind the copy with another sever_with. The next purge tries the patron again.';
END $$;

REVOKE ALL ON FUNCTION @extschema@._purge_kept_error(bigint, regclass, text, regclass) FROM PUBLIC;
