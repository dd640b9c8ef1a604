/*
 * registry.c
 *     The binding registry as the C mechanisms see it: a per-backend cache of
 *     the extension's configuration tables (patron_binding, loan_binding,
 *     role_class, ...).  The tables are written by the SQL binding calls; a
 *     statement trigger on each table sends a relcache invalidation for it,
 *     which every backend receives at commit and which drops this cache.
 *
 *     Also the names of the privacy classes, as role_class stores them.
 */
#include "pals_privacy.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "catalog/pg_class.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/array.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "utils/guc.h"

PG_FUNCTION_INFO_V1(pals_privacy_bindings_changed);

/* Everything cached lives here and is freed at once on invalidation. */
static MemoryContext registry_context = NULL;
static PalsRegistry *registry = NULL;
static PalsRegistry *building = NULL;
static MemoryContext building_context = NULL;
static uint64 registry_generation = 0;	/* being loaded */
static HTAB *loan_by_relid = NULL;	/* relid -> bound LoanBinding, or none */

/* OIDs of the configuration tables, to recognise their invalidations. */
#define NCONFIG 11
static Oid	config_relids[NCONFIG];
static const char *const config_tables[NCONFIG] = {
	"patron_binding", "card_binding", "balance_binding", "loan_binding",
	"private_history_binding", "contact_binding", "outbox_binding",
	"retention_rule", "role_class", "purposes", "guardian_binding"
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

bool
pals_parse_class(const char *name, PalsClass *out)
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

static char *
spi_text(HeapTuple tup, TupleDesc desc, int col)
{
	char	   *v = SPI_getvalue(tup, desc, col);

	return v ? pstrdup(v) : NULL;
}

/* Owner of the extension in this database (pg_extension is readable by all). */
static Oid
extension_owner(void)
{
	int			rc = SPI_execute("SELECT extowner FROM pg_catalog.pg_extension"
								 " WHERE extname = 'pals_privacy'", true, 1);

	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"pals_privacy\" is not installed in this database")));
	return (Oid) strtoul(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), NULL, 10);
}

static void
load_patrons(void)
{
	int			rc = SPI_execute("SELECT relation::oid, id_column, expires_column, card_column,"
								 " keep_history_column, array_to_string(name_columns, chr(1)),"
								 " birth_date_column FROM pals_privacy.patron_binding",
								 true, 1);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "pals_privacy: reading patron_binding failed: %d", rc);
	MemoryContextSwitchTo(building_context);	/* SPI left us in its own */
	if (SPI_processed == 1)
	{
		HeapTuple	t = SPI_tuptable->vals[0];
		TupleDesc	d = SPI_tuptable->tupdesc;
		PatronBinding *p = palloc0(sizeof(PatronBinding));

		p->relid = (Oid) strtoul(SPI_getvalue(t, d, 1), NULL, 10);
		p->id_column = spi_text(t, d, 2);
		p->expires_column = spi_text(t, d, 3);
		p->card_column = spi_text(t, d, 4);
		p->keep_history_column = spi_text(t, d, 5);
		p->birth_date_column = spi_text(t, d, 7);
		if (SPI_getvalue(t, d, 6) != NULL && *SPI_getvalue(t, d, 6) != '\0')
		{
			char	   *names = spi_text(t, d, 6);
			char	   *next;

			for (char *n = names; n != NULL; n = next)
			{
				next = strchr(n, '\1');
				if (next)
					*next++ = '\0';
				p->name_columns = lappend(p->name_columns, n);
			}
		}
		building->patrons = p;
	}
}

static void
load_loans(void)
{
	int			rc = SPI_execute("SELECT relation::oid, patron_column, item_column, closed_columns,"
								 " settled_column, sever_with, keep_last_borrower, history_mode,"
								 " to_jsonb(b) ->> 'closed_when', to_jsonb(b) ->> 'settled_when'"
								 " FROM pals_privacy.loan_binding b",	/* 0.1.0 has neither column */
								 true, 0);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "pals_privacy: reading loan_binding failed: %d", rc);
	MemoryContextSwitchTo(building_context);	/* SPI left us in its own */
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		LoanBinding *b = palloc0(sizeof(LoanBinding));
		bool		isnull;
		Datum		closed;
		Datum	   *elems;
		int			nelems;
		char	   *sever;

		b->relid = (Oid) strtoul(SPI_getvalue(t, d, 1), NULL, 10);
		b->patron_column = spi_text(t, d, 2);
		b->item_column = spi_text(t, d, 3);
		closed = SPI_getbinval(t, d, 4, &isnull);
		deconstruct_array(DatumGetArrayTypeP(closed), NAMEOID, NAMEDATALEN, false,
						  TYPALIGN_CHAR, &elems, NULL, &nelems);
		b->nclosed = Min(nelems, PALS_MAX_CLOSED);
		for (int j = 0; j < b->nclosed; j++)
			b->closed_columns[j] = pstrdup(NameStr(*DatumGetName(elems[j])));
		b->settled_column = spi_text(t, d, 5);
		sever = SPI_getvalue(t, d, 6);
		if (strcmp(sever, "null") == 0)
			b->sever_with = SEVER_NULL;
		else if (strcmp(sever, "delete") == 0)
			b->sever_with = SEVER_DELETE;
		else
		{
			b->sever_with = SEVER_PLACEHOLDER;
			b->placeholder = pstrdup(sever + strlen("patron:"));
		}
		b->keep_last_borrower = DatumGetBool(SPI_getbinval(t, d, 7, &isnull));
		b->history_mode = strcmp(SPI_getvalue(t, d, 8), "in_place") == 0
			? HISTORY_IN_PLACE : HISTORY_COPY;
		b->closed_when = spi_text(t, d, 9);
		b->settled_when = spi_text(t, d, 10);
		building->loans = lappend(building->loans, b);
	}
}

