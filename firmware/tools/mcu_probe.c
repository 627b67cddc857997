/* mcu_probe.c - the firmware's static state as the ESP32 port declares it (esp32/main/port.c and
 * main.c), compiled for the MCU so that mcu-check.sh can weigh it: the tunnel (8 peers, queues,
 * scratch), the outbox, the TLS credentials kept from the bundle, the port's counter and the NTP
 * server's name. The bundle and the provisioning record live on the heap during boot only; the
 * MQTT receive buffer is esp-mqtt's own (heap): firmware/README.md "Memory". */
#include <stdint.h>

#include "../esp32/main/device.h"
#include "fw_creds.h"
#include "fw_outbox.h"
#include "fw_tunnel.h"

struct fw_tunnel mcu_tunnel;
struct fw_outbox mcu_outbox;
struct fw_creds mcu_creds;
uint64_t mcu_rx_too_large;
char mcu_ntp_server[sizeof(((struct device_config *)0)->ntp_server)];
