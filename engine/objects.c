/*
 * objects.c - services, networks, secrets, configs and tasks: list (with
 * filters), inspect, create, update, remove; and GET /info.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "engine_int.h"
#include "secret.h"

struct kind_desc {
	const char *name;
	const char *path;
	bool create;
	bool update;
};

static const struct kind_desc kinds[] = {
	[ENGINE_SERVICE] = { "service", "/services", true, true },
	[ENGINE_NETWORK] = { "network", "/networks", true, false },
	[ENGINE_SECRET] = { "secret", "/secrets", true, true },
	[ENGINE_CONFIG] = { "config", "/configs", true, true },
	[ENGINE_TASK] = { "task", "/tasks", false, false },
};

const char *
engine_kind_name(enum engine_kind kind)
{
	return kinds[kind].name;
}

void
engine_filter_add(cJSON **filters, const char *key, const char *value)
{
	cJSON *set;

	if (*filters == NULL)
		*filters = cJSON_CreateObject();
	if ((set = cJSON_GetObjectItemCaseSensitive(*filters, key)) == NULL)
		set = cJSON_AddObjectToObject(*filters, key);
	if (cJSON_GetObjectItemCaseSensitive(set, value) == NULL)
		cJSON_AddTrueToObject(set, value);
}

/* "/services/<escaped id><suffix>" into out. */
static int
object_path(struct engine *e, enum engine_kind kind, const char *id,
    const char *suffix, char *out, size_t outlen, struct err *err)
{
	char *esc;
	int n;

	if (id == NULL || *id == '\0')
		return err_set(err, ERR_INVALID, "engine %s: empty %s id",
		    e->name, kinds[kind].name);
	if ((esc = curl_easy_escape(e->curl, id, 0)) == NULL)
		alloc_fail();
	n = snprintf(out, outlen, "%s/%s%s", kinds[kind].path, esc, suffix);
	curl_free(esc);
	if (n < 0 || (size_t)n >= outlen)
		return err_set(err, ERR_INVALID, "engine %s: %s id too long",
		    e->name, kinds[kind].name);
	return 0;
}

int
engine_object_list(struct engine *e, enum engine_kind kind,
    const cJSON *filters, cJSON **out, struct err *err)
{
	return engine_object_list_trimmed(e, kind, filters, NULL, out, err);
}

int
engine_object_list_trimmed(struct engine *e, enum engine_kind kind,
    const cJSON *filters, engine_trim_fn trim, cJSON **out,
    struct err *err)
{
	struct engine_req req = { .method = "GET", .path = kinds[kind].path,
	    .split = true, .trim_fn = trim, .trim_kind = kind };
	char *json = NULL, *esc = NULL, *query = NULL;
	size_t qlen;
	int rc;

	*out = NULL;
	if (filters != NULL) {
		json = cJSON_PrintUnformatted(filters);
		if ((esc = curl_easy_escape(e->curl, json, 0)) == NULL)
			alloc_fail();
	}
	qlen = (esc ? strlen(esc) : 0) + 32;
	query = xmalloc(qlen);
	/* status=true adds ServiceStatus (running/desired task counts) at no
	 * extra round trip; engines before API 1.41 ignore it. */
	snprintf(query, qlen, "%s%s%s",
	    kind == ENGINE_SERVICE ? "status=true" : "",
	    kind == ENGINE_SERVICE && esc ? "&" : "",
	    esc ? "filters=" : "");
	if (esc)
		strncat(query, esc, qlen - strlen(query) - 1);
	req.query = *query ? query : NULL;
	if ((rc = engine_call(e, &req, out, err)) < 0)
		goto out;
	if (!cJSON_IsArray(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		rc = err_set(err, ERR_PROTOCOL, "engine %s: GET %s: expected "
		    "a JSON array", e->name, kinds[kind].path);
	}
out:
	free(json);
	curl_free(esc);
	free(query);
	return rc;
}

int
engine_object_inspect(struct engine *e, enum engine_kind kind,
    const char *id, cJSON **out, struct err *err)
{
	struct engine_req req = { .method = "GET" };
	char path[1024];
	int rc;

	*out = NULL;
	if ((rc = object_path(e, kind, id, "", path, sizeof(path), err)) < 0)
		return rc;
	req.path = path;
	if ((rc = engine_call(e, &req, out, err)) < 0)
		return rc;
	if (!cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		return err_set(err, ERR_PROTOCOL, "engine %s: GET %s: expected "
		    "a JSON object", e->name, path);
	}
	return 0;
}

/* X-Registry-Auth for a service spec's image, or NULL. */
static int
service_auth(struct engine *e, const cJSON *spec, char **out,
    struct err *err)
{
	const cJSON *tt, *cs, *image;

