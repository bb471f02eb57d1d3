/*
 * fuzz_sops.c - what a git push can put in front of the SOPS and age
 * readers: the first byte picks the reader (a bare age file, or a SOPS
 * file in YAML, JSON, dotenv or binary form), the rest is the file.  The
 * identity is the age test kit's, so inputs grown from the kit and the
 * vectors reach the payload and the MAC.  A failure must leave nothing in
 * the output; a success must be bounded by the input's size.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sops.h"
#include "fuzz.h"

static struct sops_keys *keys;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char id[] = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2"
	    "VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0\n";
	struct err err;

	(void)argc;
	(void)argv;
	keys = sops_keys_new();
	if (sops_keys_add_text(keys, id, strlen(id), "fuzz", &err) < 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "f.yaml", "f.json", "f.env",
	    "f.bin" };
	unsigned char nk[32];
	enum sops_age_fault f;
	struct err err;
	struct buf out;
	int rc;

	if (size == 0)
		return 0;
	buf_init(&out, 1 << 20);
	if (data[0] % 5 == 4)
		rc = sops_age_decrypt(keys, data + 1, size - 1, &out, NULL, &f,
		    &err);
	else {
		char *text = fuzz_cstr(data + 1, size - 1);
		(void)sops_is_encrypted(text, size - 1, sops_format_of(
		    names[data[0] % 5]));
		rc = sops_decrypt(keys, names[data[0] % 5], text, size - 1,
		    &out, nk, &err);
		free(text);
	}
	if ((rc < 0 && out.len != 0) || (rc == 0 && out.len > 4 * size + 64))
		__builtin_trap();
	buf_free(&out);
	return 0;
}
