/* device.h - the ESP-IDF port's parts (main.c ties them together). This layer holds no protocol
 * logic: NVS reading, WiFi, SNTP, esp-mqtt and the handing of packets and messages to the app. */
#ifndef MQTTIP_DEVICE_H
#define MQTTIP_DEVICE_H

#include "bundle.h"
#include "fw_tunnel.h"

#define DEVICE_NVS_NAMESPACE  "mqttip"
#define DEVICE_NVS_REVOCATION "revocation" /* the newest VPN revocation list, kept by the app */

struct device_config {
	char wifi_ssid[33];
	char wifi_pass[65];
	char broker_uri[128];
	char ntp_server[64];
	struct fw_config fw;
	uint8_t *revocation; /* the bundle's list (heap, freed with cfg), or NULL */
	size_t revocation_len;
};

/* provision.c: reads the configuration and the node bundle from NVS (firmware/README.md
 * "Provisioning"). Returns 0, or -1 after logging what is missing. */
int provision_load(struct device_config *cfg, struct bundle *bundle);
/* The uplink to the broker, one of two by CONFIG_MQTTIP_UPLINK_* (main/Kconfig.projbuild); each
 * waits up to timeout_ms for a DHCP address, then returns and keeps trying in the background.
 * wifi.c: station mode with reconnection. */
void wifi_start(const char *ssid, const char *pass, int timeout_ms);
/* eth.c: the Ethernet controller chosen in menuconfig ("mqttip device"). */
void eth_start(int timeout_ms);
/* port.c: the tunnel on its lwIP interface, the shell, and esp-mqtt. It keeps what it needs of
 * cfg and the bundle (fw_creds.h; the tunnel's copy of the VPN credentials; esp-mqtt copies the
 * URI): the caller wipes and frees both afterwards. Returns 0 or -1. */
int port_start(const struct device_config *cfg, const struct bundle *bundle);

#endif
