-- The condition parsed against the relation and deparsed with its columns
-- qualified by alias; an error if it is not a valid condition there.
CREATE OR REPLACE FUNCTION @extschema@._condition_sql(rel regclass, condition text, alias text, what text) RETURNS text
    LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'pals_privacy_condition_sql';

REVOKE ALL ON FUNCTION @extschema@._condition_sql(regclass,text,text,text) FROM PUBLIC;
