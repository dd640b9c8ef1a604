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
#include "utils/datum.h"

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
 *
 * The key is compact, because a bulk INSERT probes it once per row: a small
 * number for the purpose and channel (a "topic"), and the patron's value
 * itself for pass-by-value types (bigint ids), its text otherwise.
 */
#define PATRON_KEY_LEN 40
#define MAX_TOPICS 16
typedef struct ConsentKey
{
	int32		topic;			/* index into topics[] */
	bool		by_value;		/* patron holds a Datum, else text */
	char		patron[PATRON_KEY_LEN];	/* zero-padded */
} ConsentKey;

typedef struct ConsentAnswer
{
	ConsentKey	key;
	bool		granted;
} ConsentAnswer;

typedef struct Topic
{
	char		purpose[NAMEDATALEN];
	char		channel[NAMEDATALEN];
} Topic;

static HTAB *answers = NULL;
static MemoryContext answers_context = NULL;
static TransactionId answers_xid = InvalidTransactionId;
static SubTransactionId answers_subxid = InvalidSubTransactionId;
static TimestampTz answers_statement = 0;
static uint64 answers_generation = 0;
static uint64 consents_generation = 0;
static Topic topics[MAX_TOPICS];
static int	ntopics = 0;

/*
 * After the bulk read, when patron ids are integers, the granted patrons of
 * each topic as a bitmap over their range: one bit per id keeps the per-row
 * test within the processor's cache, where a hash of every patron would not
 * be (a bulk INSERT of notices spends its time on cache misses otherwise).
 */
#define BITMAP_MIN_BITS (8 * 1024 * 1024)
typedef struct GrantedBits
{
	int64		min;
	uint64		nbits;
	uint8	   *bits;			/* NULL: no bitmap, ask the answers */
} GrantedBits;
static GrantedBits granted_bits[MAX_TOPICS];

/* the last row's channel and its topic (this statement's; -1: none) */
static int	last_topic = -1;
static Datum last_channel;
static bool last_isnull;

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

