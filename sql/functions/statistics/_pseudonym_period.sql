CREATE OR REPLACE FUNCTION @extschema@._pseudonym_period() RETURNS text
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'pals_privacy_pseudonym_period';

REVOKE ALL ON FUNCTION @extschema@._pseudonym_period() FROM PUBLIC;
