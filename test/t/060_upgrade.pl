# Upgrade from the released 0.1.0 (issue 16): install 0.1.0, bind and use it
# (patrons, loans with their last-borrower tracker, a balance, consents, a PIN,
# a legal order, a row whose severing is pending, the audit log), run
# ALTER EXTENSION pals_privacy UPDATE, and check that
#   - nothing was lost: every table of the extension and of the library holds
#     what it held, and the audit chain still verifies;
#   - everything still works: a return severs the tracked last borrower, the
#     pending row is retried, consents, the PIN and legal orders still work,
#     and redaction still applies;
#   - the catalog equals a fresh install of the current version: every member
#     object of the extension, functions with signatures, results, bodies,
#     settings and grants, tables with columns, defaults, constraints, indexes,
#     triggers and grants, views, sequences, policies, and the configuration
#     tables registered for pg_dump.
# The comparison is generic (it lists whatever the extension owns), so it
# keeps working as objects are added to sql/ and the migration in
# sql/updates/0.1.0--0.2.0/ (sql/README.md).
#
# The released 0.1.0 install script is not in the tree (the extension ships
# the current install script and upgrade scripts only): it is taken from git
# history, from the commit that froze it, and put into the extension
# directory of the installation under test (a private copy under `make test`)
# for the length of this test.  Without git history this test fails, saying
# why: an upgrade that was not tested is not a pass.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# The commit of main that froze 0.1.0 (sql/releases/ until the one-object-per-
# file layout, issue 18), and where the repository is: PALS_SOURCE_TREE (set
# by tools/run-tests.sh, whose TAP tests run in a copy without .git), else
# the directory the test runs in.
my $released_commit = '7f9438552b10b7a762ec25f22da87d3b447acebe';
my $released_path = 'sql/releases/pals_privacy--0.1.0.sql';
my $repo = $ENV{PALS_SOURCE_TREE} // '.';
my $script_0_1_0 = `git -c safe.directory='*' -C '$repo' show '$released_commit:$released_path' 2>&1`;
if ($? != 0 || $script_0_1_0 !~ /^-- pals_privacy 0\.1\.0: install script/)
{
    fail("the released 0.1.0 install script is read from git history");
    diag("could not read $released_path at commit $released_commit from the git repository at '$repo'"
      . " (PALS_SOURCE_TREE names a checkout of pals_privacy with its history; a shallow clone or a"
      . " tree without .git lacks it): " . substr($script_0_1_0, 0, 300));
    done_testing();
    exit 1;
}

my $node = PostgreSQL::Test::Cluster->new('upgrade');
my $installed_0_1_0 = $node->config_data('--sharedir') . '/extension/pals_privacy--0.1.0.sql';
unlink $installed_0_1_0;    # one left by an older build is replaced
my $fh;
if (!open($fh, '>', $installed_0_1_0))
{
    fail("the released 0.1.0 install script is put into the installation under test");
    diag("cannot write $installed_0_1_0: $! (the extension directory of the installation under test must be"
      . " writable by the user running the TAP tests; tools/run-tests.sh makes it so in its private copy)");
    done_testing();
    exit 1;
}
print $fh $script_0_1_0;
close($fh);
END { unlink $installed_0_1_0 if defined $installed_0_1_0; }
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pals_privacy'\n");
$node->start;

my $current = $node->safe_psql('postgres',
    "SELECT default_version FROM pg_available_extensions WHERE name = 'pals_privacy'");
isnt($current, '0.1.0', "the current version ($current) is not the released 0.1.0");
is($node->safe_psql('postgres',
        "SELECT string_agg(version, ' ' ORDER BY version) FROM pg_available_extension_versions WHERE name = 'pals_privacy'"),
    "0.1.0 $current", 'both 0.1.0 and the current version are installable');

$node->safe_psql('postgres', 'CREATE DATABASE upgraded');
$node->safe_psql('postgres', 'CREATE DATABASE fresh');

