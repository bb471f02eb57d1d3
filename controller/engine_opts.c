/*
 * engine_opts.c - the docker CLI's engine options, for every command that
 * talks to an engine.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller.h"
#include "engine.h"

enum {
	OPT_TLSVERIFY = 256,
	OPT_CA,
	OPT_CERT,
	OPT_KEY,
	OPT_AUTH,
	OPT_TIMEOUT,
};

static const struct option engine_longopts[] = {
	{ "host", required_argument, NULL, 'H' },
	{ "tlsverify", no_argument, NULL, OPT_TLSVERIFY },
	{ "tlscacert", required_argument, NULL, OPT_CA },
	{ "tlscert", required_argument, NULL, OPT_CERT },
	{ "tlskey", required_argument, NULL, OPT_KEY },
	{ "registry-auth", required_argument, NULL, OPT_AUTH },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
replace(char **dst, const char *src)
{
	free(*dst);
	return (*dst = strdup(src)) == NULL ? -1 : 0;
}

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
	struct err err;
	int c, rc = 0;

	if (engine_config_from_env(cfg, &err) < 0) {
		fprintf(stderr, "stackd: %s\n", err.msg);
		return 1;
	}
	optind = 1;
	while (rc == 0 &&
	    (c = getopt_long(argc, argv, "H:h", engine_longopts, NULL)) != -1) {
		switch (c) {
		case 'H':
			rc = replace(&cfg->host, optarg);
			break;
		case OPT_TLSVERIFY:
			cfg->tls = cfg->tls_verify = true;
			break;
		case OPT_CA:
		case OPT_CERT:
		case OPT_KEY:
			/* Like docker: naming a TLS file means TLS, verified. */
			cfg->tls = cfg->tls_verify = true;
			rc = replace(c == OPT_CA ? &cfg->ca_file :
			    c == OPT_CERT ? &cfg->cert_file : &cfg->key_file,
			    optarg);
			break;
		case OPT_AUTH:
			rc = replace(&cfg->auth_file, optarg);
			break;
		case OPT_TIMEOUT:
			if (parse_timeout(optarg, &cfg->timeout_ms) < 0) {
				fprintf(stderr, "stackd: --timeout takes "
				    "seconds (0 < N <= 3600), got \"%s\"\n",
				    optarg);
				rc = 1;
			}
			cfg->connect_timeout_ms = cfg->timeout_ms;
			break;
		case 'h':
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
