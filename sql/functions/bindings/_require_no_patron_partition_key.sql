-- Severing changes a loan row's patron columns in place, by the row's heap
-- tuple identifier: it cannot move a row to another partition.  A loan
-- relation (or a partition under it) partitioned by a patron column would
-- keep the former borrower on every row it severs, so it is refused rather
-- than bound (sever_with => 'delete' moves nothing and is accepted).
CREATE OR REPLACE FUNCTION @extschema@._require_no_patron_partition_key(
    fn text, rel regclass, patron_column name, more_patron_columns name[], sever_with text)
RETURNS void LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    bad record;
    -- the columns a sever or a purge writes in place ('delete' deletes the
    -- row, but a purge still clears more_patron_columns naming the purged)
    cols constant name[] := CASE WHEN sever_with = 'delete' THEN coalesce(more_patron_columns, '{}')
                                 ELSE patron_column || coalesce(more_patron_columns, '{}') END;
BEGIN
    SELECT c.oid::regclass AS rel, col INTO bad
      FROM pg_class c
      JOIN pg_partitioned_table pt ON pt.partrelid = c.oid
      CROSS JOIN unnest(cols) col
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = col AND NOT a.attisdropped
     WHERE (c.oid = rel OR c.oid IN (SELECT r.relation FROM @extschema@._related_relations(rel) r
                                      WHERE r.relationship = 'child'))
       AND (a.attnum = ANY (pt.partattrs::int2[])
            -- an expression key: refused when it names the column at all
            OR (pt.partexprs IS NOT NULL
                AND pg_get_partkeydef(c.oid) ~ ('(^|[^[:alnum:]_"])"?' || regexp_replace(col, '([^[:alnum:]_])', '\\\1', 'g') || '"?($|[^[:alnum:]_"])')))
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '%: "%" is partitioned by the patron column "%"', fn, bad.rel, bad.col
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'Severing changes a row''s patron in place and cannot move it to another partition, '
                           'so every severed row would keep its former borrower.',
                  HINT = 'Partition loan history by date or by item, or bind it with sever_with => ''delete''.';
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@._require_no_patron_partition_key(text,regclass,name,name[],text) FROM PUBLIC;
