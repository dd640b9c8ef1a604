
# Attack catalogue (issue 13, class 1): a cluster WITHOUT
# shared_preload_libraries = pals_privacy.  The hooks that redact are installed
# when the library is loaded in a backend; a backend that has not loaded it
# must not read a bound relation unredacted.  The secure behaviour is fail
# closed: a redacted class's statement on a bound relation is refused (the
# relation is unreadable), never answered with the stored values; also for a
# staff role that owns a bound table.  (A staff role with BYPASSRLS:
# 083_no_preload_bypass.pl, on branch attacks-open until it holds.)  Every
# check is against the superuser's ground truth: the hidden (loan, patron)
# pairs of the demo consortium before sever_backlog().

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('nopreload');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE ils');

# the demo consortium, bound exactly as `make demo` binds it (scale 0.01)
my $setup = join("\n",
    "SET client_min_messages = warning;",
    slurp_file('demo/schema.sql'),
    "\\set scale 0.01",
    slurp_file('demo/generate.sql'),
    slurp_file('demo/roles.sql'),
    "CREATE EXTENSION pals_privacy;",
    slurp_file('demo/bind.sql'),
    # a table the ILS created under a role of its own that is classified staff
    # (row security does not bind a table's owner unless forced)
    q{CREATE ROLE desk_owner LOGIN;
      SELECT pals_privacy.classify_role('desk_owner', 'staff');
      GRANT USAGE, CREATE ON SCHEMA demo TO desk_owner;
      CREATE TABLE demo.desk_loans (id bigint PRIMARY KEY, patron_id bigint NOT NULL, item_id bigint NOT NULL,
                                    returned_at timestamptz, fines_settled_at timestamptz);
      INSERT INTO demo.desk_loans SELECT id, patron_id, item_id, returned_at, fines_settled_at FROM demo.loans WHERE item_id <= 3;
      ALTER TABLE demo.desk_loans OWNER TO desk_owner;
      SELECT pals_privacy.bind_loans('demo.desk_loans', 'patron_id', 'item_id', ARRAY['returned_at']::name[],
                                     settled_column => 'fines_settled_at', sever_with => 'patron:0');});
$node->safe_psql('ils', $setup);

# ground truth: loans closed and settled before binding, none tracked as a
# last borrower: every one is hidden from staff
my $hidden = $node->safe_psql('ils', q{
    SELECT string_agg(id || ':' || patron_id, ',' ORDER BY id) FROM demo.loans
     WHERE returned_at IS NOT NULL AND fines_settled_at IS NOT NULL AND patron_id <> 0 AND item_id <= 3});
my %hidden = map { $_ => 1 } split /,/, $hidden;
ok(scalar(keys %hidden) > 10, 'ground truth: items 1-3 have hidden past borrowers');
my $history = $node->safe_psql('ils', 'SELECT count(*) FROM demo.reading_history');
ok($history > 0, 'ground truth: there is private reading history');

# Run one session's statements as a role, in a new backend (the library not
# loaded yet); returns (exit code, stdout, stderr).
sub as_role
{
    my ($role, $sql) = @_;
    my ($out, $err) = ('', '');
    my $ret = $node->psql('ils', $sql, stdout => \$out, stderr => \$err,
                          extra_params => [ '-U', $role ]);
    return ($ret, $out, $err);
}

# hidden id:patron pairs in a psql -At output of "id|patron_id" lines
sub leaked
{
    my ($out) = @_;
    my $n = 0;
    for my $line (split /\n/, $out)
    {
        my ($id, $p) = split /\|/, $line;
        $n++ if defined $p && $p ne '' && $hidden{"$id:$p"};
    }
    return $n;
}

