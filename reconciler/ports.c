/*
 * ports.c - published ports a stack wants that something else holds.
 *
 * The engine refuses a service whose ingress port another service
 * publishes ("port '8080' is already in use by service ..."), but only
 * when that service is written: by then the plan may have created the
 * stack's networks and other services.  Checking the plan first makes a
 * conflict fail the stack before its first write, with both names.
 * Host-mode ports are the scheduler's business (per node) and are not
 * checked, as swarm does not check them either.  Services of the stack
 * itself are not competitors: the ones that stay bring their ports from
 * the file, the ones that go are removed before anything is created.
 */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "reconciler.h"

/* The ingress port p publishes, as "8080/tcp" in out; false if none. */
static bool
ingress_port(const cJSON *p, char *out, size_t size)
{
	const char *mode = json_str(p, "PublishMode");
	const char *proto = json_str(p, "Protocol");
	double port = json_num(p, "PublishedPort");

	if ((mode != NULL && strcmp(mode, "ingress") != 0) || !(port > 0))
		return false;
	snprintf(out, size, "%.0f/%s", port, proto ? proto : "tcp");
	return true;
}

static const cJSON *
spec_ports(const cJSON *spec)
{
	return json_get(json_get(spec, "EndpointSpec"), "Ports");
}

static bool
publishes(const cJSON *spec, const char *port)
{
	const cJSON *p;
	char have[32];

	cJSON_ArrayForEach(p, spec_ports(spec))
		if (ingress_port(p, have, sizeof(have)) &&
		    strcmp(have, port) == 0)
			return true;
	return false;
}

/* The service other than self (a spec) that publishes port, or NULL. */
static const char *
holder(const cJSON *specs, const cJSON *self, const char *port)
{
	const cJSON *spec;

	cJSON_ArrayForEach(spec, specs)
		if (spec != self && publishes(spec, port))
			return json_str(spec, "Name");
	return NULL;
}

/* The service of another stack (or of none) that publishes port. */
static const char *
observed_holder(const struct recon_observed *obs, const char *stack,
    const char *port)
{
	const cJSON *svc, *spec;
	const char *ns;

	cJSON_ArrayForEach(svc, obs->services) {
		spec = json_get(svc, "Spec");
		ns = json_str(json_get(spec, "Labels"), RECON_LABEL_NS);
		if ((ns == NULL || strcmp(ns, stack) != 0) &&
		    publishes(spec, port))
			return json_str(spec, "Name");
	}
	return NULL;
}

int
recon_ports_check(const struct compose_stack *s,
    const struct recon_observed *obs, struct err *err)
{
	const cJSON *spec, *p;
	const char *other;
	char port[32];

	cJSON_ArrayForEach(spec, s->services) {
		cJSON_ArrayForEach(p, spec_ports(spec)) {
			if (!ingress_port(p, port, sizeof(port)))
				continue;
			if ((other = holder(s->services, spec, port)) != NULL)
				return err_set(err, ERR_CONFLICT, "stack %s: "
				    "services %s and %s both publish port %s",
				    s->name, json_str(spec, "Name"), other,
				    port);
			if ((other = observed_holder(obs, s->name, port)) !=
			    NULL)
				return err_set(err, ERR_CONFLICT, "stack %s: "
				    "service %s publishes port %s, which "
				    "service %s already publishes; nothing "
				    "written", s->name,
				    json_str(spec, "Name"), port, other);
		}
	}
	return 0;
}
