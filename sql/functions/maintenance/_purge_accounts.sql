-- The account records (bind_account) of purged patrons, after the ILS's
-- purge function: what it left still names the patron (a soft delete keeps
-- the patron row, and the payments and charges keep its id, which staff
-- read), so each binding's purge_with is applied to it: 'null', the
-- placeholder patron, or 'delete'.  A purge function that deleted the rows
-- (or a foreign key's cascade) leaves nothing to do.  cleared: the rows
-- changed.  When rows of a relation still name one of the patrons after
-- that (a BEFORE trigger of the ILS skipped the change, or one gave the
-- patron back), the answer stops there and names them: kept (the patrons),
-- relation, purge_with and remaining (how many rows); kept is NULL when
-- every account record is clear.  Any other error (a foreign key refusing
-- NULL or the placeholder) is raised as it is.
-- No SET search_path here: the ILS's triggers on its tables run with the
-- caller's, as in _purge_patrons_try().  Everything below is schema-qualified.
CREATE OR REPLACE FUNCTION @extschema@._purge_accounts(ids text[], OUT cleared bigint, OUT kept text[],
                                                     OUT relation regclass, OUT purge_with text, OUT remaining bigint)
LANGUAGE plpgsql AS $$
DECLARE
    ab record;
    n bigint;
    n_pass bigint;
BEGIN
    cleared := 0;
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    -- every binding's purge_with, again while a pass changed anything: a
    -- trigger of the ILS on one account relation may write the patron into
    -- another that an earlier step of the pass had cleared already (a ledger
    -- row for a charge changed); bounded, what is left is found below
    FOR pass IN 1..5 LOOP
        n_pass := 0;
        FOR ab IN SELECT * FROM @extschema@._live_account_bindings() LOOP
            IF ab.purge_with = 'delete' THEN
                EXECUTE pg_catalog.format('DELETE FROM %s t WHERE %s', ab.relation, ab.predicate) USING ids;
            ELSE
                EXECUTE pg_catalog.format('UPDATE %s t SET %I = %L WHERE %s', ab.relation, ab.patron_column,
                                          CASE WHEN ab.purge_with LIKE 'patron:%' THEN substr(ab.purge_with, 8) END, ab.predicate) USING ids;
            END IF;
            GET DIAGNOSTICS n = ROW_COUNT;
            n_pass := n_pass + n;
        END LOOP;
        cleared := cleared + n_pass;
        EXIT WHEN n_pass = 0;
    END LOOP;
    -- what still names one of the patrons, in any account relation, after
    -- every step (kept, or given back by a trigger)
    FOR ab IN SELECT * FROM @extschema@._live_account_bindings() LOOP
        EXECUTE pg_catalog.format('SELECT count(*), ARRAY(SELECT DISTINCT x FROM unnest(pg_catalog.array_agg(t.%I::text)) x ORDER BY 1) FROM %s t WHERE %s',
                                  ab.patron_column, ab.relation, ab.predicate)
            INTO n, kept USING ids;
        IF n > 0 THEN
            relation := ab.relation;
            purge_with := ab.purge_with;
            remaining := n;
            RETURN;
        END IF;
    END LOOP;
    kept := NULL;
END $$;

REVOKE ALL ON FUNCTION @extschema@._purge_accounts(text[]) FROM PUBLIC;

