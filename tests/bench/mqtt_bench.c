/* mqtt_bench - broker throughput, one publisher to one subscriber over TLS, QoS 0.
 * Usage: mqtt_bench PORT CAFILE PUB_CERT PUB_KEY SUB_CERT SUB_KEY TOPIC SIZE COUNT
 * The subscriber listens on TOPIC; the publisher keeps at most WINDOW messages in flight (sent
 * and not yet received) so the broker's queues stay bounded and the figure is its sustained
 * rate. Prints "<messages/s> <received> <seconds>". */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>

#define WINDOW 2000

static atomic_long received;
static atomic_int subscribed;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
	(void)m;
	(void)arg;
	(void)msg;
	atomic_fetch_add(&received, 1);
}

static void on_subscribe(struct mosquitto *m, void *arg, int mid, int n, const int *granted)
{
	(void)m;
	(void)arg;
	(void)mid;
	atomic_store(&subscribed, n == 1 && granted[0] == 0 ? 1 : -1);
}

static struct mosquitto *client(int port, const char *ca, const char *cert, const char *key)
{
	struct mosquitto *m = mosquitto_new(NULL, true, NULL);

	if (m == NULL)
		return NULL;
	mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
	if (mosquitto_tls_set(m, ca, NULL, cert, key, NULL) != MOSQ_ERR_SUCCESS ||
	    mosquitto_connect(m, "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS) {
		mosquitto_destroy(m);
		return NULL;
	}
	return m;
}

int main(int argc, char **argv)
{
	struct mosquitto *sub, *pub;
	long count, sent = 0;
	size_t size;
	char *payload;
	double t0, t1;
	int port;

	if (argc != 10) {
		fprintf(stderr, "usage: mqtt_bench PORT CAFILE PUB_CERT PUB_KEY SUB_CERT SUB_KEY "
				"TOPIC SIZE COUNT\n");
		return 2;
	}
	port = atoi(argv[1]);
	size = (size_t)atol(argv[8]);
	count = atol(argv[9]);
	payload = calloc(1, size + 1);
	mosquitto_lib_init();
	sub = client(port, argv[2], argv[5], argv[6]);
	pub = client(port, argv[2], argv[3], argv[4]);
	if (payload == NULL || sub == NULL || pub == NULL) {
		fprintf(stderr, "mqtt_bench: cannot connect\n");
		return 1;
	}
	mosquitto_message_callback_set(sub, on_message);
	mosquitto_subscribe_callback_set(sub, on_subscribe);
	mosquitto_subscribe(sub, NULL, argv[7], 0);
	mosquitto_loop_start(sub);
	for (int i = 0; i < 500 && atomic_load(&subscribed) == 0; i++)
		mosquitto_loop(pub, 10, 1);
	if (atomic_load(&subscribed) != 1) {
		fprintf(stderr, "mqtt_bench: subscription refused or timed out\n");
		return 1;
	}
	t0 = now_s();
	while (atomic_load(&received) < count) {
		while (sent < count && sent - atomic_load(&received) < WINDOW) {
			if (mosquitto_publish(pub, NULL, argv[7], (int)size, payload, 0, false) !=
			    MOSQ_ERR_SUCCESS)
				break;
			sent++;
		}
		mosquitto_loop(pub, 1, 1);
		if (now_s() - t0 > 60)
			break;
	}
	t1 = now_s();
	printf("%.0f %ld %.3f\n", (double)atomic_load(&received) / (t1 - t0),
	       atomic_load(&received), t1 - t0);
	mosquitto_loop_stop(sub, true);
	mosquitto_destroy(sub);
	mosquitto_destroy(pub);
	mosquitto_lib_cleanup();
	free(payload);
	return atomic_load(&received) == count ? 0 : 1;
}
