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
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(pals_privacy_class_of);
PG_FUNCTION_INFO_V1(pals_privacy_current_class);

/* memo for the last role asked about */
static Oid	memo_role = InvalidOid;
static PalsClass memo_class;
static uint64 memo_generation = 0;
static int	memo_default_class = -1;	/* the setting the memo was made under */

static void
forget_memo(Datum arg, int cacheid, uint32 hashvalue)
{
	memo_role = InvalidOid;
	/* a role's class may have changed: plans shaped for it are re-made */
	pals_reshape_plans();
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
	return inherited ? result : pals_get_default_class();
}

PalsClass
pals_class_of_role(Oid roleid)
{
	const PalsRegistry *reg = pals_registry();

	if (memo_role == roleid && memo_generation == reg->generation &&
		memo_default_class == (int) pals_get_default_class())
		return memo_class;
	memo_class = resolve_class(roleid);
	memo_role = roleid;
	memo_generation = reg->generation;
	memo_default_class = pals_get_default_class();
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

/*
 * The purpose a role reads contact fields under: that of its own
 * classification; else, if it takes its class from the roles it is a member
 * of, the purpose those classifications name (so that granting a
 * purpose-bound role to someone cannot drop the purpose).  *conflict is set
 * when they name different purposes.
 */
/* Not a purpose name (purposes.name is lower case): nobody consented to it. */
#define PALS_NO_CONSENTED_PURPOSE "(conflicting purposes)"

static const char *
role_purpose(Oid roleid, bool *conflict)
{
	const PalsRegistry *reg = pals_registry();
	const char *result = NULL;

	*conflict = false;
	for (int i = 0; i < reg->nroles; i++)
		if (reg->roles[i].roleid == roleid)
			return reg->roles[i].purpose;
	for (int i = 0; i < reg->nroles; i++)
	{
		const char *p = reg->roles[i].purpose;

		if (p == NULL || !is_member_of_role_nosuper(roleid, reg->roles[i].roleid))
			continue;
		if (result != NULL && strcmp(result, p) != 0)
			*conflict = true;
		if (result == NULL)
			result = p;
	}
	return result;
}

/*
 * The purpose contact fields are read under, for the current user and the
 * session's setting of pals_privacy.purpose.  The setting may only narrow:
 * a role without a purpose may choose one; a role with a purpose may repeat
 * it.  The check hook refuses to set anything else
 * (purpose_setting_allowed); a setting made before a SET ROLE to a role
 * with another purpose, or a role with two purposes by membership, reads
 * under the intersection, and since a purpose is a single name, that is no
 * purpose anyone consented to: every contact field reads as NULL.  NULL: no
 * purpose.
 */
const char *
pals_effective_purpose(const char *setting)
{
	bool		conflict;
	const char *own = role_purpose(GetUserId(), &conflict);
	bool		asked = setting != NULL && *setting != '\0';

	if (conflict || (own != NULL && asked && strcmp(setting, own) != 0))
		return PALS_NO_CONSENTED_PURPOSE;
	if (own == NULL)
		return asked ? setting : NULL;
	return own;
}

/*
 * For the check hook of pals_privacy.purpose, when a session sets it (SET,
 * SET LOCAL, set_config(), a function's SET clause): false, with the GUC
 * error filled in, when the current user's role has another purpose.  The
 * planner checks again (pals_effective_purpose), for a SET ROLE that comes
 * after the setting.
 */
static bool
purpose_setting_allowed(const char *newval)
{
	Oid			user = GetUserId();
	bool		conflict;
	const char *own;

	if (newval == NULL || *newval == '\0' || superuser_arg(user))
		return true;
	own = role_purpose(user, &conflict);
	if (!conflict && (own == NULL || strcmp(own, newval) == 0))
		return true;
	GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
	GUC_check_errmsg("pals_privacy.purpose \"%s\" cannot replace the purpose of role \"%s\"",
					 newval, GetUserNameFromId(user, false));
	if (conflict)
		GUC_check_errdetail("The role takes purposes from more than one classified role it is a member of.");
	else
		GUC_check_errdetail("A session can only narrow what its role may read: this role reads contact fields for \"%s\" only.",
							own);
	GUC_check_errhint("Use a role classified for \"%s\".", newval);
	return false;
}

Datum
pals_privacy_class_of(PG_FUNCTION_ARGS)
{
	Oid			role = PG_GETARG_OID(0);

	if (superuser_arg(role))
		PG_RETURN_TEXT_P(cstring_to_text(pals_class_name(PALS_CLASS_OPERATIONAL)));
	PG_RETURN_TEXT_P(cstring_to_text(pals_class_name(pals_class_of_role(role))));
}

Datum
pals_privacy_current_class(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(pals_class_name(pals_current_class())));
}

void
pals_classes_init(void)
{
	pals_guc_purpose_check(purpose_setting_allowed);
	CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, forget_memo, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHOID, forget_memo, (Datum) 0);
}
