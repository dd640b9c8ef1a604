-- SQL predicates of a loan binding over a row alias: closed, settled,
-- identified (a patron column, or one of more_patron_columns, has a patron
-- that is not the placeholder).
CREATE OR REPLACE FUNCTION @extschema@._loan_predicates(b @extschema@.loan_binding, alias text,
    OUT closed text, OUT settled text, OUT identified text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN b.closed_when IS NULL
                THEN '(' || (SELECT string_agg(format('%s.%I IS NOT NULL', alias, c), ' OR ')
                               FROM unnest(b.closed_columns) c) || ')'
                ELSE @extschema@._condition_sql(b.relation,
                         format('(%s) IS TRUE AND (%s)', b.closed_when,
                                (SELECT string_agg(format('%I IS NOT NULL', c), ' OR ') FROM unnest(b.closed_columns) c)),
                         lower(alias), 'closed_when') END,
           CASE WHEN b.settled_when IS NOT NULL
                THEN @extschema@._condition_sql(b.relation, format('(%s) IS TRUE', b.settled_when),
                                                lower(alias), 'settled_when')
                WHEN b.settled_column IS NULL THEN 'true'
                ELSE format('(%s.%I IS NOT NULL)', alias, b.settled_column) END,
           -- any of the patron columns (patron_column, more_patron_columns) names one
           '(' || (SELECT string_agg(CASE WHEN b.sever_with LIKE 'patron:%'
                                          THEN format('(%1$s.%2$I IS NOT NULL AND %1$s.%2$I::text <> %3$L)', alias, c,
                                                      substr(b.sever_with, 8))
                                          ELSE format('(%s.%I IS NOT NULL)', alias, c) END, ' OR ' ORDER BY o)
                     FROM unnest(b.patron_column || coalesce(b.more_patron_columns, '{}')) WITH ORDINALITY AS x (c, o)) || ')'
$$;

REVOKE ALL ON FUNCTION @extschema@._loan_predicates(@extschema@.loan_binding,text) FROM PUBLIC;
