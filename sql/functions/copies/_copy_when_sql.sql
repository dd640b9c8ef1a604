-- "(condition) IS NOT FALSE" over the copy row t: the rows of a copy binding
-- that are copies (bind_copy's copy_when: a summary of circulations and
-- groceries holds copies of circulations only); 'true' without copy_when.
-- A row for which the condition is NULL counts as a copy (fail closed: it
-- is severed and redacted with its source).  Every severing statement of a
-- copy takes it through _copy_sever_where; the purge's too.
CREATE OR REPLACE FUNCTION @extschema@._copy_when_sql(c @extschema@.copy_binding) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN c.copy_when IS NULL THEN 'true'
                ELSE format('(%s) IS NOT FALSE', @extschema@._condition_sql(c.relation, c.copy_when, 't', 'copy_when')) END
$$;

REVOKE ALL ON FUNCTION @extschema@._copy_when_sql(@extschema@.copy_binding) FROM PUBLIC;
