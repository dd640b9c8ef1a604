CREATE OR REPLACE FUNCTION @extschema@._consents_changed() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_consents_changed';

REVOKE ALL ON FUNCTION @extschema@._consents_changed() FROM PUBLIC;
