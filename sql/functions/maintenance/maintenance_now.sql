CREATE OR REPLACE FUNCTION @extschema@.maintenance_now() RETURNS boolean
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_maintenance_now';

REVOKE ALL ON FUNCTION @extschema@.maintenance_now() FROM PUBLIC;
