-- bench/plpgsql_purge.sql: the purge a DBA would write without pals_privacy, for comparison with
-- pals_privacy.purge_expired() (bench/purge.sh).  A loop over expired patrons, one at a time:
-- check the balance and open loans and holds, sever their history, drop their reading history,
-- and call the ILS's purge routine.  Same rules, same purge routine, no batching.
CREATE FUNCTION demo.purge_expired_loop(grace interval DEFAULT interval '90 days') RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    p record;
    n integer := 0;
BEGIN
    FOR p IN SELECT id FROM demo.patrons WHERE expires_on < now() - grace AND id <> 0 ORDER BY id LOOP
        CONTINUE WHEN coalesce((SELECT sum(owed) FROM demo.balances b WHERE b.patron_id = p.id), 0) > 0;
        CONTINUE WHEN EXISTS (SELECT 1 FROM demo.loans l WHERE l.patron_id = p.id AND l.returned_at IS NULL);
        CONTINUE WHEN EXISTS (SELECT 1 FROM demo.holds h WHERE h.patron_id = p.id
                               AND h.fulfilled_at IS NULL AND h.cancelled_at IS NULL);
        UPDATE demo.loans SET patron_id = 0 WHERE patron_id = p.id;
        UPDATE demo.holds SET patron_id = 0 WHERE patron_id = p.id;
        DELETE FROM demo.reading_history WHERE patron_id = p.id;
        PERFORM demo.purge_patron(p.id);
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;

-- The same loop for an ILS without a purge routine, whose foreign keys to the patron table cascade
-- (bench/purge.sh's DELETE-method databases): the patron row is deleted, one statement per patron.
CREATE FUNCTION demo.purge_expired_loop_delete(grace interval DEFAULT interval '90 days') RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    p record;
    n integer := 0;
BEGIN
    FOR p IN SELECT id FROM demo.patrons WHERE expires_on < now() - grace AND id <> 0 ORDER BY id LOOP
        CONTINUE WHEN coalesce((SELECT sum(owed) FROM demo.balances b WHERE b.patron_id = p.id), 0) > 0;
        CONTINUE WHEN EXISTS (SELECT 1 FROM demo.loans l WHERE l.patron_id = p.id AND l.returned_at IS NULL);
        CONTINUE WHEN EXISTS (SELECT 1 FROM demo.holds h WHERE h.patron_id = p.id
                               AND h.fulfilled_at IS NULL AND h.cancelled_at IS NULL);
        UPDATE demo.loans SET patron_id = 0 WHERE patron_id = p.id;
        UPDATE demo.holds SET patron_id = 0 WHERE patron_id = p.id;
        DELETE FROM demo.reading_history WHERE patron_id = p.id;
        DELETE FROM demo.patrons WHERE id = p.id;
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;

-- The floor of any purge by a DELETE-method binding (bench/purge.sh, bench/purge_callgrind.sh):
-- the same rules and row changes as purge_expired_loop_delete, set-based: the eligible patrons
-- chosen by one query, then one statement per table over all of them.  What it costs is the
-- row work (updates, index entries, foreign-key checks and cascades) with nothing per patron.
CREATE FUNCTION demo.purge_expired_set_delete(grace interval DEFAULT interval '90 days') RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    SELECT coalesce(array_agg(p.id ORDER BY p.id), '{}') INTO ids FROM demo.patrons p
     WHERE p.expires_on < now() - grace AND p.id <> 0
       AND coalesce((SELECT sum(owed) FROM demo.balances b WHERE b.patron_id = p.id), 0) <= 0
       AND NOT EXISTS (SELECT 1 FROM demo.loans l WHERE l.patron_id = p.id AND l.returned_at IS NULL)
       AND NOT EXISTS (SELECT 1 FROM demo.holds h WHERE h.patron_id = p.id
                        AND h.fulfilled_at IS NULL AND h.cancelled_at IS NULL);
    UPDATE demo.loans SET patron_id = 0 WHERE patron_id = ANY (ids);
    UPDATE demo.holds SET patron_id = 0 WHERE patron_id = ANY (ids);
    DELETE FROM demo.reading_history WHERE patron_id = ANY (ids);
    DELETE FROM demo.patrons WHERE id = ANY (ids);
    RETURN cardinality(ids);
END $$;
