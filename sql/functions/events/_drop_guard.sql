CREATE OR REPLACE FUNCTION @extschema@._drop_guard() RETURNS event_trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_drop_guard';

REVOKE ALL ON FUNCTION @extschema@._drop_guard() FROM PUBLIC;
