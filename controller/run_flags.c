/*
 * run_flags.c - the command line of `stackd run` and `stackd validate`,
 * and the configuration it makes: the config file, then the flags over
 * it, then the defaults.  A reload (SIGHUP) applies the same flags again
 * over the file as it is then.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "controller.h"


static const enum ctl_opt run_opts[] = {
	CTL_OPT_CONFIG, CTL_OPT_HOST, CTL_OPT_DIR, CTL_OPT_GIT, CTL_OPT_REF,
	CTL_OPT_PATH, CTL_OPT_POLL, CTL_OPT_STATE_DIR, CTL_OPT_GIT_USERNAME,
	CTL_OPT_GIT_TOKEN_FILE, CTL_OPT_GIT_SSH_KEY, CTL_OPT_GIT_KNOWN_HOSTS,
	CTL_OPT_GIT_CA_FILE, CTL_OPT_WEBHOOK_SECRET_FILE, CTL_OPT_LISTEN,
	CTL_OPT_INTERVAL, CTL_OPT_DEBOUNCE, CTL_OPT_OWNER, CTL_OPT_TOKEN_FILE,
	CTL_OPT_KEEP_REPLICAS, CTL_OPT_PRUNE_SECRETS, CTL_OPT_ALLOW_EMPTY,
	CTL_OPT_PRUNE_LIMIT, CTL_OPT_NOTIFY_URL, CTL_OPT_ENV_INHERIT,
	CTL_OPT_STRICT_VARS, CTL_OPT_INTERPOLATION, CTL_OPT_RESOLVE_IMAGE,
	CTL_OPT_IMAGE_POLL, CTL_OPT_REGISTRY_WEBHOOK_SECRET_FILE,
	CTL_OPT_LOG_FORMAT, CTL_OPT_LOG_LEVEL, CTL_OPT_HELP,
	CTL_OPT_SOPS_AGE_KEY_FILE, CTL_OPT_NO_SANDBOX,
};

int
ctl_flags_parse(struct ctl_flags *f, int argc, char **argv,
    const char *usage)
{
	struct ctl_getopt g;
	int c;

	memset(f, 0, sizeof(*f));
	ctl_getopt_init(&g, run_opts, sizeof(run_opts) / sizeof(*run_opts));
	while ((c = ctl_getopt_next(&g, argc, argv)) != -1) {
		switch (c) {
		case CTL_OPT_CONFIG: f->config = optarg; break;
		case CTL_OPT_HOST: f->host = optarg; break;
		case CTL_OPT_DIR: f->dir = optarg; break;
		case CTL_OPT_GIT: f->git = optarg; break;
		case CTL_OPT_REF: f->ref = optarg; break;
		case CTL_OPT_PATH: f->path = optarg; break;
		case CTL_OPT_STATE_DIR: f->state_dir = optarg; break;
		case CTL_OPT_GIT_USERNAME: f->git_user = optarg; break;
		case CTL_OPT_GIT_TOKEN_FILE: f->git_token = optarg; break;
		case CTL_OPT_GIT_SSH_KEY: f->git_key = optarg; break;
		case CTL_OPT_GIT_KNOWN_HOSTS: f->git_hosts = optarg; break;
		case CTL_OPT_GIT_CA_FILE: f->git_ca = optarg; break;
		case CTL_OPT_WEBHOOK_SECRET_FILE: f->hook_secret = optarg; break;
		case CTL_OPT_REGISTRY_WEBHOOK_SECRET_FILE: f->registry_secret = optarg; break;
		case CTL_OPT_NOTIFY_URL: f->notify_url = optarg; break;
		case CTL_OPT_SOPS_AGE_KEY_FILE: f->age_key_file = optarg; break;
		case CTL_OPT_LISTEN: f->listen = optarg; break;
		case CTL_OPT_OWNER: f->owner = optarg; break;
		case CTL_OPT_TOKEN_FILE: f->token_file = optarg; break;
		case CTL_OPT_KEEP_REPLICAS: f->keep = true; break;
		case CTL_OPT_PRUNE_SECRETS: f->prune = true; break;
		case CTL_OPT_ALLOW_EMPTY: f->empty = true; break;
		case CTL_OPT_ENV_INHERIT: f->inherit = true; break;
		case CTL_OPT_STRICT_VARS: f->strict = true; break;
		case CTL_OPT_NO_SANDBOX: f->no_sandbox = true; break;
		case CTL_OPT_INTERPOLATION:
			if (controller_interp_option(optarg, &f->interp) < 0)
				return -1;
			f->has_interp = true;
			break;
		case CTL_OPT_RESOLVE_IMAGE:
			if (controller_resolve_option(optarg, &f->resolve) < 0)
				return -1;
			f->has_resolve = true;
			break;
		case CTL_OPT_IMAGE_POLL:
			if (ctl_duration_parse(optarg, &f->image_poll_ms) < 0) {
				fprintf(stderr, "stackd: --image-poll takes a "
				    "duration (30s, 5m; 0 = every cycle), got "
				    "\"%s\"\n", optarg);
				return 1;
			}
			f->has_image_poll = true;
			break;
		case CTL_OPT_INTERVAL:
		case CTL_OPT_DEBOUNCE:
		case CTL_OPT_POLL:
			if (ctl_duration_parse(optarg, c == CTL_OPT_INTERVAL ?
			    &f->interval_ms : c == CTL_OPT_POLL ? &f->poll_ms :
			    &f->debounce_ms) < 0) {
				fprintf(stderr, "stackd: --%s takes a duration "
				    "(500ms, 30s, 5m), got \"%s\"\n",
				    c == CTL_OPT_INTERVAL ? "interval" :
				    c == CTL_OPT_POLL ? "poll" : "debounce",
				    optarg);
				return 1;
			}
			break;
		case CTL_OPT_PRUNE_LIMIT:
			if (controller_prune_limit_option(optarg,
			    &f->prune_limit) < 0)
				return 1;
			break;
		case CTL_OPT_LOG_FORMAT:
			f->has_format = true;
			if (log_format_parse(optarg, &f->format) < 0) {
				fprintf(stderr, "stackd: --log-format is text "
				    "or json\n");
				return 1;
			}
			break;
		case CTL_OPT_LOG_LEVEL:
			f->has_level = true;
			if (log_level_parse(optarg, &f->level) < 0) {
				fprintf(stderr, "stackd: --log-level is debug, "
				    "info, warn or error\n");
				return 1;
			}
			break;
		case CTL_OPT_HELP:
			printf("%s", usage);
			return -1;
		default:
			fprintf(stderr, "%s", usage);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "stackd: unexpected argument \"%s\"\n%s",
		    argv[optind], usage);
		return 1;
	}
	return 0;
}

/* A flag given replaces the file's value. */
static void
set(char **dst, const char *v)
{
	if (v != NULL)
		xstrset(dst, v);
}

