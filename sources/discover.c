/*
 * discover.c - the stacks a directory tree holds (see sources.h).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "compose.h"
#include "sources.h"
#include "sources_int.h"
#include "path.h"

static const char *const compose_names[] = { "compose.yaml", "compose.yml",
    "docker-compose.yaml", "docker-compose.yml", "stack.yml", NULL };

bool
sources_name_skipped(const char *name)
{
	size_t len = strlen(name);

	return name[0] == '.' || name[0] == '#' ||
	    (len > 0 && name[len - 1] == '~') ||
	    (len > 4 && strcmp(name + len - 4, ".swp") == 0);
}

static bool
is_vars_file(const char *name)
{
	return !sources_name_skipped(name) && (strcmp(name, "vars.yaml") == 0 ||
	    strcmp(name, "vars.yml") == 0 || path_has_suffix(name, ".vars.yaml"));
}

static bool
is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static struct sources_stack *
add(struct sources_list *l, const char *name, size_t len)
{
	struct sources_stack *s;

	l->stacks = xrealloc(l->stacks, (l->n + 1) * sizeof(*l->stacks));
	s = &l->stacks[l->n++];
	memset(s, 0, sizeof(*s));
	s->name = xstrndup(name, len);
	return s;
}

void
sources_stack_add_file(struct sources_stack *s, char *path)
{
	s->files = xrealloc(s->files, (s->nfiles + 1) * sizeof(*s->files));
	s->files[s->nfiles++] = path;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void set_error(struct sources_stack *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_error(struct sources_stack *s, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(s->error);
	s->error = xstrdup(msg);
}

/* NAME/: the first compose file found, and the vars files beside it. */
static void
from_dir(struct sources_list *l, const char *root, const char *name)
{
	char *dir = path_join(root, name), *p;
	struct sources_stack *s;
	struct dirent *de;
	DIR *d;

	for (int i = 0; compose_names[i] != NULL; i++) {
		p = path_join(dir, compose_names[i]);
		if (is_file(p))
			break;
		free(p);
		p = NULL;
	}
	if (p == NULL) {	/* not a stack directory */
		free(dir);
		return;
	}
	s = add(l, name, strlen(name));
	sources_stack_add_file(s, p);
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		set_error(s, "cannot read %s", name);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (!is_vars_file(de->d_name))
			continue;
		s->var_files = xrealloc(s->var_files, (s->nvar_files + 1) *
		    sizeof(*s->var_files));
		s->var_files[s->nvar_files++] = path_join(dir, de->d_name);
	}
	closedir(d);
	if (s->nvar_files > 1)
		qsort(s->var_files, s->nvar_files, sizeof(char *), cmp_str);
	free(dir);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct sources_stack *)a)->name,
	    ((const struct sources_stack *)b)->name);
}

int
sources_discover(struct sources_list *out, const char *root,
    struct err *err)
{
	struct dirent *de;
	struct stat st;
	char *path;
	DIR *d;

	memset(out, 0, sizeof(*out));
	if ((d = opendir(root)) == NULL)
		return err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_FAIL,
		    "source %s: %s", root, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;

		if (sources_name_skipped(n))
			continue;
		path = path_join(root, n);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			from_dir(out, root, n);
		else if (S_ISREG(st.st_mode) && (path_has_suffix(n, ".yml") ||
		    path_has_suffix(n, ".yaml"))) {
			size_t len = strlen(n) -
			    (path_has_suffix(n, ".yml") ? 4 : 5);
			sources_stack_add_file(add(out, n, len), path);
			path = NULL;
		}
		free(path);
	}
	closedir(d);
	if (out->n > 1)
		qsort(out->stacks, out->n, sizeof(*out->stacks), by_name);
	for (size_t i = 0; i < out->n; i++) {
		struct err nerr;
		/* Two sources of one name (web/ and web.yml): both refused. */
		if ((i > 0 && strcmp(out->stacks[i].name,
		    out->stacks[i - 1].name) == 0) || (i + 1 < out->n &&
		    strcmp(out->stacks[i].name, out->stacks[i + 1].name) == 0))
			set_error(&out->stacks[i], "stack %s is defined "
			    "twice (a directory and a file)",
			    out->stacks[i].name);
		else if (compose_stack_name_check(out->stacks[i].name,
		    &nerr) < 0)
			set_error(&out->stacks[i], "%s", nerr.msg);
	}
	return 0;
}

void
sources_list_release(struct sources_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++) {
		struct sources_stack *s = &l->stacks[i];
		free(s->name);
		for (size_t j = 0; j < s->nfiles; j++)
			free(s->files[j]);
		free(s->files);
		free(s->error);
		for (size_t j = 0; j < s->nvar_files; j++)
			free(s->var_files[j]);
		free(s->var_files);
	}
	free(l->stacks);
	memset(l, 0, sizeof(*l));
}
