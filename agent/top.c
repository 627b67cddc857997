/* top.c - `mqttip top`: the metrics viewer. The plugin publishes its document retained, so a
 * viewer gets the latest one as soon as it subscribes, and each document counts what happened
 * since the previous one ("window"), so rates come from one document: window count / (time -
 * window_start). A document without a window (a plugin older than that) falls back to the
 * difference of two consecutive documents. docs/METRICS.md. */
#define _POSIX_C_SOURCE 200809L /* isatty, poll, sigaction, termios */
#include "top.h"

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mosquitto.h>

#include "broker.h"
#include "cli.h"
#include "commands.h"
#include "keyperms.h"
#include "proto.h"

#define TOP_HOST_MAX	    256
#define TOP_DEFAULT_TIMEOUT 30
#define TOP_LOOP_MS	    200 /* how soon a key press or a signal is noticed */
#define TOP_REDRAW_S	    5	/* interactive: the document's age is redrawn this often */
#define TOP_HINT_AFTER_S    15	/* interactive: no document this long: list the causes */
#define TOP_STALE_SLACK_S   5	/* clock differences between broker and viewer */

/* Why no document arrives, for the messages that say so. */
#define TOP_NO_DOCUMENT_CAUSES                                                                     \
	"the mqttip plugin is not loaded on this broker; or plugin_opt_metrics_interval is 0; or " \
	"(a plugin older than this mqttip) per_listener_settings true on mosquitto before "        \
	"2.0.15, "                                                                                 \
	"which never ticks the plugin. The broker's log says which"

struct top {
	bool once, interactive, keys;
	int timeout_s;
	int suback; /* -1 waiting, 0 granted, 1 refused */
	bool done, failed;
	cJSON *previous; /* the document before the current one (rates without a window) */
	cJSON *current;	 /* the last document received */
	int shown;
	char where[TOP_HOST_MAX + 16]; /* host:port, for the messages */
	time_t started, drawn;
};

static volatile sig_atomic_t stop_requested;
static struct termios saved_termios;
static bool termios_changed;

static void usage(FILE *out, const void *ctx)
{
	(void)ctx;
	fprintf(out,
		"Usage: mqttip top --broker mqtts://HOST:PORT --cert FILE --key FILE "
		"--cafile FILE [--once] [--timeout SECONDS] [--strict-perms]\n"
		"Shows the broker plugin's metrics (needs a certificate the broker policy marks "
		"admin); q quits.\n--once prints one snapshot and exits; --timeout bounds the wait "
		"for it (default %d s).\n--strict-perms refuses a --key file that group or others "
		"can access (default: a warning).\n",
		TOP_DEFAULT_TIMEOUT);
}

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Key presses one at a time, without echo, so that q quits; the terminal is restored on every
 * way out (q, SIGINT, SIGTERM, errors). */
static bool keys_on(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_termios) < 0)
		return false;
	t = saved_termios;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) < 0)
		return false;
	termios_changed = true;
	return true;
}

static void keys_off(void)
{
	if (termios_changed)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
	termios_changed = false;
}

static bool quit_pressed(void)
{
	struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
	char c;

	while (poll(&p, 1, 0) > 0 && read(STDIN_FILENO, &c, 1) == 1) {
		if (c == 'q' || c == 'Q')
			return true;
	}
	return false;
}

static double number(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *string(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *node_named(const cJSON *doc, const char *name)
{
	const cJSON *n;

	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(doc, "nodes"))
	{
		const char *nm = string(n, "name");

		if (nm != NULL && strcmp(nm, name) == 0)
			return n;
	}
	return NULL;
}

/* Seconds the document's window covers, 0 when it has none (or an empty one). */
static double window_span(const cJSON *doc)
{
	if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(doc, "window_start")))
		return 0;
	return number(doc, "time") - number(doc, "window_start");
}

/* Rate of key per second for one counters object, or -1 when unknown: from the document's own
 * window, else from the previous document. */
static double rate(const cJSON *doc, const cJSON *prev_doc, const cJSON *prev, const cJSON *cur,
		   const char *key)
{
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(cur, "window");
	double span = window_span(doc), dt;

	if (cJSON_IsObject(w) && span > 0)
		return number(w, key) / span;
	if (prev == NULL || prev_doc == NULL)
		return -1;
	dt = number(doc, "time") - number(prev_doc, "time");
	return dt > 0 ? (number(cur, key) - number(prev, key)) / dt : -1;
}

