-- test/evergreen/bind.sql: what a DBA binds on the Evergreen-shaped schema
-- (test/evergreen/schema.sql), following docs/binding.md and docs/fitting-your-ils.md only.
-- Run as a superuser.

-- The patron table.  Evergreen's purge, actor.usr_delete(src_usr, dest_usr), takes two
-- arguments (bind_patrons wants a function of the patron id alone: 42P13), so the DBA wraps it,
-- giving what must stay (the patron's transactions) to the anonymous placeholder patron 1.  It
-- soft-deletes: the row stays, scrubbed, deleted = true, expire_date = now().
CREATE FUNCTION actor.pals_purge_usr(p_usr bigint) RETURNS void LANGUAGE sql
    BEGIN ATOMIC SELECT actor.usr_delete(p_usr::int, 1); END;
SELECT pals_privacy.bind_patrons('actor.usr', 'id', 'expire_date', library_column => 'home_ou', birth_date_column => 'dob',
           purge_function => 'actor.pals_purge_usr(bigint)', name_columns => '{first_given_name,second_given_name,family_name}');
-- card numbers live in actor.card (actor.usr.card is the current card's id)
SELECT pals_privacy.bind_cards('actor.card', 'barcode', 'usr');
SELECT pals_privacy.bind_contact('actor.usr', 'email', 'id', 'email');
SELECT pals_privacy.bind_contact('actor.usr', 'day_phone', 'id', 'phone');
SELECT pals_privacy.bind_contact('actor.usr_address', 'street1', 'usr', 'mail');
-- the ILS's own balance (from the per-transaction summary)
-- the ILS's role, which owns its balance view, first: a bound view is read as its owner, who
-- must be operational (docs/binding.md, "What a bound view needs")
SELECT pals_privacy.classify_role('regress_eg', 'operational');
SELECT pals_privacy.bind_balance('money.usr_summary', 'usr', 'balance_owed');

-- Circulations: the child of money.billable_xact that holds them (the parent has no copy
-- column).  Closed when checked in, or lost / claimed returned / long overdue and paid;
-- settled when finished; severed rows go to the anonymous patron (usr is NOT NULL).  A renewal
-- closes the renewed row ('RENEW', checkin_time set).  The closed columns date the closed rows
-- (the latest is the copy's last borrower): the checkin, else the time fines stopped (lost,
-- claimed returned); not xact_finish, the time the bill was paid, which can come after the next
-- borrower's checkin
-- The circulations of one visit share their checkout time (xact_start, create_time), their due
-- date and the workstation: where one of them stays its copy's last borrower, the others, severed,
-- would find their patron again by those (hide_columns: read only where the patron is)
SELECT pals_privacy.bind_loans('action.circulation', 'usr', 'target_copy', '{checkin_time,stop_fines_time}',
           closed_when => 'checkin_time IS NOT NULL OR (stop_fines IN (''LOST'', ''CLAIMSRETURNED'', ''LONGOVERDUE'') AND xact_finish IS NOT NULL)',
           settled_when => 'xact_finish IS NOT NULL', sever_with => 'patron:1',
           hide_columns => '{xact_start,create_time,due_date,workstation}');
-- Holds: no copy until one is captured; closed when fulfilled or cancelled; nobody's last borrower
SELECT pals_privacy.bind_loans('action.hold_request', 'usr', 'current_copy', '{fulfillment_time,cancel_time}',
           keep_last_borrower => false, sever_with => 'patron:1', more_patron_columns => '{requestor}');

-- Groceries (bills that are not loans) are the other child of money.billable_xact; the summary
-- holds a row for each, keyed by the same id.  A copy's sources must be loan bindings, and a
-- summary row whose key no source holds is severed (binding would NULL the patron of every
-- grocery's summary, and the balance would lose what the patrons owe for them): so the groceries
-- are bound as loans too, nobody's last borrower, closed and settled when finished
SELECT pals_privacy.bind_loans('money.grocery', 'usr', 'billing_location', '{xact_finish}',
           keep_last_borrower => false, sever_with => 'patron:1');

-- Copies of a transaction's identity, keyed by its id: the per-transaction summary (its
-- patron; its times equal the transaction's) and the notices about a circulation
SELECT pals_privacy.bind_copy('money.materialized_billable_xact_summary', 'action.circulation', 'id', 'usr',
           hide_columns => '{xact_start,xact_finish,last_billing_ts,last_payment_ts}', more_sources => '{money.grocery}');
-- The ILS's archive of deleted circulations keeps no patron, but the patron's post code, home
-- library, profile and birth year, and the circulation's times: a copy the extension never writes
-- ('keep'), whose columns that tie it to the patron or pair it with a visible circulation read
-- only where its circulation's patron does (an archived circulation is gone: nowhere)
SELECT pals_privacy.bind_copy('action.aged_circulation', 'action.circulation', 'id', sever_with => 'keep',
           hide_columns => '{usr_post_code,usr_home_ou,usr_profile,usr_birth_year,xact_start,xact_finish,due_date,checkin_time}');
-- (event definition 3, hold.available, targets a hold: its notices are no circulation's copies)
SELECT pals_privacy.bind_copy('action_trigger.event', 'action.circulation', 'target', sever_with => 'delete',
           copy_when => 'event_def NOT IN (3)');
-- The rendered notices (action_trigger.event_output) name patron and title, and are keyed by their
-- event (event.template_output = event_output.id), itself a copy of the circulation: a copy of a
-- copy, deleted with its event.  The key must name one event: no event definition here is grouped
-- (one output per event), and a unique index says so
CREATE UNIQUE INDEX atev_template_output_key ON action_trigger.event (template_output);
SELECT pals_privacy.bind_copy('action_trigger.event_output', 'action_trigger.event', 'id',
           source_key => 'template_output', sever_with => 'delete');
-- the rendered notices: a short retention; the events that reference them (template_output)
-- too, or the rule on the notices fails (23503) for every notice an event still references
SELECT pals_privacy.retain('action_trigger.event', 'add_time', interval '90 days');
SELECT pals_privacy.retain('action_trigger.event_output', 'create_time', interval '90 days');

-- The patron's own: the reading history the ILS keeps for those who opted in, and the audit
-- history of patrons and addresses (with a retention rule)
SELECT pals_privacy.bind_private_history('action.usr_circ_history', 'usr');
SELECT pals_privacy.bind_private_history('auditor.actor_usr_history', 'id');
SELECT pals_privacy.bind_private_history('auditor.actor_usr_address_history', 'usr');
SELECT pals_privacy.retain('auditor.actor_usr_history', 'audit_time', interval '1 year');
SELECT pals_privacy.retain('auditor.actor_usr_address_history', 'audit_time', interval '1 year');

SELECT pals_privacy.classify_role('regress_eg_loader', 'operational');
SELECT pals_privacy.classify_role('regress_eg_staff', 'staff');
SELECT pals_privacy.classify_role('regress_eg_opac', 'patron');
SELECT pals_privacy.classify_role('regress_eg_collect', 'collections');
SELECT pals_privacy.classify_role('regress_eg_audit', 'auditor');
