/* port.c - the app on ESP-IDF: esp-mqtt (TLS with the bundle's client certificate, messages
 * reassembled from esp-mqtt's chunks), the tunnel's lwIP interface (fw_netif, tcpip_input), the
 * shell on port 23, the wall clock from SNTP.
 *
 * Threads and the one rule that keeps them from deadlocking: esp-mqtt calls our event handler
 * with its API lock held, and the handler takes the app's lock; so no thread may wait for
 * esp-mqtt while it holds the app's lock. The app's port functions therefore only queue
 * (fw_outbox), and the "mqttip" task publishes from the outbox without the app's lock. It also
 * runs the timers. lwIP's thread enters the app for outgoing packets and the shell; the app hands
 * incoming packets to lwIP with tcpip_input, which only posts to lwIP's mailbox. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "esp_log.h"
#include "esp_timer.h"
#include "nvs.h"
#include "freertos/FreeRTOS.h"
#include "freertos/semphr.h"
#include "freertos/task.h"
#include "mqtt_client.h"

#include "device.h"
#include "fw_creds.h"
#include "fw_netif.h"
#include "fw_outbox.h"
#include "fw_shell.h"

#define TASK_STACK	  8192
#define TICK_MS		  100
#define STATUS_LOG_MS	  60000
#define CLOCK_VALID_AFTER 1700000000 /* unix seconds: anything earlier is an unset RTC */
/* esp-mqtt's receive buffer holds a whole message the device takes (FW_RX_PAYLOAD_MAX) with its
 * PUBLISH header (fixed header 5, topic length 2, topic, packet id 2): the app decrypts it in
 * place there, so the port keeps no copy. Its send buffer: our largest publish, likewise. */
#define MQTT_RX_BUFFER	(5 + 2 + TOPIC_MAX + 2 + FW_RX_PAYLOAD_MAX)
#define MQTT_TX_BUFFER	(5 + 2 + TOPIC_MAX + 2 + FW_TX_PAYLOAD_MAX)
#define MQTT_TASK_STACK 10240 /* the handshake runs in esp-mqtt's event handler */

static const char *TAG = "mqttip";

static SemaphoreHandle_t app_lock;
static TaskHandle_t task;
static esp_mqtt_client_handle_t client;
/* Under app_lock: */
static struct fw_tunnel tunnel;
static struct fw_outbox outbox;
static uint64_t rx_too_large; /* messages skipped as larger than the device takes */
static struct fw_netif tun_netif;
/* esp-mqtt reads these at every connection (it keeps the pointers we give it). */
static struct fw_creds creds;

static uint64_t now_ms(void)
{
	return (uint64_t)(esp_timer_get_time() / 1000);
}

static void lock(void)
{
	xSemaphoreTake(app_lock, portMAX_DELAY);
}

static void unlock(void)
{
	xSemaphoreGive(app_lock);
}

/* ---- the app's port: called with app_lock held ---- */

static int queue_op(enum fw_outbox_kind kind, const char *topic, const uint8_t *payload, size_t len,
		    int qos, bool retain)
{
	int rc = fw_outbox_push(&outbox, kind, topic, payload, len, qos, retain);

	xTaskNotifyGive(task);
	return rc;
}

static int port_publish(void *ctx, const char *topic, const uint8_t *payload, size_t len, int qos,
			bool retain)
{
	(void)ctx;
	return queue_op(FW_OUTBOX_PUBLISH, topic, payload, len, qos, retain);
}

static int port_subscribe(void *ctx, const char *filter, int qos)
{
	(void)ctx;
	return queue_op(FW_OUTBOX_SUBSCRIBE, filter, NULL, 0, qos, false);
}

static int port_unsubscribe(void *ctx, const char *filter)
{
	(void)ctx;
	return queue_op(FW_OUTBOX_UNSUBSCRIBE, filter, NULL, 0, 0, false);
}

/* The newest revocation list, in the provisioning namespace: kept across reboots so a broker
 * cannot hand the device an older one. Rare (a new list), so a flash write here is fine. */
