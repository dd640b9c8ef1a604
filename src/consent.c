/*
 * consent.c
 *     The outbox check: a row written into a bound outbox for a patron who
 *     has not consented to the binding's purpose on the row's channel is
 *     rejected, diverted to a channel the patron did consent to, or dropped
 *     and counted, as the binding says.  The consent row is locked FOR SHARE
 *     until the end of the transaction, so a withdrawal waits for a pending
 *     message, or the message sees the withdrawal: once a withdrawal has
 *     committed, no new message for that purpose and channel can.  A bulk
 *     INSERT locks every granted consent of the purpose with one query
 *     (see BULK_AFTER_LOOKUPS), which keeps the same promise.
 */
#include "pals_privacy.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "utils/syscache.h"
#include "catalog/pg_class.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/memutils.h"
#include "utils/hsearch.h"
#include "access/xact.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(pals_privacy_outbox_check);
PG_FUNCTION_INFO_V1(pals_privacy_consents_changed);

static SPIPlanPtr plan_consent = NULL;	/* is this channel granted? */

/*
 * Answers already looked up by the current statement: the consent rows they
 * read stay locked FOR SHARE until the transaction ends, so within one
 * statement (one bulk INSERT of notices) each patron is looked up once.  Any
 * change to pals_privacy.consents in this session forgets them (a statement
 * trigger bumps consents_generation); other sessions cannot change a row we
 * hold locked.
 */
#define CONSENT_KEY_LEN 128
typedef struct ConsentAnswer
{
	char		key[CONSENT_KEY_LEN];	/* purpose|channel|patron */
	bool		granted;
} ConsentAnswer;

static HTAB *answers = NULL;
static MemoryContext answers_context = NULL;
static TransactionId answers_xid = InvalidTransactionId;
static SubTransactionId answers_subxid = InvalidSubTransactionId;
static TimestampTz answers_statement = 0;
static uint64 answers_generation = 0;
static uint64 consents_generation = 0;

/*
 * A statement that has looked up many patrons (a bulk INSERT of notices)
 * reads and locks every granted consent of the purpose at once: one query
 * instead of one per patron.  From then on, in that statement, a patron not
 * among them has not consented.  "Many" is at least BULK_AFTER_LOOKUPS and a
 * fiftieth of the consents recorded, so that a statement never locks more
 * than about fifty times the consents it needs.
 */
#define BULK_AFTER_LOOKUPS 64
static int	statement_lookups = 0;
static double bulk_threshold = 0;
static char bulk_purpose[NAMEDATALEN] = "";

static ConsentAnswer *
cached_answer(const char *purpose, const char *channel, const char *patron, bool *found)
{
	char		key[CONSENT_KEY_LEN];

	if (strlen(purpose) + strlen(channel) + strlen(patron) + 3 > CONSENT_KEY_LEN)
	{
		*found = false;
		return NULL;			/* an odd key: not cached */
	}
	if (answers == NULL || answers_xid != GetTopTransactionIdIfAny() ||
		answers_subxid != GetCurrentSubTransactionId() ||
		answers_statement != GetCurrentStatementStartTimestamp() ||
		answers_generation != consents_generation)
	{
		HASHCTL		ctl;

		if (answers_context == NULL)
			answers_context = AllocSetContextCreate(TopMemoryContext, "pals_privacy consent answers",
													ALLOCSET_DEFAULT_SIZES);
		MemoryContextReset(answers_context);
		ctl.keysize = CONSENT_KEY_LEN;
		ctl.entrysize = sizeof(ConsentAnswer);
		ctl.hcxt = answers_context;
		answers = hash_create("pals_privacy consent answers", 1024, &ctl,
							  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
		answers_xid = GetTopTransactionIdIfAny();
		answers_subxid = GetCurrentSubTransactionId();
		answers_statement = GetCurrentStatementStartTimestamp();
		answers_generation = consents_generation;
		statement_lookups = 0;
		bulk_threshold = 0;
		bulk_purpose[0] = '\0';
	}
	snprintf(key, sizeof(key), "%s|%s|%s", purpose, channel, patron);
	return hash_search(answers, key, HASH_ENTER, found);
}
static SPIPlanPtr plan_divert = NULL;	/* a granted channel, by preference */
static SPIPlanPtr plan_bulk = NULL;		/* every granted consent of a purpose */
static SPIPlanPtr plan_dropped = NULL;	/* count a dropped row */


static void
prepare_plans(void)
{
	Oid			types[3] = {TEXTOID, TEXTOID, TEXTOID};

	if (plan_consent != NULL)
		return;
	plan_consent = pals_prepare_saved(
		"SELECT granted FROM pals_privacy.consents"
		" WHERE patron = $1 AND purpose = $2 AND channel = $3 FOR SHARE", 3, types);
	plan_bulk = pals_prepare_saved(
		"SELECT patron, channel FROM pals_privacy.consents"
		" WHERE purpose = $1 AND granted FOR SHARE", 1, types);
	plan_divert = pals_prepare_saved(
		"SELECT channel FROM pals_privacy.consents"
		" WHERE patron = $1 AND purpose = $2 AND granted"
		" ORDER BY array_position(ARRAY['email', 'sms', 'phone', 'mail'], channel)"
		" LIMIT 1 FOR SHARE", 2, types);
	{
		Oid			dtypes[3] = {OIDOID, TEXTOID, TEXTOID};

		plan_dropped = pals_prepare_saved(
			"INSERT INTO pals_privacy.outbox_dropped AS d (relation, purpose, channel, dropped)"
			" VALUES ($1, $2, $3, 1) ON CONFLICT (relation, purpose, channel)"
			" DO UPDATE SET dropped = d.dropped + 1, last_dropped = now()", 3, dtypes);
	}
}

/* About how many consents are recorded (the planner's estimate). */
static double
consents_recorded(void)
{
	Oid			relid = get_relname_relid("consents", get_namespace_oid("pals_privacy", false));
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	double		n = 0;

	if (HeapTupleIsValid(tup))
	{
		n = Max(0, ((Form_pg_class) GETSTRUCT(tup))->reltuples);
		ReleaseSysCache(tup);
	}
	return n;
}

/* Statement trigger on pals_privacy.consents: forget cached answers. */
Datum
pals_privacy_consents_changed(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "pals_privacy_consents_changed: not called by trigger manager");
	consents_generation++;
	return PointerGetDatum(NULL);
}

