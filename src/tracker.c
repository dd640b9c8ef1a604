/*
 * tracker.c
 *     Every access to the last-borrower tracker, pals_privacy.last_borrower
 *     (binding, item -> relation and TID of the item's last borrower row).
 *     The binding column is the loan binding's tracker key (LoanBinding's
 *     tracker): its own relation, or, for the bindings of a last-borrower
 *     group (bind_loans' last_borrower_group: loans and the archive the ILS
 *     moves them into), the group's first binding, so that the group keeps
 *     one entry, one last borrower and one lock per item; the entry's
 *     relation says which member holds the row.
 *
 *     Severing writes it: a return points the item's entry at the new row
 *     and reads where it pointed before (the previous last borrower), so a
 *     return touches one earlier row instead of searching the item's whole
 *     history.  The entry is updated through the executor (direct_write.c),
 *     which locks it until the end of the transaction: every return or
 *     settlement of the item waits there for the one before, which
 *     serialises them and keeps the tracker true under concurrency.  An item
 *     seen for the first time gets an entry pointing nowhere first, so that
 *     there is a row to lock.  A stale entry (the row moved or vanished:
 *     VACUUM FULL, a cross-partition update, a delete) is the severing
 *     algorithm's to detect (sever.c).
 *
 *     An entry chosen against the dates is pinned (last_borrower.pinned,
 *     its row's file node) and its row's key recorded (tracker_pin, through
 *     _tracker_pin_write: pinned entries only), so that the rebuilds find
 *     the row again after a rewrite or a restore (_tracker_repin).
 *
 *     _last_borrower() reads it (last_borrower.c): one index probe per row,
 *     or the whole of one binding's entries once a statement has asked about
 *     many rows.  Both the swap and the probe find an item's entry with the
 *     same lookup, tracker_fetch().
 */
#include "pals_privacy.h"
#include "tracker.h"
#include "direct_write.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

/* the tracker's columns (its primary key is (binding, item)) */
#define Anum_tracker_binding	1
#define Anum_tracker_item		2
#define Anum_tracker_row_relid	3
#define Anum_tracker_row_tid	4
#define Anum_tracker_pinned		5

static SPIPlanPtr plan_tracker_set = NULL;
static SPIPlanPtr plan_tracker_claim = NULL;
static SPIPlanPtr plan_pin_key = NULL;
static SPIPlanPtr plan_tracker_bury = NULL;
static SPIPlanPtr plan_unpin_key = NULL;

/* the tracker has its pinned column (not before ALTER EXTENSION ... UPDATE from 0.1.0) */
static bool tracker_has_pin = false;
static bool plan_has_pin = false;

/*
 * and the pins' keys are recorded (pals_privacy.tracker_pin, which a rewrite
 * and a restore keep: _tracker_repin finds a pinned row by its key again)
 */
static bool tracker_has_pin_key = false;
static bool plan_has_pin_key = false;

/* pals_privacy.last_borrower and its primary key, looked up again after every registry change. */
static void
tracker_oids(Oid *relid, Oid *key)
{
	static Oid	tracker = InvalidOid;
	static Oid	tracker_key = InvalidOid;
	static uint64 generation = 0;
	const PalsRegistry *reg = pals_registry();

	if (!OidIsValid(tracker) || generation != reg->generation)
	{
		Oid			nsp = get_namespace_oid("pals_privacy", false);

		tracker = get_relname_relid("last_borrower", nsp);
		tracker_key = get_relname_relid("last_borrower_pkey", nsp);
		if (!OidIsValid(tracker) || !OidIsValid(tracker_key))
			elog(ERROR, "pals_privacy: the last-borrower tracker is missing");
		tracker_has_pin = get_attnum(tracker, "pinned") == Anum_tracker_pinned;
		tracker_has_pin_key = tracker_has_pin && OidIsValid(get_relname_relid("tracker_pin", nsp));
		generation = reg->generation;
	}
	*relid = tracker;
	*key = tracker_key;
}

