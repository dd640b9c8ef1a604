/*
 * spi_util.c
 *     Running the extension's own SQL from C, and small catalog helpers.
 *
 *     The extension's SQL runs as the extension owner (its tables are the
 *     owner's, not the caller's) and under a safe search_path (pg_catalog,
 *     pg_temp; the mechanism is in compat.c, for it changed in 17), so that
 *     no object of the caller's can stand in for one of ours; one that
 *     writes a relation of the ILS's (a copy's sever) runs as the caller once
 *     planned and checked, so that the ILS's triggers do (a superuser caller:
 *     as the relation's owner, SET ROLE barred, ils_owner.c).  Statements
 *     run at every row are prepared once and saved.  The catalog helpers
 *     find a relation's inheritance ancestors (a partition or child is
 *     covered by its parent's binding), the planner's row estimate, and one
 *     probe of an index under a given snapshot.
 *     Stale caches are retired here too: their memory is kept to the end of
 *     the transaction, since code up the stack may still hold pointers.
 */
#include "pals_privacy.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "executor/spi.h"
#include "executor/execdesc.h"
#include "utils/plancache.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/lsyscache.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

/* pals_safe_search_path() and friends: compat.c (the mechanism changed in 17). */

/*
 * Free a cache that the registry's change made stale.  Code up the stack may
 * still hold pointers into it (an invalidation can arrive in the middle of a
 * trigger's work, between two lookups), so inside a transaction the memory
 * is kept until the transaction ends; its reset callbacks run then.
 */
void
pals_retire_context(MemoryContext cxt)
{
	if (IsTransactionState())
		MemoryContextSetParent(cxt, TopTransactionContext);
	else
		MemoryContextDelete(cxt);
}

/* About how many rows a relation holds (the planner's estimate; 0 if unknown). */
double
pals_reltuples(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	double		n = 0;

	if (HeapTupleIsValid(tup))
	{
		n = Max(0, ((Form_pg_class) GETSTRUCT(tup))->reltuples);
		ReleaseSysCache(tup);
	}
	return n;
}

