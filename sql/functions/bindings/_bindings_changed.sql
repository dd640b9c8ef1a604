-- Binding tables are read by the C mechanisms through a per-backend cache;
-- any change to them (through the functions below, by hand, or by a
-- restore) invalidates that cache in every backend at commit.
CREATE OR REPLACE FUNCTION @extschema@._bindings_changed() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_bindings_changed';

REVOKE ALL ON FUNCTION @extschema@._bindings_changed() FROM PUBLIC;
