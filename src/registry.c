/*
 * registry.c
 *     The binding registry as the C mechanisms see it: a per-backend cache of
 *     the extension's configuration tables (patron_binding, loan_binding,
 *     role_class, ...).  The tables are written by the SQL binding calls; a
 *     statement trigger on each table sends a relcache invalidation for it,
 *     which every backend receives at commit and which drops this cache.
 *
 *     The tables are read with heap scans into structs, as pg_cron reads its
 *     job table, with their columns found by name: a column added in a later
 *     version (loan_binding.closed_when came in 0.2.0) reads as NULL in a
 *     database still on the version before.  No SQL runs, so loading the
 *     registry depends on neither the search path nor the caller's rights.
 *
 *     Also the names of the privacy classes, as role_class stores them.
 */
#include "pals_privacy.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

PG_FUNCTION_INFO_V1(pals_privacy_bindings_changed);

/* Everything cached lives here and is freed at once on invalidation. */
static MemoryContext registry_context = NULL;
static PalsRegistry *registry = NULL;
static PalsRegistry *building = NULL;
static uint64 registry_generation = 0;	/* being loaded */
static HTAB *loan_by_relid = NULL;	/* relid -> bound LoanBinding, or none */

/* OIDs of the configuration tables, to recognise their invalidations. */
#define NCONFIG 13
static Oid	config_relids[NCONFIG];
static const char *const config_tables[NCONFIG] = {
	"patron_binding", "card_binding", "balance_binding", "loan_binding",
	"private_history_binding", "contact_binding", "outbox_binding",
	"retention_rule", "role_class", "purposes", "guardian_binding",
	"copy_binding", "account_binding"
};
enum
{
	CONFIG_PATRON, CONFIG_CARD, CONFIG_BALANCE, CONFIG_LOAN, CONFIG_HISTORY, CONFIG_CONTACT,
	CONFIG_OUTBOX, CONFIG_RETENTION, CONFIG_ROLE, CONFIG_PURPOSES, CONFIG_GUARDIAN,
	CONFIG_COPY, CONFIG_ACCOUNT
};

typedef struct LoanLookup
{
	Oid			relid;
	const LoanBinding *binding;
} LoanLookup;

static const char *const class_names[] = {
	[PALS_CLASS_OPERATIONAL] = "operational",
	[PALS_CLASS_STAFF] = "staff",
	[PALS_CLASS_COLLECTIONS] = "collections",
	[PALS_CLASS_AUDITOR] = "auditor",
	[PALS_CLASS_PATRON] = "patron",
	[PALS_CLASS_STATISTICS] = "statistics",
};

/* set when an invalidation arrives while the registry is being read */
static bool loading = false;
static bool invalidated_while_loading = false;

/* The name of a privacy class, as role_class and the settings spell it. */
const char *
pals_class_name(PalsClass c)
{
	return class_names[c];
}

static bool
parse_class(const char *name, PalsClass *out)
{
	for (int i = 0; i < (int) lengthof(class_names); i++)
		if (strcmp(name, class_names[i]) == 0)
		{
			*out = (PalsClass) i;
			return true;
		}
	return false;
}

/* Forget the cache. */
static void
registry_reset(void)
{
	if (registry_context != NULL)
		pals_retire_context(registry_context);
	registry_context = NULL;
	registry = NULL;
	loan_by_relid = NULL;
}

static void
registry_relcache_callback(Datum arg, Oid relid)
{
	if (loading)
		invalidated_while_loading = true;
	if (registry == NULL)
		return;
	if (relid == InvalidOid)
	{
		registry_reset();
		return;
	}
	for (int i = 0; i < NCONFIG; i++)
		if (config_relids[i] == relid)
		{
			registry_reset();
			return;
		}
	/*
	 * A relation looked up in loan_by_relid changed.  A bound one (a column
	 * renamed, a partition attached): read everything again.  One found
	 * unbound (it may have just become a partition of a bound table): forget
	 * that answer only, for relations of every kind are looked up (the
	 * planner-statistics hook asks about each relation it plans) and their
	 * statistics updates would otherwise reset the registry all the time.
	 */
	if (loan_by_relid != NULL)
	{
		LoanLookup *entry = hash_search(loan_by_relid, &relid, HASH_FIND, NULL);

		if (entry != NULL && entry->binding != NULL)
			registry_reset();
		else if (entry != NULL)
			hash_search(loan_by_relid, &relid, HASH_REMOVE, NULL);
	}
}

