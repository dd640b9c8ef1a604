
# A pinned tracker entry across pg_dump / pg_restore (issue 14): the desk
# re-opened the last borrower's loan and closed it again back-dated, behind
# the hidden row of a patron who keeps their history in place; the live
# tracker keeps the row the desk closed (pinned, docs/severing.md).  The
# tracker itself is not dumped (it holds TIDs); the pin's key
# (pals_privacy.tracker_pin: the row's primary key, by the relation's name)
# is, and the restore's tracker rebuild (_restore_tracker) takes the pinned
# row by it instead of the dates' choice, which would show the desk the
# hidden row's patron.

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
$node->safe_psql('ils', <<'SQL');
SET client_min_messages = error;
CREATE EXTENSION pals_privacy;
CREATE TABLE patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity', keep boolean NOT NULL DEFAULT false);
INSERT INTO patrons (id, keep) SELECT i, i = 20 FROM generate_series(0, 20) i;
-- item 30: patron 20 (history kept in place) returned it on 2024-02-01, patron 1 on 2024-03-01;
-- item 31: two returns, the later the last borrower (no pin)
CREATE TABLE circs (id int PRIMARY KEY, patron_id bigint, item_id int, returned date);
INSERT INTO circs VALUES (1, 20, 30, '2024-02-01'), (2, 1, 30, '2024-03-01'), (3, 2, 31, '2024-01-01'), (4, 3, 31, '2024-02-01');
-- the same in a table with no key: its pin keeps the file node alone, which a restore loses
CREATE TABLE circs_nokey (id int, patron_id bigint, item_id int, returned date);
INSERT INTO circs_nokey SELECT * FROM circs;
SELECT pals_privacy.bind_patrons('patrons', 'id', 'expires', keep_history_column => 'keep');
SELECT pals_privacy.bind_loans('circs', 'patron_id', 'item_id', '{returned}', history_mode => 'in_place');
SELECT pals_privacy.bind_loans('circs_nokey', 'patron_id', 'item_id', '{returned}', history_mode => 'in_place');
CREATE ROLE regress_desk;
SELECT pals_privacy.classify_role('regress_desk', 'staff');
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO regress_desk;
SET ROLE regress_desk;
UPDATE circs SET returned = NULL WHERE id = 2;
UPDATE circs SET returned = '2024-01-15' WHERE id = 2;
UPDATE circs_nokey SET returned = NULL WHERE id = 2;
UPDATE circs_nokey SET returned = '2024-01-15' WHERE id = 2;
SQL

my $reads = q{SET ROLE regress_desk; SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM %s};
is($node->safe_psql('ils', sprintf($reads, 'circs')), '1:- 2:1 3:- 4:3',
	'the desk closed patron 1\'s loan back-dated: it stays the last borrower, patron 20\'s row hidden');
is($node->safe_psql('ils', q{SELECT relation::text || ' ' || item || ' ' || key::text FROM pals_privacy.tracker_pin}),
	'circs 30 {"id": 2}', 'the pin records its row\'s key (none for the table without a key)');

my $dump = $node->basedir . '/ils.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', 'ils', '-f', $dump ], 'pg_dump -Fc');
$node->safe_psql('postgres', 'CREATE DATABASE ils_restored');
$node->command_ok(
	[ 'pg_restore', '--exit-on-error', '-d', 'ils_restored', $dump ],
	'pg_restore into a new database, without errors');

my $r = 'ils_restored';
is($node->safe_psql($r, q{SELECT relation::text || ' ' || item || ' ' || key::text FROM pals_privacy.tracker_pin}),
	'circs 30 {"id": 2}', 'the pin\'s key is restored, by the relation\'s name');
is($node->safe_psql($r, sprintf($reads, 'circs')), '1:- 2:1 3:- 4:3',
	'restored: the tracker rebuilt by the restore keeps the pinned row; patron 20\'s row stays hidden');
is($node->safe_psql($r, q{SELECT count(*) FROM pals_privacy.last_borrower lb JOIN circs c ON c.ctid = lb.row_tid
                            WHERE lb.binding = 'circs'::regclass AND lb.pinned IS NOT NULL AND c.id = 2}), '1',
	'restored: the entry is pinned again, to the row in its new file');
is($node->safe_psql($r, sprintf($reads, 'circs_nokey')), '1:20 2:- 3:- 4:3',
	'restored, a table without a key: rebuilt by the dates (documented: give it a primary key)');

# a rebuild and a later return in the restored database
$node->safe_psql($r, q{SELECT pals_privacy.rebuild_tracker()});
is($node->safe_psql($r, sprintf($reads, 'circs')), '1:- 2:1 3:- 4:3', 'restored: rebuild_tracker() keeps it too');
$node->safe_psql($r, q{SET ROLE regress_desk; INSERT INTO circs VALUES (5, 4, 30, '2024-01-20')});
is($node->safe_psql($r, sprintf($reads, 'circs') . ' WHERE item_id = 30'), '1:- 2:- 5:4',
	'restored: a later return (dated before patron 20\'s) takes the pin, patron 20\'s row stays hidden');
is($node->safe_psql($r, q{SELECT key::text FROM pals_privacy.tracker_pin}), '{"id": 5}', '... and its key');

$node->stop;
done_testing();
