/* pki_files.c - file helpers of `mqttip pki`. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "commands.h"
#include "pki_files.h"

int pki_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mqttip pki: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return MQTTIP_EXIT_FAILED;
}

bool pki_path(char *out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, PKI_PATH_MAX, fmt, ap);
	va_end(ap);
	return n > 0 && n < PKI_PATH_MAX;
}

bool pki_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int pki_read_file(const char *path, unsigned char **data, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	unsigned char *buf;
	size_t got = 0;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > PKI_FILE_MAX) {
		close(fd);
		errno = S_ISREG(st.st_mode) ? EFBIG : EISDIR;
		return -1;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return 0;
}

void pki_free_wiped(void *p, size_t len)
{
	if (!p)
		return;
	sodium_memzero(p, len);
	free(p);
}

int pki_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	return pki_write_file_owned(path, data, len, mode, (uid_t)-1, (gid_t)-1);
}

int pki_write_file_owned(const char *path, const void *data, size_t len, mode_t mode, uid_t uid,
			 gid_t gid)
{
	char tmp[PKI_PATH_MAX];
	const unsigned char *p = data;
	int fd, e;

	if (!pki_path(tmp, "%s.tmp", path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -1;
	/* The mode given to open is masked by the umask; secrets must be 0600 whatever it is.
	 * Owner first: fchown may clear set-id bits that fchmod then sets as asked. */
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0)
		goto fail;
	if (fchmod(fd, mode) < 0)
		goto fail;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = e;
	return -1;
}

int pki_mkdir(const char *path)
{
	if (mkdir(path, PKI_MODE_DIR) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int pki_lock(const char *dir)
{
	char path[PKI_PATH_MAX];
	struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int fd;

	if (!pki_path(path, "%s/.lock", dir))
		return pki_fail("%s: path too long", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, PKI_MODE_SECRET);
	if (fd < 0)
		return pki_fail("cannot open %s: %s; check that %s is writable", path,
				strerror(errno), dir);
	if (fcntl(fd, F_SETLK, &lk) < 0) {
		close(fd);
		return pki_fail("another `mqttip pki` is changing %s; wait for it and run again",
				dir);
	}
	return 0; /* fd stays open: the lock ends with the process */
}
