/* pki_brokerdir.c - the broker's copies of the PKI's broker files (see pki_brokerdir.h). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "pki_brokerdir.h"
#include "pki_files.h"
#include "pki_registry.h"

/* The broker reads these (mosquitto cafile and crlfile, the plugin's policy_file); server.crt and
 * server.key never change after `init` and are installed once, by hand. */
static const char *const broker_files[] = {"ca.crt", "crl.pem", "policy"};

int pki_broker_dir_check(const char *broker_dir)
{
	struct stat st;

	if (!broker_dir)
		return 0;
	if (stat(broker_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return pki_fail("--broker-dir %s is not a directory; give the directory mosquitto "
				"reads the mqttip files from (e.g. %s)",
				broker_dir, PKI_DEFAULT_BROKER_DIR);
	if (access(broker_dir, W_OK) < 0)
		return pki_fail("--broker-dir %s is not writable: %s; run as its owner (root)",
				broker_dir, strerror(errno));
	return 0;
}

static int install_one(const char *dir, const char *broker_dir, const char *file, bool *created)
{
	char src[PKI_PATH_MAX], dst[PKI_PATH_MAX];
	unsigned char *data;
	size_t len;
	struct stat st;
	int rc = 0;

	if (!pki_path(src, "%s/%s/%s", dir, PKI_D_BROKER, file) ||
	    !pki_path(dst, "%s/%s", broker_dir, file))
		return pki_fail("%s: path too long", broker_dir);
	if (pki_read_file(src, &data, &len) < 0)
		return pki_fail("cannot read %s: %s", src, strerror(errno));
	*created = stat(dst, &st) < 0;
	if (*created) {
		st.st_mode = PKI_MODE_PUBLIC;
		st.st_uid = (uid_t)-1;
		st.st_gid = (gid_t)-1;
	}
	if (pki_write_file_owned(dst, data, len, st.st_mode & 07777, st.st_uid, st.st_gid) < 0)
		rc = pki_fail("cannot write %s: %s; run as the owner of %s (root)", dst,
			      strerror(errno), broker_dir);
	free(data);
	return rc;
}

/* A path as one shell word: quoted unless it is made of harmless characters only. */
static void print_word(const char *s)
{
	if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-+,:@") ==
	    strlen(s)) {
		printf("%s", s);
		return;
	}
	putchar('\'');
	for (; *s; s++) {
		if (*s == '\'')
			printf("'\\''");
		else
			putchar(*s);
	}
	putchar('\'');
}

int pki_broker_apply(const char *dir, const char *broker_dir, const char *const *changed,
		     size_t n_changed)
{
	if (broker_dir) {
		size_t n = sizeof(broker_files) / sizeof(broker_files[0]);

		for (size_t i = 0; i < n; i++) {
			bool created = false;
			int rc = install_one(dir, broker_dir, broker_files[i], &created);

			if (rc)
				return rc;
			if (created)
				printf("%s/%s did not exist: created, mode 0644\n", broker_dir,
				       broker_files[i]);
		}
		printf("broker files ca.crt, crl.pem and policy written to %s (owner, group and "
		       "mode kept); reload mosquitto to apply them: systemctl reload mosquitto "
		       "(or kill -HUP its pid)\n",
		       broker_dir);
		return 0;
	}
	if (n_changed == 0)
		return 0;
	printf("to apply this on the broker, copy the changed files over mosquitto's copies (cp "
	       "keeps their owner, group and mode) and reload it:\n  cp");
	for (size_t i = 0; i < n_changed; i++) {
		char src[PKI_PATH_MAX];

		if (!pki_path(src, "%s/%s/%s", dir, PKI_D_BROKER, changed[i]))
			return pki_fail("%s: path too long", dir);
		putchar(' ');
		print_word(src);
	}
	printf(" " PKI_DEFAULT_BROKER_DIR "/\n  systemctl reload mosquitto\n"
	       "(or run this command with --broker-dir " PKI_DEFAULT_BROKER_DIR
	       " to write them there)\n");
	return 0;
}
