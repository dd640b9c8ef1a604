/*
 * copy_sever.c
 *     _sever_copies(): the row trigger that severs a loan row's derived
 *     copies (bind_copy, docs/binding.md) when the row loses its patron or
 *     is deleted.
 *
 *     It fires on every return that severs (the sever re-points the earlier
 *     row's patron), so it is on the circulation path.  Written in PL/pgSQL
 *     it built and planned its statement at every firing (EXECUTE of
 *     generated SQL, two SQL helper functions re-planned per transaction):
 *     more than the return itself.  Here the statement of each copy binding
 *     is generated once by the same SQL (_copy_sever_sql), prepared, and
 *     kept per backend until the binding, the copy relation or the relation
 *     the trigger is on changes (relcache invalidation; copy_binding sends
 *     one for itself on every change, as the other configuration tables do).
 *     It runs as the extension owner, as the SECURITY DEFINER function did.
 *
 *     The copies of a row are those whose key columns equal the row's source
 *     key columns, all of them (a unique key of the source, bind_copy).  A
 *     row whose key changes leaves the copies keyed by its old key to no
 *     row: they are severed too, else a row given that key later (a decoy)
 *     would take them over.
 */
#include "pals_privacy.h"

#include "access/htup_details.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "catalog/namespace.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

PG_FUNCTION_INFO_V1(pals_privacy_sever_copies);

typedef struct CopyKey
{
	Oid			copy;			/* the copy relation (TG_ARGV[0]) */
	Oid			source;			/* the relation the trigger is on (a partition, a child) */
} CopyKey;

typedef struct CopySever
{
	CopyKey		key;
	bool		bound;			/* false: no such copy binding (nothing to do) */
	bool		source_bound;	/* its source has a loan binding */
	int			nkeys;
	AttrNumber *key_attnos;		/* in the trigger's relation: the source key columns */
	AttrNumber	patron_attno;	/* in the trigger's relation: the loan binding's patron column */
	char	   *placeholder;	/* sever_with 'patron:<id>': <id>; else NULL */
	char	   *sever_with;		/* the copy's strategy, for messages */
	char	   *copy_name;		/* the copy and its source, for messages */
	char	   *source_name;
	bool		checked;		/* the copy has BEFORE UPDATE/DELETE row triggers
								 * or rules of its own, which may skip or undo the
								 * sever: plan says (rows to sever, rows severed) */
	SPIPlanPtr	plan;			/* the severing statement, $1 ... $n the key as text */
	SPIPlanPtr	pending;		/* records what it left identified, $1 ... $n the key */
	int			ntree;			/* the copy's partitions and inheritance children */
	Oid		   *tree;			/* (their triggers decide checked) */
} CopySever;

static HTAB *copies = NULL;
static MemoryContext copies_context = NULL;
static List *retired_plans = NIL;	/* freed when no firing is under way */
static int	firing = 0;
static Oid	copy_binding_relid = InvalidOid;
static Oid	loan_binding_relid = InvalidOid;
static bool callback_registered = false;

static void
forget_copies(void)
{
	HASH_SEQ_STATUS seq;
	CopySever  *e;

	if (copies == NULL)
		return;
	hash_seq_init(&seq, copies);
	while ((e = hash_seq_search(&seq)) != NULL)
		if (e->plan != NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

			retired_plans = lappend(retired_plans, e->plan);
			retired_plans = lappend(retired_plans, e->pending);
			MemoryContextSwitchTo(old);
		}
	hash_destroy(copies);
	copies = NULL;
	MemoryContextReset(copies_context);
}

static void
copies_relcache_callback(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS seq;
	CopySever  *e;

	if (copies == NULL)
		return;
	if (relid == InvalidOid || relid == copy_binding_relid || relid == loan_binding_relid)
	{
		forget_copies();
		return;
	}
	hash_seq_init(&seq, copies);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		bool		hit = e->key.copy == relid || e->key.source == relid;

		for (int i = 0; !hit && i < e->ntree; i++)
			hit = e->tree[i] == relid;
		if (hit)
		{
			hash_seq_term(&seq);
			forget_copies();
			return;
		}
	}
}

