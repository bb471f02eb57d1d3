/*
 * Unit tests: SOPS files, driven by tests/data/sops/VECTORS.tsv (real
 * files from Flux, doco-cd and sops, with the test keys those projects
 * publish): each positive row decrypts and gives the expected values or
 * the plaintext file; each negative row (a wrong key, an edit made in
 * memory) is refused, never decrypted.  Then what stackd adds: messages
 * that name the recipients but never a value, the marker rule, and the
 * name key.
 */
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

#include <cjson/cJSON.h>

#include "compose.h"
#include "sops.h"
#include "sops_int.h"

#define DIR SRCDIR "/tests/data/sops"

static char *
slurp(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *p;
	long n;

	snprintf(path, sizeof(path), "%s/%s", DIR, name);
	assert_non_null(f = fopen(path, "rb"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	p = malloc((size_t)n + 1);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	p[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return p;
}

static struct sops_keys *
keys_of(const char *name)
{
	struct sops_keys *k = sops_keys_new();
	struct err err;
	size_t len;
	char *t = slurp(name, &len);

	assert_int_equal(sops_keys_add_text(k, t, len, name, &err), 0);
	free(t);
	return k;
}

/* OLD=>NEW applied once to the file, in memory. */
static char *
mutate(char *text, size_t *len, const char *m)
{
	const char *sep = strstr(m, "=>");
	size_t ol = (size_t)(sep - m), nl = strlen(sep + 2);
	char old[256], *p, *out;

	snprintf(old, sizeof(old), "%.*s", (int)ol, m);
	if ((p = strstr(text, old)) == NULL)
		fail_msg("mutation %s does not apply", m);
	out = malloc(*len - ol + nl + 1);
	memcpy(out, text, (size_t)(p - text));
	memcpy(out + (p - text), sep + 2, nl);
	memcpy(out + (p - text) + nl, p + ol, *len - (size_t)(p - text) - ol +
	    1);
	*len = *len - ol + nl;
	free(text);
	return out;
}

/* A dotted path in a decrypted file: YAML through the compose loader,
 * dotenv by its lines, binary as a whole (path ""). */
static void
check_value(const char *file, const struct buf *out, const char *path,
    const char *want)
{
	enum sops_format f = sops_format_of(file);
	char line[512];

	if (f == SOPS_BINARY) {
		assert_int_equal(out->len, strlen(want));
		assert_memory_equal(out->data, want, out->len);
	} else if (f == SOPS_DOTENV) {
		snprintf(line, sizeof(line), "%s=%s\n", path, want);
		assert_non_null(strstr(out->data, line));
	} else {
		struct ynode *root, *n;
		struct err err;
		char key[256], *dot, *p = key;

		assert_int_equal(compose_yaml_parse(&root, file, out->data,
		    out->len, &err), 0);
		snprintf(key, sizeof(key), "%s", path);
		n = root;
		while ((dot = strchr(p, '.')) != NULL) {
			*dot = '\0';
			n = ynode_get(n, p);
			p = dot + 1;
		}
		n = ynode_get(n, p);
		assert_non_null(n);
		assert_string_equal(n->str, want);
		ynode_free(root);
	}
}

/* The decrypted file against the project's own plaintext. */
static void
check_plain(const char *file, const struct buf *out, const char *plain)
{
	size_t len;
	char *want = slurp(plain, &len);
	enum sops_format f = sops_format_of(file);

	if (f == SOPS_JSON) {
		cJSON *a = cJSON_Parse(out->data), *b = cJSON_Parse(want);
		assert_true(cJSON_Compare(a, b, true));
		cJSON_Delete(a);
		cJSON_Delete(b);
	} else if (f == SOPS_YAML) {
		struct ynode *a, *b;
		struct err err;
		assert_int_equal(compose_yaml_parse(&a, file, out->data,
		    out->len, &err), 0);
		assert_int_equal(compose_yaml_parse(&b, plain, want, len, &err),
		    0);
		assert_int_equal(a->n, b->n);
		for (size_t i = 0; i < a->n; i++) {
			assert_string_equal(a->keys[i]->str, b->keys[i]->str);
			assert_string_equal(a->vals[i]->str, b->vals[i]->str);
		}
		ynode_free(a);
		ynode_free(b);
	} else {
		/* dotenv: the same lines (the plaintext has no last \n) */
		assert_memory_equal(out->data, want, len);
	}
	free(want);
}

static void
run_row(char **col)
{
	const char *file = col[0], *format = col[1], *id = col[2];
	const char *plain = col[3], *expect = col[4], *mutation = col[6];
	bool ok = strcmp(col[5], "ok") == 0;
	struct sops_keys *k = keys_of(id);
	unsigned char nk[32];
	enum sops_age_fault f;
	struct err err = { 0 };
	struct buf out;
	size_t len;
	char *text = slurp(file, &len);
	int rc;

	if (strcmp(mutation, "-") != 0)
		text = mutate(text, &len, mutation);
	buf_init(&out, 1 << 20);
	if (strcmp(format, "age") == 0)
		rc = sops_age_decrypt(k, (unsigned char *)text, len, &out, NULL,
		    &f, &err);
	else {
		assert_true(sops_is_encrypted(text, len, sops_format_of(file)));
		rc = sops_decrypt(k, file, text, len, &out, nk, &err);
	}
	if (!ok) {
		if (rc == 0)
			fail_msg("%s (%s): decrypted, should be refused", file,
			    mutation);
		assert_int_equal(out.len, 0);
		print_message("refused %s %s: %s\n", file, mutation, err.msg);
	} else {
		if (rc != 0)
			fail_msg("%s: %s", file, err.msg);
		if (strcmp(plain, "-") != 0)
			check_plain(file, &out, plain);
		char *e = strdup(expect), *save = NULL;

		for (char *t = strcmp(e, "-") ? strtok_r(e, ";", &save) : NULL;
		    t != NULL; t = strtok_r(NULL, ";", &save)) {
			char *eq = strchr(t, '=');
			if (eq == NULL)	/* a bare age file: no values */
				continue;
			*eq = '\0';
			check_value(file, &out, t, eq + 1);
		}
		free(e);
	}
	buf_free(&out);
	free(text);
	sops_keys_free(k);
}

static void
test_vectors(void **state)
{
	size_t len;
	char *tsv = slurp("VECTORS.tsv", &len), *save = NULL, *line;
	int rows = 0;

	(void)state;
	line = strtok_r(tsv, "\n", &save);	/* the header */
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		char *col[7], *s2 = NULL;
		int n = 0;

		for (char *c = strtok_r(line, "\t", &s2); c != NULL && n < 7;
		    c = strtok_r(NULL, "\t", &s2))
			col[n++] = c;
		assert_int_equal(n, 7);
		run_row(col);
		rows++;
	}
	assert_int_equal(rows, 14);
	free(tsv);
}

/* Unencrypted YAML scalars enter the MAC as sops's go-yaml types them. */
static void
test_scalar_types(void **state)
{
	static const char *const cases[][2] = {
		{ "True", "True" }, { "false", "False" }, { "0x1F", "31" },
		{ "1e3", "1000" }, { "1.5", "1.5" }, { "0o17", "15" },
		{ "010", "8" }, { "-7", "-7" }, { "1_000", "1000" },
		{ ".inf", "+Inf" }, { "-.Inf", "-Inf" }, { ".nan", "NaN" },
		{ "0.000001", "0.000001" }, { "1e21", "1000000000000000000000" },
		{ "2001-12-14", "2001-12-14T00:00:00Z" },
		{ "2001-12-14t21:59:43.10-05:00", "2001-12-14T21:59:43.1-05:00" },
		{ "2001-12-14 21:59:43.0", "2001-12-14T21:59:43Z" },
	};
	static const char *const strings[] = { "yes", "no", "on", "v1",
	    "1.2.3", "0x", "age" };
	char out[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(sops_scalar_type(cases[i][0],
		    strlen(cases[i][0]), out, sizeof(out)), SCALAR_TYPED);
		assert_string_equal(out, cases[i][1]);
	}
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		assert_int_equal(sops_scalar_type(strings[i], strlen(strings[i]),
		    out, sizeof(out)), SCALAR_STRING);
	assert_int_equal(sops_scalar_type("~", 1, out, sizeof(out)),
	    SCALAR_NULL);
	assert_int_equal(sops_scalar_type("", 0, out, sizeof(out)),
	    SCALAR_NULL);
}

/* The YAML is rewritten in place: the rest of the text as it was, the
 * value in clear, the sops block gone. */
static void
test_yaml_in_place(void **state)
{
	struct sops_keys *k = keys_of("flux__age.agekey");
	unsigned char nk[32], nk2[32];
	struct err err;
	struct buf out;
	size_t len;
	char *text = slurp("flux__age.yaml", &len);

	(void)state;
	buf_init(&out, 1 << 20);
	assert_int_equal(sops_decrypt(k, "flux__age.yaml", text, len, &out, nk,
	    &err), 0);
	assert_string_equal(out.data, "apiVersion: v1\nkind: Secret\n"
	    "metadata:\n  name: age\nstringData:\n  key: \"value\"\n");
	/* The name key is the identity's: the same for every file. */
	buf_reset(&out);
	free(text);
	text = slurp("flux__env.env", &len);
	assert_int_equal(sops_decrypt(k, "flux__env.env", text, len, &out, nk2,
	    &err), 0);
	assert_memory_equal(nk, nk2, 32);
	buf_free(&out);
	free(text);
	sops_keys_free(k);
}

/* A key file others may read is refused, saying why. */
static void
test_key_file_mode(void **state)
{
	char path[] = "/tmp/stackd-agekey.XXXXXX";
	int fd = mkstemp(path);
	struct sops_keys *k = sops_keys_new();
	struct err err;
	size_t len;
	char *key = slurp("flux__age.agekey", &len);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, key, len), (ssize_t)len);
	close(fd);
	chmod(path, 0644);
	assert_true(sops_keys_add_file(k, path, &err) < 0);
	assert_non_null(strstr(err.msg, "readable by group or others"));
	assert_null(strstr(err.msg, "AGE-SECRET"));
	chmod(path, 0600);
	assert_int_equal(sops_keys_add_file(k, path, &err), 0);
	assert_int_equal(sops_keys_count(k), 1);
	unlink(path);
	free(key);
	sops_keys_free(k);
}

