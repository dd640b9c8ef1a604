/*
 * last_borrower.c
 *     _last_borrower(binding, item, relation, tid): is this loan row its
 *     item's last borrower?  The staff class sees the patron of that row and
 *     of no other closed, settled row, so a rewritten query calls this for
 *     every such row it reads.  binding is the loan binding's tracker key
 *     (the rewrite passes LoanBinding's tracker): for the members of a
 *     last-borrower group, the group's, so one row per item answers true
 *     across all of them.
 *
 *     One call is one probe of the tracker (pals_privacy.last_borrower,
 *     written by severing; every access to it is in tracker.c).  A statement that reads many closed rows, such as
 *     a monthly report, would repeat that probe thousands of times, and a
 *     hash join evaluates its condition twice per row; so the answers are
 *     kept for the statement, and past LOAD_AFTER_PROBES distinct rows (and
 *     an eighth of the tracker's size) the binding's whole tracker is read
 *     once and every later row is answered from memory.
 *
 *     Answers are reused only under a snapshot that sees what they were
 *     read under: the same transactions committed, and the same changes of
 *     the session's own (the same command of the same transaction, or no
 *     change at all).  So they outlive their statement, and even their
 *     transaction, while no other transaction that wrote anything ends: a
 *     staff session's reports keep them while the data stands still.  The
 *     item is compared too, so a tracker entry whose row has moved (VACUUM
 *     FULL reuses TIDs) never vouches for another item's row; and no entry
 *     vouches for a row of a relation rewritten since the tracker was built
 *     (its file is not the one tracker_file records: tracker_rewrite.c),
 *     where a TID may name another row of the same item.  That verdict is
 *     kept per relation with the answers (a rewrite commits, or writes in
 *     this transaction: either forgets them).
 */
#include "pals_privacy.h"
#include "tracker.h"

#include "access/transam.h"
#include "access/xact.h"
#include "fmgr.h"
#include "storage/itemptr.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

PG_FUNCTION_INFO_V1(pals_privacy_last_borrower);

#define LOAD_AFTER_PROBES 1024
#define KEEP_AFTER_STATEMENT 100000	/* answers kept past their statement, at most */
#define MAX_FILES 64			/* relations whose file verdict is kept (more: asked each time) */

typedef struct RowKey
{
	Oid			binding;
	Oid			relid;
	ItemPointerData tid;
} RowKey;

typedef struct RowAnswer
{
	RowKey		key;
	char	   *item;			/* the item the answer is about */
	bool		last;			/* it is that item's last borrower */
} RowAnswer;

/* The answers of the current statement. */
static struct
{
	HTAB	   *rows;
	MemoryContext context;
	LocalTransactionId lxid;
	TimestampTz statement;
	CommandId	cid;
	PalsSeen	seen;			/* what the snapshot saw of other transactions */
	TransactionId own_xid;		/* of the transaction that read them, if it had one */
	int			probes;
	double		load_after;
	Oid			loaded[4];		/* bindings whose whole tracker is in rows */
	int			nloaded;
	Oid			file_relid[MAX_FILES];	/* relations whose file was checked ... */
	bool		file_stale[MAX_FILES];	/* ... rewritten since the tracker was built */
	int			nfiles;
} answers;

/*
 * May answers read under an earlier snapshot serve this one?  It must see
 * the same transactions as committed (snapshot_seen.c), and the same changes of this session's
 * own: in the same transaction, the same command; in another, none at all
 * (neither transaction has written anything).
 */
static bool
answers_still_valid(Snapshot snap)
{
	bool		same_statement;

	if (answers.rows == NULL || !pals_seen_same(&answers.seen, snap))
		return false;
	same_statement = answers.lxid == pals_my_lxid() &&
		answers.statement == GetCurrentStatementStartTimestamp();
	if (!same_statement && hash_get_num_entries(answers.rows) > KEEP_AFTER_STATEMENT)
		return false;			/* a big report's answers: do not hold their memory */
	if (answers.lxid == pals_my_lxid() && answers.cid == snap->curcid)
		return true;
	return !TransactionIdIsValid(answers.own_xid) && !TransactionIdIsValid(GetTopTransactionIdIfAny());
}