static void
free_retired_plans(void)
{
	ListCell   *lc;

	if (firing > 0 || retired_plans == NIL)
		return;
	foreach(lc, retired_plans)
		SPI_freeplan((SPIPlanPtr) lfirst(lc));
	list_free(retired_plans);
	retired_plans = NIL;
}

/* Read the copy binding and its source's loan binding; prepare the statement.  SPI connected. */
static void
load_copy(CopySever *e, Relation rel)
{
	/*
	 * Without a BEFORE UPDATE or DELETE row trigger or a rule on the copy
	 * (or a partition or child of it), the severing statement changes every
	 * row it picks: it runs as is.  With one, the statement also counts the
	 * rows it had to change (an index probe more per return), and what is
	 * left is recorded (record_left).  Creating or changing such a trigger
	 * or rule invalidates the relation, and this entry with it.
	 */
	static const char *sql =
		"WITH RECURSIVE tree(rel) AS (SELECT $1 UNION SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN tree ON i.inhparent = tree.rel) "
		"SELECT CASE WHEN k.checked THEN pals_privacy._copy_sever_checked_sql(c, pals_privacy._copy_key_match(c, NULL)) "
		"            ELSE pals_privacy._copy_sever_sql(c, pals_privacy._copy_key_match(c, NULL)) END, "
		"       c.source_keys::text[], b.patron_column, b.sever_with, "
		"       pals_privacy._copy_pending_sql(c, pals_privacy._copy_key_match(c, NULL)), c.sever_with, "
		"       c.relation::text, c.source::text, k.checked, "
		"       (SELECT pg_catalog.array_agg(rel) FROM tree)::pg_catalog.text "
		"  FROM pals_privacy.copy_binding c "
		"  CROSS JOIN LATERAL (SELECT EXISTS (SELECT FROM pg_catalog.pg_trigger t "
		"                      WHERE t.tgrelid IN (SELECT rel FROM tree) AND NOT t.tgisinternal "
		"                        AND t.tgtype & 3 = 3 AND t.tgtype & 24 <> 0) "  /* ROW, BEFORE, DELETE or UPDATE */
		"                   OR EXISTS (SELECT FROM pg_catalog.pg_rewrite r "
		"                      WHERE r.ev_class IN (SELECT rel FROM tree) AND r.ev_type IN ('2', '4')) AS checked) k "
		"  LEFT JOIN pals_privacy.loan_binding b ON b.relation = c.source "
		" WHERE c.relation = $1";
	Oid			argtype = OIDOID;
	Datum		arg = ObjectIdGetDatum(e->key.copy);
	char	   *stmt;
	char	   *patron_column;
	char	   *sever_with;
	char	   *pending_stmt;
	char	   *copy_sever_with;
	char	   *copy_name;
	char	   *source_name;
	char	   *tree;
	SPIPlanPtr	pending;
	bool		isnull;
	Datum		keys;
	Datum	   *elems;
	int			nelems;
	Oid		   *texttypes;
	SPIPlanPtr	plan;
	MemoryContext old;

	pals_execute_sql_as(pals_registry()->extension_owner, sql, 1, &argtype, &arg);
	e->bound = SPI_processed == 1;
	if (!e->bound)
		return;
	stmt = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	patron_column = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	sever_with = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4);
	pending_stmt = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5);
	copy_sever_with = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 6);
	copy_name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 7);
	source_name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 8);
	tree = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 10);
	if (pending_stmt == NULL || copy_sever_with == NULL || copy_name == NULL || source_name == NULL || tree == NULL)
		elog(ERROR, "pals_privacy: copy binding of %u is incomplete", e->key.copy);
	e->checked = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 9, &isnull)) && !isnull;
	keys = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	if (stmt == NULL || isnull)
		elog(ERROR, "pals_privacy: copy binding of %u is incomplete", e->key.copy);
	deconstruct_array(DatumGetArrayTypeP(keys), TEXTOID, -1, false, TYPALIGN_INT, &elems, NULL, &nelems);
	if (nelems < 1)
		elog(ERROR, "pals_privacy: copy binding of %u is incomplete", e->key.copy);

	e->nkeys = nelems;
	e->key_attnos = MemoryContextAlloc(copies_context, sizeof(AttrNumber) * nelems);
	for (int i = 0; i < nelems; i++)
	{
		char	   *source_key = TextDatumGetCString(elems[i]);

		e->key_attnos[i] = SPI_fnumber(RelationGetDescr(rel), source_key);
		if (e->key_attnos[i] <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of the copy binding of %s is not in %s",
							source_key, get_rel_name(e->key.copy), RelationGetRelationName(rel)),
					 errhint("Bind the copy again with pals_privacy.bind_copy().")));
	}
	e->source_bound = patron_column != NULL;
	if (e->source_bound)
	{
		e->patron_attno = SPI_fnumber(RelationGetDescr(rel), patron_column);
		if (e->patron_attno <= 0)
			elog(ERROR, "pals_privacy: patron column \"%s\" is not in %s",
				 patron_column, RelationGetRelationName(rel));
		if (sever_with != NULL && strncmp(sever_with, "patron:", 7) == 0)
			e->placeholder = MemoryContextStrdup(copies_context, sever_with + 7);
	}
	texttypes = palloc(sizeof(Oid) * nelems);
	for (int i = 0; i < nelems; i++)
		texttypes[i] = TEXTOID;
	plan = pals_prepare_saved(stmt, nelems, texttypes);
	pending = pals_prepare_saved(pending_stmt, nelems, texttypes);
	old = MemoryContextSwitchTo(copies_context);
	e->plan = plan;
	e->pending = pending;
	e->sever_with = pstrdup(copy_sever_with);
	e->copy_name = pstrdup(copy_name);
	e->source_name = pstrdup(source_name);
	{
		/* "{16384,16390}" */
		char	   *p = tree;

		e->tree = palloc(sizeof(Oid) * (strlen(tree) / 2 + 1));
		e->ntree = 0;
		while (*p)
		{
			char	   *end;
			unsigned long v;

			if (*p < '0' || *p > '9')
			{
				p++;
				continue;
			}
			v = strtoul(p, &end, 10);
			e->tree[e->ntree++] = (Oid) v;
			p = end;
		}
	}
	MemoryContextSwitchTo(old);
}

