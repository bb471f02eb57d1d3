/*
 * hash.h - FNV-1a (util/hash.c), for hash tables keyed by text stackd
 * names itself (paths, JSON keys) and for noticing a changed document.
 * Not for anything an outsider could choose to make collide.
 */
#ifndef STACKD_HASH_H
#define STACKD_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The 64-bit FNV-1a hash of n bytes at data. */
uint64_t hash_fnv1a(const void *data, size_t n);

#endif
