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

if(NOT TARGET mqttip-device OR NOT TARGET mqttip OR NOT TARGET mqttip_plugin)
	return()
endif()
# mosquitto is not instrumented: in the sanitizer build the plugin needs the runtime preloaded.
set(firmware_test_env "")
if(MQTTIP_SANITIZE AND CMAKE_C_COMPILER_ID STREQUAL "GNU")
	execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
		OUTPUT_VARIABLE firmware_libasan OUTPUT_STRIP_TRAILING_WHITESPACE)
	set(firmware_test_env "MQTTIP_BROKER_PRELOAD=${firmware_libasan}")
endif()
foreach(t pair agent agent_legacy)
	add_test(NAME firmware_${t}
		COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/firmware_${t}.sh
			$<TARGET_FILE:mqttip> $<TARGET_FILE:mqttip_plugin> $<TARGET_FILE:mqttip-device>)
	set_tests_properties(firmware_${t} PROPERTIES LABELS integration TIMEOUT 60
		ENVIRONMENT "${firmware_test_env}")
endforeach()
