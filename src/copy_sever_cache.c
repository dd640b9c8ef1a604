/*
 * copy_sever_cache.c
 *     The per-backend cache of the copy bindings (bind_copy): for each copy,
 *     relation the trigger is on and source named, the binding as the
 *     trigger needs it and its severing statements, prepared.
 *
 *     The copy-severing trigger (_sever_copies, copy_sever.c) fires on
 *     every return that severs (the sever re-points the earlier row's
 *     patron), so it is on the circulation path.  Written in PL/pgSQL it
 *     built and planned its statement at every firing (EXECUTE of
 *     generated SQL, two SQL helper functions re-planned per transaction):
 *     more than the return itself.  Here the statement of each copy binding
 *     is generated once by the same SQL (_copy_sever_sql), prepared, and
 *     kept per backend until the binding, the copy relation or the relation
 *     the trigger is on changes (relcache invalidation; copy_binding sends
 *     one for itself on every change, as the other configuration tables do).
 *     It runs as the extension owner, as the SECURITY DEFINER function did.
 *
 *     A plan of an entry an invalidation drops is retired, and freed only
 *     when no firing is under way (copy_firing): a firing works from a
 *     copy of its entry, with the entry's plan.
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

static HTAB *copies = NULL;
static MemoryContext copies_context = NULL;
static List *retired_plans = NIL;	/* freed when no firing is under way */
int			copy_firing = 0;
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
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		if (e->plan != NULL)
			retired_plans = lappend(retired_plans, e->plan);
		if (e->pending != NULL)
			retired_plans = lappend(retired_plans, e->pending);
		if (e->batch_plan != NULL)
			retired_plans = lappend(retired_plans, e->batch_plan);
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

void
copy_free_retired_plans(void)
{
	ListCell   *lc;

	if (copy_firing > 0 || retired_plans == NIL)
		return;
	foreach(lc, retired_plans)
		SPI_freeplan((SPIPlanPtr) lfirst(lc));
	list_free(retired_plans);
	retired_plans = NIL;
}

/*
 * Read the copy binding and what its source watches (its loan binding's
 * patron column, or for a source that is itself a copy, _copy_source_watch);
 * prepare the statement.  SPI connected.
 */