/* Statement trigger on every configuration table. */
Datum
pals_privacy_bindings_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "pals_privacy_bindings_changed: not called by trigger manager");
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}

/*
 * Reading a configuration table: a heap scan (through systable, as pg_cron
 * reads its job table) with the columns found by name, since tables gain
 * columns across versions (loan_binding's closed_when and settled_when came
 * in 0.2.0).  Values are converted as SQL would print them.
 */
#define MAX_CONFIG_COLUMNS 16

typedef struct ConfigScan
{
	Relation	rel;
	SysScanDesc scan;
	AttrNumber	attnums[MAX_CONFIG_COLUMNS];
} ConfigScan;

/*
 * Open one configuration table for reading under snap.  The first nrequired
 * columns must exist; the others read as NULL where this version's table
 * lacks them.  The lock is kept to the end of the transaction.
 */
static void
config_begin(ConfigScan *cs, int table, Snapshot snap, const char *const *columns,
			 int ncolumns, int nrequired)
{
	Oid			relid = config_relids[table];

	/* a loader naming more columns than attnums holds: a build error, never an overflow */
	if (ncolumns > MAX_CONFIG_COLUMNS)
		elog(ERROR, "pals_privacy: %d columns of \"%s\" asked for, at most %d are read",
			 ncolumns, config_tables[table], MAX_CONFIG_COLUMNS);
	if (!OidIsValid(relid))
		elog(ERROR, "pals_privacy: configuration table \"%s\" is missing", config_tables[table]);
	cs->rel = table_open(relid, AccessShareLock);
	for (int i = 0; i < ncolumns; i++)
	{
		cs->attnums[i] = get_attnum(relid, columns[i]);
		if (cs->attnums[i] == InvalidAttrNumber && i < nrequired)
			elog(ERROR, "pals_privacy: column \"%s\" of configuration table \"%s\" is missing",
				 columns[i], config_tables[table]);
	}
	cs->scan = systable_beginscan(cs->rel, InvalidOid, false, snap, 0, NULL);
}

static HeapTuple
config_next(ConfigScan *cs)
{
	return systable_getnext(cs->scan);
}

static void
config_end(ConfigScan *cs)
{
	systable_endscan(cs->scan);
	table_close(cs->rel, NoLock);
}

/* The value of column col (an index into the columns given to config_begin). */
static Datum
config_datum(ConfigScan *cs, HeapTuple tup, int col, Oid *type, bool *isnull)
{
	AttrNumber	attno = cs->attnums[col];

	*isnull = true;
	if (attno == InvalidAttrNumber)
		return (Datum) 0;
	*type = TupleDescAttr(RelationGetDescr(cs->rel), attno - 1)->atttypid;
	return heap_getattr(tup, attno, RelationGetDescr(cs->rel), isnull);
}

static char *
output_text(Oid type, Datum value)
{
	Oid			output;
	bool		isvarlena;

	getTypeOutputInfo(type, &output, &isvarlena);
	return OidOutputFunctionCall(output, value);
}

/* A column as text (name, text, ...), or NULL. */
static char *
config_text(ConfigScan *cs, HeapTuple tup, int col)
{
	Oid			type = InvalidOid;
	bool		isnull;
	Datum		d = config_datum(cs, tup, col, &type, &isnull);

	return isnull ? NULL : output_text(type, d);
}

