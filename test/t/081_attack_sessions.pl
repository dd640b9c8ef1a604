
# Attack catalogue (issue 13): attacks that need two sessions or what only a
# client sees, on the demo consortium (scale 0.01, before sever_backlog(), with
# the extension preloaded).  Two staff sessions of the same attacker: one
# holds row locks, the other asks with NOWAIT or lock_timeout whether a
# patron's hidden rows are among the locked ones.  (Asynchronous
# notifications of an ILS trigger: test/t/082_attack_notify.pl.)
# Patron 9001 has only hidden loans (closed and settled before binding);
# 9002 has none: the attacker must not tell them apart.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('sessions');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pals_privacy'");
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE ils');

my $setup = join("\n",
    "SET client_min_messages = warning;",
    slurp_file('demo/schema.sql'),
    "\\set scale 0.01",
    slurp_file('demo/generate.sql'),
    slurp_file('demo/roles.sql'),
    q{
INSERT INTO demo.patrons (id, library_id, name, card_number, expires_on) VALUES
    (9001, 1, 'Alma Attack', '29001000000001', '2030-01-01'),
    (9002, 1, 'Bert Blank', '29002000000002', '2030-01-01');
INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at, returned_at, fines_settled_at)
SELECT 100000 + g, 9001, 1 + g % 3, 1, timestamptz '2025-01-01' + make_interval(hours => g),
       timestamptz '2025-01-02' + make_interval(hours => g), timestamptz '2025-01-01 00:30' + make_interval(hours => g),
       timestamptz '2025-01-01 00:30' + make_interval(hours => g)
  FROM generate_series(1, 6) g;
-- an ILS trigger that announces every changed loan to the circulation desk
-- screens (runs as whoever writes the loan)
CREATE FUNCTION demo.announce_loan() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('loan_events', NEW.id || ':' || NEW.patron_id);
    RETURN NEW;
END $$;
CREATE TRIGGER announce_loan AFTER UPDATE ON demo.loans FOR EACH ROW EXECUTE FUNCTION demo.announce_loan();
},
    "CREATE EXTENSION pals_privacy;",
    slurp_file('demo/bind.sql'),
    q{INSERT INTO demo.patrons (id, library_id, name, card_number, expires_on) VALUES
          (9011, 2, 'Pia One', '29011000000011', '2030-01-01'), (9012, 2, 'Paul Two', '29012000000012', '2030-01-01');
      SET pals_privacy.pin_iterations = 10000;
      SELECT pals_privacy.set_pin('9011', '1111');});
$node->safe_psql('ils', $setup);

my $hidden = $node->safe_psql('ils', q{
    SELECT string_agg(id || ':' || patron_id, ',' ORDER BY id) FROM demo.loans
     WHERE returned_at IS NOT NULL AND fines_settled_at IS NOT NULL AND patron_id <> 0 AND item_id <= 3});
my %hidden = map { $_ => 1 } split /,/, $hidden;
ok($hidden{'100001:9001'}, 'ground truth: 9001 has hidden loans of items 1-3');

# what a second staff session learns about patron $p while a first staff
# session holds locks on every loan of items 1-3
sub locked_probe
{
    my ($role, $p, $probe) = @_;
    my $s1 = $node->background_psql('ils', extra_params => [ '-U', $role ]);
    $s1->query_safe('BEGIN');
    $s1->query_safe('UPDATE demo.loans SET due_at = due_at WHERE item_id <= 3');
    my ($out, $err) = ('', '');
    $node->psql('ils', sprintf($probe, $p), stdout => \$out, stderr => \$err,
                extra_params => [ '-U', $role ], on_error_stop => 0);
    $s1->query_safe('ROLLBACK');
    $s1->quit;
    $err =~ s/\b$p\b/N/g;
    $err =~ s/^.*CONTEXT.*$//mg;
    return "$out|$err";
}

my @probes = (
    [ 'FOR UPDATE NOWAIT of patron N\'s loans',
      'SELECT count(*) FROM (SELECT 1 FROM demo.loans WHERE patron_id = %s FOR UPDATE NOWAIT) s' ],
    [ 'FOR SHARE NOWAIT through a join from the patron',
      'SELECT count(*) FROM (SELECT 1 FROM demo.patrons p JOIN demo.loans l ON l.patron_id = p.id
                             WHERE p.id = %s FOR SHARE OF l NOWAIT) s' ],
    [ 'UPDATE of patron N\'s loans with lock_timeout',
      "SET lock_timeout = '300ms'; UPDATE demo.loans SET due_at = due_at WHERE patron_id = %s" ],
);
for my $pr (@probes)
{
    my ($what, $sql) = @$pr;
    my $control_a = locked_probe('ils_app', 9001, $sql);
    my $control_b = locked_probe('ils_app', 9002, $sql);
    my $a = locked_probe('branch_staff', 9001, $sql);
    my $b = locked_probe('branch_staff', 9002, $sql);
    ok($control_a ne $control_b && $a eq $b, "staff: lock oracle, $what: 9001 and 9002 look the same")
      or diag("control (operational): 9001 '$control_a', 9002 '$control_b'; staff: 9001 '$a', 9002 '$b'");
}

