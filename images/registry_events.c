/*
 * registry_events.c - the notification envelope of a Docker distribution registry
 * (its config's notifications.endpoints), read for pushes.
 *
 * {"events": [{"action": "push", "target": {"repository": "app",
 *   "tag": "1", ...}, "request": {"host": "127.0.0.1:5000", ...}}, ...]}
 *
 * Only the repository and the registry's host are taken: the digest is
 * asked of the engine again, never trusted from the body.
 */
#include <string.h>

#include "images.h"

static const char *
str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

int
images_events_read(const char *body, size_t len, images_push_fn fn,
    void *arg)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *ev, *events = cJSON_GetObjectItemCaseSensitive(root,
	    "events");
	int n = 0;

	if (!cJSON_IsArray(events)) {
		cJSON_Delete(root);
		return -1;
	}
	cJSON_ArrayForEach(ev, events) {
		const char *action = str(ev, "action");
		const char *repo = str(cJSON_GetObjectItemCaseSensitive(ev,
		    "target"), "repository");
		const char *host = str(cJSON_GetObjectItemCaseSensitive(ev,
		    "request"), "host");

		if (action == NULL || strcmp(action, "push") != 0 ||
		    repo == NULL || host == NULL || *repo == '\0' ||
		    *host == '\0')
			continue;
		fn(host, repo, arg);
		n++;
	}
	cJSON_Delete(root);
	return n;
}
