-- demo/walkthrough.sql: what pals_privacy does to the sample consortium, step by step.
-- Run by `make demo` (tools/run-demo.sh) after schema, data, roles and bindings are loaded.
\set ON_ERROR_STOP 1
\pset footer off
\pset null '(null)'
SET client_min_messages = notice;

\echo
\echo '=== 1. Bindings: the extension knows the ILS tables; nothing in them was renamed or altered'
SELECT kind, relation, column_name FROM pals_privacy.bindings ORDER BY kind, relation::text, column_name;

\echo
\echo '=== 2. Privacy classes: each role, its own classification or the most restrictive of its roles'
SELECT r.rolname AS role, c.class AS classified_as, pals_privacy.class_of(r.oid::regrole) AS effective_class
  FROM pg_roles r LEFT JOIN pals_privacy.classified_roles c ON c.role = r.oid::regrole
 WHERE r.rolname IN ('ils_app', 'branch_staff', 'report_user', 'opac', 'collections_agency', 'consortium_auditor')
 ORDER BY 3, 1;
\echo 'report_user is not classified: it is a member of branch_staff, so it is staff.'
\echo 'The same query, run as each role (SET ROLE changes the class at once):'
SET ROLE ils_app;            SELECT current_user AS role, pals_privacy.current_class() AS class;
SET ROLE report_user;        SELECT current_user AS role, pals_privacy.current_class() AS class;
SET ROLE collections_agency; SELECT current_user AS role, pals_privacy.current_class() AS class;
SET ROLE consortium_auditor; SELECT current_user AS role, pals_privacy.current_class() AS class;
SET ROLE opac;               SELECT current_user AS role, pals_privacy.current_class() AS class;
RESET ROLE;

\echo
\echo '=== 3. Severing the backlog: each item keeps only its last borrower (PALS Notice and Openness 3, 9)'
\echo 'demo.loans was loaded with two years of returned loans from before the extension, each still'
\echo 'naming its borrower. One rule: a returned, settled loan keeps its patron only if it is its item''s'
\echo 'latest return (the last borrower, kept so that damage can be traced). Loans with fines still owed'
\echo 'keep their patron until they are settled. Patrons who opted in to keeping their history get a copy'
\echo 'of it in pals_privacy.private_history, which only they can read, before their loans are severed.'
\set backlog 'SELECT count(*) FILTER (WHERE latest AND settled) AS last_borrowers, count(*) FILTER (WHERE NOT settled) AS fines_owed, count(*) FILTER (WHERE NOT latest AND settled) AS other_returned_loans, count(*) AS total FROM (SELECT fines_settled_at IS NOT NULL AS settled, row_number() OVER (PARTITION BY item_id ORDER BY returned_at DESC, id DESC) = 1 AS latest, patron_id FROM demo.loans WHERE returned_at IS NOT NULL) l WHERE patron_id <> 0'
CREATE TEMP TABLE demo_backlog (stage text, seen_by text, last_borrowers bigint, fines_owed bigint,
                                other_returned_loans bigint, total bigint, copied_to_private_history bigint);
GRANT INSERT ON demo_backlog TO branch_staff;
INSERT INTO demo_backlog SELECT 'before', 'stored (superuser)', b.*, (SELECT count(*) FROM pals_privacy.private_history) FROM (:backlog) b;
SET ROLE branch_staff;
INSERT INTO demo_backlog SELECT 'before', 'read by branch_staff', b.*, NULL FROM (:backlog) b;
RESET ROLE;
SET client_min_messages = warning;   -- (the per-batch notices)
CALL pals_privacy.sever_backlog(batch_size => 5000);
SET client_min_messages = notice;
INSERT INTO demo_backlog SELECT 'after', 'stored (superuser)', b.*, (SELECT count(*) FROM pals_privacy.private_history) FROM (:backlog) b;
SET ROLE branch_staff;
INSERT INTO demo_backlog SELECT 'after', 'read by branch_staff', b.*, NULL FROM (:backlog) b;
RESET ROLE;
\echo 'Returned loans that name a real patron (patron 0 is the anonymous placeholder), before and after'
\echo 'sever_backlog():'
SELECT stage, seen_by, last_borrowers, fines_owed, other_returned_loans, total, copied_to_private_history
  FROM demo_backlog ORDER BY stage DESC, seen_by DESC;
