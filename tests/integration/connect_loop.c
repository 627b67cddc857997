/* connect_loop - opens and closes N MQTT connections over TLS with a client certificate, one
 * after the other (a broker stress for the plugin's per-connection cache).
 * Usage: connect_loop N PORT CAFILE CERT KEY. Exit 0 when every CONNACK was a success. */
#include <stdio.h>
#include <stdlib.h>

#include <mosquitto.h>

static void on_connect(struct mosquitto *m, void *arg, int rc)
{
	(void)m;
	*(int *)arg = rc;
}

int main(int argc, char **argv)
{
	int n, port, failed = 0;

	if (argc != 6) {
		fprintf(stderr, "usage: connect_loop N PORT CAFILE CERT KEY\n");
		return 2;
	}
	n = atoi(argv[1]);
	port = atoi(argv[2]);
	mosquitto_lib_init();
	for (int i = 0; i < n; i++) {
		int connack = -1;
		struct mosquitto *m = mosquitto_new(NULL, true, &connack);

		if (m == NULL) {
			failed++;
			continue;
		}
		mosquitto_connect_callback_set(m, on_connect);
		mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
		if (mosquitto_tls_set(m, argv[3], NULL, argv[4], argv[5], NULL) ||
		    mosquitto_connect(m, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS) {
			failed++;
			mosquitto_destroy(m);
			continue;
		}
		for (int k = 0; k < 50 && connack < 0; k++) {
			if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS)
				break;
		}
		if (connack != 0)
			failed++;
		mosquitto_disconnect(m);
		mosquitto_loop(m, 10, 1);
		mosquitto_destroy(m);
	}
	mosquitto_lib_cleanup();
	printf("%d connections, %d failed\n", n, failed);
	return failed == 0 ? 0 : 1;
}
