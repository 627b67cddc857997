/* eth.c - the Ethernet uplink (CONFIG_MQTTIP_UPLINK_ETHERNET): ESP-IDF's default Ethernet netif
 * with DHCP, on the controller chosen in menuconfig ("mqttip device"): the ESP32's internal EMAC
 * with a LAN8720 or IP101 PHY, a W5500 on SPI, or the OpenCores MAC of Espressif's QEMU. The tunnel
 * does not depend on which; like wifi.c this only brings up the route to the broker. */
#include <stdint.h>

#include "esp_eth.h"
#include "esp_event.h"
#include "esp_idf_version.h"
#include "esp_log.h"
#include "esp_mac.h"
#include "esp_netif.h"
#include "freertos/FreeRTOS.h"
#include "freertos/event_groups.h"
#include "sdkconfig.h"

#if CONFIG_MQTTIP_ETH_EMAC || CONFIG_MQTTIP_ETH_W5500
#include "driver/gpio.h"
#endif
#if CONFIG_MQTTIP_ETH_W5500
#include "driver/spi_master.h"
#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(6, 0, 0)
/* From the component registry (espressif/w5500, main/idf_component.yml). */
#include "esp_eth_mac_w5500.h"
#include "esp_eth_phy_w5500.h"
#elif !CONFIG_ETH_SPI_ETHERNET_W5500
/* menuconfig: Component config > Ethernet > Support SPI to Ethernet Module > W5500 */
#error "W5500 uplink: enable CONFIG_ETH_SPI_ETHERNET_W5500 (firmware/README.md)"
#endif
#endif
#if CONFIG_MQTTIP_ETH_OPENETH && CONFIG_IDF_TARGET_ESP32C3 &&                                      \
    ESP_IDF_VERSION < ESP_IDF_VERSION_VAL(5, 3, 0)
#error "OpenCores Ethernet on the ESP32-C3 needs ESP-IDF v5.3 (older: target esp32)"
#endif

#include "device.h"

#define GOT_IP BIT0

static const char *TAG = "eth";
static EventGroupHandle_t eth_events;

static void on_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
	(void)arg;
	if (base == ETH_EVENT && id == ETHERNET_EVENT_CONNECTED) {
		ESP_LOGI(TAG, "link up");
	} else if (base == ETH_EVENT && id == ETHERNET_EVENT_DISCONNECTED) {
		xEventGroupClearBits(eth_events, GOT_IP);
		ESP_LOGW(TAG, "link down; waiting for it");
	} else if (base == IP_EVENT && id == IP_EVENT_ETH_GOT_IP) {
		const ip_event_got_ip_t *ev = data;

		ESP_LOGI(TAG, "got address " IPSTR, IP2STR(&ev->ip_info.ip));
		xEventGroupSetBits(eth_events, GOT_IP);
	}
}

