CREATE OR REPLACE FUNCTION @extschema@._outbox_check() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_outbox_check';

REVOKE ALL ON FUNCTION @extschema@._outbox_check() FROM PUBLIC;