/* An OID column (regclass, regrole), or InvalidOid. */
static Oid
config_oid(ConfigScan *cs, HeapTuple tup, int col)
{
	Oid			type = InvalidOid;
	bool		isnull;
	Datum		d = config_datum(cs, tup, col, &type, &isnull);

	return isnull ? InvalidOid : DatumGetObjectId(d);
}

static bool
config_bool(ConfigScan *cs, HeapTuple tup, int col)
{
	Oid			type = InvalidOid;
	bool		isnull;
	Datum		d = config_datum(cs, tup, col, &type, &isnull);

	return !isnull && DatumGetBool(d);
}

/* An array column of OIDs (regclass[]) as a list of its non-null elements. */
static List *
config_oid_array(ConfigScan *cs, HeapTuple tup, int col)
{
	Oid			type = InvalidOid;
	bool		isnull;
	Datum		d = config_datum(cs, tup, col, &type, &isnull);
	ArrayType  *array;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	List	   *result = NIL;

	if (isnull)
		return NIL;
	array = DatumGetArrayTypeP(d);	/* detoasted once */
	deconstruct_array(array, ARR_ELEMTYPE(array), sizeof(Oid), true,
					  TYPALIGN_INT, &elems, &nulls, &nelems);
	for (int i = 0; i < nelems; i++)
		if (!nulls[i])
			result = lappend_oid(result, DatumGetObjectId(elems[i]));
	return result;
}

/* An array column (name[]) as a list of its non-null elements' text. */
static List *
config_text_array(ConfigScan *cs, HeapTuple tup, int col)
{
	Oid			type = InvalidOid;
	bool		isnull;
	Datum		d = config_datum(cs, tup, col, &type, &isnull);
	ArrayType  *array;
	Oid			elemtype;
	int16		elemlen;
	bool		elembyval;
	char		elemalign;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	List	   *result = NIL;

	if (isnull)
		return NIL;
	array = DatumGetArrayTypeP(d);
	elemtype = ARR_ELEMTYPE(array);
	get_typlenbyvalalign(elemtype, &elemlen, &elembyval, &elemalign);
	deconstruct_array(array, elemtype, elemlen, elembyval, elemalign, &elems, &nulls, &nelems);
	for (int i = 0; i < nelems; i++)
		if (!nulls[i])
			result = lappend(result, output_text(elemtype, elems[i]));
	return result;
}

/* Owner of the extension in this database. */
static Oid
extension_owner(Snapshot snap)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			owner = InvalidOid;

	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("pals_privacy"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, snap, 1, &key);
	if ((tup = systable_getnext(scan)) != NULL)
		owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (!OidIsValid(owner))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"pals_privacy\" is not installed in this database")));
	return owner;
}

static void
load_patrons(Snapshot snap)
{
	static const char *const columns[] = {
		"relation", "id_column", "expires_column", "card_column", "keep_history_column",
		"name_columns", "birth_date_column",
		"keep_history_when"		/* since 0.2.0 */
	};
	ConfigScan	cs;
	HeapTuple	t;

	config_begin(&cs, CONFIG_PATRON, snap, columns, lengthof(columns), lengthof(columns) - 1);
	/* one row at most (a unique index on true) */
	if ((t = config_next(&cs)) != NULL)
	{
		PatronBinding *p = palloc0(sizeof(PatronBinding));

		p->relid = config_oid(&cs, t, 0);
		p->id_column = config_text(&cs, t, 1);
		p->expires_column = config_text(&cs, t, 2);
		p->card_column = config_text(&cs, t, 3);
		p->keep_history_column = config_text(&cs, t, 4);
		p->name_columns = config_text_array(&cs, t, 5);
		p->birth_date_column = config_text(&cs, t, 6);
		p->keep_history_when = config_text(&cs, t, 7);
		building->patrons = p;
	}
	config_end(&cs);
}

