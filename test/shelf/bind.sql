-- test/shelf/bind.sql: the Shelfmark-shaped ILS bound by a DBA who read only README.md,
-- docs/binding.md, docs/fitting-your-ils.md, docs/severing.md and docs/maintenance.md.
-- Where the docs did not say what to do, the comment says what was chosen and why.

SELECT pals_privacy.bind_patrons('members.member', 'member_key', 'valid_until', card_column => 'card_code',
    library_column => 'branch', birth_date_column => 'born', purge_function => 'members.forget(uuid)',
    keep_history_column => 'keeps_history', name_columns => '{given_name,family_name}');
SELECT pals_privacy.bind_contact('members.member', 'email', 'member_key', 'email');
-- the balance: the ILS has none, so a view of what each member owes (binding.md, bind_balance)
CREATE VIEW circ.member_balance AS
    SELECT member_key, sum(amount) AS owed FROM circ.charge WHERE paid_at IS NULL GROUP BY member_key;
SELECT pals_privacy.bind_balance('circ.member_balance', 'member_key', 'owed');

-- loans: bind the inheritance parent (fitting-your-ils: "bind the topmost relation that holds
-- the circulation rows and only them"); settled when nothing is open on it; the times of a
-- visit hidden ("Checkouts of one visit"); NULL items are fine (ILL loans)
SELECT pals_privacy.bind_loans('circ.lending', 'member_key', 'piece_code', '{returned_on}',
    settled_when => 'charges_open = 0', hide_columns => '{lent_on,due_on,desk}');
-- the archive: a second loan binding (NOT NULL patron: the ILS's anonymous member), over the
-- same pieces: one last borrower per piece across loans and archive (severing.md, "Loans moved
-- into an archive": last_borrower_group)
SELECT pals_privacy.bind_loans('circ.lending_archive', 'member_key', 'piece_code', '{returned_on}',
    sever_with => 'patron:00000000-0000-0000-0000-000000000000', hide_columns => '{lent_on}',
    last_borrower_group => 'circ.lending');

-- charges are account records; the link table is a copy of the loan without a patron column
-- (fitting-your-ils covers a fine keyed by its loan, not a link table: 'unlink' cuts the link)
SELECT pals_privacy.bind_account('circ.charge', 'member_key');
SELECT pals_privacy.bind_copy('circ.charge_lending', 'circ.lending', 'lending_id', sever_with => 'unlink');
-- the tally: a per-member row whose last loan is a copy of that loan; 'unlink' (its patron is
-- its primary key, so neither 'null' nor a placeholder), the last piece and time hidden
SELECT pals_privacy.bind_copy('circ.member_tally', 'circ.lending', 'last_lending_id', 'member_key',
    sever_with => 'unlink', hide_columns => '{last_piece,last_lent_on}');
-- notices: a rendered text naming patron and title: 'delete' ("Choose the strategy by what
-- identifies"), with a short retention
SELECT pals_privacy.bind_copy('msg.outgoing', 'circ.lending', 'lending_id', 'member_key', sever_with => 'delete');
SELECT pals_privacy.retain('msg.outgoing', 'queued_at', interval '90 days');

-- the ILS's own audit histories: private history keyed by the patron, with retention
SELECT pals_privacy.bind_private_history('members.member_audit', 'member_key');
SELECT pals_privacy.retain('members.member_audit', 'changed_at', interval '1 year');
SELECT pals_privacy.bind_private_history('circ.lending_changes', 'old_member');
SELECT pals_privacy.retain('circ.lending_changes', 'changed_at', interval '1 year');
-- "Let the audit triggers write as the ILS": SECURITY DEFINER, owned by the ILS's role (here a
-- superuser), search_path pinned
ALTER FUNCTION members.audit_member() SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION circ.log_lending_change() SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
REVOKE EXECUTE ON FUNCTION members.audit_member(), circ.log_lending_change() FROM PUBLIC;
-- The tally's trigger too, although the docs say so only of audit triggers: run as the desk, its
-- INSERT ... ON CONFLICT DO UPDATE meets the tally row of a member whose last loan was severed
-- (a row the desk does not read whole) and the checkout fails (42501): test shelf_shape
ALTER FUNCTION circ.tally_checkout() SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
REVOKE EXECUTE ON FUNCTION circ.tally_checkout() FROM PUBLIC;

SELECT pals_privacy.classify_role('regress_shelf_desk', 'staff');
SELECT pals_privacy.classify_role('regress_shelf_opac', 'patron');
SELECT pals_privacy.classify_role('regress_shelf_collect', 'collections');
SELECT pals_privacy.classify_role('regress_shelf_audit', 'auditor');