static int port_persist(void *ctx, const uint8_t *list, size_t len)
{
	nvs_handle_t h;
	esp_err_t err;

	(void)ctx;
	err = nvs_open(DEVICE_NVS_NAMESPACE, NVS_READWRITE, &h);
	if (err != ESP_OK)
		return -1;
	err = nvs_set_blob(h, DEVICE_NVS_REVOCATION, list, len);
	if (err == ESP_OK)
		err = nvs_commit(h);
	nvs_close(h);
	if (err != ESP_OK)
		ESP_LOGE(TAG, "cannot keep the revocation list in NVS: %s", esp_err_to_name(err));
	return err == ESP_OK ? 0 : -1;
}

/* At boot: the list NVS kept, then the bundle's; the tunnel keeps the newest. */
static void offer_revocation(const struct device_config *cfg)
{
	size_t len = 0;
	uint8_t *kept = NULL;
	nvs_handle_t h;
	int rc;

	if (nvs_open(DEVICE_NVS_NAMESPACE, NVS_READONLY, &h) == ESP_OK) {
		if (nvs_get_blob(h, DEVICE_NVS_REVOCATION, NULL, &len) == ESP_OK &&
		    len <= MQTTIP_REVOCATION_MAX_LEN && (kept = malloc(len)) != NULL &&
		    nvs_get_blob(h, DEVICE_NVS_REVOCATION, kept, &len) == ESP_OK &&
		    (rc = fw_tunnel_offer_revocation(&tunnel, kept, len, now_ms())) < 0)
			ESP_LOGE(TAG, "kept revocation list refused: %s", revocation_strerror(rc));
		nvs_close(h);
		free(kept);
	}
	if (cfg->revocation_len &&
	    (rc = fw_tunnel_offer_revocation(&tunnel, cfg->revocation, cfg->revocation_len,
					     now_ms())) < 0 &&
	    rc != REVOCATION_ERR_OLDER)
		ESP_LOGE(TAG, "bundle: revocation list refused: %s", revocation_strerror(rc));
}

static int port_deliver(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	/* no memory or mailbox full: the engine counts it ("deliver" in status) */
	return fw_netif_input(&tun_netif, pkt, len) != 0 ? -1 : 0;
}

static bool port_wall_clock(void *ctx, uint64_t *sec, uint32_t *ns)
{
	struct timeval tv;

	(void)ctx;
	gettimeofday(&tv, NULL);
	if (tv.tv_sec < CLOCK_VALID_AFTER)
		return false;
	*sec = (uint64_t)tv.tv_sec;
	*ns = (uint32_t)tv.tv_usec * 1000;
	return true;
}

/* The engine's levels onto ESP-IDF's, so that esp_log_level_set filters them. */
static void port_log(void *ctx, enum node_log_level level, const char *line)
{
	(void)ctx;
	switch (level) {
	case NODE_LOG_DEBUG:
		ESP_LOGD(TAG, "%s", line);
		break;
	case NODE_LOG_INFO:
		ESP_LOGI(TAG, "%s", line);
		break;
	case NODE_LOG_WARN:
		ESP_LOGW(TAG, "%s", line);
		break;
	default:
		ESP_LOGE(TAG, "%s", line);
	}
}

static const struct node_ops device_port = {
    .publish = port_publish,
    .subscribe = port_subscribe,
    .unsubscribe = port_unsubscribe,
    .deliver = port_deliver,
    .wall_clock = port_wall_clock,
    .log = port_log,
    .persist = port_persist,
};

/* ---- lwIP's thread ---- */

static void netif_output(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	lock();
	fw_tunnel_output(&tunnel, pkt, len, now_ms());
	unlock();
}

static void shell_status(void *ctx, void (*emit)(void *arg, const char *text, size_t len),
			 void *arg)
{
	(void)ctx;
	lock();
	fw_tunnel_status(&tunnel, emit, arg, now_ms());
	unlock();
}

static void shell_console_write(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	fwrite(text, 1, len, stdout);
}

/* ---- esp-mqtt's task ---- */

