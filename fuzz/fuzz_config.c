/* fuzz_config.c - stackd.yaml. */
#include "controller.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_write("stackd.yaml", data, size);
	struct ctl_config c;
	struct err err = { 0 };

	if (ctl_config_load(&c, path, &err) < 0 && err.msg[0] == '\0')
		__builtin_trap();
	ctl_config_release(&c);
	return 0;
}
