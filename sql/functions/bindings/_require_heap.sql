-- Severing and the tracker read heap tuples by TID: the relation and every
-- partition or child must be ordinary heap tables.
CREATE OR REPLACE FUNCTION @extschema@._require_heap(fn text, rel regclass) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE bad record;
BEGIN
    SELECT c.oid::regclass AS rel, a.amname INTO bad
      FROM pg_class c JOIN pg_am a ON a.oid = c.relam
     WHERE c.relkind IN ('r', 'm', 't')
       AND (c.oid = rel OR c.oid IN (SELECT r.relation FROM @extschema@._related_relations(rel) r
                                      WHERE r.relationship = 'child'))
       AND a.amname <> 'heap'
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '%: "%" uses table access method "%", not heap', fn, bad.rel, bad.amname
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'Severing reads and changes rows by their heap tuple identifiers.',
                  HINT = format('ALTER TABLE %s SET ACCESS METHOD heap, or do not bind it.', bad.rel);
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@._require_heap(text,regclass) FROM PUBLIC;
