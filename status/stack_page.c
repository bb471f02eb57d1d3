/*
 * stack_page.c - GET /stacks/NAME: one stack on each engine that has it:
 * its state and health, its services (health, image and digest,
 * running/desired, rollout, why tasks wait), what a plan would change
 * while it is out of sync (field paths, never values: the page may be
 * open to anyone who reaches the port), and its sync history.  Plain
 * HTML, no scripts, everything escaped.
 */
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "json.h"
#include "page_int.h"
#include "status.h"

static void
small(struct buf *b, const char *cls, const char *s)
{
	if (s == NULL)
		return;
	buf_appendf(b, "<br><small class=\"%s\">", cls);
	page_esc(b, s);
	buf_appendf(b, "</small>");
}

static void
services(struct buf *b, const cJSON *svcs)
{
	const cJSON *s, *p;

	buf_appendf(b, "<table class=\"services\"><tr><th>service</th>"
	    "<th>health</th><th>image</th><th>running/desired</th>"
	    "<th>update</th><th>tasks not running</th></tr>\n");
	cJSON_ArrayForEach(s, svcs) {
		const char *h = json_str(s, "health");
		buf_appendf(b, "<tr class=\"service\"><td>");
		page_esc(b, json_str(s, "name"));
		buf_appendf(b, " <small>");
		page_esc(b, json_str(s, "mode"));
		buf_appendf(b, "</small></td><td class=\"state %s\">",
		    h ? h : "");
		page_esc(b, h);
		small(b, "reason", json_str(s, "health_reason"));
		buf_appendf(b, "</td><td>");
		page_image(b, s);
		buf_appendf(b, "</td><td>%g/%g</td><td>", json_num(s,
		    "running"), json_num(s, "desired"));
		page_esc(b, json_str(s, "update_status"));
		small(b, "", json_str(s, "update_message"));
		buf_appendf(b, "</td><td>");
		cJSON_ArrayForEach(p, json_get(s, "pending")) {
			page_esc(b, p->valuestring);
			buf_appendf(b, "<br>");
		}
		buf_appendf(b, "</td></tr>\n");
	}
	buf_appendf(b, "</table>\n");
}

/* "~ update service web_x: TaskTemplate.ContainerSpec.Env" */
static void
change(struct buf *b, const cJSON *ch)
{
	const char *a = json_str(ch, "action");
	const cJSON *f;
	const char *sep = ": ";

	buf_appendf(b, "<li><code>%c ", a == NULL ? '?' : *a == 'c' ? '+' :
	    *a == 'u' ? '~' : '-');
	page_esc(b, a);
	buf_appendf(b, " ");
	page_esc(b, json_str(ch, "kind"));
	buf_appendf(b, " ");
	page_esc(b, json_str(ch, "name"));
	buf_appendf(b, "</code>");
	if (json_get(ch, "drift") != NULL)
		buf_appendf(b, " <small>(drift)</small>");
	cJSON_ArrayForEach(f, json_get(ch, "fields")) {
		buf_appendf(b, "%s<small><code>", sep);
		page_esc(b, f->valuestring);
		buf_appendf(b, "</code></small>");
		sep = ", ";
	}
	buf_appendf(b, "</li>\n");
}

static void
lines(struct buf *b, const char *title, const cJSON *arr)
{
	const cJSON *it;

	if (cJSON_GetArraySize(arr) == 0)
		return;
	buf_appendf(b, "<p>%s</p><ul>", title);
	cJSON_ArrayForEach(it, arr) {
		buf_appendf(b, "<li>");
		page_esc(b, it->valuestring);
		buf_appendf(b, "</li>");
	}
	buf_appendf(b, "</ul>\n");
}

static void
pending(struct buf *b, const cJSON *e)
{
	const cJSON *diff = json_get(e, "pending_diff"), *ch;

	if (cJSON_GetArraySize(diff) > 0) {
		buf_appendf(b, "<h3>Pending changes</h3><ul class=\"pending\">");
		cJSON_ArrayForEach(ch, diff)
			change(b, ch);
		buf_appendf(b, "</ul>\n");
	}
	lines(b, "Held:", json_get(e, "held"));
	lines(b, "Notes:", json_get(e, "notes"));
}

