# A purge killed in the middle (kill -9 of its backend): every patron is
# wholly purged or untouched, and the maintenance worker comes back with the
# server's crash restart.  (The worker maintains another database, so that
# its own purge does not race the one this test kills.)

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', <<'CONF');
shared_preload_libraries = 'pals_privacy'
pals_privacy.maintenance_interval = '1h'
pals_privacy.maintenance_databases = 'elsewhere'
pals_privacy.purge_grace = '1d'
restart_after_crash = on
CONF
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE lib');

# 300 expired patrons who owe nothing, two returned loans each (items of
# their own), purged through a slow ILS purge function, ten per batch.
$node->safe_psql('lib', <<'SQL');
CREATE EXTENSION pals_privacy;
CREATE TABLE patrons (id bigint PRIMARY KEY, expires date NOT NULL);
INSERT INTO patrons VALUES (0, 'infinity');
INSERT INTO patrons SELECT g, '2000-01-01' FROM generate_series(1, 300) g;
CREATE TABLE loans (id bigserial PRIMARY KEY, patron_id bigint NOT NULL REFERENCES patrons,
                    item_id bigint NOT NULL, returned timestamptz);
INSERT INTO loans (patron_id, item_id, returned)
SELECT g, g * 10 + k, '2001-01-01' FROM generate_series(1, 300) g, generate_series(1, 2) k;
CREATE FUNCTION slow_purge(p bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_sleep(0.05);
    DELETE FROM patrons WHERE id = p;
END $$;
SELECT pals_privacy.bind_patrons('patrons', 'id', 'expires', purge_function => 'slow_purge(bigint)');
SELECT pals_privacy.bind_loans('loans', 'patron_id', 'item_id', ARRAY['returned'], sever_with => 'patron:0');
SQL

ok( $node->poll_query_until(
        'postgres',
        "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pals_privacy maintenance launcher'"),
    'the maintenance launcher is running');

# Start the purge in the background, let a few batches commit, then kill it.
my ($out, $err) = ('', '');
my $purge = IPC::Run::start(
    [ 'psql', '-X', '-d', $node->connstr('lib'), '-c', 'CALL pals_privacy.purge_expired(batch_size => 10)' ],
    '>', \$out, '2>', \$err);
ok( $node->poll_query_until('lib', 'SELECT count(*) < 290 FROM patrons WHERE id > 0'),
    'some batches of the purge committed');
my $pid = $node->safe_psql('postgres',
    "SELECT pid FROM pg_stat_activity WHERE query LIKE 'CALL pals_privacy.purge_expired%' AND state = 'active'");
ok($pid =~ /^\d+$/, 'the purge is still running');
kill 'KILL', $pid;
$purge->finish;

# The postmaster restarts everything after the crash.
# (Not poll_query_until: it writes the query to psql's stdin, and a psql that
# finds the server still restarting can exit before reading it; the write then
# dies with EPIPE, seen once on 18 with assertions.)
my $back = 0;
foreach (1 .. $PostgreSQL::Test::Utils::timeout_default * 10)
{
    if (eval { $node->safe_psql('lib', 'SELECT 1') eq '1' }) { $back = 1; last; }
    usleep(100_000);
}
ok($back, 'the server is back after the crash');
my $left = $node->safe_psql('lib', 'SELECT count(*) FROM patrons WHERE id > 0');
ok($left > 0 && $left < 300, "the purge stopped half-way ($left patrons left)");

# Wholly purged or untouched: a remaining patron has both loans, identified;
# a purged one has none left pointing to anybody but the placeholder.
is( $node->safe_psql('lib', <<'SQL'),
SELECT count(*) FROM patrons p
 WHERE p.id > 0 AND (SELECT count(*) FROM loans l WHERE l.patron_id = p.id) <> 2
SQL
    '0', 'every remaining patron still has both loans, identified');
is( $node->safe_psql('lib', <<'SQL'),
SELECT count(*) FROM generate_series(1, 300) g
 WHERE NOT EXISTS (SELECT 1 FROM patrons WHERE id = g)
   AND (SELECT count(*) FROM loans l WHERE l.item_id IN (g * 10 + 1, g * 10 + 2) AND l.patron_id = 0) <> 2
SQL
    '0', 'every purged patron had both loans severed');
is($node->safe_psql('lib', 'SELECT count(*) FROM loans'), '600', 'no loan row was lost');

ok( $node->poll_query_until(
        'postgres',
        "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pals_privacy maintenance launcher'"),
    'the maintenance launcher came back after the crash');

# The next run finishes the job.
$node->safe_psql('lib', 'CALL pals_privacy.purge_expired(batch_size => 100)');
is($node->safe_psql('lib', 'SELECT count(*) FROM patrons'), '1',
    'a later purge finishes: only the placeholder is left');

$node->stop;
done_testing();
