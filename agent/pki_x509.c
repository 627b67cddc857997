/* pki_x509.c - X.509 certificates and CRL of the broker PKI, with OpenSSL 3. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "pki_files.h"
#include "pki_x509.h"

#define SERIAL_BYTES 16

const char *pki_x509_error(void)
{
	static char buf[256];
	unsigned long e = ERR_peek_last_error();

	if (!e)
		return errno ? strerror(errno) : "not in the expected format";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

EVP_PKEY *pki_x509_keygen(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static bool set_random_serial(X509 *x)
{
	unsigned char raw[SERIAL_BYTES];
	BIGNUM *bn;
	bool ok;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return false;
	raw[0] &= 0x7f; /* positive, and 16 bytes fit the 20 RFC 5280 allows */
	raw[0] |= 0x40; /* no leading zero byte: every serial is printed with the same width */
	bn = BN_bin2bn(raw, sizeof(raw), NULL);
	ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	return ok;
}

static bool add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	bool ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return false;
	ok = X509_add_ext(cert, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok;
}

static X509 *new_cert(EVP_PKEY *key, const char *cn, time_t not_before, time_t not_after)
{
	X509 *x = X509_new();
	X509_NAME *name;

	if (!x)
		return NULL;
	name = X509_get_subject_name(x);
	if (X509_set_version(x, X509_VERSION_3) != 1 || !set_random_serial(x) ||
	    !X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &not_before) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), 0, 0, &not_after) ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
				       0) != 1 ||
	    X509_set_pubkey(x, key) != 1) {
		X509_free(x);
		return NULL;
	}
	return x;
}

X509 *pki_x509_make_ca(EVP_PKEY *key, const char *cn, time_t not_before, time_t not_after)
{
	X509 *x = new_cert(key, cn, not_before, not_after);

	if (!x)
		return NULL;
	if (X509_set_issuer_name(x, X509_get_subject_name(x)) != 1 ||
	    !add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
	    !add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    !add_ext(x, x, NID_subject_key_identifier, "hash") ||
	    !add_ext(x, x, NID_authority_key_identifier, "keyid:always") ||
	    X509_sign(x, key, EVP_sha256()) <= 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

X509 *pki_x509_make_leaf(const struct pki_x509_subject *s, EVP_PKEY *key, X509 *ca,
			 EVP_PKEY *ca_key, time_t not_before, time_t not_after)
{
	char san[2048];
	size_t used = 0;
	X509 *x = new_cert(key, s->cn, not_before, not_after);

	if (!x)
		return NULL;
	san[0] = '\0';
	for (size_t i = 0; i < s->n_dns + s->n_ips; i++) {
		char ip[NETADDR_STR_MAX];
		int n;

		if (i < s->n_dns) {
			n = snprintf(san + used, sizeof(san) - used, "%sDNS:%s", used ? "," : "",
				     s->dns[i]);
		} else {
			if (!netaddr_format(&s->ips[i - s->n_dns], ip, sizeof(ip)))
				goto fail;
			n = snprintf(san + used, sizeof(san) - used, "%sIP:%s", used ? "," : "",
				     ip);
		}
		if (n < 0 || (size_t)n >= sizeof(san) - used)
			goto fail;
		used += (size_t)n;
	}
	if (X509_set_issuer_name(x, X509_get_subject_name(ca)) != 1 ||
	    !add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(x, ca, NID_key_usage, "critical,digitalSignature") ||
	    !add_ext(x, ca, NID_ext_key_usage, s->server ? "serverAuth" : "clientAuth") ||
	    !add_ext(x, ca, NID_subject_key_identifier, "hash") ||
	    !add_ext(x, ca, NID_authority_key_identifier, "keyid:always") ||
	    (used && !add_ext(x, ca, NID_subject_alt_name, san)) ||
	    X509_sign(x, ca_key, EVP_sha256()) <= 0)
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

static int write_bio(const char *path, BIO *bio, mode_t mode)
{
	char *data;
	long len = BIO_get_mem_data(bio, &data);
	int r = len > 0 ? pki_write_file(path, data, (size_t)len, mode) : -1;

	return r;
}

int pki_x509_write_crl(const char *path, X509 *ca, EVP_PKEY *ca_key,
		       const struct pki_revoked *revoked, size_t n_revoked, time_t this_update)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *now = ASN1_TIME_set(NULL, this_update);
	ASN1_INTEGER *number = ASN1_INTEGER_new();
	BIO *bio = BIO_new(BIO_s_mem());
	int r = -1;

	if (!crl || !now || !number || !bio)
		goto out;
	/* Every CRL lists all revocations; numbering by their count keeps crlNumber increasing
	 * without another file, since revocations are never taken back. */
	if (X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) != 1 ||
	    X509_CRL_set1_lastUpdate(crl, now) != 1 ||
	    X509_CRL_set1_nextUpdate(crl, X509_get0_notAfter(ca)) != 1 ||
	    ASN1_INTEGER_set_uint64(number, (uint64_t)n_revoked + 1) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, 0) != 1)
		goto out;
	for (size_t i = 0; i < n_revoked; i++) {
		X509_REVOKED *rev = X509_REVOKED_new();
		BIGNUM *bn = NULL;
		ASN1_INTEGER *serial = NULL;
		ASN1_TIME *when = ASN1_TIME_set(NULL, revoked[i].when);
		bool ok = rev && when && BN_hex2bn(&bn, revoked[i].serial_hex) > 0 &&
			  (serial = BN_to_ASN1_INTEGER(bn, NULL)) &&
			  X509_REVOKED_set_serialNumber(rev, serial) == 1 &&
			  X509_REVOKED_set_revocationDate(rev, when) == 1 &&
			  X509_CRL_add0_revoked(crl, rev) == 1;

		BN_free(bn);
		ASN1_INTEGER_free(serial);
		ASN1_TIME_free(when);
		if (!ok) {
			X509_REVOKED_free(rev);
			goto out;
		}
	}
	if (X509_CRL_sort(crl) != 1 || X509_CRL_sign(crl, ca_key, EVP_sha256()) <= 0 ||
	    PEM_write_bio_X509_CRL(bio, crl) != 1)
		goto out;
	r = write_bio(path, bio, PKI_MODE_PUBLIC);
out:
	BIO_free(bio);
	ASN1_INTEGER_free(number);
	ASN1_TIME_free(now);
	X509_CRL_free(crl);
	return r;
}