/* Keep the answers valid under this snapshot; forget them otherwise. */
static void
current_answers(Snapshot snap)
{
	HASHCTL		ctl;

	if (answers_still_valid(snap))
	{
		answers.lxid = pals_my_lxid();
		answers.statement = GetCurrentStatementStartTimestamp();
		answers.cid = snap->curcid;
		return;
	}
	if (answers.context == NULL)
		answers.context = AllocSetContextCreate(TopMemoryContext, "pals_privacy last borrowers",
												ALLOCSET_DEFAULT_SIZES);
	MemoryContextReset(answers.context);
	ctl.keysize = sizeof(RowKey);
	ctl.entrysize = sizeof(RowAnswer);
	ctl.hcxt = answers.context;
	answers.rows = hash_create("pals_privacy last borrowers", 256, &ctl,
							   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	answers.lxid = pals_my_lxid();
	answers.statement = GetCurrentStatementStartTimestamp();
	answers.cid = snap->curcid;
	pals_seen_keep(&answers.seen, snap, answers.context);
	answers.own_xid = GetTopTransactionIdIfAny();
	answers.probes = 0;
	answers.load_after = Max(LOAD_AFTER_PROBES, pals_tracker_size() / 8);
	answers.nloaded = 0;
	answers.nfiles = 0;
}

/*
 * Has the relation a new file since its tracker entries were built (VACUUM
 * FULL, CLUSTER, TRUNCATE, pg_repack ...: its TIDs name other rows)?  Asked
 * once per relation while the answers stand.
 */
static bool
relation_stale(Oid relid, Snapshot snap)
{
	bool		stale;

	for (int i = 0; i < answers.nfiles; i++)
		if (answers.file_relid[i] == relid)
			return answers.file_stale[i];
	stale = pals_tracker_file_stale(relid, snap);
	if (answers.nfiles < MAX_FILES)
	{
		answers.file_relid[answers.nfiles] = relid;
		answers.file_stale[answers.nfiles++] = stale;
	}
	return stale;
}

static bool
binding_loaded(Oid binding)
{
	for (int i = 0; i < answers.nloaded; i++)
		if (answers.loaded[i] == binding)
			return true;
	return false;
}

static void
row_key(RowKey *key, Oid binding, Oid relid, ItemPointer tid)
{
	memset(key, 0, sizeof(*key));
	key->binding = binding;
	key->relid = relid;
	key->tid = *tid;
}

/* What load_entry() needs. */
typedef struct LoadArg
{
	Oid			binding;
	Snapshot	snap;
} LoadArg;

/*
 * An entry of the binding's tracker: the row it names is a last borrower
 * (unless its relation was rewritten since: not loaded, so answered false).
 */
static void
load_entry(void *arg, Oid row_relid, ItemPointer row_tid, Datum item)
{
	LoadArg    *la = (LoadArg *) arg;
	Oid			binding = la->binding;
	RowKey		key;
	RowAnswer  *a;

	if (relation_stale(row_relid, la->snap))
		return;
	row_key(&key, binding, row_relid, row_tid);
	a = hash_search(answers.rows, &key, HASH_ENTER, NULL);
	a->item = MemoryContextStrdup(answers.context, TextDatumGetCString(item));
	a->last = true;
}

/* Read the binding's whole tracker. */
static void
load_binding(Oid binding, Snapshot snap)
{
	LoadArg		la = {binding, snap};

	pals_tracker_foreach(binding, snap, load_entry, &la);
	answers.loaded[answers.nloaded++] = binding;
}

/* Is this row (relation, tid) the item's last borrower? */
Datum
pals_privacy_last_borrower(PG_FUNCTION_ARGS)
{
	Oid			binding = PG_GETARG_OID(0);
	text	   *item = PG_GETARG_TEXT_PP(1);
	Oid			row_relid = PG_GETARG_OID(2);
	ItemPointer row_tid = (ItemPointer) PG_GETARG_POINTER(3);
	Snapshot	snap = ActiveSnapshotSet() ? GetActiveSnapshot() : NULL;
	char	   *item_text;
	RowKey		key;
	RowAnswer  *a;
	bool		found;

	if (snap == NULL || snap->snapshot_type != SNAPSHOT_MVCC)	/* answers are kept under MVCC only */
		PG_RETURN_BOOL(!pals_tracker_file_stale(row_relid, snap) &&
					   pals_tracker_names(binding, item, row_relid, row_tid, snap));

	current_answers(snap);
	item_text = text_to_cstring(item);
	row_key(&key, binding, row_relid, row_tid);
	a = hash_search(answers.rows, &key, HASH_FIND, &found);
	if (found)
		PG_RETURN_BOOL(a->last && strcmp(a->item, item_text) == 0);
	if (binding_loaded(binding))
		PG_RETURN_BOOL(false);	/* not named by the tracker */

	if (++answers.probes > answers.load_after && answers.nloaded < (int) lengthof(answers.loaded))
	{
		load_binding(binding, snap);
		a = hash_search(answers.rows, &key, HASH_FIND, &found);
		PG_RETURN_BOOL(found && a->last && strcmp(a->item, item_text) == 0);
	}
	a = hash_search(answers.rows, &key, HASH_ENTER, NULL);
	a->item = MemoryContextStrdup(answers.context, item_text);
	a->last = !relation_stale(row_relid, snap) &&
		pals_tracker_names(binding, item, row_relid, row_tid, snap);
	PG_RETURN_BOOL(a->last);
}
