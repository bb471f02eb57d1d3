/*
 * stack_opts.c - the options that name a stack and its inputs, shared by
 * render, plan and apply: -f FILE... -s NAME --vars F... --var K=V...
 * --env-inherit --strict-vars --interpolation MODE --resolve-image MODE
 * --root DIR.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller.h"

enum { OPT_VARS = 300, OPT_VAR, OPT_INHERIT, OPT_STRICT, OPT_ROOT, OPT_JSON,
    OPT_ENGINE, OPT_OWNER, OPT_KEEP_REPLICAS, OPT_DIR, OPT_PRUNE_SECRETS,
    OPT_ALLOW_EMPTY, OPT_PRUNE_LIMIT, OPT_INTERP, OPT_RESOLVE };

static const struct option longopts[] = {
	{ "file", required_argument, NULL, 'f' },
	{ "stack", required_argument, NULL, 's' },
	{ "vars", required_argument, NULL, OPT_VARS },
	{ "var", required_argument, NULL, OPT_VAR },
	{ "env-inherit", no_argument, NULL, OPT_INHERIT },
	{ "strict-vars", no_argument, NULL, OPT_STRICT },
	{ "interpolation", required_argument, NULL, OPT_INTERP },
	{ "resolve-image", required_argument, NULL, OPT_RESOLVE },
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "engine", required_argument, NULL, OPT_ENGINE },
	{ "owner", required_argument, NULL, OPT_OWNER },
	{ "keep-replicas", no_argument, NULL, OPT_KEEP_REPLICAS },
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "prune-secrets", no_argument, NULL, OPT_PRUNE_SECRETS },
	{ "allow-empty", no_argument, NULL, OPT_ALLOW_EMPTY },
	{ "prune-limit", required_argument, NULL, OPT_PRUNE_LIMIT },
	{ "config", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
push(const char ***list, size_t *n, const char *v)
{
	const char **l = realloc(*list, (*n + 1) * sizeof(*l));

	if (l == NULL)
		return -1;
	l[(*n)++] = v;
	*list = l;
	return 0;
}

int
controller_percent_parse(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || errno != 0 || v < 1 || v > 100 ||
	    (*end != '\0' && strcmp(end, "%") != 0))
		return -1;
	*out = (int)v;
	return 0;
}

int
controller_prune_limit_option(const char *arg, int *out)
{
	if (controller_percent_parse(arg, out) == 0)
		return 0;
	fprintf(stderr, "stackd: --prune-limit: want a percentage, 1 to 100, "
	    "got \"%s\"\n", arg);
	return -1;
}

int
controller_resolve_option(const char *arg, enum images_mode *out)
{
	if (images_mode_parse(arg, out) == 0)
		return 0;
	fprintf(stderr, "stackd: --resolve-image: want always (pin every "
	    "image's digest, what docker stack deploy does), changed or never, "
	    "not \"%s\"\n", arg);
	return -1;
}

int
controller_interp_option(const char *arg, enum compose_interp_mode *out)
{
	if (compose_interp_mode_parse(arg, out) == 0)
		return 0;
	fprintf(stderr, "stackd: --interpolation: want docker-cli (what "
	    "docker stack deploy does) or compose-spec (docker compose), got "
	    "\"%s\"\n", arg);
	return -1;
}

static bool
one_form(const struct controller_stack_opts *so)
{
	const struct compose_options *o = &so->compose;
	bool one = o->nfiles > 0 || o->stack != NULL;

	if (one + (so->dir != NULL) + (so->config != NULL) != 1)
		return false;
	if (one)
		return o->nfiles > 0 && o->stack != NULL;
	return so->dir_ok;
}

int
controller_stack_options(struct controller_stack_opts *so, int argc,
    char **argv, const char *usage, bool dir_ok)
{
	struct compose_options *o = &so->compose;
	int c, rc = 0;

	memset(so, 0, sizeof(*so));
	so->dir_ok = dir_ok;
	optind = 1;
	while (rc == 0 &&
	    (c = getopt_long(argc, argv, "c:f:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			rc = push(&so->files, &o->nfiles, optarg);
			o->files = so->files;
			break;
		case 's':
			o->stack = optarg;
			break;
		case OPT_VARS:
			rc = push(&so->var_files, &o->nvar_files, optarg);
			o->var_files = so->var_files;
			break;
		case OPT_VAR:
			rc = push(&so->vars, &o->nvars, optarg);
			o->vars = so->vars;
			break;
		case OPT_INHERIT:
			o->env_inherit = true;
			break;
		case OPT_STRICT:
			o->strict_vars = true;
			break;
		case OPT_INTERP:
			if ((rc = controller_interp_option(optarg,
			    &o->interp)) < 0)
				rc = 1;
			so->interp_set = rc == 0;
			break;
		case OPT_RESOLVE:
			if (controller_resolve_option(optarg, &so->resolve) < 0)
				rc = 1;
			so->resolve_set = rc == 0;
			break;
		case OPT_ROOT:
			o->root = optarg;
			break;
		case OPT_JSON:
			so->json = true;
			break;
		case OPT_ENGINE:
			so->engine = optarg;
			break;
		case OPT_OWNER:
			so->owner = optarg;
			break;
		case OPT_KEEP_REPLICAS:
			so->keep_replicas = true;
			break;
		case OPT_DIR:
			so->dir = optarg;
			break;
		case 'c':
			so->config = optarg;
			break;
		case OPT_PRUNE_SECRETS:
			so->prune_secrets = true;
			break;
		case OPT_ALLOW_EMPTY:
			so->allow_empty = true;
			break;
		case OPT_PRUNE_LIMIT:
			if (controller_prune_limit_option(optarg,
			    &so->prune_limit) < 0)
				rc = 1;
			break;
		case 'h':
			printf("%s", usage);
			so->help = true;
			return 1;
		default:
			fprintf(stderr, "%s", usage);
			rc = 1;
		}
	}
	/* One stack (-f, -s), a directory of them (--dir), or a config. */
	if (rc == 0 && (optind != argc || !one_form(so))) {
		fprintf(stderr, "%s", usage);
		rc = 1;
	}
	if (rc != 0)
		controller_stack_options_release(so);
	return rc;
}

void
controller_stack_options_release(struct controller_stack_opts *so)
{
	free(so->files);
	free(so->var_files);
	free(so->vars);
	so->files = so->var_files = so->vars = NULL;
	memset(&so->compose, 0, sizeof(so->compose));
}
