/*
 * sops_formats.c - which files are SOPS and in which format, and the
 * formats other than YAML: dotenv (one KEY=VALUE a line, the metadata
 * flattened into sops_ keys), JSON and binary (a JSON envelope whose
 * "data" is the whole file).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "alloc.h"
#include "path.h"
#include "sops_int.h"

enum sops_format
sops_format_of(const char *path)
{
	if (path_has_suffix(path, ".yaml") || path_has_suffix(path, ".yml"))
		return SOPS_YAML;
	if (path_has_suffix(path, ".json"))
		return SOPS_JSON;
	if (path_has_suffix(path, ".env"))
		return SOPS_DOTENV;
	if (path_has_suffix(path, ".ini"))
		return SOPS_INI;
	return SOPS_BINARY;
}

static bool
contains(const char *data, size_t len, const char *what)
{
	size_t n = strlen(what);

	for (size_t i = 0; i + n <= len; i++)
		if (data[i] == what[0] && memcmp(data + i, what, n) == 0)
			return true;
	return false;
}

bool
sops_is_encrypted(const char *data, size_t len, enum sops_format f)
{
	switch (f) {
	case SOPS_YAML:
		return contains(data, len, "mac: ENC[");
	case SOPS_DOTENV:
		return contains(data, len, "sops_mac=ENC[");
	case SOPS_INI:
		return contains(data, len, "[sops]");
	default:
		return contains(data, len, "\"mac\": \"ENC[");
	}
}

/* --- dotenv ----------------------------------------------------------- */

/* sops writes a newline in any value as the two characters \n. */
static char *
unescape(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && s[i + 1] == 'n') {
			out[k++] = '\n';
			i++;
		} else
			out[k++] = s[i];
	}
	out[k] = '\0';
	return out;
}

/* sops_age__list_0__map_enc=... back into {"age": [{"enc": ...}]}. */
static void
meta_put(cJSON *meta, const char *key, const char *value)
{
	char name[256];
	const char *p = strstr(key, "__list_"), *m;
	cJSON *list, *item;
	long idx;

	if (p == NULL) {
		cJSON_AddStringToObject(meta, key, value);
		return;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(p - key), key);
	idx = strtol(p + 7, NULL, 10);
	if ((m = strstr(p, "__map_")) == NULL || idx < 0 || idx > 64)
		return;
	if ((list = cJSON_GetObjectItemCaseSensitive(meta, name)) == NULL)
		list = cJSON_AddArrayToObject(meta, name);
	if (!cJSON_IsArray(list))
		return;		/* sops_age=x before sops_age__list_0...: junk */
	while (cJSON_GetArraySize(list) <= idx)
		cJSON_AddItemToArray(list, cJSON_CreateObject());
	item = cJSON_GetArrayItem(list, (int)idx);
	cJSON_AddStringToObject(item, m + 6, value);
}

struct env_line {
	char *key, *value;	/* value unescaped */
	const char *line;	/* as written */
	size_t len;
};

static struct env_line *
env_line_add(struct env_line **lines, size_t *n, size_t *cap)
{
	if (*n == *cap)
		*lines = xrealloc(*lines, (*cap = *cap ? 2 * *cap : 16) *
		    sizeof(**lines));
	memset(&(*lines)[*n], 0, sizeof(**lines));
	return &(*lines)[(*n)++];
}

static size_t
env_lines(const char *text, size_t len, struct env_line **out, cJSON *meta)
{
	size_t n = 0, cap = 0;
	const char *p = text, *end = text + len;

	*out = NULL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *eq;
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct env_line *l;

		if (ll == 0 || (eq = memchr(p, '=', ll)) == NULL ||
		    (p[0] == '#')) {
			/* comments and other lines pass through, but not
			 * the encrypted comments */
			if (ll > 0 && !(ll > 5 && memcmp(p, "#ENC[", 5) == 0)) {
				l = env_line_add(out, &n, &cap);
				l->line = p;
				l->len = ll;
			}
		} else if (eq - p > 5 && memcmp(p, "sops_", 5) == 0) {
			char *k = xstrndup(p + 5, (size_t)(eq - p - 5));
			char *v = unescape(eq + 1, ll - (size_t)(eq - p) - 1);
			meta_put(meta, k, v);
			free(k);
			free(v);
		} else {
			l = env_line_add(out, &n, &cap);
			l->line = p;
			l->len = ll;
			l->key = xstrndup(p, (size_t)(eq - p));
			l->value = unescape(eq + 1, ll - (size_t)(eq - p) - 1);
		}
		p += ll + 1;
	}
	return n;
}

