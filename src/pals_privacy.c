/*
 * pals_privacy.c
 *     Module entry point: settings and the callbacks of every mechanism.
 */
#include "pals_privacy.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include <limits.h>

PG_MODULE_MAGIC;

void		_PG_init(void);

PG_FUNCTION_INFO_V1(pals_privacy_preloaded);

/* loaded by shared_preload_libraries: every hook was in place before any statement */
static bool preloaded = false;

int			pals_default_class = PALS_CLASS_STAFF;
int			pals_purge_grace = 90 * 24 * 60;	/* minutes */
int			pals_audit_retention = 5 * 365 * 24 * 60;	/* minutes */
char	   *pals_purpose = NULL;

static const struct config_enum_entry class_options[] = {
	{"operational", PALS_CLASS_OPERATIONAL, false},
	{"staff", PALS_CLASS_STAFF, false},
	{"collections", PALS_CLASS_COLLECTIONS, false},
	{"auditor", PALS_CLASS_AUDITOR, false},
	{"patron", PALS_CLASS_PATRON, false},
	{NULL, 0, false}
};

/* The class of unclassified roles and the purpose shape plans. */
static void
assign_reshapes_plans(const char *newval, void *extra)
{
	pals_redact_settings_changed();
}

static void
assign_default_class(int newval, void *extra)
{
	pals_redact_settings_changed();
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
	/* a session may not replace its role's purpose (classes.c) */
	if (source == PGC_S_SESSION && IsTransactionState() && !IsParallelWorker())
		return pals_purpose_setting_allowed(*newval);
	return true;
bad:
	GUC_check_errdetail("A purpose is a lower-case name such as \"notices\" or \"newsletter\".");
	return false;
}

/*
 * The restrictive row-security policy on every bound table calls this (a
 * pseudoconstant qual: once per scan).  Row security is PostgreSQL's own,
 * so it holds where our hooks do not: in a backend that loaded the library
 * on first use, the statement that loaded it was planned without them, and
 * a bound relation would read unredacted.  Fail closed: such a backend
 * reads no bound relation (superusers and table owners bypass row security,
 * as they bypass redaction).
 */
Datum
pals_privacy_preloaded(PG_FUNCTION_ARGS)
{
	if (!preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pals_privacy is not loaded by shared_preload_libraries"),
				 errdetail("Relations bound to pals_privacy are not readable or writable without its hooks."),
				 errhint("Add pals_privacy to shared_preload_libraries in postgresql.conf and restart the server.")));
	PG_RETURN_BOOL(true);
}

/* Was the library loaded by shared_preload_libraries? */
bool
pals_preloaded(void)
{
	return preloaded;
}

void
_PG_init(void)
{
	preloaded = process_shared_preload_libraries_in_progress;
	DefineCustomEnumVariable("pals_privacy.default_class",
							 "Privacy class of roles that are not classified.",
							 "Roles neither classified nor members of a classified role get this class. "
							 "Only superusers can change it.",
							 &pals_default_class,
							 PALS_CLASS_STAFF,
							 class_options,
							 PGC_SUSET,
							 0,
							 NULL, assign_default_class, NULL);

	DefineCustomStringVariable("pals_privacy.purpose",
							   "Purpose this session uses patron contact fields for.",
							   "With a purpose set, contact fields read only for patrons who consented to it. "
							   "It can only narrow what the session's class allows.",
							   &pals_purpose,
							   "",
							   PGC_USERSET,
							   0,
							   check_purpose, assign_reshapes_plans, NULL);

	DefineCustomIntVariable("pals_privacy.purge_grace",
							"How long after a card expires its holder may be purged.",
							"purge_expired() removes patrons whose card expired more than this ago.",
							&pals_purge_grace,
							90 * 24 * 60, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_MIN,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pals_privacy.audit_retention",
							"How long audit log entries are kept (0: for ever).",
							"Maintenance removes older entries and leaves a checkpoint, so the chain still verifies.",
							&pals_audit_retention,
							5 * 365 * 24 * 60, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_MIN,
							NULL, NULL, NULL);

	pals_session_init();
	pals_redact_init();
	pals_placeholder_stats_init();
	pals_stats_init();
	pals_worker_init();
	pals_operations_init();

	MarkGUCPrefixReserved("pals_privacy");

	pals_registry_init();
	pals_classes_init();
	pals_sever_init();
}
