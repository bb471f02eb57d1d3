/*
 * fuzz.h - what the libFuzzer targets share: a private scratch directory
 * on tmpfs, since the loaders under test read files, not buffers.
 */
#ifndef STACKD_FUZZ_H
#define STACKD_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The scratch directory (made once, removed at exit). */
const char *fuzz_dir(void);
/* Write data to name under fuzz_dir(); returns the full path (static). */
const char *fuzz_write(const char *name, const void *data, size_t size);
/* A NUL-terminated copy (caller frees). */
char *fuzz_cstr(const uint8_t *data, size_t size);

#endif
