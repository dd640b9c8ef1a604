\set ECHO none
-- test/attack/temp_spy.sql: the attacker's spy in its session's temporary schema
-- (test/sql/attack_search_path.sql, after each \c): pg_temp.text, a domain over
-- pg_catalog.text whose CHECK calls pg_temp.atk_spy(), which records in
-- public.atk_loot the door (setting atk.door), the role it ran as, how many hidden
-- pairs that role read, and the value cast.  Wherever SQL of the extension casts
-- to an unqualified text under a path that searches pg_temp first, the spy runs
-- with that SQL's rights.
\o /dev/null
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.atk_spy(v pg_catalog.text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.atk_loot
    SELECT pg_catalog.current_setting('atk.door', true), current_user::pg_catalog.text,
           (SELECT pg_catalog.count(*) FROM demo.loans l
             WHERE l.item_id BETWEEN 90001 AND 90005 AND l.patron_id IN (9001, 9012)),
           pg_catalog.left(v, 60);
    RETURN true;
END $$;
CREATE DOMAIN pg_temp.text AS pg_catalog.text CHECK (pg_temp.atk_spy(VALUE));
\o
\set ECHO all
