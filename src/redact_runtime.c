/*
 * redact_runtime.c
 *     The SQL-callable functions rewritten queries call, for what changes
 *     within a session and so cannot be decided at plan time: whether a
 *     patron owes more than the collections threshold, consented to a
 *     purpose on a channel, is a ward of the logged-in guardian; whether the
 *     user acknowledged the policy; whether statistics describe a bound
 *     relation.  Sets of patron ids are answered by one query and kept for
 *     the statement (PatronSet).  The files of the mechanism:
 *     redact_internal.h.
 */
#include "redact_internal.h"

#include "access/relation.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/pg_statistic_ext.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "catalog/namespace.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/numeric.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(pals_privacy_stats_visible);
PG_FUNCTION_INFO_V1(pals_privacy_stats_ext_visible);
PG_FUNCTION_INFO_V1(pals_privacy_collectible);
PG_FUNCTION_INFO_V1(pals_privacy_contact_visible);
PG_FUNCTION_INFO_V1(pals_privacy_acknowledged);
PG_FUNCTION_INFO_V1(pals_privacy_wards);
PG_FUNCTION_INFO_V1(pals_privacy_own_row_security_only);

/* ----------------------------------------------------------------------
 * Functions the rewritten queries call
 * ---------------------------------------------------------------------- */

static bool
statistics_visible(Oid relid)
{
	char		kind = get_rel_relkind(relid);

	/*
	 * Not a relation: a function's counters (pg_stat_user_functions, with
	 * track_functions on).  The rewritten query calls the extension's own
	 * predicates once per row it meets, hidden rows too, and a binding's
	 * condition may call the ILS's functions the same way: how often they
	 * ran tells how many hidden rows a probe met.  Hidden (NULL) for every
	 * function, which no binding names.
	 */
	if (kind == '\0')
		return false;
	if (kind == RELKIND_INDEX || kind == RELKIND_PARTITIONED_INDEX)
		relid = IndexGetRelation(relid, true);

	/*
	 * The extension's own tables: a redacted query probes the last-borrower
	 * tracker's index once per closed, settled row it meets, hidden ones
	 * too (the index's scan count after WHERE patron_id = 42 is how many
	 * such loans 42 has).  No class below operational reads these tables.
	 */
	if (OidIsValid(relid) && get_rel_namespace(relid) == pals_extension_namespace())
		return false;
	return !OidIsValid(relid) || !pals_statistics_of_bound(relid);
}

Datum
pals_privacy_stats_visible(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(statistics_visible(PG_GETARG_OID(0)));
}

Datum
pals_privacy_stats_ext_visible(PG_FUNCTION_ARGS)
{
	HeapTuple	tup = SearchSysCache1(STATEXTOID, PG_GETARG_DATUM(0));
	Oid			relid;

	if (!HeapTupleIsValid(tup))
		PG_RETURN_BOOL(true);
	relid = ((Form_pg_statistic_ext) GETSTRUCT(tup))->stxrelid;
	ReleaseSysCache(tup);
	PG_RETURN_BOOL(statistics_visible(relid));
}

/* Is the relation's row security only pals_privacy's? (see redact_row_security_mutator) */
Datum
pals_privacy_own_row_security_only(PG_FUNCTION_ARGS)
{
	Relation	rel = try_relation_open(PG_GETARG_OID(0), AccessShareLock);
	bool		ours;

	if (rel == NULL)
		PG_RETURN_BOOL(false);
	ours = rel->rd_rel->relrowsecurity && redact_only_our_row_security(rel);
	relation_close(rel, AccessShareLock);
	PG_RETURN_BOOL(ours);
}

/*
 * A set of patron ids answered by one query, kept for one statement: who
 * owes more than the threshold, who consented to a purpose on a channel.
 */
typedef struct PatronSet
{
	char		question[NAMEDATALEN * 2];
	LocalTransactionId lxid;
	TimestampTz statement;
	CommandId	cid;
	HTAB	   *ids;
} PatronSet;

#define NSETS 8
static PatronSet sets[NSETS];
static int	next_set = 0;
static MemoryContext sets_context = NULL;