\echo 'Before: staff already read the other returned loans without their patron (redaction, section 11),'
\echo 'and every item''s last borrower: bind_loans recorded them all when it bound the table.'
\echo 'After: the table no longer holds those patrons at all; what stays identified is exactly what'
\echo 'staff read. Fines that named a severed loan were unlinked from it with it (demo.fines is bound'
\echo 'as a copy of demo.loans): no fine ties a severed loan to its patron any more.'
SELECT count(*) FILTER (WHERE f.loan_id IS NULL) AS fines_unlinked,
       count(*) FILTER (WHERE l.patron_id = 0) AS fines_still_naming_a_severed_loan
  FROM demo.fines f LEFT JOIN demo.loans l ON l.id = f.loan_id AND l.checked_out_at = f.loan_checked_out_at;
\echo 'The copies belong to the patrons who opted in:'
SELECT count(*) AS rows_in_private_history, count(DISTINCT patron) AS patrons_who_opted_in FROM pals_privacy.private_history;
SELECT relation, items_done, rows_severed, state FROM pals_privacy.sever_backlog_progress;

\echo
\echo '=== 4. A return: the item keeps only its last borrower'
SELECT l.item_id AS demo_item FROM demo.loans l
 WHERE l.returned_at IS NULL
   AND EXISTS (SELECT 1 FROM demo.loans h WHERE h.item_id = l.item_id AND h.returned_at IS NOT NULL
                AND h.fines_settled_at IS NOT NULL AND h.patron_id <> 0)
 ORDER BY l.item_id LIMIT 1 \gset
\echo 'History of item' :demo_item 'before the return (0 = the anonymous placeholder patron):'
SELECT id, patron_id, checked_out_at::date, returned_at::date, fines_settled_at IS NOT NULL AS settled
  FROM demo.loans WHERE item_id = :demo_item ORDER BY checked_out_at DESC LIMIT 6;
SET ROLE ils_app;
UPDATE demo.loans SET returned_at = now(), fines_settled_at = now()
 WHERE item_id = :demo_item AND returned_at IS NULL;
RESET ROLE;
\echo 'After the ILS checked it in (the application ran its usual UPDATE, nothing else):'
SELECT id, patron_id, checked_out_at::date, returned_at::date, fines_settled_at IS NOT NULL AS settled
  FROM demo.loans WHERE item_id = :demo_item ORDER BY checked_out_at DESC LIMIT 6;
\echo 'The previous last borrower was re-pointed to patron 0; the patron who just returned it is the'
\echo 'new last borrower, kept so that damage can be traced (PALS Notice and Openness 9).'

\echo
\echo '=== 4b. A derived copy goes with its source: the fine of the previous last borrower'
\echo 'demo.fines names the loan a fine was charged on (loan_id, loan_checked_out_at), and the patron.'
\echo 'Bound with bind_copy(... sever_with => ''unlink''): when the loan loses its patron, the same'
\echo 'statement unlinks its fines, which stay with the patron who owes or paid them.'
SELECT l.item_id AS copy_item, p.id AS copy_loan FROM demo.loans l
  JOIN pals_privacy.last_borrower lb ON lb.binding = 'demo.loans'::regclass AND lb.item = l.item_id::text
  JOIN demo.loans p ON p.tableoid = lb.row_relid AND p.ctid = lb.row_tid
  JOIN demo.fines f ON f.loan_id = p.id AND f.loan_checked_out_at = p.checked_out_at
 WHERE l.returned_at IS NULL AND p.fines_settled_at IS NOT NULL
 ORDER BY l.item_id LIMIT 1 \gset
\echo 'Item' :copy_item ': its last borrower''s loan' :copy_loan 'and the fine charged on it, before the return:'
SELECT p.id AS loan, p.patron_id AS loan_patron, f.id AS fine, f.patron_id AS fine_patron, f.loan_id AS fine_loan
  FROM demo.fines f LEFT JOIN demo.loans p ON p.id = f.loan_id AND p.checked_out_at = f.loan_checked_out_at
 WHERE f.id IN (SELECT id FROM demo.fines WHERE loan_id = :copy_loan);
