#include "fw_creds.h"

#include <string.h>

#include <sodium.h>

int fw_creds_from_bundle(struct fw_creds *c, const struct bundle *b)
{
	fw_creds_wipe(c);
	if (b->broker_ca_len + b->client_cert_len + b->client_key_len > FW_CREDS_MAX)
		return -1;
	c->broker_ca_len = b->broker_ca_len;
	c->client_cert_len = b->client_cert_len;
	c->client_key_len = b->client_key_len;
	memcpy(c->buf, b->broker_ca, b->broker_ca_len);
	memcpy(c->buf + b->broker_ca_len, b->client_cert, b->client_cert_len);
	memcpy(c->buf + b->broker_ca_len + b->client_cert_len, b->client_key, b->client_key_len);
	return 0;
}

void fw_creds_wipe(struct fw_creds *c)
{
	sodium_memzero(c, sizeof(*c));
}
