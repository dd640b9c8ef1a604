-- The public rebuild: every loan binding's tracker (or one), as binding
-- builds it.  For after a restore (deploy's _restore_tracker() also queues
-- the rows that are no item's last borrower), or to repair the tracker.
CREATE OR REPLACE FUNCTION @extschema@.rebuild_tracker(relation regclass DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE r regclass; total bigint := 0;
BEGIN
    PERFORM @extschema@._require_admin('rebuild_tracker');
    IF relation IS NOT NULL AND NOT EXISTS (SELECT FROM @extschema@.loan_binding l WHERE l.relation = rebuild_tracker.relation) THEN
        RAISE EXCEPTION 'rebuild_tracker: "%" is not bound as loans', relation
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT relation FROM pals_privacy.bindings WHERE kind = ''loans'' lists the loan bindings.';
    END IF;
    FOR r IN SELECT l.relation FROM @extschema@.loan_binding l
              WHERE (rebuild_tracker.relation IS NULL OR l.relation = rebuild_tracker.relation)
                AND EXISTS (SELECT FROM pg_class c WHERE c.oid = l.relation::oid)
              ORDER BY l.relation::oid LOOP
        total := total + @extschema@._build_tracker(r);
    END LOOP;
    RETURN total;
END $$;

COMMENT ON FUNCTION @extschema@.rebuild_tracker(regclass) IS
    'Rebuild the last-borrower tracker of a loan binding (or all), in one statement each';

REVOKE ALL ON FUNCTION @extschema@.rebuild_tracker(regclass) FROM PUBLIC;