	*out = NULL;
	tt = cJSON_GetObjectItemCaseSensitive(spec, "TaskTemplate");
	cs = cJSON_GetObjectItemCaseSensitive(tt, "ContainerSpec");
	image = cJSON_GetObjectItemCaseSensitive(cs, "Image");
	if (!cJSON_IsString(image))
		return 0;
	return engine_auth_header(out, e->auth, image->valuestring, err);
}

/* Run req with spec as its body (and registry auth for services). */
static int
send_spec(struct engine *e, enum engine_kind kind, struct engine_req *req,
    const cJSON *spec, cJSON **reply, struct err *err)
{
	char *body = NULL, *auth = NULL;
	int rc;

	if (kind == ENGINE_SERVICE &&
	    (rc = service_auth(e, spec, &auth, err)) < 0)
		return rc;
	body = cJSON_PrintUnformatted(spec);
	req->body = body;
	req->registry_auth = auth;
	rc = engine_call(e, req, reply, err);
	free(body);
	secret_free(auth);
	return rc;
}

int
engine_object_create(struct engine *e, enum engine_kind kind,
    const cJSON *spec, char **id_out, struct err *err)
{
	char path[64];
	struct engine_req req = { .method = "POST", .path = path };
	cJSON *reply = NULL, *id;
	int rc;

	if (id_out != NULL)
		*id_out = NULL;
	if (!kinds[kind].create)
		return err_set(err, ERR_UNSUPPORTED, "engine %s: %ss cannot be "
		    "created", e->name, kinds[kind].name);
	snprintf(path, sizeof(path), "%s/create", kinds[kind].path);
	if ((rc = send_spec(e, kind, &req, spec, &reply, err)) < 0)
		return rc;
	/* Networks answer "Id", everything else "ID". */
	id = cJSON_GetObjectItemCaseSensitive(reply, "ID");
	if (id == NULL)
		id = cJSON_GetObjectItemCaseSensitive(reply, "Id");
	if (!cJSON_IsString(id))
		rc = err_set(err, ERR_PROTOCOL, "engine %s: POST %s: reply has "
		    "no ID", e->name, path);
	else if (id_out != NULL)
		*id_out = xstrdup(id->valuestring);
	cJSON_Delete(reply);
	return rc;
}

int
engine_object_update(struct engine *e, enum engine_kind kind,
    const char *id, uint64_t version, const cJSON *spec, struct err *err)
{
	struct engine_req req = { .method = "POST" };
	char path[1024], query[64];
	cJSON *reply = NULL;
	int rc;

	if (!kinds[kind].update)
		return err_set(err, ERR_UNSUPPORTED, "engine %s: %ss cannot be "
		    "updated; remove and create it instead", e->name,
		    kinds[kind].name);
	if ((rc = object_path(e, kind, id, "/update", path, sizeof(path),
	    err)) < 0)
		return rc;
	snprintf(query, sizeof(query), "version=%" PRIu64, version);
	req.path = path;
	req.query = query;
	rc = send_spec(e, kind, &req, spec, &reply, err);
	cJSON_Delete(reply);
	return rc;
}

int
engine_object_remove(struct engine *e, enum engine_kind kind,
    const char *id, struct err *err)
{
	struct engine_req req = { .method = "DELETE" };
	char path[1024];
	int rc;

	if (kind == ENGINE_TASK)
		return err_set(err, ERR_UNSUPPORTED, "engine %s: tasks cannot "
		    "be removed", e->name);
	if ((rc = object_path(e, kind, id, "", path, sizeof(path), err)) < 0)
		return rc;
	req.path = path;
	return engine_call(e, &req, NULL, err);
}

static void
dup_string(char **dst, const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*dst = xstrdup(cJSON_IsString(v) ? v->valuestring : "");
}

int
engine_info_get(struct engine *e, struct engine_info *out, struct err *err)
{
	struct engine_req req = { .method = "GET", .path = "/info" };
	cJSON *info = NULL, *swarm;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = engine_call(e, &req, &info, err)) < 0)
		return rc;
	swarm = cJSON_GetObjectItemCaseSensitive(info, "Swarm");
	dup_string(&out->name, info, "Name");
	dup_string(&out->server_version, info, "ServerVersion");
	dup_string(&out->node_id, swarm, "NodeID");
	dup_string(&out->swarm_state, swarm, "LocalNodeState");
	out->manager = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(swarm,
	    "ControlAvailable"));
	cJSON_Delete(info);
	return rc;
}

void
engine_info_release(struct engine_info *info)
{
	if (info == NULL)
		return;
	free(info->name);
	free(info->server_version);
	free(info->node_id);
	free(info->swarm_state);
	memset(info, 0, sizeof(*info));
}
