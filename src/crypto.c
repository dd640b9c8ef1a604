/*
 * crypto.c
 *     The OpenSSL pieces shared by the audit chain and the patron session.
 */
#include "pals_privacy.h"

#include <openssl/evp.h>

/* SHA-256 of prefix (may be empty) followed by text. */
void
pals_sha256(const unsigned char *prefix, int prefixlen, const char *text, unsigned char *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;

	if (ctx == NULL ||
		EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
		(prefixlen > 0 && EVP_DigestUpdate(ctx, prefix, prefixlen) != 1) ||
		EVP_DigestUpdate(ctx, text, strlen(text)) != 1 ||
		EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != PALS_SHA256_LEN)
	{
		EVP_MD_CTX_free(ctx);
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
						errmsg("pals_privacy: SHA-256 failed in OpenSSL")));
	}
	EVP_MD_CTX_free(ctx);
}

bytea *
pals_bytea(const unsigned char *data, int len)
{
	bytea	   *b = palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), data, len);
	return b;
}
