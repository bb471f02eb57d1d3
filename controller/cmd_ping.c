/*
 * cmd_ping.c - `stackd ping`: can stackd work with this engine?
 */
#include <stdio.h>

#include "controller.h"
#include "engine.h"

static const char ping_usage[] =
    "usage: stackd ping [-H HOST] [--tlsverify] [--tlscacert FILE]\n"
    "                   [--tlscert FILE] [--tlskey FILE] [--timeout SECONDS]\n"
    "\n"
    "Connect to the engine (DOCKER_HOST by default), negotiate the API\n"
    "version and report the swarm role.  Exits 0 when the engine is a\n"
    "reachable swarm manager, 1 otherwise.\n";

int
controller_cmd_ping(int argc, char **argv)
{
	struct engine_config cfg;
	struct engine *e = NULL;
	struct engine_ping ping;
	struct engine_info info = { 0 };
	struct err err;
	int first, rc = 1;

	if (controller_engine_options(&cfg, argc, argv, &first,
	    ping_usage) != 0)
		return 1;
	if (first != argc) {
		fprintf(stderr, "%s", ping_usage);
		goto out;
	}
	if (engine_open(&e, &cfg, &err) < 0 ||
	    engine_ping(e, &ping, &err) < 0 ||
	    engine_info_get(e, &info, &err) < 0) {
		fprintf(stderr, "stackd: %s\n", err.msg);
		goto out;
	}
	printf("engine %s\n", engine_name(e));
	printf("  server       %s (%s)\n", info.server_version,
	    ping.server[0] ? ping.server : "no Server header");
	printf("  API version  %s (engine offers %s)\n", ping.api_version,
	    ping.engine_api);
	printf("  swarm        %s%s\n", info.swarm_state,
	    info.manager ? ", manager" : "");
	if (!info.manager) {
		fprintf(stderr, "stackd: engine %s is not a swarm manager; "
		    "stackd needs a manager node ('docker swarm init' or "
		    "point DOCKER_HOST at a manager)\n", engine_name(e));
		goto out;
	}
	rc = 0;
out:
	engine_info_release(&info);
	engine_free(e);
	engine_config_release(&cfg);
	return rc;
}
