/* Unit tests: util/ (error record, bounded buffer, JSON helpers). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "err.h"
#include "json.h"
#include "path.h"

static void
test_err_set_returns_code(void **state)
{
	struct err e;

	(void)state;
	assert_int_equal(err_set(&e, ERR_TIMEOUT, "x %d", 42), ERR_TIMEOUT);
	assert_int_equal(e.code, ERR_TIMEOUT);
	assert_string_equal(e.msg, "x 42");
	assert_int_equal(err_set(NULL, ERR_NOMEM, "ignored"), ERR_NOMEM);
}

static void
test_err_prefix_keeps_prefix_whole(void **state)
{
	struct err e;
	char big[2000];

	(void)state;
	err_set(&e, ERR_FAIL, "boom");
	err_prefix(&e, "engine %s", "prod");
	assert_string_equal(e.msg, "engine prod: boom");

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	err_set(&e, ERR_FAIL, "%s", big);
	err_prefix(&e, "stack web");
	assert_int_equal(strlen(e.msg), ERR_MSG_MAX - 1);
	assert_memory_equal(e.msg, "stack web: aaa", 14);
}

static void
test_err_code_names(void **state)
{
	(void)state;
	assert_string_equal(err_code_name(ERR_OUTOFSEQ), "out-of-sequence");
	assert_string_equal(err_code_name(ERR_TLS), "tls");
	assert_string_equal(err_code_name(-999), "error");
}

static void
test_buf_bounded(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_append(&b, "12345678", 8), 0);
	assert_int_equal(buf_append(&b, "9", 1), ERR_NOMEM);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "12345678");
	buf_free(&b);
	buf_free(NULL);
}

static void
test_buf_appendf_consume_steal(void **state)
{
	struct buf b;
	char *s;

	(void)state;
	buf_init(&b, 1024);
	assert_int_equal(buf_appendf(&b, "%s=%d\n", "a", 1), 0);
	assert_int_equal(buf_appendf(&b, "b=%d\n", 2), 0);
	assert_string_equal(b.data, "a=1\nb=2\n");
	buf_consume(&b, 4);
	assert_string_equal(b.data, "b=2\n");
	buf_consume(&b, 100);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_appendf(&b, "%d", 7), 0);
	s = buf_steal(&b);
	assert_string_equal(s, "7");
	assert_null(b.data);
	free(s);
	s = buf_steal(&b);	/* an empty buffer still gives a string */
	assert_string_equal(s, "");
	free(s);
}

/* A replaced file is whole and private, nothing is left beside it, and a
 * directory that cannot be written is an error naming the file. */