CREATE TEMP TABLE demo_copy_fines AS SELECT id FROM demo.fines WHERE loan_id = :copy_loan;
SET ROLE ils_app;
UPDATE demo.loans SET returned_at = now(), fines_settled_at = now()
 WHERE item_id = :copy_item AND returned_at IS NULL;
RESET ROLE;
\echo 'After the return: the loan is severed (patron 0) and, in the same statement, its fine unlinked:'
SELECT (SELECT patron_id FROM demo.loans WHERE id = :copy_loan) AS loan_patron,
       f.id AS fine, f.patron_id AS fine_patron, f.loan_id AS fine_loan, f.loan_checked_out_at AS fine_loan_checked_out_at
  FROM demo.fines f WHERE f.id IN (SELECT id FROM demo_copy_fines);

\echo
\echo '=== 4c. What staff read of a copy follows its loan'
\echo 'Notices about a loan (demo.loan_events) name the patron and the item in their text; they are'
\echo 'bound with bind_copy(... sever_with => ''delete''). Staff read a notice only where they read its'
\echo 'loan''s patron: an open loan, a fine owed, the item''s last borrower. The ILS keeps ''lost'' notices'
\echo 'while a bill is open (a BEFORE DELETE trigger of its own): stored, read by no class below operational.'
SELECT (SELECT count(*) FROM demo.loan_events) AS notices_stored,
       (SELECT count(*) FROM demo.loan_events e JOIN demo.loans l ON (l.id, l.checked_out_at) = (e.loan_id, e.loan_checked_out_at)
         WHERE l.patron_id = 0) AS notices_of_severed_loans_kept_by_the_ils;
SET ROLE branch_staff;
SELECT count(*) AS notices_read_by_staff,
       count(*) FILTER (WHERE l.patron_id = 0) AS of_severed_loans
  FROM demo.loan_events e LEFT JOIN demo.loans l ON (l.id, l.checked_out_at) = (e.loan_id, e.loan_checked_out_at);
RESET ROLE;
\echo 'Closed is a condition: a device lost and paid for is finished although it was never checked in.'
\echo 'demo.device_loans is a child of the billable-transaction parent demo.billable_xacts; its'
\echo 'per-transaction summary (demo.xact_summaries, kept by an ILS trigger) is a copy of its patron.'
SELECT stop_reason, count(*) AS device_loans, count(*) FILTER (WHERE patron_id <> 0) AS naming_a_patron
  FROM demo.device_loans WHERE checkin_time IS NULL AND xact_finish IS NOT NULL GROUP BY 1 ORDER BY 1;
SET ROLE branch_staff;
SELECT count(*) AS summaries, count(patron_id) AS with_patron_read_by_staff FROM demo.xact_summaries;
RESET ROLE;

\echo
\echo '=== 5. Holds lose their patron as soon as they close (keep_last_borrower => false)'
SELECT id AS demo_hold FROM demo.holds WHERE fulfilled_at IS NULL AND cancelled_at IS NULL ORDER BY id LIMIT 1 \gset
SELECT id, patron_id, placed_at::date, cancelled_at FROM demo.holds WHERE id = :demo_hold;
SET ROLE ils_app;
UPDATE demo.holds SET cancelled_at = now() WHERE id = :demo_hold;
RESET ROLE;
SELECT id, patron_id, placed_at::date, cancelled_at::date FROM demo.holds WHERE id = :demo_hold;

\echo
\echo '=== 6. Purge: expired cards whose holders owe nothing and hold nothing (PALS Notice and Openness 5)'
SHOW pals_privacy.purge_grace;
SELECT count(*) AS expired_beyond_grace FROM demo.patrons WHERE expires_on < now() - interval '90 days' AND id <> 0;
\echo 'A dry run first: the same counts, nothing changed.'
CALL pals_privacy.purge_expired(dry_run => true);
SELECT count(*) AS patrons_still_there FROM demo.patrons;
CALL pals_privacy.purge_expired();
SELECT count(*) AS patrons_after_purge, count(*) FILTER (WHERE name = 'PURGED') AS scrubbed FROM demo.patrons;
\echo 'The "17 failed" are on purpose: those patrons have a lost-book notice in demo.loan_events whose bill'
\echo 'is still disputed, and the ILS''s trigger keep_open_bill_events refuses to delete it (a BEFORE'
\echo 'DELETE trigger returning NULL). The notice names the patron and the item, so the purge fails closed:'
\echo 'it leaves the patron, records the error, and retries at every run until the bill is closed.'
\echo 'demo.patrons is purged through the ILS''s own demo.purge_patron(), bound as purge_function. It'
\echo 'soft-deletes: the row stays, scrubbed, its card expired today. Purged patrons are recorded, never'
\echo 'purged or counted again; what the ILS''s audit triggers wrote while it scrubbed them (the old name,'
\echo 'card and address, in demo.patron_history, bound as private history) was deleted after it ran:'
SELECT (SELECT count(*) FROM pals_privacy.purged_patrons) AS recorded_purged,
       (SELECT count(*) FROM demo.patron_history h JOIN pals_privacy.purged_patrons p ON p.patron = h.patron_id::text)
           AS their_audit_history_rows;
