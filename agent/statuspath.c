/* statuspath.c - the default status socket path per network namespace; see statuspath.h. */
#define _POSIX_C_SOURCE 200809L /* opendir, stat */
#include "statuspath.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The name under /run/netns of the namespace self, if `ip netns` named it. */
static bool netns_name(const struct stat *self, char *name, size_t cap)
{
	DIR *dir = opendir("/run/netns");
	struct dirent *e;
	bool found = false;

	if (!dir)
		return false;
	while (!found && (e = readdir(dir)) != NULL) {
		char path[300];
		struct stat st;

		if (e->d_name[0] == '.' || strlen(e->d_name) >= cap)
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", e->d_name);
		if (stat(path, &st) == 0 && same_file(&st, self)) {
			snprintf(name, cap, "%s", e->d_name);
			found = true;
		}
	}
	closedir(dir);
	return found;
}

int statuspath_default(const char *ifname, char *out, size_t cap)
{
	return statuspath_in(STATUSPATH_DIR, ifname, ".sock", out, cap);
}

int statuspath_in(const char *dir, const char *ifname, const char *ext, char *out, size_t cap)
{
	struct stat self, host;
	char name[256];
	int n;

	/* A namespace named by `ip netns` first: that needs no access to PID 1's namespace, which
	 * a sandbox may hide even from root. Otherwise, when PID 1's namespace cannot be read, the
	 * host's path, which is also the only one an unprivileged client could be meant for. */
	if (stat("/proc/self/ns/net", &self) < 0)
		n = snprintf(out, cap, "%s/%s%s", dir, ifname, ext);
	else if (netns_name(&self, name, sizeof(name)))
		n = snprintf(out, cap, "%s/%s/%s%s", dir, name, ifname, ext);
	else if (stat("/proc/1/ns/net", &host) < 0 || same_file(&self, &host))
		n = snprintf(out, cap, "%s/%s%s", dir, ifname, ext);
	else
		n = snprintf(out, cap, "%s/net-%llu/%s%s", dir, (unsigned long long)self.st_ino,
			     ifname, ext);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}
