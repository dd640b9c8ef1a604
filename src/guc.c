/*
 * guc.c
 *     Every setting of pals_privacy (pals_privacy.*), defined once here and
 *     kept static: the other files read them through the pals_get_*()
 *     functions (as contrib/sepgsql does), so a setting has one definition,
 *     one default and one place to look.
 *
 *     Settings that shape plans (the class of unclassified roles, the
 *     purpose, the acknowledgment rule, guardian access) re-make cached
 *     plans when they change (pals_reshape_plans), as does a change of a
 *     role's class (classes.c).  The purpose's check hook asks classes.c,
 *     which is above this file, through a callback it registers
 *     (pals_guc_purpose_check) before the settings are defined.
 *
 *     Also here: whether the library was loaded by shared_preload_libraries.
 */
#include "pals_privacy.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/plancache.h"
#include "utils/varlena.h"

#include <float.h>
#include <limits.h>

/* loaded by shared_preload_libraries: every hook was in place before any statement */
static bool preloaded = false;

/* general (formerly pals_privacy.c) */
static int	default_class = PALS_CLASS_STAFF;
static char *purpose = NULL;
static int	purge_grace = 90 * 24 * 60;	/* minutes; read by SQL */
static int	audit_retention = 5 * 365 * 24 * 60;	/* minutes; read by SQL */

/* redaction */
static double collections_threshold = 0.0;
static bool require_acknowledgment = false;
static int	guardian_access = GUARDIAN_NONE;
static int	guardian_age_limit = 18;

/* the patron session */
static int	pin_iterations = 100000;
static int	max_failed_logins = 5;
static int	lockout = 15 * 60;		/* seconds */

/* the planner's statistics */
static bool placeholder_statistics = true;

/* the sweeps' writes of the ILS's relations run as their owners (ils_owner.c) */
static bool sweep_as_owner = false;
static bool rebuild_tracker_after_rewrite = true;

/* pseudonymous statistics */
typedef enum
{
	PERIOD_DAY,
	PERIOD_WEEK,
	PERIOD_MONTH,
	PERIOD_QUARTER,
	PERIOD_YEAR
} PseudonymPeriod;

static int	pseudonym_period = PERIOD_YEAR;
static int	min_group_size = 5;		/* read by SQL */

/* the background worker */
static int	maintenance_interval = 3600;	/* seconds */
static char *maintenance_databases = NULL;

/* operations */
static bool allow_drop_with_evidence = false;	/* read by SQL */

static const struct config_enum_entry class_options[] = {
	{"operational", PALS_CLASS_OPERATIONAL, false},
	{"staff", PALS_CLASS_STAFF, false},
	{"collections", PALS_CLASS_COLLECTIONS, false},
	{"auditor", PALS_CLASS_AUDITOR, false},
	{"patron", PALS_CLASS_PATRON, false},
	{NULL, 0, false}
};

static const struct config_enum_entry guardian_options[] = {
	{"none", GUARDIAN_NONE, false},
	{"current", GUARDIAN_CURRENT, false},
	{"all", GUARDIAN_ALL, false},
	{NULL, 0, false}
};

static const struct config_enum_entry period_options[] = {
	{"day", PERIOD_DAY, false},
	{"week", PERIOD_WEEK, false},
	{"month", PERIOD_MONTH, false},
	{"quarter", PERIOD_QUARTER, false},
	{"year", PERIOD_YEAR, false},
	{NULL, 0, false}
};

/* classes.c's check of a session's purpose (see check_purpose) */
static bool (*purpose_allowed) (const char *newval) = NULL;

/* ----------------------------------------------------------------------
 * Settings that shape plans
 * ---------------------------------------------------------------------- */

/* A setting (or a role's class) that shapes plans changed: cached plans are re-made. */
void
pals_reshape_plans(void)
{
	ResetPlanCache();
}

static void
assign_reshape_plans_string(const char *newval, void *extra)
{
	pals_reshape_plans();
}

static void
assign_reshape_plans_int(int newval, void *extra)
{
	pals_reshape_plans();
}

static void
assign_reshape_plans_bool(bool newval, void *extra)
{
	pals_reshape_plans();
}

/* ----------------------------------------------------------------------
 * Check hooks
 * ---------------------------------------------------------------------- */

/* How classes.c checks a session's purpose: registered before pals_guc_init. */
void
pals_guc_purpose_check(bool (*allowed) (const char *newval))
{
	purpose_allowed = allowed;
}

