-- The extension's binding tables: members named *_binding (and
-- retention_rule) with a regclass column "relation".
CREATE OR REPLACE FUNCTION @extschema@._binding_tables() RETURNS SETOF regclass
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.oid::regclass
      FROM pg_class c
      JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pals_privacy'
     WHERE c.relkind = 'r' AND (c.relname LIKE '%\_binding' OR c.relname = 'retention_rule')
       AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'relation'
                                                AND a.atttypid = 'regclass'::regtype AND NOT a.attisdropped)
     ORDER BY c.relname
$$;

REVOKE ALL ON FUNCTION @extschema@._binding_tables() FROM PUBLIC;
