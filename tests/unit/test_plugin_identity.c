/* test_plugin_identity.c - the plugin's identity from X.509 client certificates built here with
 * OpenSSL: CN and subjectAltName IP entries taken, every malformed case refused with a reason.
 * The certificates are self-signed: identity_from_x509 runs after TLS has verified the chain. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "check.h"
#include "identity.h"

static EVP_PKEY *key;

/* A certificate with the given CNs (NULL-terminated list, may be empty) and a subjectAltName
 * built from an OpenSSL config string (NULL: none). */
static X509 *make_cert(const char *const *cns, const char *san)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"mqttip", -1,
				   -1, 0);
	/* V_ASN1_UTF8STRING rather than MBSTRING_UTF8: the bytes go in as given, without OpenSSL's
	 * size checks, so that an empty CN can be made too. */
	for (; cns && *cns; cns++)
		CHECK(X509_NAME_add_entry_by_txt(name, "CN", V_ASN1_UTF8STRING,
						 (const unsigned char *)*cns, -1, -1, 0) == 1);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, name);
	X509_NAME_free(name);
	if (san) {
		X509V3_CTX ctx;
		X509_EXTENSION *ext;

		X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
		ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
		CHECK(ext != NULL);
		if (ext) {
			X509_add_ext(x, ext, -1);
			X509_EXTENSION_free(ext);
		}
	}
	CHECK(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

/* Runs identity_from_x509 on a fresh certificate; true if it yields an identity. */
static bool identity_of(const char *const *cns, const char *san, struct identity *id, char *why)
{
	X509 *x = make_cert(cns, san);
	int rc;

	why[0] = '\0';
	rc = identity_from_x509(x, id, why, 128);
	X509_free(x);
	return rc == 0;
}

static void test_name_and_addresses(void)
{
	const char *cns[] = {"node-1", NULL};
	const uint8_t v4[4] = {10, 0, 1, 2};
	const uint8_t v6[16] = {0xfd, 0, [15] = 2};
	struct identity id;
	char why[128];

	CHECK(identity_of(cns, "DNS:node-1.example,IP:10.0.1.2,email:a@b.c,IP:fd00::2", &id, why));
	CHECK(strcmp(id.name, "node-1") == 0);
	CHECK_EQ_INT(id.naddrs, 2);
	CHECK_EQ_INT(id.addrs[0].family, 4);
	CHECK_MEM(id.addrs[0].bytes, v4, 4);
	CHECK_EQ_INT(id.addrs[1].family, 6);
	CHECK_MEM(id.addrs[1].bytes, v6, 16);

	/* no subjectAltName: a name without addresses (it may still read the directory) */
	CHECK(identity_of(cns, NULL, &id, why));
	CHECK_EQ_INT(id.naddrs, 0);
	CHECK(identity_of(cns, "DNS:only.example", &id, why));
	CHECK_EQ_INT(id.naddrs, 0);
}

static void test_common_name_refusals(void)
{
	const char *none[] = {NULL};
	const char *two[] = {"a", "b", NULL};
	const char *empty[] = {"", NULL};
	const char *newline[] = {"evil\nnode", NULL};
	const char *del[] = {"evil\x7fnode", NULL};
	char longest[POLICY_NAME_MAX], too_long[POLICY_NAME_MAX + 1];
	const char *ok[] = {longest, NULL}, *over[] = {too_long, NULL};
	struct identity id;
	char why[128];

	CHECK(!identity_of(none, "IP:10.0.1.2", &id, why));
	CHECK(strstr(why, "no CN") != NULL);
	CHECK(!identity_of(two, "IP:10.0.1.2", &id, why));
	CHECK(strstr(why, "more than one CN") != NULL);
	CHECK(!identity_of(empty, "IP:10.0.1.2", &id, why));
	CHECK(strstr(why, "empty or longer") != NULL);
	CHECK(!identity_of(newline, "IP:10.0.1.2", &id, why));
	CHECK(strstr(why, "control character") != NULL);
	CHECK(!identity_of(del, "IP:10.0.1.2", &id, why));
	CHECK(strstr(why, "control character") != NULL);

	memset(longest, 'n', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	memset(too_long, 'n', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';
	CHECK(identity_of(ok, NULL, &id, why));
	CHECK_EQ_INT(strlen(id.name), POLICY_NAME_MAX - 1);
	CHECK(!identity_of(over, NULL, &id, why));
	CHECK(strstr(why, "empty or longer") != NULL);
}

static void test_address_limit(void)
{
	const char *cns[] = {"gw", NULL};
	char san[512];
	size_t n = 0;
	struct identity id;
	char why[128];

	for (int i = 1; i <= IDENTITY_MAX_ADDRS; i++)
		n += (size_t)snprintf(san + n, sizeof(san) - n, "%sIP:10.0.1.%d", i > 1 ? "," : "",
				      i);
	CHECK(identity_of(cns, san, &id, why));
	CHECK_EQ_INT(id.naddrs, IDENTITY_MAX_ADDRS);
	CHECK_EQ_INT(id.addrs[IDENTITY_MAX_ADDRS - 1].bytes[3], IDENTITY_MAX_ADDRS);
	snprintf(san + n, sizeof(san) - n, ",IP:fd00::9");
	CHECK(!identity_of(cns, san, &id, why));
	CHECK(strstr(why, "more than") != NULL);
}

/* An iPAddress entry that is neither 4 nor 16 bytes (an address with a mask, as in name
 * constraints) is not an address: skipped, not misread. */
static void test_odd_ip_length_skipped(void)
{
	const char *cns[] = {"n", NULL};
	const uint8_t masked[8] = {10, 0, 1, 0, 255, 255, 255, 0};
	X509 *x = make_cert(cns, "IP:10.0.1.7");
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_OCTET_STRING *ip = ASN1_OCTET_STRING_new();
	struct identity id;
	char why[128];

	ASN1_OCTET_STRING_set(ip, masked, sizeof(masked));
	GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
	sk_GENERAL_NAME_insert(names, gn, 0);
	CHECK(X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, X509V3_ADD_REPLACE) == 1);
	GENERAL_NAMES_free(names);
	CHECK_EQ_INT(identity_from_x509(x, &id, why, sizeof(why)), 0);
	CHECK_EQ_INT(id.naddrs, 1);
	CHECK_EQ_INT(id.addrs[0].bytes[3], 7);
	X509_free(x);
}

int main(void)
{
	key = EVP_EC_gen("P-256");
	CHECK(key != NULL);
	if (!key)
		return check_done();
	test_name_and_addresses();
	test_common_name_refusals();
	test_address_limit();
	test_odd_ip_length_skipped();
	EVP_PKEY_free(key);
	return check_done();
}
