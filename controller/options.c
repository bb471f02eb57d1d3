/*
 * options.c - every option stackd's commands take, declared once: its
 * name, whether it takes an argument and its short letter.  A command
 * names the ones it accepts; getopt then refuses the others with its
 * usual message, so `stackd render --listen X` fails as it always did.
 */
#include <getopt.h>
#include <string.h>

#include "controller.h"

static const struct {
	const char *name;
	int has_arg;
	char letter;	/* 0: long only */
} defs[CTL_OPT_COUNT] = {
	[CTL_OPT_CONFIG] = { "config", required_argument, 'c' },
	[CTL_OPT_HOST] = { "host", required_argument, 'H' },
	[CTL_OPT_FILE] = { "file", required_argument, 'f' },
	[CTL_OPT_STACK] = { "stack", required_argument, 's' },
	[CTL_OPT_HELP] = { "help", no_argument, 'h' },
	[CTL_OPT_TLSVERIFY] = { "tlsverify", no_argument, 0 },
	[CTL_OPT_TLSCACERT] = { "tlscacert", required_argument, 0 },
	[CTL_OPT_TLSCERT] = { "tlscert", required_argument, 0 },
	[CTL_OPT_TLSKEY] = { "tlskey", required_argument, 0 },
	[CTL_OPT_REGISTRY_AUTH] = { "registry-auth", required_argument, 0 },
	[CTL_OPT_TIMEOUT] = { "timeout", required_argument, 0 },
	[CTL_OPT_ENGINE] = { "engine", required_argument, 0 },
	[CTL_OPT_DIR] = { "dir", required_argument, 0 },
	[CTL_OPT_ROOT] = { "root", required_argument, 0 },
	[CTL_OPT_VARS] = { "vars", required_argument, 0 },
	[CTL_OPT_VAR] = { "var", required_argument, 0 },
	[CTL_OPT_ENV_INHERIT] = { "env-inherit", no_argument, 0 },
	[CTL_OPT_STRICT_VARS] = { "strict-vars", no_argument, 0 },
	[CTL_OPT_INTERPOLATION] = { "interpolation", required_argument, 0 },
	[CTL_OPT_RESOLVE_IMAGE] = { "resolve-image", required_argument, 0 },
	[CTL_OPT_JSON] = { "json", no_argument, 0 },
	[CTL_OPT_OWNER] = { "owner", required_argument, 0 },
	[CTL_OPT_KEEP_REPLICAS] = { "keep-replicas", no_argument, 0 },
	[CTL_OPT_PRUNE_SECRETS] = { "prune-secrets", no_argument, 0 },
	[CTL_OPT_ALLOW_EMPTY] = { "allow-empty", no_argument, 0 },
	[CTL_OPT_PRUNE_LIMIT] = { "prune-limit", required_argument, 0 },
	[CTL_OPT_GIT] = { "git", required_argument, 0 },
	[CTL_OPT_REF] = { "ref", required_argument, 0 },
	[CTL_OPT_PATH] = { "path", required_argument, 0 },
	[CTL_OPT_POLL] = { "poll", required_argument, 0 },
	[CTL_OPT_STATE_DIR] = { "state-dir", required_argument, 0 },
	[CTL_OPT_GIT_USERNAME] = { "git-username", required_argument, 0 },
	[CTL_OPT_GIT_TOKEN_FILE] = { "git-token-file", required_argument, 0 },
	[CTL_OPT_GIT_SSH_KEY] = { "git-ssh-key", required_argument, 0 },
	[CTL_OPT_GIT_KNOWN_HOSTS] = { "git-known-hosts", required_argument, 0 },
	[CTL_OPT_GIT_CA_FILE] = { "git-ca-file", required_argument, 0 },
	[CTL_OPT_WEBHOOK_SECRET_FILE] = { "webhook-secret-file",
	    required_argument, 0 },
	[CTL_OPT_LISTEN] = { "listen", required_argument, 0 },
	[CTL_OPT_INTERVAL] = { "interval", required_argument, 0 },
	[CTL_OPT_DEBOUNCE] = { "debounce", required_argument, 0 },
	[CTL_OPT_TOKEN_FILE] = { "token-file", required_argument, 0 },
	[CTL_OPT_NOTIFY_URL] = { "notify-url", required_argument, 0 },
	[CTL_OPT_IMAGE_POLL] = { "image-poll", required_argument, 0 },
	[CTL_OPT_REGISTRY_WEBHOOK_SECRET_FILE] = {
	    "registry-webhook-secret-file", required_argument, 0 },
	[CTL_OPT_LOG_FORMAT] = { "log-format", required_argument, 0 },
	[CTL_OPT_LOG_LEVEL] = { "log-level", required_argument, 0 },
	[CTL_OPT_SOPS_AGE_KEY_FILE] = { "sops-age-key-file", required_argument,
	    0 },
	[CTL_OPT_NO_SANDBOX] = { "no-sandbox", no_argument, 0 },
};

/* What getopt_long returns for a long-only option; letters stay below. */
#define LONG_BASE 256

void
ctl_getopt_init(struct ctl_getopt *g, const enum ctl_opt *accepted,
    size_t n)
{
	size_t nl = 0, ns = 0;

	memset(g, 0, sizeof(*g));
	for (size_t i = 0; i < n && i < CTL_OPT_COUNT; i++) {
		enum ctl_opt o = accepted[i];

		g->longopts[nl++] = (struct option){ defs[o].name,
		    defs[o].has_arg, NULL,
		    defs[o].letter ? defs[o].letter : LONG_BASE + (int)o };
		if (defs[o].letter != 0) {
			g->shortopts[ns++] = defs[o].letter;
			if (defs[o].has_arg == required_argument)
				g->shortopts[ns++] = ':';
		}
	}
	optind = 1;
}

int
ctl_getopt_next(struct ctl_getopt *g, int argc, char **argv)
{
	int c = getopt_long(argc, argv, g->shortopts, g->longopts, NULL);

	if (c == -1)
		return -1;
	if (c >= LONG_BASE)
		return c - LONG_BASE;
	for (int o = 0; o < CTL_OPT_COUNT; o++)
		if (defs[o].letter != 0 && defs[o].letter == c)
			return o;
	return CTL_OPT_UNKNOWN;
}
