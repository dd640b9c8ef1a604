/*
 * copy_sever.c
 *     _sever_copies(): the row trigger that severs a loan row's derived
 *     copies (bind_copy, docs/binding.md) when the row loses its patron or
 *     is deleted.  Its statements are read and prepared once per backend
 *     (copy_sever_cache.c), an index probe skips them for rows without
 *     copies (copy_sever_probe.c), and under sever_backlog the row's key is
 *     collected for its batch instead (copy_sever_batch.c); copy_sever.h
 *     lists the mechanism's files.
 *
 *     The copies of a row are those whose key columns equal the row's source
 *     key columns, all of them (a unique key of the source, bind_copy).  A
 *     row whose key changes leaves the copies keyed by its old key to no
 *     row: they are severed too, else a row given that key later (a decoy)
 *     would take them over.
 *
 *     A copy may be the source of another copy (a copy of a copy: a rendered
 *     notice keyed by its event).  It carries these triggers too, watching
 *     what its own severing takes (_copy_source_watch: its patron, its link;
 *     for 'delete' the row), so the statement that severs it fires them and
 *     its copies are severed in the same statement, by the key its row had
 *     before the change: a chain is severed parents first, to any depth.
 *
 *     A copy with several sources (bind_copy once per source: Koha's issues
 *     and old_issues, one issue_id) has these triggers on each; those on a
 *     source after the first name it (TG_ARGV[1]), and the statement severs
 *     only copies no other source holds an identified row for, written in
 *     the same transaction (_copy_binding_as, _copy_sever_sql, _copy_held,
 *     _written_here below): a return that moves the loan (INSERT into
 *     old_issues, then DELETE from issues) keeps the fine's link, a decoy
 *     written before does not.
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

PG_FUNCTION_INFO_V1(pals_privacy_sever_copies);
PG_FUNCTION_INFO_V1(pals_privacy_written_here);

static char *
column_text(HeapTuple tup, TupleDesc desc, AttrNumber attno, bool *isnull)
{
	Datum		d = heap_getattr(tup, attno, desc, isnull);
	Oid			out;
	bool		varlena;

	if (*isnull)
		return NULL;
	getTypeOutputInfo(TupleDescAttr(desc, attno - 1)->atttypid, &out, &varlena);
	return OidOutputFunctionCall(out, d);
}

/*
 * Whether the row the trigger fired for takes its copies with it (gone, its
 * key changed, or its patron gone), and with what key (the row's key before
 * the change, as text; NULL where a column is NULL).  cs is a copy of the
 * cache entry, its key_attnos its own.
 */
static bool
copy_key(const CopySever *cs, TriggerData *td, TupleDesc desc, char **values, bool *anykey)
{
	bool		isnull;

	if (!cs->bound)
		return false;
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		bool		key_changed = false;
		bool		changed = false;

		/*
		 * The update trigger has no WHEN clause (read and compiled for every
		 * statement that updates the relation, it cost more than this): an
		 * update that leaves the key and the patron as they were is nothing
		 * to sever.
		 */
		for (int i = 0; i < cs->nkeys && !changed; i++)
			changed = copy_column_distinct(td->tg_trigtuple, td->tg_newtuple, desc, cs->key_attnos[i],
									  cs->key_eq[i], cs->key_coll[i]);
		if (!changed && cs->source_bound)
			changed = copy_column_distinct(td->tg_trigtuple, td->tg_newtuple, desc, cs->patron_attno,
									  cs->patron_eq, cs->patron_coll);
		if (!changed)
			return false;

		for (int i = 0; i < cs->nkeys && !key_changed; i++)
		{
			bool		oldnull;
			bool		newnull;
			char	   *o = column_text(td->tg_trigtuple, desc, cs->key_attnos[i], &oldnull);
			char	   *n = column_text(td->tg_newtuple, desc, cs->key_attnos[i], &newnull);

			key_changed = oldnull != newnull || (!oldnull && strcmp(o, n) != 0);
		}
		if (!key_changed)
		{
			char	   *newp;

			if (!cs->source_bound)
				return false;
			newp = column_text(td->tg_newtuple, desc, cs->patron_attno, &isnull);
			/* still identified: nothing to do */
			if (!(isnull || (cs->placeholder != NULL && strcmp(newp, cs->placeholder) == 0)))
				return false;
		}
	}
	/* the copies keyed by the row's key before the change */
	*anykey = false;
	for (int i = 0; i < cs->nkeys; i++)
	{
		values[i] = column_text(td->tg_trigtuple, desc, cs->key_attnos[i], &isnull);
		*anykey |= !isnull;
	}
	return true;
}

