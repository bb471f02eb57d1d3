/*
 * files.c - reading the files a stack is made of, the one way: whole,
 * bounded, and decrypted in memory when they are SOPS files, so that no
 * reader of stack files, variables, env files or secret data can miss a
 * SOPS file or leave its plaintext behind.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "compose.h"
#include "sops.h"

int
compose_file_read(struct compose_file *f, const char *path, size_t max,
    const struct compose_sops *sops, struct err *err)
{
	const struct sops_keys *keys = sops ? sops->keys : NULL;
	struct buf raw;
	int rc;

	memset(f, 0, sizeof(*f));
	buf_init(&f->data, max);
	buf_init(&raw, max);
	if ((rc = buf_read_file(&raw, path, NULL, err)) < 0)
		goto out;
	buf_append(&raw, "", 0);	/* data is never NULL */
	if (!sops_is_encrypted(raw.data, raw.len, sops_format_of(path))) {
		f->data = raw;
		return 0;
	}
	if (keys == NULL || sops_keys_count(keys) == 0)
		rc = err_set(err, ERR_DENIED, "%s: a SOPS file, and stackd has "
		    "no age identity to decrypt it (%s)", path, keys != NULL &&
		    sops_keys_problem(keys) ? sops_keys_problem(keys) :
		    "give one: sops.age_key_file in stackd.yaml, SOPS_AGE_KEY_FILE "
		    "or SOPS_AGE_KEY");
	else if ((rc = sops_decrypt(keys, path, raw.data, raw.len, &f->data,
	    f->name_key, err)) == 0) {
		f->sops = true;
		buf_append(&f->data, "", 0);
		if (sops->decrypted != NULL)
			cJSON_AddItemToArray(sops->decrypted,
			    cJSON_CreateString(path));
	}
out:
	if (raw.data != NULL)
		OPENSSL_cleanse(raw.data, raw.len);
	buf_free(&raw);
	return rc;
}

void
compose_file_release(struct compose_file *f)
{
	if (f->data.data != NULL)
		OPENSSL_cleanse(f->data.data, f->data.len);
	buf_free(&f->data);
	OPENSSL_cleanse(f->name_key, sizeof(f->name_key));
	f->sops = false;
}