/* The statements that write the tracker as the extension owner (SPI connected). */
static void
prepare_tracker_plans(void)
{
	Oid			claim_types[2] = {OIDOID, TEXTOID};
	Oid			set_types[6] = {OIDOID, TEXTOID, OIDOID, TIDOID, OIDOID, BOOLOID};
	Oid			key_types[4] = {OIDOID, TEXTOID, OIDOID, TIDOID};

	Oid			relid;
	Oid			key;

	tracker_oids(&relid, &key);
	if (plan_tracker_set != NULL && plan_has_pin == tracker_has_pin && plan_has_pin_key == tracker_has_pin_key)
		return;
	if (plan_tracker_set != NULL)
	{
		SPI_freeplan(plan_tracker_set);
		SPI_freeplan(plan_tracker_claim);
	}
	if (plan_pin_key != NULL)
	{
		SPI_freeplan(plan_pin_key);
		plan_pin_key = NULL;
	}
	plan_has_pin = tracker_has_pin;
	plan_has_pin_key = tracker_has_pin_key;
	if (!tracker_has_pin)
	{
		/* a 0.1.0 schema under this library, before its update: no pins */
		plan_tracker_set = pals_prepare_saved(
			"INSERT INTO pals_privacy.last_borrower (binding, item, row_relid, row_tid)"
			" VALUES ($1, $2, $3, $4) ON CONFLICT (binding, item) DO UPDATE"
			" SET row_relid = EXCLUDED.row_relid, row_tid = EXCLUDED.row_tid", 4, set_types);
		plan_tracker_claim = pals_prepare_saved(
			"INSERT INTO pals_privacy.last_borrower (binding, item, row_relid, row_tid)"
			" VALUES ($1, $2, 0, '(0,0)') ON CONFLICT (binding, item) DO NOTHING", 2, claim_types);
		return;
	}
	/* $5: the row's file node (NULL: not pinned); $6: carry the entry's pin over, whatever $5 says */
	if (!tracker_has_pin_key)
		plan_tracker_set = pals_prepare_saved(
			"INSERT INTO pals_privacy.last_borrower (binding, item, row_relid, row_tid, pinned)"
			" VALUES ($1, $2, $3, $4, CASE WHEN $6 THEN NULL ELSE $5 END) ON CONFLICT (binding, item) DO UPDATE"
			" SET row_relid = EXCLUDED.row_relid, row_tid = EXCLUDED.row_tid,"
			" pinned = CASE WHEN NOT $6 OR last_borrower.pinned IS NOT NULL THEN $5 END"
			" RETURNING false", 6, set_types);
	else
	{
		/*
		 * ... and returns whether the entry is pinned now; an entry left
		 * unpinned loses its recorded key (tracker_pin) at once, a pinned
		 * one gets its row's (plan_pin_key)
		 */
		plan_tracker_set = pals_prepare_saved(
			"WITH s AS (INSERT INTO pals_privacy.last_borrower (binding, item, row_relid, row_tid, pinned)"
			" VALUES ($1, $2, $3, $4, CASE WHEN $6 THEN NULL ELSE $5 END) ON CONFLICT (binding, item) DO UPDATE"
			" SET row_relid = EXCLUDED.row_relid, row_tid = EXCLUDED.row_tid,"
			" pinned = CASE WHEN NOT $6 OR last_borrower.pinned IS NOT NULL THEN $5 END"
			" RETURNING pinned IS NOT NULL AS pinned),"
			" d AS (DELETE FROM pals_privacy.tracker_pin k WHERE k.binding = $1::regclass AND k.item = $2"
			" AND NOT (SELECT s.pinned FROM s))"
			" SELECT s.pinned FROM s", 6, set_types);
		plan_pin_key = pals_prepare_saved(
			"SELECT pals_privacy._tracker_pin_write($1, $2, $3, $4)", 4, key_types);
	}
	plan_tracker_claim = pals_prepare_saved(
		"INSERT INTO pals_privacy.last_borrower (binding, item, row_relid, row_tid)"
		" VALUES ($1, $2, 0, '(0,0)') ON CONFLICT (binding, item) DO NOTHING", 2, claim_types);
}

/*
 * The file node of a relation holding loan rows (a pinned entry records the
 * one its row is in: VACUUM FULL, CLUSTER and TRUNCATE give the relation a
 * new one, after which its TIDs name other rows).
 */
