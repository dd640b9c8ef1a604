-- What keeps loan binding b from its last-borrower group's first binding g
-- (bind_loans' last_borrower_group): an item or closed column whose type is
-- no longer g's (an ALTER TABLE since binding; bind_loans refuses it).  The
-- group's rows are compared by item and ordered by closed value across the
-- members, read with one member's types (src/sever.c, _latest_closed_sql).
-- NULL: none (or a column gone, which binding_problems() names itself).
CREATE OR REPLACE FUNCTION @extschema@._group_type_problem(b @extschema@.loan_binding, g @extschema@.loan_binding)
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT string_agg(format('%s column "%s" has type %s, and its last-borrower group''s first binding "%s" has %s (the group''s rows are compared across them)',
                             x.what, x.col, pg_catalog.format_type(x.t, NULL), g.relation, pg_catalog.format_type(x.gt, NULL)),
                      '; ' ORDER BY x.o)
      FROM (VALUES (1, 'item', b.item_column, g.item_column), (2, 'closed', b.closed_columns[1], g.closed_columns[1])) v (o, what, col, gcol),
           LATERAL (SELECT v.o, v.what, v.col,
                           (SELECT a.atttypid FROM pg_catalog.pg_attribute a
                             WHERE a.attrelid = b.relation AND a.attname = v.col AND NOT a.attisdropped) AS t,
                           (SELECT a.atttypid FROM pg_catalog.pg_attribute a
                             WHERE a.attrelid = g.relation AND a.attname = v.gcol AND NOT a.attisdropped) AS gt) x
     WHERE x.t <> x.gt
$$;

REVOKE ALL ON FUNCTION @extschema@._group_type_problem(@extschema@.loan_binding, @extschema@.loan_binding) FROM PUBLIC;
