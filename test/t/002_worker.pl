# The maintenance background worker (issue 5): loaded through
# shared_preload_libraries, it runs run_maintenance() every
# pals_privacy.maintenance_interval in each database listed in
# pals_privacy.maintenance_databases that has the extension.  A database
# listed without the extension is reported in the log (once) and skipped;
# maintenance_now() wakes the worker; a listed database can still be
# dropped; a hot standby runs no worker and still serves reads, and runs
# maintenance once promoted.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $started = time();

my $node = PostgreSQL::Test::Cluster->new('primary');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', <<'CONF');
shared_preload_libraries = 'pals_privacy'
pals_privacy.maintenance_interval = '10s'
pals_privacy.maintenance_databases = 'lib, nolib'
pals_privacy.purge_grace = '30d'
CONF
$node->start;

# Both databases are created after the server (and the worker) started: the
# worker must pick them up on a later round, not give up on them.
$node->safe_psql('postgres', 'CREATE DATABASE lib');
$node->safe_psql('postgres', 'CREATE DATABASE nolib');
$node->safe_psql('lib', <<'SQL');
CREATE EXTENSION pals_privacy;
CREATE SCHEMA lib;
CREATE TABLE lib.patrons (id bigint PRIMARY KEY, name text NOT NULL, expires date NOT NULL);
INSERT INTO lib.patrons VALUES
    (1, 'Expired Long Ago', '2000-01-01'),
    (2, 'Current Cardholder', 'infinity'),
    (3, 'Expired Yesterday', current_date - 1);
CREATE TABLE lib.loans (id int PRIMARY KEY, patron_id bigint REFERENCES lib.patrons, item_id int NOT NULL,
                        returned timestamptz);
INSERT INTO lib.loans VALUES (1, 1, 100, '2001-01-01'), (2, 2, 200, NULL);
CREATE TABLE lib.receipts (id int PRIMARY KEY, printed_at timestamptz NOT NULL);
INSERT INTO lib.receipts VALUES (1, now() - interval '40 days'), (2, now());
SELECT pals_privacy.bind_patrons('lib.patrons', 'id', 'expires');
SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', ARRAY['returned']);
SELECT pals_privacy.retain('lib.receipts', 'printed_at', '30 days', 'delete');
SQL

# Wake the worker so the test does not wait a whole interval for the databases.
is($node->safe_psql('lib', 'SELECT pals_privacy.maintenance_now()'), 't',
    'maintenance_now() wakes the running worker');

