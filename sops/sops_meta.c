/*
 * sops_meta.c - what every SOPS format shares: the metadata block, the
 * data key it wraps for age recipients, the rule that says which values
 * are encrypted, the ENC[AES256_GCM,...] values and the file's MAC (the
 * SHA-512 of every value, in order, itself encrypted).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "alloc.h"
#include "base64.h"
#include "json.h"
#include "sops_int.h"

#define ENC_PREFIX "ENC[AES256_GCM,data:"

static const char *const rule_keys[] = { "unencrypted_suffix",
    "encrypted_suffix", "unencrypted_regex", "encrypted_regex" };

void
sops_path_join(char *out, size_t size, const char *const *keys, size_t n)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s:", keys[i]);
}

/* glibc's regcomp can take gigabytes for a short hostile pattern
 * ("^)+++++..."), and the rule is read before the MAC can be checked:
 * only modest patterns are compiled, without stacked quantifiers or
 * large repetition counts. */
static bool
regex_tame(const char *re)
{
	bool quant = false;

	if (strlen(re) > 256)
		return false;
	for (const char *p = re; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			quant = false;
			continue;
		}
		if (strchr("*+?{", *p) != NULL) {
			if (quant)
				return false;
			quant = true;
			if (*p == '{') {
				long n = strtol(p + 1, NULL, 10);
				const char *c = strchr(p, '}'), *comma =
				    strchr(p, ',');
				if (c == NULL || n > 16 || (comma && comma < c &&
				    strtol(comma + 1, NULL, 10) > 16))
					return false;
				p = c;
			}
			continue;
		}
		quant = false;
	}
	return true;
}

static int
rule_of(struct sops_run *r, const cJSON *meta)
{
	int found = 0;

	if (json_str(meta, "unencrypted_comment_regex") != NULL ||
	    json_str(meta, "encrypted_comment_regex") != NULL)
		return err_set(r->err, ERR_UNSUPPORTED, "%s: the comment rules "
		    "(unencrypted_comment_regex, encrypted_comment_regex) are "
		    "not supported", r->file);
	r->rule = RULE_UNENC_SUFFIX;
	for (int i = 0; i < 4; i++) {
		const char *v = json_str(meta, rule_keys[i]);

		if (v == NULL || *v == '\0')
			continue;
		if (found++ > 0)
			return err_set(r->err, ERR_INVALID, "%s: sops allows one "
			    "of unencrypted_suffix, encrypted_suffix, "
			    "unencrypted_regex and encrypted_regex", r->file);
		r->rule = (enum sops_rule)i;
		r->rule_arg = xstrdup(v);
	}
	if (found == 0)
		r->rule_arg = xstrdup("_unencrypted");	/* sops's default */
	if (r->rule == RULE_UNENC_REGEX || r->rule == RULE_ENC_REGEX) {
		if (!regex_tame(r->rule_arg) || regcomp(&r->re, r->rule_arg,
		    REG_EXTENDED | REG_NOSUB) != 0)
			return err_set(r->err, ERR_UNSUPPORTED, "%s: %s: stackd "
			    "cannot read this regular expression (POSIX ERE)",
			    r->file, rule_keys[r->rule]);
		r->re_set = true;
	}
	return 0;
}

/* The recipients of the file, for "no identity matches". */
static void
recipients(const cJSON *age, char *out, size_t size)
{
	const cJSON *e;
	size_t len = 0;

	out[0] = '\0';
	cJSON_ArrayForEach(e, age) {
		const char *who = json_str(e, "recipient");
		if (who != NULL && len < size)
			len += (size_t)snprintf(out + len, size - len, "%s%s",
			    len ? ", " : "", who);
	}
}

