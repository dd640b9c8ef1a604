-- Remove the given patrons wholly: sever every row of theirs in every loan
-- binding (by its strategy), delete their messages waiting in an outbox,
-- remove them by the bound method, give what is left of their account
-- records each binding's purge_with, then delete their private history
-- (bound relations and the extension's copies) and their outbox messages
-- again (what the purge function wrote).
-- No SET search_path here: the ILS's purge function runs with the caller's
-- (the worker's: the database default), as the ILS itself would call it.
-- Everything below is schema-qualified; only administrators may call it.
CREATE OR REPLACE FUNCTION @extschema@._purge_patrons(ids text[]) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    -- the work is _purge_patrons_try(); kept rows are an error here, as they
    -- were before purge_expired() learnt to leave out only the patrons kept
    r := @extschema@._purge_patrons_try(ids);
    IF r.kept IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'triggered_action_exception', MESSAGE = r.message,
                              DETAIL = coalesce(r.detail, ''), HINT = coalesce(r.hint, '');
    END IF;
    RETURN r.purged;
END $$;

REVOKE ALL ON FUNCTION @extschema@._purge_patrons(text[]) FROM PUBLIC;