static void
env_value(struct buf *out, const struct buf *plain)
{
	for (size_t i = 0; i < plain->len; i++)
		if (plain->data[i] == '\n')
			buf_append(out, "\\n", 2);
		else
			buf_append(out, plain->data + i, 1);
}

static int
dotenv_decrypt(struct sops_run *r, const struct sops_keys *k,
    const char *text, size_t len, struct buf *out)
{
	cJSON *meta = cJSON_CreateObject();
	struct env_line *lines;
	size_t n = env_lines(text, len, &lines, meta);
	struct buf plain;
	int rc = sops_run_begin(r, k, meta);

	buf_init(&plain, SOPS_VALUE_MAX);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *keys[1] = { lines[i].key };
		struct sops_leaf l = { .keys = keys, .nkeys = 1, .text =
		    lines[i].value, .len = lines[i].value ?
		    strlen(lines[i].value) : 0, .string = true };
		char type[8];
		bool enc;

		if (lines[i].key == NULL) {
			buf_appendf(out, "%.*s\n", (int)lines[i].len,
			    lines[i].line);
			continue;
		}
		if ((rc = sops_run_leaf(r, &l, &plain, type, &enc)) < 0)
			break;
		if (!enc)
			buf_appendf(out, "%.*s\n", (int)lines[i].len,
			    lines[i].line);
		else {
			buf_appendf(out, "%s=", lines[i].key);
			env_value(out, &plain);
			buf_append(out, "\n", 1);
			OPENSSL_cleanse(plain.data, plain.len);
		}
	}
	if (rc == 0)
		rc = sops_run_end(r);
	for (size_t i = 0; i < n; i++) {
		free(lines[i].key);
		if (lines[i].value != NULL)
			OPENSSL_cleanse(lines[i].value, strlen(lines[i].value));
		free(lines[i].value);
	}
	free(lines);
	buf_free(&plain);
	cJSON_Delete(meta);
	return rc;
}

/* --- JSON and binary --------------------------------------------------- */

struct jwalk {
	struct sops_run *r;
	struct buf *binary;	/* binary: where "data" goes, NULs and all */
	const char *keys[SOPS_PATH_MAX];
	size_t nkeys;
	struct buf plain;
};

/* The decrypted value as the JSON type sops wrote. */
static cJSON *
json_value(const char *type, const struct buf *plain)
{
	if (strcmp(type, "int") == 0 || strcmp(type, "float") == 0)
		return cJSON_CreateNumber(strtod(plain->data, NULL));
	if (strcmp(type, "bool") == 0)
		return cJSON_CreateBool(strcmp(plain->data, "True") == 0);
	return cJSON_CreateString(plain->data);
}

static int
json_leaf(struct jwalk *w, cJSON *v, cJSON *parent)
{
	struct sops_leaf l = { .keys = w->keys, .nkeys = w->nkeys };
	char num[64], type[8];
	bool enc;
	int rc;

	if (cJSON_IsString(v)) {
		l.text = v->valuestring;
		l.len = strlen(v->valuestring);
		l.string = true;
	} else {
		if (cJSON_IsBool(v))
			snprintf(num, sizeof(num), "%s", cJSON_IsTrue(v) ?
			    "True" : "False");
		else if (v->valuedouble == (double)(long long)v->valuedouble &&
		    v->valuedouble < 9.2e18 && v->valuedouble > -9.2e18)
			snprintf(num, sizeof(num), "%lld",
			    (long long)v->valuedouble);
		else
			sops_format_float(v->valuedouble, num, sizeof(num));
		l.text = l.mac_bytes = num;
		l.len = l.mac_len = strlen(num);
	}
	if ((rc = sops_run_leaf(w->r, &l, &w->plain, type, &enc)) < 0 || !enc)
		return rc;
	if (w->binary != NULL && w->nkeys == 1 && strcmp(w->keys[0],
	    "data") == 0)
		rc = buf_append(w->binary, w->plain.data, w->plain.len);
	else if (cJSON_IsArray(parent))
		cJSON_ReplaceItemViaPointer(parent, v, json_value(type,
		    &w->plain));
	else
		cJSON_ReplaceItemInObjectCaseSensitive(parent, v->string,
		    json_value(type, &w->plain));
	OPENSSL_cleanse(w->plain.data, w->plain.len);
	return rc;
}

