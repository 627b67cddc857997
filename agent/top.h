/* top.h - `mqttip top`: subscribes to the broker plugin's metrics document
 * ($SYS/broker/mqttip/metrics, docs/METRICS.md) with an admin certificate and shows a refreshing
 * table of nodes, message and byte rates and denials, like top(1): a waiting line at once, rates
 * from the first document, the plugin's warnings and a stale document named, q quits; --once
 * prints one snapshot. */
#ifndef MQTTIP_TOP_H
#define MQTTIP_TOP_H

int cmd_top(int argc, char **argv);

#endif