/* Forget the answers if they belong to another statement or consents changed. */
static void
answers_for_statement(void)
{
	HASHCTL		ctl;

	if (answers != NULL && answers_xid == GetTopTransactionIdIfAny() &&
		answers_subxid == GetCurrentSubTransactionId() &&
		answers_statement == GetCurrentStatementStartTimestamp() &&
		answers_generation == consents_generation)
		return;
	if (answers_context == NULL)
		answers_context = AllocSetContextCreate(TopMemoryContext, "pals_privacy consent answers",
												ALLOCSET_DEFAULT_SIZES);
	MemoryContextReset(answers_context);
	ctl.keysize = sizeof(ConsentKey);
	ctl.entrysize = sizeof(ConsentAnswer);
	ctl.hcxt = answers_context;
	answers = hash_create("pals_privacy consent answers", 1024, &ctl,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	answers_xid = GetTopTransactionIdIfAny();
	answers_subxid = GetCurrentSubTransactionId();
	answers_statement = GetCurrentStatementStartTimestamp();
	answers_generation = consents_generation;
	ntopics = 0;
	memset(granted_bits, 0, sizeof(granted_bits));
	last_topic = -1;
	statement_lookups = 0;
	bulk_threshold = 0;
	bulk_purpose[0] = '\0';
}

/* The number of a purpose and channel in this statement, or -1 (not cached). */
static int
topic_number(const char *purpose, const char *channel)
{
	for (int i = 0; i < ntopics; i++)
		if (strcmp(topics[i].channel, channel) == 0 && strcmp(topics[i].purpose, purpose) == 0)
			return i;
	if (ntopics == MAX_TOPICS || strlen(purpose) >= NAMEDATALEN || strlen(channel) >= NAMEDATALEN)
		return -1;
	strlcpy(topics[ntopics].purpose, purpose, NAMEDATALEN);
	strlcpy(topics[ntopics].channel, channel, NAMEDATALEN);
	return ntopics++;
}

/*
 * The cached answer for a patron (its value if pass-by-value, else its text)
 * on a topic, entered if new (*found false); NULL if it cannot be cached.
 */
static ConsentAnswer *
cached_answer(int topic, bool by_value, Datum value, const char *text, bool *found)
{
	ConsentKey	key;

	*found = false;
	if (topic < 0 || (!by_value && strlen(text) >= PATRON_KEY_LEN))
		return NULL;
	memset(&key, 0, sizeof(key));
	key.topic = topic;
	key.by_value = by_value;
	if (by_value)
		memcpy(key.patron, &value, sizeof(Datum));
	else
		strcpy(key.patron, text);
	return hash_search(answers, &key, HASH_ENTER, found);
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
	const OutboxBinding *binding;
	AttrNumber	patron_attno;
	AttrNumber	channel_attno;
	FmgrInfo	patron_out;
	FmgrInfo	channel_out;
	Oid			patron_type;
	bool		patron_byval;	/* cache answers by the patron's value */
	Oid			patron_in;		/* to read consents' patron text back */
	Oid			patron_ioparam;
	bool		channel_byval;
	int16		channel_len;
} OutboxColumns;

static OutboxColumns columns;

static AttrNumber
outbox_attnum(Relation rel, const char *column, FmgrInfo *out, bool *byval, int16 *len)
{
	AttrNumber	attno = pals_bound_attnum(RelationGetRelid(rel), column);
	Form_pg_attribute att;
	Oid			func;
	bool		varlena;

	att = TupleDescAttr(RelationGetDescr(rel), attno - 1);
	getTypeOutputInfo(att->atttypid, &func, &varlena);
	fmgr_info_cxt(func, out, TopMemoryContext);
	*byval = att->attbyval;
	*len = att->attlen;
	return attno;
}

/* The binding and columns of an outbox relation; NULL if it is not bound. */
static const OutboxColumns *
outbox_columns(Relation rel)
{
	uint64		generation = pals_registry()->generation;

	if (columns.relid != RelationGetRelid(rel) || columns.generation != generation)
	{
		const OutboxBinding *b = pals_outbox_binding_for(RelationGetRelid(rel));
		int16		len;

		columns.relid = InvalidOid;
		if (b == NULL)
			return NULL;
		columns.binding = b;
		columns.patron_attno = outbox_attnum(rel, b->patron_column, &columns.patron_out,
											 &columns.patron_byval, &len);
		columns.channel_attno = outbox_attnum(rel, b->channel_column, &columns.channel_out,
											  &columns.channel_byval, &columns.channel_len);
		columns.patron_type = TupleDescAttr(RelationGetDescr(rel), columns.patron_attno - 1)->atttypid;
		getTypeInputInfo(columns.patron_type, &columns.patron_in, &columns.patron_ioparam);
		columns.relid = RelationGetRelid(rel);
		columns.generation = generation;
	}
	return &columns;
}

/*
 * The topic of a row's channel under the binding's purpose.  Rows of one
 * statement mostly share a channel: the last one is remembered by value.
 */
static int
row_topic(const OutboxColumns *cols, Datum channel, bool isnull)
{
	MemoryContext old;
	char	   *text;

	if (last_topic >= 0 && last_isnull == isnull &&
		strcmp(topics[last_topic].purpose, cols->binding->purpose) == 0 &&
		(isnull || datumIsEqual(channel, last_channel, cols->channel_byval, cols->channel_len)))
		return last_topic;
	text = isnull ? "" : OutputFunctionCall((FmgrInfo *) &cols->channel_out, channel);
	last_topic = topic_number(cols->binding->purpose, text);
	last_isnull = isnull;
	old = MemoryContextSwitchTo(answers_context);
	last_channel = isnull ? (Datum) 0 : datumCopy(channel, cols->channel_byval, cols->channel_len);
	MemoryContextSwitchTo(old);
	return last_topic;
}

/* An integer patron id as int64; false for other types. */
static bool
patron_integer(const OutboxColumns *cols, Datum value, int64 *id)
{
	switch (cols->patron_type)
	{
		case INT8OID:
			*id = DatumGetInt64(value);
			return true;
		case INT4OID:
			*id = DatumGetInt32(value);
			return true;
		case INT2OID:
			*id = DatumGetInt16(value);
			return true;
		default:
			return false;
	}
}

/* Bitmaps of the granted integer ids of each topic, if their range is small. */
static void
build_granted_bits(const OutboxColumns *cols, int *row_topics, int64 *ids, uint64 n)
{
	for (int t = 0; t < ntopics; t++)
	{
		int64		min = PG_INT64_MAX;
		int64		max = PG_INT64_MIN;
		uint64		count = 0;
		uint64		nbits;

		for (uint64 i = 0; i < n; i++)
			if (row_topics[i] == t)
			{
				min = Min(min, ids[i]);
				max = Max(max, ids[i]);
				count++;
			}
		if (count == 0 || (uint64) max - (uint64) min >= Max(BITMAP_MIN_BITS, 64 * count))
			continue;			/* none, or too sparse: the answers serve */
		nbits = (uint64) max - (uint64) min + 1;
		granted_bits[t].min = min;
		granted_bits[t].nbits = nbits;
		granted_bits[t].bits = MemoryContextAllocZero(answers_context, (nbits + 7) / 8);
		for (uint64 i = 0; i < n; i++)
			if (row_topics[i] == t)
			{
				uint64		bit = (uint64) (ids[i] - min);

				granted_bits[t].bits[bit / 8] |= 1 << (bit % 8);
			}
	}
}

/* Decided by a bitmap: true, with *granted; false if there is none. */
static bool
granted_bit(const OutboxColumns *cols, int topic, Datum value, bool *granted)
{
	const GrantedBits *g;
	int64		id;
	uint64		bit;

	if (topic < 0 || granted_bits[topic].bits == NULL || !patron_integer(cols, value, &id))
		return false;
	g = &granted_bits[topic];
	bit = (uint64) id - (uint64) g->min;
	*granted = id >= g->min && bit < g->nbits && (g->bits[bit / 8] & (1 << (bit % 8))) != 0;
	return true;
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
	char	   *patron = NULL;
	char	   *channel;
	AttrNumber	channel_attno;
	Datum		values[3];
	Datum		patron_value;
	Datum		channel_value;
	bool		isnull;
	bool		channel_null;
	int			topic;
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
	cols = outbox_columns(rel);
	if (cols == NULL)
		return PointerGetDatum(tup);	/* unbound since: nothing to check */
	b = cols->binding;
	channel_attno = cols->channel_attno;
	patron_value = heap_getattr(tup, cols->patron_attno, RelationGetDescr(rel), &isnull);
	if (isnull)
		return PointerGetDatum(tup);	/* a message to nobody in particular */
	channel_value = heap_getattr(tup, channel_attno, RelationGetDescr(rel), &channel_null);

	answers_for_statement();
	topic = row_topic(cols, channel_value, channel_null);
	if (granted_bit(cols, topic, patron_value, &granted))
	{
		if (granted)
			return PointerGetDatum(tup);	/* granted, and still locked by us */
		answer = NULL;
		known = true;
	}
	else
	{
		if (!cols->patron_byval)
			patron = OutputFunctionCall((FmgrInfo *) &cols->patron_out, patron_value);
		answer = cached_answer(topic, cols->patron_byval, patron_value, patron, &known);
		if (known && answer->granted)
			return PointerGetDatum(tup);	/* granted, and still locked by us */
		if (answer != NULL && !known)
		{
			answer->granted = false;
			/* after the bulk read, a patron not found has not consented */
			known = strcmp(bulk_purpose, b->purpose) == 0;
		}
	}
	if (patron == NULL)
		patron = OutputFunctionCall((FmgrInfo *) &cols->patron_out, patron_value);
	channel = channel_null ? NULL : OutputFunctionCall((FmgrInfo *) &cols->channel_out, channel_value);

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
		bulk_threshold = Max(BULK_AFTER_LOOKUPS, pals_reltuples(get_relname_relid("consents", get_namespace_oid("pals_privacy", false))) / 50);
	if (answer != NULL && !known && ++statement_lookups > bulk_threshold &&
		strlen(b->purpose) < NAMEDATALEN)
	{
		int		   *row_topics;
		int64	   *ids;
		uint64		nids = 0;

		pals_execute_as(owner, plan_bulk, &values[1], NULL);
		row_topics = palloc(sizeof(int) * (SPI_processed + 1));
		ids = palloc(sizeof(int64) * (SPI_processed + 1));
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			bool		found;
			char	   *p = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
			char	   *c = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
			Datum		v = (Datum) 0;
			ConsentAnswer *a;
			int			t;

			if (p == NULL || c == NULL)
				continue;
			if (cols->patron_byval)
				v = OidInputFunctionCall(cols->patron_in, p, cols->patron_ioparam, -1);
			t = topic_number(b->purpose, c);
			a = cached_answer(t, cols->patron_byval, v, p, &found);
			if (a != NULL)
				a->granted = true;
			if (t >= 0 && cols->patron_byval && patron_integer(cols, v, &ids[nids]))
				row_topics[nids++] = t;
		}
		build_granted_bits(cols, row_topics, ids, nids);
		strlcpy(bulk_purpose, b->purpose, sizeof(bulk_purpose));
		known = true;
	}
	if (known)
		granted = answer != NULL && answer->granted;
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