static void log_mqtt_error(const esp_mqtt_error_codes_t *e)
{
	if (e == NULL)
		return;
	if (e->error_type == MQTT_ERROR_TYPE_TCP_TRANSPORT)
		ESP_LOGE(TAG,
			 "broker connection failed: esp-tls 0x%x, TLS stack 0x%x, certificate "
			 "verify flags 0x%x, errno %d (see README \"Troubleshooting\")",
			 e->esp_tls_last_esp_err, e->esp_tls_stack_err,
			 e->esp_tls_cert_verify_flags, e->esp_transport_sock_errno);
	else if (e->error_type == MQTT_ERROR_TYPE_CONNECTION_REFUSED)
		ESP_LOGE(TAG, "broker refused the connection: CONNACK code %d",
			 (int)e->connect_return_code);
}

/* A message that fits esp-mqtt's receive buffer comes in one event, its payload in that buffer
 * (esp_mqtt_event_t.data is not const): esp-mqtt reads the packet id and QoS before calling us
 * and nothing of the payload after, so the app opens transport messages in place there. A longer
 * message comes in chunks (data_len < total_data_len): larger than any the device takes or
 * announces (FW_RX_PAYLOAD_MAX), it is skipped whole, counted and logged (its first chunk only).
 */
static void on_data(const esp_mqtt_event_t *ev)
{
	size_t len = (size_t)ev->data_len, total = (size_t)ev->total_data_len;

	if (ev->current_data_offset != 0)
		return; /* a later chunk of a skipped message */
	if (len != total || total > FW_RX_PAYLOAD_MAX || ev->topic_len <= 0 ||
	    (size_t)ev->topic_len >= TOPIC_MAX) {
		lock();
		rx_too_large++;
		unlock();
		ESP_LOGW(TAG, "message of %u bytes skipped: the device takes at most %u",
			 (unsigned)total, (unsigned)FW_RX_PAYLOAD_MAX);
		return;
	}
	lock();
	fw_tunnel_input(&tunnel, ev->topic, (size_t)ev->topic_len, (uint8_t *)ev->data, len,
			ev->retain, now_ms());
	unlock();
}

static void on_mqtt_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
	esp_mqtt_event_handle_t ev = data;

	(void)arg;
	(void)base;
	switch ((esp_mqtt_event_id_t)id) {
	case MQTT_EVENT_CONNECTED:
		ESP_LOGI(TAG, "broker connected");
		lock();
		fw_tunnel_connected(&tunnel, now_ms());
		unlock();
		break;
	case MQTT_EVENT_DISCONNECTED:
		ESP_LOGW(TAG, "broker disconnected; esp-mqtt reconnects");
		lock();
		fw_tunnel_disconnected(&tunnel);
		unlock();
		break;
	case MQTT_EVENT_DATA:
		on_data(ev);
		break;
	case MQTT_EVENT_ERROR:
		log_mqtt_error(ev->error_handle);
		break;
	default:
		break;
	}
}

/* ---- the mqttip task: timers, and the outbox into esp-mqtt without the app's lock ---- */

/* item points into the outbox's ring: the app's pushes meanwhile leave it alone (fw_outbox.h). */
static void send_item(const struct fw_outbox_item *item)
{
	int rc = 0;

	switch (item->kind) {
	case FW_OUTBOX_PUBLISH:
		rc = esp_mqtt_client_publish(client, item->topic, (const char *)item->payload,
					     (int)item->len, item->qos, item->retain);
		break;
	case FW_OUTBOX_SUBSCRIBE:
		rc = esp_mqtt_client_subscribe_single(client, item->topic, item->qos);
		break;
	case FW_OUTBOX_UNSUBSCRIBE:
		rc = esp_mqtt_client_unsubscribe(client, item->topic);
		break;
	}
	if (rc < 0)
		ESP_LOGD(TAG, "esp-mqtt refused an operation on %s", item->topic);
}