/* Depth first in document order; the metadata is not data. */
static int
json_walk(struct jwalk *w, cJSON *node, bool top)
{
	cJSON *v, *next;
	int rc = 0;

	for (v = node->child; rc == 0 && v != NULL; v = next) {
		next = v->next;
		if (top && strcmp(v->string, "sops") == 0)
			continue;
		if (cJSON_IsObject(node)) {
			if (w->nkeys == SOPS_PATH_MAX)
				return err_set(w->r->err, ERR_UNSUPPORTED, "%s: "
				    "nested too deep", w->r->file);
			w->keys[w->nkeys++] = v->string;
		}
		if (cJSON_IsObject(v) || cJSON_IsArray(v))
			rc = json_walk(w, v, false);
		else if (!cJSON_IsNull(v))
			rc = json_leaf(w, v, node);
		if (cJSON_IsObject(node))
			w->nkeys--;
	}
	return rc;
}

static int
json_decrypt(struct sops_run *r, const struct sops_keys *k, const char *text,
    size_t len, bool binary, struct buf *out)
{
	cJSON *doc = cJSON_ParseWithLength(text, len), *data;
	struct jwalk w = { .r = r, .binary = binary ? out : NULL };
	int rc;

	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return err_set(r->err, ERR_INVALID, "%s: not a JSON object%s",
		    r->file, binary ? " (a binary SOPS file is a JSON envelope)" :
		    "");
	}
	buf_init(&w.plain, SOPS_VALUE_MAX);
	if ((rc = sops_run_begin(r, k, cJSON_GetObjectItemCaseSensitive(doc,
	    "sops"))) == 0 && (rc = json_walk(&w, doc, true)) == 0 &&
	    (rc = sops_run_end(r)) == 0) {
		cJSON_DeleteItemFromObjectCaseSensitive(doc, "sops");
		data = cJSON_GetObjectItemCaseSensitive(doc, "data");
		if (binary && (!cJSON_IsString(data) || cJSON_GetArraySize(doc)
		    != 1))
			rc = err_set(r->err, ERR_INVALID, "%s: a binary SOPS "
			    "file has its data, encrypted, under \"data\" and "
			    "nothing else", r->file);
		else if (!binary) {
			char *s = cJSON_Print(doc);
			rc = buf_appendf(out, "%s\n", s);
			OPENSSL_cleanse(s, strlen(s));
			free(s);
		}
	}
	buf_free(&w.plain);
	cJSON_Delete(doc);
	return rc;
}

int
sops_decrypt(const struct sops_keys *k, const char *path, const char *data,
    size_t len, struct buf *out, unsigned char name_key[32],
    struct err *err)
{
	struct sops_run r = { .file = path, .err = err };
	enum sops_format f = sops_format_of(path);
	int rc;

	if (f == SOPS_YAML)
		return sops_yaml_decrypt(k, path, data, len, out, name_key, err);
	if (f == SOPS_INI)
		return err_set(err, ERR_UNSUPPORTED, "%s: SOPS INI files are "
		    "not supported", path);
	rc = f == SOPS_DOTENV ? dotenv_decrypt(&r, k, data, len, out) :
	    json_decrypt(&r, k, data, len, f == SOPS_BINARY, out);
	if (rc == 0)
		memcpy(name_key, r.name_key, 32);
	else if (out->data != NULL) {
		OPENSSL_cleanse(out->data, out->len);
		buf_reset(out);
	}
	sops_run_release(&r);
	return rc;
}
