-- Record the key of the row a pinned tracker entry names (tracker_pin), as
-- the entry is pinned or its pin carried to the item's next last borrower
-- (src/tracker.c calls it, as the extension owner, with the entry's tracker
-- key tk, item, and the row's relation and TID): the loan binding of tk's
-- group that holds the row (the relation, or the bound ancestor of the
-- partition or child holding it) and the row's values of that binding's
-- _row_key_columns.  A binding without such columns, or a row not found,
-- leaves no key (the entry's file node alone: docs/severing.md).  Returns
-- whether a key was recorded.
CREATE OR REPLACE FUNCTION @extschema@._tracker_pin_write(tk oid, item text, relid oid, tid tid) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    m regclass;
    cols name[];
    k jsonb;
BEGIN
    WITH RECURSIVE up (r, depth) AS (
        SELECT relid, 0
        UNION SELECT i.inhparent, up.depth + 1 FROM pg_catalog.pg_inherits i JOIN up ON i.inhrelid = up.r)
    SELECT l.relation INTO m FROM @extschema@.loan_binding l JOIN up ON up.r = l.relation::oid
     WHERE coalesce(l.last_borrower_group, l.relation)::oid = tk
     ORDER BY up.depth LIMIT 1;
    IF m IS NOT NULL THEN
        cols := @extschema@._row_key_columns(m);
    END IF;
    IF cols IS NOT NULL THEN
        EXECUTE format('SELECT jsonb_build_object(%s) FROM ONLY %s t WHERE t.ctid = $1',
                       (SELECT string_agg(format('%L, t.%I', c, c), ', ') FROM unnest(cols) c), relid::regclass)
           INTO k USING tid;
    END IF;
    IF k IS NULL OR EXISTS (SELECT FROM jsonb_each(k) e WHERE e.value = 'null'::jsonb) THEN
        DELETE FROM @extschema@.tracker_pin p WHERE p.binding = tk::regclass AND p.item = _tracker_pin_write.item;
        RETURN false;
    END IF;
    INSERT INTO @extschema@.tracker_pin AS p (binding, item, relation, key)
    VALUES (tk::regclass, _tracker_pin_write.item, m, k)
    ON CONFLICT (binding, item) DO UPDATE SET relation = EXCLUDED.relation, key = EXCLUDED.key;
    RETURN true;
END $$;

REVOKE ALL ON FUNCTION @extschema@._tracker_pin_write(oid,text,oid,tid) FROM PUBLIC;