CALL pals_privacy.purge_expired(dry_run => true);

\echo
\echo '=== 7. Retention: internet sign-ups after 3 days, receipts after 30 (PALS 6, NExpress)'
SELECT (SELECT count(*) FROM demo.internet_signups) AS signups, (SELECT count(*) FROM demo.receipts) AS receipts;
CALL pals_privacy.apply_retention();
SELECT (SELECT count(*) FROM demo.internet_signups) AS signups, (SELECT count(*) FROM demo.receipts) AS receipts;

\echo
\echo '=== 8. Every run is recorded, with counts and no identities (the background worker runs'
\echo '    run_maintenance() the same way, every pals_privacy.maintenance_interval)'
SELECT id, kind, dry_run, finished_at - started_at AS took, counts
  FROM pals_privacy.maintenance_runs ORDER BY id;

\echo
\echo '=== 9. Consent: the notice outbox takes messages only for consenting patrons (PALS 11)'
SELECT l.patron_id AS notice_patron FROM demo.loans l WHERE l.returned_at IS NULL ORDER BY l.id LIMIT 1 \gset
SET SESSION AUTHORIZATION branch_staff;
SELECT pals_privacy.grant_consent(:'notice_patron', 'notices', 'email', evidence => 'registration form');
\echo 'Newsletter consent needs evidence:'
\set ON_ERROR_STOP 0
SELECT pals_privacy.grant_consent(:'notice_patron', 'newsletter', 'email');
\set ON_ERROR_STOP 1
RESET SESSION AUTHORIZATION;
SET ROLE ils_app;
INSERT INTO demo.notice_outbox (patron_id, channel, purpose, body, created_at)
VALUES (:notice_patron, 'email', 'notices', 'Your loan is due on Friday', now());
\echo 'An SMS notice to the same patron, who consented to e-mail only, is refused:'
\set ON_ERROR_STOP 0
INSERT INTO demo.notice_outbox (patron_id, channel, purpose, body, created_at)
VALUES (:notice_patron, 'sms', 'notices', 'Your loan is due on Friday', now());
\set ON_ERROR_STOP 1
RESET ROLE;
SELECT patron, purpose, channel, action, evidence, recorded_by FROM pals_privacy.consent_history
 WHERE patron = :'notice_patron' ORDER BY id;

\echo
\echo '=== 10. The audit log: every change above, hash-chained (SHA-256); only auditors read it'
SET SESSION AUTHORIZATION consortium_auditor;
SELECT event, count(*) FROM pals_privacy.audit_search() GROUP BY event ORDER BY event;
SELECT pals_privacy.verify_audit() AS first_bad_entry, (SELECT id FROM pals_privacy.audit_head()) AS head;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION branch_staff;
\echo 'Staff cannot read it:'
\set ON_ERROR_STOP 0
SELECT count(*) FROM pals_privacy.audit_log;
\set ON_ERROR_STOP 1
RESET SESSION AUTHORIZATION;

\echo
\echo '=== 10b. A legal order discloses identified history the database still holds, nothing more'
\echo '    (NExpress "valid process, order or subpoena")'
\echo 'The patron in this order opted in to keeping their history and has a loan out. Staff read their'
\echo 'current account; the order discloses, in addition, what redaction masks: the history the patron'
\echo 'chose to keep. Loans severed from them (sections 3 and 4) name nobody any more: no order can'
\echo 'disclose them, because the database no longer knows whose they were.'
SELECT l.patron_id AS demo_patron FROM demo.loans l JOIN demo.patrons p ON p.id = l.patron_id
 WHERE l.returned_at IS NULL AND p.keep_history
   AND EXISTS (SELECT 1 FROM pals_privacy.private_history h WHERE h.patron = l.patron_id::text)
 ORDER BY l.id LIMIT 1 \gset
