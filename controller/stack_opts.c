/*
 * stack_opts.c - the options that name a stack and its inputs, shared by
 * render, plan and apply: -f FILE... -s NAME --vars F... --var K=V...
 * --env-inherit --strict-vars --interpolation MODE --resolve-image MODE
 * --root DIR.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "controller.h"
#include "sops.h"

static const enum ctl_opt stack_opts[] = {
	CTL_OPT_FILE, CTL_OPT_STACK, CTL_OPT_VARS, CTL_OPT_VAR,
	CTL_OPT_ENV_INHERIT, CTL_OPT_STRICT_VARS, CTL_OPT_INTERPOLATION,
	CTL_OPT_RESOLVE_IMAGE, CTL_OPT_ROOT, CTL_OPT_JSON, CTL_OPT_ENGINE,
	CTL_OPT_OWNER, CTL_OPT_KEEP_REPLICAS, CTL_OPT_DIR, CTL_OPT_PRUNE_SECRETS,
	CTL_OPT_ALLOW_EMPTY, CTL_OPT_PRUNE_LIMIT, CTL_OPT_CONFIG, CTL_OPT_HELP,
	CTL_OPT_SOPS_AGE_KEY_FILE,
};

static void
push(const char ***list, size_t *n, const char *v)
{
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = v;
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
	struct ctl_getopt g;
	int c, rc = 0;

	memset(so, 0, sizeof(*so));
	so->dir_ok = dir_ok;
	ctl_getopt_init(&g, stack_opts, sizeof(stack_opts) / sizeof(*stack_opts));
	while (rc == 0 && (c = ctl_getopt_next(&g, argc, argv)) != -1) {
		switch (c) {
		case CTL_OPT_FILE:
			push(&so->files, &o->nfiles, optarg);
			o->files = so->files;
			break;
		case CTL_OPT_STACK:
			o->stack = optarg;
			break;
		case CTL_OPT_VARS:
			push(&so->var_files, &o->nvar_files, optarg);
			o->var_files = so->var_files;
			break;
		case CTL_OPT_VAR:
			push(&so->vars, &o->nvars, optarg);
			o->vars = so->vars;
			break;
		case CTL_OPT_ENV_INHERIT:
			o->env_inherit = true;
			break;
		case CTL_OPT_STRICT_VARS:
			o->strict_vars = true;
			break;
		case CTL_OPT_INTERPOLATION:
			if ((rc = controller_interp_option(optarg,
			    &o->interp)) < 0)
				rc = 1;
			so->interp_set = rc == 0;
			break;
		case CTL_OPT_RESOLVE_IMAGE:
			if (controller_resolve_option(optarg, &so->resolve) < 0)
				rc = 1;
			so->resolve_set = rc == 0;
			break;
		case CTL_OPT_ROOT:
			o->root = optarg;
			break;
		case CTL_OPT_JSON:
			so->json = true;
			break;
		case CTL_OPT_ENGINE:
			so->engine = optarg;
			break;
		case CTL_OPT_OWNER:
			so->owner = optarg;
			break;
		case CTL_OPT_KEEP_REPLICAS:
			so->keep_replicas = true;
			break;
		case CTL_OPT_DIR:
			so->dir = optarg;
			break;
		case CTL_OPT_CONFIG:
			so->config = optarg;
			break;
		case CTL_OPT_SOPS_AGE_KEY_FILE:
			so->age_key_file = optarg;
			break;
		case CTL_OPT_PRUNE_SECRETS:
			so->prune_secrets = true;
			break;
		case CTL_OPT_ALLOW_EMPTY:
			so->allow_empty = true;
			break;
		case CTL_OPT_PRUNE_LIMIT:
			if (controller_prune_limit_option(optarg,
			    &so->prune_limit) < 0)
				rc = 1;
			break;
		case CTL_OPT_HELP:
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
	if (rc != 0) {
		controller_stack_options_release(so);
		return rc;
	}
	/* -c reads the config's identities; the flag goes over them. */
	if (so->config == NULL) {
		so->keys = ctl_sops_keys_load(so->age_key_file);
		so->compose.sops.keys = so->keys;
	}
	return 0;
}

void
controller_stack_options_release(struct controller_stack_opts *so)
{
	free(so->files);
	free(so->var_files);
	free(so->vars);
	sops_keys_free(so->keys);
	so->keys = NULL;
	so->files = so->var_files = so->vars = NULL;
	memset(&so->compose, 0, sizeof(so->compose));
}