static void
load_outboxes(void)
{
	int			rc = SPI_execute("SELECT relation::oid, patron_column, channel_column, purpose,"
								 " on_missing_consent FROM pals_privacy.outbox_binding",
								 true, 0);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "pals_privacy: reading outbox_binding failed: %d", rc);
	MemoryContextSwitchTo(building_context);	/* SPI left us in its own */
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		OutboxBinding *b = palloc0(sizeof(OutboxBinding));
		char	   *mode = SPI_getvalue(t, d, 5);

		b->relid = (Oid) strtoul(SPI_getvalue(t, d, 1), NULL, 10);
		b->patron_column = spi_text(t, d, 2);
		b->channel_column = spi_text(t, d, 3);
		b->purpose = spi_text(t, d, 4);
		b->mode = strcmp(mode, "divert") == 0 ? OUTBOX_DIVERT :
			strcmp(mode, "drop") == 0 ? OUTBOX_DROP : OUTBOX_REJECT;
		building->outboxes = lappend(building->outboxes, b);
	}
}

/* Bindings of the shape (relation, patron column[, column[, channel]]). */
static void
load_columns(const char *sql, List **out)
{
	int			rc = SPI_execute(sql, true, 0);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "pals_privacy: \"%s\" failed: %d", sql, rc);
	MemoryContextSwitchTo(building_context);	/* SPI left us in its own */
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		ColumnBinding *b = palloc0(sizeof(ColumnBinding));

		b->relid = (Oid) strtoul(SPI_getvalue(t, d, 1), NULL, 10);
		b->patron_column = spi_text(t, d, 2);
		if (d->natts >= 3)
			b->column = spi_text(t, d, 3);
		if (d->natts >= 4)
			b->channel = spi_text(t, d, 4);
		*out = lappend(*out, b);
	}
}

static void
load_roles(void)
{
	int			rc = SPI_execute("SELECT role::oid, class, purpose FROM pals_privacy.role_class",
								 true, 0);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "pals_privacy: reading role_class failed: %d", rc);
	MemoryContextSwitchTo(building_context);	/* SPI left us in its own */
	building->nroles = (int) SPI_processed;
	building->roles = palloc0(sizeof(RoleClass) * Max(1, building->nroles));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;

		building->roles[i].roleid = (Oid) strtoul(SPI_getvalue(t, d, 1), NULL, 10);
		if (!pals_parse_class(SPI_getvalue(t, d, 2), &building->roles[i].class))
			building->roles[i].class = PALS_CLASS_PATRON;	/* cannot happen: CHECK */
		building->roles[i].purpose = spi_text(t, d, 3);
	}
}

/*
 * Read the configuration tables into a new context.  Only on success does
 * the result become the registry, so an invalidation arriving meanwhile (it
 * sees no registry to reset) is noticed through invalidated_while_loading.
 */
static void
registry_load(void)
{
	MemoryContext old = CurrentMemoryContext;
	MemoryContext cxt;
	Oid			nsp;
	Oid			save_user;
	int			save_sec;
	int			nestlevel;

	nsp = get_namespace_oid("pals_privacy", false);
	for (int i = 0; i < NCONFIG; i++)
		config_relids[i] = get_relname_relid(config_tables[i], nsp);

	cxt = AllocSetContextCreate(CacheMemoryContext, "pals_privacy registry",
								ALLOCSET_SMALL_SIZES);
	GetUserIdAndSecContext(&save_user, &save_sec);
	PG_TRY();
	{
		building = MemoryContextAllocZero(cxt, sizeof(PalsRegistry));
		building_context = cxt;
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "pals_privacy: SPI_connect failed");
		nestlevel = pals_safe_search_path();
		/* the tables are the extension's: read them with its owner's rights */
		building->extension_owner = extension_owner();
		SetUserIdAndSecContext(building->extension_owner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
		load_patrons();
		load_loans();
		load_outboxes();
		load_columns("SELECT relation::oid, patron_column, card_column"
					 " FROM pals_privacy.card_binding", &building->cards);
		load_columns("SELECT relation::oid, patron_column, amount_column"
					 " FROM pals_privacy.balance_binding", &building->balances);
		load_columns("SELECT relation::oid, patron_column"
					 " FROM pals_privacy.private_history_binding", &building->histories);
		load_columns("SELECT relation::oid, patron_column, column_name, channel"
					 " FROM pals_privacy.contact_binding", &building->contacts);
		load_columns("SELECT relation::oid, minor_column, guardian_column"
					 " FROM pals_privacy.guardian_binding", &building->guardians);
		load_roles();
		SetUserIdAndSecContext(save_user, save_sec);
		pals_restore_search_path(nestlevel);
		SPI_finish();
	}
	PG_CATCH();
	{
		SetUserIdAndSecContext(save_user, save_sec);
		MemoryContextSwitchTo(old);
		building = NULL;
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
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
bool
pals_extension_ready(void)
{
	static Oid	checked_relid = InvalidOid;
	static bool present = false;
	Oid			nsp;
	Oid			relid;

	if (!IsTransactionState() || creating_extension || pals_registry_loading())
		return false;
	nsp = get_namespace_oid("pals_privacy", true);
	if (!OidIsValid(nsp))
		return false;
	relid = get_relname_relid("loan_binding", nsp);
	if (!OidIsValid(relid))
		return false;
	if (relid != checked_relid)
	{
		present = OidIsValid(get_extension_oid("pals_privacy", true));
		checked_relid = relid;
	}
	return present;
}

bool
pals_registry_loading(void)
{
	return loading;
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
}
