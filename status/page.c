/*
 * page.c - GET /: one plain HTML page, no scripts, no external assets,
 * refreshing itself every five seconds: engines, the source, and every
 * stack with its services, each linking to its own page
 * (stack_page.c).  Everything shown is escaped.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "daemon.h"
#include "status.h"
#include "buf.h"
#include "json.h"
#include "page_int.h"
#include "version.h"

void
page_esc(struct buf *b, const char *s)
{
	for (; s != NULL && *s; s++) {
		switch (*s) {
		case '<': buf_appendf(b, "&lt;"); break;
		case '>': buf_appendf(b, "&gt;"); break;
		case '&': buf_appendf(b, "&amp;"); break;
		case '"': buf_appendf(b, "&quot;"); break;
		case '\'': buf_appendf(b, "&#39;"); break;
		default: buf_append(b, s, 1);
		}
	}
}

static const char style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;"
    "vertical-align:top}th{background:#f3f3f3}"
    ".synced{color:#176f2c}.progressing{color:#8a6d00}"
    ".out-of-sync{color:#9a4b00}.failed{color:#b00020}"
    ".healthy{color:#176f2c}.degraded,.missing{color:#b00020}"
    ".suspended{color:#555}"
    ".state{font-weight:bold}small{color:#666}"
    "td ul{margin:0;padding-left:1.2em}";

void
page_head(struct buf *b, const char *title)
{
	buf_appendf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><meta http-equiv=\"refresh\" "
	    "content=\"5\"><title>");
	page_esc(b, title);
	buf_appendf(b, "</title><style>%s</style></head><body>", style);
}

void
page_foot(struct buf *b)
{
	buf_appendf(b, "<p><small>stackd %s (%s) &middot; "
	    "<a href=\"/\">all stacks</a> &middot; "
	    "<a href=\"/api/v1/status\">status</a> &middot; "
	    "<a href=\"/api/v1/stacks\">stacks</a> &middot; "
	    "<a href=\"/metrics\">metrics</a></small></p>"
	    "</body></html>\n", STACKD_VERSION, STACKD_COMMIT);
}

static void
engines(struct buf *b, const struct ctl_state *st)
{
	buf_appendf(b, "<h2>Engines</h2><table><tr><th>engine</th>"
	    "<th>host</th><th>reachable</th><th>API</th><th>cycles</th>"
	    "<th>last cycle</th><th>error</th></tr>\n");
	for (size_t i = 0; i < st->nengines; i++) {
		const struct ctl_engine_state *e = &st->engines[i];
		char ts[32];
		buf_appendf(b, "<tr><td>");
		page_esc(b, e->name);
		buf_appendf(b, "</td><td>");
		page_esc(b, e->address ? e->address : e->host);
		if (e->failovers > 0)
			buf_appendf(b, " <small>(%lu failovers)</small>",
			    e->failovers);
		if (e->lease.enabled && !e->lease.held) {
			buf_appendf(b, " <small>standby: lease held by ");
			page_esc(b, *e->lease.holder ? e->lease.holder : "nobody yet");
			buf_appendf(b, "</small>");
		}
		buf_appendf(b, "</td><td class=\"state %s\">%s</td><td>%s</td>"
		    "<td>%lu</td><td>%s (%.3f s)</td><td>",
		    e->reachable ? "synced" : "failed",
		    e->reachable ? "yes" : "no", e->api_version, e->cycles,
		    e->last_cycle ? clock_iso_time(e->last_cycle, ts) : "-",
		    e->last_duration);
		page_esc(b, e->error);
		buf_appendf(b, "</td></tr>\n");
	}
	buf_appendf(b, "</table>\n");
}

static void
source(struct buf *b, const struct ctl_source_state *s)
{
	buf_appendf(b, "<p>");
	page_esc(b, s->name);
	buf_appendf(b, " (%s) ", s->kind);
	page_esc(b, s->location);
	buf_appendf(b, "<br>revision <code>%.12s</code>, %zu stacks",
	    s->snap ? s->snap->revision : "-", s->snap ? s->nstacks : 0);
	if (s->snap != NULL && s->snap->subject != NULL) {
		buf_appendf(b, "<br>&ldquo;");
		page_esc(b, s->snap->subject);
		buf_appendf(b, "&rdquo; by ");
		page_esc(b, s->snap->author ? s->snap->author : "?");
	}
	if (s->error != NULL) {
		buf_appendf(b, "<br><span class=\"failed\">");
		page_esc(b, s->error);
		buf_appendf(b, "</span>");
	}
	buf_appendf(b, "</p>\n");
}

static void
sources(struct buf *b, const struct ctl_state *st)
{
	buf_appendf(b, "<h2>Source%s</h2>\n", st->nsources == 1 ? "" : "s");
	for (size_t i = 0; i < st->nsources; i++)
		source(b, &st->sources[i]);
}

/* The image as it runs, its digest cut to 12 digits, and a warning mark
 * (the reason as its tooltip) while its lookups fail. */
