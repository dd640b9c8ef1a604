-- demo/roles.sql: the database roles of the sample consortium, and their table privileges.
--
--   psql -v ON_ERROR_STOP=1 -f demo/roles.sql        (after demo/schema.sql; safe to rerun)
--
-- Roles are cluster-wide and created only if missing; grants are per database and idempotent.
-- No passwords are set here (bench/run.sh sets throwaway ones for its own cluster).
--
--   ils_app             the ILS application (privacy class operational)
--   branch_staff        staff accounts at member libraries (staff)
--   opac                the online catalogue acting for a logged-in patron (patron)
--   collections_agency  the collection agency's account (collections)
--   consortium_auditor  consortium auditors (auditor)
--   statistician        the consortium's statistician (statistics): pseudonymous records and the catalogue
--   report_user         a report account, NOT classified, member of branch_staff: it gets the most
--                       restrictive class of the roles it belongs to (or pals_privacy.default_class)
-- The classification itself is done in demo/bind.sql (it needs the extension).

\set ON_ERROR_STOP 1
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['ils_app', 'branch_staff', 'opac', 'collections_agency',
                             'consortium_auditor', 'report_user', 'statistician']
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I LOGIN', r);
        END IF;
    END LOOP;
    IF NOT pg_catalog.pg_has_role('report_user', 'branch_staff', 'MEMBER') THEN
        GRANT branch_staff TO report_user;
    END IF;
END
$$;

-- Everyone reads the schema (what each one may actually see is pals_privacy's business).
GRANT USAGE ON SCHEMA demo TO ils_app, branch_staff, opac, collections_agency, consortium_auditor, report_user;
GRANT SELECT ON ALL TABLES IN SCHEMA demo TO ils_app, branch_staff, opac, collections_agency, consortium_auditor, report_user;

-- The statistician reads the catalogue (and, through pals_privacy, the pseudonymous records).
-- It is granted the loans too, to show that its class reads none of their rows.
GRANT USAGE ON SCHEMA demo TO statistician;
GRANT SELECT ON demo.titles, demo.items, demo.libraries, demo.loans TO statistician;

-- The ILS writes everything.
GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA demo TO ils_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA demo TO ils_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA demo TO ils_app;

-- Staff check items in and out, place holds, take payments, register patrons, print receipts.
GRANT INSERT, UPDATE ON demo.loans, demo.holds, demo.items, demo.fines, demo.payments,
                        demo.patrons, demo.addresses, demo.receipts, demo.internet_signups,
                        demo.notice_outbox TO branch_staff;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA demo TO branch_staff;

-- The OPAC lets a patron place and cancel holds and keep a reading list.
GRANT INSERT, UPDATE ON demo.holds, demo.reading_history TO opac;
GRANT DELETE ON demo.reading_history TO opac;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA demo TO opac;

-- The ILS's audit triggers on patrons and addresses write the old row into demo.patron_history,
-- which demo/bind.sql binds as private history: no class below operational may write it, so run
-- as the invoker they would stop staff (who may update patrons and addresses) from doing so.
-- They run as the ILS instead: SECURITY DEFINER, owned by ils_app, with a search_path that no
-- caller can put objects on (docs/fitting-your-ils.md, "The ILS's own audit history").
ALTER FUNCTION demo.audit_patron() SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION demo.audit_address() SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION demo.audit_patron() OWNER TO ils_app;
ALTER FUNCTION demo.audit_address() OWNER TO ils_app;
REVOKE EXECUTE ON FUNCTION demo.audit_patron(), demo.audit_address() FROM PUBLIC;