static void
load_loans(Snapshot snap)
{
	static const char *const columns[] = {
		"relation", "patron_column", "item_column", "closed_columns", "settled_column",
		"sever_with", "keep_last_borrower", "history_mode",
		"closed_when", "settled_when", "more_patron_columns", "hide_columns",	/* since 0.2.0 */
		"last_borrower_group", "closed_precision", "closed_zone"
	};
	ConfigScan	cs;
	HeapTuple	t;

	config_begin(&cs, CONFIG_LOAN, snap, columns, lengthof(columns), 8);
	while ((t = config_next(&cs)) != NULL)
	{
		LoanBinding *b = palloc0(sizeof(LoanBinding));
		List	   *closed = config_text_array(&cs, t, 3);
		char	   *sever = config_text(&cs, t, 5);
		char	   *history = config_text(&cs, t, 7);
		ListCell   *lc;

		b->relid = config_oid(&cs, t, 0);
		b->patron_column = config_text(&cs, t, 1);
		b->item_column = config_text(&cs, t, 2);
		foreach(lc, closed)
		{
			if (b->nclosed == PALS_MAX_CLOSED)
				break;
			b->closed_columns[b->nclosed++] = lfirst(lc);
		}
		b->settled_column = config_text(&cs, t, 4);
		if (strcmp(sever, "null") == 0)
			b->sever_with = SEVER_NULL;
		else if (strcmp(sever, "delete") == 0)
			b->sever_with = SEVER_DELETE;
		else
		{
			b->sever_with = SEVER_PLACEHOLDER;
			b->placeholder = pstrdup(sever + strlen("patron:"));
		}
		b->keep_last_borrower = config_bool(&cs, t, 6);
		b->history_mode = strcmp(history, "in_place") == 0 ? HISTORY_IN_PLACE : HISTORY_COPY;
		b->closed_when = config_text(&cs, t, 8);
		b->settled_when = config_text(&cs, t, 9);
		foreach(lc, config_text_array(&cs, t, 10))
		{
			if (b->nmore == PALS_MAX_MORE_PATRONS)
				break;			/* loan_binding's CHECK allows no more */
			b->more_patron_columns[b->nmore++] = lfirst(lc);
		}
		b->hide_columns = config_text_array(&cs, t, 11);
		b->tracker = config_oid(&cs, t, 12);
		if (!OidIsValid(b->tracker))
			b->tracker = b->relid;
		/* fail closed: a table without them (a half-made upgrade) reads to the day in UTC */
		b->closed_precision = config_text(&cs, t, 13);
		if (b->closed_precision == NULL)
			b->closed_precision = pstrdup("day");
		b->closed_zone = config_text(&cs, t, 14);
		if (b->closed_zone == NULL)
			b->closed_zone = pstrdup("UTC");
		building->loans = lappend(building->loans, b);
	}
	config_end(&cs);
}

static void
load_outboxes(Snapshot snap)
{
	static const char *const columns[] = {
		"relation", "patron_column", "channel_column", "purpose", "on_missing_consent"
	};
	ConfigScan	cs;
	HeapTuple	t;

	config_begin(&cs, CONFIG_OUTBOX, snap, columns, lengthof(columns), lengthof(columns));
	while ((t = config_next(&cs)) != NULL)
	{
		OutboxBinding *b = palloc0(sizeof(OutboxBinding));
		char	   *mode = config_text(&cs, t, 4);

		b->relid = config_oid(&cs, t, 0);
		b->patron_column = config_text(&cs, t, 1);
		b->channel_column = config_text(&cs, t, 2);
		b->purpose = config_text(&cs, t, 3);
		b->mode = strcmp(mode, "divert") == 0 ? OUTBOX_DIVERT :
			strcmp(mode, "drop") == 0 ? OUTBOX_DROP : OUTBOX_REJECT;
		building->outboxes = lappend(building->outboxes, b);
	}
	config_end(&cs);
}

/*
 * Bindings of the shape (relation, patron column[, column[, channel]]):
 * columns names those of the table, in that order.
 */
