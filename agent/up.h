/* up.h - `mqttip up`: the tunnel daemon (docs/AGENT.md). */
#ifndef MQTTIP_UP_H
#define MQTTIP_UP_H

int cmd_up(int argc, char **argv);

#endif