static Oid
row_file(Oid relid)
{
	Relation	r = RelationIdGetRelation(relid);
	Oid			node;

	if (!RelationIsValid(r))
		return InvalidOid;
	node = r->rd_rel->relfilenode;
	RelationClose(r);
	return node;
}

/*
 * Record the key of the row a pinned entry names now (tracker_pin, through
 * _tracker_pin_write, as the extension owner; SPI connected): the rebuilds
 * find the row by it after a rewrite or a restore moved it.  Only pinned
 * entries pay this (a back-dated close by a redacted class and the item's
 * later returns), never an ordinary return.
 */
static void
record_pin_key(const LoanBinding *b, const char *item, Oid relid, ItemPointer tid)
{
	Datum		values[4] = {ObjectIdGetDatum(b->tracker), CStringGetTextDatum(item),
		ObjectIdGetDatum(relid), ItemPointerGetDatum(tid)};

	if (!tracker_has_pin_key || plan_pin_key == NULL)
		return;
	pals_execute_as(pals_registry()->extension_owner, plan_pin_key, values, NULL);
}

/*
 * The item's entry as snap sees it (NULL: a catalog snapshot, as a systable
 * scan takes one), into slot, a slot of the tracker; false if the item has
 * none.  The index is opened with lockmode and kept locked to the end of the
 * transaction.
 */
static bool
tracker_fetch(Relation tracker, Oid key_index, LOCKMODE lockmode, Snapshot snap,
			  Oid binding, Datum item, TupleTableSlot *slot)
{
	Relation	index = index_open(key_index, lockmode);
	bool		registered = false;
	ScanKeyData key[2];
	bool		found;

	if (snap == NULL)
	{
		snap = RegisterSnapshot(GetCatalogSnapshot(RelationGetRelid(tracker)));
		registered = true;
	}
	ScanKeyInit(&key[0], 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(binding));
	ScanKeyInit(&key[1], 2, BTEqualStrategyNumber, F_TEXTEQ, item);
	key[1].sk_collation = index->rd_indcollation[1];
	found = pals_index_fetch(tracker, index, snap, key, 2, slot);
	if (found)
		ExecMaterializeSlot(slot);
	if (registered)
		UnregisterSnapshot(snap);
	index_close(index, NoLock);
	return found;
}

/*
 * The item has no tracker row yet: create one (pointing nowhere) so that it
 * can be locked.  A concurrent first return of the same item waits here for
 * this one to commit, then sees what it decided.  SPI connected.
 */
void
pals_tracker_claim(const LoanBinding *b, const char *item)
{
	Datum		values[2] = {ObjectIdGetDatum(b->tracker), CStringGetTextDatum(item)};

	prepare_tracker_plans();
	pals_execute_as(pals_registry()->extension_owner, plan_tracker_claim, values, NULL);
}

/*
 * Point the item's tracker row at the given row (which locks it until the end
 * of the transaction) and return where it pointed before, and whether it was
 * pinned (pals_tracker_set; the pin stays); false if the item has no tracker
 * row.  Under concurrency the UPDATE waits and re-reads the
 * row, so the previous pointer is always the latest committed one.
 */