/* The outbox binding of a relation, or of its nearest bound ancestor. */
const OutboxBinding *
pals_outbox_binding_for(Oid relid)
{
	const PalsRegistry *reg = pals_registry();
	List	   *todo = list_make1_oid(relid);

	for (int i = 0; i < list_length(todo); i++)
	{
		Oid			r = list_nth_oid(todo, i);
		ListCell   *lc;

		foreach(lc, reg->outboxes)
		{
			OutboxBinding *b = lfirst(lc);

			if (b->relid == r)
				return b;
		}
		pals_inheritance_parents(r, &todo);
	}
	return NULL;
}

/* Where an outbox relation keeps patron and channel, for its last caller. */
typedef struct OutboxColumns
{
	Oid			relid;
	uint64		generation;
	AttrNumber	patron_attno;
	AttrNumber	channel_attno;
	FmgrInfo	patron_out;
	FmgrInfo	channel_out;
} OutboxColumns;

static OutboxColumns columns;

static AttrNumber
outbox_attnum(Relation rel, const char *column, FmgrInfo *out)
{
	AttrNumber	attno = get_attnum(RelationGetRelid(rel), column);
	Oid			func;
	bool		varlena;

	if (attno == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of bound outbox \"%s\" does not exist",
						column, RelationGetRelationName(rel))));
	getTypeOutputInfo(TupleDescAttr(RelationGetDescr(rel), attno - 1)->atttypid, &func, &varlena);
	fmgr_info_cxt(func, out, TopMemoryContext);
	return attno;
}

static const OutboxColumns *
outbox_columns(Relation rel, const OutboxBinding *b)
{
	uint64		generation = pals_registry()->generation;

	if (columns.relid != RelationGetRelid(rel) || columns.generation != generation)
	{
		columns.relid = InvalidOid;
		columns.patron_attno = outbox_attnum(rel, b->patron_column, &columns.patron_out);
		columns.channel_attno = outbox_attnum(rel, b->channel_column, &columns.channel_out);
		columns.relid = RelationGetRelid(rel);
		columns.generation = generation;
	}
	return &columns;
}

static char *
column_text(Relation rel, HeapTuple tup, AttrNumber attno, FmgrInfo *out)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, attno, RelationGetDescr(rel), &isnull);

	return isnull ? NULL : OutputFunctionCall(out, d);
}

/*
 * Row trigger BEFORE INSERT OR UPDATE OF patron, channel on a bound outbox
 * (its partitions and inheritance children share the parent's binding).
 */
