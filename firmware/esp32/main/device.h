/* device.h - the ESP-IDF port's parts (main.c ties them together). This layer holds no protocol
 * logic: NVS reading, WiFi, SNTP, esp-mqtt and the handing of packets and messages to the app. */
#ifndef MQTTIP_DEVICE_H
#define MQTTIP_DEVICE_H

#include "bundle.h"
#include "fw_tunnel.h"

#define DEVICE_NVS_NAMESPACE "mqttip"

struct device_config {
	char wifi_ssid[33];
	char wifi_pass[65];
	char broker_uri[128];
	char ntp_server[64];
	struct fw_config fw;
};

/* provision.c: reads the configuration and the node bundle from NVS (firmware/README.md
 * "Provisioning"). Returns 0, or -1 after logging what is missing. */
int provision_load(struct device_config *cfg, struct bundle *bundle);
/* wifi.c: station mode; waits up to timeout_ms for an address (and keeps reconnecting after). */
void wifi_start(const char *ssid, const char *pass, int timeout_ms);
/* port.c: the tunnel on its lwIP interface, the shell, and esp-mqtt. bundle must stay valid
 * (esp-mqtt keeps pointers to the certificates). Returns 0 or -1. */
int port_start(const struct device_config *cfg, const struct bundle *bundle);

#endif
