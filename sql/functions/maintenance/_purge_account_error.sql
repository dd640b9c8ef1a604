-- The error when account records still name a purged patron after purge_with
-- (_purge_accounts() answered kept): one place for its message, SQLSTATE,
-- detail and hint (docs/troubleshooting.md lists them).
CREATE OR REPLACE FUNCTION @extschema@._purge_account_error(n bigint, relation regclass, purge_with text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'purge: % of "%" (account records) kept the patron after purge_with %',
            CASE n WHEN 1 THEN '1 row' ELSE n || ' rows' END, relation, pg_catalog.quote_literal(purge_with)
        USING ERRCODE = 'triggered_action_exception',
              DETAIL = 'A trigger of the table skipped the change (a BEFORE trigger returned NULL) or undid it: staff would read the purged patron''s id in them.',
              HINT = 'The patron is not purged while the rows remain; change the trigger, or bind the relation with another purge_with. The next purge tries the patron again.';
END $$;

REVOKE ALL ON FUNCTION @extschema@._purge_account_error(bigint, regclass, text) FROM PUBLIC;