static CopySever *
copy_sever_for(Oid copy, Relation rel)
{
	CopyKey		key;
	CopySever  *e;
	bool		found;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(copies_relcache_callback, (Datum) 0);
		callback_registered = true;
	}
	if (copies_context == NULL)
		copies_context = AllocSetContextCreate(CacheMemoryContext, "pals_privacy copy severing",
											   ALLOCSET_SMALL_SIZES);
	if (copies == NULL)
	{
		HASHCTL		ctl;
		Oid			nsp = get_namespace_oid("pals_privacy", false);

		ctl.keysize = sizeof(CopyKey);
		ctl.entrysize = sizeof(CopySever);
		ctl.hcxt = copies_context;
		copies = hash_create("pals_privacy copy severing", 16, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		copy_binding_relid = get_relname_relid("copy_binding", nsp);
		loan_binding_relid = get_relname_relid("loan_binding", nsp);
	}
	memset(&key, 0, sizeof(key));
	key.copy = copy;
	key.source = RelationGetRelid(rel);
	e = hash_search(copies, &key, HASH_FIND, NULL);
	if (e != NULL)
		return e;

	{
		CopySever	fresh;

		memset(&fresh, 0, sizeof(fresh));
		fresh.key = key;
		load_copy(&fresh, rel);
		/* an invalidation may have arrived while loading: then the table is gone */
		if (copies == NULL)
		{
			if (fresh.plan != NULL)
			{
				MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

				retired_plans = lappend(retired_plans, fresh.plan);
				retired_plans = lappend(retired_plans, fresh.pending);
				MemoryContextSwitchTo(old);
			}
			return NULL;
		}
		e = hash_search(copies, &key, HASH_ENTER, &found);
		*e = fresh;
	}
	return e;
}

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
			 errmsg("%llu rows of \"%s\" were not severed with their source row of \"%s\"",
					(unsigned long long) n, cs->copy_name, cs->source_name),
			 errdetail("A trigger of \"%s\" skipped or undid the change of sever_with '%s' (a BEFORE trigger returned NULL), "
					   "so the rows still tie the former borrower to the item. They are recorded in pals_privacy.sever_pending_rows.",
					   cs->copy_name, cs->sever_with),
			 errhint("Make the trigger let the change through, make the source's settled_when wait for what the trigger waits for, "
					 "or bind the copy with another sever_with. Every maintenance run retries the rows; "
					 "purge_expired() does not purge their patron while they remain.")));
}

