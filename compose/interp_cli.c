/*
 * interp_cli.c - variable interpolation as `docker stack deploy` reads it
 * (docker/cli, cli/compose/template).
 *
 * The CLI matches one regular expression,
 *   \$(?i:(\$)|([_a-z][_a-z0-9]*(:?[-?][^}]*)?)|{(same)}|())
 * and replaces each match in turn.  Its odd readings are kept on purpose:
 * the stacks running today were deployed with exactly those values.
 *   - No nesting: a default runs to the first '}', so "${A:-${B}}" is the
 *     default "${B" followed by a literal "}".
 *   - "$NAME-rest" is "${NAME-rest}" up to the next '}' or the end.
 *   - The operators are looked for anywhere in the match, ":-" first, then
 *     "-", ":?", "?": "${A?x-y}" is the variable "A?x" with default "y".
 *   - One error slot, overwritten by every later match: an error (a lone
 *     '$', a missing required variable) is forgotten when another variable
 *     follows it in the same value.
 * Each reading that compose-spec would not share is named in r->differs.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "compose_int.h"

struct cli {
	compose_lookup_fn lookup;
	void *payload;
	struct compose_interp_result *res;
	enum { CLI_OK, CLI_INVALID, CLI_REQUIRED } state;
	char required[256];	/* "NAME is missing a value: msg" */
};

static void
cli_differs(struct cli *c, const char *why)
{
	if (c->res->differs == NULL)
		c->res->differs = why;
}

/*
 * Length of the CLI's substitution at s ([_a-z][_a-z0-9]*(:?[-?][^}]*)?),
 * 0 when there is none.  Braced, it must be followed by '}'.
 */
static size_t
cli_subst_len(const char *s, const char *end, bool braced)
{
	const char *p = s, *q;

	if (p == end || !interp_name_start(*p))
		return 0;
	while (p < end && interp_name_char(*p))
		p++;
	q = p + (p < end && *p == ':');
	if (q < end && (*q == '-' || *q == '?')) {
		while (q < end && *q != '}')
			q++;
		if (!braced || q < end)
			return (size_t)(q - s);
	}
	if (braced && (p == end || *p != '}'))
		return 0;
	return (size_t)(p - s);
}

static const char *
cli_find(const char *s, size_t len, const char *sep)
{
	size_t n = strlen(sep);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(s + i, sep, n) == 0)
			return s + i;
	return NULL;
}

/* One match's value, by softDefault, hardDefault, requiredNonEmpty,
 * required, then the plain lookup, in the CLI's order. */
static int
cli_apply(struct cli *c, const char *s, size_t len, struct buf *out)
{
	static const char *const seps[] = { ":-", "-", ":?", "?" };
	const char *sep = NULL, *val, *arg;
	size_t i, n, arglen;

	for (i = 0; i < 4 && sep == NULL; i++)
		sep = cli_find(s, len, seps[i]);
	if (sep == NULL) {
		c->state = CLI_OK;
		if ((val = interp_lookup(c->lookup, c->payload, s, len)) ==
		    NULL) {
			interp_list_add(&c->res->unset, &c->res->nunset, s,
			    len);
			return 0;
		}
		return buf_append(out, val, strlen(val));
	}
	i--;
	n = (size_t)(sep - s);
	arg = sep + strlen(seps[i]);
	arglen = len - n - strlen(seps[i]);
	for (size_t k = 0; k < n; k++)
		if (!interp_name_char(s[k]))
			cli_differs(c, "docker stack deploy splits ${...} at the "
			    "first ':-', else '-', ':?', '?', wherever it is");
	if (memchr(arg, '$', arglen) != NULL)
		cli_differs(c, "docker stack deploy keeps a '$' inside a "
		    "default or message literally");
	val = interp_lookup(c->lookup, c->payload, s, n);
	c->state = CLI_OK;
	if (i < 2) {		/* defaults */
		if (val == NULL || (i == 0 && *val == '\0'))
			return buf_append(out, arg, arglen);
		return buf_append(out, val, strlen(val));
	}
	if (val == NULL || (i == 2 && *val == '\0')) {
		c->state = CLI_REQUIRED;
		snprintf(c->required, sizeof(c->required), "%.*s is missing a "
		    "value%s%.*s", (int)(n > 100 ? 100 : n), s,
		    arglen ? ": " : "", (int)(arglen > 100 ? 100 : arglen), arg);
		return 0;
	}
	return buf_append(out, val, strlen(val));
}

/* The match at p ('$'), appended to out; *next is where scanning goes on. */
static int
cli_match(struct cli *c, const char *p, const char *end, struct buf *out,
    const char **next)
{
	bool had_error = c->state != CLI_OK;
	size_t n;
	int rc;

	if (p + 1 < end && p[1] == '$') {	/* escaped: leaves the error */
		*next = p + 2;
		return buf_append(out, "$", 1);
	}
	if ((n = cli_subst_len(p + 1, end, false)) > 0) {
		if (cli_find(p + 1, n, "-") || cli_find(p + 1, n, "?"))
			cli_differs(c, "docker stack deploy reads $NAME followed "
			    "by '-' or '?' as ${NAME-...} up to the next '}'");
		*next = p + 1 + n;
		rc = cli_apply(c, p + 1, n, out);
	} else if (p + 1 < end && p[1] == '{' &&
	    (n = cli_subst_len(p + 2, end, true)) > 0) {
		if (memchr(p + 2, '{', n) != NULL)
			cli_differs(c, "docker stack deploy ends ${...} at its "
			    "first '}'");
		*next = p + 3 + n;
		rc = cli_apply(c, p + 2, n, out);
	} else {
		cli_differs(c, "docker stack deploy refuses a '$' that no "
		    "name, '{NAME}' or '$' follows (':+', '+', '$1', a lone '$')");
		c->state = CLI_INVALID;
		*next = p + 1;
		return 0;
	}
	/* this, not the refusal seen first, is why the readings differ */
	if (had_error && c->state == CLI_OK)
		c->res->differs = "docker stack deploy forgets an error in a "
		    "value when another variable follows it";
	return rc;
}

int
interp_cli(struct compose_interp_result *r, const char *in,
    compose_lookup_fn lookup, void *payload, struct err *err)
{
	struct cli c = { lookup, payload, r, CLI_OK, "" };
	const char *p = in, *end = in + strlen(in), *next;
	struct buf b;
	int rc = 0;

	buf_init(&b, INTERP_VALUE_MAX);
	while (rc == 0 && p < end) {
		if (*p != '$') {
			next = p + strcspn(p, "$");
			rc = buf_append(&b, p, (size_t)(next - p));
		} else
			rc = cli_match(&c, p, end, &b, &next);
		p = next;
	}
	if (rc == 0 && c.state == CLI_INVALID)
		rc = err_set(err, ERR_INVALID, "Invalid template: \"%s\"", in);
	else if (rc == 0 && c.state == CLI_REQUIRED)
		rc = err_set(err, ERR_INVALID, "required variable %s",
		    c.required);
	else if (rc == 0)
		r->value = buf_steal(&b);
	if (rc == ERR_NOMEM)	/* buf_append at its bound */
		rc = interp_too_large(err);
	buf_free(&b);
	return rc;
}
