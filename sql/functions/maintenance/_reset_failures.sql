CREATE OR REPLACE FUNCTION @extschema@._reset_failures(card text) RETURNS void
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'pals_privacy_reset_failures';

REVOKE ALL ON FUNCTION @extschema@._reset_failures(text) FROM PUBLIC;
