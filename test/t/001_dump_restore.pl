
# Bindings and classifications survive pg_dump / pg_restore: they live in
# extension configuration tables, so a restored database is bound exactly as
# the original was, its bindings still validate, and the mechanisms that read
# them (classes, severing) work in the restored database.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('primary');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pals_privacy'");
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE ils');

# A small ILS: bigint patron ids, a card table, a balance view over fines,
# loans in a partitioned table with a NOT NULL foreign-key patron column,
# holds in an inheritance tree, opt-in reading history, contact fields, an
# outbox (one with a purpose added by the DBA) and retention rules.
$node->safe_psql('ils', <<'SQL');
CREATE EXTENSION pals_privacy;
CREATE SCHEMA ils;
CREATE TABLE ils.borrowers (
    borrowernumber  bigint PRIMARY KEY,
    cardnumber      text UNIQUE,
    surname         text NOT NULL,
    email           text,
    smsalertnumber  text,
    branchcode      text,
    dateofbirth     date,
    dateexpiry      date NOT NULL,
    privacy_keep    boolean NOT NULL DEFAULT false
);
INSERT INTO ils.borrowers (borrowernumber, cardnumber, surname, dateexpiry) VALUES
    (0, 'ANONYMOUS', 'Anonymous', 'infinity'),
    (1, '21000000001', 'Lovelace', '2030-01-01'),
    (2, '21000000002', 'Hopper', '2030-01-01');
CREATE FUNCTION ils.purge_borrower(bigint) RETURNS void
    LANGUAGE sql AS 'DELETE FROM ils.borrowers WHERE borrowernumber = $1';
CREATE TABLE ils.borrower_cards (
    cardnumber      text PRIMARY KEY,
    borrowernumber  bigint NOT NULL REFERENCES ils.borrowers
);
CREATE TABLE ils.accountlines (
    id              serial PRIMARY KEY,
    borrowernumber  bigint REFERENCES ils.borrowers,
    amount          numeric(10,2) NOT NULL
);
CREATE VIEW ils.balances AS
    SELECT borrowernumber, sum(amount) AS owed FROM ils.accountlines GROUP BY borrowernumber;
