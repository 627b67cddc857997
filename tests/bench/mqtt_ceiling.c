/* mqtt_ceiling - the raw broker ceiling between two network namespaces: one libmosquitto
 * publisher whose socket is opened in PUB_NS and one subscriber whose socket is opened in SUB_NS
 * (setns before each connect, so one process can keep a bounded window of messages in flight:
 * sent and not yet received), QoS 0, TLS with the given client certificates (plain TCP when CAFILE
 * is "-"). Usage: mqtt_ceiling PUB_NS SUB_NS PUB_HOST SUB_HOST PORT CAFILE PUB_CERT PUB_KEY
 * SUB_CERT SUB_KEY TOPIC FILTER SIZE SECONDS (NS: a path such as /var/run/netns/NAME, or "-" for
 * the current one). Prints "msgs_per_s=N bytes_per_s=N received=N". */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#define WINDOW	 1000
#define WARMUP_S 0.5

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

static int enter_ns(const char *path)
{
	if (!strcmp(path, "-"))
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = fd < 0 ? -1 : setns(fd, CLONE_NEWNET);

	if (fd >= 0)
		close(fd);
	if (rc < 0)
		perror(path);
	return rc;
}

static struct mosquitto *client(const char *ns, const char *host, int port, const char *ca,
				const char *cert, const char *key)
{
	struct mosquitto *m = mosquitto_new(NULL, true, NULL);

	if (!m || enter_ns(ns) < 0)
		return NULL;
	mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
	if ((strcmp(ca, "-") &&
	     mosquitto_tls_set(m, ca, NULL, cert, key, NULL) != MOSQ_ERR_SUCCESS) ||
	    mosquitto_connect(m, host, port, 60) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mqtt_ceiling: cannot connect to %s:%d\n", host, port);
		return NULL;
	}
	return m;
}

int main(int argc, char **argv)
{
	struct mosquitto *pub, *sub;
	char *payload;
	size_t size;
	double seconds, start, t0 = 0, end;
	long sent = 0, r0 = 0;

	if (argc != 15) {
		fprintf(stderr, "usage: mqtt_ceiling PUB_NS SUB_NS PUB_HOST SUB_HOST PORT CAFILE "
				"PUB_CERT PUB_KEY SUB_CERT SUB_KEY TOPIC FILTER SIZE SECONDS\n");
		return 2;
	}
	size = (size_t)atol(argv[13]);
	seconds = atof(argv[14]);
	payload = calloc(1, size ? size : 1);
	mosquitto_lib_init();
	sub = client(argv[2], argv[4], atoi(argv[5]), argv[6], argv[9], argv[10]);
	pub = client(argv[1], argv[3], atoi(argv[5]), argv[6], argv[7], argv[8]);
	if (!sub || !pub || !payload)
		return 1;
	mosquitto_message_callback_set(sub, on_message);
	mosquitto_subscribe_callback_set(sub, on_subscribe);
	mosquitto_subscribe(sub, NULL, argv[12], 0);
	mosquitto_loop_start(sub);
	mosquitto_loop_start(pub);
	for (int i = 0; i < 500 && !atomic_load(&subscribed); i++)
		usleep(10000);
	if (atomic_load(&subscribed) != 1) {
		fprintf(stderr, "mqtt_ceiling: subscription to %s refused\n", argv[12]);
		return 1;
	}
	start = now_s();
	end = start + WARMUP_S + seconds;
	while (now_s() < end) {
		if (!t0 && now_s() >= start + WARMUP_S) {
			t0 = now_s();
			r0 = atomic_load(&received);
		}
		if (sent - atomic_load(&received) >= WINDOW) {
			usleep(50);
			continue;
		}
		if (mosquitto_publish(pub, NULL, argv[11], (int)size, payload, 0, false) ==
		    MOSQ_ERR_SUCCESS)
			sent++;
	}
	{
		long got = atomic_load(&received) - r0;
		double dt = now_s() - t0;

		printf("msgs_per_s=%.0f bytes_per_s=%.0f received=%ld\n", got / dt,
		       got * (double)size / dt, got);
	}
	mosquitto_disconnect(pub);
	mosquitto_disconnect(sub);
	mosquitto_loop_stop(pub, false);
	mosquitto_loop_stop(sub, false);
	mosquitto_destroy(pub);
	mosquitto_destroy(sub);
	mosquitto_lib_cleanup();
	free(payload);
	return 0;
}
