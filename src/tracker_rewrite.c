/*
 * tracker_rewrite.c
 *     The tracker after a rewrite.  The tracker (pals_privacy.last_borrower,
 *     tracker.c) names each item's last-borrower row by its TID.  VACUUM
 *     FULL, CLUSTER, an ALTER TABLE that rewrites, TRUNCATE, pg_repack and a
 *     dump and restore give a loan relation a new file and renumber its
 *     TIDs: an entry then names whatever row landed on its TID, and where
 *     that is another closed row of the same item (a kept, opted-in loan, a
 *     severed one) staff would read it whole while the real last borrower
 *     reads hidden (attack10 HOLE 3).  Two parts:
 *
 *     1. A stale entry never vouches.  Every rebuild records the file node
 *        of each relation holding tracked rows (pals_privacy.tracker_file,
 *        _tracker_file_record); _last_borrower() (last_borrower.c) answers
 *        false for every row of a relation whose file is no longer the
 *        recorded one (pals_tracker_file_stale).  Entries the severing
 *        trigger writes after the rewrite are judged by the same rule: the
 *        relation stays stale until a rebuild records its new file.  Fail
 *        closed: staff read no last borrower of that relation meanwhile,
 *        never a wrong one.  A relation with no recorded node (bound before
 *        0.2.0, a partition attached since the last rebuild) is not checked.
 *
 *     2. Rebuilt at once.  Around VACUUM (FULL), CLUSTER, ALTER TABLE and
 *        TRUNCATE the relations of every loan binding that keeps a last
 *        borrower have their file nodes noted before and compared after;
 *        a binding one of whose relations got a new file has its tracker
 *        rebuilt (_build_tracker, as the extension owner; pinned entries
 *        come back by their keys, _tracker_repin) in the transaction that
 *        ran the command (VACUUM FULL's last one: it commits per relation).
 *        Rewrites outside utility commands (pg_repack) are left to part 1
 *        and to health(), which names the stale relation; so is every
 *        rewrite while pals_privacy.rebuild_tracker_after_rewrite is off
 *        (a DBA who would rather run the rebuild later on a large table).
 */
#include "pals_privacy.h"
#include "hooks.h"
#include "tracker.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#define Anum_tracker_file_relation	1
#define Anum_tracker_file_node		2

/* The relation's file node now (InvalidOid: no such relation, or no storage). */
static Oid
current_node(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			node;

	if (!HeapTupleIsValid(tup))
		return InvalidOid;
	node = ((Form_pg_class) GETSTRUCT(tup))->relfilenode;
	ReleaseSysCache(tup);
	return node;
}

/* pals_privacy.tracker_file (InvalidOid before ALTER EXTENSION ... UPDATE from 0.1.0). */
static Oid
tracker_file_relid(void)
{
	static Oid	relid = InvalidOid;
	static uint64 generation = 0;
	const PalsRegistry *reg = pals_registry();

	if (generation != reg->generation || generation == 0)
	{
		Oid			nsp = pals_extension_namespace();

		relid = OidIsValid(nsp) ? get_relname_relid("tracker_file", nsp) : InvalidOid;
		generation = reg->generation;
	}
	return relid;
}

/*
 * Do the tracker's entries for rows of this relation name rows of a file it
 * no longer has (rewritten since the last rebuild), as snap sees the record
 * (NULL: a catalog snapshot)?  One scan of tracker_file, a row per loan
 * relation; the caller keeps the verdict for its statement.
 */
bool
pals_tracker_file_stale(Oid relid, Snapshot snap)
{
	Oid			file_relid = tracker_file_relid();
	Relation	rel;
	TableScanDesc scan;
	TupleTableSlot *slot;
	bool		registered = false;
	bool		stale = false;

	if (!OidIsValid(file_relid))
		return false;			/* an upgraded schema, before its update: nothing recorded */
	if (snap == NULL)
	{
		snap = RegisterSnapshot(GetCatalogSnapshot(file_relid));
		registered = true;
	}
	rel = table_open(file_relid, AccessShareLock);
	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, snap, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;

		if (DatumGetObjectId(slot_getattr(slot, Anum_tracker_file_relation, &isnull)) != relid)
			continue;
		stale = DatumGetObjectId(slot_getattr(slot, Anum_tracker_file_node, &isnull)) != current_node(relid);
		break;
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
	if (registered)
		UnregisterSnapshot(snap);
	return stale;
}

/* ----------------------------------------------------------------------
 * The utility hook: rebuild after a rewriting command
 * ---------------------------------------------------------------------- */

typedef struct NotedFile
{
	Oid			tracker;		/* the binding's tracker key */
	Oid			relid;
	Oid			node;
} NotedFile;