/* A purpose names a row of pals_privacy.purposes: lower-case identifier. */
static bool
check_purpose(char **newval, void **extra, GucSource source)
{
	const char *p = *newval;

	if (p == NULL || *p == '\0')
		return true;
	if (!(*p >= 'a' && *p <= 'z'))
		goto bad;
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			goto bad;
	/* a session may not replace its role's purpose (classes.c); no check known: refused */
	if (source == PGC_S_SESSION && IsTransactionState() && !IsParallelWorker())
		return purpose_allowed != NULL && purpose_allowed(*newval);
	return true;
bad:
	GUC_check_errdetail("A purpose is a lower-case name such as \"notices\" or \"newsletter\".");
	return false;
}

static bool
check_databases(char **newval, void **extra, GucSource source)
{
	char	   *copy = pstrdup(*newval ? *newval : "");
	List	   *names;
	bool		ok = SplitIdentifierString(copy, ',', &names);

	if (!ok)
		GUC_check_errdetail("List syntax is invalid: give database names separated by commas.");
	list_free(names);
	pfree(copy);
	return ok;
}

/* ----------------------------------------------------------------------
 * Accessors
 * ---------------------------------------------------------------------- */

/* Was the library loaded by shared_preload_libraries? */
bool
pals_preloaded(void)
{
	return preloaded;
}

PalsClass
pals_get_default_class(void)
{
	return (PalsClass) default_class;
}

/* The session's setting of pals_privacy.purpose ("" or NULL: none). */
const char *
pals_get_purpose(void)
{
	return purpose;
}

double
pals_get_collections_threshold(void)
{
	return collections_threshold;
}

bool
pals_get_require_acknowledgment(void)
{
	return require_acknowledgment;
}

int
pals_get_guardian_access(void)
{
	return guardian_access;
}

int
pals_get_guardian_age_limit(void)
{
	return guardian_age_limit;
}

int
pals_get_pin_iterations(void)
{
	return pin_iterations;
}

int
pals_get_max_failed_logins(void)
{
	return max_failed_logins;
}

int
pals_get_lockout(void)
{
	return lockout;
}

bool
pals_get_placeholder_statistics(void)
{
	return placeholder_statistics;
}

/* The period of a pseudonym key, as a date_trunc unit. */
const char *
pals_get_pseudonym_period(void)
{
	return period_options[pseudonym_period].name;
}

int
pals_get_maintenance_interval(void)
{
	return maintenance_interval;
}

/* The databases the worker maintains, comma-separated ("" or NULL: none). */
const char *
pals_get_maintenance_databases(void)
{
	return maintenance_databases;
}

/* ----------------------------------------------------------------------
 * Definitions
 * ---------------------------------------------------------------------- */

/*
 * pals_privacy.sweep_as_owner may be turned on by anyone (it only lowers a
 * superuser's rights) but not turned off by code running inside a
 * local user id change by a role below superuser: an ILS trigger fired by a sweep (running as
 * its table's owner, ils_owner.c) would otherwise turn it off and have the
 * sweep's next statement fire the ILS's triggers as the superuser.
 */
static bool
check_sweep_as_owner(bool *newval, void **extra, GucSource source)
{
	if (!*newval && sweep_as_owner &&
		(InSecurityRestrictedOperation() || (InLocalUserIdChange() && !superuser())))
	{
		GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
		GUC_check_errmsg("cannot turn pals_privacy.sweep_as_owner off in code a sweep runs as a table's owner");
		GUC_check_errhint("Code of the ILS's that a sweep of pals_privacy runs as its table's owner cannot change how the sweep runs.");
		return false;
	}
	return true;
}

