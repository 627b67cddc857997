/* pki_files.h - files of the PKI directory: whole-file reads, atomic writes with an explicit mode
 * (keys 0600, everything else 0644), paths, and the one-line error every failure ends in. */
#ifndef MQTTIP_PKI_FILES_H
#define MQTTIP_PKI_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PKI_PATH_MAX	4096
#define PKI_FILE_MAX	(1024 * 1024)
#define PKI_MODE_SECRET 0600
#define PKI_MODE_PUBLIC 0644
#define PKI_MODE_DIR	0755

/* Prints "mqttip pki: MESSAGE" as one line on stderr; returns MQTTIP_EXIT_FAILED. */
int pki_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* snprintf into a PKI_PATH_MAX buffer; false when the path would not fit. */
bool pki_path(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

bool pki_exists(const char *path);
/* Reads the whole file into a fresh NUL-terminated buffer (freed with pki_free_wiped). Returns 0,
 * or -1 with errno set. */
int pki_read_file(const char *path, unsigned char **data, size_t *len);
void pki_free_wiped(void *p, size_t len);
/* Writes through a temporary file and rename, so readers (mosquitto on SIGHUP, the plugin) never
 * see half a file. Returns 0, or -1 with errno set. */
int pki_write_file(const char *path, const void *data, size_t len, mode_t mode);
/* The same, and the new file gets owner uid and group gid (fchown; (uid_t)-1 / (gid_t)-1 keep
 * ours): how a file in the broker's directory keeps the owner an operator gave it. */
int pki_write_file_owned(const char *path, const void *data, size_t len, mode_t mode, uid_t uid,
			 gid_t gid);
int pki_mkdir(const char *path);
/* Takes the PKI directory's write lock (DIR/.lock, fcntl) for the life of the process, so two
 * `issue`/`revoke` runs cannot both hand out one address. Returns 0 or prints the error line. */
int pki_lock(const char *dir);

#endif
