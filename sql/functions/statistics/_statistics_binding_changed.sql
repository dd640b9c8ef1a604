-- every backend's cache of this table is dropped when it changes (src/pseudonym.c)
CREATE OR REPLACE FUNCTION @extschema@._statistics_binding_changed() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_statistics_binding_changed';

REVOKE ALL ON FUNCTION @extschema@._statistics_binding_changed() FROM PUBLIC;