SET SESSION AUTHORIZATION branch_staff;
SELECT count(*) AS loans_staff_read_with_this_patron,
       (SELECT count(*) FROM demo.reading_history WHERE patron_id = :demo_patron) AS reading_list_rows_staff_read
  FROM demo.loans WHERE patron_id = :demo_patron;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION consortium_auditor;
SELECT pals_privacy.open_legal_order('CV-2026-0142', 'County Court', :'demo_patron', now() + interval '30 days') AS demo_order \gset
SELECT relation, count(*) AS rows_disclosed FROM pals_privacy.disclose_history(:demo_order) GROUP BY relation ORDER BY relation;
SELECT pals_privacy.close_legal_order(:demo_order);
\echo 'The order, the disclosure (with its counts per relation) and the close are in the audit log:'
SELECT id, role, class, event, details FROM pals_privacy.audit_search(event_like => 'legal_order.%');
RESET SESSION AUTHORIZATION;

\echo
\echo '=== 11. Redaction: the same query, run as each class, reads what the class may see'
\echo '    (docs/redaction.md; the queries are not changed, the database decides)'
SELECT l.patron_id AS opac_patron, p.card_number AS opac_card
  FROM demo.loans l JOIN demo.patrons p ON p.id = l.patron_id
 WHERE l.returned_at IS NULL ORDER BY l.id OFFSET 1 LIMIT 1 \gset
SET pals_privacy.pin_iterations = 10000;
SELECT pals_privacy.set_pin(:'opac_patron', '2468');
RESET pals_privacy.pin_iterations;
-- One row per session, collected in a temporary table so that they print as one table.
-- "naming a patron" leaves out patron 0, the anonymous placeholder of severed loans.
CREATE TEMP TABLE demo_census (n serial, role text, class text, patrons bigint, patron_names bigint,
                               loans bigint, open_loans_naming_a_patron bigint,
                               returned_loans_naming_a_patron bigint, reading_list_rows bigint,
                               balances bigint);