static void
load_copy(CopySever *e, Relation rel)
{
	/*
	 * Without a BEFORE UPDATE or DELETE row trigger or a rule on the copy
	 * (or a partition or child of it), the severing statement changes every
	 * row it picks: it runs as is.  With one, the statement also counts the
	 * rows it had to change (an index probe more per return), and what is
	 * left is recorded (record_left).  Creating or changing such a trigger
	 * or rule invalidates the relation, and this entry with it.  (The
	 * backlog's batched statement is not checked: sever_copies() at its end
	 * records what the ILS kept.)
	 */
	static const char *sql =
		"WITH RECURSIVE tree(rel) AS (SELECT $1 UNION SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN tree ON i.inhparent = tree.rel) "
		"SELECT CASE WHEN k.checked THEN pals_privacy._copy_sever_checked_sql(c, pals_privacy._copy_key_match(c, NULL)) "
		"            ELSE pals_privacy._copy_sever_sql(c, pals_privacy._copy_key_match(c, NULL)) END, "
		"       c.source_keys::text[], b.patron_column, b.sever_with, "
		"       NULL, "	/* the batched statement: batch_sql_query, at the first flush */
		"       CASE WHEN k.checked THEN pals_privacy._copy_pending_sql(c, pals_privacy._copy_key_match(c, NULL)) END, "
		"       c.sever_with, "
		"       c.relation::text, c.source::text, k.checked, "
		"       (SELECT pg_catalog.array_agg(rel) FROM tree)::pg_catalog.text, c.key_columns[1] "
		"  FROM pals_privacy._copy_binding_as($1, nullif($2, 0)) c "
		"  CROSS JOIN LATERAL (SELECT EXISTS (SELECT FROM pg_catalog.pg_trigger t "
		"                      WHERE t.tgrelid IN (SELECT rel FROM tree) AND NOT t.tgisinternal "
		"                        AND t.tgtype & 3 = 3 AND t.tgtype & 24 <> 0) "  /* ROW, BEFORE, DELETE or UPDATE */
		"                   OR EXISTS (SELECT FROM pg_catalog.pg_rewrite r "
		"                      WHERE r.ev_class IN (SELECT rel FROM tree) AND r.ev_type IN ('2', '4')) AS checked) k "
		/* the source's patron column: a loan binding's, or what a copy of a copy watches */
		"  LEFT JOIN LATERAL pals_privacy._copy_source_watch(c.source) b ON true "
		" WHERE c.relation = $1";
	Oid			argtypes[2] = {OIDOID, OIDOID};
	Datum		args[2] = {ObjectIdGetDatum(e->key.copy), ObjectIdGetDatum(e->key.via)};
	char	   *stmt;
	char	   *patron_column;
	char	   *sever_with;
	char	   *pending_stmt;
	char	   *copy_sever_with;
	char	   *copy_name;
	char	   *source_name;
	char	   *tree;
	char	   *first_key;
	SPIPlanPtr	pending;
	bool		isnull;
	Datum		keys;
	Datum	   *elems;
	int			nelems;
	Oid		   *texttypes;
	SPIPlanPtr	plan;
	MemoryContext old;

	pals_execute_sql_as(pals_registry()->extension_owner, sql, 2, argtypes, args);
	e->bound = SPI_processed == 1;
	if (!e->bound)
		return;
	stmt = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	keys = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	patron_column = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	sever_with = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4);
	pending_stmt = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 6);
	copy_sever_with = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 7);
	copy_name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 8);
	source_name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 9);
	tree = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 11);
	first_key = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 12);
	if (first_key == NULL)
		elog(ERROR, "pals_privacy: copy binding of %u is incomplete", e->key.copy);
	e->checked = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 10, &isnull)) && !isnull;
	if ((e->checked && pending_stmt == NULL) || copy_sever_with == NULL || copy_name == NULL || source_name == NULL || tree == NULL)
		elog(ERROR, "pals_privacy: copy binding of %u is incomplete", e->key.copy);
	keys = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	if (stmt == NULL || isnull)
		elog(ERROR, "pals_privacy: copy binding of %u is incomplete", e->key.copy);
	deconstruct_array(DatumGetArrayTypeP(keys), TEXTOID, -1, false, TYPALIGN_INT, &elems, NULL, &nelems);
	if (nelems < 1)
		elog(ERROR, "pals_privacy: copy binding of %u is incomplete", e->key.copy);

	e->nkeys = nelems;
	e->key_attnos = MemoryContextAlloc(copies_context, sizeof(AttrNumber) * nelems);
	e->key_eq = MemoryContextAlloc(copies_context, sizeof(Oid) * nelems);
	e->key_coll = MemoryContextAlloc(copies_context, sizeof(Oid) * nelems);
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
		e->key_eq[i] = copy_distinct_eq(TupleDescAttr(RelationGetDescr(rel), e->key_attnos[i] - 1)->atttypid);
		e->key_coll[i] = TupleDescAttr(RelationGetDescr(rel), e->key_attnos[i] - 1)->attcollation;
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
		e->patron_eq = copy_distinct_eq(TupleDescAttr(RelationGetDescr(rel), e->patron_attno - 1)->atttypid);
		e->patron_coll = TupleDescAttr(RelationGetDescr(rel), e->patron_attno - 1)->attcollation;
	}
	texttypes = palloc(sizeof(Oid) * nelems);
	for (int i = 0; i < nelems; i++)
		texttypes[i] = TEXTOID;
	plan = pals_prepare_saved(stmt, nelems, texttypes);
	/* what a checked statement left is recorded; an unchecked one leaves nothing */
	pending = e->checked ? pals_prepare_saved(pending_stmt, nelems, texttypes) : NULL;
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
	copy_find_probe(e, first_key);
}

CopySever *
copy_sever_for(Oid copy, Oid via, Relation rel)
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
	key.via = via;
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
				if (fresh.pending != NULL)
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

/* The entry of key if it is cached (none is read), or NULL. */
CopySever *
copy_sever_cached(const CopyKey *key)
{
	return copies != NULL ? hash_search(copies, key, HASH_FIND, NULL) : NULL;
}

/* A saved plan no entry holds: freed when no firing is under way. */
void
copy_retire_plan(SPIPlanPtr plan)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

	retired_plans = lappend(retired_plans, plan);
	MemoryContextSwitchTo(old);
}
