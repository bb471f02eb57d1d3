/*
 * helper_plan.c - desired stacks and observed engines made by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "helper_plan.h"

void
helper_stack_fill(struct compose_stack *s)
{
	cJSON **lists[] = { &s->services, &s->networks, &s->external_networks,
	    &s->secrets, &s->configs };

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (*lists[i] == NULL)
			*lists[i] = cJSON_CreateArray();
}

void
helper_observed(struct recon_observed *obs, const char *services,
    const char *networks)
{
	struct err err;

	*obs = (struct recon_observed){ .services = cJSON_Parse(services),
	    .networks = cJSON_Parse(networks ? networks : "[]"),
	    .secrets = cJSON_CreateArray(), .configs = cJSON_CreateArray() };
	assert_non_null(obs->services);
	assert_non_null(obs->networks);
	assert_int_equal(recon_observed_index(obs, &err), 0);
}

void
helper_stack_release(struct compose_stack *s)
{
	cJSON_Delete(s->services);
	cJSON_Delete(s->networks);
	cJSON_Delete(s->external_networks);
	cJSON_Delete(s->secrets);
	cJSON_Delete(s->configs);
}
