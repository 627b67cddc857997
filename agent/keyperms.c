/* keyperms.c - warns about or refuses secret files that group or others may access; see
 * keyperms.h. */
#include "keyperms.h"

#include <sys/stat.h>

#include "log.h"

int keyperms_check(const char *path, const char *what, bool strict, char *err, size_t cap)
{
	struct stat st;
	unsigned mode;

	if (stat(path, &st) < 0 || !(st.st_mode & (S_IRWXG | S_IRWXO)))
		return 0;
	mode = (unsigned)st.st_mode & 07777;
	if (strict)
		return set_error(err, cap,
				 "%s holds %s and is accessible by group or others (mode %04o): "
				 "chmod 600 %s (refused: --strict-perms)",
				 path, what, mode, path);
	log_warn("%s holds %s and is accessible by group or others (mode %04o): chmod 600 %s", path,
		 what, mode, path);
	return 0;
}
