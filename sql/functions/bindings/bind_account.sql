-- Records of a patron's account that are not circulation: payments,
-- miscellaneous charges, internet sign-ups, receipts.  Staff read them; a
-- patron reads their own; collections those of patrons who owe more than
-- the threshold; auditors read them with the patron masked; the statistics
-- class reads none.  (Copies of a loan's identity keyed by the loan are
-- bound with bind_copy instead.)
CREATE OR REPLACE FUNCTION @extschema@.bind_account(relation regclass, patron_column name)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'bind_account';
BEGIN
    PERFORM @extschema@._bind_check(fn, relation, '{r,p}', ARRAY['relation', 'patron_column'],
                                    ARRAY[relation::text, patron_column::text]);
    PERFORM @extschema@._require_patron_column(fn, relation, patron_column);
    IF EXISTS (SELECT FROM @extschema@.copy_binding c WHERE c.relation = bind_account.relation) THEN
        RAISE EXCEPTION '%: "%" is already bound as a copy', fn, relation
            USING ERRCODE = 'duplicate_object',
                  HINT = 'A copy''s patron column is read as an account already; give it to bind_copy as patron_column.';
    END IF;
    PERFORM @extschema@._bind(fn, 'accounts', relation, jsonb_build_object('relation', relation, 'patron_column', patron_column));
END $$;

REVOKE ALL ON FUNCTION @extschema@.bind_account(regclass,name) FROM PUBLIC;
