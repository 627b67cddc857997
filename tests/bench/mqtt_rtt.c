/* mqtt_rtt - the raw MQTT round trip between two network namespaces, the baseline of a ping
 * through the tunnel: client A (socket opened in A_NS) publishes 64 bytes on TOPIC_AB, client B
 * (socket opened in B_NS) subscribed to it publishes them back on TOPIC_BA from its message
 * callback, and A, subscribed to TOPIC_BA, takes the time. QoS 0, one message in flight, COUNT
 * round trips INTERVAL_MS apart (a ping's pattern). A and B are two processes, as two nodes are,
 * each driving its client from one thread with poll() and mosquitto_loop_read/write as the agent
 * does (no libmosquitto thread in the path); TLS with the given client certificates, or plain TCP
 * when CAFILE is "-".
 * Usage: mqtt_rtt A_NS B_NS A_HOST B_HOST PORT CAFILE A_CERT A_KEY B_CERT B_KEY TOPIC_AB TOPIC_BA
 *                 COUNT INTERVAL_MS [SAMPLES_FILE]
 * (SAMPLES_FILE: every round trip is appended to it, in ms, one a line, for a caller that pools
 * several runs)
 * (NS: a path such as /var/run/netns/NAME, or "-" for the current one). Prints
 * "count=N min_ms=X median_ms=X p99_ms=X". */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#define PAYLOAD	   64
#define TIMEOUT_MS 1000

static const char *topic_echo; /* B publishes what it receives here */
static bool is_b, subscribed, refused, answered;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int enter_ns(const char *path)
{
	int fd, rc;

	if (!strcmp(path, "-"))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	rc = fd < 0 ? -1 : setns(fd, CLONE_NEWNET);
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		perror(path);
	return rc;
}

static void on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
	(void)arg;
	if (is_b)
		mosquitto_publish(m, NULL, topic_echo, msg->payloadlen, msg->payload, 0, false);
	else
		answered = true;
}

static void on_subscribe(struct mosquitto *m, void *arg, int mid, int n, const int *granted)
{
	(void)m;
	(void)arg;
	(void)mid;
	if (n == 1 && granted[0] == 0)
		subscribed = true;
	else
		refused = true;
}

static struct mosquitto *client(const char *ns, const char *host, int port, const char *ca,
				const char *cert, const char *key, const char *filter)
{
	struct mosquitto *m = mosquitto_new(NULL, true, NULL);

	if (!m || enter_ns(ns) < 0)
		return NULL;
	mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_message_callback_set(m, on_message);
	mosquitto_subscribe_callback_set(m, on_subscribe);
	if ((strcmp(ca, "-") && mosquitto_tls_set(m, ca, NULL, cert, key, NULL)) ||
	    mosquitto_connect(m, host, port, 60) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mqtt_rtt: cannot connect to %s:%d\n", host, port);
		return NULL;
	}
	mosquitto_subscribe(m, NULL, filter, 0);
	return m;
}

/* Serves the client until *flag, or until timeout_ms passed (flag NULL: the whole time), or until
 * fd (-1: none) becomes readable; -1 when the connection failed. */
static int pump(struct mosquitto *m, const bool *flag, double timeout_ms, int fd)
{
	double end = now_ms() + timeout_ms;

	while (!(flag && *flag) && !refused) {
		struct pollfd p[2] = {{mosquitto_socket(m), POLLIN, 0}, {fd, POLLIN, 0}};
		double left = end - now_ms();

		if (left <= 0)
			return 0;
		if (mosquitto_want_write(m))
			p[0].events |= POLLOUT;
		if (poll(p, fd >= 0 ? 2 : 1, (int)left + 1) < 0)
			return -1;
		if ((p[0].revents & POLLIN) && mosquitto_loop_read(m, 1) != MOSQ_ERR_SUCCESS)
			return -1;
		if (mosquitto_want_write(m) && mosquitto_loop_write(m, 1) != MOSQ_ERR_SUCCESS)
			return -1;
		if (fd >= 0 && p[1].revents)
			return 0;
	}
	return refused ? -1 : 0;
}

/* B: echoes until the parent closes its end of the pipe; writes one byte once subscribed. */
static int run_b(char **argv, int ready, int quit)
{
	struct mosquitto *m;

	is_b = true;
	topic_echo = argv[12];
	m = client(argv[2], argv[4], atoi(argv[5]), argv[6], argv[9], argv[10], argv[11]);
	if (!m || pump(m, &subscribed, 5000, -1) || !subscribed) {
		fprintf(stderr, "mqtt_rtt: B's subscription to %s refused\n", argv[11]);
		return 1;
	}
	if (write(ready, "", 1) != 1)
		return 1;
	close(ready);
	pump(m, NULL, 1e9, quit);
	mosquitto_destroy(m);
	return 0;
}

static int cmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

int main(int argc, char **argv)
{
	uint8_t payload[PAYLOAD] = {0};
	int ready[2], quit[2], n = 0, status = 1;
	struct mosquitto *m;
	double *samples;
	long count, interval;
	pid_t b;
	char c;

	if (argc != 15 && argc != 16) {
		fprintf(stderr,
			"usage: mqtt_rtt A_NS B_NS A_HOST B_HOST PORT CAFILE A_CERT A_KEY "
			"B_CERT B_KEY TOPIC_AB TOPIC_BA COUNT INTERVAL_MS [SAMPLES_FILE]\n");
		return 2;
	}
	count = atol(argv[13]);
	interval = atol(argv[14]);
	samples = calloc(count > 0 ? (size_t)count : 1, sizeof(*samples));
	if (!samples || count <= 0 || pipe(ready) || pipe(quit))
		return 2;
	mosquitto_lib_init();
	b = fork();
	if (b == 0) {
		close(ready[0]);
		close(quit[1]);
		_exit(run_b(argv, ready[1], quit[0]));
	}
	close(ready[1]);
	close(quit[0]);
	if (b < 0 || read(ready[0], &c, 1) != 1)
		goto out;
	m = client(argv[1], argv[3], atoi(argv[5]), argv[6], argv[7], argv[8], argv[12]);
	if (!m || pump(m, &subscribed, 5000, -1) || !subscribed) {
		fprintf(stderr, "mqtt_rtt: A's subscription to %s refused\n", argv[12]);
		goto out;
	}
	for (long i = 0; i < count; i++) {
		double t0 = now_ms();

		answered = false;
		if (mosquitto_publish(m, NULL, argv[11], PAYLOAD, payload, 0, false) ||
		    pump(m, &answered, TIMEOUT_MS, -1))
			goto out;
		if (answered)
			samples[n++] = now_ms() - t0;
		if (pump(m, NULL, (double)interval, -1))
			goto out;
	}
	if (n == 0) {
		fprintf(stderr, "mqtt_rtt: no answer\n");
		goto out;
	}
	if (argc == 16) {
		FILE *f = fopen(argv[15], "a");

		for (int i = 0; f && i < n; i++)
			fprintf(f, "%.3f\n", samples[i]);
		if (!f || fclose(f)) {
			perror(argv[15]);
			goto out;
		}
	}
	qsort(samples, (size_t)n, sizeof(*samples), cmp);
	printf("count=%d min_ms=%.3f median_ms=%.3f p99_ms=%.3f\n", n, samples[0],
	       samples[(n - 1) / 2], samples[(n * 99 + 99) / 100 - 1]);
	mosquitto_destroy(m);
	status = 0;
out:
	close(quit[1]);
	if (b > 0)
		waitpid(b, NULL, 0);
	mosquitto_lib_cleanup();
	free(samples);
	return status;
}