CREATE TABLE ils.issues (
    issue_id        bigint GENERATED ALWAYS AS IDENTITY,
    borrowernumber  bigint NOT NULL REFERENCES ils.borrowers,
    itemnumber      integer NOT NULL,
    issuedate       timestamptz NOT NULL,
    returndate      timestamptz,
    lostdate        timestamptz,
    paid            timestamptz
) PARTITION BY RANGE (issuedate);
CREATE TABLE ils.issues_2023 PARTITION OF ils.issues FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE ils.issues_2024 PARTITION OF ils.issues FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE ils.reserves (
    borrowernumber  bigint,
    itemnumber      integer NOT NULL,
    reservedate     timestamptz NOT NULL,
    found           timestamptz,
    cancellationdate timestamptz
);
CREATE TABLE ils.old_reserves () INHERITS (ils.reserves);
CREATE TABLE ils.reading_history (borrowernumber bigint, title text, read_on date);
CREATE TABLE ils.message_queue (
    message_id      serial PRIMARY KEY,
    borrowernumber  bigint,
    transport       text,
    content         text,
    time_queued     timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE ils.survey_queue (borrowernumber bigint, transport text, content text);
CREATE TABLE ils.statistics (datetime timestamptz NOT NULL, branch text, itemnumber integer);

INSERT INTO pals_privacy.purposes (name, description) VALUES ('reader_survey', 'Annual reader survey');

SELECT pals_privacy.bind_patrons('ils.borrowers', 'borrowernumber', 'dateexpiry',
    card_column => 'cardnumber', library_column => 'branchcode', birth_date_column => 'dateofbirth',
    purge_function => 'ils.purge_borrower(bigint)', keep_history_column => 'privacy_keep');
SELECT pals_privacy.bind_cards('ils.borrower_cards', 'cardnumber', 'borrowernumber');
SELECT pals_privacy.bind_balance('ils.balances', 'borrowernumber', 'owed');
SELECT pals_privacy.bind_loans('ils.issues', 'borrowernumber', 'itemnumber', '{returndate,lostdate}',
    settled_column => 'paid', sever_with => 'patron:0');
SELECT pals_privacy.bind_loans('ils.reserves', 'borrowernumber', 'itemnumber', '{found,cancellationdate}',
    keep_last_borrower => false, history_mode => 'in_place');
SELECT pals_privacy.bind_private_history('ils.reading_history', 'borrowernumber');
SELECT pals_privacy.bind_contact('ils.borrowers', 'email', 'borrowernumber', 'email');
SELECT pals_privacy.bind_contact('ils.borrowers', 'smsalertnumber', 'borrowernumber', 'sms');
SELECT pals_privacy.bind_outbox('ils.message_queue', 'borrowernumber', 'transport', 'notices');
SELECT pals_privacy.bind_outbox('ils.survey_queue', 'borrowernumber', 'transport', 'reader_survey');
SELECT pals_privacy.retain('ils.statistics', 'datetime', '3 days');
SELECT pals_privacy.retain('ils.message_queue', 'time_queued', '90 days', 'sever');

CREATE ROLE ils_app;
CREATE ROLE circ_desk;
CREATE ROLE opac;
CREATE ROLE clerk LOGIN IN ROLE circ_desk;
SELECT pals_privacy.classify_role('ils_app', 'operational');
SELECT pals_privacy.classify_role('circ_desk', 'staff', purpose => 'notices');
SELECT pals_privacy.classify_role('opac', 'patron');

GRANT USAGE ON SCHEMA ils TO circ_desk;
GRANT SELECT ON ALL TABLES IN SCHEMA ils TO circ_desk;

-- item 100: Lovelace borrowed and returned it (its last borrower so far);
-- Hopper has it now.
INSERT INTO ils.issues (borrowernumber, itemnumber, issuedate, returndate, paid)
    VALUES (1, 100, '2024-02-01', '2024-02-15', '2024-02-15');
INSERT INTO ils.issues (borrowernumber, itemnumber, issuedate) VALUES (2, 100, '2024-03-01');
-- item 200: Hopper, then Lovelace returned it; Hopper's loan is still unpaid
-- (kept identified until settled), Lovelace's is the last borrower
INSERT INTO ils.issues (borrowernumber, itemnumber, issuedate, returndate) VALUES (2, 200, '2024-04-01', '2024-04-10');
INSERT INTO ils.issues (borrowernumber, itemnumber, issuedate, returndate, paid) VALUES (1, 200, '2024-05-01', '2024-05-10', '2024-05-10');
SQL

# Evidence and history of a database in use: consents, a withdrawal, a legal
# order, PINs, acknowledgments, maintenance runs, the backlog done.
$node->safe_psql('ils', <<'SQL');
SELECT pals_privacy.grant_consent('1', 'notices', 'email');
SELECT pals_privacy.grant_consent('2', 'notices', 'sms');
SELECT pals_privacy.withdraw_consent('2', 'notices', 'sms');
SELECT pals_privacy.open_legal_order('CV-2026-0142', 'County Court', '1', now() + interval '30 days');
SELECT pals_privacy.set_pin('1', '2468');
SELECT pals_privacy.acknowledge_policy('2026');
CALL pals_privacy.sever_backlog();
CALL pals_privacy.run_maintenance();
SQL

# Every binding with its settings, time and author; classifications; the
# purposes the DBA added; the triggers the bindings installed.
my %queries = (
	bindings => q{SELECT kind, relation::text, column_name, settings, bound_at, bound_by
	                FROM pals_privacy.bindings ORDER BY 1, 2, 3},
	classified_roles => q{SELECT role::text, class, purpose, classified_at, classified_by
	                        FROM pals_privacy.classified_roles ORDER BY 1},
	purposes => q{SELECT * FROM pals_privacy.purposes ORDER BY name},
	triggers => q{SELECT tgrelid::regclass::text, tgname, tgfoid::regproc::text
	                FROM pg_trigger WHERE tgname LIKE 'pals_privacy%' ORDER BY 1, 2},
	classes => q{SELECT r, pals_privacy.class_of(r::regrole)
	               FROM unnest('{ils_app,circ_desk,opac,clerk}'::text[]) r ORDER BY 1},);

# What a restore must bring back as it was (issue 15): the evidence, the
# maintenance history, the backlog progress (by relation), the audit log,
# and what staff see of the last borrowers (the tracker, rebuilt).
$queries{consents} = q{SELECT patron, purpose, channel, granted, evidence FROM pals_privacy.consents ORDER BY 1, 2, 3};
$queries{consent_history} = q{SELECT id, patron, purpose, channel, action FROM pals_privacy.consent_history ORDER BY id};
$queries{legal_orders} = q{SELECT id, reference, patron FROM pals_privacy.legal_orders ORDER BY id};
$queries{pins} = q{SELECT patron, encode(hash, 'hex') FROM pals_privacy.patron_pins ORDER BY 1};
$queries{maintenance_runs} = q{SELECT id, kind, started_by, finished_at IS NOT NULL, error FROM pals_privacy.maintenance_runs ORDER BY id};
$queries{backlog} = q{SELECT binding::regclass::text, items_done, rows_severed, finished_at IS NOT NULL
                        FROM pals_privacy.backlog_progress ORDER BY 1};
$queries{audit_log} = q{SELECT id, event, encode(hash, 'hex') FROM pals_privacy.audit_log ORDER BY id};
$queries{tracker} = q{SELECT binding::regclass::text, item, row_relid::regclass::text FROM pals_privacy.last_borrower ORDER BY 1, 2};
$queries{issues} = q{SELECT itemnumber, borrowernumber, returndate IS NOT NULL FROM ils.issues ORDER BY issuedate};

my %before;
$before{$_} = $node->safe_psql('ils', $queries{$_}) for keys %queries;
my $staff_sees = q{SET ROLE circ_desk;
	SELECT string_agg(itemnumber || ':' || coalesce(borrowernumber::text, '-'), ' ' ORDER BY issuedate)
	  FROM ils.issues WHERE returndate IS NOT NULL};
$before{staff} = $node->safe_psql('ils', $staff_sees);
like($before{staff}, qr/^100:1 200:\S+ 200:1$/,
	'staff see the last borrower of each returned item');
like($before{backlog}, qr/ils\.issues\|\d+\|\d+\|t/, 'the backlog is done in the original database');
is($node->safe_psql('ils', 'SELECT count(*) > 0 FROM pals_privacy.last_borrower'), 't',
	'the original database tracks last borrowers');

my @kinds = split /\n/,
  $node->safe_psql('ils', 'SELECT DISTINCT kind FROM pals_privacy.bindings ORDER BY 1');
is_deeply(
	\@kinds,
	[qw(balance cards contact loans outbox patrons private_history retain)],
	'the original database has a binding of every kind');
is( $node->safe_psql(
		'ils', 'SELECT count(*) FROM pals_privacy.bindings'),
	'12',
	'the original database has 12 bindings');
like($before{triggers}, qr/ils\.issues\|pals_privacy_sever/,
	'bind_loans installed its trigger on the partitioned table');

# Dump, and restore into a new database of the same cluster (roles are
# cluster-wide, so the classifications can be restored too).
my $dump = $node->basedir . '/ils.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', 'ils', '-f', $dump ], 'pg_dump -Fc');
$node->safe_psql('postgres', 'CREATE DATABASE ils_restored');
$node->command_ok(
	[ 'pg_restore', '--exit-on-error', '-d', 'ils_restored', $dump ],
	'pg_restore into a new database, without errors');

