-- What sever_backlog() would do, per loan binding, without changing
-- anything: the counts, and a sample of the rows it would sever (item,
-- patron and what the patron column would become), so that swapped or
-- wrong columns show before anything is lost.
CREATE OR REPLACE FUNCTION @extschema@.sever_backlog_preview(sample integer DEFAULT 5)
RETURNS TABLE (relation regclass, closed_rows bigint, to_sever bigint, last_borrowers bigint,
               kept_opted_in bigint, unsettled bigint, without_item bigint, sever_with text, sample_rows jsonb)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b @extschema@.loan_binding;
    pb @extschema@.patron_binding;
    p record;
    order_expr text;
    optin_join text;
    optin_expr text;
    rows_sql text;
    grouped boolean;
BEGIN
    PERFORM @extschema@._require_admin('sever_backlog_preview');
    SELECT * INTO pb FROM @extschema@.patron_binding;
    FOR b IN SELECT * FROM @extschema@.loan_binding l ORDER BY l.relation::text LOOP
        p := @extschema@._loan_predicates(b, 't');
        grouped := b.keep_last_borrower AND EXISTS (
            SELECT FROM @extschema@.loan_binding l
             WHERE l.relation <> b.relation
               AND coalesce(l.last_borrower_group, l.relation) = coalesce(b.last_borrower_group, b.relation));
        order_expr := CASE WHEN cardinality(b.closed_columns) = 1 THEN format('t.%I', b.closed_columns[1])
                           ELSE format('GREATEST(%s)', (SELECT string_agg(format('t.%I', c), ', ')
                                                         FROM unnest(b.closed_columns) c)) END;
        IF pb.keep_history_column IS NOT NULL THEN
            optin_join := format('LEFT JOIN %s pt ON pt.%I = t.%I', pb.relation, pb.id_column, b.patron_column);
            optin_expr := @extschema@._optin_sql(pb, 'pt');
        ELSE
            optin_join := '';
            optin_expr := 'false';
        END IF;
        -- every closed row with what the backlog does to it
        rows_sql := format(
            'SELECT item, patron, closed, settled, identified, optin,
                    item IS NOT NULL AND %8$L AND rn = 1 AS last,
                    item IS NULL OR NOT %8$L OR rn > 1 AS target
               FROM (SELECT t.%1$I::text AS item, t.%2$I::text AS patron, (%5$s)::text AS closed,
                            %4$s AS settled, %6$s AS identified, %7$s AS optin,
                            %11$s AS rn
                       FROM %3$s t %9$s %12$s WHERE %10$s) s',
            b.item_column, b.patron_column, b.relation, p.settled, order_expr, p.identified, optin_expr,
            b.keep_last_borrower, optin_join, p.closed,
            -- in a last-borrower group, the item's latest closed row across the group's members
            CASE WHEN grouped THEN 'CASE WHEN g.rid IS NULL THEN 2 ELSE 1 END'
                 ELSE format('row_number() OVER (PARTITION BY t.%1$I ORDER BY %2$s DESC, t.tableoid DESC, t.ctid DESC)',
                             b.item_column, order_expr) END,
            CASE WHEN grouped
                 THEN format('LEFT JOIN (%s) g ON g.rid = t.tableoid AND g.tid = t.ctid',
                             @extschema@._latest_closed_sql(coalesce(b.last_borrower_group, b.relation)::oid))
                 ELSE '' END);
        relation := b.relation;
        sever_with := b.sever_with;
        EXECUTE format(
            'SELECT count(*),
                    count(*) FILTER (WHERE target AND settled AND identified AND NOT (optin AND %2$L = ''in_place'')),
                    count(*) FILTER (WHERE last AND identified),
                    count(*) FILTER (WHERE target AND settled AND identified AND optin),
                    count(*) FILTER (WHERE target AND NOT settled AND identified),
                    count(*) FILTER (WHERE item IS NULL AND identified)
               FROM (%1$s) r', rows_sql, b.history_mode)
            INTO closed_rows, to_sever, last_borrowers, kept_opted_in, unsettled, without_item;
        EXECUTE format(
            'SELECT coalesce(jsonb_agg(x), ''[]'') FROM (
                 SELECT jsonb_build_object(''item'', item, ''patron'', patron, ''closed'', closed,
                                           ''patron becomes'', %3$L) AS x
                   FROM (%1$s) r WHERE target AND settled AND identified AND NOT optin
                  ORDER BY item NULLS LAST, closed LIMIT %2$s) s',
            rows_sql, greatest(coalesce(sample, 5), 0),
            CASE WHEN b.sever_with = 'null' THEN 'NULL'
                 WHEN b.sever_with = 'delete' THEN '(row deleted)'
                 ELSE substr(b.sever_with, 8) END)
            INTO sample_rows;
        RETURN NEXT;
    END LOOP;
END $$;

REVOKE ALL ON FUNCTION @extschema@.sever_backlog_preview(integer) FROM PUBLIC;
