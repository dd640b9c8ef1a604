CREATE OR REPLACE FUNCTION @extschema@._pin_hash(pin text, salt bytea, iterations integer) RETURNS bytea
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'pals_privacy_pin_hash';

REVOKE ALL ON FUNCTION @extschema@._pin_hash(text,bytea,integer) FROM PUBLIC;
