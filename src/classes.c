/*
 * classes.c
 *     Who decides a role's privacy class: its own classification, else the
 *     most restrictive class among the roles it is a member of, else
 *     pals_privacy.default_class.  Superusers are exempt (operational).
 *
 *     The answer for the current user is memoised and dropped when the
 *     registry changes or role membership / superuser status changes.
 */
#include "pals_privacy.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(pals_privacy_class_of);
PG_FUNCTION_INFO_V1(pals_privacy_current_class);

static const char *const class_names[] = {
	[PALS_CLASS_OPERATIONAL] = "operational",
	[PALS_CLASS_STAFF] = "staff",
	[PALS_CLASS_COLLECTIONS] = "collections",
	[PALS_CLASS_AUDITOR] = "auditor",
	[PALS_CLASS_PATRON] = "patron",
	[PALS_CLASS_STATISTICS] = "statistics",
};

/* memo for the last role asked about */
static Oid	memo_role = InvalidOid;
static PalsClass memo_class;
static uint64 memo_generation = 0;
static int	memo_default_class = -1;	/* the setting the memo was made under */

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

static void
forget_memo(Datum arg, int cacheid, uint32 hashvalue)
{
	memo_role = InvalidOid;
	/* a role's class may have changed: plans shaped for it are re-made */
	pals_redact_settings_changed();
}

/* The class of a role, ignoring the superuser exemption. */
static PalsClass
resolve_class(Oid roleid)
{
	const PalsRegistry *reg = pals_registry();
	bool		inherited = false;
	PalsClass	result = PALS_CLASS_OPERATIONAL;

	for (int i = 0; i < reg->nroles; i++)
		if (reg->roles[i].roleid == roleid)
			return reg->roles[i].class;

	/* most restrictive of the classified roles it belongs to */
	for (int i = 0; i < reg->nroles; i++)
	{
		if (is_member_of_role_nosuper(roleid, reg->roles[i].roleid))
		{
			if (!inherited || reg->roles[i].class > result)
				result = reg->roles[i].class;
			inherited = true;
		}
	}
	return inherited ? result : (PalsClass) pals_default_class;
}

PalsClass
pals_class_of_role(Oid roleid)
{
	const PalsRegistry *reg = pals_registry();

	if (memo_role == roleid && memo_generation == reg->generation &&
		memo_default_class == pals_default_class)
		return memo_class;
	memo_class = resolve_class(roleid);
	memo_role = roleid;
	memo_generation = reg->generation;
	memo_default_class = pals_default_class;
	return memo_class;
}

/* The class that governs what the current user may see. */
PalsClass
pals_current_class(void)
{
	Oid			user = GetUserId();

	if (superuser_arg(user))
		return PALS_CLASS_OPERATIONAL;
	return pals_class_of_role(user);
}

Datum
pals_privacy_class_of(PG_FUNCTION_ARGS)
{
	Oid			role = PG_GETARG_OID(0);

	if (superuser_arg(role))
		PG_RETURN_TEXT_P(cstring_to_text(class_names[PALS_CLASS_OPERATIONAL]));
	PG_RETURN_TEXT_P(cstring_to_text(class_names[pals_class_of_role(role)]));
}

Datum
pals_privacy_current_class(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(class_names[pals_current_class()]));
}

void
pals_classes_init(void)
{
	CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, forget_memo, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHOID, forget_memo, (Datum) 0);
}