Datum
pals_privacy_outbox_check(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	HeapTuple	tup;
	const OutboxBinding *b;
	char	   *patron;
	char	   *channel;
	AttrNumber	channel_attno;
	Datum		values[3];
	bool		isnull;
	bool		granted = false;
	char	   *diverted = NULL;
	HeapTuple	result;
	int			nestlevel;
	Oid			owner;
	MemoryContext caller;
	ConsentAnswer *answer;
	bool		known;
	const OutboxColumns *cols;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "pals_privacy_outbox_check: not called by trigger manager");
	if (!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(td->tg_event))
		elog(ERROR, "pals_privacy_outbox_check: must be fired BEFORE INSERT OR UPDATE FOR EACH ROW");

	rel = td->tg_relation;
	tup = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	b = pals_outbox_binding_for(RelationGetRelid(rel));
	if (b == NULL)
		return PointerGetDatum(tup);	/* unbound since: nothing to check */

	cols = outbox_columns(rel, b);
	channel_attno = cols->channel_attno;
	patron = column_text(rel, tup, cols->patron_attno, (FmgrInfo *) &cols->patron_out);
	channel = column_text(rel, tup, cols->channel_attno, (FmgrInfo *) &cols->channel_out);
	if (patron == NULL)
		return PointerGetDatum(tup);	/* a message to nobody in particular */

	answer = cached_answer(b->purpose, channel ? channel : "", patron, &known);
	if (known && answer->granted)
		return PointerGetDatum(tup);	/* granted, and still locked by us */
	if (answer != NULL && !known)
	{
		answer->granted = false;
		/* after the bulk read, a patron not found has not consented */
		known = strcmp(bulk_purpose, b->purpose) == 0;
	}

	caller = CurrentMemoryContext;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pals_privacy: SPI_connect failed");
	nestlevel = pals_safe_search_path();
	prepare_plans();
	owner = pals_registry()->extension_owner;
	values[0] = CStringGetTextDatum(patron);
	values[1] = CStringGetTextDatum(b->purpose);
	values[2] = CStringGetTextDatum(channel ? channel : "");
	if (bulk_threshold == 0)
		bulk_threshold = Max(BULK_AFTER_LOOKUPS, consents_recorded() / 50);
	if (answer != NULL && !known && ++statement_lookups > bulk_threshold &&
		strlen(b->purpose) < NAMEDATALEN)
	{
		pals_execute_as(owner, plan_bulk, &values[1], NULL);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			bool		found;
			ConsentAnswer *a = cached_answer(b->purpose,
											 SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2),
											 SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1),
											 &found);

			if (a != NULL)
				a->granted = true;
		}
		strlcpy(bulk_purpose, b->purpose, sizeof(bulk_purpose));
		known = true;
	}
	if (known)
		granted = answer->granted;
	else
	{
		pals_execute_as(owner, plan_consent, values, NULL);
		if (SPI_processed == 1)
			granted = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) && !isnull;
		if (answer != NULL)
			answer->granted = granted;
	}

	result = tup;
	if (!granted && b->mode == OUTBOX_DIVERT)
	{
		pals_execute_as(owner, plan_divert, values, NULL);
		if (SPI_processed == 1)
			diverted = MemoryContextStrdup(caller,
										   SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	}
	if (!granted && b->mode == OUTBOX_DROP)
	{
		Datum		d[3] = {ObjectIdGetDatum(b->relid), values[1], values[2]};

		pals_execute_as(owner, plan_dropped, d, NULL);
		result = NULL;
	}
	pals_restore_search_path(nestlevel);
	SPI_finish();				/* the changed row below must outlive SPI's memory */

	if (!granted && diverted != NULL)
	{
		Oid			in;
		Oid			ioparam;
		int			col = channel_attno;
		Datum		newval;
		bool		newnull = false;

		getTypeInputInfo(TupleDescAttr(RelationGetDescr(rel), channel_attno - 1)->atttypid, &in, &ioparam);
		newval = OidInputFunctionCall(in, diverted, ioparam, -1);
		result = heap_modify_tuple_by_cols(tup, RelationGetDescr(rel), 1, &col, &newval, &newnull);
	}

	if (!granted && b->mode != OUTBOX_DROP && diverted == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("patron %s has not consented to purpose \"%s\" on channel \"%s\"",
						patron, b->purpose, channel ? channel : "(none)"),
				 errdetail("Outbox \"%s\" accepts messages only where consent was given.",
						   RelationGetRelationName(rel)),
				 errhint("Record the patron's consent with pals_privacy.grant_consent(), or write to another channel.")));
	return PointerGetDatum(result);
}