static void
load_columns(Snapshot snap, int table, const char *const *columns, int ncolumns, List **out)
{
	ConfigScan	cs;
	HeapTuple	t;

	config_begin(&cs, table, snap, columns, ncolumns, ncolumns);
	while ((t = config_next(&cs)) != NULL)
	{
		ColumnBinding *b = palloc0(sizeof(ColumnBinding));

		b->relid = config_oid(&cs, t, 0);
		b->patron_column = config_text(&cs, t, 1);
		if (ncolumns >= 3)
			b->column = config_text(&cs, t, 2);
		if (ncolumns >= 4)
			b->channel = config_text(&cs, t, 3);
		*out = lappend(*out, b);
	}
	config_end(&cs);
}

static void
load_copies(Snapshot snap)
{
	static const char *const columns[] = {
		"relation", "source", "key_columns", "source_keys", "patron_column", "sever_with",
		"hide_columns", "current_when", "more_sources", "more_source_keys", "copy_when"
	};
	ConfigScan	cs;
	HeapTuple	t;

	config_begin(&cs, CONFIG_COPY, snap, columns, lengthof(columns), lengthof(columns) - 5);
	while ((t = config_next(&cs)) != NULL)
	{
		CopyBinding *b = palloc0(sizeof(CopyBinding));
		char	   *sever = config_text(&cs, t, 5);

		b->relid = config_oid(&cs, t, 0);
		b->source = config_oid(&cs, t, 1);
		b->key_columns = config_text_array(&cs, t, 2);
		b->source_keys = config_text_array(&cs, t, 3);
		b->patron_column = config_text(&cs, t, 4);
		b->hide_columns = config_text_array(&cs, t, 6);
		b->current_when = config_text(&cs, t, 7);
		b->copy_when = config_text(&cs, t, 10);
		{
			List	   *more = config_oid_array(&cs, t, 8);
			List	   *keys = config_text_array(&cs, t, 9);
			int			nkeys = list_length(b->key_columns);

			/* keys that do not add up (cannot happen: CHECK): no further source */
			if (nkeys > 0 && list_length(keys) == nkeys * list_length(more))
				for (int i = 0; i < list_length(more); i++)
				{
					List	   *these = NIL;

					for (int k = 0; k < nkeys; k++)
						these = lappend(these, list_nth(keys, i * nkeys + k));
					b->more_sources = lappend_oid(b->more_sources, list_nth_oid(more, i));
					b->more_source_keys = lappend(b->more_source_keys, these);
				}
		}
		b->sever_with = strcmp(sever, "null") == 0 ? COPY_SEVER_NULL :
			strcmp(sever, "unlink") == 0 ? COPY_SEVER_UNLINK :
			strcmp(sever, "delete") == 0 ? COPY_SEVER_DELETE :
			strcmp(sever, "keep") == 0 ? COPY_SEVER_KEEP : COPY_SEVER_PLACEHOLDER;
		if (b->sever_with == COPY_SEVER_PLACEHOLDER && strncmp(sever, "patron:", 7) == 0)
			b->placeholder = pstrdup(sever + 7);
		building->copies = lappend(building->copies, b);
	}
	config_end(&cs);
}

static void
load_roles(Snapshot snap)
{
	static const char *const columns[] = {"role", "class", "purpose"};
	ConfigScan	cs;
	HeapTuple	t;
	List	   *roles = NIL;
	ListCell   *lc;
	int			i = 0;

	config_begin(&cs, CONFIG_ROLE, snap, columns, lengthof(columns), lengthof(columns));
	while ((t = config_next(&cs)) != NULL)
	{
		RoleClass  *r = palloc0(sizeof(RoleClass));
		char	   *class = config_text(&cs, t, 1);

		r->roleid = config_oid(&cs, t, 0);
		if (class == NULL || !parse_class(class, &r->class))
			r->class = PALS_CLASS_PATRON;	/* cannot happen: CHECK */
		r->purpose = config_text(&cs, t, 2);
		roles = lappend(roles, r);
	}
	config_end(&cs);
	building->nroles = list_length(roles);
	building->roles = palloc0(sizeof(RoleClass) * Max(1, building->nroles));
	foreach(lc, roles)
		building->roles[i++] = *(RoleClass *) lfirst(lc);
}

