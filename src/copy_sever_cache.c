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
 *     It is planned and checked as the extension owner, as the SECURITY
 *     DEFINER function was, and runs as the caller (its triggers with it:
 *     pals_execute_write_as_caller, spi_util.c).
 *
 *     A plan of an entry an invalidation drops is retired, and freed only
 *     when no firing is under way (copy_firing): a firing works from a
 *     copy of its entry, with the entry's plan.
 *
 *     The binding's SQL answer (statements, key names, strategy) is the
 *     same for every relation the trigger is on: a partitioned source's
 *     partitions each have an entry (their attribute numbers and plans),
 *     but the SQL runs once per copy and source named (answers), not once
 *     per partition; every invalidation that drops the entries drops the
 *     answers with them.
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
static HTAB *answers = NULL;	/* CopyAnswer by (copy, via): see load_copy */
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
	answers = NULL;				/* in copies_context */
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
 * What the SQL below reads of a copy binding, for one (copy, via): the same
 * for every relation its trigger is on (a partitioned source's partitions,
 * an inheritance parent's children), so it is read once and kept with the
 * entries (answers, reset with them by every invalidation that resets
 * them); each relation's entry then takes its attribute numbers and plans
 * from it (load_copy).  Strings and arrays in copies_context.
 */
typedef struct CopyAnswer
{
	CopyKey		key;			/* source: InvalidOid */
	bool		bound;
	bool		checked;
	char	   *stmt;			/* the severing statement */
	char	   *pending_stmt;	/* checked: the record of what it left */
	char	   *patron_column;	/* what the source watches, or NULL */
	char	   *sever_with;		/* the source's strategy (its placeholder) */
	char	   *copy_sever_with;
	char	   *copy_name;
	char	   *source_name;
	char	   *first_key;		/* the copy's first key column (its probe) */
	int			nkeys;
	char	  **source_keys;	/* the source's key columns, by name */
	int			ntree;
	Oid		   *tree;
} CopyAnswer;

static char *
keep_string(const char *s)
{
	return s != NULL ? MemoryContextStrdup(copies_context, s) : NULL;
}

/*
 * Read the copy binding and what its source watches (its loan binding's
 * patron column, or for a source that is itself a copy, _copy_source_watch)
 * into a.  SPI connected.
 */
static void
read_answer(CopyAnswer *a)
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
	Datum		args[2] = {ObjectIdGetDatum(a->key.copy), ObjectIdGetDatum(a->key.via)};
	char	   *tree;
	bool		isnull;
	Datum		keys;
	Datum	   *elems;
	int			nelems;

	pals_execute_sql_as(pals_registry()->extension_owner, sql, 2, argtypes, args);
	a->bound = SPI_processed == 1;
	if (!a->bound)
		return;
	a->stmt = keep_string(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	keys = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	if (a->stmt == NULL || isnull)
		elog(ERROR, "pals_privacy: copy binding of %u is incomplete", a->key.copy);
	a->patron_column = keep_string(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3));
	a->sever_with = keep_string(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4));
	a->pending_stmt = keep_string(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 6));
	a->copy_sever_with = keep_string(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 7));
	a->copy_name = keep_string(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 8));
	a->source_name = keep_string(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 9));
	tree = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 11);
	a->first_key = keep_string(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 12));
	if (a->first_key == NULL)
		elog(ERROR, "pals_privacy: copy binding of %u is incomplete", a->key.copy);
	a->checked = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 10, &isnull)) && !isnull;
	if ((a->checked && a->pending_stmt == NULL) || a->copy_sever_with == NULL || a->copy_name == NULL ||
		a->source_name == NULL || tree == NULL)
		elog(ERROR, "pals_privacy: copy binding of %u is incomplete", a->key.copy);
	deconstruct_array(DatumGetArrayTypeP(keys), TEXTOID, -1, false, TYPALIGN_INT, &elems, NULL, &nelems);
	if (nelems < 1)
		elog(ERROR, "pals_privacy: copy binding of %u is incomplete", a->key.copy);
	a->nkeys = nelems;
	a->source_keys = MemoryContextAlloc(copies_context, sizeof(char *) * nelems);
	for (int i = 0; i < nelems; i++)
		a->source_keys[i] = keep_string(TextDatumGetCString(elems[i]));
	{
		/* "{16384,16390}" */
		char	   *p = tree;

		a->tree = MemoryContextAlloc(copies_context, sizeof(Oid) * (strlen(tree) / 2 + 1));
		a->ntree = 0;
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
			a->tree[a->ntree++] = (Oid) v;
			p = end;
		}
	}
}

/*
 * The answer for (copy, via), read if no entry of another relation read it
 * since the last invalidation; a copy in the current memory context, since
 * an invalidation taken in while the caller works (a catalog lookup, a
 * prepare) resets copies_context.  SPI connected.
 */