#if CONFIG_MQTTIP_ETH_EMAC
static void new_driver(const eth_mac_config_t *mac_cfg, eth_phy_config_t *phy_cfg,
		       esp_eth_mac_t **mac, esp_eth_phy_t **phy)
{
	eth_esp32_emac_config_t emac = ETH_ESP32_EMAC_DEFAULT_CONFIG();

	if (CONFIG_MQTTIP_ETH_PHY_POWER_GPIO >= 0) {
		gpio_reset_pin(CONFIG_MQTTIP_ETH_PHY_POWER_GPIO);
		gpio_set_direction(CONFIG_MQTTIP_ETH_PHY_POWER_GPIO, GPIO_MODE_OUTPUT);
		gpio_set_level(CONFIG_MQTTIP_ETH_PHY_POWER_GPIO, 1);
		vTaskDelay(pdMS_TO_TICKS(10)); /* the oscillator settles before the EMAC needs it */
	}
#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(5, 3, 0)
	emac.smi_gpio.mdc_num = CONFIG_MQTTIP_ETH_MDC_GPIO;
	emac.smi_gpio.mdio_num = CONFIG_MQTTIP_ETH_MDIO_GPIO;
#else
	emac.smi_mdc_gpio_num = CONFIG_MQTTIP_ETH_MDC_GPIO;
	emac.smi_mdio_gpio_num = CONFIG_MQTTIP_ETH_MDIO_GPIO;
#endif
#if CONFIG_MQTTIP_ETH_RMII_CLK_OUT
	emac.clock_config.rmii.clock_mode = EMAC_CLK_OUT;
	emac.clock_config.rmii.clock_gpio = 17;
#else
	emac.clock_config.rmii.clock_mode = EMAC_CLK_EXT_IN;
	emac.clock_config.rmii.clock_gpio = 0;
#endif
	phy_cfg->phy_addr = CONFIG_MQTTIP_ETH_PHY_ADDR;
	phy_cfg->reset_gpio_num = CONFIG_MQTTIP_ETH_PHY_RST_GPIO;
	*mac = esp_eth_mac_new_esp32(&emac, mac_cfg);
#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(6, 0, 0)
	/* v6 keeps only the IEEE 802.3 generic PHY driver in ESP-IDF; it drives both. */
	*phy = esp_eth_phy_new_generic(phy_cfg);
#elif CONFIG_MQTTIP_ETH_PHY_IP101
	*phy = esp_eth_phy_new_ip101(phy_cfg);
#else
	*phy = esp_eth_phy_new_lan87xx(phy_cfg);
#endif
}
#elif CONFIG_MQTTIP_ETH_W5500
static void new_driver(const eth_mac_config_t *mac_cfg, eth_phy_config_t *phy_cfg,
		       esp_eth_mac_t **mac, esp_eth_phy_t **phy)
{
	spi_device_interface_config_t dev = {
	    /* copied by the driver when it adds the device */
	    .mode = 0,
	    .clock_speed_hz = CONFIG_MQTTIP_ETH_SPI_CLOCK_MHZ * 1000 * 1000,
	    .spics_io_num = CONFIG_MQTTIP_ETH_SPI_CS_GPIO,
	    .queue_size = 20,
	};
	spi_bus_config_t bus = {
	    .miso_io_num = CONFIG_MQTTIP_ETH_SPI_MISO_GPIO,
	    .mosi_io_num = CONFIG_MQTTIP_ETH_SPI_MOSI_GPIO,
	    .sclk_io_num = CONFIG_MQTTIP_ETH_SPI_SCLK_GPIO,
	    .quadwp_io_num = -1,
	    .quadhd_io_num = -1,
	};
	eth_w5500_config_t w5500 =
	    ETH_W5500_DEFAULT_CONFIG((spi_host_device_t)CONFIG_MQTTIP_ETH_SPI_HOST, &dev);

	*mac = NULL;
	*phy = NULL;
	if (CONFIG_MQTTIP_ETH_SPI_INT_GPIO >= 0) {
		esp_err_t err = gpio_install_isr_service(0);

		if (err != ESP_OK && err != ESP_ERR_INVALID_STATE) { /* already installed: fine */
			ESP_LOGE(TAG, "GPIO interrupt service: %s", esp_err_to_name(err));
			return;
		}
	}
	if (spi_bus_initialize((spi_host_device_t)CONFIG_MQTTIP_ETH_SPI_HOST, &bus,
			       SPI_DMA_CH_AUTO) != ESP_OK) {
		ESP_LOGE(TAG, "SPI bus %d: cannot initialise (check the GPIOs in menuconfig)",
			 CONFIG_MQTTIP_ETH_SPI_HOST);
		return;
	}
	w5500.int_gpio_num = CONFIG_MQTTIP_ETH_SPI_INT_GPIO;
	if (CONFIG_MQTTIP_ETH_SPI_INT_GPIO < 0)
		w5500.poll_period_ms = 10;
	phy_cfg->reset_gpio_num = -1;
	*mac = esp_eth_mac_new_w5500(&w5500, mac_cfg);
	*phy = esp_eth_phy_new_w5500(phy_cfg);
}
#else /* CONFIG_MQTTIP_ETH_OPENETH */
static void new_driver(const eth_mac_config_t *mac_cfg, eth_phy_config_t *phy_cfg,
		       esp_eth_mac_t **mac, esp_eth_phy_t **phy)
{
	/* QEMU's MAC has no real PHY behind it: autonegotiation ends at once. */
	phy_cfg->autonego_timeout_ms = 100;
	*mac = esp_eth_mac_new_openeth(mac_cfg);
#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(5, 4, 0)
	*phy = esp_eth_phy_new_generic(phy_cfg);
#else
	*phy = esp_eth_phy_new_dp83848(phy_cfg);
#endif
}
#endif

void eth_start(int timeout_ms)
{
	esp_netif_config_t netif_cfg = ESP_NETIF_DEFAULT_ETH();
	eth_mac_config_t mac_cfg = ETH_MAC_DEFAULT_CONFIG();
	eth_phy_config_t phy_cfg = ETH_PHY_DEFAULT_CONFIG();
	esp_eth_handle_t eth = NULL;
	esp_eth_mac_t *mac;
	esp_eth_phy_t *phy;
	esp_netif_t *netif;

	eth_events = xEventGroupCreate();
	netif = esp_netif_new(&netif_cfg);
	new_driver(&mac_cfg, &phy_cfg, &mac, &phy);
	if (eth_events == NULL || netif == NULL || mac == NULL || phy == NULL) {
		ESP_LOGE(TAG, "cannot create the Ethernet driver (see the log above; menuconfig "
			      "\"mqttip device\" sets the controller and its pins)");
		return;
	}
	esp_eth_config_t cfg = ETH_DEFAULT_CONFIG(mac, phy);
	if (esp_eth_driver_install(&cfg, &eth) != ESP_OK) {
		ESP_LOGE(TAG, "no Ethernet controller answers (wiring, PHY address, power GPIO)");
		return;
	}
#if !CONFIG_MQTTIP_ETH_EMAC
	/* A W5500 (and QEMU's MAC) has no MAC address of its own: use the chip's Ethernet MAC. */
	uint8_t addr[6];

	if (esp_read_mac(addr, ESP_MAC_ETH) == ESP_OK)
		esp_eth_ioctl(eth, ETH_CMD_S_MAC_ADDR, addr);
#endif
	ESP_ERROR_CHECK(esp_netif_attach(netif, esp_eth_new_netif_glue(eth)));
	ESP_ERROR_CHECK(esp_event_handler_register(ETH_EVENT, ESP_EVENT_ANY_ID, on_event, NULL));
	ESP_ERROR_CHECK(esp_event_handler_register(IP_EVENT, IP_EVENT_ETH_GOT_IP, on_event, NULL));
	ESP_ERROR_CHECK(esp_eth_start(eth));
	ESP_LOGI(TAG, "waiting for a DHCP address");
	if (!(xEventGroupWaitBits(eth_events, GOT_IP, pdFALSE, pdTRUE, pdMS_TO_TICKS(timeout_ms)) &
	      GOT_IP))
		ESP_LOGW(TAG, "no address after %d ms; going on (DHCP keeps trying)", timeout_ms);
}