/*
 * Read the configuration tables into a new context.  Only on success does
 * the result become the registry, so an invalidation arriving meanwhile (it
 * sees no registry to reset) is noticed through invalidated_while_loading.
 */
static void
registry_load(void)
{
	static const char *const card_columns[] = {"relation", "patron_column", "card_column"};
	static const char *const balance_columns[] = {"relation", "patron_column", "amount_column"};
	static const char *const history_columns[] = {"relation", "patron_column"};
	static const char *const contact_columns[] = {"relation", "patron_column", "column_name", "channel"};
	static const char *const guardian_columns[] = {"relation", "minor_column", "guardian_column"};
	static const char *const account_columns[] = {"relation", "patron_column"};
	MemoryContext old = CurrentMemoryContext;
	MemoryContext cxt;
	Oid			nsp;
	Snapshot	snap;

	nsp = get_namespace_oid("pals_privacy", false);
	for (int i = 0; i < NCONFIG; i++)
		config_relids[i] = get_relname_relid(config_tables[i], nsp);

	cxt = AllocSetContextCreate(CacheMemoryContext, "pals_privacy registry",
								ALLOCSET_SMALL_SIZES);
	/*
	 * As of now, not under the caller's snapshot: the cache outlives the
	 * transaction, and a REPEATABLE READ transaction (or a statement whose
	 * snapshot predates the invalidation that dropped the cache) would read
	 * the tables as they were before the change, and the cache would keep
	 * that until the next change (test registry-stale-snapshot).  A
	 * parallel worker cannot take a new snapshot; it reads under the
	 * leader's.
	 */
	snap = RegisterSnapshot(IsInParallelMode() && ActiveSnapshotSet() ? GetActiveSnapshot()
							: GetLatestSnapshot());
	PG_TRY();
	{
		MemoryContextSwitchTo(cxt);
		building = palloc0(sizeof(PalsRegistry));
		building->extension_owner = extension_owner(snap);
		load_patrons(snap);
		load_loans(snap);
		load_outboxes(snap);
		load_columns(snap, CONFIG_CARD, card_columns, lengthof(card_columns), &building->cards);
		load_columns(snap, CONFIG_BALANCE, balance_columns, lengthof(balance_columns),
					 &building->balances);
		load_columns(snap, CONFIG_HISTORY, history_columns, lengthof(history_columns),
					 &building->histories);
		load_columns(snap, CONFIG_CONTACT, contact_columns, lengthof(contact_columns),
					 &building->contacts);
		load_columns(snap, CONFIG_GUARDIAN, guardian_columns, lengthof(guardian_columns),
					 &building->guardians);
		/* tables of 0.2.0: a database still at 0.1.0 has none (before its update) */
		if (OidIsValid(config_relids[CONFIG_COPY]))
			load_copies(snap);
		if (OidIsValid(config_relids[CONFIG_ACCOUNT]))
			load_columns(snap, CONFIG_ACCOUNT, account_columns, lengthof(account_columns),
						 &building->accounts);
		load_roles(snap);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		UnregisterSnapshot(snap);
		building = NULL;
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	UnregisterSnapshot(snap);
	building->generation = ++registry_generation;
	registry = building;
	registry_context = cxt;
	building = NULL;
}

/*
 * The registry of the current database, loaded on first use after any
 * change.  Pointers into it stay valid until the end of the transaction.
 */
const PalsRegistry *
pals_registry(void)
{
	for (volatile int attempt = 0; registry == NULL || invalidated_while_loading; attempt++)
	{
		if (registry != NULL)
		{
			if (attempt > 3)
				break;			/* a storm of invalidations: use what we have */
			registry_reset();	/* what we read may be stale: read again */
		}
		loading = true;
		invalidated_while_loading = false;
		PG_TRY();
		{
			registry_load();
		}
		PG_FINALLY();
		{
			loading = false;
		}
		PG_END_TRY();
	}
	invalidated_while_loading = false;
	return registry;
}

/*
 * The extension exists in this database and its registry can be read.  The
 * schema outlives DROP EXTENSION (CREATE EXTENSION made it, but it is not a
 * member), so presence is remembered per configuration table, which does not.
 */
static bool ready_known = false;	/* ready_value holds until a catalog change */
static bool ready_value = false;
static bool nsp_known = false;	/* nsp_value holds until a catalog change */
static Oid	nsp_value = InvalidOid;

/* A schema or a relation was created, dropped or renamed: ask again. */
static void
ready_syscache_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	ready_known = false;
	nsp_known = false;
}

