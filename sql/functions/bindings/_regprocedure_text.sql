-- A regprocedure as text, schema-qualified whatever the search path.
CREATE OR REPLACE FUNCTION @extschema@._regprocedure_text(f regprocedure) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog AS 'SELECT f::text';

REVOKE ALL ON FUNCTION @extschema@._regprocedure_text(regprocedure) FROM PUBLIC;
