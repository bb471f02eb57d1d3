/*
 * controller.h - the stackd command line: one binary, subcommands.
 *
 * Each command takes the arguments after its name (argv[0] is the command)
 * and returns the process exit status.
 */
#ifndef STACKD_CONTROLLER_H
#define STACKD_CONTROLLER_H

#include <stdbool.h>
#include <stdio.h>

#include "compose.h"
#include "images.h"

struct engine_config;

int controller_cmd_version(int argc, char **argv);
int controller_cmd_ping(int argc, char **argv);
int controller_cmd_render(int argc, char **argv);
int controller_cmd_plan(int argc, char **argv);
int controller_cmd_apply(int argc, char **argv);
int controller_cmd_run(int argc, char **argv);
int controller_cmd_validate(int argc, char **argv);

/* -f/-s/--vars/--var/--env-inherit/--strict-vars/--interpolation/--root
 * (and --json). */
struct controller_stack_opts {
	struct compose_options compose;
	bool json;
	bool help;	/* --help was printed */
	const char *engine;	/* --engine URL, else DOCKER_HOST */
	const char *owner;	/* --owner NAME, else "stackd" */
	bool keep_replicas;	/* --keep-replicas */
	const char *dir;	/* --dir DIR: every stack in it */
	const char *config;	/* -c FILE: the daemon's stacks and engines */
	bool dir_ok;		/* the command takes --dir and -c */
	bool prune_secrets;	/* --prune-secrets */
	bool allow_empty;	/* --allow-empty */
	int prune_limit;	/* --prune-limit PCT; 0 = the default */
	bool interp_set;	/* --interpolation was given */
	enum images_mode resolve;	/* --resolve-image, default always */
	bool resolve_set;
};

/* "50" or "50%", 1 to 100, into *out; -1 when it is not one. */
int controller_percent_parse(const char *s, int *out);
/* --prune-limit ARG (apply, plan, run): as controller_percent_parse, and
 * says what is wrong on stderr. */
int controller_prune_limit_option(const char *arg, int *out);
/* --interpolation docker-cli|compose-spec; says what is wrong on stderr. */
int controller_interp_option(const char *arg, enum compose_interp_mode *out);

/* --resolve-image always|changed|never; says what is wrong on stderr. */
int controller_resolve_option(const char *arg, enum images_mode *out);

/* Returns 0, or 1 after printing usage (so->help tells whether asked).
 * dir_ok: --dir DIR or -c FILE may replace -f/-s. */
int controller_stack_options(struct controller_stack_opts *so, int argc,
    char **argv, const char *usage, bool dir_ok);
void controller_stack_options_release(struct controller_stack_opts *so);

/*
 * Engine options shared by every command that talks to an engine, named as
 * the docker CLI names them: -H/--host, --tlsverify, --tlscacert, --tlscert,
 * --tlskey, plus --registry-auth FILE and --timeout SECONDS.  Starts from
 * the environment (DOCKER_HOST, ...).  Returns 0, or 1 after printing why.
 */
int controller_engine_options(struct engine_config *cfg, int argc,
    char **argv, int *optind_out, const char *usage);

#endif