for my $what (sort keys %queries)
{
	is($node->safe_psql('ils_restored', $queries{$what}),
		$before{$what}, "restored database: same $what");
}
is($node->safe_psql('ils_restored', $staff_sees), $before{staff},
	'restored database: staff see the same last borrowers (the tracker was rebuilt)');
is($node->safe_psql('ils_restored', 'SELECT pals_privacy.verify_audit()'), '',
	'restored database: the audit chain verifies, and the restore appended nothing to it');
is($node->safe_psql('ils_restored', q{SELECT count(*) FROM pals_privacy.sever_pending}), '0',
	'restored database: nothing left to sever (the unpaid loan is not due)');

# The restored database keeps working: new evidence gets new ids and the
# chain goes on from the restored head.
$node->safe_psql('ils_restored', <<'SQL');
SELECT pals_privacy.grant_consent('2', 'notices', 'email', evidence => 'form at the desk');
SELECT pals_privacy.acknowledge_policy('2027');
SELECT pals_privacy.set_pin('2', '1357');
CALL pals_privacy.run_maintenance();
SQL
is($node->safe_psql('ils_restored',
		q{SELECT pals_privacy.open_legal_order('CV-2026-0200', 'County Court', '2', now() + interval '30 days')}),
	'2', 'restored database: a new legal order gets the next id');
is($node->safe_psql('ils_restored', q{SELECT max(id) FROM pals_privacy.consent_history}),
	'4', 'restored database: a new consent is recorded after the restored history');
is($node->safe_psql('ils_restored', 'SELECT pals_privacy.verify_audit()'), '',
	'restored database: the audit chain verifies with the new entries');
is($node->safe_psql('ils_restored', q{SELECT state FROM pals_privacy.maintenance_status WHERE kind = 'maintenance'}),
	'done', 'restored database: maintenance runs without an error');

