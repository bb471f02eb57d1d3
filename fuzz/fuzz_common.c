/* fuzz_common.c - scratch files for the fuzz targets. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "log.h"
#include "sources.h"

static char dir[PATH_MAX];

/* The daemon's warnings (a refused webhook, an insecure config) would be
 * a line per input: only errors are logged while fuzzing. */
__attribute__((constructor)) static void
quiet(void)
{
	log_setup(stderr, LOG_TEXT, LOG_ERROR);
}

static void
cleanup(void)
{
	if (dir[0] != '\0')
		sources_remove_tree(dir);
}

const char *
fuzz_dir(void)
{
	const char *base;

	if (dir[0] != '\0')
		return dir;
	/* tmpfs when there is one: each input is written to a file */
	base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%s/stackd-fuzz.XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		perror("fuzz: mkdtemp");
		abort();
	}
	atexit(cleanup);
	return dir;
}

const char *
fuzz_write(const char *name, const void *data, size_t size)
{
	static char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fuzz_dir(), name);
	if ((f = fopen(path, "wb")) == NULL ||
	    (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
		perror(path);
		abort();
	}
	return path;
}

char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}
