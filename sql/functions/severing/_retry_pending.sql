-- Retry the rows severing left pending (a lock, a foreign key, an ILS
-- trigger ...): gone or severed rows leave the list.  A row of a derived
-- copy (binding is the copy relation, item its key) is retried by its key:
-- the copies of that key are severed again by the copy's strategy (its
-- source row was deleted or severed: the key is severed for good, copy_tomb,
-- whatever row of a source holds it since), and what a trigger of the ILS
-- still keeps is recorded again (a notice kept while its bill is open goes
-- once the bill closes).
CREATE OR REPLACE FUNCTION @extschema@._retry_pending() RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET pals_privacy.sweep_as_owner = on AS $$
DECLARE r record; outcome text; n_done bigint := 0; n_left bigint := 0;
        c @extschema@.copy_binding; filter text;
        expected bigint; n bigint; copies_done text[] := '{}';
BEGIN
    FOR r IN SELECT * FROM @extschema@.sever_pending ORDER BY first_seen LIMIT 10000 LOOP
        IF to_regclass(r.binding::regclass::text) IS NULL OR to_regclass(r.row_relid::regclass::text) IS NULL THEN
            DELETE FROM @extschema@.sever_pending p
             WHERE p.binding = r.binding AND p.row_relid = r.row_relid AND p.row_tid = r.row_tid;
            CONTINUE;
        END IF;
        SELECT * INTO c FROM @extschema@.copy_binding x WHERE x.relation = r.binding;
        IF FOUND THEN
            DELETE FROM @extschema@.sever_pending p
             WHERE p.binding = r.binding AND p.row_relid = r.row_relid AND p.row_tid = r.row_tid;
            -- every pending row of one key is retried by the first
            CONTINUE WHEN r.item IS NULL OR format('%s/%s', r.binding, r.item) = ANY (copies_done);
            copies_done := copies_done || format('%s/%s', r.binding, r.item);
            -- (a source bound as loans, or as a copy: a copy of a copy)
            CONTINUE WHEN NOT EXISTS (SELECT FROM @extschema@.loan_binding l WHERE l.relation = c.source)
                      AND NOT EXISTS (SELECT FROM @extschema@.copy_binding x WHERE x.relation = c.source);
            -- the key (_copy_pending_sql: one column's text, or several columns' as a text array);
            -- severed for good (copy_tomb): whatever row of a source holds the key now
            filter := (SELECT string_agg(CASE WHEN v IS NULL THEN format('t.%I IS NULL', k)
                                              ELSE format('t.%I = %L::%s', k, v, @extschema@._column_type_name(c.relation, k)) END,
                                         ' AND ' ORDER BY u.i)
                         FROM unnest(c.key_columns,
                                     CASE WHEN cardinality(c.key_columns) = 1 THEN ARRAY[r.item] ELSE r.item::text[] END)
                              WITH ORDINALITY u(k, v, i));
            EXECUTE @extschema@._copy_sever_checked_sql(c, filter) INTO expected, n;
            IF n < expected THEN
                EXECUTE @extschema@._copy_pending_sql(c, filter);
                GET DIAGNOSTICS n = ROW_COUNT;
                -- recorded again: since when, and how often tried
                UPDATE @extschema@.sever_pending p SET first_seen = least(p.first_seen, r.first_seen), attempts = r.attempts + 1
                 WHERE p.binding = r.binding AND p.item = r.item;
            ELSE
                n := 0;
            END IF;
            IF n > 0 THEN
                n_left := n_left + 1;
            ELSE
                n_done := n_done + 1;
            END IF;
            CONTINUE;
        END IF;
        -- a row of a loan binding: tried again in place, so that a row left
        -- pending again keeps its record (first seen, attempts + 1: the
        -- upsert of the sever); the last borrower of its item keeps its patron
        -- (the tracker key of a binding in a last-borrower group is the group's)
        IF EXISTS (SELECT FROM @extschema@.last_borrower lb
                    WHERE lb.binding = coalesce((SELECT l.last_borrower_group::oid FROM @extschema@.loan_binding l
                                                  WHERE l.relation::oid = r.binding), r.binding)
                      AND lb.row_relid = r.row_relid AND lb.row_tid = r.row_tid) THEN
            DELETE FROM @extschema@.sever_pending p
             WHERE p.binding = r.binding AND p.row_relid = r.row_relid AND p.row_tid = r.row_tid;
            CONTINUE;
        END IF;
        outcome := @extschema@._sever_one(r.binding::regclass, r.row_relid::regclass, r.row_tid);
        IF outcome = 'pending' THEN
            n_left := n_left + 1;
        ELSE
            DELETE FROM @extschema@.sever_pending p
             WHERE p.binding = r.binding AND p.row_relid = r.row_relid AND p.row_tid = r.row_tid;
            n_done := n_done + 1;
        END IF;
    END LOOP;
    RETURN jsonb_build_object('retried', n_done + n_left, 'resolved', n_done, 'still_pending', n_left);
END $$;

REVOKE ALL ON FUNCTION @extschema@._retry_pending() FROM PUBLIC;