GRANT INSERT ON demo_census TO PUBLIC;
GRANT USAGE ON SEQUENCE demo_census_n_seq TO PUBLIC;
\set census 'INSERT INTO demo_census (role, class, patrons, patron_names, loans, open_loans_naming_a_patron, returned_loans_naming_a_patron, reading_list_rows, balances) SELECT current_user || CASE WHEN pals_privacy.current_class() = ''patron'' THEN CASE WHEN pals_privacy.session_patron() IS NULL THEN '' (no login)'' ELSE '' (logged in)'' END ELSE '''' END, pals_privacy.current_class(), (SELECT count(*) FROM demo.patrons), (SELECT count(name) FROM demo.patrons), (SELECT count(*) FROM demo.loans), (SELECT count(*) FROM demo.loans WHERE returned_at IS NULL AND patron_id <> 0), (SELECT count(*) FROM demo.loans WHERE returned_at IS NOT NULL AND patron_id <> 0), (SELECT count(*) FROM demo.reading_history), (SELECT count(*) FROM demo.balances)'
SET ROLE ils_app;            :census;
SET ROLE branch_staff;       :census;
SET ROLE collections_agency; :census;
SET ROLE consortium_auditor; :census;
SET ROLE opac;               :census;
SELECT pals_privacy.login(:'opac_card', '2468') AS opac_login;
:census;
SELECT pals_privacy.logout();
RESET ROLE;
SELECT role, class, patrons, patron_names, loans, open_loans_naming_a_patron,
       returned_loans_naming_a_patron, reading_list_rows, balances
  FROM demo_census ORDER BY n;
\echo 'Read it column by column against ils_app (operational, the ILS itself, which sees everything):'
\echo ' - branch_staff (staff): every patron and loan, but no reading list (private history). Its'
\echo '   returned loans naming a patron equal the ILS''s only because severing (section 3) left identified'
\echo '   just the last borrowers and loans with fines owed, which staff may see; before severing, staff'
\echo '   read the other returned loans without their patron (section 3, "read by branch_staff").'
\echo ' - collections_agency: only patrons owing more than pals_privacy.collections_threshold, and no loans'
\echo '   naming anyone.'
\echo ' - consortium_auditor: row counts, but patron names and every loan''s patron masked.'
\echo ' - opac (patron class): nothing before login; after login(card, PIN), that patron''s own rows.'
SET ROLE branch_staff;
\echo 'EXPLAIN ANALYZE would count hidden rows, so redacted classes get plain EXPLAIN only:'
\set ON_ERROR_STOP 0
EXPLAIN ANALYZE SELECT * FROM demo.loans WHERE patron_id = :opac_patron;
\set ON_ERROR_STOP 1
RESET ROLE;

\echo
\echo '=== 12. A newsletter mailing under a purpose: only consenting patrons'' addresses (NExpress)'
SET SESSION AUTHORIZATION branch_staff;
SET pals_privacy.purpose = 'newsletter';
SELECT count(email) AS newsletter_addresses FROM demo.addresses;
RESET pals_privacy.purpose;
SELECT pals_privacy.grant_consent(:'notice_patron', 'newsletter', 'email', evidence => 'signed form, Main Library');
SET pals_privacy.purpose = 'newsletter';
\echo 'The same query after one patron signed the newsletter form:'
SELECT count(email) AS newsletter_addresses FROM demo.addresses;
RESET pals_privacy.purpose;
RESET SESSION AUTHORIZATION;

\echo
\echo '=== 13. A patron''s own data: my_data() for the logged-in patron (their rows only, as JSON)'
SET ROLE opac;
SELECT pals_privacy.login(:'opac_card', '2468');
SELECT e ->> 'relation' AS relation, jsonb_array_length(e -> 'rows') AS rows
  FROM jsonb_array_elements(pals_privacy.my_data() -> 'relations') e ORDER BY 1;
SELECT pals_privacy.logout();
RESET ROLE;

\echo
\echo '=== 14. Statistics without identity: a pseudonymous record of each loan as it is severed'
SELECT pals_privacy.collect_statistics('demo.loans', granularity => 'month');
\echo 'The ILS checks in a quarter of the loans out now; each return severs the item''s previous last'
\echo 'borrower, who leaves a record: HMAC-SHA256 pseudonym (this year''s key), age bracket, library, item, month.'
SET ROLE ils_app;
UPDATE demo.loans SET returned_at = now(), fines_settled_at = now() WHERE returned_at IS NULL AND item_id % 4 = 0;
RESET ROLE;
SET SESSION AUTHORIZATION statistician;
SELECT pals_privacy.current_class() AS class, (SELECT count(*) FROM demo.loans) AS loans_it_reads,
       (SELECT count(*) FROM pals_privacy.loan_statistics) AS records,
       (SELECT count(DISTINCT pseudonym) FROM pals_privacy.loan_statistics) AS pseudonymous_patrons;
\echo 'Exported by age bracket and library, groups of fewer than pals_privacy.min_group_size (5) patrons suppressed:'
SELECT age_bracket, library, loans, patrons, suppressed FROM pals_privacy.export_statistics()
 WHERE library IS NULL OR library IN ('1', '2') ORDER BY age_bracket NULLS FIRST, library NULLS FIRST;
\echo 'The key it is computed with is the extension owner''s alone:'
\set ON_ERROR_STOP 0
SELECT key FROM pals_privacy.pseudonym_keys;
\set ON_ERROR_STOP 1
RESET SESSION AUTHORIZATION;

\echo
\echo '=== 15. The compliance report: is the policy holding? (auditors and superusers; counts, never identities)'
SET SESSION AUTHORIZATION consortium_auditor;
SELECT section, relation, measure, value, ok, detail FROM pals_privacy.compliance_report()
 WHERE ok IS NOT NULL OR section IN ('identified_closed', 'expired_patrons') AND (relation = 'total' OR section = 'expired_patrons');
\if :{?report_file}
\pset format unaligned
\pset tuples_only on
\o :report_file
SELECT pals_privacy.compliance_report_html();
\o
\pset format aligned
\pset tuples_only off
\echo 'The same report as one HTML page (inline SVG, no script):' :report_file
\endif
RESET SESSION AUTHORIZATION;