static CopyAnswer *
answer_for(Oid copy, Oid via)
{
	CopyKey		key;
	CopyAnswer *kept = NULL;
	CopyAnswer *a = palloc0(sizeof(CopyAnswer));

	memset(&key, 0, sizeof(key));
	key.copy = copy;
	key.via = via;
	if (answers != NULL)
		kept = hash_search(answers, &key, HASH_FIND, NULL);
	if (kept == NULL)
	{
		CopyAnswer	fresh;

		memset(&fresh, 0, sizeof(fresh));
		fresh.key = key;
		read_answer(&fresh);
		/* an invalidation while reading reset answers: use it, keep it not */
		if (answers != NULL)
		{
			bool		found;

			kept = hash_search(answers, &key, HASH_ENTER, &found);
			*kept = fresh;
		}
		else
			kept = &fresh;
		*a = *kept;
	}
	else
		*a = *kept;
	/* the copy: strings and arrays out of copies_context */
	a->stmt = a->stmt ? pstrdup(a->stmt) : NULL;
	a->pending_stmt = a->pending_stmt ? pstrdup(a->pending_stmt) : NULL;
	a->patron_column = a->patron_column ? pstrdup(a->patron_column) : NULL;
	a->sever_with = a->sever_with ? pstrdup(a->sever_with) : NULL;
	a->copy_sever_with = a->copy_sever_with ? pstrdup(a->copy_sever_with) : NULL;
	a->copy_name = a->copy_name ? pstrdup(a->copy_name) : NULL;
	a->source_name = a->source_name ? pstrdup(a->source_name) : NULL;
	a->first_key = a->first_key ? pstrdup(a->first_key) : NULL;
	if (a->bound)
	{
		char	  **keys = palloc(sizeof(char *) * a->nkeys);
		Oid		   *tree = palloc(sizeof(Oid) * Max(a->ntree, 1));

		for (int i = 0; i < a->nkeys; i++)
			keys[i] = pstrdup(a->source_keys[i]);
		memcpy(tree, a->tree, sizeof(Oid) * a->ntree);
		a->source_keys = keys;
		a->tree = tree;
	}
	return a;
}

/*
 * The entry e of the relation rel the trigger is on: the binding's answer
 * (answer_for), the key and patron columns' attribute numbers in rel, the
 * statements prepared.  SPI connected.
 */
static void
load_copy(CopySever *e, Relation rel)
{
	CopyAnswer *a = answer_for(e->key.copy, e->key.via);
	int			nelems = a->nkeys;
	Oid		   *texttypes;
	SPIPlanPtr	plan;
	SPIPlanPtr	pending;
	MemoryContext old;

	e->bound = a->bound;
	if (!e->bound)
		return;
	e->checked = a->checked;
	e->nkeys = nelems;
	e->key_attnos = MemoryContextAlloc(copies_context, sizeof(AttrNumber) * nelems);
	e->key_eq = MemoryContextAlloc(copies_context, sizeof(Oid) * nelems);
	e->key_coll = MemoryContextAlloc(copies_context, sizeof(Oid) * nelems);
	for (int i = 0; i < nelems; i++)
	{
		char	   *source_key = a->source_keys[i];

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
	e->source_bound = a->patron_column != NULL;
	if (e->source_bound)
	{
		e->patron_attno = SPI_fnumber(RelationGetDescr(rel), a->patron_column);
		if (e->patron_attno <= 0)
			elog(ERROR, "pals_privacy: patron column \"%s\" is not in %s",
				 a->patron_column, RelationGetRelationName(rel));
		if (a->sever_with != NULL && strncmp(a->sever_with, "patron:", 7) == 0)
			e->placeholder = MemoryContextStrdup(copies_context, a->sever_with + 7);
		e->patron_eq = copy_distinct_eq(TupleDescAttr(RelationGetDescr(rel), e->patron_attno - 1)->atttypid);
		e->patron_coll = TupleDescAttr(RelationGetDescr(rel), e->patron_attno - 1)->attcollation;
	}
	texttypes = palloc(sizeof(Oid) * nelems);
	for (int i = 0; i < nelems; i++)
		texttypes[i] = TEXTOID;
	plan = pals_prepare_saved(a->stmt, nelems, texttypes);
	/* what a checked statement left is recorded; an unchecked one leaves nothing */
	pending = e->checked ? pals_prepare_saved(a->pending_stmt, nelems, texttypes) : NULL;
	old = MemoryContextSwitchTo(copies_context);
	e->plan = plan;
	e->pending = pending;
	e->sever_with = pstrdup(a->copy_sever_with);
	e->copy_name = pstrdup(a->copy_name);
	e->source_name = pstrdup(a->source_name);
	e->tree = palloc(sizeof(Oid) * Max(a->ntree, 1));
	memcpy(e->tree, a->tree, sizeof(Oid) * a->ntree);
	e->ntree = a->ntree;
	MemoryContextSwitchTo(old);
	copy_find_probe(e, a->first_key);
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
		ctl.entrysize = sizeof(CopyAnswer);
		answers = hash_create("pals_privacy copy binding answers", 16, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
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