Datum
pals_privacy_sever_copies(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	Oid			copy;
	CopySever  *e;
	CopySever	cs;
	bool		isnull;
	char	   *key;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) || td->tg_trigger->tgnargs < 1)
		elog(ERROR, "pals_privacy: _sever_copies() must be an AFTER ROW trigger with the copy relation as argument");
	copy = DatumGetObjectId(DirectFunctionCall1(oidin, CStringGetDatum(td->tg_trigger->tgargs[0])));
	desc = RelationGetDescr(td->tg_relation);

	free_retired_plans();
	SPI_connect();
	firing++;
	PG_TRY();
	{
		/* NULL: invalidated while loading, load again; never skip the copies */
		for (int attempt = 0; (e = copy_sever_for(copy, td->tg_relation)) == NULL; attempt++)
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
		cs = *e;
		if (cs.placeholder != NULL)
			cs.placeholder = pstrdup(cs.placeholder);
		if (cs.sever_with != NULL)
			cs.sever_with = pstrdup(cs.sever_with);
		if (cs.copy_name != NULL)
			cs.copy_name = pstrdup(cs.copy_name);
		if (cs.source_name != NULL)
			cs.source_name = pstrdup(cs.source_name);
		if (cs.bound)
		{
			bool		sever = true;

			cs.key_attnos = palloc(sizeof(AttrNumber) * cs.nkeys);
			memcpy(cs.key_attnos, e->key_attnos, sizeof(AttrNumber) * cs.nkeys);

			if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
			{
				bool		key_changed = false;

				for (int i = 0; i < cs.nkeys && !key_changed; i++)
				{
					bool		oldnull;
					bool		newnull;
					char	   *o = column_text(td->tg_trigtuple, desc, cs.key_attnos[i], &oldnull);
					char	   *n = column_text(td->tg_newtuple, desc, cs.key_attnos[i], &newnull);

					key_changed = oldnull != newnull || (!oldnull && strcmp(o, n) != 0);
				}
				if (!key_changed)
				{
					if (!cs.source_bound)
						sever = false;
					else
					{
						char	   *newp = column_text(td->tg_newtuple, desc, cs.patron_attno, &isnull);

						/* still identified: nothing to do */
						sever = isnull || (cs.placeholder != NULL && strcmp(newp, cs.placeholder) == 0);
					}
				}
			}
			if (sever)
			{
				/* the copies keyed by the row's key before the change */
				Datum	   *values = palloc(sizeof(Datum) * cs.nkeys);
				char	   *nulls = palloc(cs.nkeys + 1);
				bool		anykey = false;

				for (int i = 0; i < cs.nkeys; i++)
				{
					key = column_text(td->tg_trigtuple, desc, cs.key_attnos[i], &isnull);
					values[i] = isnull ? (Datum) 0 : CStringGetTextDatum(key);
					nulls[i] = isnull ? 'n' : ' ';
					anykey |= !isnull;
				}
				nulls[cs.nkeys] = '\0';
				/* a row without a key has no copies (NULL equals nothing) */
				if (anykey)
				{
					pals_execute_as(pals_registry()->extension_owner, cs.plan, values, nulls);
					if (cs.checked && SPI_processed == 1 && copy_rows_left())
						record_left(&cs, values, nulls);
				}
			}
		}
	}
	PG_FINALLY();
	{
		firing--;
	}
	PG_END_TRY();
	SPI_finish();
	return PointerGetDatum(NULL);
}
