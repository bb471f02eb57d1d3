/*
 * main.c - stackd's entry point: dispatch to a subcommand.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "alloc.h"
#include "controller.h"
#include "daemon.h"
#include "status.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "apply", controller_cmd_apply,
	    "make one engine match a stack file, then exit" },
	{ "history", controller_cmd_history,
	    "print a stack's last syncs, from a running daemon" },
	{ "ping", controller_cmd_ping,
	    "check an engine: reachable, API version, swarm role" },
	{ "plan", controller_cmd_plan,
	    "show what apply would change (exit 2 when anything)" },
	{ "run", daemon_cmd_run,
	    "the controller: keep a source's stacks in sync, serve status" },
	{ "render", controller_cmd_render,
	    "print the Engine API objects a stack file becomes" },
	{ "validate", controller_cmd_validate,
	    "check a config file and its stacks, touching no engine" },
	{ "version", controller_cmd_version,
	    "print stackd's version and the libraries it uses" },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: stackd COMMAND [OPTIONS]\n\n"
	    "stackd keeps Docker Swarm stacks in sync with their stack "
	    "files.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name,
		    commands[i].summary);
	fprintf(f, "\nRun 'stackd COMMAND --help' for a command's options; "
	    "see stackd(8).\n");
}

int
main(int argc, char **argv)
{
	int rc;

	alloc_hooks_install();
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0)
		argv[1] = "version";
	/* Not listed: `stackd run` starts them, nobody else (no libcurl). */
	if (strcmp(argv[1], "status-server") == 0)
		return ctl_status_child_main(argc, argv);
	if (strcmp(argv[1], "git-fetch") == 0)
		return sources_git_fetcher_main();
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			fprintf(stderr, "stackd: cannot initialise libcurl\n");
			return 1;
		}
		rc = commands[i].run(argc - 1, argv + 1);
		curl_global_cleanup();
		return rc;
	}
	fprintf(stderr, "stackd: unknown command \"%s\"\n\n", argv[1]);
	usage(stderr);
	return 1;
}