# ---------------------------------------------------------------------------
# 0.1.0, bound and used
# ---------------------------------------------------------------------------
$node->safe_psql('upgraded', <<'SQL');
SET client_min_messages = warning;
CREATE EXTENSION pals_privacy VERSION '0.1.0';
CREATE ROLE regress_up_staff;
CREATE ROLE regress_up_aud;
SELECT pals_privacy.classify_role('regress_up_staff', 'staff');
SELECT pals_privacy.classify_role('regress_up_aud', 'auditor');
CREATE SCHEMA lib;
GRANT USAGE ON SCHEMA lib TO regress_up_staff, regress_up_aud;
CREATE TABLE lib.patrons (id bigint PRIMARY KEY, name text NOT NULL, card text UNIQUE, email text,
                          expires date NOT NULL DEFAULT 'infinity', keep_history boolean NOT NULL DEFAULT false);
INSERT INTO lib.patrons (id, name, card, email) VALUES
    (1, 'Ann Oak', 'C-1', 'ann@example.org'), (2, 'Bob Pine', 'C-2', 'bob@example.org'),
    (3, 'Cy Yew', 'C-3', 'cy@example.org'), (4, 'Di Lime', 'C-4', NULL);
CREATE TABLE lib.loans (id int PRIMARY KEY, patron_id bigint REFERENCES lib.patrons, item_id int NOT NULL,
                        checked_out timestamptz NOT NULL DEFAULT now(), returned timestamptz, paid timestamptz);
CREATE TABLE lib.fines (id int PRIMARY KEY, patron_id bigint NOT NULL, loan_id int REFERENCES lib.loans,
                        amount numeric(8,2) NOT NULL);
-- sever_with 'delete' and a fine referencing the loan: its severing stays pending
CREATE TABLE lib.fk_loans (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL, returned timestamptz,
                           paid timestamptz);
CREATE TABLE lib.fk_fines (id int PRIMARY KEY, loan_id int NOT NULL REFERENCES lib.fk_loans);
CREATE TABLE lib.outbox (id serial PRIMARY KEY, patron_id bigint NOT NULL, channel text NOT NULL, body text);
GRANT SELECT ON ALL TABLES IN SCHEMA lib TO regress_up_staff, regress_up_aud;

SELECT pals_privacy.bind_patrons('lib.patrons', 'id', 'expires', card_column => 'card',
                                 keep_history_column => 'keep_history');
SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', ARRAY['returned'], 'paid');
SELECT pals_privacy.bind_loans('lib.fk_loans', 'patron_id', 'item_id', ARRAY['returned'], 'paid',
                               sever_with => 'delete');
SELECT pals_privacy.bind_balance('lib.fines', 'patron_id', 'amount');
SELECT pals_privacy.bind_contact('lib.patrons', 'email', 'id', 'email');
SELECT pals_privacy.bind_outbox('lib.outbox', 'patron_id', 'channel', 'notices');

-- loans: item 10 returned by 1 then borrowed by 2 (1 severed, 2 the tracked last borrower)
INSERT INTO lib.loans (id, patron_id, item_id) VALUES (1, 1, 10);
UPDATE lib.loans SET returned = now(), paid = now() WHERE id = 1;
INSERT INTO lib.loans (id, patron_id, item_id) VALUES (2, 2, 10);
UPDATE lib.loans SET returned = now(), paid = now() WHERE id = 2;
INSERT INTO lib.loans (id, patron_id, item_id) VALUES (3, 3, 11);         -- open
INSERT INTO lib.fines VALUES (1, 3, 3, 12.50);
-- a pending sever
INSERT INTO lib.fk_loans VALUES (1, 1, 20, now(), now());
INSERT INTO lib.fk_fines VALUES (1, 1);
INSERT INTO lib.fk_loans VALUES (2, 2, 20, NULL, NULL);
UPDATE lib.fk_loans SET returned = now(), paid = now() WHERE id = 2;

