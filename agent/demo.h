/* demo.h - `mqttip demo`: a whole mqttip network on one machine, in network namespaces (a broker
 * with the plugin and TLS, two or three agents), shown step by step and removed at the end. The
 * command checks its command line, finds the plugin and its script, and hands over to the script
 * (agent/demo.sh, copied by cmake next to the binary as mqttip-demo.sh), which runs the tour. */
#ifndef MQTTIP_DEMO_H
#define MQTTIP_DEMO_H

int cmd_demo(int argc, char **argv);

#endif
