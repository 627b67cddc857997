/* mqttip-device: the firmware app on Linux, one process = one simulated device with its own lwIP
 * stack (Debian's liblwip, NO_SYS=0 with its pthread port, as on ESP-IDF) and libmosquitto over
 * TLS with the node bundle in place of esp-mqtt and NVS. Standard input is the serial console
 * (the shell's commands); the log goes to standard error. SIGINT/SIGTERM stop it cleanly. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "lwip/sys.h"
#include "lwip/tcpip.h"

#include "bundle.h"
#include "fw_creds.h"
#include "fw_netif.h"
#include "fw_shell.h"
#include "fw_tunnel.h"

#define EXIT_USAGE     2
#define BROKER_WARN_MS 10000

static struct fw_tunnel tunnel;
static struct bundle bundle; /* at start only, as on the device */
static struct fw_creds creds;
static struct fw_netif tun_netif;
static pthread_mutex_t app_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mosquitto *mosq;
/* The device's receive buffer (esp-mqtt's on the ESP32): a whole message the device takes. */
static uint8_t rx_buf[FW_RX_PAYLOAD_MAX];
static volatile sig_atomic_t stopping;
static const char *broker_url;
static bool broker_up; /* under app_lock */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void log_line(const char *line)
{
	fprintf(stderr, "mqttip-device: %s\n", line);
}

/* ---- the port the app runs on ---- */

static int port_publish(void *ctx, const char *topic, const uint8_t *payload, size_t len, int qos,
			bool retain)
{
	(void)ctx;
	return mosquitto_publish(mosq, NULL, topic, (int)len, payload, qos, retain) ==
		       MOSQ_ERR_SUCCESS
		   ? 0
		   : -1;
}

static int port_subscribe(void *ctx, const char *filter, int qos)
{
	(void)ctx;
	return mosquitto_subscribe(mosq, NULL, filter, qos) == MOSQ_ERR_SUCCESS ? 0 : -1;
}

static int port_unsubscribe(void *ctx, const char *filter)
{
	(void)ctx;
	return mosquitto_unsubscribe(mosq, NULL, filter) == MOSQ_ERR_SUCCESS ? 0 : -1;
}

static int port_deliver(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	return fw_netif_input(&tun_netif, pkt, len) != 0 ? -1 : 0;
}

static bool port_wall_clock(void *ctx, uint64_t *sec, uint32_t *ns)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	*sec = (uint64_t)ts.tv_sec;
	*ns = (uint32_t)ts.tv_nsec;
	return true;
}

static void port_log(void *ctx, enum node_log_level level, const char *line)
{
	static const char *const prefix[] = {"debug: ", "", "warning: ", "error: "};

	(void)ctx;
	fprintf(stderr, "mqttip-device: %s%s\n", prefix[level], line);
}

static int port_persist(void *ctx, const uint8_t *list, size_t len);

static const struct node_ops device_port = {
    .publish = port_publish,
    .subscribe = port_subscribe,
    .unsubscribe = port_unsubscribe,
    .deliver = port_deliver,
    .wall_clock = port_wall_clock,
    .log = port_log,
    .persist = port_persist,
};

/* lwIP's thread: a packet the device's stack sends into the tunnel. */
static void netif_output(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	pthread_mutex_lock(&app_lock);
	fw_tunnel_output(&tunnel, pkt, len, now_ms());
	pthread_mutex_unlock(&app_lock);
}

static void shell_status(void *ctx, void (*emit)(void *arg, const char *text, size_t len),
			 void *arg)
{
	(void)ctx;
	pthread_mutex_lock(&app_lock);
	fw_tunnel_status(&tunnel, emit, arg, now_ms());
	pthread_mutex_unlock(&app_lock);
}

static void shell_console_write(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	fwrite(text, 1, len, stdout);
	fflush(stdout);
}

/* ---- MQTT (libmosquitto's thread) ---- */

