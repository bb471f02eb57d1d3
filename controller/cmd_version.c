/*
 * cmd_version.c - `stackd version`: ours and the linked libraries'.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <git2.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <yaml.h>

#include "controller.h"
#include "engine.h"
#include "version.h"

int
controller_cmd_version(int argc, char **argv)
{
	const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
	int major, minor, rev;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: stackd version\n");
		return strcmp(argv[1], "--help") == 0 ? 0 : 1;
	}
	git_libgit2_version(&major, &minor, &rev);
	printf("stackd %s (commit %s)\n", STACKD_VERSION, STACKD_COMMIT);
	printf("engine API %s to %s\n", ENGINE_API_MIN, ENGINE_API_MAX);
	printf("libgit2 %d.%d.%d\n", major, minor, rev);
	printf("libyaml %s\n", yaml_get_version_string());
	printf("cJSON %s\n", cJSON_Version());
	printf("libcurl %s\n", cv->version);
	printf("%s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("libmicrohttpd %s\n", MHD_get_version());
	return 0;
}
