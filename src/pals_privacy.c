/*
 * pals_privacy.c
 *     Module entry point: _PG_init calls each mechanism's init (settings in
 *     guc.c, hooks in hooks.c, caches' callbacks in their own files); and
 *     _preloaded(), the preload guard.
 */
#include "pals_privacy.h"
#include "hooks.h"

#include "fmgr.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

PG_FUNCTION_INFO_V1(pals_privacy_preloaded);

/*
 * The restrictive row-security policy on every bound table calls this (a
 * pseudoconstant qual: once per scan).  Row security is PostgreSQL's own,
 * so it holds where our hooks do not: in a backend that loaded the library
 * on first use, the statement that loaded it was planned without them, and
 * a bound relation would read unredacted.  Fail closed: such a backend
 * reads no bound relation (superusers and table owners bypass row security,
 * as they bypass redaction).
 */
Datum
pals_privacy_preloaded(PG_FUNCTION_ARGS)
{
	if (!pals_preloaded())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pals_privacy is not loaded by shared_preload_libraries"),
				 errdetail("Relations bound to pals_privacy are not readable or writable without its hooks."),
				 errhint("Add pals_privacy to shared_preload_libraries in postgresql.conf and restart the server.")));
	PG_RETURN_BOOL(true);
}

void
_PG_init(void)
{
	pals_classes_init();		/* first: the purpose setting's check calls it */
	pals_guc_init();
	pals_redact_init();
	pals_stats_init();
	pals_worker_init();
	pals_registry_init();
	pals_sever_init();
	pals_hooks_init();
}
