/* main.c - boot: NVS, the provisioned configuration and bundle, the uplink (WiFi or Ethernet, by
 * menuconfig), SNTP, then the tunnel.
 * Nothing secret is compiled in: everything comes from NVS (firmware/README.md). */
#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_netif_sntp.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "nvs_flash.h"
#include "sdkconfig.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "device.h"

static const char *TAG = "mqttip";
/* lwIP's SNTP keeps the pointer to its server's name (esp_netif_sntp without
 * renew_servers_after_new_IP does not copy it). */
static char ntp_server[sizeof(((struct device_config *)0)->ntp_server)];

void app_main(void); /* ESP-IDF's startup calls it; no header declares it */

/* Wipes and frees what boot needed: the provisioning record (WiFi password, legacy password) and
 * the bundle (keys), of which the port and the tunnel keep their own parts. */
static void boot_done(struct device_config *config, struct bundle *bundle)
{
	if (config) {
		free(config->revocation);
		sodium_memzero(config, sizeof(*config));
		free(config);
	}
	if (bundle) {
		bundle_wipe(bundle);
		free(bundle);
	}
}

void app_main(void)
{
	esp_sntp_config_t sntp = ESP_NETIF_SNTP_DEFAULT_CONFIG("pool.ntp.org");
	esp_err_t err = nvs_flash_init();
	/* At boot only (about 4.4 KB): the port keeps the few hundred bytes it needs. */
	struct device_config *config;
	struct bundle *bundle;

	if (err != ESP_OK) {
		/* Never erase here: the partition holds the provisioning. */
		ESP_LOGE(TAG, "NVS: %s; reprovision the device (firmware/README.md)",
			 esp_err_to_name(err));
		return;
	}
	if (sodium_init() < 0) {
		ESP_LOGE(TAG, "libsodium failed to initialise");
		return;
	}
	config = calloc(1, sizeof(*config));
	bundle = calloc(1, sizeof(*bundle));
	if (config == NULL || bundle == NULL) {
		ESP_LOGE(TAG, "out of memory at boot");
		boot_done(config, bundle);
		return;
	}
	if (provision_load(config, bundle) != 0) {
		ESP_LOGE(TAG, "not provisioned; halting (see firmware/README.md \"Provisioning\")");
		boot_done(config, bundle);
		return;
	}
	ESP_ERROR_CHECK(esp_netif_init());
	ESP_ERROR_CHECK(esp_event_loop_create_default());
#if CONFIG_MQTTIP_UPLINK_ETHERNET
	eth_start(30000);
#else
	wifi_start(config->wifi_ssid, config->wifi_pass, 30000);
#endif
	/* Certificates and handshake timestamps need the wall clock: the tunnel waits for it. */
	memcpy(ntp_server, config->ntp_server, sizeof(ntp_server));
	sntp.servers[0] = ntp_server;
	esp_netif_sntp_init(&sntp);
	if (esp_netif_sntp_sync_wait(pdMS_TO_TICKS(15000)) != ESP_OK)
		ESP_LOGW(TAG, "clock not set yet (SNTP %s); handshakes wait for it", ntp_server);
	if (port_start(config, bundle) != 0)
		ESP_LOGE(TAG, "tunnel did not start");
	boot_done(config, bundle);
}
