/* provision.c - the device's configuration and node bundle from NVS namespace "mqttip", written
 * by nvs_partition_gen from a CSV (firmware/README.md "Provisioning"): nothing secret is in the
 * image. Keys: broker_uri, bundle (blob: the file `mqttip pki issue` wrote), wifi_ssid and
 * wifi_pass on WiFi builds (Ethernet builds take DHCP and read no network keys) and, optional,
 * prefix, ntp_server, legacy_psk with legacy_addr (MQTT_VPN mode). */
#include <stdlib.h>
#include <string.h>

#include "esp_log.h"
#include "nvs.h"
#include "sdkconfig.h"

#include <sodium.h>

#include "device.h"

static const char *TAG = "provision";

static int get_str(nvs_handle_t h, const char *key, char *out, size_t cap, bool required)
{
	size_t len = cap;
	esp_err_t err = nvs_get_str(h, key, out, &len);

	if (err == ESP_OK)
		return 0;
	out[0] = '\0';
	if (err == ESP_ERR_NVS_NOT_FOUND && !required)
		return 0;
	ESP_LOGE(TAG, "NVS key %s: %s", key, esp_err_to_name(err));
	return -1;
}

/* The bundle's optional revocation list, kept on the heap until port_start offers it. */
static void get_revocation(struct device_config *cfg, const char *text, size_t len)
{
	uint8_t *list = malloc(MQTTIP_REVOCATION_MAX_LEN);
	long n = list ? bundle_block_find(text, len, BUNDLE_LABEL_REVOCATION, list,
					  MQTTIP_REVOCATION_MAX_LEN)
		      : -1;

	if (n <= 0) {
		free(list);
		return;
	}
	cfg->revocation = list;
	cfg->revocation_len = (size_t)n;
}

static int get_bundle(nvs_handle_t h, struct device_config *cfg, struct bundle *bundle)
{
	size_t len = 0;
	const char *what = NULL;
	char *text;
	int rc = -1;

	if (nvs_get_blob(h, "bundle", NULL, &len) != ESP_OK || len == 0 || len > BUNDLE_TEXT_MAX) {
		ESP_LOGE(TAG, "NVS key bundle: missing or larger than %d bytes", BUNDLE_TEXT_MAX);
		return -1;
	}
	/* Read once at boot: this heap buffer is wiped and freed right after parsing. */
	text = malloc(len);
	if (text == NULL)
		return -1;
	if (nvs_get_blob(h, "bundle", text, &len) == ESP_OK &&
	    bundle_parse(text, len, bundle, &what) == 0) {
		get_revocation(cfg, text, len);
		rc = 0;
	} else
		ESP_LOGE(TAG, "NVS key bundle: not a node bundle (%s block missing or bad)",
			 what ? what : "unreadable");
	sodium_memzero(text, len);
	free(text);
	return rc;
}

int provision_load(struct device_config *cfg, struct bundle *bundle)
{
	char legacy_addr[64];
	nvs_handle_t h;
	int rc = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (nvs_open(DEVICE_NVS_NAMESPACE, NVS_READONLY, &h) != ESP_OK) {
		ESP_LOGE(TAG, "not provisioned: no NVS namespace \"%s\" (see firmware/README.md)",
			 DEVICE_NVS_NAMESPACE);
		return -1;
	}
#if CONFIG_MQTTIP_UPLINK_WIFI
	rc |= get_str(h, "wifi_ssid", cfg->wifi_ssid, sizeof(cfg->wifi_ssid), true);
	rc |= get_str(h, "wifi_pass", cfg->wifi_pass, sizeof(cfg->wifi_pass), false);
#endif
	rc |= get_str(h, "broker_uri", cfg->broker_uri, sizeof(cfg->broker_uri), true);
	rc |= get_str(h, "ntp_server", cfg->ntp_server, sizeof(cfg->ntp_server), false);
	rc |= get_str(h, "prefix", cfg->fw.prefix, sizeof(cfg->fw.prefix), false);
	rc |= get_str(h, "legacy_psk", cfg->fw.legacy_password, sizeof(cfg->fw.legacy_password),
		      false);
	rc |= get_str(h, "legacy_addr", legacy_addr, sizeof(legacy_addr), false);
	rc |= get_bundle(h, cfg, bundle);
	nvs_close(h);
	if (rc != 0)
		return -1;
	if (cfg->ntp_server[0] == '\0')
		strcpy(cfg->ntp_server, "pool.ntp.org");
	if (cfg->fw.legacy_password[0] != '\0') {
		cfg->fw.legacy = true;
		if (netaddr_parse_prefix(legacy_addr, strlen(legacy_addr), &cfg->fw.legacy_addr,
					 &cfg->fw.legacy_prefix_len) != 0) {
			ESP_LOGE(TAG, "legacy_psk set: legacy_addr must be the device's ADDR/LEN");
			return -1;
		}
	}
	return 0;
}
