# The compliance report (issue 19, item 1), rendered in a real browser.
#
# The sample consortium (small scale) is bound and its backlog severed; then
# a few findings are planted with superuser rights so that the report has
# something to show (a row nobody severed, a pending sever, a sign-up past
# its retention, an expired patron left behind).  A consortium auditor asks
# for compliance_report_html(); Debian's chromium renders it headless to a PNG
# and dumps the DOM it built.  The test checks that
#   - the page is self-contained (no script, no link, no external resource)
#     and the browser logged no console error while rendering it (a planted
#     bad page proves that such errors are caught);
#   - the PNG is a real rendering (dimensions, and far more than a blank page);
#   - every number the page carries (data-section/relation/measure) equals
#     the catalog's own count, computed here with plain SQL, and equals the
#     row of compliance_report() it names;
#   - no patron's card number or name is in the page.
# There is no skip: without chromium the test fails.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $chromium;
for my $c ('/usr/bin/chromium', '/usr/bin/chromium-browser')
{
	$chromium = $c if -x $c;
	last if $chromium;
}
BAIL_OUT('chromium is not installed: install Debian\'s chromium package (make test does it)')
  unless $chromium;

my $node = PostgreSQL::Test::Cluster->new('report');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pals_privacy'\n");
$node->start;

sub psql_file
{
	my ($file, @vars) = @_;
	my ($out, $err);
	my $ok = IPC::Run::run(
		[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', (map { ('-v', $_) } @vars),
		  '-d', $node->connstr('postgres'), '-f', $file ],
		'>', \$out, '2>', \$err);
	die "psql -f $file failed: $err" unless $ok;
}

$ENV{PGOPTIONS} = '-c client_min_messages=warning';
psql_file('demo/schema.sql');
psql_file('demo/generate.sql', 'scale=0.02');
psql_file('demo/roles.sql');
$node->safe_psql('postgres', 'CREATE EXTENSION pals_privacy');
psql_file('demo/bind.sql');
delete $ENV{PGOPTIONS};
$node->safe_psql('postgres', <<'SQL');
SET client_min_messages = warning;
CALL pals_privacy.sever_backlog(batch_size => 5000);
CALL pals_privacy.purge_expired();
CALL pals_privacy.apply_retention();
SQL

# Findings.  Triggers are off for the two loan rows (replica role), as if a
# restore or a bug had left them identified.
$node->safe_psql('postgres', <<'SQL');
SET session_replication_role = replica;
-- a severed, settled loan gets a patron back: never severed
UPDATE demo.loans SET patron_id = (SELECT min(id) FROM demo.patrons WHERE id > 0)
 WHERE (id, checked_out_at) = (SELECT id, checked_out_at FROM demo.loans
                                WHERE patron_id = 0 AND fines_settled_at IS NOT NULL ORDER BY id LIMIT 1);
-- another one, and its sever recorded as pending
UPDATE demo.loans SET patron_id = (SELECT max(id) FROM demo.patrons)
 WHERE (id, checked_out_at) = (SELECT id, checked_out_at FROM demo.loans
                                WHERE patron_id = 0 AND fines_settled_at IS NOT NULL ORDER BY id LIMIT 1);
RESET session_replication_role;
INSERT INTO pals_privacy.sever_pending (binding, row_relid, row_tid, item, reason)
SELECT 'demo.loans'::regclass, l.tableoid, l.ctid, l.item_id, 'row locked by another transaction 4711'
  FROM demo.loans l WHERE l.patron_id = (SELECT max(id) FROM demo.patrons) AND l.fines_settled_at IS NOT NULL
   AND NOT EXISTS (SELECT FROM pals_privacy.last_borrower t WHERE t.row_relid = l.tableoid AND t.row_tid = l.ctid)
 ORDER BY l.id LIMIT 1;
