/*
 * copy_sever_batch.c
 *     The copies of the rows sever_backlog severs, in batches.
 *
 *     Batched (sever_backlog): between _copy_sever_collect() and
 *     _copy_sever_flush(), in the same subtransaction, a firing records the
 *     source row's key instead of running the statement, and the flush runs
 *     each binding's statement once for all the keys ($1 ... $n text[]
 *     arrays, one per key column): one statement per batch and copy binding
 *     instead of one per severed row, on the same rows, in the same
 *     subtransaction as the rows' sever.  Keys of a subtransaction that rolls
 *     back go with it; a transaction that would commit with keys not flushed
 *     fails (fail closed).
 */
#include "copy_sever.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(pals_privacy_copy_sever_collect);
PG_FUNCTION_INFO_V1(pals_privacy_copy_sever_flush);

/* The keys collected for one copy binding and source relation (batched). */
typedef struct CopyBatch
{
	CopyKey		key;
	int			nkeys;			/* key columns */
	int			nrows;
	int			maxrows;
	Datum	   *keys;			/* text, nrows x nkeys */
} CopyBatch;

/* batched: the keys collected, and the subtransaction collecting them */
static HTAB *batch = NULL;
static MemoryContext batch_context = NULL;
static SubTransactionId batch_subid = InvalidSubTransactionId;
static bool batch_flushing = false;	/* firings run at once while the flush runs */
static bool batch_callbacks = false;

/*
 * The batched statement of a copy binding (the same as the statement for
 * many keys: one text[] per key column), generated at the first flush that
 * needs it: a return never does.  $1 the copy, $2 the source named (or 0).
 */
static const char *batch_sql_query =
	"SELECT pals_privacy._copy_sever_sql(c, CASE WHEN cardinality(c.key_columns) = 1 "
	"           THEN format('t.%I = ANY ($1::%s[])', c.key_columns[1], "
	"                       pals_privacy._column_type_name(c.relation, c.key_columns[1])) "
	"           ELSE (SELECT format('(%s) IN (SELECT %s FROM unnest(%s) AS u (%s))', "
	"                               string_agg(format('t.%I', k.key), ', ' ORDER BY k.n), "
	"                               string_agg(format('u.k%s::%s', k.n, pals_privacy._column_type_name(c.relation, k.key)), "
	"                                          ', ' ORDER BY k.n), "
	"                               string_agg(format('$%s::text[]', k.n), ', ' ORDER BY k.n), "
	"                               string_agg(format('k%s', k.n), ', ' ORDER BY k.n)) "
	"                   FROM unnest(c.key_columns) WITH ORDINALITY AS k (key, n)) END), "
	"       cardinality(c.key_columns) "
	"  FROM pals_privacy._copy_binding_as($1, nullif($2, 0)) c "
	" WHERE c.relation = $1";

/* Drop the collected keys and stop collecting. */
static void
batch_reset(void)
{
	batch = NULL;
	batch_subid = InvalidSubTransactionId;
	batch_flushing = false;
	if (batch_context != NULL)
		MemoryContextDelete(batch_context);
	batch_context = NULL;
}

static bool
batch_has_keys(void)
{
	HASH_SEQ_STATUS seq;
	CopyBatch  *b;

	if (batch == NULL)
		return false;
	hash_seq_init(&seq, batch);
	while ((b = hash_seq_search(&seq)) != NULL)
		if (b->nrows > 0)
		{
			hash_seq_term(&seq);
			return true;
		}
	return false;
}

static void
batch_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			if (batch_has_keys())
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("derived copies of severed rows were collected and not severed"),
						 errhint("Call pals_privacy._copy_sever_flush() before the transaction ends; "
								 "sever_backlog() does.")));
			batch_reset();
			break;
		default:
			/* commit, abort: the memory is the transaction's, and gone */
			batch = NULL;
			batch_context = NULL;
			batch_subid = InvalidSubTransactionId;
			batch_flushing = false;
			break;
	}
}

static void
batch_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	/* the rows whose keys were collected are rolled back: so are the keys */
	if (event == SUBXACT_EVENT_ABORT_SUB && batch_subid != InvalidSubTransactionId &&
		mySubid == batch_subid)
		batch_reset();
}

/* The firing is collected (batched) rather than run. */
bool
copy_batch_collecting(void)
{
	return batch != NULL && !batch_flushing && batch_subid == GetCurrentSubTransactionId();
}

/* One row's key (nkeys text values, none NULL) into the batch of key. */
void
copy_batch_add(CopyKey *key, int nkeys, char **values)
{
	CopyBatch  *b;
	bool		found;
	MemoryContext old = MemoryContextSwitchTo(batch_context);

	b = hash_search(batch, key, HASH_ENTER, &found);
	if (!found)
	{
		b->nkeys = nkeys;
		b->nrows = 0;
		b->maxrows = 256;
		b->keys = palloc(sizeof(Datum) * nkeys * b->maxrows);
	}
	else if (b->nkeys != nkeys)
		elog(ERROR, "pals_privacy: the copy binding of relation %u changed its key while being collected", key->copy);
	else if (b->nrows == b->maxrows)
	{
		b->maxrows *= 2;
		b->keys = repalloc_huge(b->keys, sizeof(Datum) * nkeys * b->maxrows);
	}
	for (int i = 0; i < nkeys; i++)
		b->keys[b->nrows * nkeys + i] = CStringGetTextDatum(values[i]);
	b->nrows++;
	MemoryContextSwitchTo(old);
}

