/*
 * interp.c - variable interpolation: the compose-spec reading (the
 * reference implementation is compose-go's template package), and the
 * choice between it and the docker CLI's reading (interp_cli.c).
 *
 * Every value is read both ways: the mode picks one, and a value the two
 * read differently gets a warning, so a user moving between `docker
 * compose` and `docker stack deploy` sees it.  docs/compose.md lists the
 * differences; tests/unit/test_compose_interp.c checks each one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "compose_int.h"

/* A defaulted value nests at most this deep (${A:-${B:-${C}}}). */
#define INTERP_DEPTH_MAX 16

struct interp {
	compose_lookup_fn lookup;
	void *payload;
	struct compose_interp_result *res;
	const char *whole;	/* for error messages */
	struct err *err;
};

static int expand(struct interp *ip, const char *s, size_t len,
    struct buf *out, int depth);

bool
interp_name_start(char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool
interp_name_char(char c)
{
	return interp_name_start(c) || (c >= '0' && c <= '9');
}

void
interp_list_add(char ***list, size_t *n, const char *s, size_t len)
{
	for (size_t i = 0; i < *n; i++)
		if (strlen((*list)[i]) == len && memcmp((*list)[i], s, len) == 0)
			return;
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = xstrndup(s, len);
}

int
interp_too_large(struct err *err)
{
	return err_set(err, ERR_INVALID, "interpolated value larger than %u "
	    "bytes", INTERP_VALUE_MAX);
}

const char *
interp_lookup(compose_lookup_fn fn, void *payload, const char *name,
    size_t len)
{
	char key[256];

	if (len >= sizeof(key))
		return NULL;
	memcpy(key, name, len);
	key[len] = '\0';
	return fn(key, payload);
}

static int
invalid(struct interp *ip)
{
	return err_set(ip->err, ERR_INVALID, "Invalid template: \"%s\"",
	    ip->whole);
}

/* The operators, longest first so ":-" is not read as "-". */
static const char *const ops[] = { ":-", ":?", ":+", "-", "?", "+" };

/* ${content}: name, then optionally an operator and its argument. */
static int
braced(struct interp *ip, const char *c, size_t len, struct buf *out,
    int depth)
{
	size_t n = 0, oplen;
	const char *val, *arg, *op = NULL;
	bool set, nonempty, use_arg = false;
	struct buf msg;
	int rc;

	if (len == 0 || !interp_name_start(c[0]))
		return invalid(ip);
	while (n < len && interp_name_char(c[n]))
		n++;
	val = interp_lookup(ip->lookup, ip->payload, c, n);
	set = val != NULL;
	nonempty = set && *val != '\0';
	if (n == len) {
		if (!set)
			interp_list_add(&ip->res->unset, &ip->res->nunset, c, n);
		return buf_append(out, set ? val : "", set ? strlen(val) : 0);
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]) && op == NULL; i++)
		if (strncmp(c + n, ops[i], strlen(ops[i])) == 0)
			op = ops[i];
	if (op == NULL)
		return invalid(ip);
	oplen = strlen(op);
	arg = c + n + oplen;
	switch (op[oplen - 1]) {
	case '-':	/* default */
		use_arg = oplen == 2 ? !nonempty : !set;
		if (!use_arg)
			return buf_append(out, val, strlen(val));
		return expand(ip, arg, len - n - oplen, out, depth + 1);
	case '+':	/* replacement */
		use_arg = oplen == 2 ? nonempty : set;
		if (!use_arg)
			return 0;
		return expand(ip, arg, len - n - oplen, out, depth + 1);
	default:	/* '?': required */
		if (oplen == 2 ? nonempty : set)
			return buf_append(out, val, strlen(val));
		buf_init(&msg, INTERP_VALUE_MAX);
		rc = expand(ip, arg, len - n - oplen, &msg, depth + 1);
		if (rc == 0)
			rc = err_set(ip->err, ERR_INVALID, "required variable "
			    "%.*s is missing a value%s%s", (int)n, c,
			    msg.len ? ": " : "", msg.len ? msg.data : "");
		buf_free(&msg);
		return rc;
	}
}