int pki_x509_write_cert(const char *path, X509 *cert)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int r =
	    bio && PEM_write_bio_X509(bio, cert) == 1 ? write_bio(path, bio, PKI_MODE_PUBLIC) : -1;

	BIO_free(bio);
	return r;
}

int pki_x509_write_key(const char *path, EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	int r = bio && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1
		    ? write_bio(path, bio, PKI_MODE_SECRET)
		    : -1;

	BIO_free(bio);
	return r;
}

/* Reads the file ourselves, so that an unreadable file is reported by errno ("Permission
 * denied"), not as an OpenSSL BIO error. */
static BIO *read_to_bio(const char *path, unsigned char **data, size_t *len)
{
	BIO *bio;

	if (pki_read_file(path, data, len) < 0) {
		ERR_clear_error();
		return NULL;
	}
	bio = BIO_new_mem_buf(*data, (int)*len);
	if (!bio)
		pki_free_wiped(*data, *len);
	return bio;
}

X509 *pki_x509_read_cert(const char *path)
{
	unsigned char *data;
	size_t len;
	BIO *bio = read_to_bio(path, &data, &len);
	X509 *x;

	if (!bio)
		return NULL;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	pki_free_wiped(data, len);
	return x;
}

EVP_PKEY *pki_x509_read_key(const char *path)
{
	unsigned char *data;
	size_t len;
	BIO *bio = read_to_bio(path, &data, &len);
	EVP_PKEY *k;

	if (!bio)
		return NULL;
	k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	pki_free_wiped(data, len);
	return k;
}

int pki_x509_cert_der(X509 *cert, unsigned char **der)
{
	*der = NULL;
	return i2d_X509(cert, der);
}

int pki_x509_key_der(EVP_PKEY *key, unsigned char **der)
{
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(key);
	int n;

	*der = NULL;
	if (!p8)
		return -1;
	n = i2d_PKCS8_PRIV_KEY_INFO(p8, der);
	PKCS8_PRIV_KEY_INFO_free(p8);
	return n;
}

bool pki_x509_serial_hex(X509 *cert, char out[PKI_SERIAL_HEX_MAX])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	bool ok = hex && strlen(hex) < PKI_SERIAL_HEX_MAX;

	if (ok)
		strcpy(out, hex);
	OPENSSL_free(hex);
	BN_free(bn);
	return ok;
}

time_t pki_x509_time(const ASN1_TIME *t)
{
	ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
	int days = 0, secs = 0;
	bool ok = epoch && t && ASN1_TIME_diff(&days, &secs, epoch, t) == 1;

	ASN1_TIME_free(epoch);
	return ok ? (time_t)days * 86400 + secs : 0;
}

