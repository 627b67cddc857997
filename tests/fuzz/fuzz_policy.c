/* fuzz_policy - the plugin's policy file parser on arbitrary bytes: it must return an error or a
 * policy whose lookups work, never crash or read outside the input. */
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy p;
	struct policy_rights r;
	char err[160];

	if (policy_parse((const char *)data, size, &p, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < p.count; i++) {
			policy_lookup(&p, p.nodes[i].name, &r);
			(void)policy_rights_lost(&p.nodes[i].rights, &r);
		}
		policy_free(&p);
	}
	return 0;
}