-- a sign-up past its 3 days, an expired patron who owes and holds nothing
INSERT INTO demo.internet_signups (patron_id, library_id, workstation, signed_up_at)
VALUES ((SELECT min(id) FROM demo.patrons WHERE id > 0), 1, 'WS-1', now() - interval '5 days');
UPDATE demo.patrons SET expires_on = current_date - 400
 WHERE id = (SELECT p.id FROM demo.patrons p WHERE p.id > 0 AND p.expires_on > current_date
                AND NOT EXISTS (SELECT FROM demo.loans l WHERE l.patron_id = p.id AND l.returned_at IS NULL)
                AND NOT EXISTS (SELECT FROM demo.holds h WHERE h.patron_id = p.id
                                   AND h.fulfilled_at IS NULL AND h.cancelled_at IS NULL)
                AND NOT EXISTS (SELECT FROM demo.fines f WHERE f.patron_id = p.id)
              ORDER BY p.id LIMIT 1);
SQL
$node->safe_psql('postgres', "SELECT pals_privacy.acknowledge_policy('2026')",
	extra_params => [ '-U', 'branch_staff' ]);

# Only auditors (and superusers) get the report.
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT pals_privacy.compliance_report_html()',
	extra_params => [ '-U', 'branch_staff' ]);
like($err, qr/permission denied for compliance_report_html/, 'staff are refused the HTML report');

my $html = $node->safe_psql('postgres', 'SELECT pals_privacy.compliance_report_html()',
	extra_params => [ '-U', 'consortium_auditor' ]);
my $tmp = PostgreSQL::Test::Utils::tempdir();
my $page = "$tmp/report.html";
open(my $fh, '>', $page) or die; print $fh $html; close($fh);

# Self-contained: nothing to fetch, nothing to run.
unlike($html, qr/<script|<link|<iframe|<object|<embed|<img|\bsrc\s*=|\bhref\s*=|url\(|\@import/i,
	'no script, link or external resource in the page');
like($html, qr/^<!DOCTYPE html>/, 'an HTML document');
is(scalar(() = $html =~ /<svg /g), 3, 'three inline SVG charts');

# Render with chromium, headless, in a fresh profile; console errors (an SVG
# attribute the browser cannot use, ...) are logged to stderr at log level 0.
sub render
{
	my ($file, $png) = @_;
	my $profile = PostgreSQL::Test::Utils::tempdir();
	my @cmd = ($chromium, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
		'--no-first-run', '--disable-background-networking', '--disable-component-update',
		'--disable-sync', "--user-data-dir=$profile", '--enable-logging=stderr', '--log-level=0',
		'--hide-scrollbars', '--window-size=1100,1500');
	local $ENV{HOME} = $profile;
	my ($dom, $log1, $o2, $log2) = ('', '', '', '');
	IPC::Run::run([ @cmd, "--screenshot=$png", "file://$file" ], '>', \$o2, '2>', \$log1,
		IPC::Run::timeout(180)) or die "chromium --screenshot failed: $log1";
	IPC::Run::run([ @cmd, '--dump-dom', "file://$file" ], '>', \$dom, '2>', \$log2,
		IPC::Run::timeout(180)) or die "chromium --dump-dom failed: $log2";
	my @errors = grep { /CONSOLE|Uncaught|Failed to load/ } split /\n/, $log1 . $log2;
	return ($dom, \@errors);
}

sub png_size
{
	my ($png) = @_;
	open(my $f, '<:raw', $png) or return (0, 0, 0);
	read($f, my $head, 24);
	close($f);
	return (0, 0, 0) unless substr($head, 0, 8) eq "\x89PNG\r\n\x1a\n";
	my ($w, $h) = unpack('NN', substr($head, 16, 8));
	return ($w, $h, -s $png);
}

# The error check is real: a page with a broken SVG attribute is caught.
my $bad = "$tmp/bad.html";
open($fh, '>', $bad) or die;
print $fh '<!DOCTYPE html><html><body><svg width="50" height="50"><rect width="-5" height="9"/></svg></body></html>';
close($fh);
my (undef, $bad_errors) = render($bad, "$tmp/bad.png");
ok(scalar(@$bad_errors) > 0, 'the console check catches a broken SVG attribute in a planted page');
my $blank = "$tmp/blank.html";
open($fh, '>', $blank) or die; print $fh '<!DOCTYPE html><html><body></body></html>'; close($fh);
render($blank, "$tmp/blank.png");

my ($dom, $errors) = render($page, "$tmp/report.png");
is_deeply($errors, [], 'chromium rendered the report without a console error');
my ($w, $h, $bytes) = png_size("$tmp/report.png");
is("${w}x$h", '1100x1500', 'the PNG has the window size');
my (undef, undef, $blank_bytes) = png_size("$tmp/blank.png");
ok($bytes > 10 * $blank_bytes && $bytes > 50000,
	"the PNG is a real rendering ($bytes bytes; a blank page is $blank_bytes)");
like($dom, qr/pals_privacy compliance report/, 'the browser built the page\'s DOM');

# Every number in the DOM, by the report row it names.
my %shown;
while ($dom =~ /data-section="([^"]*)" data-relation="([^"]*)" data-measure="([^"]*)"[^>]*>([^<]*)</g)
{
	push @{ $shown{"$1|$2|$3"} }, $4;
}
ok(scalar(keys %shown) >= 50, scalar(keys %shown) . ' numbers tagged in the rendered page');