typedef struct PatronId
{
	char		id[NAMEDATALEN];
} PatronId;

static bool
set_is_current(const PatronSet *s, const char *question)
{
	return s->ids != NULL && s->lxid == pals_my_lxid() &&
		s->statement == GetCurrentStatementStartTimestamp() &&
		s->cid == GetCurrentCommandId(false) && strcmp(s->question, question) == 0;
}

/* A fresh set for the question (the slot of the oldest), its ids' table empty. */
static PatronSet *
new_set(const char *question, long size)
{
	PatronSet  *s;
	HASHCTL		ctl;

	if (sets_context == NULL)
		sets_context = AllocSetContextCreate(TopMemoryContext, "pals_privacy patron sets",
											 ALLOCSET_DEFAULT_SIZES);
	s = &sets[next_set];
	next_set = (next_set + 1) % NSETS;
	if (s->ids != NULL)
		hash_destroy(s->ids);
	s->ids = NULL;
	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(PatronId);
	ctl.hcxt = sets_context;
	s->ids = hash_create("pals_privacy patron set", Max(16, size), &ctl,
						 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	strlcpy(s->question, question, sizeof(s->question));
	s->lxid = pals_my_lxid();
	s->statement = GetCurrentStatementStartTimestamp();
	s->cid = GetCurrentCommandId(false);
	return s;
}

/* Run sql (one text column) as the extension owner; keep the answers. */
static PatronSet *
patron_set(const char *question, const char *sql, int nargs, Oid *types, Datum *values)
{
	PatronSet  *s;

	for (int i = 0; i < NSETS; i++)
		if (set_is_current(&sets[i], question))
			return &sets[i];
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pals_privacy: SPI_connect failed");
	pals_execute_sql_as(pals_registry()->extension_owner, sql, nargs, types, values);
	/* marked current only once filled: an error above leaves no half set */
	s = new_set("", SPI_processed);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *id = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

		if (id != NULL && strlen(id) < NAMEDATALEN)
			hash_search(s->ids, id, HASH_ENTER, NULL);
	}
	SPI_finish();
	strlcpy(s->question, question, sizeof(s->question));
	return s;
}

static bool
in_set(PatronSet *s, text *patron)
{
	char	   *id = text_to_cstring(patron);
	bool		found = false;

	if (strlen(id) < NAMEDATALEN)
		hash_search(s->ids, id, HASH_FIND, &found);
	return found;
}

/*
 * The balance read runs as the extension owner (a bound view: as the view's
 * owner, debtor_set) under the safe search path, which names pg_temp last
 * (on 17 and later; before 17 it leaves the temporary schema out).  A bound balance view's functions parse their SQL
 * when they run, so one that names a table without its schema (the ILS's own
 * search path finds it) found a relation of the caller's temporary schema
 * there, made by the caller: the caller chose the balances (and so the
 * debtors it reads), and a function its temporary view calls ran as the
 * owner (test collections_balance_path).  The read refuses to run while the
 * session's temporary schema holds a relation or type that a role below
 * superuser owns and a bound balance runs code of the ILS's (a view calling
 * a function outside pg_catalog, a foreign table: owner_code_guard.c, the
 * rule my_data() and compliance_report() follow); a bound balance table runs
 * nothing when read.
 */
static void
refuse_balance_code(List *balances)
{
	ListCell   *lc;

	if (!pals_session_has_temp())
		return;
	foreach(lc, balances)
	{
		const ColumnBinding *b = lfirst(lc);

		if (pals_relation_runs_ils_code(b->relid))
			pals_refuse_owner_code("the collections read of bound balances");
	}
}

/* Is a patron set for the question already read in this statement? */
static bool
have_set(const char *question)
{
	for (int i = 0; i < NSETS; i++)
		if (set_is_current(&sets[i], question))
			return true;
	return false;
}

typedef struct PatronSum
{
	char		id[NAMEDATALEN];
	Datum		sum;			/* numeric */
} PatronSum;