static void
test_path_write_atomic(void **state)
{
	char dir[] = "/tmp/stackd-test-path.XXXXXX", sub[128], file[160];
	char got[16] = "";
	struct stat sb;
	struct err err;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	assert_int_equal(path_mkdirs(sub, &err), 0);
	assert_int_equal(path_mkdirs(sub, &err), 0);
	assert_int_equal(stat(sub, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	snprintf(file, sizeof(file), "%s/h.json", sub);
	assert_int_equal(path_write_atomic(file, "old", 3, &err), 0);
	assert_int_equal(path_write_atomic(file, "[1,2]", 5, &err), 0);
	assert_non_null(f = fopen(file, "r"));
	assert_non_null(fgets(got, sizeof(got), f));
	fclose(f);
	assert_string_equal(got, "[1,2]");
	assert_int_equal(stat(file, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(file, sizeof(file), "%s/h.json.tmp", sub);
	assert_int_not_equal(access(file, F_OK), 0);
	snprintf(file, sizeof(file), "%s/nope/h.json", sub);
	assert_int_equal(path_write_atomic(file, "x", 1, &err), ERR_FAIL);
	assert_non_null(strstr(err.msg, "nope/h.json.tmp"));
	snprintf(file, sizeof(file), "%s/h.json", sub);
	unlink(file);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/a", dir);
	rmdir(sub);
	rmdir(dir);
}

/* json_same: equal documents in the same order; any difference of a
 * value, a key, a type, a length or an order is a difference. */
static void
test_json_same(void **state)
{
	const char *base = "{\"a\":1,\"b\":[\"x\",{\"c\":null}],\"d\":true}";
	const char *other[] = {
		"{\"a\":2,\"b\":[\"x\",{\"c\":null}],\"d\":true}",
		"{\"a\":1,\"b\":[\"y\",{\"c\":null}],\"d\":true}",
		"{\"a\":1,\"b\":[\"x\",{\"e\":null}],\"d\":true}",
		"{\"a\":1,\"b\":[\"x\",{\"c\":0}],\"d\":true}",
		"{\"a\":1,\"b\":[\"x\"],\"d\":true}",
		"{\"a\":1,\"b\":[\"x\",{\"c\":null}],\"d\":false}",
		"{\"b\":[\"x\",{\"c\":null}],\"a\":1,\"d\":true}",
		"{\"a\":1,\"b\":[\"x\",{\"c\":null}],\"d\":true,\"e\":1}",
	};
	cJSON *a = cJSON_Parse(base), *b = cJSON_Parse(base), *ref;

	(void)state;
	assert_true(json_same(a, b));
	ref = cJSON_CreateObjectReference(a->child);
	assert_true(json_same(ref, a));
	assert_true(json_same(b, ref));
	cJSON_Delete(ref);
	assert_true(json_same(NULL, NULL));
	assert_false(json_same(a, NULL));
	for (size_t i = 0; i < sizeof(other) / sizeof(*other); i++) {
		cJSON *o = cJSON_Parse(other[i]);
		assert_false(json_same(a, o));
		assert_false(json_same(o, a));
		cJSON_Delete(o);
	}
	cJSON_Delete(a);
	cJSON_Delete(b);
}

static int
collect(cJSON *item, void *payload)
{
	cJSON_AddItemToArray(payload, item);
	return 0;
}

static int
refuse(cJSON *item, void *payload)
{
	(void)payload;
	cJSON_Delete(item);
	return 1;
}

/* text split with json_split: the first cut bytes, then the rest step
 * bytes at a time.  The array of its elements, or NULL on a failure. */
static cJSON *
split_text(const char *text, size_t cut, size_t step, size_t elem_max)
{
	struct json_split s;
	cJSON *got = cJSON_CreateArray();
	size_t n = strlen(text), at = cut;
	int rc;

	json_split_init(&s, elem_max, collect, got);
	rc = json_split_feed(&s, text, cut);
	while (rc == 0 && at < n) {
		size_t len = n - at < step ? n - at : step;
		rc = json_split_feed(&s, text + at, len);
		at += len;
	}
	if (rc < 0 || json_split_end(&s) < 0) {
		cJSON_Delete(got);
		got = NULL;
	}
	json_split_release(&s);
	return got;
}

/* text split, wherever it is cut and byte by byte, as parsed whole. */
static void
split_check(const char *text)
{
	cJSON *whole = cJSON_ParseWithOpts(text, NULL, true), *got;
	size_t n = strlen(text);
	bool array = cJSON_IsArray(whole);

	for (size_t cut = 0; cut <= n; cut++) {
		got = split_text(text, cut, n, 1 << 16);
		if ((got != NULL) != array)
			fail_msg("%.40s cut at %zu: %s", text, cut,
			    array ? "refused" : "accepted");
		assert_true(!array || json_same(got, whole));
		cJSON_Delete(got);
	}
	got = split_text(text, 0, 1, 1 << 16);
	assert_true((got != NULL) == array);
	assert_true(!array || json_same(got, whole));
	cJSON_Delete(got);
	cJSON_Delete(whole);
}

/* json_split against cJSON parsing the whole text (nothing may follow the
 * value): the same elements when the text is an array, a failure when it
 * is anything else, wherever the text is cut and byte by byte. */
static void
test_json_split_as_whole_parse(void **state)
{
	const char *texts[] = {
		"[]", " [ ] \n", "[1]", "[1,2,3]", "[[]]", "[{}]", "[\"\"]",
		"[\"a,]\\\"[{\", {\"b\":[1,{\"c\":\"]\"}]}, null, true, -1.5e3]",
		"\n[ {\"x\" : 1} ,\t[ [] ] ]\n", "[\"\\\\\"]", "[\"\\\\\",\"]\"]",
		"", "  ", "{}", "1", "\"[1]\"", "[", "[1", "[1,]", "[,1]", "[,]",
		"[1 2]", "[1]x", "[1]]", "[1] [2]", "[{]", "[}]", "[\"a]",
		"[{\"a\":1}}]", "[tru]", "[1,,2]", "]", "[[1]", "[\"\\\"]",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++)
		split_check(texts[i]);
	/* as deep as cJSON goes, and one deeper */
	for (int depth = CJSON_NESTING_LIMIT; depth <= CJSON_NESTING_LIMIT + 1;
	    depth++) {
		char *deep = calloc(1, 2 * (size_t)depth + 1);

		assert_non_null(deep);
		memset(deep, '[', (size_t)depth);
		memset(deep + depth, ']', (size_t)depth);
		split_check(deep);
		free(deep);
	}
}

/* An element past elem_max fails the split (the text of one element is
 * all it holds); so does a callback that says stop, and it stays failed. */
static void
test_json_split_bounds_and_stop(void **state)
{
	struct json_split s;
	cJSON *got;

	(void)state;
	got = split_text("[\"0123\",\"45\"]", 0, 1, 6);
	assert_non_null(got);
	assert_int_equal(cJSON_GetArraySize(got), 2);
	cJSON_Delete(got);
	assert_null(split_text("[\"0123\",\"456789\"]", 0, 3, 6));
	json_split_init(&s, 64, refuse, NULL);
	assert_int_equal(json_split_feed(&s, "[1,", 3), -1);
	assert_int_equal(json_split_feed(&s, "2]", 2), -1);
	assert_int_equal(json_split_end(&s), -1);
	json_split_release(&s);
}

/* json_pack: the same document (shared keys stay shared, the root's own
 * key too), which cJSON reads, prints, copies and frees as any other, in
 * an array or replaced in one (ASan checks that only the block is
 * freed). */
static void
test_json_pack(void **state)
{
	const char *text = "{\"ID\":\"x1\",\"Version\":{\"Index\":42},"
	    "\"Spec\":{\"Name\":\"web_app\",\"Labels\":{\"a.b\":\"c\","
	    "\"\":\"\"},\"Env\":[\"A=1\",\"B=2\"],\"N\":null,\"T\":true,"
	    "\"R\":[[],{},[1,[2,[3]]]]}}";
	cJSON *src = cJSON_Parse(text), *arr = cJSON_CreateArray(), *packed;
	cJSON *copy, *keyed;
	char *a, *b;

	(void)state;
	json_keys_share(src);
	packed = json_pack(src);
	assert_true(json_same(src, packed));
	assert_ptr_equal(cJSON_GetObjectItem(packed, "Spec")->string,
	    cJSON_GetObjectItem(src, "Spec")->string);
	assert_string_equal(cJSON_GetArrayItem(json_get(json_get(packed,
	    "Spec"), "Env"), 1)->valuestring, "B=2");
	assert_ptr_equal(json_get(packed, "Spec")->child->prev,
	    cJSON_GetObjectItem(json_get(packed, "Spec"), "R"));
	a = cJSON_PrintUnformatted(src);
	b = cJSON_PrintUnformatted(packed);
	assert_string_equal(a, b);
	copy = cJSON_Duplicate(packed, true);
	assert_true(json_same(copy, src));
	cJSON_Delete(copy);
	cJSON_AddItemToArray(arr, packed);
	cJSON_AddItemToArray(arr, json_pack(src));
	assert_true(cJSON_ReplaceItemViaPointer(arr, packed, json_pack(src)));
	assert_int_equal(cJSON_GetArraySize(arr), 2);
	cJSON_Delete(arr);
	keyed = json_pack(cJSON_GetObjectItem(src, "Version"));
	assert_string_equal(keyed->string, "Version");
	cJSON_Delete(keyed);
	/* a key of its own outlives the block in a copy (ASan) */
	copy = cJSON_CreateObject();
	cJSON_AddItemToObject(copy, "a key of its own", json_pack(src));
	keyed = json_pack(copy->child);
	cJSON_Delete(copy);
	copy = cJSON_Duplicate(keyed, true);
	cJSON_Delete(keyed);
	assert_string_equal(copy->string, "a key of its own");
	cJSON_Delete(copy);
	assert_null(json_pack(NULL));
	free(a);
	free(b);
	cJSON_Delete(src);
}

/* json_keys_share: equal keys become one shared copy that cJSON never
 * frees; the documents read, print, compare, change and free as before. */
static void
test_json_keys_share(void **state)
{
	const char *text = "{\"Spec\":{\"Name\":\"a\",\"Labels\":"
	    "{\"k\":\"v\"}},\"Name\":[{\"Name\":1}]}";
	char long_key[200], *printed;
	cJSON *a = cJSON_Parse(text), *b = cJSON_Parse(text), *c, *dup;
	const cJSON *an = json_get(json_get(a, "Spec"), "Name");
	const cJSON *bn = json_get(json_get(b, "Spec"), "Name");

	(void)state;
	json_keys_share(a);
	json_keys_share(b);
	assert_ptr_equal(an->string, bn->string);
	assert_ptr_equal(an->string, json_get(a, "Name")->string);
	assert_true(an->type & cJSON_StringIsConst);
	assert_true(json_same(a, b));
	printed = cJSON_PrintUnformatted(a);
	assert_string_equal(printed, text);
	free(printed);
	/* Changed, duplicated, detached and freed: nothing frees a shared
	 * key (ASan would say so), a replaced member's key stays. */
	dup = cJSON_Duplicate(a, true);
	cJSON_ReplaceItemInObjectCaseSensitive(json_at(a, "Spec"), "Name",
	    cJSON_CreateString("b"));
	assert_string_equal(json_str(json_get(a, "Spec"), "Name"), "b");
	cJSON_Delete(cJSON_DetachItemFromObjectCaseSensitive(b, "Spec"));
	c = cJSON_Parse(text);
	assert_true(json_same(dup, c));
	cJSON_Delete(c);
	/* A key too long to share stays the member's own. */
	memset(long_key, 'k', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	c = cJSON_CreateObject();
	cJSON_AddNumberToObject(c, long_key, 1);
	json_keys_share(c);
	assert_false(c->child->type & cJSON_StringIsConst);
	cJSON_Delete(c);
	cJSON_Delete(dup);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_set_returns_code),
		cmocka_unit_test(test_json_same),
		cmocka_unit_test(test_json_split_as_whole_parse),
		cmocka_unit_test(test_json_split_bounds_and_stop),
		cmocka_unit_test(test_json_keys_share),
		cmocka_unit_test(test_json_pack),
		cmocka_unit_test(test_err_prefix_keeps_prefix_whole),
		cmocka_unit_test(test_err_code_names),
		cmocka_unit_test(test_buf_bounded),
		cmocka_unit_test(test_buf_appendf_consume_steal),
		cmocka_unit_test(test_path_write_atomic),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