ok( $node->poll_query_until(
        'lib',
        "SELECT EXISTS (SELECT 1 FROM pals_privacy.maintenance_runs WHERE kind = 'maintenance' AND finished_at IS NOT NULL)
            AND NOT EXISTS (SELECT 1 FROM lib.patrons WHERE id = 1)"),
    'the worker ran maintenance in the listed database: the expired patron is purged');
is($node->safe_psql('lib', "SELECT string_agg(id::text, ' ' ORDER BY id) FROM lib.patrons"),
    '2 3', 'only the patron expired past the grace period was purged');
is($node->safe_psql('lib', "SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM lib.loans"),
    '1:- 2:2', "the purged patron's history was severed");
is($node->safe_psql('lib', "SELECT string_agg(id::text, ' ' ORDER BY id) FROM lib.receipts"),
    '2', 'retention was applied by the worker');
is( $node->safe_psql(
        'lib',
        "SELECT count(*) FROM pals_privacy.maintenance_runs WHERE kind = 'maintenance' AND (error IS NOT NULL OR finished_at IS NULL)"),
    '0', 'the maintenance run recorded no error');

# maintenance_now() gives a new run well before the 10 s interval is up:
# wait for the current round to be over, then ask for another.
my $runs = $node->safe_psql('lib', "SELECT count(*) FROM pals_privacy.maintenance_runs WHERE kind = 'maintenance'");
is($node->safe_psql('lib', 'SELECT pals_privacy.maintenance_now()'), 't', 'maintenance_now() returns true');
ok( $node->poll_query_until(
        'lib', "SELECT count(*) > $runs FROM pals_privacy.maintenance_runs WHERE kind = 'maintenance'"),
    'a maintenance run follows maintenance_now()');

my $log = slurp_file($node->logfile);
ok($log =~ /pals_privacy.*(launcher|worker)/i, 'the log says the maintenance worker started');
# on a fresh cluster (no relcache init file yet: also the case after crash
# recovery) the launcher must not die looking databases up
my @fatal = ($log =~ /^.*(?:FATAL|ERROR):.*$/mg);
ok(!@fatal, 'no FATAL or ERROR in the log (the launcher did not fail at start)') or diag(join("\n", @fatal));
my @exits = ($log =~ /^.*background worker "pals_privacy[^"]*" \(PID \d+\) exited with exit code.*$/mg);
ok(!@exits, 'the launcher has not exited') or diag(join("\n", @exits));
ok($log =~ /pals_privacy.*"nolib"/, 'the log mentions the listed database without the extension');
# nothing was done in nolib, and the server is fine
is($node->safe_psql('nolib', "SELECT count(*) FROM pg_extension WHERE extname = 'pals_privacy'"), '0',
    'the worker did not install anything in a database without the extension');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server keeps running');
my @nolib_lines = ($log =~ /^.*not installed.*nolib.*$/mg);
ok(@nolib_lines <= 1, 'the missing extension is reported at most once, not every round')
  or diag(join("\n", @nolib_lines));

# The launcher is stopped (as by a crash of its own): maintenance_now() says
# so; the postmaster restarts it and maintenance goes on.
my $lpid = $node->safe_psql('postgres',
    "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pals_privacy maintenance launcher'");
ok($lpid =~ /^\d+$/, 'the launcher shows in pg_stat_activity') or diag("got '$lpid'");
$node->safe_psql('postgres', "SELECT pg_terminate_backend($lpid)");
ok($node->poll_query_until('postgres', "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $lpid)"),
    'the launcher is gone after pg_terminate_backend');
is($node->safe_psql('lib', 'SELECT pals_privacy.maintenance_now()'), 'f',
    'maintenance_now() is false while the launcher is not running');
ok( $node->poll_query_until(
        'postgres',
        "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pals_privacy maintenance launcher' AND pid <> $lpid)"),
    'the launcher is restarted');
$runs = $node->safe_psql('lib', "SELECT count(*) FROM pals_privacy.maintenance_runs WHERE kind = 'maintenance'");
is($node->safe_psql('lib', 'SELECT pals_privacy.maintenance_now()'), 't', 'maintenance_now() is true again');
ok( $node->poll_query_until(
        'lib', "SELECT count(*) > $runs FROM pals_privacy.maintenance_runs WHERE kind = 'maintenance'"),
    'the restarted launcher runs maintenance');

# A round that fails in the worker (issue 15): the real error text is in
# maintenance_runs (the run is finished, so also in the audit log) and in
# worker_status(), and the next round still comes.
my $last = $node->safe_psql('lib', "SELECT max(id) FROM pals_privacy.maintenance_runs");
$node->safe_psql('lib', <<'SQL');
CREATE VIEW lib.bad_balances AS SELECT id AS patron_id, (1 / (id - id))::numeric AS owed FROM lib.patrons;
SELECT pals_privacy.bind_balance('lib.bad_balances', 'patron_id', 'owed');
INSERT INTO lib.patrons VALUES (5, 'Expired, Balance Unreadable', '2000-01-01');
SQL
is($node->safe_psql('lib', 'SELECT pals_privacy.maintenance_now()'), 't', 'maintenance_now() for a round that will fail');
ok( $node->poll_query_until(
        'lib',
        "SELECT EXISTS (SELECT FROM pals_privacy.maintenance_runs WHERE kind = 'maintenance' AND id > $last AND error IS NOT NULL)"),
    'a round fails');
# (a round already under way when the view was bound may have finished first)
my $failed = $node->safe_psql('lib',
    "SELECT min(id) FROM pals_privacy.maintenance_runs WHERE kind = 'maintenance' AND id > $last AND error IS NOT NULL");
is( $node->safe_psql(
        'lib', "SELECT error || ' | ' || (finished_at IS NOT NULL) FROM pals_privacy.maintenance_runs WHERE id = $failed"),
    '22012: division by zero | true',
    'maintenance_runs has the real error text of the failed round, which is finished');
is( $node->safe_psql(
        'lib', "SELECT error FROM pals_privacy.maintenance_runs WHERE kind = 'purge' AND id > $failed ORDER BY id LIMIT 1"),
    '22012: division by zero',
    '... and so has the purge run it failed in');
# under load the 10 s interval can bring a second failing round before the
# checks below: each failed round is audited and counted, however many
my $failed_rounds = "(SELECT count(*) FROM pals_privacy.maintenance_runs WHERE kind = 'maintenance' AND id > $last AND error = '22012: division by zero')";
is( $node->safe_psql(
        'lib', qq{SELECT count(*) = $failed_rounds AND count(*) >= 1 FROM pals_privacy.audit_log
                   WHERE event = 'maintenance.maintenance' AND details ->> 'error' = '22012: division by zero'}),
    't', '... and the audit log, once per failed round');
ok( $node->poll_query_until(
        'lib', q{SELECT outcome || ' | ' || last_error FROM pals_privacy.worker_status() WHERE database = 'lib'},
        'failed | 22012: division by zero'),
    'worker_status(): the failed round and its error');
is( $node->safe_psql(
        'lib', qq{SELECT next_run > last_start AND launcher = 'running' AND runs > 1 AND failures >= 1
                          AND failures <= $failed_rounds
                   FROM pals_privacy.worker_status() WHERE database = 'lib'}),
    't', 'worker_status(): the launcher runs, the next round is planned');
is($node->safe_psql('lib', q{SELECT outcome FROM pals_privacy.worker_status() WHERE database = 'nolib'}),
    'extension not installed', 'worker_status(): a listed database without the extension');
is( $node->safe_psql(
        'lib', q{SELECT ok FROM pals_privacy.health() WHERE check_name = 'maintenance worker'}),
    'f', q{health(): the worker's last round failed});
$node->safe_psql('lib', q{SELECT pals_privacy.unbind('lib.bad_balances')});
$last = $node->safe_psql('lib', "SELECT max(id) FROM pals_privacy.maintenance_runs");
$node->safe_psql('lib', 'SELECT pals_privacy.maintenance_now()');
ok( $node->poll_query_until(
        'lib',
        "SELECT EXISTS (SELECT FROM pals_privacy.maintenance_runs WHERE kind = 'maintenance' AND id > $last AND finished_at IS NOT NULL AND error IS NULL)"),
    'the binding fixed, the next round succeeds');
ok( $node->poll_query_until(
        'lib', q{SELECT outcome FROM pals_privacy.worker_status() WHERE database = 'lib'}, 'done'),
    'worker_status(): done again');

# a listed database can be dropped (the worker does not stay connected)
my ($ret, $stdout, $stderr);
for my $try (1 .. 5)
{
    ($ret, $stdout, $stderr) = $node->psql('postgres', 'DROP DATABASE nolib');
    last if $ret == 0;
    sleep 1;
}
is($ret, 0, 'a listed database can be dropped') or diag($stderr);

# A hot standby: no worker of ours runs there (it is in recovery), reads work
# and are redacted; promoted, the same server runs maintenance.  The primary
# stops its maintenance first (by reload), so that the expired patron planted
# for the standby is purged only by the promoted standby; the standby keeps
# the database listed.
$node->append_conf('postgresql.conf', "pals_privacy.maintenance_databases = ''");
$node->reload;
# let any round already under way finish
ok( $node->poll_query_until(
        'lib',
        "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type LIKE 'pals_privacy%' AND datname = 'lib')"),
    'the primary has no maintenance round under way');
$node->safe_psql('lib', "INSERT INTO lib.patrons VALUES (4, 'Expired For The Standby', '2000-01-01')");
# For redaction on the standby: two closed loans from before the extension
# (triggers off, as if the backlog were never severed), a staff role and a
# patron-class role.
$node->safe_psql('lib', <<'SQL');
ALTER TABLE lib.loans DISABLE TRIGGER USER;
INSERT INTO lib.loans VALUES (30, 2, 400, '2020-01-01'), (31, 4, 400, '2021-01-01');
ALTER TABLE lib.loans ENABLE TRIGGER USER;
CREATE ROLE lib_staff;
CREATE ROLE lib_opac;
SELECT pals_privacy.classify_role('lib_staff', 'staff'), pals_privacy.classify_role('lib_opac', 'patron');
GRANT USAGE ON SCHEMA lib TO lib_staff, lib_opac;
GRANT SELECT ON ALL TABLES IN SCHEMA lib TO lib_staff, lib_opac;
SQL
my $last_run = $node->safe_psql('lib', 'SELECT coalesce(max(id), 0) FROM pals_privacy.maintenance_runs');
$node->backup('bk');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'bk', has_streaming => 1);
$standby->append_conf('postgresql.conf', <<'CONF');
pals_privacy.maintenance_databases = 'lib'
pals_privacy.maintenance_interval = '10s'
CONF
$standby->start;
$node->wait_for_catchup($standby);

is($standby->safe_psql('lib', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');
# The launcher starts only once recovery is finished (BgWorkerStart_
# RecoveryFinished).  A worker allowed to start earlier would be started by
# the postmaster in the same step that lets the first read-only connection in,
# so it would be running by now.  (Counting the standby's maintenance_runs
# would prove nothing: a standby cannot write a run even if it tried.)
is( $standby->safe_psql(
        'lib', "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'pals_privacy%'"),
    '0', 'no pals_privacy worker runs on the standby');
is($standby->safe_psql('lib', 'SELECT pals_privacy.maintenance_now()'), 'f',
    'maintenance_now() on the standby: no worker to wake');
is($standby->safe_psql('lib', 'SELECT count(*) FROM lib.patrons WHERE id = 4'), '1',
    'the standby serves reads; the expired patron is still there (nothing purged)');
my $who = "SELECT string_agg(coalesce(patron_id::text, '-'), ',' ORDER BY id) FROM lib.loans WHERE id IN (2, 30, 31)";
is($standby->safe_psql('lib', $who), '2,2,4', 'the standby has the identified history (superuser)');
is($standby->safe_psql('lib', "SET ROLE lib_staff; $who"), '2,-,-',
    'staff on the standby: the open loan shows its patron, closed history does not');
is($standby->safe_psql('lib', 'SET ROLE lib_staff; SELECT count(*) FROM lib.loans WHERE patron_id = 4'), '0',
    'staff on the standby: a filter on the hidden patron matches nothing');
is($standby->safe_psql('lib', 'SET ROLE lib_opac; SELECT count(*) FROM lib.loans'), '0',
    'a patron-class role on the standby sees no loan before login');
my $slog = slurp_file($standby->logfile);
my @serr = ($slog =~ /^.*(?:ERROR:.*pals_privacy|pals_privacy.*ERROR|read-only transaction).*$/mg);
ok(!@serr, 'no pals_privacy error in the standby log') or diag(join("\n", @serr));
ok($slog !~ /maintenance launcher started/, 'the standby log shows no launcher start');

# Promoted, the same server with the same settings does run maintenance: the
# checks above fail if the launcher ran on the standby, not for want of
# configuration.  The expired patron 4 is purged on the new primary.
$standby->promote;
ok( $standby->poll_query_until(
        'lib',
        "SELECT NOT pg_is_in_recovery()
            AND EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pals_privacy maintenance launcher')"),
    'once promoted, the launcher starts');
ok( $standby->poll_query_until(
        'lib', "SELECT EXISTS (SELECT 1 FROM pals_privacy.maintenance_runs WHERE kind = 'maintenance' AND id > $last_run AND finished_at IS NOT NULL)"),
    'and records a finished maintenance run');
is($standby->safe_psql('lib', 'SELECT count(*) FROM lib.patrons WHERE id = 4'), '0',
    'the expired patron is purged by the promoted server');
is($standby->safe_psql('lib', "SELECT count(*) FROM pals_privacy.maintenance_runs WHERE id > $last_run AND error IS NOT NULL"),
    '0', 'with no error');

$standby->stop;
$node->stop;
diag(sprintf('002_worker took %.1f s', time() - $started));
done_testing();