/* The data key from the first age stanza one of k's identities opens. */
static int
data_key(struct sops_run *r, const struct sops_keys *k, const cJSON *meta)
{
	const cJSON *age = cJSON_GetObjectItemCaseSensitive(meta, "age"), *e;
	enum sops_age_fault worst = SOPS_AGE_NO_MATCH;
	char list[1024], why[ERR_MSG_MAX] = "";
	struct buf dk;
	size_t who = 0;
	int rc = -1;

	buf_init(&dk, 64);
	cJSON_ArrayForEach(e, age) {
		const char *enc = json_str(e, "enc");
		enum sops_age_fault f = SOPS_AGE_NO_MATCH;
		struct err aerr;

		if (enc == NULL)
			continue;
		if (sops_age_decrypt(k, (const unsigned char *)enc, strlen(enc),
		    &dk, &who, &f, &aerr) == 0) {
			if (dk.len == 32) {
				rc = 0;
				break;
			}
			/* Opened, but it holds no SOPS data key. */
			f = SOPS_AGE_PAYLOAD;
			snprintf(aerr.msg, sizeof(aerr.msg), "age: the data key "
			    "is %zu bytes, not 32", dk.len);
		}
		buf_reset(&dk);
		if (f != SOPS_AGE_NO_MATCH && worst == SOPS_AGE_NO_MATCH) {
			worst = f;
			snprintf(why, sizeof(why), "%s", aerr.msg);
		}
	}
	if (rc == 0) {
		memcpy(r->key, dk.data, 32);
		rc = sops_hkdf(k->ids[who].sk, 32, NULL, 0,
		    "stackd/v1/object-names", r->name_key, 32);
	} else if (cJSON_GetArraySize(age) == 0)
		rc = err_set(r->err, ERR_UNSUPPORTED, "%s: not encrypted for "
		    "an age recipient (stackd reads age only, not PGP or a "
		    "cloud KMS)", r->file);
	else if (worst != SOPS_AGE_NO_MATCH)
		rc = err_set(r->err, worst == SOPS_AGE_UNSUPPORTED ?
		    ERR_UNSUPPORTED : ERR_INVALID, "%s: sops.age: %s", r->file,
		    why);
	else {
		char mine[4 * (SOPS_RECIPIENT_LEN + 2)] = "";
		size_t ml = 0;

		for (size_t i = 0; i < k->n && i < 4; i++) {
			char r1[SOPS_RECIPIENT_LEN + 1];
			sops_keys_recipient(k, i, r1);
			ml += (size_t)snprintf(mine + ml, sizeof(mine) - ml,
			    "%s%s", ml ? ", " : "", r1);
		}
		recipients(age, list, sizeof(list));
		rc = err_set(r->err, ERR_DENIED, "%s: no age identity matches: "
		    "the file is encrypted for %s; stackd holds %s%s", r->file,
		    list, mine, k->n > 4 ? ", ..." : "");
	}
	if (dk.data != NULL)
		OPENSSL_cleanse(dk.data, dk.len);
	buf_free(&dk);
	return rc;
}

int
sops_run_begin(struct sops_run *r, const struct sops_keys *k,
    const cJSON *meta)
{
	const cJSON *mo = cJSON_GetObjectItemCaseSensitive(meta,
	    "mac_only_encrypted");
	static const unsigned char *init = (const unsigned char *)"sops";
	unsigned char h[32];
	int rc;

	if (!cJSON_IsObject(meta))
		return err_set(r->err, ERR_INVALID, "%s: no sops metadata "
		    "(is the file encrypted with sops?)", r->file);
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(meta,
	    "key_groups")) > 0)
		return err_set(r->err, ERR_UNSUPPORTED, "%s: key groups "
		    "(Shamir-split data keys) are not supported", r->file);
	if (json_str(meta, "mac") == NULL || json_str(meta, "lastmodified") == NULL)
		return err_set(r->err, ERR_INVALID, "%s: the sops metadata has "
		    "no mac or no lastmodified", r->file);
	r->mac_enc = xstrdup(json_str(meta, "mac"));
	r->lastmodified = xstrdup(json_str(meta, "lastmodified"));
	r->mac_only_encrypted = cJSON_IsTrue(mo) || (cJSON_IsString(mo) &&
	    strcmp(mo->valuestring, "true") == 0);
	if ((rc = rule_of(r, meta)) < 0 || (rc = data_key(r, k, meta)) < 0)
		return rc;
	if ((r->mac = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(r->mac, EVP_sha512(), NULL) != 1)
		alloc_fail();
	/* mac_only_encrypted starts from SHA-256("sops"), so the two modes
	 * never give one MAC. */
	if (r->mac_only_encrypted) {
		EVP_Digest(init, 4, h, NULL, EVP_sha256(), NULL);
		EVP_DigestUpdate(r->mac, h, 32);
	}
	return 0;
}

static bool
key_matches(const struct sops_run *r, const char *key)
{
	size_t kl = strlen(key), sl = strlen(r->rule_arg);

	if (r->re_set)
		return regexec(&r->re, key, 0, NULL, 0) == 0;
	return kl >= sl && strcmp(key + kl - sl, r->rule_arg) == 0;
}

/* sops looks at every key on the path, not only the last. */
static bool
encrypted(const struct sops_run *r, const struct sops_leaf *l)
{
	bool any = false;

	for (size_t i = 0; i < l->nkeys && !any; i++)
		any = key_matches(r, l->keys[i]);
	return r->rule == RULE_ENC_SUFFIX || r->rule == RULE_ENC_REGEX ? any :
	    !any;
}

static const char *
field(const char *s, const char *end, const char *name, size_t *len)
{
	const char *p = strstr(s, name), *q;

	if (p == NULL || p >= end)
		return NULL;
	p += strlen(name);
	if ((q = memchr(p, ',', (size_t)(end - p))) == NULL)
		q = end;
	*len = (size_t)(q - p);
	return p;
}

