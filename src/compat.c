/*
 * compat.c
 *     The version-dependent functions declared in compat.h (and the safe
 *     search path of pals_privacy.h, whose mechanism changed in 17).
 */
#include "pals_privacy.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "nodes/parsenodes.h"
#include "parser/scansup.h"
#include "pgtime.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/memutils.h"

Oid
pals_expanded_view(RangeTblEntry *rte)
{
	if (rte->rtekind != RTE_SUBQUERY || rte->subquery == NULL)
		return InvalidOid;
#if PG_VERSION_NUM >= 160000
	/* ApplyRetrieveRule() keeps relid and relkind on the converted entry */
	if (rte->relkind == RELKIND_VIEW && OidIsValid(rte->relid))
		return rte->relid;
#else
	if (rte->subquery->rtable != NIL)
	{
		RangeTblEntry *old = linitial(rte->subquery->rtable);

		if (old->rtekind == RTE_RELATION && old->relkind == RELKIND_VIEW)
			return old->relid;
	}
#endif
	return InvalidOid;
}

void
pals_init_range_table(EState *estate, RangeTblEntry *rte, uint64 perms, Bitmapset *updatedCols)
{
#if PG_VERSION_NUM >= 160000
	RTEPermissionInfo *perm = makeNode(RTEPermissionInfo);

	perm->relid = rte->relid;
	perm->requiredPerms = perms;
	perm->updatedCols = updatedCols;
	rte->perminfoindex = 1;
#if PG_VERSION_NUM >= 180000
	ExecInitRangeTable(estate, list_make1(rte), list_make1(perm), bms_make_singleton(1));
#else
	ExecInitRangeTable(estate, list_make1(rte), list_make1(perm));
#endif
#else
	rte->requiredPerms = perms;
	rte->updatedCols = updatedCols;
	ExecInitRangeTable(estate, list_make1(rte));
#endif
}

/*
 * The extension's own SQL runs with elevated rights, so it is parsed and run
 * with pg_catalog alone as its search path (and the temporary schema last,
 * or not at all): a caller's schema (or temporary schema) cannot slip in an
 * operator, function or type.  It must be in force when a
 * saved plan runs too: a plan is re-parsed when the search path differs from
 * the one it was prepared under.
 *
 * Before 17 an override search path is much cheaper to push and pop than a
 * GUC change (severing does it for every returned loan); 17 removed override
 * search paths, so there it is a GUC change in a nest level.
 */
int
pals_safe_search_path(void)
{
#if PG_VERSION_NUM < 170000
	static OverrideSearchPath *safe_path = NULL;

	if (safe_path == NULL)
	{
		safe_path = MemoryContextAllocZero(TopMemoryContext, sizeof(OverrideSearchPath));
		safe_path->schemas = NIL;
		safe_path->addCatalog = true;
		safe_path->addTemp = false;
	}
	PushOverrideSearchPath(safe_path);
	return 0;
#else
	int			nestlevel = NewGUCNestLevel();

	/*
	 * pg_temp named last: a path that leaves it out has it searched FIRST
	 * for relations and types, so a domain pg_temp.text of the caller's
	 * would stand in for every "::text" of ours (test attack_search_path);
	 * named, it comes last, and it is never searched for functions and
	 * operators.
	 */
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
#endif
}

/*
 * Lift the safe search path pushed by the caller for a stretch that parses
 * no SQL of ours but runs the table's own triggers, which should see the
 * session's search path as after any statement; then put it back.  (With
 * 17's GUC-based path this is not done: triggers keep the safe path, which
 * only costs re-planned foreign-key checks.)
 */
void
pals_suspend_safe_search_path(void)
{
#if PG_VERSION_NUM < 170000
	PopOverrideSearchPath();
#endif
}

void
pals_resume_safe_search_path(void)
{
#if PG_VERSION_NUM < 170000
	(void) pals_safe_search_path();
#endif
}

void
pals_restore_search_path(int nestlevel)
{
#if PG_VERSION_NUM < 170000
	PopOverrideSearchPath();
#else
	AtEOXact_GUC(true, nestlevel);
#endif
}

int
pals_decode_zone(const char *name, int *offset, pg_tz **tz)
{
#if PG_VERSION_NUM >= 160000
	switch (DecodeTimezoneName(name, offset, tz))
	{
		case TZNAME_FIXED_OFFSET:
			return PALS_ZONE_FIXED;
		case TZNAME_ZONE:
			return PALS_ZONE_NAME;
		default:
			return PALS_ZONE_OTHER;
	}
#else
	/* timestamptz_zone() and timestamp_zone() of 15 */
	char	   *low = downcase_truncate_identifier(name, strlen(name), false);
	int			type = DecodeTimezoneAbbrev(0, low, offset, tz);

	if (type == TZ || type == DTZ)
		return PALS_ZONE_FIXED;
	if (type == DYNTZ)
		return PALS_ZONE_OTHER;
	*tz = pg_tzset(name);
	return *tz != NULL ? PALS_ZONE_NAME : PALS_ZONE_OTHER;
#endif
}
