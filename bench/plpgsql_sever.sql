-- bench/plpgsql_sever.sql: the severing rule as a DBA would write it without pals_privacy,
-- a PL/pgSQL trigger on demo.loans, to compare with the extension's C trigger (variant
-- "plpgsql" of bench/run.sh).  Same rule: when a loan closes, every earlier closed, settled,
-- identified loan of the same item is re-pointed to the anonymous patron 0; a loan that
-- becomes settled later and is not the item's latest closed loan is severed then.
-- The obvious way: search the item's history (through the item index) on every return.

CREATE FUNCTION demo.sever_plpgsql() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.returned_at IS NULL THEN
        -- a return: sever the item's earlier closed, settled loans
        UPDATE demo.loans l SET patron_id = 0
         WHERE l.item_id = NEW.item_id AND l.returned_at IS NOT NULL AND l.fines_settled_at IS NOT NULL
           AND l.patron_id <> 0 AND NOT (l.id = NEW.id AND l.checked_out_at = NEW.checked_out_at);
    ELSIF OLD.fines_settled_at IS NULL AND NEW.fines_settled_at IS NOT NULL THEN
        -- a settlement: sever unless this is the item's latest closed loan
        IF EXISTS (SELECT 1 FROM demo.loans l WHERE l.item_id = NEW.item_id AND l.returned_at > NEW.returned_at) THEN
            UPDATE demo.loans l SET patron_id = 0 WHERE l.id = NEW.id AND l.checked_out_at = NEW.checked_out_at;
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER sever_plpgsql AFTER UPDATE OF returned_at, fines_settled_at ON demo.loans
    FOR EACH ROW WHEN (NEW.returned_at IS NOT NULL AND NEW.patron_id <> 0
                       AND pg_trigger_depth() < 1)
    EXECUTE FUNCTION demo.sever_plpgsql();
