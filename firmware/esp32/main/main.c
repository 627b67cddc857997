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

#include <sodium.h>

#include "device.h"

static const char *TAG = "mqttip";
/* Kept for the device's lifetime: esp-mqtt reads the certificates from it on every connect. */
static struct bundle bundle;
static struct device_config config;

void app_main(void); /* ESP-IDF's startup calls it; no header declares it */

void app_main(void)
{
	esp_sntp_config_t sntp = ESP_NETIF_SNTP_DEFAULT_CONFIG("pool.ntp.org");
	esp_err_t err = nvs_flash_init();

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
	if (provision_load(&config, &bundle) != 0) {
		ESP_LOGE(TAG, "not provisioned; halting (see firmware/README.md \"Provisioning\")");
		return;
	}
	ESP_ERROR_CHECK(esp_netif_init());
	ESP_ERROR_CHECK(esp_event_loop_create_default());
#if CONFIG_MQTTIP_UPLINK_ETHERNET
	eth_start(30000);
#else
	wifi_start(config.wifi_ssid, config.wifi_pass, 30000);
#endif
	/* Certificates and handshake timestamps need the wall clock: the tunnel waits for it. */
	sntp.servers[0] = config.ntp_server;
	esp_netif_sntp_init(&sntp);
	if (esp_netif_sntp_sync_wait(pdMS_TO_TICKS(15000)) != ESP_OK)
		ESP_LOGW(TAG, "clock not set yet (SNTP %s); handshakes wait for it",
			 config.ntp_server);
	if (port_start(&config, &bundle) != 0)
		ESP_LOGE(TAG, "tunnel did not start");
}
