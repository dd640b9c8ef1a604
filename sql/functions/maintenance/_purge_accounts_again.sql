-- Account records written for a patron after their purge (a purge function
-- that soft-deletes leaves the patron row, and the ILS may still charge or
-- record a payment for it): every purge_expired() run gives the rows of the
-- patrons in purged_patrons the binding's purge_with, as the purge did, and
-- deletes what the ILS's triggers wrote of them into private history (an
-- audit of the account table).  n: the rows changed (a dry run counts them
-- and rolls the change back); error: what failed, numbers masked as in the
-- purge's errors, when the rows could not be cleared (nothing is changed
-- then, and the next run tries again).
-- No SET search_path here: the ILS's triggers run with the caller's.
CREATE OR REPLACE FUNCTION @extschema@._purge_accounts_again(dry_run boolean, OUT n bigint, OUT error text)
LANGUAGE plpgsql SET pals_privacy.sweep_as_owner = on AS $$
DECLARE
    ab record;
    b @extschema@.private_history_binding;
    purged text[];
    hit text[] := '{}';
    found text[];
    r record;
    t text;
BEGIN
    n := 0;
    purged := @extschema@._purged_patrons();
    IF cardinality(purged) = 0 THEN
        RETURN;
    END IF;
    -- which of them account records name: nothing is written when none
    FOR ab IN SELECT * FROM @extschema@._live_account_bindings() LOOP
        EXECUTE pg_catalog.format('SELECT ARRAY(SELECT DISTINCT t.%I::text FROM %s t WHERE %s)',
                                  ab.patron_column, ab.relation, ab.predicate)
            INTO found USING purged;
        hit := hit || found;
    END LOOP;
    IF cardinality(hit) = 0 THEN
        RETURN;
    END IF;
    BEGIN
        r := @extschema@._purge_accounts(hit);
        IF r.kept IS NOT NULL THEN
            PERFORM @extschema@._purge_account_error(r.remaining, r.relation, r.purge_with);
        END IF;
        FOR b IN SELECT * FROM @extschema@.private_history_binding LOOP
            t := @extschema@._column_type_name(b.relation, b.patron_column);
            EXECUTE pg_catalog.format('DELETE FROM %s WHERE %I = ANY ($1::%s[])', b.relation, b.patron_column, t) USING hit;
        END LOOP;
        n := r.cleared;
        IF dry_run THEN
            RAISE EXCEPTION USING ERRCODE = 'PP001', MESSAGE = 'dry run';
        END IF;
    EXCEPTION WHEN OTHERS THEN
        IF SQLSTATE <> 'PP001' THEN
            n := 0;
            error := pg_catalog.format('%s: %s', SQLSTATE, pg_catalog.regexp_replace(SQLERRM, '[0-9]+', '#', 'g'));
        END IF;
    END;
END $$;

REVOKE ALL ON FUNCTION @extschema@._purge_accounts_again(boolean) FROM PUBLIC;