static void
history(struct buf *b, const cJSON *ops)
{
	const cJSON *op, *ch;

	buf_appendf(b, "<h3>History</h3>");
	if (cJSON_GetArraySize(ops) == 0) {
		buf_appendf(b, "<p>No sync yet.</p>\n");
		return;
	}
	buf_appendf(b, "<table class=\"history\"><tr><th>finished</th>"
	    "<th>trigger</th><th>revision</th><th>result</th>"
	    "<th>changes</th></tr>\n");
	cJSON_ArrayForEach(op, ops) {
		const char *res = json_str(op, "result");
		buf_appendf(b, "<tr class=\"op\"><td>");
		page_esc(b, json_str(op, "finished"));
		buf_appendf(b, " <small>(%.3g s)</small></td><td>",
		    json_num(op, "duration_seconds"));
		page_esc(b, json_str(op, "trigger"));
		buf_appendf(b, "</td><td><code>%.12s</code></td><td class=\""
		    "state %s\">", json_str(op, "revision") ?
		    json_str(op, "revision") : "",
		    res && strcmp(res, "failed") == 0 ? "failed" : "synced");
		page_esc(b, res);
		if (json_num(op, "attempts") > 1)
			buf_appendf(b, " <small>(%g attempts)</small>",
			    json_num(op, "attempts"));
		small(b, "failed", json_str(op, "error"));
		buf_appendf(b, "</td><td><ul>");
		cJSON_ArrayForEach(ch, json_get(op, "changes"))
			change(b, ch);
		buf_appendf(b, "</ul></td></tr>\n");
	}
	buf_appendf(b, "</table>\n");
}

static void
engine(struct buf *b, const char *name, const cJSON *e, const cJSON *ops)
{
	const char *state = json_str(e, "state"), *h = json_str(e, "health");
	const char *rev, *src;

	buf_appendf(b, "<h2>On ");
	page_esc(b, name);
	buf_appendf(b, "</h2>\n");
	if (e == NULL) {
		buf_appendf(b, "<p>The engine reports this stack no more.</p>");
		history(b, ops);
		return;
	}
	buf_appendf(b, "<p><span class=\"state %s\">%s</span>, <span "
	    "class=\"state %s\">%s</span>", state ? state : "",
	    state ? state : "", h ? h : "", h ? h : "");
	small(b, "reason", json_str(e, "health_reason"));
	rev = json_str(e, "revision");
	src = json_str(e, "source_revision");
	buf_appendf(b, "<br>revision <code>%.12s</code>", rev && *rev ? rev :
	    "unknown");
	if (src != NULL && (rev == NULL || strcmp(rev, src) != 0))
		buf_appendf(b, ", the source has <code>%.12s</code>", src);
	if (json_str(e, "source") != NULL) {
		buf_appendf(b, " from ");
		page_esc(b, json_str(e, "source"));
	}
	if (json_str(e, "last_change") != NULL) {
		buf_appendf(b, ", last change ");
		page_esc(b, json_str(e, "last_change"));
	}
	small(b, "failed", json_str(e, "error"));
	buf_appendf(b, "</p>\n");
	services(b, json_get(e, "services"));
	pending(b, e);
	history(b, ops);
}

char *
ctl_stack_page_html(const struct ctl_state *st, const char *name)
{
	cJSON *stack = ctl_stacks_json(st, name);
	cJSON *hist = ctl_history_json(st, name);
	const cJSON *per = json_get(stack, "engines");
	const cJSON *ops = json_get(hist, "engines"), *it;
	struct buf b;
	char title[300];

	if (stack == NULL && hist == NULL)
		return NULL;
	buf_init(&b, PAGE_MAX);
	snprintf(title, sizeof(title), "%s - stackd", name);
	page_head(&b, title);
	buf_appendf(&b, "<h1>");
	page_esc(&b, name);
	buf_appendf(&b, "</h1>\n");
	cJSON_ArrayForEach(it, per)
		engine(&b, it->string, it, json_get(ops, it->string));
	/* An engine with a history of the stack and no report of it. */
	cJSON_ArrayForEach(it, ops)
		if (json_get(per, it->string) == NULL)
			engine(&b, it->string, NULL, it);
	page_foot(&b);
	cJSON_Delete(stack);
	cJSON_Delete(hist);
	return buf_steal(&b);
}