/*
 * Who owes more than threshold over every bound balance.  Each balance is
 * read by a statement of its own, as pals_bound_read_role() says: a view as
 * its owner (its functions never run as the extension owner, view_owner.c,
 * test bound_view_owner), a table as the extension owner; its sums per
 * patron are added here.  A patron whose amounts are all NULL owes nothing,
 * as sum() says.
 */
static PatronSet *
debtor_set(const char *question, List *balances, Datum threshold)
{
	Oid			owner = pals_registry()->extension_owner;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "pals_privacy balances",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old;
	HTAB	   *sums;
	HASHCTL		ctl;
	HASH_SEQ_STATUS seq;
	PatronSum  *e;
	PatronSet  *s;
	ListCell   *lc;

	for (int i = 0; i < NSETS; i++)
		if (set_is_current(&sets[i], question))
			return &sets[i];
	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(PatronSum);
	ctl.hcxt = cxt;
	sums = hash_create("pals_privacy balance sums", 64, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	foreach(lc, balances)
	{
		const ColumnBinding *b = lfirst(lc);
		int			sec = 0;
		Oid			role = pals_bound_read_role(b->relid, owner, "the collections read of bound balances", &sec);
		char	   *sql = psprintf("SELECT x.%s::text, sum(x.%s)::numeric FROM %s x GROUP BY 1",
								   quote_identifier(b->patron_column), quote_identifier(b->column),
								   quote_qualified_identifier(get_namespace_name(get_rel_namespace(b->relid)),
															  get_rel_name(b->relid)));

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "pals_privacy: SPI_connect failed");
		pals_execute_sql_as(role, sql, 0, NULL, NULL);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			char	   *id = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
			bool		isnull;
			Datum		amount = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull);
			bool		found;

			if (id == NULL || isnull || strlen(id) >= NAMEDATALEN)
				continue;
			old = MemoryContextSwitchTo(cxt);
			e = hash_search(sums, id, HASH_ENTER, &found);
			e->sum = found ? DirectFunctionCall2(numeric_add, e->sum, amount) : datumCopy(amount, false, -1);
			MemoryContextSwitchTo(old);
		}
		SPI_finish();
	}
	s = new_set("", hash_get_num_entries(sums));
	hash_seq_init(&seq, sums);
	while ((e = hash_seq_search(&seq)) != NULL)
		if (DatumGetBool(DirectFunctionCall2(numeric_gt, e->sum, threshold)))
			hash_search(s->ids, e->id, HASH_ENTER, NULL);
	MemoryContextDelete(cxt);
	strlcpy(s->question, question, sizeof(s->question));
	return s;
}

/* Does the patron owe more than pals_privacy.collections_threshold? */
Datum
pals_privacy_collectible(PG_FUNCTION_ARGS)
{
	const PalsRegistry *reg = pals_registry();
	char		question[NAMEDATALEN * 2];
	Datum		threshold;
	PalsClass	c = pals_current_class();

	if (c != PALS_CLASS_COLLECTIONS && c != PALS_CLASS_OPERATIONAL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("pals_privacy._collectible is for the collections class")));
	if (reg->balances == NIL)
		PG_RETURN_BOOL(false);
	snprintf(question, sizeof(question), "owes>%.17g", pals_get_collections_threshold());
	if (!have_set(question))
		refuse_balance_code(reg->balances);
	threshold = DirectFunctionCall1(float8_numeric, Float8GetDatum(pals_get_collections_threshold()));
	PG_RETURN_BOOL(in_set(debtor_set(question, reg->balances, threshold), PG_GETARG_TEXT_PP(0)));
}