bool
pals_tracker_swap(const LoanBinding *b, const char *item, Oid relid, ItemPointer tid,
				  Oid *old_relid, ItemPointer old_tid, bool *old_pinned)
{
	DirectWrite w;
	TupleTableSlot *row;
	bool		found;
	Oid			tracker;
	Oid			tracker_key;
	Datum		item_text = CStringGetTextDatum(item);

	tracker_oids(&tracker, &tracker_key);
	pals_direct_begin(&w, tracker, ACL_UPDATE, 0, NULL, false);
	row = pals_direct_slot(&w);
	for (;;)
	{
		AttrNumber	cols[3] = {Anum_tracker_row_relid, Anum_tracker_row_tid, Anum_tracker_pinned};
		Datum		values[3] = {ObjectIdGetDatum(relid), ItemPointerGetDatum(tid), (Datum) 0};
		bool		nulls[3] = {false, false, true};
		bool		isnull;
		TupleTableSlot *new;
		TM_FailureData tmfd;
		LockTupleMode lockmode;
		PalsUpdateIndexes update_indexes;
		TM_Result	res;
		Snapshot	snap = pals_statement_snapshot();

		/* as a statement starting now sees it */
		found = tracker_fetch(w.rel, tracker_key, RowExclusiveLock, snap, b->tracker, item_text, row);
		UnregisterSnapshot(snap);
		if (!found)
			break;
		*old_relid = DatumGetObjectId(slot_getattr(row, Anum_tracker_row_relid, &isnull));
		*old_tid = *DatumGetItemPointer(slot_getattr(row, Anum_tracker_row_tid, &isnull));
		/* a pinned entry stays pinned, to the new row's file (pals_tracker_set) */
		isnull = true;
		if (tracker_has_pin)
			(void) slot_getattr(row, Anum_tracker_pinned, &isnull);
		*old_pinned = !isnull;
		if (!isnull)
		{
			values[2] = ObjectIdGetDatum(row_file(relid));
			nulls[2] = false;
		}
		new = pals_direct_changed(&w, row, tracker_has_pin ? 3 : 2, cols, values, nulls);
		/* waits for a concurrent return of the item; then reads its outcome */
		res = table_tuple_update(w.rel, &row->tts_tid, new, w.estate->es_output_cid,
								 w.estate->es_snapshot, InvalidSnapshot, true,
								 &tmfd, &lockmode, &update_indexes);
		if (res == TM_Ok)
		{
			if (pals_update_needs_indexes(update_indexes))
				list_free(pals_insert_index_tuples(w.rri, new, w.estate, true, false, NULL, NIL,
												   update_indexes));
			break;
		}
		if (res != TM_Updated && res != TM_Deleted)
			elog(ERROR, "pals_privacy: unexpected result %d updating the tracker", (int) res);
		/* as an UPDATE statement would: read committed follows, others fail */
		if (IsolationUsesXactSnapshot())
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to concurrent update")));
	}
	pals_direct_end(&w);
	/*
	 * a pinned entry carried to the new row: its key too.  Not a tombstone's
	 * (old_relid 0): whether the new row becomes the last borrower is the
	 * caller's to decide (sever.c on_change), and a key recorded for a row
	 * the tombstone then stays over would let a rebuild find that row
	 */
	if (found && *old_pinned && OidIsValid(*old_relid))
	{
		prepare_tracker_plans();
		record_pin_key(b, item, relid, tid);
	}
	return found;
}

/*
 * Point the item's tracker row at the given row, creating it if need be (SPI
 * connected).  pin: TRACKER_PIN the row was chosen against the dates (a
 * rebuild keeps it while it is live: the entry records the row's file),
 * TRACKER_BY_DATE it is the dates' choice, TRACKER_CARRY the entry stays
 * pinned or not as it was (a pin carries over to the item's later last
 * borrowers: the dates still say another, hidden row, until the item is
 * searched by them).
 */
void
pals_tracker_set(const LoanBinding *b, const char *item, Oid relid, ItemPointer tid, PalsTrackerPin pin)
{
	Datum		values[6] = {ObjectIdGetDatum(b->tracker), CStringGetTextDatum(item),
		ObjectIdGetDatum(relid), ItemPointerGetDatum(tid),
	ObjectIdGetDatum(row_file(relid)), BoolGetDatum(pin == TRACKER_CARRY)};
	char		nulls[6] = {' ', ' ', ' ', ' ', pin == TRACKER_BY_DATE ? 'n' : ' ', ' '};

	prepare_tracker_plans();
	pals_execute_as(pals_registry()->extension_owner, plan_tracker_set, values, nulls);
	if (tracker_has_pin_key && SPI_processed == 1)
	{
		bool		isnull;
		Datum		pinned = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull && DatumGetBool(pinned))
			record_pin_key(b, item, relid, tid);
	}
}

/*
 * Make the item's entry a tombstone (row_relid 0, TID (0,0), pinned): the
 * item has no last borrower until its next close (tombstone.c, sever.c's
 * on_change), and a rebuild of the tracker by the dates keeps it as it keeps
 * a pinned entry (_tracker_pinned_sql).  relid valid: only if the entry
 * still names that row (relid, tid); InvalidOid: whatever it names.  SPI
 * connected.  Without the pinned column (a 0.1.0 schema before its update)
 * there is no tombstone to write.  Returns whether an entry was buried.
 */
