CREATE OR REPLACE FUNCTION @extschema@.login(card text, pin text) RETURNS boolean
    LANGUAGE c STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'pals_privacy_login';

REVOKE ALL ON FUNCTION @extschema@.login(text,text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.login(text,text) TO PUBLIC;
