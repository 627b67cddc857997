/* options.h - the plugin's mosquitto.conf options (plugin_opt_<name>), parsed and validated once.
 * Every option is checked; an unknown option or a bad value is an error with a message naming
 * it, so a typo stops the broker instead of silently weakening the ACLs. */
#ifndef MQTTIP_PLUGIN_OPTIONS_H
#define MQTTIP_PLUGIN_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "topic.h"

#define OPTIONS_PATH_MAX		 1024
#define OPTIONS_DEFAULT_METRICS_INTERVAL 10
#define OPTIONS_MAX_METRICS_INTERVAL	 86400

struct plugin_options {
	char prefix[TOPIC_PREFIX_MAX];
	size_t prefix_len;
	char policy_file[OPTIONS_PATH_MAX];	/* empty: no policy */
	char prometheus_file[OPTIONS_PATH_MAX]; /* empty: not written */
	unsigned metrics_interval;		/* seconds; 0 disables publishing */
	bool outside_deny;			/* outside the prefix: deny instead of defer */
	bool legacy;				/* legacy topic <p>/<dst> allowed at all */
};

/* Fills out from key/value pairs. Returns 0, or -1 with a message in err. */
int options_parse(struct plugin_options *out, const char *const *keys, const char *const *values,
		  size_t count, char *err, size_t errlen);

#endif
