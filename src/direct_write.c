/*
 * direct_write.c
 *     Writing one row through the executor without SQL, and reading a
 *     row's heap header, for severing and the tracker.
 *
 *     A sever is one UPDATE (or DELETE) of one row by TID.  Made through the
 *     executor (table_tuple_lock, ExecSimpleRelationUpdate) rather than SPI,
 *     it checks constraints, maintains indexes and fires the table's row
 *     triggers exactly as the caller's own UPDATE of the row would, as the
 *     calling role and under its search path, and the AFTER events of those
 *     triggers fire before the change returns: a foreign-key check keeps one
 *     cached plan this way, where our safe search path made it re-plan at
 *     every return.  No permission is checked: the extension decides these
 *     changes.
 *
 *     Whether another transaction holds a row is read from the tuple header
 *     (xmax and its infomask), so that a return never waits for a row a
 *     payment is settling and cannot deadlock with it.
 */
#include "pals_privacy.h"
#include "direct_write.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/multixact.h"
#include "access/sysattr.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "storage/bufmgr.h"
#include "storage/procarray.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

/*
 * What a statement starting now would see (the transaction's snapshot under
 * REPEATABLE READ and SERIALIZABLE), with this command's own changes; a
 * registered copy, for UnregisterSnapshot.
 */
Snapshot
pals_statement_snapshot(void)
{
	Snapshot	snap;

	PushCopiedSnapshot(IsolationUsesXactSnapshot() ? GetTransactionSnapshot() : GetLatestSnapshot());
	UpdateActiveSnapshotCommandId();
	snap = RegisterSnapshot(GetActiveSnapshot());
	PopActiveSnapshot();
	return snap;
}


/*
 * updated: the columns the change sets (nupdated of them), as an UPDATE's SET
 * list names them: a trigger the ILS declared UPDATE OF one of them fires,
 * whether or not the value changes, as for its own UPDATE ... SET of them.
 */
void
pals_direct_begin(DirectWrite *w, Oid relid, AclMode perms, int nupdated, const AttrNumber *updated,
				  bool triggers)
{
	RangeTblEntry *rte = makeNode(RangeTblEntry);
	Bitmapset  *cols = NULL;

	for (int i = 0; i < nupdated; i++)
		cols = bms_add_member(cols, updated[i] - FirstLowInvalidHeapAttributeNumber);

	w->rel = table_open(relid, RowExclusiveLock);
	w->estate = CreateExecutorState();
	w->rri = makeNode(ResultRelInfo);
	w->triggers = triggers;
	rte->rtekind = RTE_RELATION;
	rte->relid = relid;
	rte->relkind = w->rel->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	pals_init_range_table(w->estate, rte, perms, cols);	/* cols: for UPDATE OF triggers */
	CommandCounterIncrement();	/* like a statement of its own: earlier changes are seen */
	w->estate->es_output_cid = GetCurrentCommandId(true);
	w->estate->es_snapshot = GetActiveSnapshot();
	InitResultRelInfo(w->rri, w->rel, 1, NULL, 0);
	/* where the trigger machinery looks for it (else it opens the table again) */
	w->estate->es_opened_result_relations = list_make1(w->rri);
	ExecOpenIndices(w->rri, false);
	pals_epq_init(&w->epqstate, w->estate, NULL, NIL, -1);
	if (triggers)
		AfterTriggerBeginQuery();
}

TupleTableSlot *
pals_direct_slot(DirectWrite *w)
{
	return table_slot_create(w->rel, &w->estate->es_tupleTable);
}

/* A copy of a row with the given columns changed, for an update. */
TupleTableSlot *
pals_direct_changed(DirectWrite *w, TupleTableSlot *old, int ncols, AttrNumber *attnos,
			   Datum *values, bool *nulls)
{
	TupleTableSlot *new = pals_direct_slot(w);
	int			natts = RelationGetDescr(w->rel)->natts;

	slot_getallattrs(old);
	ExecClearTuple(new);
	memcpy(new->tts_values, old->tts_values, sizeof(Datum) * natts);
	memcpy(new->tts_isnull, old->tts_isnull, sizeof(bool) * natts);
	for (int i = 0; i < ncols; i++)
	{
		new->tts_values[attnos[i] - 1] = values[i];
		new->tts_isnull[attnos[i] - 1] = nulls[i];
	}
	return ExecStoreVirtualTuple(new);
}

void
pals_direct_end(DirectWrite *w)
{
	if (w->triggers)
		AfterTriggerEndQuery(w->estate);
	EvalPlanQualEnd(&w->epqstate);
	ExecCloseResultRelations(w->estate);	/* its indexes, and relations the triggers opened */
	ExecResetTupleTable(w->estate->es_tupleTable, false);
	FreeExecutorState(w->estate);
	table_close(w->rel, NoLock);
}


/*
 * Whether another transaction in progress holds a lock on (or is updating)
 * the row: then it must not be waited for.  Reads the tuple header only.
 */
bool
pals_row_locked_by_other(Oid relid, ItemPointer tid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	HeapTupleData tuple;
	Buffer		buffer = InvalidBuffer;
	bool		busy = false;

	tuple.t_self = *tid;
	/* a stale TID may name a block VACUUM truncated away */
	if (ItemPointerGetBlockNumber(tid) < RelationGetNumberOfBlocks(rel) &&
		heap_fetch(rel, SnapshotAny, &tuple, &buffer, true))
	{
		uint16		infomask;
		TransactionId xmax;

		LockBuffer(buffer, BUFFER_LOCK_SHARE);
		infomask = tuple.t_data->t_infomask;
		xmax = HeapTupleHeaderGetRawXmax(tuple.t_data);
		LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
		if (!(infomask & HEAP_XMAX_INVALID))
		{
			if (infomask & HEAP_XMAX_IS_MULTI)
				busy = MultiXactIdIsRunning(xmax, HEAP_XMAX_IS_LOCKED_ONLY(infomask));
			else
				busy = !TransactionIdIsCurrentTransactionId(xmax) &&
					TransactionIdIsInProgress(xmax);
		}
	}
	if (BufferIsValid(buffer))
		ReleaseBuffer(buffer);
	table_close(rel, AccessShareLock);
	return busy;
}

/*
 * Whether the tuple at tid is still its row's current version as this
 * command sees it (an earlier event of the same statement may have severed
 * or changed the row since).
 */
bool
pals_row_is_current(Relation rel, ItemPointer tid)
{
	HeapTupleData fetched;
	Buffer		buffer;
	bool		current;

	fetched.t_self = *tid;
	current = heap_fetch(rel, SnapshotSelf, &fetched, &buffer, false);
	if (BufferIsValid(buffer))
		ReleaseBuffer(buffer);
	return current;
}
