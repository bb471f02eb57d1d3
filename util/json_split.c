/*
 * json_split.c - a JSON array parsed one element at a time as its bytes
 * arrive.
 *
 * An engine's list of 10 000 services is tens of megabytes of text and,
 * parsed whole, a tree several times that, most of which the caller
 * drops at once (a service's PreviousSpec, say).  Held together, text
 * and tree were the daemon's peak.  Split, only the text of the element
 * in flight is held and each element is parsed, trimmed and kept before
 * the next arrives.  The scanner follows strings and nesting only to
 * find the commas between elements; cJSON checks each element itself.
 */
#include <string.h>

#include "json.h"

void
json_split_init(struct json_split *s, size_t elem_max, json_split_fn fn,
    void *payload)
{
	memset(s, 0, sizeof(*s));
	buf_init(&s->elem, elem_max);
	s->fn = fn;
	s->payload = payload;
}

void
json_split_release(struct json_split *s)
{
	buf_free(&s->elem);
}

/* What cJSON skips as whitespace, so that both agree on what is one. */
static bool
blank(char c)
{
	return (unsigned char)c <= ' ';
}

/* The element collected so far, parsed whole (nothing may follow it)
 * and handed over. */
static int
flush(struct json_split *s)
{
	cJSON *item;

	/* the buffer is NUL-terminated: its length + 1 makes cJSON insist
	 * that nothing but whitespace follows the value */
	item = cJSON_ParseWithLengthOpts(s->elem.data, s->elem.len + 1, NULL,
	    true);
	buf_reset(&s->elem);
	if (item == NULL)
		return -1;
	s->count++;
	return s->fn(item, s->payload) != 0 ? -1 : 0;
}

/* A ',' or the closing ']' of the array: the element before it ends. */
static int
separator(struct json_split *s, char c)
{
	if (s->elem.len == 0) {
		/* "[]" is the one place where no element may be */
		if (c == ',' || s->count > 0 || s->comma)
			return -1;
	} else if (flush(s) < 0)
		return -1;
	s->comma = c == ',';
	s->closed = c == ']';
	return 0;
}

/* One byte outside any string that is not a separator: true when it
 * belongs to an element. */
static bool
element_byte(struct json_split *s, char c, bool at_start, int *bad)
{
	bool space = blank(c);

	if (!s->open || s->closed) {
		if (space)
			return false;
		if (s->closed || c != '[')
			*bad = 1;
		else
			s->open = true;
		return false;
	}
	if (space && s->depth == 0 && at_start)
		return false;
	if (c == '"')
		s->in_str = true;
	else if (c == '[' || c == '{') {
		/* as deep as cJSON would parse the whole array */
		if (++s->depth >= CJSON_NESTING_LIMIT)
			*bad = 1;
	}
	else if (c == ']' || c == '}') {
		if (s->depth == 0)
			*bad = 1;
		s->depth--;
	}
	return true;
}

int
json_split_feed(struct json_split *s, const char *p, size_t n)
{
	size_t start = 0;	/* of the run of element bytes in p */
	int bad = 0;

	for (size_t i = 0; i < n && !s->bad; i++) {
		char c = p[i];

		if (s->in_str) {
			if (s->esc)
				s->esc = false;
			else if (c == '\\')
				s->esc = true;
			else if (c == '"')
				s->in_str = false;
			continue;
		}
		if (s->open && !s->closed && s->depth == 0 &&
		    (c == ',' || c == ']')) {
			if (buf_append(&s->elem, p + start, i - start) < 0 ||
			    separator(s, c) < 0)
				s->bad = true;
			start = i + 1;
		} else if (!element_byte(s, c, i == start &&
		    s->elem.len == 0, &bad))
			start = i + 1;
		if (bad)
			s->bad = true;
	}
	if (!s->bad && n > start &&
	    buf_append(&s->elem, p + start, n - start) < 0)
		s->bad = true;
	return s->bad ? -1 : 0;
}

int
json_split_end(const struct json_split *s)
{
	return !s->bad && s->closed ? 0 : -1;
}