static void cell_rate(double r)
{
	if (r < 0)
		printf(" %10s", "-");
	else
		printf(" %10.1f", r);
}

static void row(const char *name, const cJSON *doc, const cJSON *prev_doc, const cJSON *prev,
		const cJSON *cur)
{
	double last = number(cur, "last_activity"), now = number(doc, "time");
	const cJSON *addrs = cJSON_GetObjectItemCaseSensitive(cur, "addresses");
	const cJSON *first = cJSON_GetArrayItem(addrs, 0);

	printf("%-16.16s %3.0f %-17.17s", name, number(cur, "online"),
	       cJSON_IsString(first) ? first->valuestring : "-");
	cell_rate(rate(doc, prev_doc, prev, cur, "published_msgs"));
	cell_rate(rate(doc, prev_doc, prev, cur, "delivered_msgs"));
	cell_rate(rate(doc, prev_doc, prev, cur, "published_bytes"));
	cell_rate(rate(doc, prev_doc, prev, cur, "delivered_bytes"));
	printf(" %6.0f %6.0f/%.0f/%.0f", number(cur, "handshake_msgs"),
	       number(cur, "denied_subscribe"), number(cur, "denied_publish"),
	       number(cur, "denied_read"));
	if (last > 0)
		printf(" %6.0fs\n", now - last);
	else
		printf(" %7s\n", "-");
}

/* What is wrong with the document shown, if anything: the plugin's own warning, or its age. */
static void notices(const cJSON *doc)
{
	const char *warning = string(doc, "warning");
	double interval = number(doc, "interval");
	double age = (double)time(NULL) - number(doc, "time");

	if (warning != NULL)
		printf("WARNING from the plugin: %s\n", warning);
	else if (interval > 0 && age > 2 * interval + TOP_STALE_SLACK_S)
		printf(
		    "NOTE: this document is %.0f s old, and the plugin publishes one every %.0f s: "
		    "the broker has stopped publishing them (mosquitto before 2.0.15 never ticks "
		    "the plugin with per_listener_settings true; see the broker's log)\n",
		    age, interval);
}

static void table(const struct top *t)
{
	const cJSON *doc = t->current, *prev_doc = t->previous, *n;
	const char *prefix = string(doc, "prefix");
	const cJSON *total = cJSON_GetObjectItemCaseSensitive(doc, "total");
	const cJSON *anon = cJSON_GetObjectItemCaseSensitive(doc, "anonymous");
	time_t when = (time_t)number(doc, "time");
	struct tm tm;
	char clock[16] = "?";
	double span = window_span(doc);

	if (localtime_r(&when, &tm) != NULL)
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	printf("mqttip top - %s, prefix %s, %.0f nodes, %.0f online, document of %s (every %.0f s)",
	       t->where, prefix != NULL ? prefix : "?", number(total, "nodes"),
	       number(total, "online"), clock, number(doc, "interval"));
	if (span > 0)
		printf(", rates over %.0f s", span);
	printf("\n");
	notices(doc);
	printf("\n%-16s %3s %-17s %10s %10s %10s %10s %6s %s\n", "NODE", "ON", "ADDRESS", "PUB/s",
	       "DLV/s", "PUB B/s", "DLV B/s", "HSHAKE", "DENIED s/p/r  IDLE");
	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(doc, "nodes"))
	{
		const char *nm = string(n, "name");

		if (nm == NULL)
			continue;
		row(nm, doc, prev_doc, prev_doc ? node_named(prev_doc, nm) : NULL, n);
	}
	row("(no identity)", doc, prev_doc, cJSON_GetObjectItemCaseSensitive(prev_doc, "anonymous"),
	    anon);
	row("TOTAL", doc, prev_doc, cJSON_GetObjectItemCaseSensitive(prev_doc, "total"), total);
}

