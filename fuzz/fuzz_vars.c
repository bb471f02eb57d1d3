/* fuzz_vars.c - .env files and vars files (YAML map or KEY=VALUE). */
#include "compose.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_write("vars", data, size);
	struct compose_vars *v = NULL;
	struct err err = { 0 };

	v = compose_vars_new(false, NULL);
	(void)compose_vars_load_dotenv(v, path, false, &err);
	(void)compose_vars_load_file(v, path, &err);
	(void)compose_vars_lookup("A", v);
	compose_vars_free(v);
	return 0;
}