# The restored bindings still validate: binding everything again the same
# way is a no-op, and a conflicting binding is refused.
my $rebind = $node->safe_psql('ils_restored', <<'SQL');
SET client_min_messages = notice;
SELECT pals_privacy.bind_patrons('ils.borrowers', 'borrowernumber', 'dateexpiry',
    card_column => 'cardnumber', library_column => 'branchcode', birth_date_column => 'dateofbirth',
    purge_function => 'ils.purge_borrower(bigint)', keep_history_column => 'privacy_keep');
SELECT pals_privacy.bind_cards('ils.borrower_cards', 'cardnumber', 'borrowernumber');
SELECT pals_privacy.bind_balance('ils.balances', 'borrowernumber', 'owed');
SELECT pals_privacy.bind_loans('ils.issues', 'borrowernumber', 'itemnumber', '{returndate,lostdate}',
    settled_column => 'paid', sever_with => 'patron:0');
SELECT pals_privacy.bind_loans('ils.reserves', 'borrowernumber', 'itemnumber', '{found,cancellationdate}',
    keep_last_borrower => false, history_mode => 'in_place');
SELECT pals_privacy.bind_private_history('ils.reading_history', 'borrowernumber');
SELECT pals_privacy.bind_contact('ils.borrowers', 'email', 'borrowernumber', 'email');
SELECT pals_privacy.bind_contact('ils.borrowers', 'smsalertnumber', 'borrowernumber', 'sms');
SELECT pals_privacy.bind_outbox('ils.message_queue', 'borrowernumber', 'transport', 'notices');
SELECT pals_privacy.bind_outbox('ils.survey_queue', 'borrowernumber', 'transport', 'reader_survey');
SELECT pals_privacy.retain('ils.statistics', 'datetime', '3 days');
SELECT pals_privacy.retain('ils.message_queue', 'time_queued', '90 days', 'sever');
SQL
pass('binding everything again the same way succeeds in the restored database');
for my $what (qw(bindings triggers))
{
	is($node->safe_psql('ils_restored', $queries{$what}),
		$before{$what}, "identical rebinding after restore changes no $what");
}

my ($ret, $stdout, $stderr) = $node->psql('ils_restored',
	q{SELECT pals_privacy.bind_loans('ils.issues', 'borrowernumber', 'itemnumber', '{returndate}',
	      settled_column => 'paid', sever_with => 'patron:0')});
isnt($ret, 0, 'a conflicting binding fails in the restored database');
like($stderr, qr/"ils\.issues" is already bound with different settings/,
	'... because the restored binding is there');

($ret, $stdout, $stderr) = $node->psql('ils_restored',
	q{SELECT pals_privacy.bind_private_history('ils.issues_2024', 'borrowernumber')});
like($stderr, qr/"ils\.issues_2024" is a partition or child of "ils\.issues", which is already bound as loans/,
	'the restored binding of a partitioned table still covers its partitions');

($ret, $stdout, $stderr) = $node->psql('ils_restored',
	q{SELECT pals_privacy.unbind('ils.borrowers')});
like($stderr, qr/other bindings depend on the patron table "ils\.borrowers"/,
	'the restored patron binding still has its dependents');

# A non-superuser's own session in the restored database (a fresh backend,
# whose registry it loads itself) gets its class.
($ret, $stdout, $stderr) = $node->psql('ils_restored',
	q{SELECT pals_privacy.current_class()}, extra_params => [ '-U', 'clerk' ]);
is($stdout, 'staff', 'restored database: a member of a staff role connecting as itself is staff');
is($stderr, '', '... without an error');

# The registry of the restored database is live: a reclassification there
# applies there, and not in the original.
$node->safe_psql('ils_restored', q{SELECT pals_privacy.classify_role('circ_desk', 'collections')});
is($node->safe_psql('ils_restored', q{SELECT pals_privacy.class_of('clerk')}),
	'collections', 'a reclassification in the restored database applies to its members');
is($node->safe_psql('ils', q{SELECT pals_privacy.class_of('clerk')}),
	'staff', '... and not in the original database');

# Severing works in the restored database: Hopper returns item 100, so
# Lovelace's earlier loan loses its patron (re-pointed to the placeholder).
$node->safe_psql('ils_restored',
	q{UPDATE ils.issues SET returndate = '2024-03-20', paid = '2024-03-20'
	   WHERE itemnumber = 100 AND borrowernumber = 2});
is( $node->safe_psql(
		'ils_restored',
		q{SELECT string_agg(borrowernumber::text, ',' ORDER BY issuedate) FROM ils.issues WHERE itemnumber = 100}),
	'0,2',
	'restored database: a return severs the earlier loan of the item, keeping the last borrower');

done_testing();
