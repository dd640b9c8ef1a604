-- Of the given patrons, those with a row in a bound loan or private-history
-- relation that another transaction holds.  The others' rows are locked
-- here, so removing them will not wait.  A loan row counts for each patron
-- it names in any patron column (more_patron_columns too: purge changes the
-- row of a patron named only as its requestor).
CREATE OR REPLACE FUNCTION @extschema@._patrons_with_locked_rows(ids text[]) RETURNS SETOF text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE b record; t text; c name;
BEGIN
    FOR b IN SELECT relation, patron_column || coalesce(more_patron_columns, '{}') AS patron_columns FROM @extschema@.loan_binding
             UNION ALL SELECT relation, ARRAY[patron_column] FROM @extschema@.private_history_binding LOOP
        t := @extschema@._column_type_name(b.relation, b.patron_columns[1]);
        FOREACH c IN ARRAY b.patron_columns LOOP
            RETURN QUERY EXECUTE format(
                'WITH mine AS (SELECT x.%1$I::text AS p FROM %2$s x WHERE x.%1$I = ANY ($1::%3$s[]) FOR UPDATE SKIP LOCKED)
                 SELECT a.p FROM (SELECT x.%1$I::text AS p, count(*) AS n FROM %2$s x WHERE x.%1$I = ANY ($1::%3$s[]) GROUP BY 1) a
                  LEFT JOIN (SELECT p, count(*) AS n FROM mine GROUP BY 1) m USING (p)
                 WHERE coalesce(m.n, 0) < a.n',
                c, b.relation, t) USING ids;
        END LOOP;
    END LOOP;
END $$;

REVOKE ALL ON FUNCTION @extschema@._patrons_with_locked_rows(text[]) FROM PUBLIC;
