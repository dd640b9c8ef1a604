/*
 * officer.c
 *     The privacy officer's view (issue 19): a patron's own data, my_data().
 *     The compliance report is SQL (sql/functions/reports/compliance_report.sql); the
 *     pseudonymous statistics are in pseudonym.c.
 *
 *     my_data() is C because it must judge the caller before anything runs
 *     with the extension owner's rights: a SECURITY DEFINER function no longer
 *     knows who called it.  The caller's class is that of the current user,
 *     as for redaction; the patron is the one login() set in this session.
 */
#include "pals_privacy.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(pals_privacy_my_data);

/* pals_privacy.my_data() returns jsonb */
Datum
pals_privacy_my_data(PG_FUNCTION_ARGS)
{
	PalsClass	class = pals_current_class();
	const char *patron;
	Oid			types[1] = {TEXTOID};
	Datum		args[1];
	Datum		doc;
	bool		isnull;
	Oid			owner;

	if (class != PALS_CLASS_PATRON)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for my_data"),
				 errdetail("Role \"%s\" is of privacy class %s%s; my_data() answers a patron-class session only.",
						   GetUserNameFromId(GetUserId(), false), pals_class_name(class),
						   superuser() ? " (a superuser)" : ""),
				 errhint("Connect as a role of class patron (the online catalogue) and call pals_privacy.login(card, pin) first.")));
	patron = pals_session_patron();
	if (patron == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("my_data: no patron is logged in in this session"),
				 errhint("Call pals_privacy.login(card, pin) first.")));

	owner = pals_registry()->extension_owner;
	args[0] = CStringGetTextDatum(patron);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pals_privacy: SPI_connect failed");
	pals_execute_sql_as(owner, "SELECT pals_privacy._my_data_of($1)", 1, types, args);
	if (SPI_processed != 1)
		elog(ERROR, "pals_privacy: my_data returned %llu rows", (unsigned long long) SPI_processed);
	doc = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		elog(ERROR, "pals_privacy: my_data returned NULL");
	doc = SPI_datumTransfer(doc, false, -1);
	/* the request itself is recorded (who asked and when; not what was in it) */
	pals_execute_sql_as(owner, "SELECT pals_privacy._audit('patron.my_data', jsonb_build_object('patron', $1))",
						1, types, args);
	SPI_finish();
	PG_RETURN_DATUM(doc);
}
