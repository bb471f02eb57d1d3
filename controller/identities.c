/*
 * identities.c - the age identities SOPS files are decrypted with, from
 * the places sops itself looks (SOPS_AGE_KEY, SOPS_AGE_KEY_FILE) and from
 * stackd.yaml's sops.age_key_file, all of them together as sops combines
 * them.  A source may name its own key file.
 *
 * Nothing here fails the configuration: a key file that cannot be read is
 * noted in the keys, and only a stack that holds a SOPS file fails, with
 * that note, while the others deploy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller.h"
#include "sops.h"

struct sops_keys *
ctl_sops_keys_load(const char *file)
{
	struct sops_keys *k = sops_keys_new();
	const char *inline_keys = getenv("SOPS_AGE_KEY");
	const char *env_file = getenv("SOPS_AGE_KEY_FILE");
	struct err err;

	if (inline_keys != NULL && *inline_keys != '\0' &&
	    sops_keys_add_text(k, inline_keys, strlen(inline_keys),
	    "SOPS_AGE_KEY", &err) < 0)
		sops_keys_note(k, err.msg);
	if (env_file != NULL && *env_file != '\0' &&
	    sops_keys_add_file(k, env_file, &err) < 0)
		sops_keys_note(k, err.msg);
	/* The default may be absent: no docker secret, no identity. */
	if (sops_keys_add_file(k, file ? file : CTL_AGE_KEY_FILE, &err) < 0 &&
	    (file != NULL || err.code != ERR_NOTFOUND))
		sops_keys_note(k, err.msg);
	return k;
}

void
ctl_config_sops_load(struct ctl_config *c)
{
	sops_keys_free(c->sops_keys);
	c->sops_keys = ctl_sops_keys_load(c->age_key_file);
	for (size_t i = 0; i < c->nsources; i++) {
		struct ctl_source_config *s = &c->sources[i];

		sops_keys_free(s->sops_keys);
		s->sops_keys = s->age_key_file != NULL ?
		    ctl_sops_keys_load(s->age_key_file) : NULL;
	}
}

const struct sops_keys *
ctl_source_keys(const struct ctl_config *c, const char *source)
{
	for (size_t i = 0; source != NULL && i < c->nsources; i++)
		if (strcmp(c->sources[i].name, source) == 0 &&
		    c->sources[i].sops_keys != NULL)
			return c->sources[i].sops_keys;
	return c->sops_keys;
}