static void on_connect(struct mosquitto *m, void *obj, int rc)
{
	(void)m;
	(void)obj;
	if (rc != 0) {
		fprintf(stderr, "mqttip-device: broker refused the connection: %s\n",
			mosquitto_connack_string(rc));
		return;
	}
	log_line("broker connected");
	pthread_mutex_lock(&app_lock);
	broker_up = true;
	fw_tunnel_connected(&tunnel, now_ms());
	pthread_mutex_unlock(&app_lock);
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc)
{
	(void)m;
	(void)obj;
	if (!stopping)
		fprintf(stderr, "mqttip-device: broker connection lost (%s); reconnecting\n",
			mosquitto_strerror(rc));
	pthread_mutex_lock(&app_lock);
	broker_up = false;
	fw_tunnel_disconnected(&tunnel);
	pthread_mutex_unlock(&app_lock);
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
	(void)m;
	(void)obj;
	if (msg->payloadlen < 0 || (size_t)msg->payloadlen > sizeof(rx_buf)) {
		/* as the ESP32 port: larger than the device announces or takes */
		fprintf(
		    stderr,
		    "mqttip-device: message of %d bytes on %s skipped: the device takes at most "
		    "%u\n",
		    msg->payloadlen, msg->topic, (unsigned)FW_RX_PAYLOAD_MAX);
		return;
	}
	memcpy(rx_buf, msg->payload, (size_t)msg->payloadlen);
	pthread_mutex_lock(&app_lock);
	fw_tunnel_input(&tunnel, msg->topic, strlen(msg->topic), rx_buf, (size_t)msg->payloadlen,
			msg->retain, now_ms());
	pthread_mutex_unlock(&app_lock);
}

/* libmosquitto's own errors say why a connection fails (TLS verification, refused socket). */
static void on_log(struct mosquitto *m, void *obj, int level, const char *text)
{
	(void)m;
	(void)obj;
	if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))
		fprintf(stderr, "mqttip-device: mqtt: %s\n", text);
}

/* TLS from the DER blocks the device keeps (fw_creds.h), in memory: the broker CA as the only
 * trust anchor, and the client certificate and key. */
static SSL_CTX *tls_context(const struct fw_creds *c)
{
	const unsigned char *p;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	X509 *ca = NULL;
	EVP_PKEY *key = NULL;

	if (ctx == NULL)
		return NULL;
	p = fw_creds_broker_ca(c);
	ca = d2i_X509(NULL, &p, (long)c->broker_ca_len);
	p = fw_creds_client_key(c);
	key = d2i_AutoPrivateKey(NULL, &p, (long)c->client_key_len);
	if (ca == NULL || key == NULL || !X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca) ||
	    SSL_CTX_use_certificate_ASN1(ctx, (int)c->client_cert_len, fw_creds_client_cert(c)) !=
		1 ||
	    SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		SSL_CTX_free(ctx);
		ctx = NULL;
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	}
	X509_free(ca);
	EVP_PKEY_free(key);
	return ctx;
}

/* ---- start-up ---- */

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: mqttip-device --bundle FILE --broker URL [options]\n"
	    "  --bundle FILE       node bundle from 'mqttip pki issue' (as in the device's NVS)\n"
	    "  --broker URL        mqtts://HOST:PORT (TLS with the bundle's client certificate)\n"
	    "  --prefix P          topic prefix (default " MQTTIP_TOPIC_PREFIX ")\n"
	    "  --legacy-psk PASS   legacy MQTT_VPN mode with this password; needs --addr\n"
	    "  --addr ADDR/LEN     legacy mode: the device's IPv4 address\n"
	    "  --state FILE        where the newest VPN revocation list is kept (NVS on a device)\n"
	    "Standard input is the serial console: help, status, echo, ping.\n");
}

/* The bundle's revocation list (optional block), offered to the tunnel at start. */
static uint8_t bundle_revocation[MQTTIP_REVOCATION_MAX_LEN];
static size_t bundle_revocation_len;
static const char *state_path;

