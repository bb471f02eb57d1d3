/*
 * json_keys.c - one copy of each object key, for the trees stackd keeps.
 *
 * A parsed or built cJSON tree gives every member's key an allocation of
 * its own: 10 000 observed services repeat the same forty keys ("Spec",
 * "Name", "Labels", ...) and pay a heap chunk for each, 1.3 KiB a
 * service.  Kept trees share them instead: each distinct key is stored
 * once for the life of the process and members point to it flagged
 * cJSON_StringIsConst, which cJSON honours everywhere (it never frees or
 * rewrites such a key; a duplicate shares it too).  The set is bounded,
 * since keys also come from users (labels): past the bound a key stays
 * its member's own, which is only the cost it had before.
 */
#include <pthread.h>
#include <string.h>

#include "alloc.h"
#include "hash.h"
#include "json.h"

#define KEYS_MAX 8192			/* distinct keys shared */
#define SLOTS (2 * KEYS_MAX)		/* open addressing, a power of 2 */
#define KEY_LEN_MAX 128			/* longer ones stay their own */
#define BLOCK 65536			/* keys are stored in blocks of this */
#define BLOCKS_MAX 32			/* 2 MiB at most */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char *slots[SLOTS];
static size_t nkeys;
static char *blocks[BLOCKS_MAX];
static size_t nblocks, used = BLOCK;

/* A copy of key that lives as long as the process, or NULL. */
static char *
stored(const char *key, size_t len)
{
	char *copy;

	if (used + len + 1 > BLOCK) {
		if (nblocks == BLOCKS_MAX)
			return NULL;
		blocks[nblocks++] = xmalloc(BLOCK);
		used = 0;
	}
	copy = blocks[nblocks - 1] + used;
	memcpy(copy, key, len + 1);
	used += len + 1;
	return copy;
}

/* The shared copy of key (stored now if new), or NULL past the bounds. */
static char *
shared(const char *key)
{
	size_t len = strlen(key), i;
	char *s = NULL;

	if (len > KEY_LEN_MAX)
		return NULL;
	pthread_mutex_lock(&mu);
	for (i = (size_t)hash_fnv1a(key, len) & (SLOTS - 1); slots[i] != NULL;
	    i = (i + 1) & (SLOTS - 1))
		if (strcmp(slots[i], key) == 0) {
			s = slots[i];
			break;
		}
	if (s == NULL && nkeys < KEYS_MAX && (s = stored(key, len)) != NULL) {
		slots[i] = s;
		nkeys++;
	}
	pthread_mutex_unlock(&mu);
	return s;
}

void
json_keys_share(cJSON *tree)
{
	for (cJSON *c = tree != NULL ? tree->child : NULL; c != NULL;
	    c = c->next) {
		char *s;

		if (c->string != NULL && !(c->type & cJSON_StringIsConst) &&
		    (s = shared(c->string)) != NULL) {
			cJSON_free(c->string);
			c->string = s;
			c->type |= cJSON_StringIsConst;
		}
		json_keys_share(c);
	}
}