void
page_image(struct buf *b, const cJSON *svc)
{
	const char *img = json_str(svc, "image"), *at;
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(svc, "resolution");
	const char *why = json_str(res, "error");
	char name[512], digest[13];

	buf_appendf(b, " <small>");
	if (img != NULL && (at = strstr(img, "@sha256:")) != NULL &&
	    (size_t)(at - img) < sizeof(name)) {
		memcpy(name, img, (size_t)(at - img));
		name[at - img] = '\0';
		page_esc(b, name);
		snprintf(digest, sizeof(digest), "%s", at + 8);
		buf_appendf(b, " <code>@");
		page_esc(b, digest);
		buf_appendf(b, "</code>");
	} else
		page_esc(b, img);
	if (why != NULL) {
		buf_appendf(b, " <span class=\"out-of-sync\" title=\"");
		page_esc(b, why);
		buf_appendf(b, "\">&#9888; lookup failed: ");
		page_esc(b, why);
		buf_appendf(b, "</span>");
	}
	buf_appendf(b, "</small>");
}

static void
services(struct buf *b, const cJSON *svcs)
{
	const cJSON *s, *p;

	cJSON_ArrayForEach(s, svcs) {
		buf_appendf(b, "<div>");
		page_esc(b, json_str(s, "name"));
		page_image(b, s);
		buf_appendf(b, " %g/%g", json_num(s, "running"),
		    json_num(s, "desired"));
		if (json_str(s, "health_reason") != NULL) {
			buf_appendf(b, " <small class=\"%s\">",
			    json_str(s, "health"));
			page_esc(b, json_str(s, "health"));
			buf_appendf(b, ": ");
			page_esc(b, json_str(s, "health_reason"));
			buf_appendf(b, "</small>");
		}
		if (json_str(s, "update_status") != NULL) {
			buf_appendf(b, " <small>update ");
			page_esc(b, json_str(s, "update_status"));
			buf_appendf(b, "</small>");
		}
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(s,
		    "pending")) {
			buf_appendf(b, "<br><small>");
			page_esc(b, p->valuestring);
			buf_appendf(b, "</small>");
		}
		buf_appendf(b, "</div>");
	}
}

static void
stacks(struct buf *b, const struct ctl_state *st)
{
	cJSON *all = ctl_stacks_json(st, NULL);
	const cJSON *s, *e;

	buf_appendf(b, "<h2>Stacks (%d)</h2><table id=\"stacks\"><tr>"
	    "<th>stack</th><th>engine</th><th>state</th><th>health</th>"
	    "<th>revision</th>"
	    "<th>services (running/desired)</th><th>error</th></tr>\n",
	    cJSON_GetArraySize(all));
	cJSON_ArrayForEach(s, all) {
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(s,
		    "engines")) {
			const char *state = json_str(e, "state");
			const char *health = json_str(e, "health");
			buf_appendf(b, "<tr class=\"stack\"><td><a href=\""
			    "/stacks/");
			page_esc(b, json_str(s, "name"));
			buf_appendf(b, "\">");
			page_esc(b, json_str(s, "name"));
			buf_appendf(b, "</a></td><td>");
			page_esc(b, e->string);
			buf_appendf(b, "</td><td class=\"state %s\">%s</td>"
			    "<td class=\"state %s\">%s", state, state,
			    health ? health : "", health ? health : "");
			if (json_str(e, "health_reason") != NULL) {
				buf_appendf(b, "<br><small>");
				page_esc(b, json_str(e, "health_reason"));
				buf_appendf(b, "</small>");
			}
			buf_appendf(b, "</td><td><code>%.12s</code></td><td>",
			    json_str(e, "revision"));
			services(b, cJSON_GetObjectItemCaseSensitive(e,
			    "services"));
			buf_appendf(b, "</td><td>");
			page_esc(b, json_str(e, "error"));
			buf_appendf(b, "</td></tr>\n");
		}
	}
	buf_appendf(b, "</table>\n");
	cJSON_Delete(all);
}

char *
ctl_page_stacks_html(const struct ctl_state *st)
{
	struct buf b;

	buf_init(&b, PAGE_MAX);
	stacks(&b, st);
	return buf_steal(&b);
}

char *
ctl_page_html(const struct ctl_state *st, const char *stacks_table)
{
	struct buf b;

	buf_init(&b, PAGE_MAX);
	page_head(&b, "stackd");
	buf_appendf(&b, "<h1>stackd</h1>\n");
	engines(&b, st);
	sources(&b, st);
	if (stacks_table != NULL)
		buf_append(&b, stacks_table, strlen(stacks_table));
	else
		stacks(&b, st);
	page_foot(&b);
	return buf_steal(&b);
}
