/* pki_ca.c - loading the CAs of a PKI directory. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <string.h>

#include "commands.h"
#include "pki_block.h"
#include "pki_ca.h"
#include "pki_files.h"

int pki_write_text(const char *path, const struct pki_text *t, unsigned mode)
{
	if (t->overflow)
		return pki_fail("%s: contents too large", path);
	if (pki_write_file(path, t->buf, t->len, (mode_t)mode) < 0)
		return pki_fail("cannot write %s: %s", path, strerror(errno));
	return 0;
}

long pki_read_block(const char *path, const char *label, uint8_t *out, size_t cap)
{
	unsigned char *text;
	size_t len;
	long n;

	if (pki_read_file(path, &text, &len) < 0) {
		pki_fail("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	n = bundle_block_find((const char *)text, len, label, out, cap);
	pki_free_wiped(text, len);
	if (n < 0)
		pki_fail("%s: no valid '%s' block; restore the file", path, label);
	return n;
}

static void format_time(time_t t, char *buf, size_t cap)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, cap, "%lld", (long long)t);
}

int pki_ca_load(const char *dir, struct pki_ca *ca, bool with_secrets)
{
	char path[PKI_PATH_MAX], when[64];
	uint8_t derived[crypto_sign_PUBLICKEYBYTES];
	time_t x509_end;

	memset(ca, 0, sizeof(*ca));
	if (!pki_path(path, "%s/%s", dir, PKI_F_BROKER_CA))
		return pki_fail("%s: path too long", dir);
	if (!pki_exists(dir))
		return pki_fail("PKI directory %s does not exist; create it with `mqttip pki init "
				"%s`",
				dir, dir);
	ca->broker_ca = pki_x509_read_cert(path);
	if (!ca->broker_ca)
		return pki_fail("cannot read the broker CA %s (%s); is %s a PKI made by `mqttip "
				"pki init` and readable?",
				path, pki_x509_error(), dir);
	if (pki_network_read(dir, &ca->network) ||
	    !pki_path(path, "%s/%s", dir, PKI_F_NETWORK_CA_PUB) ||
	    pki_read_block(path, BUNDLE_LABEL_NETWORK_CA, ca->network_public,
			   sizeof(ca->network_public)) != (long)sizeof(ca->network_public))
		goto fail;
	x509_end = pki_x509_not_after(ca->broker_ca);
	ca->expires = x509_end < ca->network.expires ? x509_end : ca->network.expires;
	if (!with_secrets)
		return 0;
	if (ca->expires <= time(NULL)) {
		format_time(ca->expires, when, sizeof(when));
		pki_fail("the CAs of %s expired on %s; create a new PKI with `mqttip pki init`",
			 dir, when);
		goto fail;
	}
	if (!pki_path(path, "%s/%s", dir, PKI_F_BROKER_CA_KEY))
		goto fail;
	ca->broker_key = pki_x509_read_key(path);
	if (!ca->broker_key) {
		pki_fail("cannot read the broker CA key %s (%s); run as the PKI's owner", path,
			 pki_x509_error());
		goto fail;
	}
	if (X509_check_private_key(ca->broker_ca, ca->broker_key) != 1) {
		pki_fail("%s does not match %s/%s; restore the PKI's files", path, dir,
			 PKI_F_BROKER_CA);
		goto fail;
	}
	if (!pki_path(path, "%s/%s", dir, PKI_F_NETWORK_CA_KEY) ||
	    pki_read_block(path, BUNDLE_LABEL_NETWORK_CA_KEY, ca->network_secret,
			   sizeof(ca->network_secret)) != (long)sizeof(ca->network_secret))
		goto fail;
	crypto_sign_ed25519_sk_to_pk(derived, ca->network_secret);
	if (sodium_memcmp(derived, ca->network_public, sizeof(derived)) != 0) {
		pki_fail("%s does not match %s/%s; restore the PKI's files", path, dir,
			 PKI_F_NETWORK_CA_PUB);
		goto fail;
	}
	return 0;
fail:
	pki_ca_free(ca);
	return MQTTIP_EXIT_FAILED;
}

void pki_ca_free(struct pki_ca *ca)
{
	X509_free(ca->broker_ca);
	EVP_PKEY_free(ca->broker_key);
	sodium_memzero(ca, sizeof(*ca));
}
