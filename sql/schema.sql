-- The extension's schema (created by CREATE EXTENSION, named in the control
-- file): everyone may look up its objects; what each object grants is in its
-- own file.
REVOKE ALL ON SCHEMA @extschema@ FROM PUBLIC;
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;
