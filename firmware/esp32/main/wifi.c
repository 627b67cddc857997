/* wifi.c - WiFi station with reconnection, ESP-IDF's default netif (DHCP). */
#include <string.h>

#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_wifi.h"
#include "freertos/FreeRTOS.h"
#include "freertos/event_groups.h"

#include "device.h"

#define GOT_IP BIT0

static const char *TAG = "wifi";
static EventGroupHandle_t wifi_events;

static void on_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
	(void)arg;
	if (base == WIFI_EVENT && id == WIFI_EVENT_STA_START) {
		esp_wifi_connect();
	} else if (base == WIFI_EVENT && id == WIFI_EVENT_STA_DISCONNECTED) {
		xEventGroupClearBits(wifi_events, GOT_IP);
		ESP_LOGW(TAG, "disconnected; reconnecting");
		esp_wifi_connect();
	} else if (base == IP_EVENT && id == IP_EVENT_STA_GOT_IP) {
		const ip_event_got_ip_t *ev = data;

		ESP_LOGI(TAG, "got address " IPSTR, IP2STR(&ev->ip_info.ip));
		xEventGroupSetBits(wifi_events, GOT_IP);
	}
}

void wifi_start(const char *ssid, const char *pass, int timeout_ms)
{
	wifi_init_config_t init = WIFI_INIT_CONFIG_DEFAULT();
	wifi_config_t wc;

	wifi_events = xEventGroupCreate();
	esp_netif_create_default_wifi_sta();
	ESP_ERROR_CHECK(esp_wifi_init(&init));
	ESP_ERROR_CHECK(esp_event_handler_register(WIFI_EVENT, ESP_EVENT_ANY_ID, on_event, NULL));
	ESP_ERROR_CHECK(esp_event_handler_register(IP_EVENT, IP_EVENT_STA_GOT_IP, on_event, NULL));
	memset(&wc, 0, sizeof(wc));
	strncpy((char *)wc.sta.ssid, ssid, sizeof(wc.sta.ssid));
	strncpy((char *)wc.sta.password, pass, sizeof(wc.sta.password));
	ESP_ERROR_CHECK(esp_wifi_set_mode(WIFI_MODE_STA));
	ESP_ERROR_CHECK(esp_wifi_set_config(WIFI_IF_STA, &wc));
	ESP_ERROR_CHECK(esp_wifi_start());
	ESP_LOGI(TAG, "connecting to \"%s\"", ssid);
	if (!(xEventGroupWaitBits(wifi_events, GOT_IP, pdFALSE, pdTRUE, pdMS_TO_TICKS(timeout_ms)) &
	      GOT_IP))
		ESP_LOGW(TAG, "no address after %d ms; going on (it keeps trying)", timeout_ms);
}
