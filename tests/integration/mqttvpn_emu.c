/* mqttvpn_emu - a stand-in for a real MQTT_VPN node (martin-ger/MQTT_VPN, mqtt_vpn.c), for the
 * interoperability tests: no MQTT_VPN binary may be built or downloaded here, so this tool
 * behaves as that program does on the wire and on its TUN interface, written from its source's
 * description (not copied):
 *   - TUN interface (IFF_TUN | IFF_NO_PI) with the -a address and -m netmask, brought up;
 *   - MQTT 3.1.1, clean session, keepalive 20 s, QoS 0; client id "MQTT_VPN_<rand()>" unless -n;
 *   - subscribes to "mqttip/<addr>" and "mqttip/255.255.255.255";
 *   - every IPv4 packet read from TUN is published on "mqttip/<bytes 16..19 of the packet>"
 *     (its destination, whatever it is: unicast, subnet or limited broadcast, multicast);
 *   - with -k PASSWORD: key = first 32 bytes of SHA-512(password); each message is the 24-byte
 *     nonce followed by NaCl's classic crypto_secretbox() output (16 zero bytes, tag,
 *     ciphertext); the nonce bytes are rand() & 0xff, rand() seeded with time(NULL) at start
 *     (--seed N fixes the seed: what two nodes started in the same second share);
 *   - a message on a subscribed topic is opened (dropped if it is not longer than nonce + 32 or
 *     does not open) and written to TUN if it is at most 1500 bytes; nothing else is checked.
 * Usage: mqttvpn_emu -i IF -a ADDR -b tcp://HOST:PORT [-m MASK] [-k PASSWORD] [-n ID]
 *        [--seed N] [-d]. Runs until SIGTERM/SIGINT. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <mosquitto.h>
#include <sodium.h>

#define TOPIC_PRE "mqttip"
#define BUFSIZE	  2000

static int tun_fd = -1;
static unsigned char key[crypto_secretbox_KEYBYTES];
static bool key_set, debug;
static char own_topic[64], bcast_topic[64];
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "mqttvpn_emu: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int tun_alloc(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR);

	if (fd < 0)
		die("/dev/net/tun");
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		die("TUNSETIFF");
	return fd;
}

static void if_setup(const char *name, const char *addr, const char *mask)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	sin->sin_family = AF_INET;
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1 || ioctl(s, SIOCSIFADDR, &ifr) < 0)
		die("address");
	inet_pton(AF_INET, mask, &sin->sin_addr);
	if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
		die("netmask");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		die("flags");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		die("up");
	close(s);
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
	static unsigned char m_buf[BUFSIZE + crypto_secretbox_ZEROBYTES];
	const unsigned char *p = msg->payload;
	size_t len = (size_t)msg->payloadlen;

	(void)m;
	(void)obj;
	if (strcmp(msg->topic, own_topic) && strcmp(msg->topic, bcast_topic))
		return;
	if (key_set) {
		if (len <= crypto_secretbox_NONCEBYTES + crypto_secretbox_ZEROBYTES ||
		    len - crypto_secretbox_NONCEBYTES > sizeof(m_buf) ||
		    crypto_secretbox_open(m_buf, p + crypto_secretbox_NONCEBYTES,
					  len - crypto_secretbox_NONCEBYTES, p, key) != 0) {
			if (debug)
				fprintf(stderr, "mqttvpn_emu: decrypt error on %s\n", msg->topic);
			return;
		}
		p = m_buf + crypto_secretbox_ZEROBYTES;
		len = len - crypto_secretbox_NONCEBYTES - crypto_secretbox_ZEROBYTES;
	}
	if (len <= 1500 && write(tun_fd, p, len) < 0 && debug)
		fprintf(stderr, "mqttvpn_emu: TUN write: %s\n", strerror(errno));
}

static void on_connect(struct mosquitto *m, void *obj, int rc)
{
	(void)obj;
	if (rc) {
		fprintf(stderr, "mqttvpn_emu: broker refused: %s\n", mosquitto_connack_string(rc));
		return;
	}
	mosquitto_subscribe(m, NULL, own_topic, 0);
	mosquitto_subscribe(m, NULL, bcast_topic, 0);
	fprintf(stderr, "mqttvpn_emu: connected, subscribed to %s and %s\n", own_topic,
		bcast_topic);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"seed", required_argument, NULL, 'S'},
					     {NULL, 0, NULL, 0}};
	const char *ifname = NULL, *addr = NULL, *broker = NULL, *mask = "255.255.255.0";
	const char *cl_id = NULL;
	char host[256], id_buf[40];
	unsigned seed = (unsigned)time(NULL);
	int port = 1883, opt;
	struct mosquitto *mosq;

	while ((opt = getopt_long(argc, argv, "i:a:b:m:k:n:d", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			ifname = optarg;
			break;
		case 'a':
			addr = optarg;
			break;
		case 'b':
			broker = optarg;
			break;
		case 'm':
			mask = optarg;
			break;
		case 'k': {
			unsigned char h[crypto_hash_sha512_BYTES];

			crypto_hash_sha512(h, (const unsigned char *)optarg, strlen(optarg));
			memcpy(key, h, sizeof(key));
			key_set = true;
			break;
		}
		case 'n':
			cl_id = optarg;
			break;
		case 'd':
			debug = true;
			break;
		case 'S':
			seed = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr,
				"usage: mqttvpn_emu -i IF -a ADDR -b tcp://HOST:PORT [-m MASK] "
				"[-k PASSWORD] [-n ID] [--seed N] [-d]\n");
			return 2;
		}
	}
	if (!ifname || !addr || !broker || sscanf(broker, "tcp://%255[^:]:%d", host, &port) < 1) {
		fprintf(stderr, "mqttvpn_emu: -i, -a and -b tcp://HOST:PORT are required\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	mosquitto_lib_init(); /* before srand: it seeds rand() itself, Paho does not */
	srand(seed);	      /* mqtt_vpn.c: srand(time(NULL)) */
	if (!cl_id) {
		snprintf(id_buf, sizeof(id_buf), "MQTT_VPN_%u", (unsigned)rand());
		cl_id = id_buf;
	}
	snprintf(own_topic, sizeof(own_topic), "%s/%s", TOPIC_PRE, addr);
	snprintf(bcast_topic, sizeof(bcast_topic), "%s/255.255.255.255", TOPIC_PRE);
	tun_fd = tun_alloc(ifname);
	if_setup(ifname, addr, mask);
	{
		struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: read returns */

		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}

	mosq = mosquitto_new(cl_id, true, NULL);
	if (!mosq)
		die("mosquitto_new");
	mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	mosquitto_connect_callback_set(mosq, on_connect);
	mosquitto_message_callback_set(mosq, on_message);
	if (mosquitto_connect(mosq, host, port, 20) != MOSQ_ERR_SUCCESS)
		die("connect");
	mosquitto_loop_start(mosq);

	while (!stop) {
		static unsigned char buf[BUFSIZE], plain[BUFSIZE + crypto_secretbox_ZEROBYTES];
		static unsigned char
		    cypher[BUFSIZE + crypto_secretbox_NONCEBYTES + crypto_secretbox_ZEROBYTES];
		char topic[64];
		ssize_t n = read(tun_fd, buf, sizeof(buf));
		const void *payload = buf;
		size_t plen;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("TUN read");
		}
		if (n < 20 || (buf[0] & 0xf0) != 0x40)
			continue; /* "Invalid IPv4 packet from tun if" */
		snprintf(topic, sizeof(topic), "%s/%u.%u.%u.%u", TOPIC_PRE, buf[16], buf[17],
			 buf[18], buf[19]);
		plen = (size_t)n;
		if (key_set) {
			for (unsigned i = 0; i < crypto_secretbox_NONCEBYTES; i++)
				cypher[i] = (unsigned char)rand();
			memset(plain, 0, crypto_secretbox_ZEROBYTES);
			memcpy(plain + crypto_secretbox_ZEROBYTES, buf, plen);
			crypto_secretbox(cypher + crypto_secretbox_NONCEBYTES, plain,
					 plen + crypto_secretbox_ZEROBYTES, cypher, key);
			payload = cypher;
			plen += crypto_secretbox_NONCEBYTES + crypto_secretbox_ZEROBYTES;
		}
		mosquitto_publish(mosq, NULL, topic, (int)plen, payload, 0, false);
		if (debug)
			fprintf(stderr, "mqttvpn_emu: %zu bytes to %s\n", plen, topic);
	}
	mosquitto_disconnect(mosq);
	mosquitto_loop_stop(mosq, false);
	mosquitto_destroy(mosq);
	mosquitto_lib_cleanup();
	close(tun_fd);
	return 0;
}
