
# Logical replication (docs/fitting-your-ils.md, "Logical replication"):
#
# - a subscriber WITH the extension, bound like the publisher, redacts as the
#   publisher does; with the severing trigger set to ENABLE ALWAYS (the
#   documented step) the apply worker fires it, so the subscriber's tracker
#   follows the publisher's returns and staff there see each item's new last
#   borrower;
# - without that step (the trigger as binding leaves it) apply does not fire
#   it and staff there miss the new last borrower: the step is needed;
# - a subscriber WITHOUT the extension receives the rows as they are on the
#   publisher: identified until the publisher severs them, then severed (the
#   sever is an UPDATE, replicated like any other).

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $schema = <<'SQL';
CREATE SCHEMA ils;
CREATE TABLE ils.patrons (id bigint PRIMARY KEY, name text NOT NULL, expires date NOT NULL DEFAULT 'infinity');
CREATE TABLE ils.loans (id bigint PRIMARY KEY, patron_id bigint NOT NULL REFERENCES ils.patrons,
                        item_id int NOT NULL, returned timestamptz);
CREATE INDEX ON ils.loans (item_id);
CREATE INDEX ON ils.loans (patron_id);
CREATE ROLE desk LOGIN;
GRANT USAGE ON SCHEMA ils TO desk;
GRANT SELECT ON ALL TABLES IN SCHEMA ils TO desk;
INSERT INTO ils.patrons VALUES (0, 'anonymous'), (1, 'Ada'), (2, 'Bea');
SQL

my $bind = <<'SQL';
CREATE EXTENSION pals_privacy;
SELECT pals_privacy.bind_patrons('ils.patrons', 'id', 'expires');
SELECT pals_privacy.bind_loans('ils.loans', 'patron_id', 'item_id', '{returned}', sever_with => 'patron:0');
SELECT pals_privacy.classify_role('desk', 'staff');
SQL

my $pub = PostgreSQL::Test::Cluster->new('publisher');
$pub->init(allows_streaming => 'logical');
$pub->append_conf('postgresql.conf', "shared_preload_libraries = 'pals_privacy'");
$pub->start;

my %sub;
for my $name ('always', 'default', 'plain')
{
	$sub{$name} = PostgreSQL::Test::Cluster->new("sub_$name");
	$sub{$name}->init;
	$sub{$name}->append_conf('postgresql.conf', "shared_preload_libraries = 'pals_privacy'")
	  unless $name eq 'plain';
	$sub{$name}->start;
}

# the same schema and patrons everywhere (the placeholder patron 0 among
# them); the extension bound on the publisher and on two subscribers; the
# loans are published
$pub->safe_psql('postgres', $schema . $bind);
$pub->safe_psql('postgres', 'CREATE PUBLICATION ils_pub FOR TABLE ils.loans');
for my $name (keys %sub)
{
	$sub{$name}->safe_psql('postgres', $schema . ($name eq 'plain' ? '' : $bind));
}
# the documented step, on one subscriber only
$sub{always}->safe_psql('postgres', 'ALTER TABLE ils.loans ENABLE ALWAYS TRIGGER pals_privacy_sever');

my $connstr = $pub->connstr . ' dbname=postgres';
for my $name (keys %sub)
{
	$sub{$name}->safe_psql('postgres',
		"CREATE SUBSCRIPTION ils_sub_$name CONNECTION '$connstr' PUBLICATION ils_pub "
		  . "WITH (slot_name = ils_sub_$name)");
	$sub{$name}->wait_for_subscription_sync($pub, "ils_sub_$name");
}

sub caught_up
{
	$pub->wait_for_catchup("ils_sub_$_") for keys %sub;
}

# item 10: Ada borrows and returns it, then Bea borrows it
$pub->safe_psql('postgres', "INSERT INTO ils.loans VALUES (1, 1, 10, NULL)");
$pub->safe_psql('postgres', "UPDATE ils.loans SET returned = now() WHERE id = 1");
$pub->safe_psql('postgres', "INSERT INTO ils.loans VALUES (2, 2, 10, NULL)");
caught_up();

my $stored = 'SELECT string_agg(id || \':\' || patron_id, \' \' ORDER BY id) FROM ils.loans';
my $staff_sees = 'SET ROLE desk; ' . $stored;

is($pub->safe_psql('postgres', $stored), '1:1 2:2', 'publisher: Ada is item 10\'s last borrower, Bea has it');
is($pub->safe_psql('postgres', $staff_sees), '1:1 2:2', 'publisher: staff read the last borrower and the open loan');
for my $name (keys %sub)
{
	is($sub{$name}->safe_psql('postgres', $stored), '1:1 2:2', "subscriber $name: the rows as stored on the publisher");
}
is($sub{always}->safe_psql('postgres', $staff_sees), '1:1 2:2',
	'subscriber with ENABLE ALWAYS: staff read the last borrower (the tracker followed the return)');
is($sub{default}->safe_psql('postgres', $staff_sees), '1:0 2:2',
	'subscriber without the step: staff miss the last borrower (apply did not fire the trigger; a hidden patron reads as the placeholder)');

# Bea returns it: on the publisher Ada's loan is severed in the same
# transaction, Bea's becomes the last borrower
$pub->safe_psql('postgres', "UPDATE ils.loans SET returned = now() WHERE id = 2");
caught_up();

is($pub->safe_psql('postgres', $stored), '1:0 2:2', 'publisher: Ada severed, Bea the last borrower');
is($sub{plain}->safe_psql('postgres', $stored), '1:0 2:2',
	'subscriber without the extension: the sever arrives replicated (an UPDATE like any other)');
is($sub{always}->safe_psql('postgres', $stored), '1:0 2:2', 'subscriber with ENABLE ALWAYS: the same rows');
is($sub{always}->safe_psql('postgres', $staff_sees), '1:0 2:2',
	'subscriber with ENABLE ALWAYS: staff read Bea as the new last borrower, Ada\'s loan severed');
is($sub{always}->safe_psql('postgres',
		'SELECT count(*) FROM pals_privacy.last_borrower lb JOIN ils.loans l ON l.ctid = lb.row_tid WHERE l.id = 2'),
	'1', 'subscriber with ENABLE ALWAYS: its tracker names Bea\'s row, by its own tuple id');
is($sub{default}->safe_psql('postgres', $staff_sees), '1:0 2:0',
	'subscriber without the step: staff miss Bea, the new last borrower (read as the placeholder)');

# rebuild_tracker(), the documented alternative, repairs the subscriber
# without the step
$sub{default}->safe_psql('postgres', 'SELECT pals_privacy.rebuild_tracker()');
is($sub{default}->safe_psql('postgres', $staff_sees), '1:0 2:2',
	'subscriber without the step: rebuild_tracker() finds Bea as the last borrower');

# and apply keeps working on the subscriber that severs by itself: a row it
# severed first receives the publisher's sever of the same row
my $errors = $sub{always}->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_subscription_stats WHERE subname = 'ils_sub_always' AND apply_error_count > 0");
is($errors, '0', 'subscriber with ENABLE ALWAYS: no apply error');

done_testing();
