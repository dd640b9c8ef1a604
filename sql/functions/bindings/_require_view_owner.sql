-- bind_balance's check of a view (nothing for a table): its owner is a
-- superuser or of class operational, and every function and domain outside
-- pg_catalog it runs (through the views it reads too) is its owner's or a
-- superuser's; else 42501 with what to change.  src/view_owner.c says why.
CREATE OR REPLACE FUNCTION @extschema@._require_view_owner(fn text, relation regclass) RETURNS void
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'pals_privacy_require_view_owner';

REVOKE ALL ON FUNCTION @extschema@._require_view_owner(text, regclass) FROM PUBLIC;