/* A copy of a cache entry that outlives the entry (an invalidation may free it). */
static void
copy_entry(CopySever *cs, const CopySever *e)
{
	*cs = *e;
	if (cs->placeholder != NULL)
		cs->placeholder = pstrdup(cs->placeholder);
	if (cs->sever_with != NULL)
		cs->sever_with = pstrdup(cs->sever_with);
	if (cs->copy_name != NULL)
		cs->copy_name = pstrdup(cs->copy_name);
	if (cs->source_name != NULL)
		cs->source_name = pstrdup(cs->source_name);
	cs->tree = NULL;			/* the entry's: not needed here */
	cs->ntree = 0;
	if (cs->bound)
	{
		cs->key_attnos = palloc(sizeof(AttrNumber) * cs->nkeys);
		memcpy(cs->key_attnos, e->key_attnos, sizeof(AttrNumber) * cs->nkeys);
		cs->key_eq = palloc(sizeof(Oid) * cs->nkeys);
		memcpy(cs->key_eq, e->key_eq, sizeof(Oid) * cs->nkeys);
		cs->key_coll = palloc(sizeof(Oid) * cs->nkeys);
		memcpy(cs->key_coll, e->key_coll, sizeof(Oid) * cs->nkeys);
	}
}

/* The severing statement just run severed fewer rows than there were to sever. */
static bool
copy_rows_left(void)
{
	bool		isnull;
	int64		expected = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	int64		done = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));

	return done < expected;
}

/*
 * Rows of the copy that the severing statement left identified (a BEFORE
 * trigger of the ILS returned NULL, or put the patron back): recorded as
 * pending severs, which the maintenance run retries and purge_expired()
 * heeds, and reported to the client that severed the source.  Never an
 * error: the return or the sever of the source row goes through, as a
 * source row that cannot be severed does (sever.c).
 */
static void
record_left(CopySever *cs, Datum *key, const char *nulls)
{
	uint64		n;

	pals_execute_as(pals_registry()->extension_owner, cs->pending, key, nulls);
	n = SPI_processed;
	if (n == 0)
		return;
	ereport(WARNING,
			(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
			 errmsg_plural("%llu row of \"%s\" was not severed with its source row of \"%s\"",
						   "%llu rows of \"%s\" were not severed with their source row of \"%s\"",
						   (unsigned long) n, (unsigned long long) n, cs->copy_name, cs->source_name),
			 errdetail("A trigger of \"%s\" skipped or undid the change of sever_with '%s' (a BEFORE trigger returned NULL), "
					   "so the rows still tie the former borrower to the item. They are recorded in pals_privacy.sever_pending_rows.",
					   cs->copy_name, cs->sever_with),
			 errhint("Make the trigger let the change through, make the source's settled_when wait for what the trigger waits for, "
					 "or bind the copy with another sever_with. Every maintenance run retries the rows; "
					 "purge_expired() does not purge their patron while they remain.")));
}

/* Collect a row's key (batched); a key with a NULL column matches no copy row. */
static void
collect(CopySever *cs, char **values)
{
	for (int i = 0; i < cs->nkeys; i++)
		if (values[i] == NULL)
			return;
	copy_batch_add(&cs->key, cs->nkeys, values);
}

