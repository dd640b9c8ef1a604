-- demo/bind.sql: bind pals_privacy to the sample consortium (schema demo).
--
--   psql -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION pals_privacy' -f demo/roles.sql -f demo/bind.sql
--
-- Run as a superuser (or the extension owner) after demo/schema.sql and demo/roles.sql.  Nothing in
-- schema demo is renamed or altered: every call only records a binding.  Run it once; binding the
-- same relation twice is the extension's business to refuse or replace.

\set ON_ERROR_STOP 1
\o /dev/null
SET client_min_messages = warning;
BEGIN;

-- Patrons: card number, home library, birth date (minors) and the reading-history opt-in live on
-- the patron row; the collection agency may read the name (besides card, contact and amount).
-- Purging goes through the ILS's own routine (see demo/schema.sql), because
-- fines and payments reference the patron without ON DELETE.
SELECT pals_privacy.bind_patrons(
    relation            => 'demo.patrons',
    id_column           => 'id',
    expires_column      => 'expires_on',
    card_column         => 'card_number',
    library_column      => 'library_id',
    birth_date_column   => 'birth_date',
    purge_function      => 'demo.purge_patron(bigint)',
    keep_history_column => 'keep_history',
    name_columns        => '{name}');

-- Amount owed: a view (fines minus payments); patrons without rows owe nothing.
SELECT pals_privacy.bind_balance(
    relation      => 'demo.balances',
    patron_column => 'patron_id',
    amount_column => 'owed');

-- Loans: partitioned by year, patron_id NOT NULL REFERENCES patrons, so severing re-points to
-- the ANONYMOUS patron 0.  Closed on return; settled when fines_settled_at is set (NULL on a
-- returned loan means a fine is still owed).  Each item keeps its last borrower; patrons who
-- opted in (keep_history) get their history copied before severing.
SELECT pals_privacy.bind_loans(
    relation           => 'demo.loans',
    patron_column      => 'patron_id',
    item_column        => 'item_id',
    closed_columns     => ARRAY['returned_at']::name[],
    settled_column     => 'fines_settled_at',
    sever_with         => 'patron:0',
    keep_last_borrower => true,
    history_mode       => 'copy');