# the attacks: a staff, auditor, collections or patron-class session's FIRST
# statement (nothing of the extension used before it in that backend)
my @reads = (
    [ 'branch_staff', 'staff: SELECT of past borrowers',
      'SELECT id, patron_id FROM demo.loans WHERE item_id <= 3' ],
    [ 'report_user', 'staff (by membership): SELECT of past borrowers',
      'SELECT id, patron_id FROM demo.loans WHERE item_id <= 3' ],
    [ 'consortium_auditor', 'auditor: SELECT of the patrons of loans',
      'SELECT id, patron_id FROM demo.loans WHERE item_id <= 3' ],
    [ 'collections_agency', 'collections: SELECT of the patrons of loans',
      'SELECT id, patron_id FROM demo.loans WHERE item_id <= 3' ],
    [ 'opac', 'patron class before login: SELECT of the loans',
      'SELECT id, patron_id FROM demo.loans WHERE item_id <= 3' ],
    [ 'desk_owner', 'staff owning a bound table: SELECT of its past borrowers',
      'SELECT id, patron_id FROM demo.desk_loans' ],
    [ 'desk_owner', 'staff owning a bound table: COPY table TO STDOUT',
      "COPY demo.desk_loans (id, patron_id) TO STDOUT (DELIMITER '|')" ],
    [ 'branch_staff', 'staff: a cursor',
      "BEGIN; DECLARE c CURSOR FOR SELECT id, patron_id FROM demo.loans WHERE item_id <= 3; FETCH ALL FROM c; COMMIT;" ],
    [ 'branch_staff', 'staff: a prepared statement',
      "PREPARE p AS SELECT id, patron_id FROM demo.loans WHERE item_id <= \$1; EXECUTE p(3);" ],
    [ 'branch_staff', 'staff: COPY (SELECT) TO STDOUT',
      "COPY (SELECT id, patron_id FROM demo.loans WHERE item_id <= 3) TO STDOUT (DELIMITER '|')" ],
    [ 'branch_staff', 'staff: COPY table TO STDOUT (a partition)',
      "COPY demo.loans_2025 (id, patron_id) TO STDOUT (DELIMITER '|')" ],
    [ 'branch_staff', 'staff: write, then read (UPDATE ... RETURNING)',
      'BEGIN; UPDATE demo.loans SET due_at = due_at WHERE item_id <= 3 RETURNING id, patron_id; ROLLBACK;' ],
    [ 'branch_staff', 'staff: a SQL function of the attacker\'s',
      "CREATE FUNCTION pg_temp.f() RETURNS TABLE (id bigint, p bigint) LANGUAGE sql AS
         'SELECT id, patron_id FROM demo.loans WHERE item_id <= 3'; SELECT * FROM pg_temp.f();" ],
);
for my $r (@reads)
{
    my ($role, $what, $sql) = @$r;
    my ($ret, $out, $err) = as_role($role, $sql);
    is(leaked($out), 0, "without preload, $what: no hidden patron");
    isnt($ret, 0, "without preload, $what: refused (the bound relation is unreadable)");
}

# the private history: no row for staff, auditors, collections
for my $role ('branch_staff', 'consortium_auditor', 'collections_agency')
{
    my ($ret, $out, $err) = as_role($role, 'SELECT count(*) FROM demo.reading_history');
    ok($ret != 0 || $out eq '0', "without preload, $role: no private history row");
}

# EXPLAIN ANALYZE counts hidden rows: refused
{
    my ($ret, $out, $err) = as_role('branch_staff',
        'EXPLAIN (ANALYZE, TIMING off, SUMMARY off) SELECT * FROM demo.loans WHERE patron_id = 5');
    isnt($ret, 0, 'without preload, staff: EXPLAIN ANALYZE of the loans is refused');
}

# once the session has used the extension (which loads the library), the
# same statement is redacted or refused, never unredacted
{
    my ($ret, $out, $err) = as_role('branch_staff',
        "SELECT pals_privacy.current_class() \\g /dev/null\nSELECT id, patron_id FROM demo.loans WHERE item_id <= 3");
    is(leaked($out), 0, 'without preload, staff after the library is loaded: no hidden patron');
}

# the superuser still reads every row (exempt), the control of the above
{
    my ($ret, $out, $err) = as_role('postgres', 'SELECT id, patron_id FROM demo.loans WHERE item_id <= 3');
    is($ret, 0, 'without preload, the superuser reads the loans');
    is(leaked($out), scalar(keys %hidden), 'and every hidden pair (the probe is real)');
}

$node->stop;
done_testing();