SELECT pals_privacy.grant_consent('1', 'notices', 'email');
SELECT pals_privacy.grant_consent('2', 'newsletter', 'email', evidence => 'signed form 2');
SELECT pals_privacy.withdraw_consent('2', 'newsletter', 'email');
SELECT pals_privacy.set_pin('1', '4711');
SELECT pals_privacy.open_legal_order('COURT-1', 'District Court', '3', now() + interval '30 days', 'upgrade test');
SQL

# Everything the upgrade must keep: every row of every table of the library
# and of the extension, as text of the columns the table had under 0.1.0 (an
# upgrade may add columns and rows, not change or remove what was there).
my $queries = $node->safe_psql('upgraded', <<'SQL');
SELECT string_agg(format('SELECT %L || '': '' || ROW(%s)::text FROM %s', c.oid::regclass,
                         (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
                           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
                         c.oid::regclass),
                  ' UNION ALL ' ORDER BY c.oid::regclass::text)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('lib', 'pals_privacy') AND c.relkind IN ('r', 'p')
SQL
my $data_before = $node->safe_psql('upgraded', $queries);
cmp_ok(scalar(split /\n/, $data_before), '>', 20, '0.1.0: the rows to keep are listed');
# verify_audit(): NULL when the chain verifies, else the first bad entry
my $audit_sql = "SELECT count(*) || ' ' || coalesce(pals_privacy.verify_audit()::text, 'verifies')"
  . " FROM pals_privacy.audit_log";
my ($audit_before) = $node->safe_psql('upgraded', $audit_sql) =~ /^(\d+) verifies$/;
cmp_ok($audit_before // 0, '>', 0, '0.1.0: the audit log has entries and verifies');
is($node->safe_psql('upgraded',
        "SELECT count(*) FROM pals_privacy.sever_pending WHERE binding = 'lib.fk_loans'::regclass"),
    '1', '0.1.0: one row is pending severing');
is($node->safe_psql('upgraded', 'SELECT string_agg(coalesce(patron_id::text, \'-\'), \' \' ORDER BY id) FROM lib.loans'),
    '- 2 3', '0.1.0: the earlier borrower of item 10 was severed, the last one kept');

# ---------------------------------------------------------------------------
# The upgrade
# ---------------------------------------------------------------------------
my ($rc, $out, $err) = $node->psql('upgraded', 'ALTER EXTENSION pals_privacy UPDATE');
is($rc, 0, 'ALTER EXTENSION pals_privacy UPDATE succeeds') or diag($err);
is($node->safe_psql('upgraded', "SELECT extversion FROM pg_extension WHERE extname = 'pals_privacy'"),
    $current, "the extension is now at $current");

my $lost = differences($data_before, $node->safe_psql('upgraded', $queries));
$lost = join("\n", grep { /^- / } split /\n/, $lost);
is($lost, '', 'nothing lost: every row of the library and of the extension is still there, unchanged');
like($node->safe_psql('upgraded', $audit_sql), qr/^\d+ verifies$/, 'the audit chain still verifies after the upgrade');

# ---------------------------------------------------------------------------
# Everything still works
# ---------------------------------------------------------------------------
$node->safe_psql('upgraded', <<'SQL');
INSERT INTO lib.loans (id, patron_id, item_id) VALUES (4, 4, 10);
UPDATE lib.loans SET returned = now(), paid = now() WHERE id = 4;
SQL
is($node->safe_psql('upgraded', 'SELECT string_agg(coalesce(patron_id::text, \'-\'), \' \' ORDER BY id) FROM lib.loans'),
    '- - 3 4', 'after the upgrade a return severs the previously tracked last borrower (the tracker row survived)');
$node->safe_psql('upgraded', 'DELETE FROM lib.fk_fines; SELECT pals_privacy._retry_pending()');
is($node->safe_psql('upgraded',
        "SELECT count(*) FROM pals_privacy.sever_pending WHERE binding = 'lib.fk_loans'::regclass")
      . ' ' . $node->safe_psql('upgraded', 'SELECT string_agg(id::text, \' \' ORDER BY id) FROM lib.fk_loans'),
    '0 2', 'the row pending since 0.1.0 is severed by the retry once it can be');
is($node->safe_psql('upgraded',
        "SELECT pals_privacy.has_consent('1', 'notices', 'email')::text || ' '"
      . " || pals_privacy.has_consent('2', 'newsletter', 'email')::text"),
    'true false', 'consents recorded under 0.1.0 still answer');
$node->safe_psql('upgraded', "SELECT pals_privacy.grant_consent('3', 'notices', 'email')");
is($node->safe_psql('upgraded', "SELECT pals_privacy.has_consent('3', 'notices', 'email')"),
    't', 'a consent granted after the upgrade');
($rc, $out, $err) = $node->psql('upgraded', "INSERT INTO lib.outbox (patron_id, channel, body) VALUES (4, 'email', 'x')");
isnt($rc, 0, 'the outbox check still refuses a message without consent');
# every PIN of 0.1.0 was set with set_pin(): after the upgrade it is a
# one-time PIN (issue 13, item 12), which the patron changes, then logs in with
($rc, $out, $err) = $node->psql('upgraded', "SELECT pals_privacy.login('C-1', '4711'); SELECT pals_privacy.pin_change_required();"
    . " SELECT pals_privacy.change_pin('4711', '1174'); SELECT pals_privacy.login('C-1', '1174'); SELECT pals_privacy.session_patron()");
is($rc, 0, 'the PIN set under 0.1.0 still logs in') or diag($err);
like($out, qr/^t\nt\nt\nt\n1$/m, 'as a one-time PIN: changed, then the session patron is the one whose PIN it is');
is($node->safe_psql('upgraded',
        "SELECT pals_privacy.close_legal_order(id) FROM pals_privacy.legal_orders WHERE reference = 'COURT-1';"
      . " SELECT count(*) FROM pals_privacy.legal_orders WHERE closed_at IS NOT NULL"),
    "\n1", 'the legal order opened under 0.1.0 can be closed');
is($node->safe_psql('upgraded',
        'SET ROLE regress_up_aud; SELECT count(*) || \' \' || count(name) || \' \' || count(card) FROM lib.patrons'),
    '4 0 0', 'redaction still applies: an auditor reads the patrons, not their names or cards');
my ($audit_after) = $node->safe_psql('upgraded', $audit_sql) =~ /^(\d+) verifies$/;
cmp_ok($audit_after // 0, '>', $audit_before // 0, 'the audit chain goes on (the legal order\'s closing) and verifies');

# The entries of 0.1.0 keep the content format they were hashed in (1, '|'
# joined), the ones after the upgrade are in format 2 (issue 18): a mixed
# chain, which verify_audit() verifies and in which tampering with an entry
# of either format is found.
is($node->safe_psql('upgraded',
        "SELECT string_agg(content_format || ':' || count, ' ' ORDER BY content_format) FROM"
      . " (SELECT content_format, count(*) FROM pals_privacy.audit_log GROUP BY 1) s"),
    '1:' . ($audit_before // 0) . ' 2:' . (($audit_after // 0) - ($audit_before // 0)),
    'the entries of 0.1.0 are in content format 1, the ones appended since in format 2');
for my $case (['the first entry of 0.1.0', 'min(id)'],
              ['the last entry of 0.1.0', "max(id) FILTER (WHERE content_format = 1)"],
              ['an entry appended after the upgrade', 'max(id)'])
{
    my ($what, $which) = @$case;
    is($node->safe_psql('upgraded', <<"SQL"),
BEGIN;
CREATE TEMP TABLE victim AS SELECT $which AS id FROM pals_privacy.audit_log;
UPDATE pals_privacy.audit_log SET details = coalesce(details, '{}') || '{"edited": true}' WHERE id = (SELECT id FROM victim);
SELECT pals_privacy.verify_audit() = id FROM victim;
ROLLBACK;
SQL
        't', "mixed chain: an edit of $what is found");
}
# An auditor's check outside the database: every entry exported (text
# fields hex-encoded, so the export itself is unambiguous) and its hash
# recomputed here from the formats docs/audit.md gives, with Digest::SHA.
{
    use Digest::SHA qw(sha256);
    my $rows = $node->safe_psql('upgraded', <<'SQL');
SELECT concat_ws(' ', id, (extract(epoch FROM at) * 1000000)::bigint,
                 encode(convert_to(role, 'UTF8'), 'hex'), encode(convert_to(class, 'UTF8'), 'hex'),
                 encode(convert_to(event, 'UTF8'), 'hex'), encode(convert_to(coalesce(details::text, ''), 'UTF8'), 'hex'),
                 coalesce(encode(prev_hash, 'hex'), '-'), encode(hash, 'hex'), content_format)
  FROM pals_privacy.audit_log ORDER BY id
SQL
    my ($checked, @bad, $prev) = (0);
    for my $line (split /\n/, $rows)
    {
        my ($id, $us, $role, $class, $event, $details, $prev_hash, $hash, $format) = split / /, $line;
        $_ = pack('H*', $_) for ($role, $class, $event, $details);
        my $content = $format == 1
          ? join('|', $id, $us, $role, $class, $event, $details)
          : join('', map { length($_) . ":$_," } 2, $id, $us, $role, $class, $event, $details);
        my $link = $prev_hash eq '-' ? '' : pack('H*', $prev_hash);
        push @bad, $id if unpack('H*', sha256($link . $content)) ne $hash
          || (defined $prev && $prev_hash ne $prev);
        $prev = $hash;
        $checked++;
    }
    is("$checked checked, bad: @bad", "$audit_after checked, bad: ",
        'every entry of the mixed chain re-verifies outside the database from the documented formats');
}

# ---------------------------------------------------------------------------
# The catalog equals a fresh install
# ---------------------------------------------------------------------------
$node->safe_psql('fresh', 'SET client_min_messages = warning; CREATE EXTENSION pals_privacy');
my $catalog_sql = <<'SQL';
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'pals_privacy'),
members AS (
    SELECT d.classid, d.objid, d.objsubid FROM pg_depend d, ext
     WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'),
rels AS (
    SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'pals_privacy'),
funcs AS (
    SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'pals_privacy'),
lines AS (
    SELECT 'extension ' || extname || ' schema ' || extnamespace::regnamespace || ' relocatable ' || extrelocatable
      FROM pg_extension WHERE extname = 'pals_privacy'
    UNION ALL
    SELECT 'config dump ' || cfg::regclass || ' where ' || coalesce(cond, '')
      FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS u(cfg, cond) WHERE e.extname = 'pals_privacy'
    UNION ALL
    SELECT 'member ' || pg_describe_object(classid, objid, objsubid) FROM members
    UNION ALL
    SELECT 'schema acl ' || coalesce(nspacl::text, '') FROM pg_namespace WHERE nspname = 'pals_privacy'
    UNION ALL
    SELECT format('function %s returns %s lang %s kind %s secdef %s volatile %s strict %s leakproof %s parallel %s'
                  ' config %s owner %s acl %s body %s',
                  p.oid::regprocedure, pg_get_function_result(p.oid), l.lanname, p.prokind, p.prosecdef,
                  p.provolatile, p.proisstrict, p.proleakproof, p.proparallel, p.proconfig,
                  p.proowner::regrole, p.proacl, md5(p.prosrc || coalesce(p.probin, '')))
         || ' args ' || pg_get_function_arguments(p.oid)
      FROM funcs f JOIN pg_proc p ON p.oid = f.oid JOIN pg_language l ON l.oid = p.prolang
    UNION ALL
    SELECT format('relation %s kind %s owner %s acl %s rls %s force %s options %s persistence %s',
                  c.oid::regclass, c.relkind, c.relowner::regrole, c.relacl, c.relrowsecurity,
                  c.relforcerowsecurity, c.reloptions, c.relpersistence)
      FROM rels r JOIN pg_class c ON c.oid = r.oid
    UNION ALL
    SELECT format('column %s.%s #%s %s notnull %s default %s identity %s generated %s collation %s acl %s',
                  a.attrelid::regclass, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated,
                  CASE WHEN a.attcollation <> 0 THEN a.attcollation::regcollation::text END, a.attacl)
      FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid
      LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
     WHERE a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT format('constraint %s on %s: %s', co.conname, co.conrelid::regclass, pg_get_constraintdef(co.oid))
      FROM rels r JOIN pg_constraint co ON co.conrelid = r.oid
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM rels r JOIN pg_index i ON i.indrelid = r.oid
    UNION ALL
    SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM rels r JOIN pg_trigger t ON t.tgrelid = r.oid
     WHERE NOT t.tgisinternal
    UNION ALL
    SELECT format('view %s: %s', c.oid::regclass, pg_get_viewdef(c.oid))
      FROM rels r JOIN pg_class c ON c.oid = r.oid WHERE c.relkind IN ('v', 'm')
    UNION ALL
    SELECT format('sequence %s %s %s %s %s %s', s.seqrelid::regclass, format_type(s.seqtypid, NULL), s.seqstart,
                  s.seqincrement, s.seqmax, s.seqcycle)
      FROM rels r JOIN pg_sequence s ON s.seqrelid = r.oid
    UNION ALL
    SELECT format('policy %s on %s: %s %s roles %s using %s check %s', pol.polname, pol.polrelid::regclass,
                  pol.polcmd, pol.polpermissive, pol.polroles::regrole[], pg_get_expr(pol.polqual, pol.polrelid),
                  pg_get_expr(pol.polwithcheck, pol.polrelid))
      FROM rels r JOIN pg_policy pol ON pol.polrelid = r.oid
    UNION ALL
    SELECT format('type %s kind %s', t.oid::regtype, t.typtype)
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname = 'pals_privacy' AND t.typtype <> 'b'
    UNION ALL
    SELECT format('event trigger %s on %s: %s enabled %s tags %s', evtname, evtevent, evtfoid::regproc,
                  evtenabled, evttags)
      FROM pg_event_trigger e JOIN members m ON m.classid = 'pg_event_trigger'::regclass AND m.objid = e.oid
)
SELECT string_agg(l, E'\n' ORDER BY l COLLATE "C") FROM lines AS x(l)
SQL
my $cat_upgraded = $node->safe_psql('upgraded', $catalog_sql);
my $cat_fresh = $node->safe_psql('fresh', $catalog_sql);
cmp_ok(scalar(() = $cat_fresh =~ /^function /mg), '>', 50, 'the catalog listing sees the functions');
cmp_ok(scalar(() = $cat_fresh =~ /^column /mg), '>', 50, 'the catalog listing sees the columns');
like($cat_fresh, qr/^config dump pals_privacy\.legal_orders /m, 'the catalog listing sees the pg_dump registrations');
is(differences($cat_fresh, $cat_upgraded), '',
    "the upgraded catalog equals a fresh $current install (functions, tables, columns, grants, pg_dump registrations)");

# The comparison would see a difference: one changed grant.
$node->safe_psql('upgraded',
    'GRANT EXECUTE ON FUNCTION pals_privacy.verify_audit() TO regress_up_staff');
isnt(differences($cat_fresh, $node->safe_psql('upgraded', $catalog_sql)), '',
    'the comparison is not blind: one extra grant is a difference');

$node->stop;
done_testing();

# The lines only in one of two texts, marked - (first) and + (second).
sub differences
{
    my ($first, $second) = @_;
    my (%in1, %in2);
    $in1{$_}++ for split /\n/, $first;
    $in2{$_}++ for split /\n/, $second;
    my @d = ((map { "- $_" } grep { !$in2{$_} } sort keys %in1),
             (map { "+ $_" } grep { !$in1{$_} } sort keys %in2));
    return join("\n", @d);
}