# ... equal the rows of compliance_report() they name
my %row;
for my $line (split /\n/,
	$node->safe_psql('postgres',
		"SELECT section || '|' || coalesce(relation, '') || '|' || measure || '|' || coalesce(value::text, '–')
		   FROM pals_privacy.compliance_report()"))
{
	my ($s, $r, $m, $v) = split /\|/, $line, 4;
	$row{"$s|$r|$m"} = $v;
}
my @mismatch;
for my $k (sort keys %shown)
{
	next if $k =~ /^(summary|audit\|\|head_hash)/;
	for my $v (@{ $shown{$k} })
	{
		push @mismatch, "$k: page $v, report " . ($row{$k} // 'none') unless defined $row{$k} && $row{$k} eq $v;
	}
}
is_deeply(\@mismatch, [], 'every number in the page is the compliance_report() row it names');

# ... and equal the catalog, counted here with plain SQL
my %catalog = (
	'identified_closed|demo.loans|identified_closed' =>
	  "SELECT count(*) FROM demo.loans WHERE returned_at IS NOT NULL AND patron_id <> 0",
	'identified_closed|demo.loans|last_borrower' =>
	  "SELECT count(*) FROM demo.loans l JOIN pals_privacy.last_borrower t
	      ON t.binding = 'demo.loans'::regclass AND t.row_relid = l.tableoid AND t.row_tid = l.ctid
	    WHERE l.returned_at IS NOT NULL AND l.patron_id <> 0",
	'identified_closed|demo.loans|unsettled' =>
	  "SELECT count(*) FROM demo.loans l WHERE l.returned_at IS NOT NULL AND l.patron_id <> 0
	      AND l.fines_settled_at IS NULL
	      AND NOT EXISTS (SELECT FROM pals_privacy.last_borrower t WHERE t.row_relid = l.tableoid AND t.row_tid = l.ctid)",
	'identified_closed|demo.loans|pending' =>
	  "SELECT count(*) FROM pals_privacy.sever_pending WHERE binding = 'demo.loans'::regclass",
	'identified_closed|demo.loans|should_be_gone' =>
	  "SELECT count(*) FROM demo.loans l WHERE l.returned_at IS NOT NULL AND l.patron_id <> 0
	      AND l.fines_settled_at IS NOT NULL
	      AND NOT EXISTS (SELECT FROM pals_privacy.last_borrower t WHERE t.row_relid = l.tableoid AND t.row_tid = l.ctid)",
	'identified_closed|total|should_be_gone' => "SELECT 2",
	'identified_closed|demo.holds|identified_closed' =>
	  "SELECT count(*) FROM demo.holds WHERE (fulfilled_at IS NOT NULL OR cancelled_at IS NOT NULL) AND patron_id <> 0",
	# identified closed rows of every loan binding (demo.loans and demo.device_loans, closed by a
	# condition: checked in, or lost or claimed returned and finished), aged by their closed columns
	'age|total|90-365 days' =>
	  "SELECT count(*) FROM (SELECT returned_at AS closed_at FROM demo.loans WHERE returned_at IS NOT NULL AND patron_id <> 0
	        UNION ALL SELECT greatest(checkin_time, xact_finish) FROM demo.device_loans
	         WHERE (checkin_time IS NOT NULL OR (stop_reason IN ('LOST', 'CLAIMSRETURNED') AND xact_finish IS NOT NULL))
	           AND patron_id <> 0) c
	    WHERE now() - closed_at >= interval '90 days' AND now() - closed_at < interval '365 days'",
	'age|total|1-2 years' =>
	  "SELECT count(*) FROM (SELECT returned_at AS closed_at FROM demo.loans WHERE returned_at IS NOT NULL AND patron_id <> 0
	        UNION ALL SELECT greatest(checkin_time, xact_finish) FROM demo.device_loans
	         WHERE (checkin_time IS NOT NULL OR (stop_reason IN ('LOST', 'CLAIMSRETURNED') AND xact_finish IS NOT NULL))
	           AND patron_id <> 0) c
	    WHERE now() - closed_at >= interval '365 days' AND now() - closed_at < interval '730 days'",
	'age|total|30-90 days' =>
	  "SELECT count(*) FROM (SELECT returned_at AS closed_at FROM demo.loans WHERE returned_at IS NOT NULL AND patron_id <> 0
	        UNION ALL SELECT greatest(checkin_time, xact_finish) FROM demo.device_loans
	         WHERE (checkin_time IS NOT NULL OR (stop_reason IN ('LOST', 'CLAIMSRETURNED') AND xact_finish IS NOT NULL))
	           AND patron_id <> 0) c
	    WHERE now() - closed_at >= interval '30 days' AND now() - closed_at < interval '90 days'",
	'expired_patrons|demo.patrons|expired_beyond_grace' =>
	  "SELECT count(*) FROM demo.patrons WHERE expires_on < now() - interval '90 days' AND id <> 0",
	# the patron planted above, and one whose 'lost' notice the ILS's trigger keeps (a pending
	# sever of demo.loan_events): not purged while the notice names them
	'expired_patrons|demo.patrons|eligible_not_purged' => "SELECT 2",
	'retention|demo.internet_signups|past_retention' =>
	  "SELECT count(*) FROM demo.internet_signups WHERE signed_up_at < now() - interval '3 days'",
	'contact|demo.addresses|email (email): filled' => "SELECT count(email) FROM demo.addresses",
	'contact|demo.addresses|email (email): no notices consent' =>
	  "SELECT count(email) FROM demo.addresses a WHERE NOT EXISTS (SELECT FROM pals_privacy.consents c
	      WHERE c.patron = a.patron_id::text AND c.purpose = 'notices' AND c.channel = 'email' AND c.granted)",
	'audit||entries' => "SELECT count(*) FROM pals_privacy.audit_log",
	'audit||head_entry' => "SELECT max(id) FROM pals_privacy.audit_log",
	'audit||head_hash' =>
	  "SELECT encode(hash, 'hex') FROM pals_privacy.audit_log ORDER BY id DESC LIMIT 1",
	'acknowledgments||never_acknowledged' => "SELECT 1",     # report_user; branch_staff acknowledged
	'health||preloaded' => "SELECT 1",
	'health||backlog_not_done' => "SELECT 0",
	'health||severs_pending' => "SELECT count(*) FROM pals_privacy.sever_pending",
	# should be gone (loans), eligible, retention, never acknowledged, pending, and the purge run
	# that reported the patron of the kept notice as an error
	'summary||failing_checks' => "SELECT 6",
);
for my $k (sort keys %catalog)
{
	my $want = $node->safe_psql('postgres', $catalog{$k});
	my $got = $shown{$k} ? join(', ', @{ $shown{$k} }) : 'not shown';
	is($got, join(', ', ($want) x scalar(@{ $shown{$k} // [1] })), "page shows $k = $want, as the catalog");
}
ok($node->safe_psql('postgres', $catalog{'identified_closed|demo.loans|identified_closed'}) > 100,
	'the sample has identified closed history to report');

# No identity: no card number or name of any patron (the page is about counts).
my @leaks;
for my $line (split /\n/, $node->safe_psql('postgres',
	"SELECT card_number || '|' || name FROM demo.patrons WHERE id <> 0"))
{
	my ($card, $name) = split /\|/, $line;
	push @leaks, $card if index($html, $card) >= 0;
	push @leaks, $name if index($html, $name) >= 0;
}
is_deeply(\@leaks, [], 'no patron card number or name in the page');

$node->stop;
done_testing();
