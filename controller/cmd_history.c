/*
 * cmd_history.c - `stackd history STACK`: the last syncs of a stack, as a
 * running daemon's status API serves them (GET
 * /api/v1/stacks/STACK/history), printed one line per operation.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "alloc.h"
#include "buf.h"
#include "controller.h"
#include "json.h"
#include "secret.h"

static const char history_usage[] =
    "usage: stackd history [-c FILE] [--url URL] [--token-file FILE] [--json]\n"
    "                      STACK\n"
    "\n"
    "Print the last syncs of STACK on each engine, newest first, from a\n"
    "running daemon: the one whose status.listen and status.token_file the\n"
    "config file names, else the one at URL (default\n"
    "http://127.0.0.1:9090).  --json prints the document as served.\n";

struct history_args {
	const char *config, *url, *token_file, *stack;
	bool json;
};

static int
parse(struct history_args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "url", required_argument, NULL, 'u' },
		{ "token-file", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': a->config = optarg; break;
		case 'u': a->url = optarg; break;
		case 't': a->token_file = optarg; break;
		case 'j': a->json = true; break;
		case 'h': fputs(history_usage, stdout); return -1;
		default: fputs(history_usage, stderr); return 1;
		}
	}
	if (optind + 1 != argc) {
		fputs(history_usage, stderr);
		return 1;
	}
	a->stack = argv[optind];
	return 0;
}

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	return buf_append(b, data, size * n) == 0 ? size * n : 0;
}

/* GET url (with the bearer token, if any) into body; the HTTP status. */
static long
get(const char *url, const char *token, struct buf *body, struct err *err)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char *auth = NULL, curl_err[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;

	if (c == NULL)
		alloc_fail();
	if (token != NULL) {
		size_t n = strlen(token) + 32;
		auth = xmalloc(n);
		snprintf(auth, n, "Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		err_set(err, ERR_UNREACHABLE, "%s: %s (is stackd run "
		    "serving its status there?)", url, *curl_err ? curl_err :
		    curl_easy_strerror(rc));
	else
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	secret_free(auth);
	curl_easy_cleanup(c);
	return status;
}

/* "created service/web_x; updated service/app_x (Env, Image)" */
static void
print_changes(const cJSON *changes)
{
	const cJSON *ch, *f;
	const char *sep = "";

	cJSON_ArrayForEach(ch, changes) {
		const char *a = json_str(ch, "action");
		const char *comma = "";
		printf("%s%sd %s/%s", sep, a ? a : "?", json_str(ch, "kind") ?
		    json_str(ch, "kind") : "?", json_str(ch, "name") ?
		    json_str(ch, "name") : "?");
		if (json_get(ch, "drift") != NULL)
			printf(" (drift)");
		if (cJSON_GetArraySize(json_get(ch, "fields")) > 0) {
			printf(" [");
			cJSON_ArrayForEach(f, json_get(ch, "fields")) {
				const char *dot = strrchr(f->valuestring, '.');
				printf("%s%s", comma, dot ? dot + 1 :
				    f->valuestring);
				comma = ", ";
			}
			printf("]");
		}
		sep = "; ";
	}
	if (*sep == '\0')
		printf("-");
}

static void
print_history(const cJSON *doc)
{
	const cJSON *eng, *op;

	printf("%-12s %-20s %-8s %-12s %-8s %s\n", "ENGINE", "FINISHED",
	    "TRIGGER", "REVISION", "RESULT", "CHANGES");
	cJSON_ArrayForEach(eng, json_get(doc, "engines"))
		cJSON_ArrayForEach(op, eng) {
			const char *rev = json_str(op, "revision");
			printf("%-12s %-20s %-8s %-12.12s %-8s ", eng->string,
			    json_str(op, "finished") ? json_str(op,
			    "finished") : "?", json_str(op, "trigger") ?
			    json_str(op, "trigger") : "?", rev && *rev ? rev :
			    "-", json_str(op, "result") ? json_str(op,
			    "result") : "?");
			print_changes(json_get(op, "changes"));
			printf("\n");
			if (json_str(op, "error") != NULL)
				printf("%-12s   error (%g attempt%s): %s\n", "",
				    json_num(op, "attempts"),
				    json_num(op, "attempts") == 1 ? "" : "s",
				    json_str(op, "error"));
		}
}

/* The daemon's address and token: the flags, else the config's. */
static int
locate(const struct history_args *a, char *url, size_t size, char **token,
    struct err *err)
{
	struct ctl_config c;
	const char *tf = a->token_file;
	int rc = 0;

	*token = NULL;
	if (ctl_config_load(&c, a->config, err) < 0) {
		ctl_config_release(&c);
		return err->code;
	}
	if (a->url != NULL)
		snprintf(url, size, "%s", a->url);
	else if (c.listen != NULL && *c.listen == '\0')
		rc = err_set(err, ERR_INVALID, "%s: status.listen is empty: "
		    "that daemon serves no status API", a->config);
	else
		snprintf(url, size, "http://%s", c.listen ? c.listen :
		    "127.0.0.1:9090");
	if (tf == NULL)
		tf = c.token_file;
	if (rc == 0 && tf != NULL)
		rc = secret_read_file(token, tf, "status token", err);
	ctl_config_release(&c);
	return rc;
}

int
controller_cmd_history(int argc, char **argv)
{
	struct history_args a;
	struct buf body;
	struct err err;
	char base[1024], url[2048], *token = NULL, *esc;
	cJSON *doc = NULL;
	long status;
	int rc;

	if ((rc = parse(&a, argc, argv)) != 0)
		return rc < 0 ? 0 : 1;
	if (locate(&a, base, sizeof(base), &token, &err) < 0) {
		fprintf(stderr, "stackd: %s\n", err.msg);
		return 1;
	}
	buf_init(&body, 64 << 20);
	esc = curl_easy_escape(NULL, a.stack, 0);
	snprintf(url, sizeof(url), "%.*s/api/v1/stacks/%s/history",
	    (int)strcspn(base, "?#") - (base[0] != '\0' &&
	    base[strcspn(base, "?#") - 1] == '/'), base, esc);
	curl_free(esc);
	status = get(url, token, &body, &err);
	secret_free(token);
	rc = 1;
	if (status == 0)
		fprintf(stderr, "stackd: %s\n", err.msg);
	else if ((doc = cJSON_ParseWithLength(body.data ? body.data : "",
	    body.len)) == NULL)
		fprintf(stderr, "stackd: %s: HTTP %ld, not JSON\n", url,
		    status);
	else if (status != 200)
		fprintf(stderr, "stackd: %s: %s\n", a.stack,
		    json_str(doc, "error") ? json_str(doc, "error") :
		    "refused");
	else {
		if (a.json) {
			char *text = cJSON_Print(doc);
			printf("%s\n", text);
			free(text);
		} else {
			print_history(doc);
		}
		rc = 0;
	}
	cJSON_Delete(doc);
	buf_free(&body);
	return rc;
}