-- Holds: title-level; item_id, the copy trapped, is NULL until captured (nobody's last borrower).
-- Closed by fulfilment or cancellation, nothing to settle, severed as soon as closed.
-- patron_id is NOT NULL REFERENCES patrons, so again 'patron:0'.
SELECT pals_privacy.bind_loans(
    relation           => 'demo.holds',
    patron_column      => 'patron_id',
    item_column        => 'item_id',
    closed_columns     => ARRAY['fulfilled_at', 'cancelled_at']::name[],
    sever_with         => 'patron:0',
    keep_last_borrower => false);

-- The OPAC's opt-in reading list: only the patron sees it.
SELECT pals_privacy.bind_private_history(
    relation      => 'demo.reading_history',
    patron_column => 'patron_id');

-- Contact details (one row per patron in demo.addresses).
SELECT pals_privacy.bind_contact(relation => 'demo.addresses', column_name => 'email',  patron_column => 'patron_id', channel => 'email');
SELECT pals_privacy.bind_contact(relation => 'demo.addresses', column_name => 'phone',  patron_column => 'patron_id', channel => 'phone');
SELECT pals_privacy.bind_contact(relation => 'demo.addresses', column_name => 'sms',    patron_column => 'patron_id', channel => 'sms');
SELECT pals_privacy.bind_contact(relation => 'demo.addresses', column_name => 'postal', patron_column => 'patron_id', channel => 'mail');

-- Outgoing notices: the channel column says which consent (purpose 'notices') is needed.
-- (The table also has its own purpose column; newsletters written into it are still checked
-- against 'notices' consent, since a binding has one purpose.)
SELECT pals_privacy.bind_outbox(
    relation       => 'demo.notice_outbox',
    patron_column  => 'patron_id',
    channel_column => 'channel',
    purpose        => 'notices');

-- Device loans: a child of the billable-transaction parent demo.billable_xacts (a query on the
-- parent reads them under this binding).  Closed is a condition: checked in, or lost or claimed
-- returned and finished (paid); the closed columns date it.  Settled when finished.
SELECT pals_privacy.bind_loans(
    relation       => 'demo.device_loans',
    patron_column  => 'patron_id',
    item_column    => 'device_id',
    closed_columns => ARRAY['checkin_time', 'xact_finish']::name[],
    closed_when    => 'checkin_time IS NOT NULL OR (stop_reason IN (''LOST'', ''CLAIMSRETURNED'') AND xact_finish IS NOT NULL)',
    settled_when   => 'xact_finish IS NOT NULL',
    sever_with     => 'patron:0');

-- Fines name the loan they were charged on (loan_id, loan_checked_out_at: the loans' primary key,
-- which a copy must be keyed by, since loans.id alone is not unique): a copy of that loan's
-- identity.  When the loan is severed, the same statement unlinks its fines (both set to NULL): a
-- fine stays with its patron, not with the item they borrowed.
SELECT pals_privacy.bind_copy(
    relation      => 'demo.fines',
    source        => 'demo.loans',
    key_columns   => '{loan_id,loan_checked_out_at}',
    source_keys   => '{id,checked_out_at}',
    patron_column => 'patron_id',
    sever_with    => 'unlink',
    hide_columns  => '{created_at}');     -- charged when the loan came back: its time finds the loan
-- Notices about a loan name the patron and the item in their rendered text: deleted with the loan's
-- identity.  (The ILS's own BEFORE DELETE trigger keeps 'lost' notices while the bill is open.)
SELECT pals_privacy.bind_copy(
    relation      => 'demo.loan_events',
    source        => 'demo.loans',
    key_columns   => '{loan_id,loan_checked_out_at}',   -- the loans' primary key (id, checked_out_at)
    patron_column => 'patron_id',
    sever_with    => 'delete');

-- The per-transaction summary the ILS keeps by trigger: its patron goes with the device loan's.
-- Its last_event_at is the loan's xact_finish once finished (the time the bill was paid, which
-- the payment row carries next to its patron): hidden where the loan's patron is.
SELECT pals_privacy.bind_copy(
    relation      => 'demo.xact_summaries',
    source        => 'demo.device_loans',
    key_column    => 'xact_id',
    patron_column => 'patron_id',
    sever_with    => 'null',
    hide_columns  => '{last_event_at}');

-- The ILS's audit history of patron and address rows: the patron's own (only the patron reads it;
-- purged with the patron), and kept a year.
SELECT pals_privacy.bind_private_history(
    relation      => 'demo.patron_history',
    patron_column => 'patron_id');
SELECT pals_privacy.retain(relation => 'demo.patron_history', timestamp_column => 'audit_time', keep => interval '1 year');

-- The rest of a patron's account: payments, miscellaneous charges (a child of the billable-transaction
-- parent), internet sign-ups and receipts.  Staff read them; a patron their own; collections those
-- of patrons who owe; auditors without the patron.
SELECT pals_privacy.bind_account(relation => 'demo.payments',         patron_column => 'patron_id');
SELECT pals_privacy.bind_account(relation => 'demo.misc_charges',     patron_column => 'patron_id');
SELECT pals_privacy.bind_account(relation => 'demo.internet_signups', patron_column => 'patron_id');
SELECT pals_privacy.bind_account(relation => 'demo.receipts',         patron_column => 'patron_id');

-- Short-lived records: internet sign-up logs 3 days (PALS 6), receipts 30 days (NExpress).
SELECT pals_privacy.retain(relation => 'demo.internet_signups', timestamp_column => 'signed_up_at', keep => interval '3 days');
SELECT pals_privacy.retain(relation => 'demo.receipts',         timestamp_column => 'printed_at',   keep => interval '30 days');

-- Privacy classes (report_user is deliberately left unclassified: it inherits from branch_staff).
SELECT pals_privacy.classify_role(role => 'ils_app',            class => 'operational');
SELECT pals_privacy.classify_role(role => 'branch_staff',       class => 'staff');
SELECT pals_privacy.classify_role(role => 'opac',               class => 'patron');
SELECT pals_privacy.classify_role(role => 'collections_agency', class => 'collections');
SELECT pals_privacy.classify_role(role => 'consortium_auditor', class => 'auditor');
SELECT pals_privacy.classify_role(role => 'statistician',       class => 'statistics');

COMMIT;
RESET client_min_messages;
\o