static void mqttip_task(void *arg)
{
	uint64_t last_status = 0;

	(void)arg;
	for (;;) {
		struct fw_outbox_item item;
		bool more;

		ulTaskNotifyTake(pdTRUE, pdMS_TO_TICKS(TICK_MS));
		lock();
		fw_tunnel_tick(&tunnel, now_ms());
		if (now_ms() - last_status >= STATUS_LOG_MS) {
			struct fw_counters c = fw_tunnel_counters(&tunnel);

			last_status = now_ms();
			ESP_LOGI(TAG,
				 "rx %llu tx %llu packets, %llu handshakes, %llu drops (shell: "
				 "status), outbox full %llu, messages too large %llu",
				 (unsigned long long)c.rx_packets, (unsigned long long)c.tx_packets,
				 (unsigned long long)c.handshakes, (unsigned long long)c.drops,
				 (unsigned long long)outbox.dropped,
				 (unsigned long long)rx_too_large);
		}
		unlock();
		do {
			lock();
			more = fw_outbox_peek(&outbox, &item);
			unlock();
			if (!more)
				break;
			send_item(&item);
			lock();
			fw_outbox_release(&outbox);
			unlock();
		} while (more);
	}
}

int port_start(const struct device_config *cfg, const struct bundle *bundle)
{
	struct cert_prefix addrs[MQTTIP_CERT_MAX_ADDRS];
	struct fw_shell_ops shell = {.status = shell_status, .console_write = shell_console_write};
	esp_mqtt_client_config_t mc;
	size_t n;

	app_lock = xSemaphoreCreateMutex();
	if (app_lock == NULL)
		return -1;
	if (fw_creds_from_bundle(&creds, bundle) != 0) {
		ESP_LOGE(TAG,
			 "bundle: broker CA %u, client certificate %u and key %u bytes: more than "
			 "the %u the device keeps (FW_CREDS_MAX)",
			 (unsigned)bundle->broker_ca_len, (unsigned)bundle->client_cert_len,
			 (unsigned)bundle->client_key_len, (unsigned)FW_CREDS_MAX);
		return -1;
	}
	fw_outbox_init(&outbox);
	if (fw_tunnel_init(&tunnel, &cfg->fw, bundle, &device_port, now_ms()) != 0)
		return -1;
	if (!cfg->fw.legacy)
		offer_revocation(cfg);
	if (xTaskCreate(mqttip_task, "mqttip", TASK_STACK, NULL, 5, &task) != pdPASS)
		return -1;
	tun_netif.output = netif_output;
	n = fw_tunnel_addresses(&tunnel, addrs, MQTTIP_CERT_MAX_ADDRS);
	/* Not the default route: the broker is reached over WiFi. */
	if (fw_netif_start(&tun_netif, addrs, n, FW_MTU, false) != 0 ||
	    fw_shell_start(&shell) != 0) {
		ESP_LOGE(TAG, "cannot start the tunnel interface or the shell");
		return -1;
	}

	memset(&mc, 0, sizeof(mc));
	mc.broker.address.uri = cfg->broker_uri;
	/* DER with explicit lengths (esp-mqtt and mbedTLS take DER when a length is given). */
	mc.broker.verification.certificate = (const char *)fw_creds_broker_ca(&creds);
	mc.broker.verification.certificate_len = creds.broker_ca_len;
	mc.credentials.authentication.certificate = (const char *)fw_creds_client_cert(&creds);
	mc.credentials.authentication.certificate_len = creds.client_cert_len;
	mc.credentials.authentication.key = (const char *)fw_creds_client_key(&creds);
	mc.credentials.authentication.key_len = creds.client_key_len;
	mc.credentials.client_id = cfg->fw.legacy ? NULL : tunnel.node.id.cert.name;
	mc.session.protocol_ver = MQTT_PROTOCOL_V_3_1_1;
	mc.buffer.size = MQTT_RX_BUFFER;
	mc.buffer.out_size = MQTT_TX_BUFFER;
	mc.task.stack_size = MQTT_TASK_STACK;
	client = esp_mqtt_client_init(&mc);
	if (client == NULL)
		return -1;
	esp_mqtt_client_register_event(client, MQTT_EVENT_ANY, on_mqtt_event, NULL);
	if (esp_mqtt_client_start(client) != ESP_OK)
		return -1;
	ESP_LOGI(TAG, "tunnel up; broker %s; shell on TCP port %d", cfg->broker_uri, FW_SHELL_PORT);
	return 0;
}