/* Index of the '}' closing the '{' before s, counting nested braces. */
static const char *
closing_brace(const char *s, const char *end)
{
	int depth = 1;

	for (; s < end; s++) {
		if (*s == '{')
			depth++;
		else if (*s == '}' && --depth == 0)
			return s;
	}
	return NULL;
}

static int
expand(struct interp *ip, const char *s, size_t len, struct buf *out,
    int depth)
{
	const char *end = s + len, *p = s, *close, *name;
	int rc = 0;

	if (depth > INTERP_DEPTH_MAX)
		return err_set(ip->err, ERR_INVALID, "interpolation nested "
		    "deeper than %d levels: \"%s\"", INTERP_DEPTH_MAX,
		    ip->whole);
	while (rc == 0 && p < end) {
		if (*p != '$' || p + 1 == end) {
			rc = buf_append(out, p++, 1);
			continue;
		}
		if (p[1] == '$') {		/* $$ -> $ */
			rc = buf_append(out, "$", 1);
			p += 2;
		} else if (p[1] == '{') {
			if ((close = closing_brace(p + 2, end)) == NULL)
				return invalid(ip);
			rc = braced(ip, p + 2, (size_t)(close - p - 2), out,
			    depth);
			p = close + 1;
		} else if (interp_name_start(p[1])) {
			name = ++p;
			while (p < end && interp_name_char(*p))
				p++;
			rc = braced(ip, name, (size_t)(p - name), out, depth);
		} else		/* a lone $ stays literal */
			rc = buf_append(out, p++, 1);
	}
	/* buf_append fails only at the bound: give it words. */
	if (rc == ERR_NOMEM)
		rc = interp_too_large(ip->err);
	return rc;
}

static int
interp_spec(struct compose_interp_result *out, const char *in,
    compose_lookup_fn lookup_fn, void *payload, struct err *err)
{
	struct interp ip = { lookup_fn, payload, out, in, err };
	struct buf b;
	int rc;

	memset(out, 0, sizeof(*out));
	buf_init(&b, INTERP_VALUE_MAX);
	if ((rc = expand(&ip, in, strlen(in), &b, 0)) < 0) {
		buf_free(&b);
		compose_interp_result_release(out);
		return rc;
	}
	out->value = buf_steal(&b);
	return 0;
}

void
compose_interp_result_release(struct compose_interp_result *r)
{
	if (r == NULL)
		return;
	free(r->value);
	for (size_t i = 0; i < r->nunset; i++)
		free(r->unset[i]);
	free(r->unset);
	memset(r, 0, sizeof(*r));
}

int
compose_interpolate(struct compose_interp_result *out, const char *in,
    enum compose_interp_mode mode, compose_lookup_fn lookup_fn, void *payload,
    struct err *err)
{
	struct compose_interp_result cli = { 0 }, spec = { 0 };
	struct err cerr, serr;
	int crc, src;
	bool differ, use_cli;

	crc = interp_cli(&cli, in, lookup_fn, payload, &cerr);
	src = interp_spec(&spec, in, lookup_fn, payload, &serr);
	differ = (crc < 0) != (src < 0) ||
	    (crc == 0 && strcmp(cli.value, spec.value) != 0);
	/* The CLI's reading, unless it refuses what compose-spec accepts. */
	use_cli = mode == COMPOSE_INTERP_CLI && (crc == 0 || src < 0);
	*out = use_cli ? cli : spec;
	if (differ) {
		out->differs = cli.differs ? cli.differs :
		    "the two readings differ";
		out->cli_refused = crc < 0;
	} else
		out->differs = NULL;
	compose_interp_result_release(use_cli ? &spec : &cli);
	if ((use_cli ? crc : src) < 0) {
		compose_interp_result_release(out);
		if (err != NULL)
			*err = use_cli ? cerr : serr;
		return use_cli ? crc : src;
	}
	return 0;
}

int
compose_interp_mode_parse(const char *name, enum compose_interp_mode *out)
{
	if (strcmp(name, "docker-cli") == 0)
		*out = COMPOSE_INTERP_CLI;
	else if (strcmp(name, "compose-spec") == 0)
		*out = COMPOSE_INTERP_SPEC;
	else
		return -1;
	return 0;
}

const char *
compose_interp_mode_name(enum compose_interp_mode mode)
{
	return mode == COMPOSE_INTERP_SPEC ? "compose-spec" : "docker-cli";
}
