-- Records of a patron's account that are not circulation: payments,
-- miscellaneous charges, internet sign-ups, receipts.  Staff read them; a
-- patron reads their own; collections those of patrons who owe more than
-- the threshold; auditors read them with the patron masked; the statistics
-- class reads none.  (Copies of a loan's identity keyed by the loan are
-- bound with bind_copy instead.)
-- purge_with: what the purge does to a purged patron's rows that the ILS's
-- purge function left (a soft delete keeps the patron row, and the rows keep
-- its id, which staff read): 'null', 'patron:<id>' (re-pointed to an
-- anonymous placeholder patron: the amounts stay, tied to nobody) or
-- 'delete'.  Left out: 'null' for a nullable column, else the placeholder
-- of the loan bindings when they have exactly one; else refused, so that
-- no account relation is bound whose rows a purge could not take the
-- patron from.  The binding stores the strategy it resolved to.
CREATE OR REPLACE FUNCTION @extschema@.bind_account(relation regclass, patron_column name, purge_with text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    fn constant text := 'bind_account';
    not_null boolean;
    unique_alone boolean;
    placeholders text[];
BEGIN
    PERFORM @extschema@._bind_check(fn, relation, '{r,p}', ARRAY['relation', 'patron_column'],
                                    ARRAY[relation::text, patron_column::text]);
    PERFORM @extschema@._require_patron_column(fn, relation, patron_column);
    IF EXISTS (SELECT FROM @extschema@.copy_binding c WHERE c.relation = bind_account.relation) THEN
        RAISE EXCEPTION '%: "%" is already bound as a copy', fn, relation
            USING ERRCODE = 'duplicate_object',
                  HINT = 'A copy''s patron column is read as an account already; give it to bind_copy as patron_column.';
    END IF;
    SELECT a.attnotnull INTO not_null FROM pg_attribute a WHERE a.attrelid = relation AND a.attname = patron_column;
    -- one row per patron (the column alone is unique): a placeholder would
    -- be given to a second purged patron's row too, and fail
    SELECT EXISTS (SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                    WHERE i.indrelid = relation AND i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL
                      AND i.indexprs IS NULL AND a.attname = patron_column)
      INTO unique_alone;
    IF purge_with IS NULL THEN
        SELECT coalesce(array_agg(DISTINCT substr(l.sever_with, 8)), '{}') INTO placeholders
          FROM @extschema@.loan_binding l WHERE l.sever_with LIKE 'patron:%';
        IF NOT not_null THEN
            purge_with := 'null';
        ELSIF cardinality(placeholders) = 1 AND NOT unique_alone THEN
            purge_with := 'patron:' || placeholders[1];
        ELSE
            RAISE EXCEPTION '%: "%"."%" is NOT NULL, and there is no one placeholder patron to give a purged patron''s rows', fn, relation, patron_column
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = CASE WHEN unique_alone THEN 'The column is unique: one row per patron.'
                                    WHEN cardinality(placeholders) = 0 THEN 'No loan binding re-points severed rows to a placeholder (sever_with => ''patron:<id>'').'
                                    ELSE format('The loan bindings name %s placeholders.', cardinality(placeholders)) END,
                      HINT = 'Say what the purge does to a purged patron''s rows that the ILS''s purge function leaves: purge_with => ''patron:<id>'' (an anonymous patron) or ''delete''.';
        END IF;
    ELSE
        PERFORM @extschema@._check_strategy(fn, 'purge_with', purge_with, relation, patron_column,
            'Use purge_with => ''patron:<id>'' to re-point a purged patron''s rows to an anonymous placeholder patron, or ''delete''.');
        IF purge_with LIKE 'patron:%' AND unique_alone THEN
            RAISE EXCEPTION '%: purge_with => ''patron:<id>'' needs a patron column that is not unique, and "%"."%" is', fn, relation, patron_column
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'A second purged patron''s row would get the same placeholder: use purge_with => ''null'' or ''delete''.';
        END IF;
    END IF;
    PERFORM @extschema@._bind(fn, 'accounts', relation, jsonb_build_object('relation', relation, 'patron_column', patron_column,
                                                                           'purge_with', purge_with));
END $$;

REVOKE ALL ON FUNCTION @extschema@.bind_account(regclass,name,text) FROM PUBLIC;