/* Has the patron consented to this purpose on this channel? */
Datum
pals_privacy_contact_visible(PG_FUNCTION_ARGS)
{
	char		question[NAMEDATALEN * 2];
	Datum		args[2] = {PG_GETARG_DATUM(1), PG_GETARG_DATUM(2)};
	Oid			types[2] = {TEXTOID, TEXTOID};
	char	   *purpose = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *channel = text_to_cstring(PG_GETARG_TEXT_PP(2));
	PalsClass	c = pals_current_class();

	/* the classes whose contact fields are narrowed by purpose; nobody else asks */
	if (c != PALS_CLASS_OPERATIONAL && c != PALS_CLASS_STAFF && c != PALS_CLASS_COLLECTIONS)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("pals_privacy._contact_visible is not for privacy class %s", pals_class_name(c))));

	snprintf(question, sizeof(question), "consent:%.40s:%.20s", purpose, channel);
	PG_RETURN_BOOL(in_set(patron_set(question,
									 "SELECT patron FROM pals_privacy.consents"
									 " WHERE purpose = $1 AND channel = $2 AND granted",
									 2, types, args),
						  PG_GETARG_TEXT_PP(0)));
}

/*
 * Has the session's user acknowledged the policy within the last year?  If
 * not, say so (once per transaction) with how to do it.
 */
Datum
pals_privacy_acknowledged(PG_FUNCTION_ARGS)
{
	static LocalTransactionId told = InvalidLocalTransactionId;
	char	   *user = GetUserNameFromId(GetSessionUserId(), false);
	PatronSet  *s = patron_set("acknowledged",
							   "SELECT role FROM pals_privacy.policy_acknowledgments"
							   " WHERE acknowledged_at > now() - interval '1 year'",
							   0, NULL, NULL);
	bool		found = false;

	if (strlen(user) < NAMEDATALEN)
		hash_search(s->ids, user, HASH_FIND, &found);
	if (!found && told != pals_my_lxid())
	{
		told = pals_my_lxid();
		ereport(NOTICE,
				(errmsg("patron columns are masked: role \"%s\" has not acknowledged the privacy policy this year", user),
				 errhint("Read the policy, then run SELECT pals_privacy.acknowledge_policy('<version>');")));
	}
	PG_RETURN_BOOL(found);
}

/* The minors the logged-in patron is guardian of, under the age limit. */
Datum
pals_privacy_wards(PG_FUNCTION_ARGS)
{
	const PalsRegistry *reg = pals_registry();
	const char *patron = pals_session_patron();
	StringInfoData sql;
	char		question[NAMEDATALEN * 2];
	Datum		args[2];
	Oid			types[2] = {TEXTOID, INT4OID};
	PatronSet  *set;
	HASH_SEQ_STATUS seq;
	PatronId   *id;
	List	   *ids = NIL;
	Datum	   *elems;
	int			n = 0;
	ListCell   *lc;

	if (patron == NULL || pals_get_guardian_access() == GUARDIAN_NONE || reg->guardians == NIL ||
		reg->patrons == NULL || reg->patrons->birth_date_column == NULL)
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(TEXTOID));
	initStringInfo(&sql);
	foreach(lc, reg->guardians)
	{
		const ColumnBinding *g = lfirst(lc);

		appendStringInfo(&sql, "%sSELECT g.%s::text FROM %s g JOIN %s p ON p.%s = g.%s"
						 " WHERE g.%s::text = $1 AND p.%s > now() - make_interval(years => $2)",
						 lc == list_head(reg->guardians) ? "" : " UNION ",
						 quote_identifier(g->patron_column),
						 quote_qualified_identifier(get_namespace_name(get_rel_namespace(g->relid)),
													get_rel_name(g->relid)),
						 quote_qualified_identifier(get_namespace_name(get_rel_namespace(reg->patrons->relid)),
													get_rel_name(reg->patrons->relid)),
						 quote_identifier(reg->patrons->id_column), quote_identifier(g->patron_column),
						 quote_identifier(g->column), quote_identifier(reg->patrons->birth_date_column));
	}
	snprintf(question, sizeof(question), "wards:%.40s:%d", patron, pals_get_guardian_age_limit());
	args[0] = CStringGetTextDatum(patron);
	args[1] = Int32GetDatum(pals_get_guardian_age_limit());
	set = patron_set(question, sql.data, 2, types, args);
	hash_seq_init(&seq, set->ids);
	while ((id = hash_seq_search(&seq)) != NULL)
		ids = lappend(ids, id->id);
	elems = palloc(sizeof(Datum) * Max(1, list_length(ids)));
	foreach(lc, ids)
		elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}
