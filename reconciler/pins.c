/*
 * pins.c - a service's image as `docker stack deploy` writes it:
 * "name:tag@sha256:..." and the image's platforms, by --resolve-image.
 *
 * The CLI's rules, from deployServices: with "always" every image is
 * looked up; with "changed" only an image whose image: text differs from
 * the service's com.docker.stack.image label (else the running pin is
 * kept); with "never" none, and the running pin is kept while the text
 * is the same.  Where the CLI falls back to the bare tag because the
 * registry did not answer (which restarts every task), stackd keeps the
 * running pin and says why.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "images.h"
#include "json.h"
#include "reconciler_int.h"

#define STACK_IMAGE_LABEL "com.docker.stack.image"

static const cJSON *
container_spec(const cJSON *spec)
{
	return json_get(json_get(spec, "TaskTemplate"), "ContainerSpec");
}

/* Does the service run what this image: text said last time? */
static bool
same_text(const cJSON *spec, const cJSON *actual)
{
	const char *want = json_str(json_get(spec, "Labels"), STACK_IMAGE_LABEL);
	const char *had = json_str(json_get(json_get(actual, "Spec"), "Labels"),
	    STACK_IMAGE_LABEL);

	return want != NULL && had != NULL && strcmp(want, had) == 0;
}

static bool
wanted(enum images_mode mode, bool same)
{
	return mode == IMAGES_ALWAYS || (mode == IMAGES_CHANGED && !same);
}

/* The images of s's services the plan will pin, each once, into out
 * (room for every service). */
static size_t
stack_images(const struct compose_stack *s, const struct recon_observed *obs,
    const struct recon_options *opt, const char **out)
{
	const cJSON *svc;
	size_t n = 0;

	cJSON_ArrayForEach(svc, s->services) {
		const cJSON *actual = recon_observed_find(obs, ENGINE_SERVICE,
		    json_str(svc, "Name"));
		const char *img = json_str(container_spec(svc), "Image");
		bool dup = false;

		if (img == NULL || !wanted(opt->resolve, actual &&
		    same_text(svc, actual)))
			continue;
		for (size_t i = 0; i < n && !dup; i++)
			dup = strcmp(out[i], img) == 0;
		if (!dup)
			out[n++] = img;
	}
	return n;
}

int
recon_stack_resolve(const struct compose_stack *s,
    const struct recon_observed *obs, const struct recon_options *opt,
    struct engine *e, struct err *err)
{
	size_t max = (size_t)cJSON_GetArraySize(s->services);
	const char **imgs;
	int rc;

	if (opt == NULL || opt->images == NULL || max == 0)
		return 0;
	imgs = xcalloc(max, sizeof(*imgs));
	rc = images_cache_resolve(opt->images, e, imgs, stack_images(s, obs,
	    opt, imgs), err);
	free(imgs);
	return rc;
}

static void
set_image(cJSON *cs, const char *image)
{
	cJSON_ReplaceItemInObjectCaseSensitive(cs, "Image",
	    cJSON_CreateString(image));
}

static void
set_platforms(cJSON *spec, const cJSON *platforms)
{
	cJSON *tt = json_at(spec, "TaskTemplate");
	cJSON *pl = json_at(tt, "Placement");

	if (platforms == NULL || tt == NULL)
		return;
	if (pl == NULL)
		pl = cJSON_AddObjectToObject(tt, "Placement");
	cJSON_DeleteItemFromObjectCaseSensitive(pl, "Platforms");
	cJSON_AddItemToObject(pl, "Platforms", cJSON_Duplicate(platforms, true));
}

static void note(cJSON *notes, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note(cJSON *notes, const char *fmt, ...)
{
	char line[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	cJSON_AddItemToArray(notes, cJSON_CreateString(line));
}

void
recon_service_pin(cJSON *spec, const cJSON *actual,
    const struct recon_options *opt, cJSON *notes)
{
	cJSON *cs = json_at(json_at(spec, "TaskTemplate"), "ContainerSpec");
	const cJSON *acs = container_spec(json_get(actual, "Spec"));
	const char *run = json_str(acs, "Image"), *name = json_str(spec, "Name");
	enum images_mode mode = opt && opt->images ? opt->resolve : IMAGES_NEVER;
	bool same = actual != NULL && same_text(spec, actual);
	struct images_pin pin;
	char img[ENGINE_IMAGE_REF_MAX];

	/* A copy: setting the image frees the string it was read from. */
	if (json_str(cs, "Image") == NULL || snprintf(img, sizeof(img), "%s",
	    json_str(cs, "Image")) >= (int)sizeof(img))
		return;
	if (!wanted(mode, same)) {
		/* The CLI keeps the old pin, and drops its platforms. */
		if (same && run != NULL)
			set_image(cs, run);
		return;
	}
	if (images_cache_get(opt->images, img, &pin) && pin.ok) {
		set_image(cs, pin.pinned);
		set_platforms(spec, pin.platforms);
	} else if (same && run != NULL) {
		set_image(cs, run);
		set_platforms(spec, json_get(json_get(json_get(json_get(actual,
		    "Spec"), "TaskTemplate"), "Placement"), "Platforms"));
		if (strcmp(run, img) != 0)
			note(notes, "service %s: its image could not be looked "
			    "up (%s); it keeps running %s", name, pin.error[0] ?
			    pin.error : "not asked yet", run);
	} else
		note(notes, "service %s: image %s could not be accessed on a "
		    "registry to record its digest (%s); each node will pull "
		    "it independently", name, img, pin.error[0] ? pin.error :
		    "not asked yet");
	images_pin_release(&pin);
}

void
recon_pin_key(const cJSON *spec, const cJSON *actual,
    const struct recon_options *opt, char *out, size_t len)
{
	const char *img = json_str(container_spec(spec), "Image");
	enum images_mode mode = opt && opt->images ? opt->resolve : IMAGES_NEVER;
	struct images_pin pin;

	out[0] = '\0';
	/* Not looked up: the plan takes the image from the file or from the
	 * service, both part of what the memory's key holds already. */
	if (img == NULL || !wanted(mode, actual != NULL && same_text(spec,
	    actual)))
		return;
	if (images_cache_get(opt->images, img, &pin) && pin.ok)
		snprintf(out, len, "%s", pin.pinned);
	else
		snprintf(out, len, "-");
	images_pin_release(&pin);
}
