/*
 * engine_opts.c - the docker CLI's engine options, for every command that
 * talks to an engine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "controller.h"
#include "engine.h"

static const enum ctl_opt engine_opts[] = {
	CTL_OPT_HOST, CTL_OPT_TLSVERIFY, CTL_OPT_TLSCACERT, CTL_OPT_TLSCERT,
	CTL_OPT_TLSKEY, CTL_OPT_REGISTRY_AUTH, CTL_OPT_TIMEOUT, CTL_OPT_HELP,
};

static int
parse_timeout(const char *s, long *ms)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || v <= 0 || v > 3600)
		return -1;
	*ms = (long)(v * 1000);
	return 0;
}

int
controller_engine_options(struct engine_config *cfg, int argc, char **argv,
    int *optind_out, const char *usage)
{
	struct ctl_getopt g;
	int c, rc = 0;

	engine_config_from_env(cfg);
	ctl_getopt_init(&g, engine_opts, sizeof(engine_opts) /
	    sizeof(*engine_opts));
	while (rc == 0 && (c = ctl_getopt_next(&g, argc, argv)) != -1) {
		switch (c) {
		case CTL_OPT_HOST:
			xstrset(&cfg->host, optarg);
			break;
		case CTL_OPT_TLSVERIFY:
			cfg->tls = cfg->tls_verify = true;
			break;
		case CTL_OPT_TLSCACERT:
		case CTL_OPT_TLSCERT:
		case CTL_OPT_TLSKEY:
			/* Like docker: naming a TLS file means TLS, verified. */
			cfg->tls = cfg->tls_verify = true;
			xstrset(c == CTL_OPT_TLSCACERT ? &cfg->ca_file :
			    c == CTL_OPT_TLSCERT ? &cfg->cert_file : &cfg->key_file,
			    optarg);
			break;
		case CTL_OPT_REGISTRY_AUTH:
			xstrset(&cfg->auth_file, optarg);
			break;
		case CTL_OPT_TIMEOUT:
			if (parse_timeout(optarg, &cfg->timeout_ms) < 0) {
				fprintf(stderr, "stackd: --timeout takes "
				    "seconds (0 < N <= 3600), got \"%s\"\n",
				    optarg);
				rc = 1;
			}
			cfg->connect_timeout_ms = cfg->timeout_ms;
			break;
		case CTL_OPT_HELP:
			printf("%s", usage);
			engine_config_release(cfg);
			exit(0);
		default:
			fprintf(stderr, "%s", usage);
			rc = 1;
		}
	}
	if (rc != 0) {
		engine_config_release(cfg);
		return 1;
	}
	*optind_out = optind;
	return 0;
}
