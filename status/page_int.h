/*
 * page_int.h - what the status room's two HTML pages share: the overview
 * (page.c) and a stack's own page (stack_page.c).
 */
#ifndef STACKD_PAGE_INT_H
#define STACKD_PAGE_INT_H

#include <cjson/cJSON.h>

#include "buf.h"

/* A page is at most this large (its buffer's bound). */
#define PAGE_MAX (8u * 1024 * 1024)

/* s, HTML-escaped (NULL: nothing). */
void page_esc(struct buf *b, const char *s);
/* A service's image as it runs, its digest cut to 12 digits, and why its
 * lookups fail (svc: a service of the stack status document). */
void page_image(struct buf *b, const cJSON *svc);
/* The document up to <body>, refreshing every 5 s; and its end, with the
 * links to the API. */
void page_head(struct buf *b, const char *title);
void page_foot(struct buf *b);

#endif
