/* igmp.c - see igmp.h. */
#include "igmp.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A device line "<idx>\t<name> : <count> <querier>", then one "\t\t\t\t<group> ..." line per
 * group, the group being the kernel's 32-bit value in network byte order printed as %08X (so
 * its bytes in memory are the address's). */
static size_t parse(FILE *f, const char *ifname, struct netaddr *out, size_t cap)
{
	char line[256], dev[32];
	bool ours = false;
	size_t n = 0;

	while (fgets(line, sizeof(line), f)) {
		unsigned long v;
		uint32_t be;

		if (line[0] >= '0' && line[0] <= '9') {
			/* "%-10s:" in the kernel: a long name runs into the colon */
			ours = sscanf(line, "%*d %31[^: \t]", dev) == 1 && !strcmp(dev, ifname);
			continue;
		}
		if (!ours || line[0] != '\t' || sscanf(line, " %lx", &v) != 1 || n == cap)
			continue;
		be = (uint32_t)v;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].family = 4;
		memcpy(out[n].bytes, &be, 4);
		n++;
	}
	return n;
}

size_t igmp_groups(const char *ifname, struct netaddr *out, size_t cap)
{
	FILE *f = fopen("/proc/net/igmp", "r");
	size_t n;

	if (!f)
		return 0;
	n = parse(f, ifname, out, cap);
	fclose(f);
	return n;
}
