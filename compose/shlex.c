/*
 * shlex.c - split a string command into words as the docker CLI does
 * (github.com/google/shlex): blanks separate words, '...' is literal,
 * "..." and a bare backslash escape the next character, and '#' at the
 * start of a word begins a comment.
 */
#include <stdbool.h>
#include <string.h>

#include "buf.h"
#include "compose_int.h"

static bool
blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static void
emit(cJSON *a, struct buf *w, bool *inword)
{
	if (!*inword)
		return;
	cJSON_AddItemToArray(a, cJSON_CreateString(w->data ? w->data : ""));
	buf_reset(w);
	*inword = false;
}

int
compose_shlex(const char *s, cJSON **out)
{
	cJSON *a = cJSON_CreateArray();
	struct buf w;
	bool inword = false;
	int rc = 0;
	char q;

	*out = NULL;
	buf_init(&w, 1024 * 1024);
	while (rc == 0 && *s != '\0') {
		if (blank(*s)) {
			emit(a, &w, &inword);
			s++;
		} else if (*s == '#' && !inword) {
			while (*s != '\0' && *s != '\n')
				s++;
		} else if (*s == '\\') {
			if (*++s == '\0') {
				rc = ERR_INVALID;	/* EOF after escape */
				break;
			}
			inword = true;
			rc = buf_append(&w, s++, 1);
		} else if (*s == '\'' || *s == '"') {
			q = *s++;
			inword = true;
			while (rc == 0 && *s != q) {
				if (*s == '\0') {
					rc = ERR_INVALID;	/* unclosed */
					break;
				}
				if (q == '"' && *s == '\\' && s[1] != '\0')
					s++;
				rc = buf_append(&w, s++, 1);
			}
			if (rc == 0)
				s++;
		} else {
			inword = true;
			rc = buf_append(&w, s++, 1);
		}
	}
	if (rc == 0)
		emit(a, &w, &inword);
	buf_free(&w);
	if (rc < 0) {
		cJSON_Delete(a);
		return rc;
	}
	*out = a;
	return 0;
}