/* Interactive: the whole screen, at once and then on every document and every few seconds. */
static void draw(struct top *t)
{
	time_t now = time(NULL);

	if (t->interactive)
		fputs("\033[H\033[2J", stdout);
	if (t->current != NULL) {
		table(t);
	} else {
		printf("mqttip top - waiting for the first metrics document from %s (%s)%s\n",
		       t->where, MQTTIP_METRICS_TOPIC,
		       t->suback == 0 ? ", subscribed" : ", connecting");
		if (now - t->started >= TOP_HINT_AFTER_S)
			printf("\nNothing after %lld s. Causes: %s.\n",
			       (long long)(now - t->started), TOP_NO_DOCUMENT_CAUSES);
	}
	if (t->keys)
		printf("\n(q quits)\n");
	fflush(stdout);
	t->drawn = now;
}

static void on_connect(struct mosquitto *m, void *arg, int rc)
{
	struct top *t = arg;

	if (rc != 0) {
		keys_off();
		fprintf(stderr, "mqttip top: broker refused the connection: %s\n",
			mosquitto_connack_string(rc));
		t->done = t->failed = true;
		return;
	}
	mosquitto_subscribe(m, NULL, MQTTIP_METRICS_TOPIC, 0);
}

static void on_subscribe(struct mosquitto *m, void *arg, int mid, int count, const int *granted)
{
	struct top *t = arg;

	(void)m;
	(void)mid;
	t->suback = count == 1 && granted[0] <= 2 ? 0 : 1;
	if (t->suback) {
		keys_off();
		fprintf(stderr,
			"mqttip top: subscription to %s refused: the certificate's CN "
			"needs 'admin' in the plugin's policy file\n",
			MQTTIP_METRICS_TOPIC);
		t->done = t->failed = true;
	} else if (t->interactive && t->current == NULL) {
		draw(t);
	}
}

static void on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
	struct top *t = arg;
	cJSON *doc;

	(void)m;
	doc = cJSON_ParseWithLength(msg->payload, (size_t)msg->payloadlen);
	if (doc == NULL || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "total"))) {
		fprintf(stderr, "mqttip top: ignoring a malformed metrics document\n");
		cJSON_Delete(doc);
		return;
	}
	cJSON_Delete(t->previous);
	t->previous = t->current;
	t->current = doc;
	t->shown++;
	if (t->interactive) {
		draw(t);
	} else {
		table(t);
		fflush(stdout);
	}
	if (t->once)
		t->done = true;
}

struct top_args {
	const char *url, *cert, *key, *cafile;
	bool once, strict_perms;
	int timeout_s;
};