/* A SOPS stack file: decrypted before interpolation, typed values (an
 * int replicas) kept, and listed as decrypted. */
static void
test_stack_file(void **state)
{
	char dir[] = "/tmp/stackd-sopsstack.XXXXXX", file[512], env[512];
	struct sops_keys *k = keys_of("flux__age.agekey");
	const char *files[1] = { file };
	struct compose_options o = { .stack = "web", .files = files,
	    .nfiles = 1 };
	struct compose_stack *st = NULL;
	struct err err;
	cJSON *svc;
	size_t len;
	char *text = slurp("stackd__compose.yaml", &len), *e;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/compose.yaml", dir);
	snprintf(env, sizeof(env), "%s/.env", dir);
	assert_non_null(f = fopen(file, "w"));
	fwrite(text, 1, len, f);
	fclose(f);
	assert_non_null(f = fopen(env, "w"));
	fputs("WHO=world\n", f);
	fclose(f);
	o.sops.keys = k;
	o.sops.decrypted = cJSON_CreateArray();
	if (compose_stack_load(&st, &o, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(cJSON_GetArraySize(o.sops.decrypted), 1);
	svc = cJSON_GetArrayItem(st->services, 0);
	e = cJSON_PrintUnformatted(svc);
	assert_non_null(strstr(e, "\"GREETING=hello world\""));
	assert_non_null(strstr(e, "\"PORT=8080\""));
	assert_non_null(strstr(e, "\"Replicas\":2"));
	assert_non_null(strstr(e, "busybox:1.36"));
	free(e);
	compose_stack_free(st);
	/* Without identities: refused, naming the file. */
	o.sops.keys = NULL;
	assert_true(compose_stack_load(&st, &o, &err) < 0);
	assert_non_null(strstr(err.msg, "compose.yaml: a SOPS file"));
	cJSON_Delete(o.sops.decrypted);
	unlink(file);
	unlink(env);
	rmdir(dir);
	free(text);
	sops_keys_free(k);
}

/* The MAC follows the values' order, not the text's: the sops block may
 * stand first, and comments around it stay. */
static void
test_yaml_block_first(void **state)
{
	struct sops_keys *k = keys_of("flux__age.agekey");
	unsigned char nk[32];
	struct err err;
	struct buf out, moved;
	size_t len;
	char *text = slurp("flux__age.yaml", &len);
	char *block = strstr(text, "sops:\n");

	(void)state;
	assert_non_null(block);
	buf_init(&moved, 1 << 20);
	/* Multi-byte characters before the marks: libyaml counts
	 * characters, the rewrite cuts bytes. */
	buf_appendf(&moved, "# a comment, caf\xc3\xa9 \xe2\x9c\x93\n%s",
	    block);
	buf_append(&moved, text, (size_t)(block - text));
	buf_init(&out, 1 << 20);
	if (sops_decrypt(k, "moved.yaml", moved.data, moved.len, &out, nk,
	    &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(out.data, "# a comment, caf\xc3\xa9 \xe2\x9c\x93\n"
	    "apiVersion: v1\n"
	    "kind: Secret\nmetadata:\n  name: age\nstringData:\n"
	    "  key: \"value\"\n");
	buf_free(&out);
	buf_free(&moved);
	free(text);
	sops_keys_free(k);
}

/* An age stanza that opens but holds no 32-byte data key is refused as
 * such (the kit's armor_x25519 vector carries another payload). */
static void
test_data_key_size(void **state)
{
	struct sops_keys *k = sops_keys_new();
	static const char id[] = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2"
	    "VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0";
	unsigned char nk[32];
	struct err err;
	struct buf out;
	cJSON *doc = cJSON_CreateObject(), *sops, *age, *entry;
	size_t len;
	char *vec = slurp("age-testkit/armor_x25519", &len), *text;

	(void)state;
	assert_int_equal(sops_keys_add_text(k, id, strlen(id), "test", &err),
	    0);
	cJSON_AddStringToObject(doc, "data", "ENC[AES256_GCM,data:AA==,iv:"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,tag:"
	    "AAAAAAAAAAAAAAAAAAAAAA==,type:str]");
	sops = cJSON_AddObjectToObject(doc, "sops");
	age = cJSON_AddArrayToObject(sops, "age");
	entry = cJSON_CreateObject();
	cJSON_AddItemToArray(age, entry);
	cJSON_AddStringToObject(entry, "enc", strstr(vec, "\n\n") + 2);
	cJSON_AddStringToObject(sops, "lastmodified", "2024-01-01T00:00:00Z");
	cJSON_AddStringToObject(sops, "mac", "ENC[AES256_GCM,data:AA==,iv:"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,tag:"
	    "AAAAAAAAAAAAAAAAAAAAAA==,type:str]");
	text = cJSON_Print(doc);
	buf_init(&out, 1 << 20);
	assert_true(sops_decrypt(k, "f.bin", text, strlen(text), &out, nk,
	    &err) < 0);
	assert_non_null(strstr(err.msg, "not 32"));
	assert_int_equal(out.len, 0);
	buf_free(&out);
	free(text);
	free(vec);
	cJSON_Delete(doc);
	sops_keys_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_scalar_types),
		cmocka_unit_test(test_yaml_in_place),
		cmocka_unit_test(test_key_file_mode),
		cmocka_unit_test(test_stack_file),
		cmocka_unit_test(test_yaml_block_first),
		cmocka_unit_test(test_data_key_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