/*
 * pals_privacy._copy_sever_collect(): from now on, in this subtransaction,
 * the copies of rows severed or deleted are collected, not severed, until
 * _copy_sever_flush() (sever_backlog, one batch).
 */
Datum
pals_privacy_copy_sever_collect(PG_FUNCTION_ARGS)
{
	HASHCTL		ctl;

	if (!batch_callbacks)
	{
		RegisterXactCallback(batch_xact_callback, NULL);
		RegisterSubXactCallback(batch_subxact_callback, NULL);
		batch_callbacks = true;
	}
	if (batch != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("derived copies are already being collected"),
				 errhint("Call pals_privacy._copy_sever_flush() first.")));
	batch_context = AllocSetContextCreate(TopTransactionContext, "pals_privacy copy severing batch",
										  ALLOCSET_DEFAULT_SIZES);
	ctl.keysize = sizeof(CopyKey);
	ctl.entrysize = sizeof(CopyBatch);
	ctl.hcxt = batch_context;
	batch = hash_create("pals_privacy copy severing batch", 8, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	batch_subid = GetCurrentSubTransactionId();
	PG_RETURN_VOID();
}

/*
 * pals_privacy._copy_sever_flush() returns bigint: sever the copies of the
 * keys collected since _copy_sever_collect(), one statement per copy
 * binding and source relation, stop collecting; the number of copy rows
 * changed.
 */
Datum
pals_privacy_copy_sever_flush(PG_FUNCTION_ARGS)
{
	HASH_SEQ_STATUS seq;
	CopyBatch  *b;
	List	   *volatile todo = NIL;
	ListCell   *lc;
	volatile int64 total = 0;

	if (batch == NULL || batch_flushing || batch_subid != GetCurrentSubTransactionId())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("derived copies are not being collected in this subtransaction"),
				 errhint("Call pals_privacy._copy_sever_collect() first, in the same subtransaction.")));
	hash_seq_init(&seq, batch);
	while ((b = hash_seq_search(&seq)) != NULL)
		if (b->nrows > 0)
			todo = lappend(todo, b);

	/*
	 * from here on, firings (of triggers on the copies, say) run at once; if
	 * the flush fails, the subtransaction's rollback drops the keys
	 */
	batch_flushing = true;

	copy_free_retired_plans();
	SPI_connect();
	copy_firing++;
	PG_TRY();
	{
		foreach(lc, todo)
		{
			CopyBatch  *cb = (CopyBatch *) lfirst(lc);
			Relation	rel = relation_open(cb->key.source, AccessShareLock);
			CopySever  *e;
			SPIPlanPtr	plan;
			Datum	   *args;
			Oid		   *types;
			Datum	   *column;
			Oid			run_as;
			int			sec;
			char	   *sql;

			for (int attempt = 0; (e = copy_sever_for(cb->key.copy, cb->key.via, rel)) == NULL; attempt++)
				if (attempt >= 3)
					ereport(ERROR,
							(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
							 errmsg("the copy binding of relation %u changed while it was being read", cb->key.copy),
							 errhint("Retry the statement.")));
			if (e->bound)
			{
				int			nkeys = e->nkeys;

				if (nkeys != cb->nkeys)
					ereport(ERROR,
							(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
							 errmsg("the copy binding of relation %u changed while it was being read", cb->key.copy),
							 errhint("Retry the statement.")));
				/*
				 * Preparing may take in an invalidation that frees the
				 * cache (and e): the plan goes into the entry found again,
				 * or is retired (freed after this flush).
				 */
				plan = e->batch_plan;
				types = palloc(sizeof(Oid) * nkeys);
				for (int i = 0; i < nkeys; i++)
					types[i] = TEXTARRAYOID;
				if (plan == NULL)
				{
					Oid			qtypes[2] = {OIDOID, OIDOID};
					Datum		qargs[2] = {ObjectIdGetDatum(cb->key.copy), ObjectIdGetDatum(cb->key.via)};
					bool		isnull;

					/* as the binding is now: of the same number of key columns, or changed */
					pals_execute_sql_as(pals_registry()->extension_owner, batch_sql_query, 2, qtypes, qargs);
					if (SPI_processed != 1 ||
						DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)) != nkeys ||
						(sql = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)) == NULL)
						ereport(ERROR,
								(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
								 errmsg("the copy binding of relation %u changed while it was being read", cb->key.copy),
								 errhint("Retry the statement.")));
					plan = pals_prepare_saved(sql, nkeys, types);
					e = copy_sever_cached(&cb->key);
					if (e != NULL && e->batch_plan == NULL)
						e->batch_plan = plan;
					else
						copy_retire_plan(plan);
				}
				/* one text[] per key column */
				args = palloc(sizeof(Datum) * nkeys);
				column = palloc(sizeof(Datum) * cb->nrows);
				for (int i = 0; i < nkeys; i++)
				{
					for (int r = 0; r < cb->nrows; r++)
						column[r] = cb->keys[r * nkeys + i];
					args[i] = PointerGetDatum(construct_array(column, cb->nrows, TEXTOID, -1, false, TYPALIGN_INT));
				}
				sec = 0;
				run_as = pals_ils_role(cb->key.copy, &sec);
				pals_execute_write_as_caller(pals_registry()->extension_owner, run_as, sec, plan, args, NULL);
				total += SPI_processed;
			}
			relation_close(rel, NoLock);
		}
	}
	PG_FINALLY();
	{
		copy_firing--;
	}
	PG_END_TRY();
	SPI_finish();
	batch_reset();
	PG_RETURN_INT64(total);
}
