/*
 * fuzz_compose.c - a whole stack file: YAML, interpolation (with a .env
 * beside it) and the conversion to Engine API specs, with files for
 * secrets and configs to point at.
 */
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_write(".env", "TAG=1\nREPLICAS=2\nPORT=8080\n", 27);
	fuzz_write("secret.txt", "s3cret\n", 7);
	fuzz_write("config.txt", "key=value\n", 10);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *file = fuzz_write("compose.yml", data, size);
	const char *files[] = { file };
	const char *vars[] = { "NAME=web" };
	struct compose_options o = { .stack = "fz", .files = files,
	    .nfiles = 1, .vars = vars, .nvars = 1 };
	struct compose_stack *s = NULL;
	struct err err = { 0 };

	if (compose_stack_load(&s, &o, &err) == 0) {
		char *text = cJSON_PrintUnformatted(s->services);
		free(text);
	} else if (err.msg[0] == '\0') {
		__builtin_trap();	/* every error says what is wrong */
	}
	compose_stack_free(s);
	return 0;
}
