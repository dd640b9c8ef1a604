/*
 * redact_coarse.c
 *     redaction: the truncation a closed time reads where a class does not
 *     read the row's patron (mask_coarse in redact_policy.c builds the call).
 *
 *     _coarse_time(x timestamptz, unit, zone) is, value for value and error
 *     for error, timezone(zone, date_trunc(unit, timezone(zone, x))), the
 *     expression mask_coarse built before: three calls, each looking the
 *     unit or the zone up by name, per row a staff read meets.  Here the zone
 *     and the unit are looked up once per query (fn_extra) and the local
 *     time is truncated in its broken-down form, with the same conversions
 *     (timestamp2tm in the zone, DetermineTimeZoneOffset back: DST edges
 *     resolve as the built-in functions resolve them).  What this file does
 *     not do itself it hands to the built-in functions: a dynamic zone
 *     abbreviation, a unit other than hour, day, week, month and year, and
 *     times near either end of the timestamp range (where the built-ins'
 *     intermediate steps may fail).
 *
 *     _coarse_time(x time, unit) and _coarse_time(x timetz, unit): the time
 *     of day truncated to the hour ('hour'), or midnight (any coarser
 *     unit); a timetz keeps its offset.
 */
#include "pals_privacy.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "parser/scansup.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(pals_privacy_coarse_timestamptz);
PG_FUNCTION_INFO_V1(pals_privacy_coarse_time);
PG_FUNCTION_INFO_V1(pals_privacy_coarse_timetz);

/* the zone and unit of the last call (a query's calls all pass the same) */
typedef struct CoarseCache
{
	text	   *unit;			/* the arguments, as given */
	text	   *zone;
	int			units;			/* DTK_HOUR ... DTK_YEAR, or -1: the built-ins */
	int			kind;			/* PALS_ZONE_*, or -1: not looked up yet */
	int			offset;			/* PALS_ZONE_FIXED: seconds east of UTC */
	pg_tz	   *tz;				/* PALS_ZONE_NAME */
} CoarseCache;

/* within these, no step of the built-in expression can leave the range */
#define COARSE_MIN	(MIN_TIMESTAMP + (Timestamp) 400 * 366 * USECS_PER_DAY)
#define COARSE_MAX	(END_TIMESTAMP - (Timestamp) 400 * 366 * USECS_PER_DAY)

