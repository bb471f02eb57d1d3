/* fuzz_yaml.c - the YAML reader: anchors, aliases, merge keys, limits. */
#include "compose.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ynode *root = NULL;
	struct err err = { 0 };

	if (compose_yaml_parse(&root, "fuzz.yml", (const char *)data, size,
	    &err) == 0 && root == NULL)
		__builtin_trap();	/* success must give a tree */
	ynode_free(root);
	return 0;
}