/* ENC[AES256_GCM,data:...,iv:...,tag:...,type:...] opened with aad. */
static int
enc_open(struct sops_run *r, const char *v, size_t vlen, const char *aad,
    const char *where, struct buf *plain, char type[8])
{
	const char *end = v + vlen - 1, *d, *iv, *tag, *ty;
	size_t dl, ivl, tl, tyl;
	unsigned char ivb[32], tagb[16], *ct = NULL;
	ssize_t n = -1;
	int rc;

	if (vlen < sizeof(ENC_PREFIX) || vlen > SOPS_VALUE_MAX ||
	    memcmp(v, ENC_PREFIX, strlen(ENC_PREFIX)) != 0 || *end != ']' ||
	    (d = field(v, end, "data:", &dl)) == NULL ||
	    (iv = field(v, end, ",iv:", &ivl)) == NULL ||
	    (tag = field(v, end, ",tag:", &tl)) == NULL ||
	    (ty = field(v, end, ",type:", &tyl)) == NULL || tyl >= 8 ||
	    b64_decode(iv, ivl, ivb, 32, B64_PADDED, false) != 32 ||
	    b64_decode(tag, tl, tagb, 16, B64_PADDED, false) != 16)
		return err_set(r->err, ERR_INVALID, "%s: %s: not a SOPS "
		    "encrypted value", r->file, where);
	ct = xmalloc(b64_decoded_max(dl) + 1);
	if ((n = b64_decode(d, dl, ct, b64_decoded_max(dl), B64_PADDED,
	    false)) < 0) {
		free(ct);
		return err_set(r->err, ERR_INVALID, "%s: %s: not a SOPS "
		    "encrypted value", r->file, where);
	}
	memcpy(type, ty, tyl);
	type[tyl] = '\0';
	buf_reset(plain);
	if ((rc = buf_append(plain, "", 0)) == 0 && (size_t)n > 0)
		rc = buf_append(plain, ct, (size_t)n);	/* room for the text */
	if (rc == 0 && sops_gcm_open(r->key, ivb, ct, (size_t)n, tagb, aad,
	    strlen(aad), (unsigned char *)plain->data) < 0)
		rc = err_set(r->err, ERR_INVALID, "%s: %s: the value does not "
		    "decrypt (its tag fails: a wrong key path, a changed value "
		    "or another data key)", r->file, where);
	free(ct);
	return rc;
}

int
sops_run_leaf(struct sops_run *r, const struct sops_leaf *l,
    struct buf *plain, char type[8], bool *enc)
{
	char aad[4096], shown[4096];
	size_t sl;
	int rc;

	sops_path_join(aad, sizeof(aad), l->keys, l->nkeys);
	/* For people: a.b.c, not the AAD's a:b:c: */
	snprintf(shown, sizeof(shown), "%s", aad);
	for (char *p = shown; *p != '\0'; p++)
		if (*p == ':')
			*p = '.';
	if ((sl = strlen(shown)) > 0)
		shown[sl - 1] = '\0';
	*enc = encrypted(r, l);
	if (!*enc) {
		if (!r->mac_only_encrypted)
			EVP_DigestUpdate(r->mac, l->mac_bytes ? l->mac_bytes :
			    l->text, l->mac_bytes ? l->mac_len : l->len);
		return 0;
	}
	if (!l->string)
		return err_set(r->err, ERR_INVALID, "%s: %s: expected an "
		    "encrypted value (the file's rule says this key is "
		    "encrypted)", r->file, shown);
	if (l->len == 0) {	/* sops leaves "" as it is */
		buf_reset(plain);
		snprintf(type, 8, "str");
		return buf_append(plain, "", 0);
	}
	if ((rc = enc_open(r, l->text, l->len, aad, shown, plain, type)) < 0)
		return rc;
	if (strcmp(type, "comment") != 0)
		EVP_DigestUpdate(r->mac, plain->data, plain->len);
	return 0;
}

int
sops_run_end(struct sops_run *r)
{
	unsigned char md[64];
	char hex[129], type[8];
	struct buf mac;
	int rc;

	EVP_DigestFinal_ex(r->mac, md, NULL);
	for (int i = 0; i < 64; i++)
		snprintf(hex + 2 * i, 3, "%02X", md[i]);
	buf_init(&mac, 1024);
	rc = enc_open(r, r->mac_enc, strlen(r->mac_enc), r->lastmodified,
	    "sops.mac", &mac, type);
	if (rc == 0 && (mac.len != 128 || CRYPTO_memcmp(mac.data, hex,
	    128) != 0))
		rc = err_set(r->err, ERR_INVALID, "%s: MAC mismatch: the file "
		    "was changed after sops encrypted it", r->file);
	else if (rc < 0)
		rc = err_set(r->err, ERR_INVALID, "%s: the MAC does not "
		    "decrypt (sops.mac or sops.lastmodified was changed)",
		    r->file);
	buf_free(&mac);
	return rc;
}

void
sops_run_release(struct sops_run *r)
{
	OPENSSL_cleanse(r->key, sizeof(r->key));
	OPENSSL_cleanse(r->name_key, sizeof(r->name_key));
	if (r->re_set)
		regfree(&r->re);
	free(r->rule_arg);
	free(r->mac_enc);
	free(r->lastmodified);
	EVP_MD_CTX_free(r->mac);
}