/* The one source --git or --dir make, keeping the name the config gave
 * it when it has one source (several are replaced by this one). */
static void
flag_source(struct ctl_config *c, const struct ctl_flags *f)
{
	char *name;

	if (c->nsources == 1) {
		name = c->sources[0].name;
		c->sources[0].name = NULL;
		ctl_source_config_release(&c->sources[0]);
		c->sources[0].name = name;
		return;
	}
	for (size_t i = 0; i < c->nsources; i++)
		ctl_source_config_release(&c->sources[i]);
	free(c->sources);
	c->nsources = 0;
	c->sources = xcalloc(1, sizeof(*c->sources));
	c->sources[0].name = xstrdup(f->git != NULL ? "git" : "dir");
	c->nsources = 1;
}

/* --git or --dir replace the config file's source; the other git flags
 * change a git source. */
static void
source_flags(struct ctl_config *c, const struct ctl_flags *f)
{
	struct ctl_source_config *s;
	struct sources_git_opts *g;

	if (f->dir != NULL || f->git != NULL)
		flag_source(c, f);
	set(&c->state_dir, f->state_dir);
	if (c->nsources == 0)
		return;
	s = &c->sources[0];
	g = &s->git;
	set(&s->dir, f->dir);
	set(&g->url, f->git);
	set(&g->ref, f->ref);
	set(&g->subpath, f->path);
	set(&g->username, f->git_user);
	set(&g->token_file, f->git_token);
	set(&g->ssh_key, f->git_key);
	set(&g->known_hosts, f->git_hosts);
	set(&g->ca_file, f->git_ca);
	set(&s->webhook_secret_file, f->hook_secret);
	g->poll_ms = f->poll_ms ? f->poll_ms : g->poll_ms;
	s->debounce_ms = f->debounce_ms ? f->debounce_ms : s->debounce_ms;
}

/* The config file (if any), then the flags over it, then defaults. */
int
ctl_flags_configure(struct ctl_config *c, const struct ctl_flags *f,
    struct err *err)
{
	int rc;

	if ((rc = ctl_config_load(c, f->config, err)) < 0)
		return rc;
	if (f->dir != NULL && f->git != NULL)
		return err_set(err, ERR_INVALID, "give --dir or --git, not "
		    "both");
	source_flags(c, f);
	set(&c->listen, f->listen);
	set(&c->owner, f->owner);
	set(&c->token_file, f->token_file);
	set(&c->registry_secret_file, f->registry_secret);
	set(&c->notify_url, f->notify_url);
	set(&c->age_key_file, f->age_key_file);
	c->interval_ms = f->interval_ms ? f->interval_ms : c->interval_ms;
	c->keep_replicas |= f->keep;
	c->prune_secrets |= f->prune;
	c->allow_empty |= f->empty;
	c->prune_limit = f->prune_limit ? f->prune_limit : c->prune_limit;
	c->env_inherit |= f->inherit;
	c->strict_vars |= f->strict;
	c->no_sandbox |= f->no_sandbox;
	if (f->has_interp)
		c->interp = f->interp;
	if (f->has_resolve)
		c->resolve = f->resolve;
	if (f->has_image_poll)
		c->image_poll_ms = f->image_poll_ms > 0 ? f->image_poll_ms :
		    CTL_IMAGE_POLL_EVERY;
	if (f->has_format)
		c->log_format = f->format;
	if (f->has_level)
		c->log_level = f->level;
	if (c->listen == NULL)
		set(&c->listen, "127.0.0.1:9090");
	if (c->status_user == NULL)
		set(&c->status_user, "nobody");
	return ctl_config_defaults(c, f->host, err);
}

