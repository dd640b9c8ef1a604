-- The SET clause (or DELETE) that severs rows of a copy binding.
CREATE OR REPLACE FUNCTION @extschema@._copy_sever_sql(c @extschema@.copy_binding, filter text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE
        WHEN c.sever_with = 'delete' THEN format('DELETE FROM %s t WHERE %s', c.relation,
                                                 @extschema@._copy_sever_where(c, filter))
        -- the link is the key columns, and every column of a foreign key they are part of
        -- (fines(loan_id, loan_checked_out_at): a checkout time alone finds the loan again)
        WHEN c.sever_with = 'unlink' THEN format('UPDATE %s t SET %s WHERE %s',
                                                 c.relation, @extschema@._copy_link_set(c.relation, c.key_columns),
                                                 @extschema@._copy_sever_where(c, filter))
        WHEN c.sever_with = 'null' THEN format('UPDATE %s t SET %I = NULL WHERE %s',
                                               c.relation, c.patron_column, @extschema@._copy_sever_where(c, filter))
        ELSE format('UPDATE %s t SET %I = %L WHERE %s', c.relation, c.patron_column,
                    substr(c.sever_with, 8), @extschema@._copy_sever_where(c, filter)) END
$$;

REVOKE ALL ON FUNCTION @extschema@._copy_sever_sql(@extschema@.copy_binding,text) FROM PUBLIC;
