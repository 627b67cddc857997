# mqttip pki: command line, files and errors (unit: the program run from a script, no network);
# the VPN node certificate checked by the portable core; the issued certificates on a real
# mosquitto with the plugin (integration).
if(NOT TARGET mqttip)
	return()
endif()

add_executable(test_pki_nodecert unit/test_pki_nodecert.c)
target_include_directories(test_pki_nodecert PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
target_link_libraries(test_pki_nodecert PRIVATE mqttip_cert PkgConfig::SODIUM)

foreach(part files errors revocation renew brokerdir full)
	add_test(NAME pki_cli_${part}
		COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/pki_cli.sh $<TARGET_FILE:mqttip> ${part})
	set_tests_properties(pki_cli_${part} PROPERTIES LABELS unit SKIP_RETURN_CODE 77)
endforeach()

add_test(NAME pki_core_verify
	COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/pki_core_verify.sh $<TARGET_FILE:mqttip>
		$<TARGET_FILE:test_pki_nodecert>)
set_tests_properties(pki_core_verify PROPERTIES LABELS unit)

if(TARGET mqttip_plugin)
	add_test(NAME pki_broker
		COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/pki_broker.sh $<TARGET_FILE:mqttip>
			$<TARGET_FILE:mqttip_plugin>)
	set_tests_properties(pki_broker PROPERTIES LABELS integration TIMEOUT 60)
	add_test(NAME pki_deploy
		COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/pki_deploy.sh $<TARGET_FILE:mqttip>
			$<TARGET_FILE:mqttip_plugin> ${CMAKE_SOURCE_DIR})
	set_tests_properties(pki_deploy PROPERTIES LABELS integration TIMEOUT 60 SKIP_RETURN_CODE 77)
	if(MQTTIP_BROKER_PRELOAD_ENV)
		set_tests_properties(pki_broker pki_deploy PROPERTIES
			ENVIRONMENT "${MQTTIP_BROKER_PRELOAD_ENV}")
	endif()
endif()
