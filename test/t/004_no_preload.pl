# Fail closed without preloading: in a server that does not load pals_privacy
# by shared_preload_libraries, a backend has no hooks until the library is
# first loaded, and the statement that loads it was planned without them.
# Bound relations must then be unreadable and unwritable for every role the
# redaction would apply to (and for non-owner operational roles too), never
# readable unredacted.  Superusers and table owners bypass row security, as
# they bypass redaction.  Preloading again restores normal service.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('nopreload');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pals_privacy'\n");
$node->start;
$node->safe_psql('postgres', <<'SQL');
CREATE EXTENSION pals_privacy;
CREATE ROLE staff LOGIN;
CREATE ROLE ils LOGIN;
CREATE TABLE patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO patrons SELECT g FROM generate_series(1, 3) g;
CREATE TABLE loans (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL, returned date);
INSERT INTO loans VALUES (1, 1, 7, '2024-01-01'), (2, 2, 7, '2024-02-01'), (3, 3, 8, NULL);
CREATE TABLE history (id int PRIMARY KEY, patron_id bigint, title text);
INSERT INTO history VALUES (1, 1, 'secret');
GRANT SELECT, INSERT, UPDATE ON patrons, loans, history TO staff, ils;
SELECT pals_privacy.bind_patrons('patrons', 'id', 'expires');
SELECT pals_privacy.bind_loans('loans', 'patron_id', 'item_id', ARRAY['returned'], build_tracker => false);
SELECT pals_privacy.bind_private_history('history', 'patron_id');
SELECT pals_privacy.classify_role('staff', 'staff');
SELECT pals_privacy.classify_role('ils', 'operational');
-- a bound table the ILS created under a role classified staff: its owner
CREATE TABLE desk_loans (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL, returned date);
INSERT INTO desk_loans VALUES (1, 1, 9, '2024-01-01'), (2, 2, 9, '2024-02-01');
ALTER TABLE desk_loans OWNER TO staff;
SELECT pals_privacy.bind_loans('desk_loans', 'patron_id', 'item_id', ARRAY['returned'], build_tracker => false);
SQL

# preloaded: the rules apply
is($node->safe_psql('postgres', 'SET ROLE staff; SELECT count(*), count(patron_id) FROM loans WHERE item_id = 7'),
   '2|0', 'preloaded: staff read the old loans of item 7 masked');
is($node->safe_psql('postgres', 'SET ROLE staff; SELECT count(*), count(patron_id) FROM desk_loans'),
   '2|0', 'preloaded: the staff owner of a bound table reads it masked');

# the same server without preloading
$node->append_conf('postgresql.conf', "shared_preload_libraries = ''\n");
$node->restart;

my @probes = (
    [ 'staff', 'SELECT string_agg(patron_id::text, \',\') FROM loans WHERE item_id = 7', 'a first SELECT' ],
    [ 'staff', 'SELECT title FROM history', 'private history' ],
    [ 'staff', 'COPY (SELECT patron_id FROM loans) TO STDOUT', 'COPY (query) TO' ],
    [ 'staff', 'COPY loans TO STDOUT', 'COPY table TO' ],
    [ 'staff', 'UPDATE loans SET returned = NULL WHERE item_id = 7 RETURNING patron_id', 'UPDATE ... RETURNING' ],
    [ 'staff', 'INSERT INTO history VALUES (2, 2, \'x\')', 'INSERT' ],
    [ 'ils', 'SELECT count(*) FROM loans', 'the operational role (not the owner)' ],
    [ 'staff', 'SELECT string_agg(patron_id::text, \',\') FROM desk_loans', 'the owner of a bound table' ],
);
foreach my $p (@probes)
{
    my ($role, $sql, $what) = @$p;
    # a fresh backend each time: the first statement is the one planned without hooks
    my ($rc, $out, $err) = $node->psql('postgres', "SET ROLE $role; $sql");
    isnt($rc, 0, "not preloaded, $role: $what fails");
    like($err, qr/pals_privacy is not loaded by shared_preload_libraries/, "not preloaded, $role: $what says why");
    unlike($out, qr/(^|,)[12](,|$)|secret/m, "not preloaded, $role: $what returns no hidden value");
}
# the same backend, after the library was loaded by the first refusal
my ($rc, $out, $err) = $node->psql('postgres',
    "SET ROLE staff; SELECT pals_privacy.current_class(); SELECT count(patron_id) FROM loans WHERE item_id = 7");
isnt($rc, 0, 'not preloaded: later statements of a backend that loaded the library are refused too');
is($node->safe_psql('postgres', 'SELECT count(patron_id) FROM loans WHERE item_id = 7'), '2',
   'not preloaded: the superuser still reads (exempt, as documented)');

# preloaded again: service is back
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pals_privacy'\n");
$node->restart;
is($node->safe_psql('postgres', 'SET ROLE staff; SELECT count(*), count(patron_id) FROM loans WHERE item_id = 7'),
   '2|0', 'preloaded again: staff read masked, as before');
is($node->safe_psql('postgres', 'SET ROLE ils; SELECT count(patron_id) FROM loans WHERE item_id = 7'),
   '2', 'preloaded again: the operational role reads everything');

$node->stop;
done_testing();