# Serialization failures as an oracle: session 1 (SERIALIZABLE) counts
# patron N's loans through the patron index and writes item 1; session 2
# (SERIALIZABLE) reads item 1 and writes loan 100001, one of 9001's hidden
# loans.  If session 1's index probe fetched 9001's hidden rows, it holds a
# predicate lock on loan 100001 and the two form a cycle: one of them fails.
sub serialization_probe
{
    my ($role, $p) = @_;
    my $s1 = $node->background_psql('ils', extra_params => [ '-U', $role ], on_error_stop => 0);
    my $s2 = $node->background_psql('ils', extra_params => [ '-U', $role ], on_error_stop => 0);
    # (each session runs a statement first: a session's first statement cannot be
    # BEGIN ISOLATION LEVEL ... in a database with the extension, see the status)
    $s1->query('SET enable_seqscan = off; SET enable_bitmapscan = off');
    $s2->query('SELECT 1');
    $s1->query('BEGIN ISOLATION LEVEL SERIALIZABLE');
    $s1->query("SELECT count(due_at) FROM demo.loans WHERE patron_id = $p");
    $s2->query('BEGIN ISOLATION LEVEL SERIALIZABLE');
    $s2->query('SELECT status FROM demo.items WHERE id = 1');
    $s2->query('UPDATE demo.loans SET due_at = due_at WHERE id = 100001');
    $s1->query('UPDATE demo.items SET status = status WHERE id = 1');
    my $c2 = $s2->query('COMMIT');
    my $c1 = $s1->query('COMMIT');
    my ($e1, $e2) = ($s1->{stderr} // '', $s2->{stderr} // '');
    $s1->quit;
    $s2->quit;
    my $failed = (($e1 . $e2) =~ /could not serialize/) ? 'serialization failure' : 'both committed';
    return $failed;
}
{
    my $ca = serialization_probe('ils_app', 9001);
    my $cb = serialization_probe('ils_app', 9002);
    my $a = serialization_probe('branch_staff', 9001);
    my $b = serialization_probe('branch_staff', 9002);
    ok($ca ne $cb && $a eq $b, 'staff: serialization failure oracle (SSI predicate locks of an index probe on patron_id)')
      or diag("control (operational): 9001 '$ca', 9002 '$cb'; staff: 9001 '$a', 9002 '$b'");
    note("serialization oracle: control 9001 '$ca', 9002 '$cb'; staff 9001 '$a', 9002 '$b'");
}

# COPY FROM by a logged-in patron (9011): rows for another patron (9012)
# must not be stored; COPY is not planned like INSERT, so it is tried apart
{
    my $before = $node->safe_psql('ils', 'SELECT count(*) FROM demo.holds WHERE patron_id = 9012');
    my ($out, $err) = ('', '');
    $node->psql('ils', "SELECT pals_privacy.login('29011000000011', '1111');\n"
                . "COPY demo.holds (patron_id, title_id, pickup_library_id, placed_at) FROM STDIN;\n"
                . "9012\t1\t1\t2026-10-01 00:00:00+00\n\\.\n",
                stdout => \$out, stderr => \$err, extra_params => [ '-U', 'opac' ], on_error_stop => 0);
    my $after = $node->safe_psql('ils', 'SELECT count(*) FROM demo.holds WHERE patron_id = 9012');
    is($after, $before, 'patron class: COPY FROM stores no hold for another patron');
    my ($out2, $err2) = ('', '');
    $node->psql('ils', "COPY demo.holds (patron_id, title_id, pickup_library_id, placed_at) FROM STDIN;\n"
                . "9012\t1\t1\t2026-10-01 00:00:00+00\n\\.\n",
                stdout => \$out2, stderr => \$err2, extra_params => [ '-U', 'ils_app' ], on_error_stop => 0);
    my $control = $node->safe_psql('ils', 'SELECT count(*) FROM demo.holds WHERE patron_id = 9012');
    is($control, $before + 1, 'control: the operational role\'s COPY FROM stores the hold');
}

$node->stop;
done_testing();
