/* identity.c - X.509 client certificate to node identity (runs once per connection). */
#include "identity.h"

#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/x509v3.h>

static int common_name(X509 *cert, char *out, char *why, size_t whylen)
{
	X509_NAME *subject = X509_get_subject_name(cert);
	unsigned char *utf8 = NULL;
	int idx, len;

	idx = subject ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
	if (idx < 0) {
		snprintf(why, whylen, "certificate has no CN");
		return -1;
	}
	if (X509_NAME_get_index_by_NID(subject, NID_commonName, idx) >= 0) {
		snprintf(why, whylen, "certificate has more than one CN");
		return -1;
	}
	len =
	    ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx)));
	if (len <= 0 || len >= POLICY_NAME_MAX) {
		OPENSSL_free(utf8);
		snprintf(why, whylen, "certificate CN empty or longer than %d bytes",
			 POLICY_NAME_MAX - 1);
		return -1;
	}
	for (int i = 0; i < len; i++) {
		/* The name goes into logs, JSON and Prometheus labels: no control bytes. */
		if (utf8[i] < 0x20 || utf8[i] == 0x7f) {
			OPENSSL_free(utf8);
			snprintf(why, whylen, "certificate CN contains a control character");
			return -1;
		}
	}
	memcpy(out, utf8, (size_t)len);
	out[len] = '\0';
	OPENSSL_free(utf8);
	return 0;
}

static int san_addresses(X509 *cert, struct identity *out, char *why, size_t whylen)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	int rc = 0;

	out->naddrs = 0;
	if (names == NULL)
		return 0;
	for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		struct netaddr a;
		int len;

		if (gn->type != GEN_IPADD)
			continue;
		len = ASN1_STRING_length(gn->d.iPAddress);
		memset(&a, 0, sizeof(a));
		if (len == 4) {
			a.family = 4;
		} else if (len == 16) {
			a.family = 6;
		} else {
			continue;
		}
		memcpy(a.bytes, ASN1_STRING_get0_data(gn->d.iPAddress), (size_t)len);
		if (out->naddrs == IDENTITY_MAX_ADDRS) {
			snprintf(why, whylen, "certificate has more than %d IP addresses",
				 IDENTITY_MAX_ADDRS);
			rc = -1;
			break;
		}
		out->addrs[out->naddrs++] = a;
	}
	GENERAL_NAMES_free(names);
	return rc;
}

int identity_from_x509(X509 *cert, struct identity *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	if (common_name(cert, out->name, why, whylen) != 0)
		return -1;
	return san_addresses(cert, out, why, whylen);
}
