/* mcu_probe.c - the firmware's static state as the ESP32 port declares it (esp32/main/port.c),
 * compiled for the MCU so that mcu-check.sh can weigh it: the tunnel (8 peers, queues, scratch),
 * the bundle read from NVS, the MQTT reassembly buffer, the outbox and the item the draining
 * task pops into. */
#include "bundle.h"
#include "fw_outbox.h"
#include "fw_tunnel.h"

struct fw_tunnel mcu_tunnel;
struct bundle mcu_bundle;
unsigned char mcu_rx_buffer[FW_RX_MSG_MAX];
struct fw_outbox mcu_outbox;
struct fw_outbox_item mcu_outbox_item;
