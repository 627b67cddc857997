# Issue 14, "the broker connection in the field": each case of the issue as a test in the
# namespace lab (tests/integration/lib/lab.sh: real mosquitto 2.0.11, the plugin, TLS, agents in
# network namespaces), with the broker option that provokes it. Label integration.
if(NOT TARGET mqttip OR NOT TARGET mqttip_plugin OR NOT TARGET jsonget OR NOT TARGET delayrelay)
	return()
endif()
pkg_check_modules(FIELD_MOSQUITTO REQUIRED IMPORTED_TARGET libmosquitto)

# A stand-in for a real MQTT_VPN node (see its header), and a multicast sender/receiver.
add_executable(mqttvpn_emu integration/mqttvpn_emu.c)
target_link_libraries(mqttvpn_emu PRIVATE PkgConfig::FIELD_MOSQUITTO PkgConfig::SODIUM)
add_executable(mcastcat integration/mcastcat.c)
# A broker front that refuses MQTT v5 (the protocol fallback).
add_executable(v311gate integration/v311gate.c)

set(field_env "MQTTIP=$<TARGET_FILE:mqttip>" "MQTTIP_PLUGIN=$<TARGET_FILE:mqttip_plugin>"
	"JSONGET=$<TARGET_FILE:jsonget>" "MQTTVPN_EMU=$<TARGET_FILE:mqttvpn_emu>"
	"MCASTCAT=$<TARGET_FILE:mcastcat>" "DELAYRELAY=$<TARGET_FILE:delayrelay>"
	"V311GATE=$<TARGET_FILE:v311gate>"
	"MQTTIP_VECTORS=${MQTTIP_VECTORS}")
list(APPEND field_env ${MQTTIP_BROKER_PRELOAD_ENV})
mqttip_script_tests(field ${CMAKE_CURRENT_SOURCE_DIR}/integration/field_ integration "${field_env}"
	duplicate:120 limits:180:serial tls:90 ipv6:90 legacy:90 nonce:60 retained:90 brokers:90
	fallback:120 latency:180)