static bool
same_text(const text *a, const text *b)
{
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

/* date_trunc's reading of a unit: DTK_HOUR ... DTK_YEAR, or -1 (any other) */
static int
decode_unit(const text *unit)
{
	char	   *low = downcase_truncate_identifier(VARDATA_ANY(unit), VARSIZE_ANY_EXHDR(unit), false);
	int			val;

	if (DecodeUnits(0, low, &val) != UNITS)
		return -1;
	if (val == DTK_HOUR || val == DTK_DAY || val == DTK_WEEK || val == DTK_MONTH || val == DTK_YEAR)
		return val;
	return -1;
}

static CoarseCache *
coarse_cache(FunctionCallInfo fcinfo, text *unit, text *zone)
{
	CoarseCache *c = (CoarseCache *) fcinfo->flinfo->fn_extra;
	MemoryContext old;

	if (c != NULL && same_text(c->unit, unit) && (zone == NULL || same_text(c->zone, zone)))
		return c;
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	if (c == NULL)
		c = palloc0(sizeof(CoarseCache));
	else
	{
		pfree(c->unit);
		if (c->zone)
			pfree(c->zone);
	}
	c->unit = (text *) PG_DETOAST_DATUM_COPY(PointerGetDatum(unit));
	c->zone = zone ? (text *) PG_DETOAST_DATUM_COPY(PointerGetDatum(zone)) : NULL;
	MemoryContextSwitchTo(old);
	c->units = decode_unit(unit);
	c->kind = -1;
	fcinfo->flinfo->fn_extra = c;
	return c;
}

/*
 * The zone, looked up by the first time that needs it (an infinity never
 * does: the built-ins return it before they look the zone up, and so
 * raise nothing for a zone they do not know).
 */
static void
coarse_zone(CoarseCache *c)
{
	char		tzname[TZ_STRLEN_MAX + 1];

	text_to_cstring_buffer(c->zone, tzname, sizeof(tzname));
	c->kind = pals_decode_zone(tzname, &c->offset, &c->tz);
}

/* date_trunc's truncation of broken-down fields (timestamp_trunc) */
static void
trunc_fields(struct pg_tm *tm, int units)
{
	if (units == DTK_WEEK)
	{
		int			woy = date2isoweek(tm->tm_year, tm->tm_mon, tm->tm_mday);

		/* week 52/53 in January belongs to the year before, week 1 in December to the next */
		if (woy >= 52 && tm->tm_mon == 1)
			--tm->tm_year;
		if (woy <= 1 && tm->tm_mon == MONTHS_PER_YEAR)
			++tm->tm_year;
		isoweek2date(woy, &tm->tm_year, &tm->tm_mon, &tm->tm_mday);
		tm->tm_hour = 0;
		tm->tm_min = 0;
		tm->tm_sec = 0;
		return;
	}
	switch (units)
	{
		case DTK_YEAR:
			tm->tm_mon = 1;
			/* FALLTHROUGH */
		case DTK_MONTH:
			tm->tm_mday = 1;
			/* FALLTHROUGH */
		case DTK_DAY:
			tm->tm_hour = 0;
			/* FALLTHROUGH */
		case DTK_HOUR:
			tm->tm_min = 0;
			tm->tm_sec = 0;
	}
}

/* timezone(zone, date_trunc(unit, timezone(zone, x))), by the built-ins */
static TimestampTz
coarse_builtin(TimestampTz x, text *unit, text *zone)
{
	Datum		t;

	t = DirectFunctionCall2(timestamptz_zone, PointerGetDatum(zone), TimestampTzGetDatum(x));
	t = DirectFunctionCall2(timestamp_trunc, PointerGetDatum(unit), t);
	t = DirectFunctionCall2(timestamp_zone, PointerGetDatum(zone), t);
	return DatumGetTimestampTz(t);
}

Datum
pals_privacy_coarse_timestamptz(PG_FUNCTION_ARGS)
{
	TimestampTz x = PG_GETARG_TIMESTAMPTZ(0);
	text	   *unit = PG_GETARG_TEXT_PP(1);
	text	   *zone = PG_GETARG_TEXT_PP(2);
	CoarseCache *c = coarse_cache(fcinfo, unit, zone);
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;
	Timestamp	t;
	TimestampTz result;

	if (TIMESTAMP_NOT_FINITE(x) && c->units != -1)
		PG_RETURN_TIMESTAMPTZ(x);	/* each step keeps an infinity */
	if (c->units != -1 && x >= COARSE_MIN && x <= COARSE_MAX)
	{
		if (c->kind == -1)
			coarse_zone(c);
		if (c->kind == PALS_ZONE_FIXED)
		{
			/* the local time is x + offset; back by the same offset */
			if (timestamp2tm(x + (Timestamp) c->offset * USECS_PER_SEC, NULL, &tm, &fsec, NULL, NULL) == 0)
			{
				trunc_fields(&tm, c->units);
				if (tm2timestamp(&tm, 0, NULL, &t) == 0)
				{
					result = t - (Timestamp) c->offset * USECS_PER_SEC;
					if (IS_VALID_TIMESTAMP(result))
						PG_RETURN_TIMESTAMPTZ(result);
				}
			}
		}
		else if (c->kind == PALS_ZONE_NAME)
		{
			/* x's fields in the zone, truncated, and the zone's offset there */
			if (timestamp2tm(x, &tz, &tm, &fsec, NULL, c->tz) == 0)
			{
				trunc_fields(&tm, c->units);
				tz = DetermineTimeZoneOffset(&tm, c->tz);
				if (tm2timestamp(&tm, 0, &tz, &result) == 0 && IS_VALID_TIMESTAMP(result))
					PG_RETURN_TIMESTAMPTZ(result);
			}
		}
	}
	/* anything else, and whatever fails above, as the built-ins do it (and fail) */
	PG_RETURN_TIMESTAMPTZ(coarse_builtin(x, unit, zone));
}

/* a time of day: to the hour, or midnight */
static TimeADT
coarse_time_of_day(TimeADT t, int units)
{
	return units == DTK_HOUR ? t - t % USECS_PER_HOUR : 0;
}

Datum
pals_privacy_coarse_time(PG_FUNCTION_ARGS)
{
	TimeADT		t = PG_GETARG_TIMEADT(0);
	CoarseCache *c = coarse_cache(fcinfo, PG_GETARG_TEXT_PP(1), NULL);

	PG_RETURN_TIMEADT(coarse_time_of_day(t, c->units));
}

Datum
pals_privacy_coarse_timetz(PG_FUNCTION_ARGS)
{
	TimeTzADT  *t = PG_GETARG_TIMETZADT_P(0);
	CoarseCache *c = coarse_cache(fcinfo, PG_GETARG_TEXT_PP(1), NULL);
	TimeTzADT  *result = palloc(sizeof(TimeTzADT));

	result->time = coarse_time_of_day(t->time, c->units);
	result->zone = t->zone;
	PG_RETURN_TIMETZADT_P(result);
}
