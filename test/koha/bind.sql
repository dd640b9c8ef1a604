-- test/koha/bind.sql: what a DBA binds on the Koha-shaped schema (test/koha/schema.sql),
-- following docs/binding.md and docs/fitting-your-ils.md only.  Run as a superuser.

-- The patron table: Koha deletes a patron by moving the row to deletedborrowers (the ILS's own
-- routine); privacy 0 means "keep my reading history"
SELECT pals_privacy.bind_patrons('koha.borrowers', 'borrowernumber', 'dateexpiry',
           card_column => 'cardnumber', library_column => 'branchcode', birth_date_column => 'dateofbirth',
           purge_function => 'koha.delete_borrower(bigint)',
           keep_history_column => 'privacy', keep_history_when => 'privacy = 0',
           name_columns => '{surname,firstname}');
SELECT pals_privacy.bind_contact('koha.borrowers', 'email', 'borrowernumber', 'email');
SELECT pals_privacy.bind_contact('koha.borrowers', 'smsalertnumber', 'borrowernumber', 'sms');
SELECT pals_privacy.bind_contact('koha.borrowers', 'address', 'borrowernumber', 'mail');
-- the ILS's role, which owns its balance view, first: a bound view is read as its owner, who
-- must be operational (docs/binding.md, "What a bound view needs")
SELECT pals_privacy.classify_role('regress_koha', 'operational');
SELECT pals_privacy.bind_balance('koha.account_balances', 'borrowernumber', 'owed');

-- Loans: open in issues, moved to old_issues on return; each item keeps its last borrower in
-- old_issues; severed rows go to Koha's AnonymousPatron (borrowernumber 1), as Koha's own
-- anonymisation does.  Every row of old_issues is closed, also a lost item's that an older Koha
-- moved without a returndate: its timestamp dates it
SELECT pals_privacy.bind_loans('koha.issues', 'borrowernumber', 'itemnumber', '{returndate}');
SELECT pals_privacy.bind_loans('koha.old_issues', 'borrowernumber', 'itemnumber', '{returndate,timestamp}',
           sever_with => 'patron:1');

-- Holds: the item is NULL until one is trapped; closed when filled or cancelled
SELECT pals_privacy.bind_loans('koha.reserves', 'borrowernumber', 'itemnumber', '{timestamp}',
           closed_when => 'found = ''F'' OR cancellationdate IS NOT NULL', keep_last_borrower => false,
           sever_with => 'patron:1');
SELECT pals_privacy.bind_loans('koha.old_reserves', 'borrowernumber', 'itemnumber', '{timestamp}',
           closed_when => 'found = ''F'' OR cancellationdate IS NOT NULL', keep_last_borrower => false);

-- Interlibrary loans: the lender's order id is the item (text, NULL until ordered)
SELECT pals_privacy.bind_loans('koha.illrequests', 'borrowernumber', 'orderid', '{completed}');

-- The circulation log ties a patron to an item in every row: a loan-like relation whose rows are
-- closed as they are written, nobody's last borrower
SELECT pals_privacy.bind_loans('koha.statistics', 'borrowernumber', 'itemnumber', '{datetime}',
           keep_last_borrower => false);

-- Fines name their loan (issue_id) and item; the fine stays with the patron who owes it, the
-- link to the loan goes with the loan's patron; the item, the time charged (= the return) and the
-- description (the title) find the loan again.  The loan is in issues while out (a fine accrues
-- on it) and in old_issues once returned, with one issue_id: the fine is a copy of either (both
-- sources in one call, so that binding severs no fine of a loan only one of them holds)
SELECT pals_privacy.bind_copy('koha.accountlines', 'koha.old_issues', 'issue_id', 'borrowernumber',
           sever_with => 'unlink', hide_columns => '{itemnumber,date,timestamp,description}',
           current_when => 'amountoutstanding > 0',  -- Koha severs a loan whose fine is still owed
           more_sources => '{koha.issues}');

-- Notices: consent per channel (every patron agreed to notices by e-mail on the card
-- application), kept 90 days
SELECT pals_privacy.backfill_consent('notices', 'email', 'card application form');
SELECT pals_privacy.bind_outbox('koha.message_queue', 'borrowernumber', 'message_transport_type', 'notices');
SELECT pals_privacy.retain('koha.message_queue', 'time_queued', interval '90 days');

-- The ILS's audit log (object = the patron) and its deleted patrons: the patron's own, gone with
-- the purge
SELECT pals_privacy.bind_private_history('koha.action_logs', 'object');
SELECT pals_privacy.bind_private_history('koha.deletedborrowers', 'borrowernumber');

SELECT pals_privacy.classify_role('regress_koha_sip', 'operational');
SELECT pals_privacy.classify_role('regress_koha_staff', 'staff');
SELECT pals_privacy.classify_role('regress_koha_opac', 'patron');
SELECT pals_privacy.classify_role('regress_koha_collect', 'collections');
SELECT pals_privacy.classify_role('regress_koha_audit', 'auditor');