time_t pki_x509_not_after(X509 *cert)
{
	return pki_x509_time(X509_get0_notAfter(cert));
}

time_t pki_x509_not_before(X509 *cert)
{
	return pki_x509_time(X509_get0_notBefore(cert));
}

size_t pki_x509_ips(X509 *cert, struct netaddr *ips, size_t cap)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	size_t n = 0;

	for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		int len;

		if (g->type != GEN_IPADD || n >= cap)
			continue;
		len = ASN1_STRING_length(g->d.iPAddress);
		if (len != 4 && len != 16)
			continue;
		memset(&ips[n], 0, sizeof(ips[n]));
		ips[n].family = len == 4 ? 4 : 6;
		memcpy(ips[n].bytes, ASN1_STRING_get0_data(g->d.iPAddress), (size_t)len);
		n++;
	}
	GENERAL_NAMES_free(names);
	return n;
}

bool pki_x509_cn(X509 *cert, char *out, size_t cap)
{
	int n =
	    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, out, (int)cap);

	return n > 0 && (size_t)n < cap;
}

static void print_time(FILE *out, const char *what, time_t t)
{
	struct tm tm;
	char buf[64];

	if (gmtime_r(&t, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm))
		fprintf(out, "  %-12s %s\n", what, buf);
}

static void print_name(FILE *out, const char *what, const X509_NAME *name)
{
	BIO *bio = BIO_new_fp(out, BIO_NOCLOSE);

	fprintf(out, "  %-12s ", what);
	X509_NAME_print_ex(bio, name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
	BIO_free(bio);
	fprintf(out, "\n");
}

static void print_ext(FILE *out, X509 *cert, const char *what, int nid)
{
	int idx = X509_get_ext_by_NID(cert, nid, -1);
	BIO *bio;

	if (idx < 0)
		return;
	bio = BIO_new_fp(out, BIO_NOCLOSE);
	fprintf(out, "  %-12s ", what);
	X509V3_EXT_print(bio, X509_get_ext(cert, idx), 0, 0);
	BIO_free(bio);
	fprintf(out, "\n");
}

void pki_x509_print(FILE *out, X509 *cert)
{
	char serial[PKI_SERIAL_HEX_MAX];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	EVP_PKEY *pub = X509_get0_pubkey(cert);

	fprintf(out, "X.509 certificate%s\n",
		X509_check_ca(cert) ? " (certificate authority)" : "");
	print_name(out, "subject", X509_get_subject_name(cert));
	print_name(out, "issuer", X509_get_issuer_name(cert));
	if (pki_x509_serial_hex(cert, serial))
		fprintf(out, "  %-12s %s\n", "serial", serial);
	print_time(out, "not before", pki_x509_time(X509_get0_notBefore(cert)));
	print_time(out, "not after", pki_x509_time(X509_get0_notAfter(cert)));
	if (pub)
		fprintf(out, "  %-12s %s %d bits\n", "public key", EVP_PKEY_get0_type_name(pub),
			EVP_PKEY_get_bits(pub));
	print_ext(out, cert, "alt names", NID_subject_alt_name);
	print_ext(out, cert, "key usage", NID_key_usage);
	print_ext(out, cert, "ext. usage", NID_ext_key_usage);
	if (X509_digest(cert, EVP_sha256(), md, &md_len) == 1) {
		fprintf(out, "  %-12s ", "sha256");
		for (unsigned int i = 0; i < md_len; i++)
			fprintf(out, "%02x%s", md[i], i + 1 < md_len ? ":" : "\n");
	}
}

void pki_x509_print_crl(FILE *out, X509_CRL *crl)
{
	STACK_OF(X509_REVOKED) *revoked = X509_CRL_get_REVOKED(crl);
	int n = revoked ? sk_X509_REVOKED_num(revoked) : 0;

	fprintf(out, "X.509 certificate revocation list\n");
	print_name(out, "issuer", X509_CRL_get_issuer(crl));
	print_time(out, "this update", pki_x509_time(X509_CRL_get0_lastUpdate(crl)));
	print_time(out, "next update", pki_x509_time(X509_CRL_get0_nextUpdate(crl)));
	fprintf(out, "  %-12s %d\n", "revoked", n);
	for (int i = 0; i < n; i++) {
		const X509_REVOKED *r = sk_X509_REVOKED_value(revoked, i);
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(r), NULL);
		char *hex = bn ? BN_bn2hex(bn) : NULL;

		fprintf(out, "  %-12s %s\n", "serial", hex ? hex : "?");
		OPENSSL_free(hex);
		BN_free(bn);
	}
}