bool
pals_tracker_bury(const LoanBinding *b, const char *item, Oid relid, ItemPointer tid)
{
	ItemPointerData none;
	Datum		values[4];

	prepare_tracker_plans();
	if (!tracker_has_pin)
		return false;
	/* ($3 = 0: whatever the entry names; else only if it names $3, $4) */
	if (plan_tracker_bury == NULL)
	{
		Oid			types[4] = {OIDOID, TEXTOID, OIDOID, TIDOID};

		plan_tracker_bury = pals_prepare_saved(
			"UPDATE pals_privacy.last_borrower SET row_relid = 0, row_tid = '(0,0)', pinned = 0"
			" WHERE binding = $1 AND item = $2 AND ($3 = 0 OR (row_relid = $3 AND row_tid = $4))",
			4, types);
	}
	ItemPointerSet(&none, 0, 0);
	values[0] = ObjectIdGetDatum(b->tracker);
	values[1] = CStringGetTextDatum(item);
	values[2] = ObjectIdGetDatum(relid);
	values[3] = ItemPointerGetDatum(tid != NULL ? tid : &none);
	pals_execute_as(pals_registry()->extension_owner, plan_tracker_bury, values, NULL);
	if (SPI_processed == 0)
		return false;
	/* a tombstone names no row, so it has no key: a rebuild must find none */
	if (tracker_has_pin_key)
	{
		if (plan_unpin_key == NULL)
		{
			Oid			types[2] = {OIDOID, TEXTOID};

			plan_unpin_key = pals_prepare_saved(
				"DELETE FROM pals_privacy.tracker_pin WHERE binding = $1::regclass AND item = $2", 2, types);
		}
		pals_execute_as(pals_registry()->extension_owner, plan_unpin_key, values, NULL);
	}
	return true;
}

/*
 * Does the item's tracker row, as snap sees it, name this row (relation,
 * tid)?  One index probe; the locks are kept to the end of the transaction,
 * so later calls find them held.
 */
bool
pals_tracker_names(Oid binding, text *item, Oid row_relid, ItemPointer row_tid, Snapshot snap)
{
	Oid			tracker;
	Oid			tracker_key;
	Relation	rel;
	TupleTableSlot *slot;
	bool		result = false;

	tracker_oids(&tracker, &tracker_key);
	rel = table_open(tracker, AccessShareLock);
	slot = table_slot_create(rel, NULL);
	if (tracker_fetch(rel, tracker_key, AccessShareLock, snap, binding, PointerGetDatum(item), slot))
	{
		bool		isnull;
		Datum		relid = slot_getattr(slot, Anum_tracker_row_relid, &isnull);
		Datum		tid = slot_getattr(slot, Anum_tracker_row_tid, &isnull);

		result = DatumGetObjectId(relid) == row_relid &&
			ItemPointerEquals(DatumGetItemPointer(tid), row_tid);
	}
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
	return result;
}

/* Every entry of a binding as snap sees it: fn(arg, row relation, row tid, item). */
void
pals_tracker_foreach(Oid binding, Snapshot snap, PalsTrackerEntryFn fn, void *arg)
{
	Oid			tracker;
	Oid			tracker_key;
	Relation	rel;
	TupleDesc	desc;
	TableScanDesc scan;
	HeapTuple	tup;

	tracker_oids(&tracker, &tracker_key);
	rel = table_open(tracker, AccessShareLock);
	desc = RelationGetDescr(rel);
	scan = table_beginscan(rel, snap, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;

		if (DatumGetObjectId(heap_getattr(tup, Anum_tracker_binding, desc, &isnull)) != binding)
			continue;
		fn(arg, DatumGetObjectId(heap_getattr(tup, Anum_tracker_row_relid, desc, &isnull)),
		   (ItemPointer) DatumGetPointer(heap_getattr(tup, Anum_tracker_row_tid, desc, &isnull)),
		   heap_getattr(tup, Anum_tracker_item, desc, &isnull));
	}
	table_endscan(scan);
	table_close(rel, NoLock);
}

/* About how many entries the tracker holds (the planner's estimate). */
double
pals_tracker_size(void)
{
	Oid			tracker;
	Oid			tracker_key;

	tracker_oids(&tracker, &tracker_key);
	return pals_reltuples(tracker);
}