Datum
pals_privacy_sever_copies(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	Oid			copy;
	volatile Oid via = InvalidOid;
	CopySever  *e;
	CopySever	cs;
	char	  **values;
	bool		anykey;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) || td->tg_trigger->tgnargs < 1)
		elog(ERROR, "pals_privacy: _sever_copies() must be an AFTER ROW trigger with the copy relation as argument");
	copy = DatumGetObjectId(DirectFunctionCall1(oidin, CStringGetDatum(td->tg_trigger->tgargs[0])));
	/* a source of the copy after its first (bind_copy once per source) */
	if (td->tg_trigger->tgnargs >= 2)
		via = DatumGetObjectId(DirectFunctionCall1(oidin, CStringGetDatum(td->tg_trigger->tgargs[1])));
	desc = RelationGetDescr(td->tg_relation);

	/*
	 * Batched (sever_backlog), the binding already read: the key is
	 * collected, no SQL runs (from a copy of the entry, as below).
	 */
	if (copy_batch_collecting())
	{
		CopyKey		k;

		memset(&k, 0, sizeof(k));
		k.copy = copy;
		k.source = RelationGetRelid(td->tg_relation);
		k.via = via;
		e = copy_sever_cached(&k);
		if (e != NULL)
		{
			copy_entry(&cs, e);
			values = palloc0(sizeof(char *) * Max(cs.nkeys, 1));
			if (copy_key(&cs, td, desc, values, &anykey))
				collect(&cs, values);
			return PointerGetDatum(NULL);
		}
	}

	copy_free_retired_plans();
	SPI_connect();
	copy_firing++;
	PG_TRY();
	{
		/* NULL: invalidated while loading, load again; never skip the copies */
		for (int attempt = 0; (e = copy_sever_for(copy, via, td->tg_relation)) == NULL; attempt++)
			if (attempt >= 3)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("the copy binding of relation %u changed while it was being read", copy),
						 errhint("Retry the statement.")));
		/*
		 * A catalog lookup below (an output function) may take in an
		 * invalidation that frees the cache: work from a copy of the entry.
		 * Its plan stays valid (retired plans are freed only between
		 * firings).
		 */
		copy_entry(&cs, e);
		values = palloc0(sizeof(char *) * Max(cs.nkeys, 1));
		if (copy_key(&cs, td, desc, values, &anykey))
		{
			if (copy_batch_collecting())
				collect(&cs, values);
			/*
			 * a row without a key has no copies (NULL equals nothing), nor
			 * one whose first key no copy row has
			 */
			else if (anykey && copy_may_hold(&cs, values[0]))
			{
				Datum	   *args = palloc(sizeof(Datum) * cs.nkeys);
				char	   *nulls = palloc(cs.nkeys + 1);
				int			sec = 0;
				Oid			run_as;

				for (int i = 0; i < cs.nkeys; i++)
				{
					args[i] = values[i] == NULL ? (Datum) 0 : CStringGetTextDatum(values[i]);
					nulls[i] = values[i] == NULL ? 'n' : ' ';
				}
				nulls[cs.nkeys] = '\0';
				run_as = pals_ils_role(copy, &sec);
				pals_execute_write_as_caller(pals_registry()->extension_owner, run_as, sec, cs.plan, args, nulls);
				if (cs.checked && SPI_processed == 1 && copy_rows_left())
					record_left(&cs, args, nulls);
			}
		}
	}
	PG_FINALLY();
	{
		copy_firing--;
	}
	PG_END_TRY();
	SPI_finish();
	return PointerGetDatum(NULL);
}

/*
 * pals_privacy._written_here(xid) returns boolean: was a row with this xmin
 * written by the current transaction (or one of its subtransactions, not
 * rolled back)?  With several sources, a source's sever leaves the copy
 * alone only for a row of another source written in the same transaction:
 * the row moved there (Koha's return, INSERT into old_issues then DELETE
 * from issues), never a row written before by someone else (a decoy with
 * the key, _copy_held).  A row visible to the statement whose xmin is in
 * progress is the transaction's own.
 */
Datum
pals_privacy_written_here(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(TransactionIdIsCurrentTransactionId(DatumGetTransactionId(PG_GETARG_DATUM(0))));
}