void
pals_inheritance_parents(Oid relid, List **out)
{
	Relation	rel = table_open(InheritsRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	ScanKeyInit(&key, Anum_pg_inherits_inhrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, InheritsRelidSeqnoIndexId, true, NULL, 1, &key);
	while ((tup = systable_getnext(scan)) != NULL)
		*out = lappend_oid(*out, ((Form_pg_inherits) GETSTRUCT(tup))->inhparent);
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/* The relation itself, then its inheritance ancestors, nearest first. */
void
pals_ancestors(Oid relid, List **out)
{
	*out = lappend_oid(*out, relid);
	for (int i = list_length(*out) - 1; i < list_length(*out); i++)
		pals_inheritance_parents(list_nth_oid(*out, i), out);
}

/* Prepare and keep a plan, parsed under the safe search path. */
void *
pals_prepare_saved(const char *sql, int nargs, Oid *argtypes)
{
	int			nestlevel = pals_safe_search_path();
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	pals_restore_search_path(nestlevel);
	if (plan == NULL)
		elog(ERROR, "pals_privacy: could not prepare \"%s\": %s",
			 sql, SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	return plan;
}

/*
 * Run a saved SPI plan, or else one-off SQL, as the given role (SPI
 * connected; never read-only: in an AFTER trigger only a fresh snapshot sees
 * the rows of the statement).
 */
static int
execute_as(Oid role, SPIPlanPtr plan, const char *sql, int nargs, Oid *argtypes,
		   Datum *values, const char *nulls)
{
	Oid			save_user;
	int			save_sec;
	volatile int rc = 0;

	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(role, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		rc = plan ? SPI_execute_plan(plan, values, nulls, false, 0)
			: SPI_execute_with_args(sql, nargs, argtypes, values, nulls, false, 0);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
	if (rc < 0)
		elog(ERROR, "pals_privacy: statement failed: %s", SPI_result_code_string(rc));
	return rc;
}

/*
 * A saved plan (prepared under the safe search path), run as the given role
 * under the safe search path too: a saved plan run under another path is
 * parsed again under that one, and a caller's own (its temporary schema
 * first) would put a type of the caller's (a domain pg_temp.text whose CHECK
 * runs the caller's function) into our statement, run as the extension
 * owner (a copy's "$1::text", test attack_search_path).
 */
int
pals_execute_as(Oid role, void *plan, Datum *values, const char *nulls)
{
	int			nestlevel = pals_safe_search_path();
	int			rc = execute_as(role, (SPIPlanPtr) plan, NULL, 0, NULL, values, nulls);

	pals_restore_search_path(nestlevel);
	return rc;
}

/*
 * A saved plan of ours that writes a relation of the ILS's (a derived copy's
 * sever), run as the extension owner up to its start (planned, its
 * permissions checked: the caller need not hold any on the copy) and as the
 * calling role while it runs and finishes: the ILS's triggers on the
 * relation fire then, and run as the caller, as they would for the caller's
 * own UPDATE or DELETE (and as those of a loan's sever do, direct_write.c).
 * run_as and run_sec: the calling role and the security context to add, as
 * pals_ils_role() gives them for the relation written (ils_owner.c): a
 * superuser's write runs as the relation's owner (SET ROLE barred).
 * Run as the owner, such a trigger that names a table without its schema
 * found a table of the caller's temporary schema under the safe search path
 * of 17 and later ('pg_catalog, pg_temp'), and that table's trigger ran as
 * the owner (test attack_search_path, door 9).  The statement is told from
 * the others the executor starts meanwhile (the triggers' own) by its
 * source text, which SPI passes to the executor as it is in the plan.
 */
static const char *caller_run_source = NULL;
static Oid	caller_run_role = InvalidOid;
static int	caller_run_sec = 0;

int
pals_execute_write_as_caller(Oid owner, Oid run_as, int run_sec, void *plan, Datum *values,
							 const char *nulls)
{
	CachedPlanSource *source = linitial(SPI_plan_get_plan_sources((SPIPlanPtr) plan));
	const char *save_source = caller_run_source;
	Oid			save_role = caller_run_role;
	int			save_run_sec = caller_run_sec;
	volatile int rc = 0;

	caller_run_source = source->query_string;
	caller_run_role = run_as;
	caller_run_sec = run_sec;
	PG_TRY();
	{
		rc = pals_execute_as(owner, plan, values, nulls);
	}
	PG_FINALLY();
	{
		caller_run_source = save_source;
		caller_run_role = save_role;
		caller_run_sec = save_run_sec;
	}
	PG_END_TRY();
	return rc;
}

/*
 * ExecutorRun and ExecutorFinish (hooks.c): is this the statement of
 * pals_execute_write_as_caller()?  Then the caller's role is put in force
 * until pals_caller_run_leave().
 */
bool
pals_caller_run_enter(QueryDesc *qd, Oid *save_user, int *save_sec)
{
	if (caller_run_source == NULL || qd->sourceText != caller_run_source)
		return false;
	GetUserIdAndSecContext(save_user, save_sec);
	SetUserIdAndSecContext(caller_run_role, *save_sec | caller_run_sec);
	return true;
}

void
pals_caller_run_leave(Oid save_user, int save_sec)
{
	SetUserIdAndSecContext(save_user, save_sec);
}

/*
 * Run work(arg) in a subtransaction, connected to SPI under the safe
 * search_path.  Returns NULL, or the error it raised, rolled back (a cancel
 * or a shutdown is re-thrown, never swallowed): the caller turns it into a
 * WARNING that names only its SQLSTATE, since a message could quote a
 * patron.  For work whose failure must not undo the statement around it
 * (a statistics record of a sever, a tracker rebuild after a rewrite).
 */
ErrorData *
pals_in_subtransaction(void (*work) (void *arg), void *arg)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		int			nestlevel;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "pals_privacy: SPI_connect failed");
		nestlevel = pals_safe_search_path();
		work(arg);
		pals_restore_search_path(nestlevel);
		SPI_finish();
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED || edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(edata);
	}
	PG_END_TRY();
	return edata;
}

/* One-off SQL (built at run time) as the given role, under the safe search path. */
int
pals_execute_sql_as(Oid role, const char *sql, int nargs, Oid *argtypes, Datum *values)
{
	int			nestlevel = pals_safe_search_path();
	int			rc = execute_as(role, NULL, sql, nargs, argtypes, values, NULL);

	pals_restore_search_path(nestlevel);
	return rc;
}

/*
 * A bound column's number.  Binding refuses a column that does not exist and
 * dropping a bound column is refused, but a rename is not: every code path
 * that reads a bound column by name fails here, with one message.
 */
AttrNumber
pals_bound_attnum(Oid relid, const char *column)
{
	AttrNumber	attno = get_attnum(relid, column);

	if (attno == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("pals_privacy: bound column \"%s\" of \"%s\" no longer exists",
						column, get_rel_name(relid)),
				 errhint("SELECT * FROM pals_privacy.binding_problems() lists it; unbind the relation and bind it again with the column's new name.")));
	return attno;
}

/* A Var reading a bound column (see pals_bound_attnum). */
Var *
pals_bound_var(Oid relid, const char *column, Index varno, Index levelsup)
{
	AttrNumber	attno = pals_bound_attnum(relid, column);
	Oid			type;
	int32		typmod;
	Oid			coll;

	get_atttypetypmodcoll(relid, attno, &type, &typmod, &coll);
	return makeVar(varno, attno, type, typmod, coll, levelsup);
}

/*
 * The first row of rel that index finds for keys under snap, into slot (it
 * keeps its own buffer pin after the scan ends); false if there is none.
 * Every existence probe of the extension's (a copy's key, the placeholder
 * patron, a patron's opt-in, a tracker entry) is this one scan.
 */
bool
pals_index_fetch(Relation rel, Relation index, Snapshot snap, ScanKey keys, int nkeys,
				 TupleTableSlot *slot)
{
	IndexScanDesc scan = pals_index_beginscan(rel, index, snap, nkeys, 0);
	bool		found;

	index_rescan(scan, keys, nkeys, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	index_endscan(scan);
	return found;
}

/* Does index find any row of rel for keys under snap? */
bool
pals_index_has(Relation rel, Relation index, Snapshot snap, ScanKey keys, int nkeys)
{
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	bool		found = pals_index_fetch(rel, index, snap, keys, nkeys, slot);

	ExecDropSingleTupleTableSlot(slot);
	return found;
}
