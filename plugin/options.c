/* options.c - parsing and validation of the plugin options. */
#include "options.h"
#include "proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int set_path(char *dst, const char *key, const char *value, char *err, size_t errlen)
{
	size_t len = strlen(value);

	if (len == 0 || len >= OPTIONS_PATH_MAX) {
		snprintf(err, errlen, "plugin_opt_%s: path empty or longer than %d bytes", key,
			 OPTIONS_PATH_MAX - 1);
		return -1;
	}
	memcpy(dst, value, len + 1);
	return 0;
}

static int set_prefix(struct plugin_options *o, const char *value, char *err, size_t errlen)
{
	size_t len = strlen(value);

	/* Wildcards, a leading '$' or empty levels would make the prefix match other trees. */
	if (len == 0 || len >= TOPIC_PREFIX_MAX || value[0] == '$' ||
	    strpbrk(value, "+#/") != NULL) {
		snprintf(err, errlen,
			 "plugin_opt_prefix \"%s\": must be 1..%d bytes, one topic level without "
			 "'+', '#', '/' or a leading '$'",
			 value, TOPIC_PREFIX_MAX - 1);
		return -1;
	}
	memcpy(o->prefix, value, len + 1);
	o->prefix_len = len;
	return 0;
}

static int set_interval(struct plugin_options *o, const char *value, char *err, size_t errlen)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(value, &end, 10);
	if (value[0] < '0' || value[0] > '9' || errno != 0 || *end != '\0' ||
	    v > OPTIONS_MAX_METRICS_INTERVAL) {
		snprintf(err, errlen,
			 "plugin_opt_metrics_interval \"%s\": must be 0..%d seconds (0 disables)",
			 value, OPTIONS_MAX_METRICS_INTERVAL);
		return -1;
	}
	o->metrics_interval = (unsigned)v;
	return 0;
}

static int set_choice(bool *dst, const char *key, const char *value, const char *when_false,
		      const char *when_true, char *err, size_t errlen)
{
	if (strcmp(value, when_false) == 0) {
		*dst = false;
	} else if (strcmp(value, when_true) == 0) {
		*dst = true;
	} else {
		snprintf(err, errlen, "plugin_opt_%s \"%s\": must be %s or %s", key, value,
			 when_false, when_true);
		return -1;
	}
	return 0;
}

int options_parse(struct plugin_options *out, const char *const *keys, const char *const *values,
		  size_t count, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->prefix, MQTTIP_TOPIC_PREFIX, sizeof(MQTTIP_TOPIC_PREFIX));
	out->prefix_len = strlen(out->prefix);
	out->metrics_interval = OPTIONS_DEFAULT_METRICS_INTERVAL;

	for (size_t i = 0; i < count; i++) {
		const char *k = keys[i], *v = values[i] ? values[i] : "";
		int rc;

		if (strcmp(k, "prefix") == 0)
			rc = set_prefix(out, v, err, errlen);
		else if (strcmp(k, "policy_file") == 0)
			rc = set_path(out->policy_file, k, v, err, errlen);
		else if (strcmp(k, "prometheus_file") == 0)
			rc = set_path(out->prometheus_file, k, v, err, errlen);
		else if (strcmp(k, "metrics_interval") == 0)
			rc = set_interval(out, v, err, errlen);
		else if (strcmp(k, "outside_prefix") == 0)
			rc = set_choice(&out->outside_deny, k, v, "defer", "deny", err, errlen);
		else if (strcmp(k, "legacy") == 0)
			rc = set_choice(&out->legacy, k, v, "off", "on", err, errlen);
		else {
			snprintf(err, errlen,
				 "unknown option plugin_opt_%s (known: prefix, policy_file, "
				 "metrics_interval, prometheus_file, outside_prefix, legacy)",
				 k);
			rc = -1;
		}
		if (rc != 0)
			return -1;
	}
	return 0;
}