/*
 * The OID of the schema pals_privacy, or InvalidOid: none.  Asked for every
 * row of a statistics view a redacted class reads (_stats_visible): kept
 * until an invalidation of the schema name cache, which creating, dropping
 * or renaming a schema sends (and an aborted one undoes).
 */
Oid
pals_extension_namespace(void)
{
	if (!nsp_known)
	{
		nsp_value = get_namespace_oid("pals_privacy", true);
		nsp_known = true;
	}
	return nsp_value;
}

bool
pals_extension_ready(void)
{
	static Oid	checked_relid = InvalidOid;
	static bool present = false;
	Oid			nsp;
	Oid			relid;

	if (!IsTransactionState() || creating_extension || loading)
		return false;

	/*
	 * Asked several times for every statement planned (the planner hook,
	 * the statistics hooks per column): the answer is kept until an
	 * invalidation of the schema or relation name caches.  CREATE and DROP
	 * EXTENSION create and drop the schema and its tables; an aborted one
	 * undoes them with invalidations too.
	 */
	if (ready_known)
		return ready_value;
	ready_value = false;
	nsp = pals_extension_namespace();
	relid = OidIsValid(nsp) ? get_relname_relid("loan_binding", nsp) : InvalidOid;
	if (OidIsValid(relid))
	{
		if (relid != checked_relid)
		{
			present = OidIsValid(get_extension_oid("pals_privacy", true));
			checked_relid = relid;
		}
		ready_value = present;
	}
	ready_known = true;
	return ready_value;
}

/* The configuration tables (a plan that depends on the registry lists them). */
const Oid *
pals_config_relids(int *n)
{
	*n = NCONFIG;
	return config_relids;
}

/*
 * The loan binding that covers a relation: its own, or that of the nearest
 * bound ancestor (partitions and inheritance children are covered by their
 * parent's binding).  NULL if none.  Memoised per relation.
 */
const LoanBinding *
pals_loan_binding_for(Oid relid)
{
	const PalsRegistry *reg = pals_registry();
	LoanLookup *entry;
	bool		found;
	const LoanBinding *result = NULL;
	List	   *todo;
	ListCell   *lc;

	if (loan_by_relid == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(LoanLookup);
		ctl.hcxt = registry_context;
		loan_by_relid = hash_create("pals_privacy loan bindings", 16, &ctl,
									HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	entry = hash_search(loan_by_relid, &relid, HASH_FIND, NULL);
	if (entry != NULL)
		return entry->binding;

	todo = NIL;
	pals_ancestors(relid, &todo);
	foreach(lc, todo)
	{
		ListCell   *lb;

		foreach(lb, reg->loans)
			if (((LoanBinding *) lfirst(lb))->relid == lfirst_oid(lc))
				result = lfirst(lb);
		if (result != NULL)
			break;
	}
	list_free(todo);

	/* the catalog reads above may have reset the registry: then keep nothing */
	if (reg != registry || loan_by_relid == NULL)
		return result;
	entry = hash_search(loan_by_relid, &relid, HASH_ENTER, &found);
	entry->binding = result;
	return result;
}

void
pals_registry_init(void)
{
	CacheRegisterRelcacheCallback(registry_relcache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACENAME, ready_syscache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(RELNAMENSP, ready_syscache_callback, (Datum) 0);
}
