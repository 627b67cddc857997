# Firmware (firmware/): the app with an in-memory broker (unit), its static RAM and stack frames
# on the ESP32-C3's ISA (unit), and host-port devices on a real mosquitto with TLS and the plugin
# (integration): two devices with each other, and with the Linux agent in network namespaces.
if(NOT TARGET mqttip_fw_app)
	return()
endif()

mqttip_unit_test(test_firmware_app SOURCES unit/test_firmware_app.c LIBS mqttip_fw_app)
mqttip_fuzz_target(fuzz_firmware fuzz/fuzz_firmware.c mqttip_fw_app)

add_test(NAME firmware_mcu
	COMMAND ${CMAKE_SOURCE_DIR}/firmware/tools/mcu-check.sh ${CMAKE_SOURCE_DIR}
		${CMAKE_CURRENT_BINARY_DIR}/firmware-mcu)
set_tests_properties(firmware_mcu PROPERTIES LABELS unit)

# The tunnel netif against what ESP-IDF's esp_netif and lwIP hooks do to every netif. Debian's
# lwIP has no ext-callback dispatch, so the test wraps the netif calls and plays it
# (unit/test_firmware_netif.c); --wrap reaches fw_netif's calls inside the static library.
if(TARGET mqttip_fw_lwip)
	mqttip_unit_test(test_firmware_netif SOURCES unit/test_firmware_netif.c LIBS mqttip_fw_lwip)
	target_link_options(test_firmware_netif PRIVATE
		-Wl,--wrap=netif_add,--wrap=netif_set_addr,--wrap=netif_set_up,--wrap=netif_set_link_up
		-Wl,--wrap=netif_ip6_addr_set,--wrap=netif_ip6_addr_set_state
		-Wl,--wrap=netif_add_ip6_address)
	set_tests_properties(test_firmware_netif PROPERTIES TIMEOUT 30)
endif()

if(NOT TARGET mqttip-device OR NOT TARGET mqttip OR NOT TARGET mqttip_plugin)
	return()
endif()
set(firmware_test_env ${MQTTIP_BROKER_PRELOAD_ENV})
foreach(t pair agent agent_legacy)
	add_test(NAME firmware_${t}
		COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/firmware_${t}.sh
			$<TARGET_FILE:mqttip> $<TARGET_FILE:mqttip_plugin> $<TARGET_FILE:mqttip-device>)
	set_tests_properties(firmware_${t} PROPERTIES LABELS integration TIMEOUT 120
		ENVIRONMENT "${firmware_test_env}")
endforeach()