/* -1: arguments in a, go on; else the exit status (help shown, or a usage error said). */
static int parse_args(int argc, char **argv, struct top_args *a)
{
	enum { O_BROKER = 1000, O_CERT, O_KEY, O_CAFILE, O_ONCE, O_TIMEOUT, O_STRICT };
	static const struct option opts[] = {
	    {"broker", required_argument, NULL, O_BROKER},
	    {"cert", required_argument, NULL, O_CERT},
	    {"key", required_argument, NULL, O_KEY},
	    {"cafile", required_argument, NULL, O_CAFILE},
	    {"once", no_argument, NULL, O_ONCE},
	    {"timeout", required_argument, NULL, O_TIMEOUT},
	    {"strict-perms", no_argument, NULL, O_STRICT},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct cli c = {.command = "top", .usage = usage, .shortopts = ":h", .longopts = opts};
	char *end;
	long v;
	int opt;

	memset(a, 0, sizeof(*a));
	a->timeout_s = TOP_DEFAULT_TIMEOUT;
	cli_begin(&c, argc, argv);
	while ((opt = cli_next(&c)) != CLI_END) {
		switch (opt) {
		case O_BROKER:
			a->url = optarg;
			break;
		case O_CERT:
			a->cert = optarg;
			break;
		case O_KEY:
			a->key = optarg;
			break;
		case O_CAFILE:
			a->cafile = optarg;
			break;
		case O_ONCE:
			a->once = true;
			break;
		case O_STRICT:
			a->strict_perms = true;
			break;
		case O_TIMEOUT:
			v = strtol(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end != '\0' || v < 1 || v > 86400)
				return cli_value_error(
				    &c, "--timeout %s: give whole seconds from 1 to 86400", optarg);
			a->timeout_s = (int)v;
			break;
		default:
			return cli_exit_status(opt);
		}
	}
	if (cli_arguments(&c, 0, 0, "") == CLI_BAD)
		return MQTTIP_EXIT_USAGE;
	if (!a->url || !a->cert || !a->key || !a->cafile)
		return cli_usage_error(&c, "missing%s%s%s%s", a->url ? "" : " --broker",
				       a->cert ? "" : " --cert", a->key ? "" : " --key",
				       a->cafile ? "" : " --cafile");
	return -1;
}

static void catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal; /* no SA_RESTART: the loop's wait ends at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Runs until --once has its document, q, a signal, a refusal or the --once timeout. */
static void run(struct top *t, struct mosquitto *m)
{
	while (!t->done && !stop_requested) {
		int lrc = mosquitto_loop(m, TOP_LOOP_MS, 1);
		time_t now = time(NULL);

		if (lrc != MOSQ_ERR_SUCCESS && t->once) {
			fprintf(stderr, "mqttip top: connection lost: %s\n",
				mosquitto_strerror(lrc));
			t->failed = true;
			break;
		}
		if (lrc != MOSQ_ERR_SUCCESS)
			mosquitto_reconnect(m);
		if (t->keys && quit_pressed())
			break;
		if (t->interactive && now - t->drawn >= (t->current ? TOP_REDRAW_S : 1))
			draw(t);
		if (t->once && now - t->started > t->timeout_s) {
			fprintf(stderr,
				"mqttip top: no metrics document from %s within %d s. Causes: %s\n",
				t->where, t->timeout_s, TOP_NO_DOCUMENT_CAUSES);
			t->failed = true;
			break;
		}
	}
}

int cmd_top(int argc, char **argv)
{
	struct top_args a;
	struct top t = {.suback = -1};
	char host[TOP_HOST_MAX], err[512];
	struct mosquitto *m;
	bool tls;
	int port, rc = parse_args(argc, argv, &a);

	if (rc >= 0)
		return rc;
	if (broker_parse_url(a.url, &tls, host, sizeof(host), &port, err, sizeof(err)) != 0) {
		fprintf(stderr, "mqttip top: %s\n", err);
		return MQTTIP_EXIT_USAGE;
	}
	if (keyperms_check(a.key, "a private key", a.strict_perms, err, sizeof(err)) != 0) {
		fprintf(stderr, "mqttip top: %s\n", err);
		return MQTTIP_EXIT_FAILED;
	}
	t.once = a.once;
	t.timeout_s = a.timeout_s;
	t.interactive = !a.once && isatty(STDOUT_FILENO);
	t.started = time(NULL);
	snprintf(t.where, sizeof(t.where), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	catch_stop_signals();
	if (t.interactive) {
		t.keys = keys_on();
		draw(&t); /* before connecting, which may take a while */
	}
	mosquitto_lib_init();
	m = mosquitto_new(NULL, true, &t);
	if (m == NULL) {
		keys_off();
		fprintf(stderr, "mqttip top: out of memory\n");
		return MQTTIP_EXIT_FAILED;
	}
	mosquitto_connect_callback_set(m, on_connect);
	mosquitto_subscribe_callback_set(m, on_subscribe);
	mosquitto_message_callback_set(m, on_message);
	if (tls && mosquitto_tls_set(m, a.cafile, NULL, a.cert, a.key, NULL) != MOSQ_ERR_SUCCESS) {
		keys_off();
		fprintf(stderr, "mqttip top: cannot use --cafile/--cert/--key (check the paths)\n");
		rc = MQTTIP_EXIT_FAILED;
	} else if ((rc = mosquitto_connect(m, host, port, 30)) != MOSQ_ERR_SUCCESS) {
		keys_off();
		fprintf(stderr, "mqttip top: cannot connect to %s: %s\n", a.url,
			mosquitto_strerror(rc));
		rc = MQTTIP_EXIT_FAILED;
	} else {
		run(&t, m);
		keys_off();
		/* Quitting an interactive view is success; --once succeeds with its document. */
		rc = t.failed || (t.once && t.shown == 0) ? MQTTIP_EXIT_FAILED : 0;
		mosquitto_disconnect(m);
	}
	keys_off();
	cJSON_Delete(t.previous);
	cJSON_Delete(t.current);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	return rc;
}
