
# Derived copies (bind_copy) across pg_dump / pg_restore (issue 14):
#  - the severing triggers of a copy come back from the dump named by the
#    copy's OID in the dumped database; the restore replaces them with the
#    triggers of the copy as bound in the restored one, so a source row
#    deleted or severed there severs its copies (it severed none before:
#    the trigger named no copy), and health() finds every trigger;
#  - the keys of copies severed for good (pals_privacy.copy_tomb: rows the
#    ILS kept from their sever) are restored, by the copy's name: the kept
#    notice stays hidden from staff when a new loan is given the old key,
#    and sever_copies() records it as pending again (sever_pending, which
#    holds TIDs, is not dumped).

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
CREATE TABLE patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO patrons (id) SELECT generate_series(0, 20);
CREATE TABLE circs (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL, done date);
-- a copy bound first, so that the restore gives the second one an OID the first had
CREATE TABLE receipts (circ_id int, patron_id bigint);
CREATE TABLE notices (id serial PRIMARY KEY, circ_id int, patron_id bigint, kind text NOT NULL);
CREATE FUNCTION keep_lost() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF OLD.kind = 'lost' THEN RETURN NULL; END IF; RETURN OLD; END $$;
CREATE TRIGGER keep_lost BEFORE DELETE ON notices FOR EACH ROW EXECUTE FUNCTION keep_lost();
-- item 10: circulations 1 and 2 returned (2 the last borrower), 3 returned of item 11 (its last), 4 open
INSERT INTO circs VALUES (1, 1, 10, '2024-01-01'), (2, 2, 10, '2024-02-01'), (3, 3, 11, '2024-01-03'), (4, 4, 12, NULL);
INSERT INTO receipts VALUES (1, 1), (2, 2), (3, 3), (4, 4);
INSERT INTO notices (circ_id, patron_id, kind) VALUES (1, 1, 'lost'), (3, 3, 'due'), (4, 4, 'due');
SELECT pals_privacy.bind_patrons('patrons', 'id', 'expires');
SELECT pals_privacy.bind_loans('circs', 'patron_id', 'item_id', '{done}');
SELECT pals_privacy.bind_copy('receipts', 'circs', 'circ_id', 'patron_id');
SELECT pals_privacy.bind_copy('notices', 'circs', 'circ_id', 'patron_id', 'delete');
CALL pals_privacy.sever_backlog();
CREATE ROLE regress_desk;
SELECT pals_privacy.classify_role('regress_desk', 'staff');
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO regress_desk;
SQL

is($node->safe_psql('ils', q{SELECT string_agg(circ_id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY circ_id) FROM receipts}),
	'1:- 2:2 3:3 4:4', 'the backlog severed the receipt of circulation 1');
is($node->safe_psql('ils', q{SELECT relation::text || ' ' || key::text FROM pals_privacy.copy_tomb}),
	'notices {1}', 'the notice the ILS kept is severed for good (copy_tomb)');

my $dump = $node->basedir . '/ils.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', 'ils', '-f', $dump ], 'pg_dump -Fc');
$node->safe_psql('postgres', 'CREATE DATABASE ils_restored');
$node->command_ok(
	[ 'pg_restore', '--exit-on-error', '-d', 'ils_restored', $dump ],
	'pg_restore into a new database, without errors');

my $r = 'ils_restored';
isnt($node->safe_psql($r, q{SELECT 'notices'::regclass::oid}), $node->safe_psql('ils', q{SELECT 'notices'::regclass::oid}),
	'the copies have new OIDs');
is($node->safe_psql($r, q{SELECT string_agg(tgname, ' ' ORDER BY tgname) FROM pg_trigger WHERE tgname LIKE 'pals_privacy_copy%'}),
	$node->safe_psql($r, q{SELECT string_agg(n, ' ' ORDER BY n) FROM (VALUES ('receipts'), ('notices')) c(r),
	                         LATERAL (VALUES ('_u'), ('_d'), ('_t')) s(s), LATERAL (SELECT 'pals_privacy_copy_' || c.r::regclass::oid || s.s) x(n)}),
	'the restored copy triggers are named by the copies as bound now, the dumped ones gone');
is($node->safe_psql($r, q{SELECT ok FROM pals_privacy.health() WHERE check_name = 'protections in place'}), 't',
	'health(): every severing trigger of the copies is in place');
is($node->safe_psql($r, q{SELECT relation::text || ' ' || key::text FROM pals_privacy.copy_tomb}),
	'notices {1}', "copy_tomb is restored, by the copy's name");

# a source row severed, and one deleted, in the restored database
$node->safe_psql($r, 'UPDATE circs SET patron_id = NULL WHERE id = 3; DELETE FROM circs WHERE id = 4');
is($node->safe_psql($r, q{SELECT string_agg(circ_id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY circ_id) FROM receipts}),
	'1:- 2:2 3:- 4:-', 'restored: a severed and a deleted circulation sever their receipts');
is($node->safe_psql($r, q{SELECT string_agg(circ_id::text, ' ' ORDER BY circ_id) FROM notices}),
	'1', 'restored: ... and delete their notices (the ILS keeps its lost notice)');

# the kept notice stays hidden when its loan is deleted and a desk account gives a new loan its key
$node->safe_psql($r, q{DELETE FROM circs WHERE id = 1});
$node->safe_psql($r, q{SET ROLE regress_desk; INSERT INTO circs VALUES (1, 19, 30, NULL)});
is($node->safe_psql($r, q{SET ROLE regress_desk; SELECT count(*) FROM notices WHERE circ_id = 1 OR patron_id = 1}), '0',
	'restored: a new loan with the key of a deleted one does not reopen the notice the ILS kept');
is($node->safe_psql($r, q{SELECT patron_id FROM notices WHERE circ_id = 1}), '1', '(the ILS still keeps it)');
is($node->safe_psql($r, q{DELETE FROM pals_privacy.sever_pending; SELECT pals_privacy.sever_copies('notices'); SELECT count(*) FROM pals_privacy.sever_pending_rows}),
	"0\n1", 'restored: sever_copies() records the kept notice as pending, by its recorded key (sever_pending is not dumped)');

$node->stop;
done_testing();