void
pals_guc_init(void)
{
	preloaded = process_shared_preload_libraries_in_progress;

	DefineCustomEnumVariable("pals_privacy.default_class",
							 "Privacy class of roles that are not classified.",
							 "Roles neither classified nor members of a classified role get this class. "
							 "Only superusers can change it.",
							 &default_class,
							 PALS_CLASS_STAFF,
							 class_options,
							 PGC_SUSET,
							 0,
							 NULL, assign_reshape_plans_int, NULL);

	DefineCustomStringVariable("pals_privacy.purpose",
							   "Purpose this session uses patron contact fields for.",
							   "With a purpose set, contact fields read only for patrons who consented to it. "
							   "It can only narrow what the session's class allows.",
							   &purpose,
							   "",
							   PGC_USERSET,
							   0,
							   check_purpose, assign_reshape_plans_string, NULL);

	DefineCustomIntVariable("pals_privacy.purge_grace",
							"How long after a card expires its holder may be purged.",
							"purge_expired() removes patrons whose card expired more than this ago.",
							&purge_grace,
							90 * 24 * 60, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_MIN,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pals_privacy.audit_retention",
							"How long audit log entries are kept (0: for ever).",
							"Maintenance removes older entries and leaves a checkpoint, so the chain still verifies.",
							&audit_retention,
							5 * 365 * 24 * 60, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_MIN,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pals_privacy.pin_iterations",
							"PBKDF2-HMAC-SHA256 iterations for new PINs.",
							NULL, &pin_iterations, 100000, 10000, INT_MAX,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pals_privacy.max_failed_logins",
							"Failed logins after which a card is locked.",
							NULL, &max_failed_logins, 5, 1, 1000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pals_privacy.lockout",
							"How long a card stays locked after too many failed logins.",
							NULL, &lockout, 15 * 60, 1, INT_MAX / 1000,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);

	DefineCustomRealVariable("pals_privacy.collections_threshold",
							 "Amount a patron must owe before the collections class sees them.",
							 "The collections class sees patrons whose total across bound balance relations "
							 "is more than this. Only superusers can change it.",
							 &collections_threshold,
							 25.0, 0.0, DBL_MAX,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("pals_privacy.require_acknowledgment",
							 "Mask patron columns for staff who have not acknowledged the policy this year.",
							 "A staff role whose last pals_privacy.acknowledge_policy() is over a year old, "
							 "or that has none, reads every patron column masked.",
							 &require_acknowledgment,
							 false,
							 PGC_SUSET, 0,
							 NULL, assign_reshape_plans_bool, NULL);

	DefineCustomEnumVariable("pals_privacy.guardian_access",
							 "What a guardian's logged-in session reads of a minor's account.",
							 "none; current: open loans and holds, loans with fines owed, balances; "
							 "all: the whole account, reading history included. Minors are patrons younger "
							 "than pals_privacy.guardian_age_limit (birth_date_column of bind_patrons).",
							 &guardian_access,
							 GUARDIAN_NONE,
							 guardian_options,
							 PGC_SUSET, 0,
							 NULL, assign_reshape_plans_int, NULL);
	DefineCustomIntVariable("pals_privacy.guardian_age_limit",
							"Age (years) below which a guardian may see the account.",
							NULL,
							&guardian_age_limit,
							18, 1, 150,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("pals_privacy.placeholder_statistics",
							 "Plan as if severed rows had no patron.",
							 "On, the planner's estimate for an unknown patron id of a column severed to a "
							 "placeholder leaves the placeholder's rows out. Off, it uses ANALYZE's numbers.",
							 &placeholder_statistics,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomEnumVariable("pals_privacy.pseudonym_period",
							 "How long one secret key of the statistics pseudonyms lives.",
							 "Pseudonyms link a patron's loans within one period and never across periods; "
							 "an ended period's key is destroyed. Calendar periods, UTC.",
							 &pseudonym_period,
							 PERIOD_YEAR,
							 period_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("pals_privacy.min_group_size",
							"Smallest number of patrons a group of exported statistics may show.",
							"export_statistics() suppresses every group of fewer patrons (k-anonymity).",
							&min_group_size,
							5, 2, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pals_privacy.maintenance_interval",
							"Time between two maintenance runs of the background worker.",
							NULL,
							&maintenance_interval,
							3600, 10, INT_MAX / 1000,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomStringVariable("pals_privacy.maintenance_databases",
							   "Databases the background worker runs maintenance in (comma-separated).",
							   "Databases listed without the extension are skipped.",
							   &maintenance_databases,
							   "",
							   PGC_SIGHUP, GUC_LIST_INPUT,
							   check_databases, NULL, NULL);

	DefineCustomBoolVariable("pals_privacy.allow_drop_with_evidence",
							 "Lets DROP EXTENSION pals_privacy delete the evidence it keeps.",
							 "The audit log, consents, legal orders, PIN hashes and private reading history "
							 "go with the extension. Set it in the session that drops the extension, after keeping a copy.",
							 &allow_drop_with_evidence,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("pals_privacy.sweep_as_owner",
							 "Runs the ILS's relations' writes by a superuser as the relations' owners (internal).",
							 "Set by the extension's sweeps (sever_copies, the backlog's batches, purge_expired, "
							 "the maintenance retries) for their own duration; it cannot be turned off by code "
							 "the sweep runs as a table's owner (an ILS trigger the sweep fired).",
							 &sweep_as_owner,
							 false,
							 PGC_USERSET,
							 GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							 check_sweep_as_owner, NULL, NULL);

	DefineCustomBoolVariable("pals_privacy.rebuild_tracker_after_rewrite",
							 "Rebuilds a loan binding's last-borrower tracker after VACUUM FULL, CLUSTER, "
							 "ALTER TABLE or TRUNCATE gave one of its relations a new file.",
							 "Off: the tracker of a rewritten relation stays stale (staff read no last borrower "
							 "there) until rebuild_tracker() or sever_backlog() (tracker_rewrite.c).",
							 &rebuild_tracker_after_rewrite,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	MarkGUCPrefixReserved("pals_privacy");
}

bool
pals_get_sweep_as_owner(void)
{
	return sweep_as_owner;
}

bool
pals_get_rebuild_tracker_after_rewrite(void)
{
	return rebuild_tracker_after_rewrite;
}
