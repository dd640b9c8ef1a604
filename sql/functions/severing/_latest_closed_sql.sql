-- The query of each item's latest closed row among the loan bindings whose
-- entries are tracker key tk (one binding, or a last-borrower group:
-- bind_loans' last_borrower_group): columns item (text), rid, tid,
-- identified.  Latest closed first, ties to the highest relation and TID,
-- as the severing trigger and the backlog order them.  A binding of its
-- own gets the statement it always had; a group reads each member's closed
-- rows (their closed columns share one type) and picks one row per item
-- across them.
CREATE OR REPLACE FUNCTION @extschema@._latest_closed_sql(tk oid) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b @extschema@.loan_binding;
    p record;
    order_expr text;
    parts text[] := '{}';
    n int;
    first @extschema@.loan_binding;
BEGIN
    SELECT count(*) INTO n FROM @extschema@.loan_binding l
     WHERE coalesce(l.last_borrower_group, l.relation)::oid = tk AND l.keep_last_borrower
       AND EXISTS (SELECT FROM pg_class c WHERE c.oid = l.relation::oid);
    FOR b IN SELECT * FROM @extschema@.loan_binding l
              WHERE coalesce(l.last_borrower_group, l.relation)::oid = tk AND l.keep_last_borrower
                AND EXISTS (SELECT FROM pg_class c WHERE c.oid = l.relation::oid)
              ORDER BY l.relation::oid LOOP
        -- (the members' item and closed types are the first's, as bind_loans
        -- made them: an ALTER TABLE since fails here, binding_problems() names it)
        IF first.relation IS NULL THEN
            first := b;
        ELSIF @extschema@._group_type_problem(b, first) IS NOT NULL THEN
            RAISE EXCEPTION 'loan bindings "%" and "%" of one last-borrower group no longer have the same item and closed column types',
                first.relation, b.relation
                USING ERRCODE = 'datatype_mismatch',
                      DETAIL = @extschema@._group_type_problem(b, first),
                      HINT = 'ALTER the column back to the group''s type, or unbind the member and bind it again; SELECT * FROM pals_privacy.binding_problems() names it.';
        END IF;
        p := @extschema@._loan_predicates(b, 't');
        order_expr := CASE WHEN cardinality(b.closed_columns) = 1 THEN format('t.%I', b.closed_columns[1])
                           ELSE format('GREATEST(%s)', (SELECT string_agg(format('t.%I', c), ', ')
                                                         FROM unnest(b.closed_columns) c)) END;
        IF n = 1 THEN
            RETURN format(
                'SELECT DISTINCT ON (t.%1$I) t.%1$I::text AS item, t.tableoid AS rid, t.ctid AS tid, %5$s AS identified
                   FROM %2$s t
                  WHERE t.%1$I IS NOT NULL AND %3$s
                  ORDER BY t.%1$I, %4$s DESC, t.tableoid DESC, t.ctid DESC',
                b.item_column, b.relation, p.closed, order_expr, p.identified);
        END IF;
        parts := parts || format(
            'SELECT t.%1$I::text AS item, %4$s AS closed, t.tableoid AS rid, t.ctid AS tid, %5$s AS identified
               FROM %2$s t
              WHERE t.%1$I IS NOT NULL AND %3$s',
            b.item_column, b.relation, p.closed, order_expr, p.identified);
    END LOOP;
    IF n = 0 THEN
        RETURN 'SELECT NULL::text AS item, NULL::oid AS rid, NULL::tid AS tid, NULL::boolean AS identified WHERE false';
    END IF;
    RETURN format(
        'SELECT DISTINCT ON (g.item) g.item, g.rid, g.tid, g.identified
           FROM (%s) g
          ORDER BY g.item, g.closed DESC, g.rid DESC, g.tid DESC',
        array_to_string(parts, ' UNION ALL '));
END $$;

REVOKE ALL ON FUNCTION @extschema@._latest_closed_sql(oid) FROM PUBLIC;