static int read_bundle(const char *path)
{
	static char text[BUNDLE_TEXT_MAX];
	long n;
	const char *what = NULL;
	FILE *f = fopen(path, "r");
	size_t len;

	if (f == NULL) {
		fprintf(stderr, "mqttip-device: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	len = fread(text, 1, sizeof(text), f);
	fclose(f);
	if (len == sizeof(text) || bundle_parse(text, len, &bundle, &what) != 0) {
		fprintf(stderr,
			"mqttip-device: %s is not a node bundle (%s block missing or bad)\n", path,
			what ? what : "too large;");
		sodium_memzero(text, sizeof(text));
		return -1;
	}
	n = bundle_block_find(text, len, BUNDLE_LABEL_REVOCATION, bundle_revocation,
			      sizeof(bundle_revocation));
	bundle_revocation_len = n > 0 ? (size_t)n : 0;
	sodium_memzero(text, sizeof(text));
	return 0;
}

/* The NVS stand-in: the list's bytes in one file, replaced atomically. */
static int port_persist(void *ctx, const uint8_t *list, size_t len)
{
	char tmp[4096];
	FILE *f;

	(void)ctx;
	if (!state_path)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", state_path);
	f = fopen(tmp, "wb");
	if (!f || fwrite(list, 1, len, f) != len || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	return rename(tmp, state_path);
}

/* At start: the kept list, then the bundle's; the tunnel keeps the newest. */
static void offer_revocation(void)
{
	static uint8_t kept[MQTTIP_REVOCATION_MAX_LEN];
	FILE *f = state_path ? fopen(state_path, "rb") : NULL;
	size_t len = 0;
	int rc;

	if (f) {
		len = fread(kept, 1, sizeof(kept), f);
		fclose(f);
	}
	if (len && (rc = fw_tunnel_offer_revocation(&tunnel, kept, len, now_ms())) < 0)
		fprintf(stderr, "mqttip-device: %s: revocation list refused: %s\n", state_path,
			revocation_strerror(rc));
	if (bundle_revocation_len &&
	    (rc = fw_tunnel_offer_revocation(&tunnel, bundle_revocation, bundle_revocation_len,
					     now_ms())) < 0 &&
	    rc != REVOCATION_ERR_OLDER)
		fprintf(stderr, "mqttip-device: bundle: revocation list refused: %s\n",
			revocation_strerror(rc));
}

static int parse_broker(const char *url, char *host, size_t cap, int *port_out)
{
	const char *rest, *colon;
	char *end;
	long port;

	if (strncmp(url, "mqtts://", 8) == 0)
		rest = url + 8;
	else if (strncmp(url, "ssl://", 6) == 0)
		rest = url + 6;
	else
		return -1;
	colon = strrchr(rest, ':');
	if (colon == NULL || (size_t)(colon - rest) >= cap || colon == rest)
		return -1;
	memcpy(host, rest, (size_t)(colon - rest));
	host[colon - rest] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		return -1;
	*port_out = (int)port;
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void lwip_ready(void *arg)
{
	sys_sem_signal(arg);
}

static void console_loop(void)
{
	char line[FW_SHELL_LINE_MAX];
	size_t len = 0;
	bool console = true;
	uint64_t last_warning = now_ms();

	while (!stopping) {
		struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
		int n = poll(&pfd, console ? 1 : 0, 100);

		if (n > 0) {
			char c;
			ssize_t r = read(STDIN_FILENO, &c, 1);

			if (r <= 0) {
				console = false;
			} else if (c == '\n') {
				line[len] = '\0';
				fw_shell_console_line(line);
				len = 0;
			} else if (len + 1 < sizeof(line)) {
				line[len++] = c;
			}
		}
		pthread_mutex_lock(&app_lock);
		fw_tunnel_tick(&tunnel, now_ms());
		/* libmosquitto retries in silence when the broker does not answer at all. */
		if (broker_up) {
			last_warning = now_ms();
		} else if (now_ms() - last_warning >= BROKER_WARN_MS) {
			last_warning = now_ms();
			fprintf(stderr,
				"mqttip-device: broker %s: not connected (unreachable, or refusing "
				"us); retrying\n",
				broker_url);
		}
		pthread_mutex_unlock(&app_lock);
	}
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"bundle", required_argument, NULL, 'b'}, {"broker", required_argument, NULL, 'u'},
	    {"prefix", required_argument, NULL, 't'}, {"legacy-psk", required_argument, NULL, 'k'},
	    {"addr", required_argument, NULL, 'a'},   {"state", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	static struct fw_config cfg;
	const char *bundle_path = NULL, *broker = NULL, *addr = NULL;
	struct cert_prefix addrs[MQTTIP_CERT_MAX_ADDRS];
	struct fw_shell_ops shell = {.status = shell_status, .console_write = shell_console_write};
	char host[256];
	int opt, broker_port, rc = 1;
	size_t n_addrs;
	sys_sem_t ready;
	SSL_CTX *tls;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'b':
			bundle_path = optarg;
			break;
		case 'u':
			broker = optarg;
			break;
		case 't':
			snprintf(cfg.prefix, sizeof(cfg.prefix), "%s", optarg);
			break;
		case 'k':
			cfg.legacy = true;
			snprintf(cfg.legacy_password, sizeof(cfg.legacy_password), "%s", optarg);
			break;
		case 'a':
			addr = optarg;
			break;
		case 's':
			state_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || !bundle_path || !broker ||
	    parse_broker(broker, host, sizeof(host), &broker_port) != 0 || cfg.legacy != !!addr ||
	    (addr && netaddr_parse_prefix(addr, strlen(addr), &cfg.legacy_addr,
					  &cfg.legacy_prefix_len) != 0)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (sodium_init() < 0 || read_bundle(bundle_path) != 0)
		return 1;
	if (fw_creds_from_bundle(&creds, &bundle) != 0) {
		fprintf(
		    stderr,
		    "mqttip-device: %s: broker CA %zu, client certificate %zu and key %zu bytes: "
		    "more than the %u the device keeps (FW_CREDS_MAX)\n",
		    bundle_path, bundle.broker_ca_len, bundle.client_cert_len,
		    bundle.client_key_len, (unsigned)FW_CREDS_MAX);
		goto out;
	}
	if (fw_tunnel_init(&tunnel, &cfg, &bundle, &device_port, now_ms()) != 0)
		goto out;
	bundle_wipe(&bundle); /* the tunnel and creds keep what they need, as on the device */
	if (!cfg.legacy)
		offer_revocation();

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (sys_sem_new(&ready, 0) != ERR_OK)
		goto out;
	tcpip_init(lwip_ready, &ready);
	sys_sem_wait(&ready);
	sys_sem_free(&ready);
	tun_netif.output = netif_output;
	n_addrs = fw_tunnel_addresses(&tunnel, addrs, MQTTIP_CERT_MAX_ADDRS);
	if (fw_netif_start(&tun_netif, addrs, n_addrs, FW_MTU, true) != 0 ||
	    fw_shell_start(&shell) != 0) {
		log_line("cannot start the lwIP interface or the shell");
		goto out;
	}

	mosquitto_lib_init();
	mosq = mosquitto_new(tunnel.legacy ? NULL : tunnel.node.id.cert.name, true, NULL);
	tls = mosq ? tls_context(&creds) : NULL;
	if (tls == NULL) {
		fprintf(stderr, "mqttip-device: the bundle's broker credentials are unusable: %s\n",
			ERR_reason_error_string(ERR_get_error()));
		goto out;
	}
	mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	/* Our context as is: libmosquitto's defaults would want CA files on disk. */
	mosquitto_int_option(mosq, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0);
	mosquitto_void_option(mosq, MOSQ_OPT_SSL_CTX, tls);
	SSL_CTX_free(tls); /* libmosquitto holds its own reference */
	mosquitto_connect_callback_set(mosq, on_connect);
	mosquitto_disconnect_callback_set(mosq, on_disconnect);
	mosquitto_message_callback_set(mosq, on_message);
	mosquitto_log_callback_set(mosq, on_log);
	mosquitto_reconnect_delay_set(mosq, 1, 30, true);
	broker_url = broker;
	rc = mosquitto_connect_async(mosq, host, broker_port, 30);
	if (rc != MOSQ_ERR_SUCCESS)
		fprintf(stderr, "mqttip-device: broker %s: %s; retrying\n", broker,
			rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
	rc = 1;
	if (mosquitto_loop_start(mosq) != MOSQ_ERR_SUCCESS) {
		log_line("cannot start the MQTT thread");
		goto out;
	}
	log_line("running; console on standard input");
	console_loop();
	log_line("stopping");
	mosquitto_disconnect(mosq);
	mosquitto_loop_stop(mosq, false);
	rc = 0;
out:
	if (mosq)
		mosquitto_destroy(mosq);
	mosquitto_lib_cleanup();
	pthread_mutex_lock(&app_lock);
	fw_tunnel_wipe(&tunnel);
	pthread_mutex_unlock(&app_lock);
	bundle_wipe(&bundle);
	fw_creds_wipe(&creds);
	return rc;
}
