CREATE OR REPLACE FUNCTION @extschema@.change_pin(current_pin text, new_pin text) RETURNS boolean
    LANGUAGE c STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'pals_privacy_change_pin';

GRANT EXECUTE ON FUNCTION @extschema@.change_pin(text,text) TO PUBLIC;
