-- Each account binding (bind_account) whose relation still exists, in the
-- order of its oid, with predicate: its patron column, under the alias t,
-- against $1, a text[] of patron ids cast to the column's type ('t.patron_id
-- = ANY ($1::integer[])').  What the purge of account records builds its
-- statements from (_purge_accounts, its passes and its re-check, and
-- _purge_accounts_again).
CREATE OR REPLACE FUNCTION @extschema@._live_account_bindings(OUT relation regclass, OUT patron_column name,
                                                            OUT purge_with text, OUT predicate text)
RETURNS SETOF record LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT a.relation, a.patron_column, a.purge_with,
           format('t.%I = ANY ($1::%s[])', a.patron_column, @extschema@._column_type_name(a.relation, a.patron_column))
      FROM @extschema@.account_binding a
     WHERE EXISTS (SELECT FROM pg_class c WHERE c.oid = a.relation::oid)
     ORDER BY a.relation::oid
$$;

REVOKE ALL ON FUNCTION @extschema@._live_account_bindings() FROM PUBLIC;
