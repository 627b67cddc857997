/* fw_creds.h - what a device keeps of its node bundle (common/bundle.h) once it runs: the broker
 * CA, its client certificate and its PKCS#8 key, DER, which the MQTT client reads again at every
 * connection (esp-mqtt keeps pointers to them and esp-tls parses them at each connect), packed back
 * to back in one buffer. The VPN credentials (node certificate, X25519 key, network CA) are copied
 * into the tunnel by fw_tunnel_init(), so the bundle itself (3.9 KB of fixed-size fields) is needed
 * only at boot. FW_CREDS_MAX fits what `mqttip pki issue` makes (ECDSA P-256: a broker CA of about
 * 430 bytes, a client certificate of 460 to 600 with four addresses and a long name, a key of
 * 138) with room to spare; a bundle with more is refused at boot, naming the sizes. */
#ifndef MQTTIP_FW_CREDS_H
#define MQTTIP_FW_CREDS_H

#include <stddef.h>
#include <stdint.h>

#include "bundle.h"

#define FW_CREDS_MAX 1536 /* bytes: broker CA + client certificate + client key */

struct fw_creds {
	size_t broker_ca_len, client_cert_len, client_key_len;
	uint8_t buf[FW_CREDS_MAX]; /* broker CA, client certificate, client key */
};

/* Copies the three blocks out of b. Returns 0, or -1 when they take more than FW_CREDS_MAX bytes
 * (c is then wiped). */
int fw_creds_from_bundle(struct fw_creds *c, const struct bundle *b);
static inline const uint8_t *fw_creds_broker_ca(const struct fw_creds *c)
{
	return c->buf;
}
static inline const uint8_t *fw_creds_client_cert(const struct fw_creds *c)
{
	return c->buf + c->broker_ca_len;
}
static inline const uint8_t *fw_creds_client_key(const struct fw_creds *c)
{
	return c->buf + c->broker_ca_len + c->client_cert_len;
}
/* Wipes the key (and the rest). */
void fw_creds_wipe(struct fw_creds *c);

#endif