/* May the command give a relation a new file? */
static bool
may_rewrite(Node *stmt)
{
	if (IsA(stmt, VacuumStmt))
	{
		VacuumStmt *v = (VacuumStmt *) stmt;
		ListCell   *lc;

		if (!v->is_vacuumcmd)
			return false;		/* ANALYZE */
		foreach(lc, v->options)
		{
			DefElem    *opt = (DefElem *) lfirst(lc);

			if (strcmp(opt->defname, "full") == 0 && defGetBoolean(opt))
				return true;
		}
		return false;
	}
	return IsA(stmt, ClusterStmt) || IsA(stmt, AlterTableStmt) || IsA(stmt, TruncateStmt);
}

/* The file of every relation holding rows of a loan binding that keeps a last borrower. */
static List *
note_files(MemoryContext cxt)
{
	const PalsRegistry *reg = pals_registry();
	MemoryContext old = MemoryContextSwitchTo(cxt);
	List	   *noted = NIL;
	ListCell   *lc;

	foreach(lc, reg->loans)
	{
		const LoanBinding *b = (const LoanBinding *) lfirst(lc);
		List	   *tree;
		ListCell   *rc;

		if (!b->keep_last_borrower || !SearchSysCacheExists1(RELOID, ObjectIdGetDatum(b->relid)))
			continue;
		tree = find_all_inheritors(b->relid, NoLock, NULL);
		foreach(rc, tree)
		{
			NotedFile  *f = palloc(sizeof(NotedFile));

			f->tracker = b->tracker;
			f->relid = lfirst_oid(rc);
			f->node = current_node(f->relid);
			noted = lappend(noted, f);
		}
	}
	MemoryContextSwitchTo(old);
	return noted;
}

/* pals_in_subtransaction()'s work: the rebuild, as the extension owner. */
static void
build_tracker(void *arg)
{
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		values[1] = {ObjectIdGetDatum(*(Oid *) arg)};

	pals_execute_sql_as(pals_registry()->extension_owner,
						"SELECT pals_privacy._build_tracker($1)", 1, argtypes, values);
}

/*
 * Rebuild one binding's tracker, in a subtransaction: a rebuild that fails
 * (a closed_when condition that errs, a group whose members' types differ
 * since the ALTER TABLE) must not undo the command; the relation stays
 * stale (its entries do not vouch) and a WARNING says so, naming only the
 * SQLSTATE (a message could quote a row).  A cancel is re-thrown.
 */
static void
rebuild_one(Oid tracker)
{
	ErrorData  *edata = pals_in_subtransaction(build_tracker, &tracker);

	if (edata != NULL)
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("pals_privacy: the last-borrower tracker of \"%s\" was not rebuilt after its rewrite (SQLSTATE %s)",
						get_rel_name(tracker), unpack_sql_state(edata->sqlerrcode)),
				 errdetail("Until it is, staff read no last borrower of the rewritten relation."),
				 errhint("Fix the cause, then SELECT pals_privacy.rebuild_tracker('%s'); health() names the relation meanwhile.",
						 get_rel_name(tracker))));
}

/* Rebuild the tracker of each binding one of whose relations has a new file now. */
static void
rebuild_rewritten(List *noted)
{
	List	   *trackers = NIL;
	ListCell   *lc;
	bool		pushed = false;

	foreach(lc, noted)
	{
		NotedFile  *f = (NotedFile *) lfirst(lc);

		if (current_node(f->relid) != f->node && !list_member_oid(trackers, f->tracker) &&
			SearchSysCacheExists1(RELOID, ObjectIdGetDatum(f->tracker)))
			trackers = lappend_oid(trackers, f->tracker);
	}
	if (trackers == NIL)
		return;
	/* VACUUM FULL started a fresh transaction, without a snapshot */
	if (!ActiveSnapshotSet())
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pushed = true;
	}
	foreach(lc, trackers)
		rebuild_one(lfirst_oid(lc));
	if (pushed)
		PopActiveSnapshot();
	list_free(trackers);
}

void
pals_tracker_rewrite_utility(PALS_UTILITY_PARAMS, ProcessUtility_hook_type next)
{
	MemoryContext cxt;
	List	   *noted;

	if (!pals_get_rebuild_tracker_after_rewrite() || !may_rewrite(pstmt->utilityStmt) ||
		!pals_extension_ready())
	{
		next(PALS_UTILITY_ARGS);
		return;
	}
	/* (outlives VACUUM FULL's transactions, as its own vac_context does) */
	cxt = AllocSetContextCreate(PortalContext ? PortalContext : TopMemoryContext,
								"pals_privacy rewritten files", ALLOCSET_SMALL_SIZES);
	noted = note_files(cxt);
	next(PALS_UTILITY_ARGS);
	if (noted != NIL && IsTransactionState() && pals_extension_ready())
		rebuild_rewritten(noted);
	MemoryContextDelete(cxt);
}
